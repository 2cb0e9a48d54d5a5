"""The HTTP transport interface and the plain data that crosses it.

Everything above the transport (the API requester, downloads, the task engine) talks HTTP
through ``HTTPTransport``: send one request, open one download stream, close. The default
implementation is ``_transport.AiohttpTransport``; a user may plug another (to instrument
or replace the HTTP layer) by passing ``AsyncRunway(transport=...)``. Nothing here imports
an HTTP library.

A transport's contract, besides the signatures:

- ``send`` makes exactly one attempt and returns the reply whatever its status; it never
  retries and never follows redirects. A failure to complete the exchange raises
  ``APIConnectionError`` (``APITimeoutError`` for timeouts) with ``sent=False`` only when
  the server certainly did not receive the request (no connection was established).
- ``stream`` makes one GET for a download: no redirect followed, no credential added of any
  kind (no default headers, auth, cookies or ``.netrc`` entries); only the headers given.
- ``post_form`` makes one ``multipart/form-data`` POST of an upload to a storage URL, under
  the same no-credentials rule, with a ``Content-Length`` computed up front (presigned
  storage POSTs refuse chunked bodies); the file is read in chunks as it is sent.
- The HTTP library's exceptions never escape, and are never chained to ours nor left as
  their ``__context__``: they and their frames' locals hold the request's headers (the API
  key), which ``traceback`` with ``capture_locals=True`` (Sentry, ``pytest -l``) would print.
  Their type and message are kept as scrubbed text in ``APIConnectionError.cause``.

Also here: the small text helpers every layer uses to keep credentials out of messages
(``redact_url``, ``scrub``) and to read a reply (``parse_body``, ``parse_retry_after``,
``status_error_class``).
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import re
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timezone
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from ._exceptions import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._version import __version__

__all__ = [
    "DEFAULT_UPLOAD_CHUNK_SIZE",
    "USER_AGENT",
    "DownloadStream",
    "FilePart",
    "FileReader",
    "HTTPTransport",
    "MultipartForm",
    "Request",
    "Response",
    "Secret",
    "StreamingTransport",
    "UploadTransport",
    "build_response",
    "parse_body",
    "parse_retry_after",
    "redact_url",
    "scrub",
    "status_error_class",
]

USER_AGENT: Final = f"runway-async/{__version__}"
DEFAULT_UPLOAD_CHUNK_SIZE: Final = 256 * 1024
"""Largest piece of a file read (and sent) at once by an upload."""

_STATUS_ERRORS: Final[Mapping[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_MAX_CAUSE_TEXT: Final = 300
_BEARER: Final = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s'\",;}\]]+")
_URL_IN_TEXT: Final = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")


class Secret:
    """Holds the API key so that no repr, str or traceback local shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret text."""
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


@attrs.frozen(kw_only=True)
class Request:
    """One API request, as the requester hands it to ``HTTPTransport.send``.

    Attributes:
        method: HTTP method (upper case).
        url: Absolute URL, without the query.
        headers: Every header to send, credentials included (left out of ``repr``, so a
            traceback's locals never show the key). Read-only: the requester builds it once
            and sends it with every request.
        json: The JSON body, if any (left out of ``repr``: it may be large).
        params: Query parameters.
        timeout: Seconds for the whole exchange, from connecting to the last byte.
        connect_timeout: Seconds for establishing the connection (TCP and TLS).
        max_response_bytes: Largest body read; a longer one is cut (``Response.truncated``).

    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    json: Any = attrs.field(default=None, repr=False)
    params: Mapping[str, str] | None = None
    timeout: float
    connect_timeout: float
    max_response_bytes: int


@attrs.frozen
class Response:
    """A reply from the API.

    Attributes:
        status: HTTP status.
        headers: Response headers (lower-case names).
        data: The parsed JSON body, the text when it was not JSON, or ``None`` when empty.
        request_id: The server's request id, when it sent one.
        truncated: The body was longer than ``max_response_bytes`` and was not read whole:
            ``data`` is the text of its first bytes.
        content: The body's bytes as read (its first bytes when ``truncated``), for raw
            responses; ``None`` when the transport did not keep them (``data`` is then
            serialised again when they are asked for).
        http_version: The reply's HTTP version (``HTTP/1.1``).

    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    data: Any
    request_id: str | None = None
    truncated: bool = False
    content: bytes | None = attrs.field(default=None, repr=False, eq=False)
    http_version: str = attrs.field(default="HTTP/1.1", eq=False)


class DownloadStream(Protocol):
    """The reply to one download GET, its body not read yet (see ``HTTPTransport.stream``).

    Reading the body raises ``APIConnectionError``/``APITimeoutError`` (never the HTTP
    library's exceptions) when the connection breaks or stalls.
    """

    @property
    def status(self) -> int:
        """The HTTP status."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """The reply's headers, by lower-case name."""
        ...

    @property
    def content_length(self) -> int | None:
        """The announced body size (``Content-Length``), if any."""
        ...

    def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        """Return an iterator over the body (decoded), in pieces of at most ``size`` bytes."""
        ...

    async def read_at_most(self, limit: int) -> bytes:
        """Return the body's first ``limit`` bytes (all of it if shorter)."""
        ...


class FileReader(Protocol):
    """Where an upload's bytes come from: a file open in binary mode, or anything with ``read``."""

    def read(self, size: int, /) -> bytes:
        """Return up to ``size`` bytes from the current position (``b""`` at the end)."""
        ...


@attrs.frozen(kw_only=True)
class FilePart:
    """The file of a multipart form POST (``HTTPTransport.post_form``).

    Attributes:
        filename: The name in the part's ``Content-Disposition``.
        content_type: The part's ``Content-Type`` (``image/png``).
        size: Exactly how many bytes are read from ``reader`` and sent.
        reader: The source, read from its current position: the caller rewinds it before
            each attempt. Left out of ``repr``.
        name: The form field's name.

    """

    filename: str
    content_type: str
    size: int
    reader: FileReader = attrs.field(repr=False)
    name: str = "file"


class MultipartForm:
    """A ``multipart/form-data`` body of known length, produced piece by piece.

    The form fields in their order, then the file part, whose bytes are read from
    ``file.reader`` as the body is sent (never whole): an async iterator of ``bytes`` any
    HTTP library can stream, with ``length`` for the ``Content-Length`` header. Names are
    escaped as browsers do (``"`` as ``%22``, CR and LF as ``%0D``/``%0A``); text is UTF-8.

    A failure of the source (a read error, a file shorter or longer than ``file.size``, a
    reader in text mode) or of ``on_progress`` is raised from the iterator and kept in
    ``failure``, so that the transport can raise it rather than the HTTP library's wrapper.

    Args:
        fields: The form fields, in order.
        file: The file part (last).
        on_progress: Called with the file bytes read so far, after each chunk.
        chunk_size: Largest piece read from the file at once.
        boundary: The multipart boundary (random by default).

    Attributes:
        length: The body's exact size in bytes.
        content_type: The body's ``Content-Type`` header, boundary included.
        sent: File bytes read so far.
        failure: What the source (or ``on_progress``) raised, if anything.

    """

    def __init__(
        self,
        fields: Sequence[tuple[str, str]],
        file: FilePart,
        *,
        on_progress: Callable[[int], object] | None = None,
        chunk_size: int = DEFAULT_UPLOAD_CHUNK_SIZE,
        boundary: str | None = None,
    ) -> None:
        if file.size < 0:
            raise ValueError(f"file.size must be >= 0, got {file.size}")
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be > 0, got {chunk_size}")
        if _CONTROL.search(file.content_type):
            raise ValueError("the file's content type must not contain control characters")
        mark = boundary or f"runway-async-{secrets.token_hex(16)}"
        head = bytearray()
        for name, value in fields:
            head += (
                f'--{mark}\r\nContent-Disposition: form-data; name="{_form_quote(name)}"'.encode()
            )
            head += b"\r\n\r\n" + value.encode("utf-8") + b"\r\n"
        head += (
            f'--{mark}\r\nContent-Disposition: form-data; name="{_form_quote(file.name)}"; '
            f'filename="{_form_quote(file.filename)}"\r\nContent-Type: {file.content_type}\r\n\r\n'
        ).encode()
        self._head: bytes | None = bytes(head)
        self._tail: bytes | None = f"\r\n--{mark}--\r\n".encode()
        self._file = file
        self._on_progress = on_progress
        self._chunk_size = chunk_size
        self.length = len(head) + file.size + len(self._tail)
        self.content_type = f"multipart/form-data; boundary={mark}"
        self.sent = 0
        self.failure: BaseException | None = None

    def __repr__(self) -> str:
        return f"<multipart form of {self.length} bytes>"

    def __aiter__(self) -> MultipartForm:
        return self

    async def __anext__(self) -> bytes:
        if self._head is not None:
            head, self._head = self._head, None
            return head
        if self.sent < self._file.size:
            try:
                return self._read()
            except Exception as exc:
                self.failure = exc
                raise
        if self._tail is not None:
            tail, self._tail = self._tail, None
            return tail
        raise StopAsyncIteration

    def _read(self) -> bytes:
        file = self._file
        want = min(self._chunk_size, file.size - self.sent)
        chunk = file.reader.read(want)
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"the file {file.filename!r} must be open in binary mode (read() returned "
                f"{type(chunk).__name__}, not bytes)"
            )
        chunk = bytes(chunk)
        if len(chunk) > want:
            raise ValueError(f"read({want}) of {file.filename!r} returned {len(chunk)} bytes")
        if not chunk:
            raise OSError(
                f"{file.filename!r} ended after {self.sent} of its {file.size} bytes; "
                "it changed while it was being uploaded"
            )
        self.sent += len(chunk)
        if self.sent == file.size and file.reader.read(1):
            raise OSError(
                f"{file.filename!r} is longer than the {file.size} bytes it had when the "
                "upload started; it changed while it was being uploaded"
            )
        if self._on_progress is not None:
            self._on_progress(self.sent)
        return chunk


@runtime_checkable
class HTTPTransport(Protocol):
    """Sends HTTP requests: the one seam between the client and an HTTP library.

    See the module docstring for the contract (one attempt, no redirects, no credentials on
    downloads, errors mapped to ours and never chained).
    """

    @property
    def closed(self) -> bool:
        """Whether ``aclose()`` was called."""
        ...

    async def send(self, request: Request) -> Response:
        """Send one request and return its reply, whatever the status.

        Raises:
            APIConnectionError: The exchange failed (``sent`` says whether the server may
                have received the request).
            APITimeoutError: ``request.timeout`` or ``request.connect_timeout`` ran out.
            RuntimeError: The transport is closed.

        """
        ...

    def stream(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        connect_timeout: float,
        read_timeout: float,
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """Return a context manager that sends ``GET url`` and yields its reply as a stream.

        One GET, with ``headers`` only: no redirect followed, no credential added.

        Args:
            url: The absolute URL (sent byte for byte when already encoded).
            headers: The request's headers.
            timeout: Seconds for the whole exchange, body included.
            connect_timeout: Seconds for establishing the connection.
            read_timeout: Longest stall between two reads of the body.

        """
        ...

    async def aclose(self) -> None:
        """Release the connections; idempotent."""
        ...


@runtime_checkable
class StreamingTransport(HTTPTransport, Protocol):
    """A transport that can also hand back an API reply before reading its body (``open``).

    ``with_streaming_response`` uses it for GET, PATCH and DELETE calls, so that the body
    is read only when asked for. The default transport is one; with a transport of your own
    that lacks ``open``, streamed calls read the body at once (through ``send``).
    """

    def open(self, request: Request) -> AbstractAsyncContextManager[DownloadStream]:
        """Return a context manager that sends ``request`` and yields its reply, body unread.

        One attempt, as ``send`` makes it (the request's headers, no redirect followed),
        whatever the status; leaving the context releases the connection (closing it when
        the body was not read to its end). Errors are ours, as for ``send``.
        """
        ...


@runtime_checkable
class UploadTransport(HTTPTransport, Protocol):
    """A transport that can also send uploads to a storage URL (``post_form``).

    The default transport is one; a transport of your own needs ``post_form`` only for
    ``client.uploads`` and local ``Path`` media (without it those raise ``TypeError``).
    """

    async def post_form(
        self,
        url: str,
        *,
        fields: Sequence[tuple[str, str]],
        file: FilePart,
        timeout: float | None,
        connect_timeout: float,
        max_response_bytes: int,
        on_progress: Callable[[int], object] | None = None,
    ) -> Response:
        """Send one ``multipart/form-data`` POST of an upload and return its reply.

        One attempt with no credential of any kind (no API key, default headers, auth,
        cookies or ``.netrc`` entries), no redirect followed, a ``Content-Length`` computed
        up front and never a chunked body (see ``MultipartForm``). Errors name the URL
        without its query (a signature).

        Args:
            url: The absolute storage URL (sent byte for byte when already encoded).
            fields: The form fields, in order, sent before the file.
            file: The file part, read from its reader's current position.
            timeout: Seconds for the whole exchange (``None``: no limit).
            connect_timeout: Seconds for establishing the connection.
            max_response_bytes: Largest reply body read (a longer one is cut).
            on_progress: Called with the file bytes read (sent) so far.

        Raises:
            APIConnectionError: The exchange failed (``APITimeoutError`` for timeouts).
            OSError: Reading the file failed, or it changed size while it was sent.
            RuntimeError: The transport is closed.

        """
        ...


_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def _form_quote(name: str) -> str:
    """Return a multipart name or file name escaped as browsers do (WHATWG HTML)."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def redact_url(url: str) -> str:
    """Return ``url`` without user info, query or fragment, for messages and logs.

    Signed output URLs carry their signature in the query: whoever reads it can fetch the
    file until it expires, so it never goes into an exception or a log line.

    Args:
        url: Any URL.

    Returns:
        ``scheme://host[:port]/path``, the path cut at 200 characters.

    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path if len(parts.path) <= 200 else parts.path[:200] + "..."
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, "", ""))


def scrub(text: str, *hidden: str) -> str:
    """Return ``text`` without credentials, for a message or an exception attribute.

    Removes each of ``hidden`` (the API key, a signed URL's query), anything following
    ``Bearer``/``Basic``, and the user info, query and fragment of every URL in it; cuts the
    result to 300 characters.

    Args:
        text: Text from an underlying error.
        hidden: Exact strings that must not appear.

    Returns:
        The cleaned text.

    """
    for secret in hidden:
        if secret:
            text = text.replace(secret, "<redacted>")
    text = _BEARER.sub(r"\1\2<redacted>", text)
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    if len(text) > _MAX_CAUSE_TEXT:
        text = text[:_MAX_CAUSE_TEXT] + "..."
    return text


def parse_body(raw: bytes) -> Any:
    """Return a body as parsed JSON, as text when it is not JSON, or ``None`` when empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return jsonlib.loads(text)
    except ValueError:
        return text


def build_response(
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    *,
    complete: bool = True,
    http_version: str = "HTTP/1.1",
) -> Response:
    """Return the ``Response`` of a reply read by a transport.

    Args:
        status: The HTTP status.
        headers: The reply's headers (any case; they are lower-cased).
        raw: The body, or its first bytes when ``complete`` is ``False`` (kept, not copied,
            as ``Response.content``).
        complete: Whether ``raw`` is the whole body (it was not over ``max_response_bytes``).
        http_version: The reply's HTTP version.

    """
    lowered = {name.lower(): value for name, value in headers.items()}
    request_id = lowered.get("x-request-id") or lowered.get("apigw-requestid")
    if not complete:
        return Response(
            status=status,
            headers=lowered,
            data=raw.decode("utf-8", errors="replace"),
            request_id=request_id,
            truncated=True,
            content=raw,
            http_version=http_version,
        )
    return Response(
        status=status,
        headers=lowered,
        data=parse_body(raw),
        request_id=request_id,
        content=raw,
        http_version=http_version,
    )


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Return the seconds a ``retry-after`` header asks for (number or HTTP date), if any.

    Args:
        headers: A reply's headers, by lower-case name.

    """
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def status_error_class(status: int) -> type[APIStatusError]:
    """Return the exception class of an error status (``404``: ``NotFoundError``)."""
    return _STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
