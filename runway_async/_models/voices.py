"""Custom voices (``/v1/voices``), one class per status, and voice previews."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ._serial import WireModel

__all__ = [
    "FailedVoice",
    "ProcessingVoice",
    "ReadyVoice",
    "UnknownVoice",
    "Voice",
    "VoiceCreated",
    "VoicePreview",
]


@attrs.frozen(kw_only=True)
class VoiceCreated(WireModel):
    """The reply of ``POST /v1/voices``.

    Attributes:
        id: The new voice's id; it is ``PROCESSING`` at first (see ``client.voices.wait``).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class VoicePreview(WireModel):
    """A sample of a voice described in words (``POST /v1/voices/preview``).

    Attributes:
        url: A signed URL of the audio sample (expires in 24 hours).
        duration_secs: The sample's length in seconds.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    url: str
    duration_secs: float
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ProcessingVoice(WireModel):
    """A voice being made (``PROCESSING``).

    Attributes:
        id: The voice's id.
        status: Always ``"PROCESSING"``.
        name: Its name.
        description: Its description, if any.
        created_at: When it was created (timezone-aware).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["PROCESSING"] = "PROCESSING"
    name: str
    description: str | None = None
    created_at: datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ReadyVoice(WireModel):
    """A voice ready for use (``READY``).

    Attributes:
        id: The voice's id.
        status: Always ``"READY"``.
        name: Its name.
        description: Its description, if any.
        created_at: When it was created (timezone-aware).
        preview_url: A signed URL of an MP3 sample, if any.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["READY"] = "READY"
    name: str
    description: str | None = None
    created_at: datetime
    preview_url: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class FailedVoice(WireModel):
    """A voice that could not be made (``FAILED``).

    Attributes:
        id: The voice's id.
        status: Always ``"FAILED"``.
        name: Its name.
        description: Its description, if any.
        created_at: When it was created (timezone-aware).
        failure_reason: Why, in words (for logs; not stable for matching).
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    status: Literal["FAILED"] = "FAILED"
    name: str
    description: str | None = None
    created_at: datetime
    failure_reason: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UnknownVoice(WireModel):
    """A voice whose status this SDK does not know, kept instead of failing to parse.

    Attributes:
        id: The voice's id.
        status: The status exactly as sent.
        name: Its name, when sent.
        created_at: When it was created, when sent.
        extra: Every other wire key, verbatim.

    """

    id: str
    status: str
    name: str | None = None
    created_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


Voice = ProcessingVoice | ReadyVoice | FailedVoice | UnknownVoice
"""Any custom voice, typed by its wire ``status``."""
