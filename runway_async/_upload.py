"""Uploads of local media: ``uploads.create_ephemeral`` and local files in create parameters.

An upload is two steps (reference section 11): ``POST /v1/uploads`` with the file's name
answers a ``runway://`` URI, a presigned storage URL and the form ``fields`` to send; then a
``multipart/form-data`` POST of those fields and the file goes to that URL, with no Runway
credential (``HTTPTransport.post_form``). The file is streamed from disk, never read whole,
with its length known up front; its name, type (image, video or audio) and size (200 MB at
most) are checked before anything is sent. The storage POST is safe to repeat, so it is
retried by the one retry policy (``_retry``), the file rewound before each attempt.

Creates accept a local file (any ``os.PathLike``, never a ``str``) in every media parameter
(``prompt_image``, ``video_uri``, ``references[].uri``, ...). ``wire_body`` validates such a
call with a placeholder ``runway://`` URI standing for each file, so bad parameters fail
before any upload, and finds from the spec which media kind each file stands for.
``UploadCache.resolve`` then uploads each distinct file (in parallel, bounded) and puts its
URI in place, or a base64 data URI when the client allows small files inline. The cache,
one per client (shared with its ``with_options`` copies), knows files by content (SHA-256
and size): a file already uploaded is not uploaded again while its URI is safely valid, and
concurrent creates sharing a file wait for one upload. Plain endpoints with media members
(``avatars.create(reference_image=...)``, ``voices.create``, ``workflows.run``) take local
files the same way: ``plain_request_with_files`` is their ``wire_body``.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import functools
import hashlib
import io
import logging
import mimetypes
import os
import re
import secrets
import stat as stat_module
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final, Generic, Protocol, TypeAlias, TypeVar

import attrs

from ._config import check_seconds, is_loopback_host
from ._convert import structure
from ._exceptions import APITimeoutError, InvalidRequestError, ResponseValidationError
from ._http import (
    FilePart,
    HTTPTransport,
    Response,
    UploadTransport,
    parse_retry_after,
    redact_url,
    scrub,
    status_error_class,
)
from ._models.uploads import UploadCreateEphemeralResponse, UploadTarget
from ._options import CallOptions
from ._retry import TransferHost, call_with_retries
from ._spec import (
    MediaKind,
    PlainRequest,
    TypeSpec,
    get_endpoint,
    get_plain_endpoint,
    to_request,
    to_wire,
    union_body,
)
from ._spec._media import DATA_URI_LIMITS
from ._spec._validate import is_mapping, is_sequence
from ._spec._wire import union_fields

__all__ = [
    "DEFAULT_UPLOAD_TIMEOUT",
    "MAX_PARALLEL_UPLOADS",
    "MAX_UPLOAD_BYTES",
    "URI_REUSE_SECONDS",
    "FileContent",
    "FileTypes",
    "LocalFile",
    "UploadCache",
    "UploadHost",
    "check_inline_max_bytes",
    "file_references",
    "media_type_of",
    "plain_request_with_files",
    "upload_file",
    "wire_body",
]

logger = logging.getLogger("runway_async")

_MB: Final = 1024 * 1024
MAX_UPLOAD_BYTES: Final = 200 * _MB
"""Largest file an upload takes (reference section 11: 200 MB, read as binary megabytes)."""
DEFAULT_UPLOAD_TIMEOUT: Final = 600.0
"""Seconds the storage POST of one file may take, retries included."""
URI_REUSE_SECONDS: Final = 12 * 3600.0
"""How long an uploaded file's URI is reused: half of its 24 h lifetime, so that a task
created with it (which may wait a while in the queue) still finds the file."""
MAX_PARALLEL_UPLOADS: Final = 4
"""Most files one create uploads at once."""
_CACHE_ENTRIES: Final = 1024
_MAX_REPLY_BYTES: Final = 64 * 1024
_SPOOL_IN_MEMORY: Final = 8 * _MB
_HASH_CHUNK: Final = 1024 * 1024
_MEDIA_KINDS: Final = ("image", "video", "audio")
# Media types by extension, so common names do not depend on the system's mime.types.
_CONTENT_TYPES: Final[Mapping[str, str]] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".avif": "image/avif",
    ".heic": "image/heic",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/opus",
}
_S3_CODE: Final = re.compile(r"<Code>([A-Za-z0-9.]{1,64})</Code>")
_NO_FILENAME: Final = (
    "Cannot infer filename from file. Please use the tuple format: (filename, file_content) "
    "where filename is a string. For example: ('myfile.jpg', file_content)"
)

FileContent: TypeAlias = IO[bytes] | bytes | os.PathLike[str]
"""The content of an upload: an open binary file, bytes, or a path."""
FileTypes: TypeAlias = (
    FileContent
    | str
    | tuple[str | None, FileContent]
    | tuple[str | None, FileContent, str | None]
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
"""What ``uploads.create_ephemeral(file=...)`` takes: the official SDK's forms plus a ``str``
path."""

_K = TypeVar("_K")
_V = TypeVar("_V")


class UploadHost(TransferHost, Protocol):
    """What uploads need of a client: a ``TransferHost`` (for the storage POST) and API calls.

    The client's core provides it; uploads never see the client itself.
    """

    @property
    def allow_loopback_http(self) -> bool:
        """Whether the API is on a loopback host (then so may the storage URL be)."""
        ...

    async def call(
        self, endpoint: str, params: Mapping[str, Any], /, *, options: CallOptions | None = ...
    ) -> Response:
        """Send one call of a plain endpoint (``uploads.create``) with the call's options."""
        ...


def check_inline_max_bytes(value: object) -> int:
    """Return a valid ``inline_max_bytes`` setting (an int >= 0; 0 means never inline).

    Raises:
        TypeError: ``value`` is not an int (a bool is refused too).
        ValueError: ``value`` is negative.

    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"inline_max_bytes must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"inline_max_bytes must be >= 0 (0: never inline), got {value}")
    return value


# -- files: names, types, sizes --------------------------------------------------------------


def media_type_of(filename: str) -> str | None:
    """Return the media type a file name suggests (``image/png``), if any."""
    suffix = os.path.splitext(filename)[1].lower()
    known = _CONTENT_TYPES.get(suffix)
    if known is not None:
        return known
    guessed = mimetypes.guess_type(filename, strict=False)[0]
    return guessed.lower() if guessed else None


def _media_kind(filename: str, content_type: str | None, *, field: str) -> tuple[str, MediaKind]:
    """Return the file's media type and kind, or refuse a file that is not media."""
    given = content_type is not None
    media = content_type.strip().lower() if content_type is not None else media_type_of(filename)
    top = media.partition("/")[0] if media else ""
    if media and top in _MEDIA_KINDS and not re.search(r"[\x00-\x1f\x7f]", media):
        return media, top  # type: ignore[return-value]  # one of the three kinds
    if media is None:
        why = "its type cannot be told from its name (use a media extension such as .png)"
    elif given:
        why = f"its content type is {media!r}"
    else:
        why = f"its name says it is {media}"
    raise InvalidRequestError(
        f"Cannot upload {filename!r}: only image, video and audio files are accepted, and {why}.",
        field=field,
    )


def _check_size(filename: str, size: int, *, field: str) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise InvalidRequestError(
            f"Cannot upload {filename!r}: it is {size / _MB:.1f} MB, and uploads are limited to "
            f"{MAX_UPLOAD_BYTES // _MB} MB per file.",
            field=field,
        )
    if size == 0:
        raise InvalidRequestError(f"Cannot upload {filename!r}: it is empty.", field=field)


@attrs.define(kw_only=True)
class _Source:
    """An upload's bytes, open: where they start, how many, and what to close."""

    filename: str
    content_type: str
    reader: IO[bytes] = attrs.field(repr=False)
    start: int
    size: int
    owned: bool

    def rewind(self) -> None:
        self.reader.seek(self.start)

    def close(self) -> None:
        if self.owned:
            self.reader.close()


def _infer_filename(content: object) -> str:
    if isinstance(content, (str, os.PathLike)):
        return os.path.basename(os.fspath(content))
    name = getattr(content, "name", None)
    if isinstance(name, str) and not isinstance(content, (bytes, bytearray, memoryview)):
        return os.path.basename(name)
    raise InvalidRequestError(_NO_FILENAME, field="file")


def _unpack(file: object) -> tuple[str, object, str | None]:
    """Return the file name, the content and the content type given (if any) of ``file``."""
    if isinstance(file, tuple):
        if not 2 <= len(file) <= 4:
            raise InvalidRequestError(
                "file as a tuple must be (filename, content), (filename, content, "
                f"content_type) or (filename, content, content_type, headers); got {len(file)} "
                "items.",
                field="file",
            )
        name, content = file[0], file[1]
        content_type = file[2] if len(file) > 2 else None
        if name is not None and not isinstance(name, str):
            raise InvalidRequestError(
                f"the file name in the tuple must be a string, got {type(name).__name__}.",
                field="file",
            )
        if content_type is not None and not isinstance(content_type, str):
            raise InvalidRequestError(
                f"the content type in the tuple must be a string, got "
                f"{type(content_type).__name__}.",
                field="file",
            )
        if isinstance(content, str):
            raise InvalidRequestError(
                "the content in a file tuple must be bytes, an open binary file or a path "
                "(os.PathLike), not a str.",
                field="file",
            )
        filename = name if name else _infer_filename(content)
        return filename, content, content_type
    return _infer_filename(file), file, None


async def _open_source(file: object) -> _Source:
    """Open what ``create_ephemeral(file=...)`` was given, checked; nothing is sent."""
    filename, content, given_type = _unpack(file)
    if not filename:
        raise InvalidRequestError(_NO_FILENAME, field="file")
    content_type, _kind = _media_kind(filename, given_type, field="file")
    if isinstance(content, (str, os.PathLike)):
        reader: IO[bytes] = await asyncio.to_thread(open, content, "rb")
        try:
            size = os.fstat(reader.fileno()).st_size
            _check_size(filename, size, field="file")
        except BaseException:
            reader.close()
            raise
        return _Source(
            filename=filename,
            content_type=content_type,
            reader=reader,
            start=0,
            size=size,
            owned=True,
        )
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
        _check_size(filename, len(data), field="file")
        return _Source(
            filename=filename,
            content_type=content_type,
            reader=io.BytesIO(data),
            start=0,
            size=len(data),
            owned=True,
        )
    if isinstance(content, io.TextIOBase) or not callable(getattr(content, "read", None)):
        raise InvalidRequestError(
            f"Cannot upload {filename!r}: the content must be bytes, a path or a file open in "
            f"binary mode ('rb'), got {type(content).__name__}.",
            field="file",
        )
    stream: IO[bytes] = content  # type: ignore[assignment]  # checked: it has read()
    if _seekable(stream):
        # From its start, whatever its position, as the official SDK (httpx) sends it.
        size = stream.seek(0, io.SEEK_END)
        _check_size(filename, size, field="file")
        return _Source(
            filename=filename,
            content_type=content_type,
            reader=stream,
            start=0,
            size=size,
            owned=False,
        )
    # A pipe or socket: spooled (to disk past 8 MB) so that it can be sent with a length
    # and rewound for a retry.
    spool, size = await asyncio.to_thread(_spool, stream, filename)
    return _Source(
        filename=filename,
        content_type=content_type,
        reader=spool,
        start=0,
        size=size,
        owned=True,
    )


def _seekable(stream: object) -> bool:
    check = getattr(stream, "seekable", None)
    try:
        return bool(check()) if callable(check) else callable(getattr(stream, "seek", None))
    except (OSError, ValueError):
        return False


def _spool(stream: IO[bytes], filename: str) -> tuple[IO[bytes], int]:
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    size = 0
    try:
        while True:
            chunk = stream.read(_HASH_CHUNK)
            if not chunk:
                break
            if not isinstance(chunk, bytes):
                raise InvalidRequestError(
                    f"Cannot upload {filename!r}: the file must be open in binary mode ('rb').",
                    field="file",
                )
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                _check_size(filename, size, field="file")
            spool.write(chunk)
        _check_size(filename, size, field="file")
    except BaseException:
        spool.close()
        raise
    return spool, size


# -- the two steps --------------------------------------------------------------------------


async def upload_file(
    host: UploadHost,
    file: FileTypes,
    *,
    file_metadata: str | None = None,
    on_progress: Callable[[int, int], object] | None = None,
    timeout: float | None = DEFAULT_UPLOAD_TIMEOUT,
    options: CallOptions | None = None,
) -> UploadCreateEphemeralResponse:
    """Upload one file (``uploads.create_ephemeral``) and return its ``runway://`` URI.

    Args:
        host: The client's core.
        file: A path (``os.PathLike`` or ``str``), a file open in binary mode with a
            ``name``, or a ``(filename, content[, content_type[, headers]])`` tuple whose
            content is bytes, a binary file or a path (the headers are ignored).
        file_metadata: Sent as the ``metadata`` form field, when given.
        on_progress: Called with ``(bytes_sent, total)`` as the file is sent (from 0 again
            if the storage POST is retried).
        timeout: Seconds for the storage POST, retries included (``None``: no limit).
        options: The call's ``extra_*`` options, for its ``POST /v1/uploads``.

    Returns:
        The upload's URI.

    Raises:
        InvalidRequestError: No file name can be inferred (bytes, a nameless file object),
            the file is not image, video or audio media, is empty, or is over 200 MB.
            Nothing was sent.
        OSError: The file cannot be read.

    """
    if file_metadata is not None and not isinstance(file_metadata, str):
        raise InvalidRequestError(
            f"file_metadata must be a string, got {type(file_metadata).__name__}.",
            field="file_metadata",
        )
    timeout = check_seconds("timeout", timeout, allow_none=True, positive=True)
    source = await _open_source(file)
    try:
        uri, _issued = await _send(
            host,
            source,
            metadata=file_metadata,
            on_progress=on_progress,
            timeout=timeout,
            options=options,
        )
    finally:
        source.close()
    return UploadCreateEphemeralResponse(uri=uri)


async def _send(
    host: UploadHost,
    source: _Source,
    *,
    metadata: str | None,
    on_progress: Callable[[int, int], object] | None,
    timeout: float | None,
    options: CallOptions | None = None,
) -> tuple[str, float]:
    """Run both steps for an open source; return the URI and when it was issued (clock)."""
    response = await host.call(
        "uploads.create", {"filename": source.filename, "type": "ephemeral"}, options=options
    )
    issued = host.clock.now()
    target = structure(response.data, UploadTarget)
    _check_upload_url(target.upload_url, loopback_ok=host.allow_loopback_http)
    fields = list(target.fields.items())
    if metadata is not None:
        fields.append(("metadata", metadata))
    await _post_file(host, target, fields, source, on_progress=on_progress, timeout=timeout)
    logger.debug("Uploaded %s (%d bytes)", source.filename, source.size)
    return target.runway_uri, issued


def _check_upload_url(url: str, *, loopback_ok: bool) -> None:
    def refuse(reason: str) -> ResponseValidationError:
        return ResponseValidationError(
            f"POST /v1/uploads answered an upload URL that is refused ({redact_url(url)}): "
            f"{reason}.",
            method="POST",
            url="/v1/uploads",
        )

    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise refuse("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise refuse("not an https URL")
    if parts.username is not None or parts.password is not None:
        raise refuse("it carries credentials")
    loopback = is_loopback_host(host)
    if loopback and not loopback_ok:
        raise refuse("a remote API may not send a file to a loopback host")
    if parts.scheme == "http" and not loopback:
        raise refuse("plain http is allowed only to loopback hosts")


def _hidden(url: str, fields: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """Return the secrets of a storage POST: its URL's query and the signed fields' values."""
    try:
        parts = urllib.parse.urlsplit(url)
        found = [parts.query, parts.fragment, parts.netloc.rpartition("@")[0]]
    except ValueError:
        found = [url]
    found += [value for _name, value in fields if len(value) >= 8]
    return tuple(text for text in found if text)


async def _post_file(
    host: UploadHost,
    target: UploadTarget,
    fields: Sequence[tuple[str, str]],
    source: _Source,
    *,
    on_progress: Callable[[int, int], object] | None,
    timeout: float | None,
) -> None:
    url = target.upload_url
    shown = redact_url(url)
    deadline = None if timeout is None else time.monotonic() + timeout
    part = FilePart(
        filename=source.filename,
        content_type=source.content_type,
        size=source.size,
        reader=source.reader,
    )
    progress = None
    if on_progress is not None:
        total = source.size
        callback = on_progress

        def progress(sent: int) -> None:
            callback(sent, total)

    async def attempt(_budget: float) -> Response:
        source.rewind()
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise APITimeoutError(
                f"The upload to {shown} did not finish within {timeout} s.",
                method="POST",
                url=shown,
            )
        connect = host.timeout.connect
        reply = await _upload_transport(host.http).post_form(
            url,
            fields=fields,
            file=part,
            timeout=remaining,
            connect_timeout=connect if remaining is None else min(connect, remaining),
            max_response_bytes=_MAX_REPLY_BYTES,
            on_progress=progress,
        )
        if 200 <= reply.status < 300:
            return reply
        raise _storage_error(reply, shown, _hidden(url, fields))

    await call_with_retries(
        attempt, retry=host.retry, clock=host.clock, what=f"POST {shown} (upload)"
    )


def _storage_error(reply: Response, shown: str, hidden: tuple[str, ...]) -> Exception:
    # S3's XML errors can echo the policy and the signature: the body is kept scrubbed (and
    # cut), and the message quotes only the error code.
    body = reply.data
    text = None if body is None else scrub(body if isinstance(body, str) else repr(body), *hidden)
    code = _S3_CODE.search(body) if isinstance(body, str) else None
    detail = f": {code[1]}" if code else ""
    return status_error_class(reply.status)(
        f"Error code {reply.status} for POST {shown} (upload){detail}.",
        status_code=reply.status,
        method="POST",
        url=shown,
        body=text,
        request_id=reply.request_id,
        retry_after=parse_retry_after(reply.headers),
    )


# -- local files in create parameters ---------------------------------------------------------


@attrs.frozen(kw_only=True)
class LocalFile:
    """A local file given for a media parameter of a create.

    Attributes:
        path: The file, as given.
        field: Where it was given, as in the Python call (``prompt_image[0].uri``).
        kind: The media kind of the file (from its name).
        content_type: Its media type (``image/png``).
        size: Its size when the call was checked.

    """

    path: Path
    field: str
    kind: MediaKind
    content_type: str
    size: int


def _format_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


class _Placeholders:
    """Swaps the values ``pick`` selects for unique ``runway://`` URIs that pass validation."""

    def __init__(self, pick: Callable[[object], bool]) -> None:
        self.pick = pick
        self.nonce = secrets.token_hex(8)
        self.found: dict[str, tuple[object, str]] = {}  # placeholder -> (value, python path)

    def swap(self, value: Any, path: tuple[str | int, ...]) -> Any:
        if self.pick(value):
            token = f"runway://local-file-{self.nonce}/{len(self.found)}"
            self.found[token] = (value, _format_path(path))
            return token
        if isinstance(value, Mapping):
            return {key: self.swap(item, (*path, str(key))) for key, item in value.items()}
        if is_sequence(value):
            return [self.swap(item, (*path, index)) for index, item in enumerate(value)]
        return value


def _contains(value: object, pick: Callable[[object], bool]) -> bool:
    if pick(value):
        return True
    if is_mapping(value):
        items: Any = value.values()
    elif is_sequence(value):
        items = value
    else:
        return False
    for item in items:  # noqa: SIM110 - any(generator) costs a generator per level, per create
        if _contains(item, pick):
            return True
    return False


_NOT_MEDIA: Final = "not media"


def _media_positions(
    node: TypeSpec | None, value: object, tokens: Mapping[str, object], out: dict[str, object]
) -> None:
    """Record, for each placeholder in a wire value, its media kind (``_NOT_MEDIA`` if none).

    The kind is ``image``, ``video``, ``audio``, or ``None`` for a media field of any kind.
    """
    if isinstance(value, str):
        if value in tokens:
            out[value] = _string_media(node)
        return
    if isinstance(value, Mapping):
        fields: Mapping[str, Any] = {}
        values: TypeSpec | None = None
        if node is not None and node.kind == "object":
            fields = node.fields
        elif node is not None and node.kind == "union":
            fields = union_fields(node, value)
        elif node is not None and node.kind == "map":
            values = node.values
        for key, item in value.items():
            member = fields.get(key)
            _media_positions(member.type if member is not None else values, item, tokens, out)
        return
    if is_sequence(value):
        items = None
        if node is not None and node.kind == "array":
            items = node.items
        elif node is not None and node.kind == "union":
            items = next((b.items for b in node.any_of if b.kind == "array"), None)
        for item in value:  # type: ignore[attr-defined]
            _media_positions(items, item, tokens, out)


def _string_media(node: TypeSpec | None) -> object:
    if node is None:
        return _NOT_MEDIA
    if node.kind == "string":
        return node.media if node.media is not None else _NOT_MEDIA
    if node.kind == "union":
        for branch in node.any_of:
            if branch.kind == "string" and branch.media is not None:
                return branch.media
    return _NOT_MEDIA


def _variant_body(endpoint: str, body: Mapping[str, Any]) -> TypeSpec:
    spec = get_endpoint(endpoint)
    if spec.discriminator is None:
        return spec.variants[0].body
    for variant in spec.variants:
        if variant.value == body.get(spec.discriminator):
            return variant.body
    return union_body(spec)  # a model the spec does not know: any variant's media members


@attrs.frozen
class _Swapped:
    """A call validated with placeholders: the wire body, the params, what each stands for."""

    body: dict[str, Any]
    params: Any  # the params with placeholders
    found: Mapping[str, tuple[object, str]]  # placeholder -> (value, python path)
    kinds: Mapping[str, object]  # placeholder -> media kind, None (any) or _NOT_MEDIA


def _swap_and_validate(
    endpoint: str,
    params: Mapping[str, Any],
    pick: Callable[[object], bool],
    loopback: bool,
    *,
    extra_body: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> _Swapped:
    """Validate ``params`` with placeholders for what ``pick`` selects; find their kinds."""
    holders = _Placeholders(pick)
    swapped = holders.swap(params, ())
    body = to_wire(
        endpoint, swapped, allow_loopback_http=loopback, extra_body=extra_body, validate=validate
    )
    kinds: dict[str, object] = {}
    _media_positions(_variant_body(endpoint, body), body, holders.found, kinds)
    return _Swapped(body, swapped, holders.found, kinds)


# Never a file, and most parameters: os.PathLike is a slow ABC check.
_NOT_FILES: Final = frozenset({str, int, float, bool, type(None), dict, list, tuple})


def _is_local(value: object) -> bool:
    return type(value) not in _NOT_FILES and isinstance(value, os.PathLike)


def wire_body(
    endpoint: str,
    params: Mapping[str, Any],
    *,
    allow_loopback_http: bool = False,
    extra_body: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> tuple[dict[str, Any], dict[str, LocalFile]]:
    """Return a create's validated wire body, with a placeholder URI for each local file.

    Without any ``os.PathLike`` in ``params`` this is ``to_wire``. Otherwise each local file
    is replaced by a placeholder ``runway://`` URI, the call is validated as usual, and
    each file is checked: it must stand in a media field, exist, have a media type (by its
    name) of the field's kind, and be at most 200 MB.

    Args:
        endpoint: The endpoint name (``image_to_video``).
        params: The call's keyword arguments by Python name (``None`` values omitted).
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.
        extra_body: Wire-named members merged into the body, as ``to_wire`` takes them
            (sent as given: a local file there is refused, not uploaded).
        validate: ``False`` skips the spec's checks, as ``to_wire`` does; local files are
            still found and checked (a model the spec does not know: by any variant's
            media members).

    Returns:
        The body (placeholders in place of files) and the files by placeholder.

    Raises:
        InvalidRequestError: The parameters are invalid, or a local file is not usable where
            it is given (naming the field). Nothing has been sent.

    """
    if not _contains(params, _is_local):
        body = to_wire(
            endpoint,
            params,
            allow_loopback_http=allow_loopback_http,
            extra_body=extra_body,
            validate=validate,
        )
        return body, {}
    swapped = _swap_and_validate(
        endpoint,
        params,
        _is_local,
        allow_loopback_http,
        extra_body=extra_body,
        validate=validate,
    )
    return swapped.body, _local_files(endpoint, swapped.found, swapped.kinds)


def plain_request_with_files(
    endpoint: str,
    params: Mapping[str, Any],
    *,
    allow_loopback_http: bool = False,
    extra_body: Mapping[str, Any] | None = None,
    extra_query: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> tuple[PlainRequest, dict[str, LocalFile]]:
    """Return a plain endpoint call's validated request, with a placeholder for each file.

    The plain-endpoint twin of ``wire_body``: without any ``os.PathLike`` in ``params`` this
    is ``to_request``. Otherwise each local file is replaced by a placeholder ``runway://``
    URI, the call is validated as usual, and each file is checked: it must stand in a media
    member of the body (``reference_image``, ``from_.audio``, ``node_outputs.<node>.<key>.
    uri``), exist, have a media type (by its name) of the member's kind, and be at most
    200 MB. A file given for a path or query parameter is refused the same way.

    Args:
        endpoint: The client method path (``avatars.create``).
        params: The call's keyword arguments by Python name, path parameters included.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.
        extra_body: Wire-named body members, as ``to_request`` takes them (sent as given).
        extra_query: Wire-named query parameters, as ``to_request`` takes them.
        validate: ``False`` skips the spec's checks, as ``to_request`` does; local files
            are still found and checked.

    Returns:
        The request (placeholders in place of files in its body) and the files by
        placeholder; ``UploadCache.resolve`` puts their URIs in the body.

    Raises:
        InvalidRequestError: The parameters are invalid, or a local file is not usable where
            it is given (naming the field). Nothing has been sent.

    """
    options: dict[str, Any] = {
        "allow_loopback_http": allow_loopback_http,
        "extra_body": extra_body,
        "extra_query": extra_query,
        "validate": validate,
    }
    if not _contains(params, _is_local):
        return to_request(endpoint, params, **options), {}
    holders = _Placeholders(_is_local)
    request = to_request(endpoint, holders.swap(params, ()), **options)
    kinds: dict[str, object] = {}
    if request.body is not None:
        body_spec = get_plain_endpoint(endpoint).body
        _media_positions(body_spec, request.body, holders.found, kinds)
    return request, _local_files(endpoint, holders.found, kinds)


def _local_files(
    endpoint: str, found: Mapping[str, tuple[object, str]], kinds: Mapping[str, object]
) -> dict[str, LocalFile]:
    """Return the checked local files by placeholder; refuse one outside media fields."""
    files: dict[str, LocalFile] = {}
    for token, (value, field) in found.items():
        path = Path(os.fspath(value))  # type: ignore[call-overload]  # picked: PathLike
        kind = kinds.get(token, _NOT_MEDIA)
        if kind == _NOT_MEDIA:
            raise InvalidRequestError(
                f"{field} is a local file ({path.name}), but it takes no media: only media "
                "parameters (images, videos, audio) accept a pathlib.Path.",
                field=field,
                endpoint=endpoint,
            )
        files[token] = _local_file(path, field, kind, endpoint)  # type: ignore[arg-type]
    return files


def _local_file(path: Path, field: str, kind: MediaKind | None, endpoint: str) -> LocalFile:
    try:
        stat = path.stat()
    except OSError as exc:
        raise InvalidRequestError(
            f"{field}: cannot read the local file {str(path)!r}: {exc.strerror or exc}.",
            field=field,
            endpoint=endpoint,
        ) from None
    if not stat_module.S_ISREG(stat.st_mode):
        raise InvalidRequestError(
            f"{field}: {str(path)!r} is not a regular file.", field=field, endpoint=endpoint
        )
    try:
        content_type, file_kind = _media_kind(path.name, None, field=field)
        _check_size(path.name, stat.st_size, field=field)
    except InvalidRequestError as exc:
        raise InvalidRequestError(
            f"{field}: {exc.message}", field=field, endpoint=endpoint
        ) from None
    if kind is not None and file_kind != kind:
        raise InvalidRequestError(
            f"{field} takes {_article(kind)} {kind}, but {path.name!r} is {_article(file_kind)} "
            f"{file_kind} file ({content_type}).",
            field=field,
            endpoint=endpoint,
        )
    return LocalFile(
        path=path, field=field, kind=file_kind, content_type=content_type, size=stat.st_size
    )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def file_references(
    endpoint: str,
    params: Mapping[str, Any],
    base_dir: Path,
    *,
    allow_loopback_http: bool = False,
) -> Mapping[str, Any]:
    """Return ``params`` with each ``"file:PATH"`` media value made a local file (jobs files).

    Only values in media fields change (``PATH`` relative to ``base_dir``); the same text in
    any other field (a prompt) stays as it is. When ``params`` are invalid for another
    reason, they are returned unchanged, for the validator to report.

    Args:
        endpoint: The endpoint name.
        params: The job's parameters.
        base_dir: What relative paths are relative to (the jobs file's directory).
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.

    Returns:
        The parameters, with ``Path`` objects for the files.

    """

    def pick(value: object) -> bool:
        return isinstance(value, str) and value.startswith("file:")

    if not _contains(params, pick):
        return params
    try:
        swapped = _swap_and_validate(endpoint, params, pick, allow_loopback_http)
    except InvalidRequestError:
        return params
    replace: dict[str, object] = {}
    for token, (value, _field) in swapped.found.items():
        text = str(value)
        if swapped.kinds.get(token, _NOT_MEDIA) == _NOT_MEDIA:
            replace[token] = text
        else:
            replace[token] = base_dir / os.path.expanduser(text[len("file:") :])
    result = _replace(swapped.params, replace)
    assert isinstance(result, Mapping)
    return result


def _replace(value: Any, mapping: Mapping[str, object]) -> Any:
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, Mapping):
        return {key: _replace(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, mapping) for item in value]
    return value


def _upload_transport(http: HTTPTransport) -> UploadTransport:
    """Return ``http`` as a transport that can upload, or say why it cannot."""
    if not isinstance(http, UploadTransport):
        raise TypeError(
            f"The client's transport ({type(http).__name__}) has no post_form method, so it "
            "cannot upload files; implement UploadTransport.post_form, or use the default "
            "transport for uploads and local Path media."
        )
    return http


# -- the per-client cache ---------------------------------------------------------------------


class _SingleFlight(Generic[_K, _V]):
    """Runs one task per key and event loop; concurrent callers with that key share it.

    A caller that is cancelled leaves the task running for the others; when the last one
    waiting is cancelled, the task is cancelled too (nobody would use its result).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[tuple[asyncio.AbstractEventLoop, _K], asyncio.Task[_V]] = {}
        self._waiting: dict[asyncio.Task[_V], int] = {}

    async def run(self, key: _K, work: Callable[[], Coroutine[Any, Any, _V]]) -> _V:
        loop = asyncio.get_running_loop()
        with self._lock:
            task = self._running.get((loop, key))
            if task is None:
                task = loop.create_task(work())
                self._running[(loop, key)] = task
                task.add_done_callback(functools.partial(self._done, (loop, key)))
            self._waiting[task] = self._waiting.get(task, 0) + 1
        try:
            return await asyncio.shield(task)
        finally:
            with self._lock:
                left = self._waiting[task] - 1
                if left:
                    self._waiting[task] = left
                else:
                    del self._waiting[task]
            if not left and not task.done():
                task.cancel()  # every caller was cancelled: nobody waits for the upload

    def _done(self, key: tuple[asyncio.AbstractEventLoop, _K], task: asyncio.Task[_V]) -> None:
        with self._lock:
            if self._running.get(key) is task:
                del self._running[key]
        if not task.cancelled():
            task.exception()  # seen by its callers; never "exception was never retrieved"


class _Lru(Generic[_K, _V]):
    """A small thread-safe mapping that forgets its least recently used entries."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: collections.OrderedDict[_K, _V] = collections.OrderedDict()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: _K, value: _V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class UploadCache:
    """The uploads of one client (and its ``with_options`` copies), known by content.

    A file's URI is reused for ``URI_REUSE_SECONDS`` after it was issued (on the client's
    clock), for any path whose content (SHA-256 and size) is the same; the digests of files
    are remembered by path, size and modification time, so a file used by many creates is
    read once. Concurrent creates needing the same file share one upload. Thread-safe; the
    uploads themselves run in the loop of the create that asked first.

    Args:
        max_entries: Most URIs (and digests) remembered.

    """

    def __init__(self, *, max_entries: int = _CACHE_ENTRIES) -> None:
        self._uris: _Lru[tuple[str, int], tuple[str, float]] = _Lru(max_entries)
        self._digests: _Lru[tuple[str, int, int, int, int], tuple[str, int]] = _Lru(max_entries)
        self._hashing: _SingleFlight[tuple[str, int, int, int, int], tuple[str, int]] = (
            _SingleFlight()
        )
        self._uploading: _SingleFlight[tuple[str, int], str] = _SingleFlight()

    def __repr__(self) -> str:
        return f"<UploadCache of {len(self._uris)} files>"

    async def resolve(
        self,
        host: UploadHost,
        body: Mapping[str, Any],
        files: Mapping[str, LocalFile],
        *,
        inline_max_bytes: int = 0,
    ) -> dict[str, Any]:
        """Return ``body`` with each placeholder replaced by its file's URI (or data URI).

        Distinct files are uploaded in parallel, at most ``MAX_PARALLEL_UPLOADS`` at once;
        the first failure cancels this call's other uploads (a shared upload goes on for
        its other callers) and is raised.

        Args:
            host: The client's core.
            body: The wire body from ``wire_body``.
            files: Its files by placeholder.
            inline_max_bytes: Send a file of at most this many bytes as a base64 data URI,
                when section 13's data URI limit of its kind allows; 0: always upload.

        Raises:
            InvalidRequestError: A file became unusable (too big, empty) since the call was
                checked.
            OSError: A file cannot be read.
            APIError: An upload failed.

        """
        by_path: dict[Path, LocalFile] = {}
        for file in files.values():
            by_path.setdefault(file.path, file)
        limit = asyncio.Semaphore(MAX_PARALLEL_UPLOADS)

        async def one(file: LocalFile) -> str:
            async with limit:
                return await self.uri_for(host, file, inline_max_bytes=inline_max_bytes)

        uris = await _gather_or_cancel([one(file) for file in by_path.values()])
        by_file = dict(zip(by_path, uris, strict=True))
        mapping = {token: by_file[file.path] for token, file in files.items()}
        result = _replace(body, mapping)
        assert isinstance(result, dict)
        return result

    async def uri_for(self, host: UploadHost, file: LocalFile, *, inline_max_bytes: int) -> str:
        """Return a URI for one local file: cached, inline, or uploaded now."""
        where, stat = await asyncio.to_thread(_locate, file.path)
        size = stat.st_size
        _check_size(file.path.name, size, field=file.field)
        # Section 13 limits a data URI's payload (base64: 4 characters per 3 bytes).
        if 0 < size <= inline_max_bytes and 4 * -(-size // 3) <= DATA_URI_LIMITS[file.kind]:
            return await asyncio.to_thread(_data_uri, file)
        key = (where, stat.st_dev, stat.st_ino, size, stat.st_mtime_ns)
        content = self._digests.get(key)
        if content is None:
            content = await self._hashing.run(key, lambda: self._hash(key, file.path))
        cached = self._uris.get(content)
        if cached is not None and host.clock.now() - cached[1] < URI_REUSE_SECONDS:
            return cached[0]
        return await self._uploading.run(content, lambda: self._upload(host, file, content))

    async def _hash(self, key: tuple[str, int, int, int, int], path: Path) -> tuple[str, int]:
        content = await asyncio.to_thread(_sha256_of, path)
        self._digests.put(key, content)
        return content

    async def _upload(self, host: UploadHost, file: LocalFile, content: tuple[str, int]) -> str:
        cached = self._uris.get(content)
        if cached is not None and host.clock.now() - cached[1] < URI_REUSE_SECONDS:
            return cached[0]
        source = await _open_source((file.path.name, file.path, file.content_type))
        try:
            uri, issued = await _send(
                host, source, metadata=None, on_progress=None, timeout=DEFAULT_UPLOAD_TIMEOUT
            )
        finally:
            source.close()
        self._uris.put(content, (uri, issued))
        return uri


def _locate(path: Path) -> tuple[str, os.stat_result]:
    return str(path.resolve()), path.stat()


def _data_uri(file: LocalFile) -> str:
    data = file.path.read_bytes()
    return f"data:{file.content_type};base64,{base64.b64encode(data).decode('ascii')}"


async def _gather_or_cancel(coros: Sequence[Awaitable[_V]]) -> list[_V]:
    """Run ``coros`` concurrently; on the first failure cancel the rest and raise it."""
    if len(coros) == 1:
        return [await coros[0]]
    tasks = [asyncio.ensure_future(coro) for coro in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
