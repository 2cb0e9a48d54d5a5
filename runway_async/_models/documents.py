"""Knowledge documents (``/v1/documents``) that avatars draw on in conversations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._serial import WireModel

__all__ = ["Document", "DocumentSummary", "DocumentUser"]


@attrs.frozen(kw_only=True)
class DocumentUser(WireModel):
    """An avatar that uses a document.

    Attributes:
        id: The avatar's id.
        name: The avatar's name.
        image_url: A preview image of the avatar, if any.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    name: str
    image_url: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class Document(WireModel):
    """A knowledge document, with its content (``create`` and ``retrieve``).

    Attributes:
        id: The document's id.
        name: Its name.
        type: ``text`` or ``file`` (kept as sent, so new values do not fail).
        content: Its text (markdown or plain text).
        created_at: When it was created (timezone-aware).
        updated_at: When it was last changed (timezone-aware).
        used_by: The avatars it is attached to.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    name: str
    type: str
    content: str
    created_at: datetime
    updated_at: datetime
    used_by: tuple[DocumentUser, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class DocumentSummary(WireModel):
    """A knowledge document as ``list`` gives it: without its content.

    Attributes:
        id: The document's id.
        name: Its name.
        type: ``text`` or ``file`` (kept as sent, so new values do not fail).
        created_at: When it was created (timezone-aware).
        updated_at: When it was last changed (timezone-aware).
        used_by: The avatars it is attached to.
        extra: Wire keys this SDK does not know, kept verbatim.

    """

    id: str
    name: str
    type: str
    created_at: datetime
    updated_at: datetime
    used_by: tuple[DocumentUser, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
