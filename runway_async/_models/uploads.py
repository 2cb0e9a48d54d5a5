"""Ephemeral uploads (``POST /v1/uploads``): the storage target and the resulting URI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._serial import WireModel

__all__ = ["UploadCreateEphemeralResponse", "UploadTarget"]


@attrs.frozen(kw_only=True)
class UploadCreateEphemeralResponse(WireModel):
    """The result of ``client.uploads.create_ephemeral()``.

    Attributes:
        uri: The ``runway://`` URI of the uploaded file, to pass wherever a media URI is
            accepted (``prompt_image``, ``video_uri``, ``references[].uri``, ...). It
            expires after a while (about 24 hours).
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    uri: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UploadTarget(WireModel):
    """The reply of ``POST /v1/uploads``: where and how to send the file.

    Attributes:
        runway_uri: The ``runway://`` URI the file will answer to once sent.
        upload_url: The presigned storage URL the file is POSTed to (its query, if any, is
            a signature: left out of ``repr``).
        fields: The form fields the storage POST must carry, unchanged (left out of
            ``repr``: they hold the policy and its signature).
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    runway_uri: str
    upload_url: str = attrs.field(repr=False)
    fields: Mapping[str, str] = attrs.field(factory=dict, repr=False, hash=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
