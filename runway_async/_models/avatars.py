"""Custom avatars (``/v1/avatars``) and their usage report (``/v1/avatar_usage``).

An avatar is typed by its ``status``: ``ProcessingAvatar``, ``ReadyAvatar``, ``FailedAvatar``,
or ``UnknownAvatar`` for a status this SDK does not know. Its ``voice`` is typed by ``type``:
``AvatarPresetVoice``, ``AvatarCustomVoice`` or ``UnknownAvatarVoice``.
"""

from __future__ import annotations

# A module import, because ``date`` is also a field name and would shadow the class.
import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from ._serial import WireModel

__all__ = [
    "Avatar",
    "AvatarCustomVoice",
    "AvatarPresetVoice",
    "AvatarUsage",
    "AvatarUsageDay",
    "AvatarVoice",
    "FailedAvatar",
    "ProcessingAvatar",
    "ReadyAvatar",
    "UnknownAvatar",
    "UnknownAvatarVoice",
]


@attrs.frozen(kw_only=True)
class AvatarPresetVoice(WireModel):
    """A Runway preset voice of an avatar (``type: "runway-live-preset"``).

    Attributes:
        type: Always ``"runway-live-preset"``.
        preset_id: The preset's id (``victoria``, ``clara``, ...; kept as sent, so new
            presets do not fail).
        name: The voice's display name.
        description: A short description of the voice.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    type: Literal["runway-live-preset"] = "runway-live-preset"
    preset_id: str
    name: str
    description: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class AvatarCustomVoice(WireModel):
    """A custom voice (made with ``client.voices``) of an avatar (``type: "custom"``).

    Attributes:
        type: Always ``"custom"``.
        id: The voice's id.
        deleted: Whether the voice has been deleted (``name`` and ``description`` are then
            omitted).
        name: The voice's name, if known.
        description: The voice's description, if any.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    type: Literal["custom"] = "custom"
    id: str
    deleted: bool = False
    name: str | None = None
    description: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UnknownAvatarVoice(WireModel):
    """An avatar voice of a ``type`` this SDK does not know, kept instead of failing.

    Attributes:
        type: The type exactly as sent.
        extra: Every other wire key, verbatim.

    """

    type: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


AvatarVoice = AvatarPresetVoice | AvatarCustomVoice | UnknownAvatarVoice
"""The voice of an avatar, typed by its wire ``type``."""


@attrs.frozen(kw_only=True)
class ProcessingAvatar(WireModel):
    """An avatar whose reference image is still being processed (``PROCESSING``).

    Attributes:
        id: The avatar's id.
        status: Always ``"PROCESSING"``.
        name: The character name.
        personality: The system prompt that sets how the avatar behaves.
        start_script: The opening line said when a session starts, or ``None``.
        voice: The avatar's voice.
        document_ids: Ids of the knowledge documents attached to the avatar.
        reference_image_uri: A low-resolution preview of the reference image, if any.
        processed_image_uri: A low-resolution preview of the processed image, if any.
        created_at: When the avatar was created (timezone-aware).
        updated_at: When it was last changed (timezone-aware).
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    id: str
    status: Literal["PROCESSING"] = "PROCESSING"
    name: str
    personality: str
    start_script: str | None = None
    voice: AvatarVoice
    document_ids: tuple[str, ...] = ()
    reference_image_uri: str | None = None
    processed_image_uri: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ReadyAvatar(WireModel):
    """An avatar ready for realtime sessions (``READY``).

    Attributes:
        id: The avatar's id.
        status: Always ``"READY"``.
        name: The character name.
        personality: The system prompt that sets how the avatar behaves.
        start_script: The opening line said when a session starts, or ``None``.
        voice: The avatar's voice.
        document_ids: Ids of the knowledge documents attached to the avatar.
        reference_image_uri: A low-resolution preview of the reference image, if any.
        processed_image_uri: A low-resolution preview of the processed image, if any.
        created_at: When the avatar was created (timezone-aware).
        updated_at: When it was last changed (timezone-aware).
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    id: str
    status: Literal["READY"] = "READY"
    name: str
    personality: str
    start_script: str | None = None
    voice: AvatarVoice
    document_ids: tuple[str, ...] = ()
    reference_image_uri: str | None = None
    processed_image_uri: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class FailedAvatar(WireModel):
    """An avatar whose processing failed (``FAILED``).

    Attributes:
        id: The avatar's id.
        status: Always ``"FAILED"``.
        failure_reason: Why, in words (for logs; not stable for matching).
        name: The character name.
        personality: The system prompt that sets how the avatar behaves.
        start_script: The opening line said when a session starts, or ``None``.
        voice: The avatar's voice.
        document_ids: Ids of the knowledge documents attached to the avatar.
        reference_image_uri: A low-resolution preview of the reference image, if any.
        processed_image_uri: A low-resolution preview of the processed image, if any.
        created_at: When the avatar was created (timezone-aware).
        updated_at: When it was last changed (timezone-aware).
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    id: str
    status: Literal["FAILED"] = "FAILED"
    failure_reason: str
    name: str
    personality: str
    start_script: str | None = None
    voice: AvatarVoice
    document_ids: tuple[str, ...] = ()
    reference_image_uri: str | None = None
    processed_image_uri: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UnknownAvatar(WireModel):
    """An avatar whose status this SDK does not know, kept instead of failing to parse.

    Attributes:
        id: The avatar's id.
        status: The status exactly as sent.
        name: The character name, when sent.
        created_at: When the avatar was created, when sent.
        updated_at: When it was last changed, when sent.
        extra: Every other wire key, verbatim (part of equality, not of the hash).

    """

    id: str
    status: str
    name: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


Avatar = ProcessingAvatar | ReadyAvatar | FailedAvatar | UnknownAvatar
"""Any avatar, typed by its wire ``status``; check with ``isinstance`` or ``avatar.status``."""


@attrs.frozen(kw_only=True)
class AvatarUsageDay(WireModel):
    """Realtime-session usage of one day.

    Attributes:
        date: The day (UTC).
        sessions: Sessions started that day.
        seconds: Seconds of sessions that day.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    date: dt.date
    sessions: int
    seconds: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class AvatarUsage(WireModel):
    """Realtime-session usage over a date range (``GET /v1/avatar_usage``).

    Attributes:
        total_sessions: Sessions in the range (unfinished ones included).
        total_seconds: Seconds of finished sessions.
        avg_duration_seconds: Mean duration of finished sessions, in seconds.
        by_day: One entry per day of the range, days without sessions included.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    total_sessions: int
    total_seconds: int
    avg_duration_seconds: int | float
    by_day: tuple[AvatarUsageDay, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
