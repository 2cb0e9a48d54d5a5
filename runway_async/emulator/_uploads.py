"""Ephemeral uploads: ``POST /v1/uploads`` and the presigned storage POST it hands out.

The flow mirrors Runway's (an S3-style presigned POST): ``POST /v1/uploads`` answers a
``runway://`` URI, an ``uploadUrl`` on this emulator (``/_emulator/storage/<token>``) and the
form ``fields`` the storage POST must carry unchanged. The storage route needs no
Authorization, wants ``multipart/form-data`` with a ``Content-Length`` (411 for a chunked
body, as S3 answers), every issued field before the ``file`` part (403 when one is missing or
altered), and a ``file`` part with a file name; it answers 204. Errors come as S3's XML.

The emulator keeps no uploaded bytes: the file part is streamed through a SHA-256 in chunks
of at most ``_CHUNK`` bytes and only its size, digest, name and content type are recorded
(``GET /_emulator/uploads`` lists them). Uploads belong to the API key that asked for them
and expire ``EmulatorConfig.upload_lifetime`` API seconds after they were issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Final
from xml.sax.saxutils import escape

import attrs
from aiohttp import BodyPartReader, web

__all__ = [
    "STORAGE_PREFIX",
    "Received",
    "StorageRefused",
    "Upload",
    "UploadStore",
    "check_headers",
    "receive",
    "storage_error",
    "walk_runway_uris",
]

STORAGE_PREFIX: Final = "/_emulator/storage/"
_CHUNK: Final = 64 * 1024
_MAX_FIELD_BYTES: Final = 64 * 1024  # a form field (S3 caps the policy at 20 KB)
# The multipart framing and fields around the file: a body this much over the file cap is
# refused from its Content-Length alone, before a byte of it is read.
_FORM_SLACK: Final = 1024 * 1024
_URI_PREFIX: Final = "runway://"


@attrs.define(kw_only=True)
class Upload:
    """One issued upload (times in API seconds).

    Attributes:
        uri: The ``runway://`` URI it answers to.
        token: The secret part of its storage URL.
        account: The API key that asked for it.
        filename: The file name given to ``POST /v1/uploads``.
        fields: The form fields the storage POST must carry.
        created: When it was issued.
        expires: When the URI (and the storage URL) stop working.
        uploaded: Whether the storage POST succeeded.
        size: Bytes received, once uploaded.
        sha256: Hex digest of the bytes received, once uploaded.
        content_type: The ``file`` part's content type, once uploaded.
        received_filename: The ``file`` part's file name, once uploaded.

    """

    uri: str
    token: str
    account: str
    filename: str
    fields: dict[str, str]
    created: float
    expires: float
    uploaded: bool = False
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    received_filename: str | None = None

    def describe(self, now: float) -> dict[str, Any]:
        """Return what ``GET /_emulator/uploads`` shows of it."""
        return {
            "runwayUri": self.uri,
            "filename": self.filename,
            "uploaded": self.uploaded,
            "expired": now >= self.expires,
            "size": self.size,
            "sha256": self.sha256,
            "contentType": self.content_type,
            "receivedFilename": self.received_filename,
        }


class UploadStore:
    """Every issued upload, by URI and by storage token. Not thread-safe by itself.

    Args:
        lifetime: API seconds an upload stays usable.
        max_bytes: The largest file the storage POST accepts.
        wall_clock: The current UTC time, for the policy's expiration date.

    """

    def __init__(
        self,
        *,
        lifetime: float,
        max_bytes: int,
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.lifetime = lifetime
        self.max_bytes = max_bytes
        self._wall_clock = wall_clock
        self._secret = secrets.token_bytes(32)
        self._by_uri: dict[str, Upload] = {}
        self._by_token: dict[str, Upload] = {}

    def reset(self) -> None:
        """Forget every upload."""
        self._by_uri.clear()
        self._by_token.clear()

    def __iter__(self) -> Iterator[Upload]:
        return iter(list(self._by_uri.values()))

    def issue(self, account: str, filename: str, origin: str, now: float) -> dict[str, Any]:
        """Issue an upload and return the ``POST /v1/uploads`` reply.

        Args:
            account: The API key asking.
            filename: The file's name.
            origin: The emulator's ``scheme://host:port``, for the storage URL.
            now: The simulated time.

        Returns:
            ``{runwayUri, uploadUrl, fields}``.

        """
        upload_id = secrets.token_hex(16)
        token = secrets.token_urlsafe(24)
        key = f"uploads/{upload_id}/{filename}"
        wall = self._wall_clock()
        expiration = wall + timedelta(seconds=min(self.lifetime, 7 * 86400))
        policy_doc = {
            "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conditions": [
                {"bucket": "runway-emulator-uploads"},
                {"key": key},
                ["content-length-range", 1, self.max_bytes],
            ],
        }
        policy = base64.b64encode(json.dumps(policy_doc, separators=(",", ":")).encode()).decode()
        stamp = wall.strftime("%Y%m%dT%H%M%SZ")
        signature = hmac.new(self._secret, policy.encode(), hashlib.sha256).hexdigest()
        fields = {
            "key": key,
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-credential": f"EMULATOR/{stamp[:8]}/local/s3/aws4_request",
            "x-amz-date": stamp,
            "policy": policy,
            "x-amz-signature": signature,
        }
        upload = Upload(
            uri=f"{_URI_PREFIX}uploads/{upload_id}",
            token=token,
            account=account,
            filename=filename,
            fields=fields,
            created=now,
            expires=now + self.lifetime,
        )
        self._by_uri[upload.uri] = upload
        self._by_token[token] = upload
        return {
            "runwayUri": upload.uri,
            "uploadUrl": f"{origin}{STORAGE_PREFIX}{token}",
            "fields": dict(fields),
        }

    def by_token(self, token: str) -> Upload | None:
        """Return the upload a storage URL token belongs to, if any."""
        return self._by_token.get(token)

    def problem(self, account: str, uri: str, now: float) -> str | None:
        """Return why ``uri`` cannot be used as a media value by ``account``, or ``None``.

        Args:
            account: The API key of the request using it.
            uri: A ``runway://`` URI.
            now: The simulated time.

        Returns:
            A reason for a 400 error, or ``None`` when the URI names a completed upload.

        """
        upload = self._by_uri.get(uri)
        if upload is None or upload.account != account:
            return "the runway:// URI is unknown (it was not returned by POST /v1/uploads)"
        if now >= upload.expires:
            return "the runway:// upload has expired; upload the file again"
        if not upload.uploaded:
            return "the runway:// URI names an upload whose file was never received"
        return None


def is_runway_uri(value: object) -> bool:
    """Return whether ``value`` is a ``runway://`` string."""
    return isinstance(value, str) and value.startswith(_URI_PREFIX)


def walk_runway_uris(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, str]]:
    """Yield ``(field path, uri)`` for every ``runway://`` string in a JSON body.

    Args:
        value: The parsed JSON value.
        path: The path of ``value`` in the body.

    Yields:
        The field's path in the API's terms (``promptImage[0].uri``) and the URI.

    """
    if is_runway_uri(value):
        yield _format_path(path), value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from walk_runway_uris(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_runway_uris(item, (*path, index))


def _format_path(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def storage_error(status: int, code: str, message: str, **extra: str) -> web.Response:
    """Return an S3-style XML error reply.

    Args:
        status: The HTTP status.
        code: S3's error code (``AccessDenied``).
        message: The explanation.
        **extra: More elements of the ``Error`` document.

    Returns:
        The reply.

    """
    parts = [f"<Code>{escape(code)}</Code>", f"<Message>{escape(message)}</Message>"]
    parts += [f"<{name}>{escape(text)}</{name}>" for name, text in extra.items()]
    parts.append(f"<RequestId>{secrets.token_hex(8).upper()}</RequestId>")
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
    return web.Response(status=status, text=body, content_type="application/xml")


class StorageRefused(Exception):
    """A storage POST refused; ``response`` is the S3-style error reply."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def check_headers(headers: Mapping[str, str], max_bytes: int) -> web.Response | None:
    """Return the error for a storage POST whose headers already disqualify it, or ``None``.

    Args:
        headers: The request headers.
        max_bytes: The largest file accepted.

    Returns:
        411 without a ``Content-Length`` (chunked), 412 when not multipart, 400 when the
        declared length is far over the cap.

    """
    length = headers.get("Content-Length")
    if length is None or "chunked" in headers.get("Transfer-Encoding", "").lower():
        return storage_error(
            411, "MissingContentLength", "You must provide the Content-Length HTTP header."
        )
    if not headers.get("Content-Type", "").lower().startswith("multipart/form-data"):
        return storage_error(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            Condition="Bucket POST must be of the enclosure-type multipart/form-data",
        )
    try:
        declared = int(length)
    except ValueError:
        return storage_error(400, "InvalidArgument", "Content-Length is not a number.")
    if declared > max_bytes + _FORM_SLACK:
        return _too_large(declared, max_bytes)
    return None


def _too_large(size: int, max_bytes: int) -> web.Response:
    return storage_error(
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        ProposedSize=str(size),
        MaxSizeAllowed=str(max_bytes),
    )


@attrs.define
class Received:
    """What a storage POST delivered."""

    size: int
    sha256: str
    content_type: str | None
    filename: str


async def receive(request: web.Request, upload: Upload, max_bytes: int) -> Received:
    """Read a storage POST's form, streaming the file through a digest.

    Args:
        request: The storage POST (headers already checked).
        upload: The upload its token names.
        max_bytes: The largest file accepted.

    Returns:
        What was received.

    Raises:
        StorageRefused: The form is not acceptable; carries the S3-style error reply.

    """
    try:
        reader = await request.multipart()
        seen: dict[str, str] = {}
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise StorageRefused(_malformed("Nested multipart parts are not supported."))
            name = part.name
            if name == "file":
                _check_fields(seen, upload)
                filename = part.filename
                if not filename:
                    raise StorageRefused(
                        storage_error(
                            400,
                            "InvalidArgument",
                            "POST requires exactly one file upload per request.",
                            ArgumentName="file",
                        )
                    )
                content_type = part.headers.get("Content-Type")
                digest = hashlib.sha256()
                size = 0
                while True:
                    chunk = await part.read_chunk(_CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise StorageRefused(_too_large(size, max_bytes))
                    digest.update(chunk)
                if size == 0:
                    raise StorageRefused(
                        storage_error(
                            400,
                            "EntityTooSmall",
                            "Your proposed upload is smaller than the minimum allowed size",
                            ProposedSize="0",
                            MinSizeAllowed="1",
                        )
                    )
                # S3 ignores whatever follows the file.
                return Received(size, digest.hexdigest(), content_type, filename)
            if name is None:
                raise StorageRefused(_malformed("A form part has no name."))
            value = bytearray()
            while True:
                chunk = await part.read_chunk(_CHUNK)
                if not chunk:
                    break
                value += chunk
                if len(value) > _MAX_FIELD_BYTES:
                    raise StorageRefused(
                        storage_error(
                            400,
                            "MaxPostPreDataLengthExceeded",
                            "Your POST request fields preceding the upload file were too large.",
                        )
                    )
            seen[name] = value.decode("utf-8", errors="replace")
    except StorageRefused:
        raise
    except (ValueError, AssertionError, KeyError, UnicodeError) as exc:
        raise StorageRefused(
            _malformed(f"The body is not valid multipart/form-data ({exc}).")
        ) from None
    raise StorageRefused(
        storage_error(
            400,
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
            ArgumentName="file",
        )
    )


def _malformed(message: str) -> web.Response:
    return storage_error(400, "MalformedPOSTRequest", message)


def _check_fields(seen: Mapping[str, str], upload: Upload) -> None:
    for name, expected in upload.fields.items():
        got = seen.get(name)
        if got is None:
            raise StorageRefused(
                storage_error(
                    403,
                    "AccessDenied",
                    f"Invalid according to Policy: Policy Condition failed: "
                    f'["eq", "${name}", "{expected}"] (the field is missing)',
                )
            )
        if not hmac.compare_digest(got.encode(), expected.encode()):
            if name == "x-amz-signature":
                raise StorageRefused(
                    storage_error(
                        403,
                        "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature "
                        "you provided.",
                    )
                )
            raise StorageRefused(
                storage_error(
                    403,
                    "AccessDenied",
                    f'Invalid according to Policy: Policy Condition failed: ["eq", "${name}", '
                    f'"{expected}"]',
                )
            )
