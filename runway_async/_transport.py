"""HTTP transport: the only client-side module that imports aiohttp.

It owns the session's lifecycle, builds the headers, retries by the policy in ``RetryConfig``
and maps every aiohttp/asyncio failure into the exception tree of ``_exceptions``.

The retry policy never pays twice: a POST (which creates a task) is re-sent only when the
server certainly did not accept it (no connection was established, 429, 502, 503). Any other
failure after the request may have reached the server raises ``AmbiguousSubmissionError``.

No exception of aiohttp is ever chained to ours, nor left as its ``__context__``: aiohttp's
exceptions and their frames' locals hold the request's headers (the API key), which
``traceback`` with ``capture_locals=True`` (Sentry, ``pytest -l``) would print. The error is
built inside the ``except`` block and raised after it, with the cause's type and message kept
as scrubbed text (``APIConnectionError.cause``).
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json as jsonlib
import logging
import random
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Final, Protocol

import aiohttp
import attrs
import yarl

from ._config import RetryConfig, Timeout, is_loopback_host
from ._exceptions import (
    AmbiguousSubmissionError,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    RunwayError,
    UnprocessableEntityError,
)
from ._loops import LoopLocal
from ._version import __version__

__all__ = [
    "DEFAULT_DOWNLOAD_CHUNK_SIZE",
    "DEFAULT_DOWNLOAD_TIMEOUT",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "MAX_DOWNLOAD_REDIRECTS",
    "DownloadInfo",
    "Response",
    "Secret",
    "Transport",
    "check_download_url",
    "check_max_response_bytes",
    "redact_url",
    "status_error",
]

logger = logging.getLogger("runway_async")

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
_READ_RETRY_STATUSES: Final = frozenset({408, 429})
_CREATE_RETRY_STATUSES: Final = frozenset({429, 502, 503})
_MAX_MESSAGE_TEXT: Final = 300

DEFAULT_DOWNLOAD_TIMEOUT: Final = 600.0
"""Seconds one download may take, from connecting to the last byte, redirects included."""
DEFAULT_DOWNLOAD_CHUNK_SIZE: Final = 256 * 1024
MAX_DOWNLOAD_REDIRECTS: Final = 5
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
# A 206 or 204 answers a question we did not ask (no Range header is sent), so only these
# count as "here is the whole file".
_DOWNLOAD_OK_STATUSES: Final = frozenset({200, 203})
_MAX_ERROR_BODY: Final = 64 * 1024

DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024
"""Largest API reply read (``AsyncRunway(max_response_bytes=...)``); downloads have their own."""
# What is kept of a reply over the cap, for the exception's body.
_PREVIEW_BYTES: Final = 8 * 1024
_MAX_CAUSE_TEXT: Final = 300
_BEARER: Final = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s'\",;}\]]+")
_URL_IN_TEXT: Final = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")


class Secret:
    """Holds the API key so that no repr, str or traceback local shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


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


class _LoopSessions:
    """One event loop's sessions: the API session and the credential-free download one."""

    __slots__ = ("api", "download", "owned")

    def __init__(self, api: aiohttp.ClientSession, *, owned: bool) -> None:
        self.api = api
        self.owned = owned
        self.download: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self.download is not None:
            # It does not own the connector, so this closes no connection of the caller's.
            await self.download.close()
        if self.owned:
            await self.api.close()


class _SessionHolder:
    """Creates aiohttp sessions lazily, one per event loop; shared by client copies.

    A client may be used from any loop (successive ``asyncio.run()`` calls, loops in
    several threads): each loop gets its own connection pool, closed when that loop shuts
    down or when the client is closed. An injected session belongs to its own loop.
    """

    def __init__(self, session: aiohttp.ClientSession | None) -> None:
        self._injected = session
        self.owned = session is None
        self.closed = False
        self._by_loop: LoopLocal[_LoopSessions] = LoopLocal(_LoopSessions.close)

    @property
    def open_and_owned(self) -> bool:
        return any(s.owned and not s.api.closed for s in self._by_loop.values())

    def _sessions(self) -> _LoopSessions:
        if self.closed:
            raise RuntimeError("This client is closed; create a new one.")
        return self._by_loop.get(self._new_sessions)

    def _new_sessions(self) -> _LoopSessions:
        if self._injected is not None:
            return _LoopSessions(self._injected, owned=False)
        session = aiohttp.ClientSession(
            # Proxies from the environment are resolved per request (_env_proxy): with
            # trust_env=True aiohttp would also read ~/.netrc on every request (a thread
            # hop each time) and fail outright when a netrc entry meets our bearer header.
            trust_env=False,
            connector=aiohttp.TCPConnector(limit=100),
            # The API sets no cookies; a real jar would keep any a server or proxy sets
            # and replay them to every host of that domain, output hosts included.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return _LoopSessions(session, owned=True)

    def get(self) -> aiohttp.ClientSession:
        """Return the running loop's API session, creating it on first use in that loop."""
        return self._sessions().api

    def get_for_downloads(self) -> aiohttp.ClientSession:
        """Return a credential-free session on the same connection pool as ``get()``.

        A second ``ClientSession`` over the same connector (``connector_owner=False``) costs
        no sockets, and it is the only way to be sure nothing of the API session reaches an
        output host: an injected session may carry default headers, default auth or a
        cookie jar full of cookies, which aiohttp adds to every request and which no
        per-request argument can remove; and ``trust_env=True`` makes aiohttp send
        ``~/.netrc`` credentials (whose ``default`` entry matches every host) as Basic auth.
        So this session has no headers, no auth, a ``DummyCookieJar`` and ``trust_env=False``;
        the download resolves the environment's proxy itself.
        """
        sessions = self._sessions()
        main = sessions.api
        connector = main.connector
        if main.closed or connector is None:
            raise RuntimeError("The aiohttp session given to this client is closed.")
        current = sessions.download
        if current is None or current.connector is not connector:
            current = aiohttp.ClientSession(
                connector=connector,
                connector_owner=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
            sessions.download = current
        return current

    @property
    def trust_env(self) -> bool:
        """Whether the API session honours proxy settings from the environment."""
        return self._injected is None or self._injected.trust_env

    async def close(self) -> None:
        """Close every loop's sessions (an injected one stays open); idempotent."""
        if self.closed:
            return
        self.closed = True
        await self._by_loop.aclose()


class _Writable(Protocol):
    """Where a download's bytes go: an open binary file, or anything with ``write``."""

    def write(self, data: bytes, /) -> object:
        """Write all of ``data``."""


@attrs.frozen(kw_only=True)
class DownloadInfo:
    """What one download delivered.

    Attributes:
        url: The URL the body came from, after redirects.
        status: The HTTP status of that reply.
        content_type: The media type of the reply (``image/png``), without parameters;
            ``None`` when the server sent none.
        bytes: How many bytes were written (after any ``Content-Encoding`` was undone).
        sha256: The SHA-256 of those bytes, lower-case hex.

    """

    url: str = attrs.field(repr=False)
    status: int
    content_type: str | None
    bytes: int
    sha256: str


class _DestinationError(Exception):
    """Carries an ``OSError`` of the destination out of the network error mapping."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


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


def check_download_url(url: str, *, redirected_from: str | None = None) -> None:
    """Refuse a URL that a download must not fetch.

    Only http(s) URLs with a host and no user info; plain http only to loopback hosts (the
    local emulator); and no redirect from a remote host to a loopback one.

    Args:
        url: The URL to fetch.
        redirected_from: The URL whose redirect led here, if any.

    Raises:
        InvalidRequestError: ``url`` was given by the caller and is refused.
        ResponseValidationError: ``url`` came from a redirect and is refused.

    """

    def refuse(reason: str) -> RunwayError:
        if redirected_from is None:
            return InvalidRequestError(
                f"Refused to download {redact_url(url)}: {reason}.", field="url"
            )
        shown = redact_url(redirected_from)
        return ResponseValidationError(
            f"GET {shown} redirected to {redact_url(url)}, refused: {reason}.",
            method="GET",
            url=shown,
        )

    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise refuse("not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise refuse("only https URLs are downloaded (and plain http to loopback hosts)")
    if not host:
        raise refuse("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise refuse("the URL carries credentials")
    loopback = is_loopback_host(host)
    if parts.scheme == "http" and not loopback:
        raise refuse("plain http is allowed only to loopback hosts; use https")
    if (
        redirected_from is not None
        and loopback
        and not is_loopback_host(urllib.parse.urlsplit(redirected_from).hostname)
    ):
        # A remote server has no business pointing us at services on this machine.
        raise refuse("a remote host may not redirect to a loopback host")


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


def _describe(exc: BaseException, *hidden: str) -> str:
    """Return an error's type and message as scrubbed text (``ClientPayloadError: ...``)."""
    if isinstance(exc, aiohttp.ClientConnectorError) and exc.os_error is not None:
        detail = str(exc.os_error) or str(exc)
    else:
        detail = str(exc)
    name = type(exc).__name__
    return scrub(f"{name}: {detail}" if detail else name, *hidden)


@attrs.frozen
class _Proxy:
    """The proxy of one request; its credentials stay out of repr and traceback locals."""

    url: str | None = None
    auth: aiohttp.BasicAuth | None = attrs.field(default=None, repr=False)


def check_max_response_bytes(value: object) -> None:
    """Refuse a ``max_response_bytes`` that is not a positive integer.

    Raises:
        ValueError: ``value`` is not an ``int`` >= 1.

    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_response_bytes must be an integer >= 1, got {value!r}")


def _request_url(url: str) -> yarl.URL:
    # Signed URLs must reach the host byte for byte: yarl's default re-quoting rewrites some
    # escapes (%7E -> ~), which can break a signature. A URL that is already encoded
    # (ASCII, no spaces or control characters) is sent as is; anything else is quoted.
    if all(0x20 < ord(c) < 0x7F for c in url):
        return yarl.URL(url, encoded=True)
    return yarl.URL(url)


def _env_proxy(url: str) -> _Proxy:
    """Return the proxy (and its credentials) the environment names for ``url``.

    The same choice aiohttp makes with ``trust_env=True``, minus its ``.netrc`` lookup; a
    proxy's credentials go to the proxy only, never to the output host.
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if host is None or is_loopback_host(host) or urllib.request.proxy_bypass(host):
        return _Proxy()
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy:
        return _Proxy()
    try:
        proxy_parts = urllib.parse.urlsplit(proxy)
        proxy_host = proxy_parts.hostname
        proxy_port = proxy_parts.port
    except ValueError:
        return _Proxy()
    if proxy_parts.scheme != "http" or not proxy_host:
        return _Proxy()  # aiohttp speaks only to http proxies, as with trust_env=True
    auth = None
    if proxy_parts.username is not None:
        auth = aiohttp.BasicAuth(
            urllib.parse.unquote(proxy_parts.username),
            urllib.parse.unquote(proxy_parts.password or ""),
        )
    if ":" in proxy_host:
        proxy_host = f"[{proxy_host}]"
    netloc = proxy_host if proxy_port is None else f"{proxy_host}:{proxy_port}"
    return _Proxy(urllib.parse.urlunsplit(("http", netloc, proxy_parts.path, "", "")), auth)


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    media = value.split(";", 1)[0].strip().lower()
    return media or None


def _download_status_error(
    status: int, headers: Mapping[str, str], raw: bytes, shown: str
) -> APIStatusError:
    cls = _STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    # The body stays out of the message: an output host's error page may echo the request,
    # signature included. It is kept on the exception for debugging.
    return cls(
        f"Error code {status} for GET {shown} (download).",
        status_code=status,
        method="GET",
        url=shown,
        body=_parse_body(raw),
        retry_after=_retry_after(headers),
    )


def _client_error(
    exc: BaseException,
    cause: str,
    *,
    method: str,
    url: str,
    connect_to: str,
    during: str,
    broken: str,
    budget_spent: bool = False,
) -> APIConnectionError:
    """Map an aiohttp/OS error of one request to ours: the one mapping point.

    Args:
        exc: What aiohttp (or the OS) raised; it is not chained (see the module docstring).
        cause: ``exc``'s type and message, already scrubbed (``_describe``).
        method: The request's method.
        url: The request's URL as it may be shown.
        connect_to: What was being connected to, for messages.
        during: The request as a phrase, for messages (``GET https://...``).
        broken: What a broken-connection message quotes of the cause.
        budget_spent: The attempt's timeout was cut to what was left of the retry budget.

    """
    if isinstance(exc, aiohttp.ClientConnectorError):
        # The TCP/TLS connection was never established: the server did not see the request.
        detail = cause.partition(": ")[2] or cause
        return APIConnectionError(
            f"Could not connect to {connect_to}: {detail}",
            method=method,
            url=url,
            sent=False,
            cause=cause,
        )
    if isinstance(exc, _CONNECT_TIMEOUTS):
        return APITimeoutError(
            f"Timed out connecting to {connect_to}.",
            method=method,
            url=url,
            sent=False,
            cause=cause,
        )
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        spent = " (the retry budget, RetryConfig.max_total, ran out)" if budget_spent else ""
        return APITimeoutError(
            f"Timed out during {during}{spent}.", method=method, url=url, sent=True, cause=cause
        )
    return APIConnectionError(
        f"Connection broken during {during}: {broken}",
        method=method,
        url=url,
        sent=True,
        cause=cause,
    )


def _too_large(shown: str, max_bytes: int) -> ResponseValidationError:
    return ResponseValidationError(
        f"GET {shown}: the file is larger than max_bytes={max_bytes}; download stopped.",
        method="GET",
        url=shown,
    )


async def _read_at_most(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    buffer = bytearray()
    async for chunk in resp.content.iter_chunked(limit):
        buffer += chunk
        if len(buffer) >= limit:
            break
    return bytes(buffer[:limit])


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Return the whole body and ``True``, or its first bytes and ``False`` past ``limit``.

    Reading stops as soon as the body is known to be too long (from ``Content-Length``, or
    while streaming one without), so an oversized reply never sits in memory whole.
    """
    length = resp.content_length
    if length is not None:
        if length > limit:
            return await _read_at_most(resp, min(limit, _PREVIEW_BYTES)), False
        return await resp.read(), True
    buffer = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        buffer += chunk
        if len(buffer) > limit:
            return bytes(buffer[: min(limit, _PREVIEW_BYTES)]), False
    return bytes(buffer), True


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return jsonlib.loads(text)
    except ValueError:
        return text


def _retry_after(headers: Mapping[str, str]) -> float | None:
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


def status_error(
    response: Response, *, method: str | None = None, url: str | None = None
) -> APIStatusError:
    """Return the exception for an error ``response``, with the body's details parsed."""
    status = response.status
    cls = _STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    data = response.data
    detail: str
    if isinstance(data, Mapping) and isinstance(data.get("error"), str):
        detail = data["error"]
        issues = data.get("issues")
        if isinstance(issues, list) and issues:
            parts = []
            for issue in issues[:5]:
                if isinstance(issue, Mapping):
                    path = ".".join(str(p) for p in issue.get("path", []) or [])
                    msg = issue.get("message", "")
                    parts.append(f"{path}: {msg}" if path else str(msg))
            if parts:
                detail += " (" + "; ".join(parts) + ")"
    elif isinstance(data, str):
        detail = data.strip()
    elif data is None:
        detail = "no body"
    else:
        detail = jsonlib.dumps(data)
    if len(detail) > _MAX_MESSAGE_TEXT:
        detail = detail[:_MAX_MESSAGE_TEXT] + "..."
    if response.truncated:
        detail += " (the reply was longer than max_response_bytes; .body holds its start)"
    where = f" for {method} {url}" if method and url else ""
    return cls(
        f"Error code {status}{where}: {detail}",
        status_code=status,
        method=method,
        url=url,
        body=data,
        request_id=response.request_id,
        retry_after=_retry_after(response.headers),
    )


class Transport:
    """Sends requests to the Runway API with auth, version header, retries and error mapping."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | Secret,
        runway_version: str,
        timeout: Timeout,
        retry: RetryConfig,
        session: object | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        _holder: _SessionHolder | None = None,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError("session must be an aiohttp.ClientSession")
        check_max_response_bytes(max_response_bytes)
        self.max_response_bytes = max_response_bytes
        # The retry budget's clock; a test may replace it.
        self._clock: Callable[[], float] = time.monotonic
        self.base_url = base_url
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self.runway_version = runway_version
        self.timeout = timeout
        self.retry = retry
        self.default_headers = dict(default_headers or {})
        self._holder = _holder if _holder is not None else _SessionHolder(session)
        self._rand = random.Random()  # noqa: S311 - jitter, not cryptography

    def __repr__(self) -> str:
        return f"<Transport {self.base_url}>"

    @property
    def owns_open_session(self) -> bool:
        """Whether this transport created a session that is still open."""
        return self._holder.open_and_owned

    @property
    def closed(self) -> bool:
        """Whether ``aclose()`` was called on the shared session holder."""
        return self._holder.closed

    def copy(
        self,
        *,
        timeout: Timeout | None = None,
        retry: RetryConfig | None = None,
        max_response_bytes: int | None = None,
    ) -> Transport:
        """Return a transport with other settings sharing this one's connection pool."""
        return Transport(
            base_url=self.base_url,
            api_key=self._key,
            runway_version=self.runway_version,
            timeout=timeout or self.timeout,
            retry=retry or self.retry,
            default_headers=self.default_headers,
            max_response_bytes=(
                self.max_response_bytes if max_response_bytes is None else max_response_bytes
            ),
            _holder=self._holder,
        )

    async def aclose(self) -> None:
        """Close the session if we created it; idempotent."""
        await self._holder.close()

    def url(self, path: str) -> str:
        """Return the absolute URL of an API ``path`` such as ``/v1/tasks/abc``."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def _headers(self) -> dict[str, str]:
        return {
            **self.default_headers,
            "Authorization": f"Bearer {self._key.reveal()}",
            "X-Runway-Version": self.runway_version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        """Send one API request with retries and return the successful reply.

        Args:
            method: HTTP method.
            path: API path (``/v1/...``).
            json: JSON body, if any.
            params: Query parameters.
            idempotent: Whether the request may be re-sent after an ambiguous failure;
                defaults to ``True`` for everything but POST.

        Each attempt's timeout is cut to what is left of ``RetryConfig.max_total``, so the
        budget bounds the whole call, the attempt in progress included.

        Raises:
            APIStatusError: (a subclass of) for error replies.
            APIConnectionError: when the connection failed and retries ran out.
            AmbiguousSubmissionError: for a non-idempotent request that may have been accepted,
                including one whose reply was too large to read.
            ResponseValidationError: a successful reply was larger than ``max_response_bytes``.

        """
        method = method.upper()
        url = self.url(path)
        if idempotent is None:
            idempotent = method != "POST"
        retry = self.retry
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            error: Exception
            retry_after: float | None = None
            budget = retry.max_total - (self._clock() - started)
            try:
                response = await self._send_once(method, url, json, params, budget=budget)
            except APIConnectionError as exc:
                if not exc.sent or idempotent:
                    error = exc
                else:
                    raise AmbiguousSubmissionError(
                        f"{method} {path} may have reached the server ({exc.message}); it was "
                        "not re-sent, to avoid paying twice. Check your tasks before "
                        "submitting again.",
                        method=method,
                        url=url,
                        request_body=json,
                    ) from exc
            else:
                if response.truncated and response.status < 400:
                    raise self._oversized_error(
                        response, method, path, url, json, idempotent=idempotent
                    )
                if response.status < 400:
                    return response
                error = status_error(response, method=method, url=url)
                status = response.status
                if idempotent:
                    retryable = status in _READ_RETRY_STATUSES or status >= 500
                else:
                    retryable = status in _CREATE_RETRY_STATUSES
                    if not retryable and status >= 500:
                        raise AmbiguousSubmissionError(
                            f"{method} {path} failed with {status} after the server received "
                            "it; it may have been accepted, so it was not re-sent. Check your "
                            "tasks before submitting again.",
                            method=method,
                            url=url,
                            request_body=json,
                            status_code=status,
                            body=response.data,
                        ) from error
                if not retryable:
                    raise error
                retry_after = error.retry_after
            if attempt > retry.max_retries:
                raise error
            delay = retry.backoff(attempt, retry_after, self._rand.random())
            # >=: a retry left no time at all would only time out at once.
            if self._clock() - started + delay >= retry.max_total:
                raise error
            logger.info(
                "Retrying %s %s in %.2fs (retry %d of %d) after: %s",
                method,
                path,
                delay,
                attempt,
                retry.max_retries,
                error,
            )
            await asyncio.sleep(delay)

    def _oversized_error(
        self,
        response: Response,
        method: str,
        path: str,
        url: str,
        json: Any,
        *,
        idempotent: bool,
    ) -> APIError:
        limit = self.max_response_bytes
        what = (
            f"the reply to {method} {path} is larger than max_response_bytes={limit}; raise "
            "it with AsyncRunway(max_response_bytes=...) if such replies are expected"
        )
        if idempotent:
            return ResponseValidationError(
                f"{what[0].upper()}{what[1:]}.", method=method, url=url, body=response.data
            )
        # The server answered success: the task may exist, though its id went unread.
        return AmbiguousSubmissionError(
            f"{method} {path} was answered {response.status}, but {what}; it may have been "
            "accepted, so it was not re-sent. Check your tasks before submitting again.",
            method=method,
            url=url,
            request_body=json,
            status_code=response.status,
            body=response.data,
        )

    async def _send_once(
        self,
        method: str,
        url: str,
        json: Any,
        params: Mapping[str, str] | None,
        *,
        budget: float | None = None,
    ) -> Response:
        """Send one attempt and return its reply, whatever the status.

        Args:
            method: HTTP method.
            url: Absolute URL.
            json: JSON body, if any.
            params: Query parameters.
            budget: Seconds left of the retry budget; caps this attempt's timeout.

        Raises:
            APIConnectionError: (or ``APITimeoutError``) the attempt failed; never chained to
                aiohttp's exception, see the module docstring.

        """
        session = self._holder.get()
        total = self.timeout.total
        capped = budget is not None and budget < total
        if capped and budget is not None:  # (the second test is for the type checker)
            total = max(budget, 0.001)
        timeout = aiohttp.ClientTimeout(total=total, connect=min(self.timeout.connect, total))
        started = time.monotonic()
        proxy = _env_proxy(url)
        failure: BaseException | None = None
        try:
            # The headers go straight into aiohttp: a local holding them would show the key
            # in this frame's locals on every traceback that passes through it.
            async with session.request(
                method,
                url,
                json=json,
                params=params,
                headers=self._headers(),
                timeout=timeout,
                allow_redirects=False,
                proxy=proxy.url,
                proxy_auth=proxy.auth,
            ) as resp:
                status = resp.status
                headers = {k.lower(): v for k, v in resp.headers.items()}
                raw, complete = await _read_capped(resp, self.max_response_bytes)
        except asyncio.CancelledError as exc:
            # Its traceback runs through aiohttp's frames, whose locals hold the headers; a
            # fresh one, raised below, carries only ours (asyncio.timeout() and wait_for()
            # turn it into their TimeoutError all the same).
            failure = asyncio.CancelledError(*exc.args)
        except (aiohttp.ClientError, OSError) as exc:  # asyncio.TimeoutError included
            cause = _describe(exc, self._key.reveal())
            failure = _client_error(
                exc,
                cause,
                method=method,
                url=url,
                connect_to=self.base_url,
                during=f"{method} {url}",
                broken=cause,
                budget_spent=capped,
            )
        if failure is not None:
            # Raised outside the except block, so aiohttp's exception is not its __context__.
            raise failure
        request_id = headers.get("x-request-id") or headers.get("apigw-requestid")
        logger.debug(
            "%s %s -> %d in %.3fs%s",
            method,
            url,
            status,
            time.monotonic() - started,
            f" (request id {request_id})" if request_id else "",
        )
        if not complete:
            return Response(
                status=status,
                headers=headers,
                data=raw.decode("utf-8", errors="replace"),
                request_id=request_id,
                truncated=True,
            )
        return Response(
            status=status, headers=headers, data=_parse_body(raw), request_id=request_id
        )

    async def download(
        self,
        url: str,
        dest: _Writable,
        *,
        max_bytes: int | None = None,
        timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
        chunk_size: int = DEFAULT_DOWNLOAD_CHUNK_SIZE,
        max_redirects: int = MAX_DOWNLOAD_REDIRECTS,
    ) -> DownloadInfo:
        """Stream the body of ``GET url`` into ``dest`` while hashing it; one attempt.

        The request carries no credential of any kind: it goes through a session sharing
        the API session's connection pool but without its headers, auth, cookies or
        ``.netrc`` (see ``_SessionHolder.get_for_downloads``); only ``User-Agent`` is set
        (aiohttp adds ``Host``, ``Accept`` and ``Accept-Encoding``). Redirects are followed
        by hand, at most ``max_redirects``, each target checked like ``url``. Retrying is
        the caller's business, since only it can rewind ``dest``.

        Args:
            url: An https URL, or plain http to a loopback host (the local emulator).
                It must not carry user info.
            dest: Where the bytes go, typically a file open in binary mode; on failure it
                holds a partial body that the caller must discard.
            max_bytes: Stop with an error once the body (decoded) exceeds this many bytes,
                or before reading when ``Content-Length`` already says so.
            timeout: Seconds for everything, from connecting to the last byte, redirects
                included. A stall longer than the client's request timeout also fails.
            chunk_size: Largest piece read and written at once.
            max_redirects: Most redirects followed.

        Returns:
            The final URL, status, media type, size and SHA-256 of what was written.

        Raises:
            InvalidRequestError: ``url`` is not one we download (scheme, host, user info).
            APIStatusError: (a subclass of) the host answered 4xx/5xx; ``retry_after`` is set
                from ``Retry-After``.
            APIConnectionError: The connection failed or broke mid-body.
            APITimeoutError: ``timeout`` ran out, or the host stalled.
            ResponseValidationError: A refused or missing redirect target, too many
                redirects, an unexpected status, or more than ``max_bytes``.
            OSError: Writing to ``dest`` failed (not a network error, never worth a retry).

        """
        if max_bytes is not None and max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0 or None, got {max_bytes!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout!r}")
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be > 0, got {chunk_size!r}")
        check_download_url(url)
        session = self._holder.get_for_downloads()
        deadline = time.monotonic() + timeout
        current = url
        for _hop in range(max_redirects + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                shown = redact_url(current)
                raise APITimeoutError(
                    f"Download of {shown} did not finish within {timeout} s.",
                    method="GET",
                    url=shown,
                )
            outcome = await self._download_once(
                session,
                current,
                dest,
                remaining=remaining,
                max_bytes=max_bytes,
                chunk_size=chunk_size,
            )
            if isinstance(outcome, DownloadInfo):
                return outcome
            check_download_url(outcome, redirected_from=current)
            current = outcome
        shown = redact_url(url)
        raise ResponseValidationError(
            f"GET {shown} redirected more than {max_redirects} times.", method="GET", url=shown
        )

    async def _download_once(
        self,
        session: aiohttp.ClientSession,
        url: str,
        dest: _Writable,
        *,
        remaining: float,
        max_bytes: int | None,
        chunk_size: int,
    ) -> DownloadInfo | str:
        """Send one GET; return what was written, or the absolute target of a redirect."""
        shown = redact_url(url)
        proxy = _Proxy()
        if self._holder.trust_env:
            # getproxies() may query the OS (macOS); aiohttp runs it in a thread too.
            proxy = await asyncio.to_thread(_env_proxy, url)
        timeout = aiohttp.ClientTimeout(
            total=remaining,
            connect=min(self.timeout.connect, remaining),
            sock_read=min(self.timeout.total, remaining),
        )
        digest = hashlib.sha256()
        size = 0
        started = time.monotonic()
        failure: BaseException | None = None
        try:
            async with session.get(
                _request_url(url),
                headers={"User-Agent": USER_AGENT},
                allow_redirects=False,
                timeout=timeout,
                proxy=proxy.url,
                proxy_auth=proxy.auth,
            ) as resp:
                status = resp.status
                if status in _REDIRECT_STATUSES:
                    location = resp.headers.get("Location", "").strip()
                    if not location:
                        raise ResponseValidationError(
                            f"GET {shown} answered {status} without a Location.",
                            method="GET",
                            url=shown,
                        )
                    return urllib.parse.urljoin(url, location)
                if status >= 400:
                    raw = await _read_at_most(resp, _MAX_ERROR_BODY)
                    raise _download_status_error(status, resp.headers, raw, shown)
                if status not in _DOWNLOAD_OK_STATUSES:
                    raise ResponseValidationError(
                        f"GET {shown} answered {status} instead of the file.",
                        method="GET",
                        url=shown,
                    )
                length = resp.content_length
                if max_bytes is not None and length is not None and length > max_bytes:
                    raise _too_large(shown, max_bytes)
                async for chunk in resp.content.iter_chunked(chunk_size):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise _too_large(shown, max_bytes)
                    digest.update(chunk)
                    try:
                        # Inline on purpose: one chunk (at most chunk_size, 256 KiB by default)
                        # lands in the page cache in microseconds, far less than a thread hop
                        # per chunk would cost; the slow part, fsync, is the caller's, in a
                        # thread.
                        dest.write(chunk)
                    except OSError as exc:
                        raise _DestinationError(exc) from exc
                content_type = _media_type(resp.headers.get("Content-Type"))
        except RunwayError:
            raise
        except _DestinationError as exc:
            raise exc.error from None
        except asyncio.CancelledError as exc:
            # As in _send_once: a fresh one, without aiohttp's frames (the signed URL).
            failure = asyncio.CancelledError(*exc.args)
        except (aiohttp.ClientError, OSError) as exc:
            parts = urllib.parse.urlsplit(url)
            hidden = (parts.query, parts.fragment, parts.netloc.rpartition("@")[0])
            failure = _client_error(
                exc,
                _describe(exc, *hidden),
                method="GET",
                url=shown,
                connect_to=f"download {shown}",
                during=f"the download of {shown}",
                # aiohttp's messages can quote the URL in forms a scrub may miss: the type
                # only here; the scrubbed text is on .cause.
                broken=type(exc).__name__,
            )
        if failure is not None:
            # Raised outside the except block: aiohttp's exception is not kept as __context__.
            raise failure
        logger.debug(
            "GET %s -> %d, %d bytes in %.3fs", shown, status, size, time.monotonic() - started
        )
        return DownloadInfo(
            url=url, status=status, content_type=content_type, bytes=size, sha256=digest.hexdigest()
        )


# aiohttp >= 3.10 tells a connect timeout apart from a read timeout.
_CONNECT_TIMEOUTS: tuple[type[BaseException], ...] = tuple(
    cls for cls in (getattr(aiohttp, "ConnectionTimeoutError", None),) if isinstance(cls, type)
)
