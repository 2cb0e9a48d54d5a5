"""Avatar conversations (``/v1/avatar_conversations``): realtime sessions as recorded.

A conversation's id is the id of the realtime session it recorded. ``list`` gives
``AvatarConversationSummary`` items; ``retrieve`` gives the full conversation typed by its
``status``: ``InProgressConversation``, ``EndedConversation``, ``FailedConversation``, or
``UnknownConversation`` for a status this SDK does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ._serial import WireModel

__all__ = [
    "AvatarConversation",
    "AvatarConversationSummary",
    "ConversationAvatar",
    "ConversationCustomAvatar",
    "ConversationPresetAvatar",
    "ConversationTool",
    "EndedConversation",
    "FailedConversation",
    "InProgressConversation",
    "TranscriptEntry",
    "TranscriptToolCall",
    "TranscriptToolResult",
    "UnknownConversation",
    "UnknownConversationAvatar",
]


@attrs.frozen(kw_only=True)
class ConversationPresetAvatar(WireModel):
    """A Runway preset avatar that held a conversation (``type: "runway-preset"``).

    Attributes:
        type: Always ``"runway-preset"``.
        preset_id: The preset's id (kept as sent).
        name: The preset's display name (sent in listings).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    type: Literal["runway-preset"] = "runway-preset"
    preset_id: str
    name: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ConversationCustomAvatar(WireModel):
    """One of your custom avatars that held a conversation (``type: "custom"``).

    Attributes:
        type: Always ``"custom"``.
        id: The avatar's id (``None`` once the avatar is deleted).
        name: The avatar's name, if known.
        image_url: A preview image of the avatar, if any (conversation details only).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    type: Literal["custom"] = "custom"
    id: str | None = None
    name: str | None = None
    image_url: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UnknownConversationAvatar(WireModel):
    """A conversation's avatar of a ``type`` this SDK does not know.

    Attributes:
        type: The type exactly as sent.
        extra: Every other wire key, verbatim.

    """

    type: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


ConversationAvatar = ConversationPresetAvatar | ConversationCustomAvatar | UnknownConversationAvatar
"""The avatar of a conversation, typed by its wire ``type``."""


@attrs.frozen(kw_only=True)
class AvatarConversationSummary(WireModel):
    """One conversation as ``GET /v1/avatar_conversations`` lists it.

    Attributes:
        id: The conversation's id (the realtime session's id).
        name: The conversation's display name.
        status: ``in_progress``, ``ended`` or ``failed`` (kept as sent, so new values do not
            fail).
        created_at: When the session was created (timezone-aware).
        duration: Its length in seconds, once known.
        has_tools: Whether the session was given tools.
        avatar: The avatar that held it, or ``None``.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    name: str
    status: str
    created_at: datetime
    duration: int | None = None
    has_tools: bool = False
    avatar: ConversationAvatar | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ConversationTool(WireModel):
    """A tool the avatar was given for the session.

    Attributes:
        type: ``client_event`` or ``backend_rpc`` (kept as sent).
        name: The tool's name.
        description: What the tool does, as the avatar was told.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    type: str
    name: str
    description: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class TranscriptToolCall(WireModel):
    """A tool call the avatar made.

    Attributes:
        name: The tool's name.
        arguments: The arguments, as sent (keys verbatim).
        id: The call's id, if given.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    name: str
    arguments: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class TranscriptToolResult(WireModel):
    """The result of a tool call.

    Attributes:
        name: The tool's name.
        id: The call's id, if given.
        result: What the tool returned (an object, a string or ``None``), as sent.
        error: The error the tool reported, if any.
        duration_ms: How long the call took, in milliseconds, if known.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    name: str
    id: str | None = None
    result: Any = attrs.field(default=None, hash=False)
    error: str | None = None
    duration_ms: float | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class TranscriptEntry(WireModel):
    """One turn of a conversation's transcript.

    Attributes:
        role: ``user`` or ``assistant`` (kept as sent).
        content: What was said, if anything.
        timestamp: When (timezone-aware), if known.
        tool_calls: Tool calls made in this turn, when there were any.
        tool_results: Results of tool calls, when there were any.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    role: str
    content: str | None = None
    timestamp: datetime | None = None
    tool_calls: tuple[TranscriptToolCall, ...] | None = None
    tool_results: tuple[TranscriptToolResult, ...] | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class InProgressConversation(WireModel):
    """A conversation whose session is still going (``in_progress``).

    Attributes:
        id: The conversation's id (the realtime session's id).
        status: Always ``"in_progress"``.
        name: The conversation's display name.
        created_at: When the session was created (timezone-aware).
        avatar: The avatar that holds it, or ``None``.
        started_at: When the session started, if it has.
        duration: Its length in seconds, once known.
        max_duration: The session's time limit in seconds, if set.
        recording_url: A signed URL of the recording (expires in 24 to 48 hours), if any.
        tools: The tools the avatar was given.
        transcript: The turns so far.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["in_progress"] = "in_progress"
    name: str
    created_at: datetime
    avatar: ConversationAvatar | None = None
    started_at: datetime | None = None
    duration: int | None = None
    max_duration: int | None = None
    recording_url: str | None = None
    tools: tuple[ConversationTool, ...] = ()
    transcript: tuple[TranscriptEntry, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class EndedConversation(WireModel):
    """A conversation whose session ended normally (``ended``).

    Attributes:
        id: The conversation's id (the realtime session's id).
        status: Always ``"ended"``.
        name: The conversation's display name.
        created_at: When the session was created (timezone-aware).
        avatar: The avatar that held it, or ``None``.
        started_at: When the session started, if it did.
        ended_at: When it ended, if known.
        duration: Its length in seconds, if known.
        max_duration: The session's time limit in seconds, if set.
        recording_url: A signed URL of the recording (expires in 24 to 48 hours), if any.
        tools: The tools the avatar was given.
        transcript: Every turn.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["ended"] = "ended"
    name: str
    created_at: datetime
    avatar: ConversationAvatar | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: int | None = None
    max_duration: int | None = None
    recording_url: str | None = None
    tools: tuple[ConversationTool, ...] = ()
    transcript: tuple[TranscriptEntry, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class FailedConversation(WireModel):
    """A conversation whose session failed (``failed``).

    Attributes:
        id: The conversation's id (the realtime session's id).
        status: Always ``"failed"``.
        failure: Why, in words (for logs; not stable for matching).
        failure_code: A machine-readable code (``INTERNAL``, ...).
        name: The conversation's display name.
        created_at: When the session was created (timezone-aware).
        avatar: The avatar that held it, or ``None``.
        started_at: When the session started, if it did.
        ended_at: When it ended, if known.
        duration: Its length in seconds, if known.
        max_duration: The session's time limit in seconds, if set.
        recording_url: A signed URL of the recording (expires in 24 to 48 hours), if any.
        tools: The tools the avatar was given.
        transcript: The turns before the failure.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["failed"] = "failed"
    failure: str
    failure_code: str | None = None
    name: str
    created_at: datetime
    avatar: ConversationAvatar | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: int | None = None
    max_duration: int | None = None
    recording_url: str | None = None
    tools: tuple[ConversationTool, ...] = ()
    transcript: tuple[TranscriptEntry, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UnknownConversation(WireModel):
    """A conversation whose status this SDK does not know, kept instead of failing to parse.

    Attributes:
        id: The conversation's id.
        status: The status exactly as sent.
        name: The display name, when sent.
        created_at: When the session was created, when sent.
        extra: Every other wire key, verbatim.

    """

    id: str
    status: str
    name: str | None = None
    created_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


AvatarConversation = (
    InProgressConversation | EndedConversation | FailedConversation | UnknownConversation
)
"""Any conversation, typed by its wire ``status``."""
