"""Realtime avatar sessions (``/v1/realtime_sessions``), one class per status.

A session goes ``NOT_READY`` (waiting for capacity or being provisioned) -> ``READY`` (its
``session_key`` can be exchanged for the WebRTC credentials) -> ``RUNNING`` ->
``COMPLETED``; or ends ``FAILED`` or ``CANCELLED``. ``UnknownRealtimeSession`` holds a
status this SDK does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ._serial import WireModel

__all__ = [
    "CancelledRealtimeSession",
    "CompletedRealtimeSession",
    "FailedRealtimeSession",
    "NotReadyRealtimeSession",
    "ReadyRealtimeSession",
    "RealtimeSession",
    "RealtimeSessionCreated",
    "RunningRealtimeSession",
    "UnknownRealtimeSession",
]


@attrs.frozen(kw_only=True)
class RealtimeSessionCreated(WireModel):
    """The reply of ``POST /v1/realtime_sessions``.

    Attributes:
        id: The new session's id (also the id of its later avatar conversation).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class NotReadyRealtimeSession(WireModel):
    """A session being prepared (``NOT_READY``).

    Attributes:
        id: The session's id.
        status: Always ``"NOT_READY"``.
        created_at: When it was created (timezone-aware).
        queued: ``True`` while it waits for capacity, ``False`` while it is provisioned;
            ``None`` when the server did not say.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["NOT_READY"] = "NOT_READY"
    created_at: datetime
    queued: bool | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ReadyRealtimeSession(WireModel):
    """A session ready to be joined (``READY``).

    Attributes:
        id: The session's id.
        status: Always ``"READY"``.
        created_at: When it was created (timezone-aware).
        session_key: The one-time bearer credential for the session's consume step. A
            secret: it is left out of the ``repr``.
        expires_at: When the session key expires (timezone-aware).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["READY"] = "READY"
    created_at: datetime
    session_key: str = attrs.field(repr=False)
    expires_at: datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class RunningRealtimeSession(WireModel):
    """A session in progress (``RUNNING``).

    Attributes:
        id: The session's id.
        status: Always ``"RUNNING"``.
        created_at: When it was created (timezone-aware).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["RUNNING"] = "RUNNING"
    created_at: datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class CompletedRealtimeSession(WireModel):
    """A session that ended normally (``COMPLETED``).

    Attributes:
        id: The session's id.
        status: Always ``"COMPLETED"``.
        created_at: When it was created (timezone-aware).
        duration: How long it lasted, in seconds.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["COMPLETED"] = "COMPLETED"
    created_at: datetime
    duration: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class FailedRealtimeSession(WireModel):
    """A session that failed (``FAILED``).

    Attributes:
        id: The session's id.
        status: Always ``"FAILED"``.
        created_at: When it was created (timezone-aware).
        failure: Why, in words (for logs; not for end users).
        failure_code: A machine-readable code (``INTERNAL``, ``SAFETY.INPUT.TEXT``, ...).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["FAILED"] = "FAILED"
    created_at: datetime
    failure: str
    failure_code: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class CancelledRealtimeSession(WireModel):
    """A session that was cancelled (``CANCELLED``), by ``delete`` for instance.

    Attributes:
        id: The session's id.
        status: Always ``"CANCELLED"``.
        created_at: When it was created (timezone-aware).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["CANCELLED"] = "CANCELLED"
    created_at: datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UnknownRealtimeSession(WireModel):
    """A session whose status this SDK does not know, kept instead of failing to parse.

    Attributes:
        id: The session's id.
        status: The status exactly as sent.
        created_at: When it was created, when sent.
        extra: Every other wire key, verbatim.

    """

    id: str
    status: str
    created_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


RealtimeSession = (
    NotReadyRealtimeSession
    | ReadyRealtimeSession
    | RunningRealtimeSession
    | CompletedRealtimeSession
    | FailedRealtimeSession
    | CancelledRealtimeSession
    | UnknownRealtimeSession
)
"""Any realtime session, typed by its wire ``status``."""
