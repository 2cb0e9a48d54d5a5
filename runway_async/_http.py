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
import urllib.parse
from collections.abc import AsyncIterator, Mapping
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
    "USER_AGENT",
    "DownloadStream",
    "HTTPTransport",
    "Request",
    "Response",
    "Secret",
    "build_response",
    "parse_body",
    "parse_retry_after",
    "redact_url",
    "scrub",
    "status_error_class",
]

USER_AGENT: Final = f"runway-async/{__version__}"

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
            traceback's locals never show the key).
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

    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    data: Any
    request_id: str | None = None
    truncated: bool = False


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
    status: int, headers: Mapping[str, str], raw: bytes, *, complete: bool = True
) -> Response:
    """Return the ``Response`` of a reply read by a transport.

    Args:
        status: The HTTP status.
        headers: The reply's headers (any case; they are lower-cased).
        raw: The body, or its first bytes when ``complete`` is ``False``.
        complete: Whether ``raw`` is the whole body (it was not over ``max_response_bytes``).

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
        )
    return Response(status=status, headers=lowered, data=parse_body(raw), request_id=request_id)


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
