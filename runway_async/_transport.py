"""The aiohttp transport: the only client-side module that imports aiohttp.

``AiohttpTransport`` implements ``_http.HTTPTransport``: it owns the aiohttp sessions (one
per event loop, each with a credential-free twin for downloads over the same connection
pool), sends one request or opens one download stream, and maps every aiohttp/OS failure
into the exception tree of ``_exceptions`` in one place, ``_ErrorMap``.

No exception of aiohttp is ever chained to ours, nor left as its ``__context__``: aiohttp's
exceptions and their frames' locals hold the request's headers (the API key), which
``traceback`` with ``capture_locals=True`` (Sentry, ``pytest -l``) would print. The error is
built while the ``with`` block's exception is handled, that exception is swallowed, and ours
is raised after the block, with the cause's type and message kept as scrubbed text
(``APIConnectionError.cause``). A cancellation is re-raised as a fresh ``CancelledError``,
whose traceback holds none of aiohttp's frames.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Final

import aiohttp
import attrs
import yarl

from ._config import is_loopback_host
from ._exceptions import CLIENT_CLOSED, APIConnectionError, APITimeoutError, RunwayError
from ._http import (
    USER_AGENT,
    FilePart,
    MultipartForm,
    Request,
    Response,
    build_response,
    redact_url,
    scrub,
)
from ._loops import LoopLocal

__all__ = ["AiohttpTransport"]

logger = logging.getLogger("runway_async")

# What is kept of a reply over the cap, for the exception's body.
_PREVIEW_BYTES: Final = 8 * 1024
# aiohttp >= 3.10 tells a connect timeout apart from a read timeout.
_CONNECT_TIMEOUTS: tuple[type[BaseException], ...] = tuple(
    cls for cls in (getattr(aiohttp, "ConnectionTimeoutError", None),) if isinstance(cls, type)
)


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


class AiohttpTransport:
    """The default ``HTTPTransport``, on aiohttp; shared by a client and its copies.

    A client may be used from any loop (successive ``asyncio.run()`` calls, loops in several
    threads): each loop gets its own connection pool, created lazily and closed when that
    loop shuts down or when the transport is closed. An injected session belongs to its own
    loop and is never closed here.

    Args:
        session: An ``aiohttp.ClientSession`` to send through; it stays the caller's to
            close. Downloads go through a credential-free session over its connector, with
            its ``trace_configs``.
        trace_configs: ``aiohttp.TraceConfig`` objects for the sessions this transport
            creates (API requests and downloads alike); give an injected session its own.

    Raises:
        TypeError: ``session`` is not an ``aiohttp.ClientSession``, or ``trace_configs`` were
            given with a session.

    """

    def __init__(
        self,
        session: object | None = None,
        *,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError("session must be an aiohttp.ClientSession")
        if session is not None and trace_configs:
            raise TypeError(
                "trace_configs are for the session the transport creates; "
                "give them to your own session instead"
            )
        self._injected = session
        self._trace_configs = tuple(trace_configs or ())
        self._closed = False
        self._by_loop: LoopLocal[_LoopSessions] = LoopLocal(_LoopSessions.close)

    def __repr__(self) -> str:
        kind = "injected session" if self._injected is not None else "own sessions"
        return f"<AiohttpTransport {kind}{' closed' if self._closed else ''}>"

    @property
    def closed(self) -> bool:
        """Whether ``aclose()`` was called."""
        return self._closed

    @property
    def owns_open_session(self) -> bool:
        """Whether this transport created a session that is still open (unclosed warning)."""
        return any(s.owned and not s.api.closed for s in self._by_loop.values())

    def loop_count(self) -> int:
        """How many event loops hold sessions of this transport now (diagnostics, tests)."""
        return len(self._by_loop)

    def current_session(self) -> aiohttp.ClientSession | None:
        """Return the running loop's API session, if one was created (diagnostics, tests)."""
        sessions = self._by_loop.current()
        return sessions.api if sessions is not None else None

    async def aclose(self) -> None:
        """Close every loop's sessions (an injected one stays open); idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._by_loop.aclose()

    # -- sessions -------------------------------------------------------------------------

    def _sessions(self) -> _LoopSessions:
        if self._closed:
            raise RuntimeError(CLIENT_CLOSED)
        return self._by_loop.get(self._new_sessions)

    def _new_sessions(self) -> _LoopSessions:
        if self._injected is not None:
            return _LoopSessions(self._injected, owned=False)
        session = aiohttp.ClientSession(
            # Proxies from the environment are resolved per request (_api_proxy): with
            # trust_env=True aiohttp would also read ~/.netrc on every request (a thread
            # hop each time) and fail outright when a netrc entry meets our bearer header.
            trust_env=False,
            connector=aiohttp.TCPConnector(limit=100),
            # The API sets no cookies; a real jar would keep any a server or proxy sets
            # and replay them to every host of that domain, output hosts included.
            cookie_jar=aiohttp.DummyCookieJar(),
            trace_configs=list(self._trace_configs) or None,
        )
        return _LoopSessions(session, owned=True)

    def _download_session(self) -> aiohttp.ClientSession:
        """Return a credential-free session on the same connection pool as the API one.

        A second ``ClientSession`` over the same connector (``connector_owner=False``) costs
        no sockets, and it is the only way to be sure nothing of the API session reaches an
        output host: an injected session may carry default headers, default auth or a
        cookie jar full of cookies, which aiohttp adds to every request and which no
        per-request argument can remove; and ``trust_env=True`` makes aiohttp send
        ``~/.netrc`` credentials (whose ``default`` entry matches every host) as Basic auth.
        So this session has no headers, no auth, a ``DummyCookieJar`` and ``trust_env=False``;
        the download resolves the environment's proxy itself. It shares the API session's
        ``trace_configs``, so instrumentation sees downloads too.
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
                trace_configs=_trace_configs_of(main) or None,
            )
            sessions.download = current
        return current

    @property
    def _trust_env(self) -> bool:
        """Whether downloads honour proxy settings from the environment."""
        return self._injected is None or self._injected.trust_env

    # -- sending --------------------------------------------------------------------------

    async def send(self, request: Request) -> Response:
        """Send one request and return its reply, whatever the status (see ``HTTPTransport``).

        The body is read up to ``request.max_response_bytes``; past that, reading stops and
        the reply comes back ``truncated`` with its first bytes.

        Raises:
            APIConnectionError: (or ``APITimeoutError``) the attempt failed; never chained to
                aiohttp's exception, see the module docstring.
            RuntimeError: The transport is closed.

        """
        session = self._sessions().api
        timeout = _client_timeout(request.timeout, request.connect_timeout)
        started = time.monotonic()
        proxy = _api_proxy(request.url)
        errors = _ErrorMap.for_request(request)
        with errors:
            # The headers go straight into aiohttp: a local holding them would show the key
            # in this frame's locals on every traceback that passes through it.
            async with session.request(
                request.method,
                request.url,
                json=request.json,
                params=request.params,
                headers=request.headers,
                timeout=timeout,
                allow_redirects=False,
                proxy=proxy.url,
                proxy_auth=proxy.auth,
            ) as resp:
                status = resp.status
                headers = resp.headers  # lower-cased once, by build_response
                version = resp.version
                raw, complete = await _read_capped(resp, request.max_response_bytes)
        errors.reraise()
        response = build_response(
            status, headers, raw, complete=complete, http_version=_version_text(version)
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.3fs%s",
                request.method,
                request.url,
                status,
                time.monotonic() - started,
                f" (request id {response.request_id})" if response.request_id else "",
            )
        return response

    def open(self, request: Request) -> _ReplyContext:
        """Return a context manager that sends ``request`` and yields its reply, body unread.

        The same exchange as ``send`` (the API session, its proxy and timeouts, no redirect
        followed), for ``with_streaming_response``: the body is read only when the caller
        reads the stream. Leaving the context releases the connection.
        """
        return _ReplyContext(self, request)

    def stream(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        connect_timeout: float,
        read_timeout: float,
    ) -> _DownloadContext:
        """Return a context manager that sends ``GET url`` and yields its reply as a stream.

        The request goes through the credential-free download session (see
        ``_download_session``) with ``headers`` only; aiohttp adds ``Host``, ``Accept`` and
        ``Accept-Encoding``. Redirects are not followed.
        """
        return _DownloadContext(
            self,
            url,
            headers=headers,
            timeout=aiohttp.ClientTimeout(
                total=_limit(timeout),
                connect=_limit(min(connect_timeout, timeout)),
                sock_read=_limit(min(read_timeout, timeout)),
            ),
        )

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
        """Send one ``multipart/form-data`` POST of an upload (see ``HTTPTransport``).

        It goes through the credential-free download session (see ``_download_session``),
        with ``Content-Type``, an explicit ``Content-Length`` (so aiohttp never chunks the
        body) and ``User-Agent`` only; the body streams from ``MultipartForm``.

        Raises:
            APIConnectionError: (or ``APITimeoutError``) the attempt failed; never chained to
                aiohttp's exception.
            OSError: Reading the file failed, or it changed size (raised as the form's
                reader raised it, without aiohttp's frames).
            RuntimeError: The transport is closed.

        """
        session = self._download_session()
        proxy = _Proxy()
        if self._trust_env:
            proxy = await asyncio.to_thread(_env_proxy, url)
        form = MultipartForm(fields, file, on_progress=on_progress)
        client_timeout = aiohttp.ClientTimeout(
            total=_limit(timeout),
            connect=_limit(connect_timeout if timeout is None else min(connect_timeout, timeout)),
        )
        headers = {
            "Content-Type": form.content_type,
            "Content-Length": str(form.length),
            "User-Agent": USER_AGENT,
        }
        started = time.monotonic()
        errors = _ErrorMap.for_upload(url)
        with errors:
            async with session.post(
                _request_url(url),
                data=form,
                headers=headers,
                timeout=client_timeout,
                allow_redirects=False,
                proxy=proxy.url,
                proxy_auth=proxy.auth,
            ) as resp:
                status = resp.status
                reply_headers = resp.headers
                raw, complete = await _read_capped(resp, max_response_bytes)
        failure = form.failure
        if failure is not None:
            # aiohttp wrapped it (ClientConnectionError, "Failed to send bytes..."); the
            # source's own error says what went wrong. Its traceback runs through aiohttp's
            # frames, so it goes.
            _scrub_tracebacks(failure, None)
            errors.failure = failure  # raised with the caller's context, not aiohttp's
        errors.reraise()
        response = build_response(status, reply_headers, raw, complete=complete)
        logger.debug(
            "POST %s (upload of %d bytes) -> %d in %.3fs",
            redact_url(url),
            form.length,
            status,
            time.monotonic() - started,
        )
        return response


class _OpenReply:
    """What the download and streamed-reply contexts share: leaving releases the connection."""

    __slots__ = ("_context", "_errors")

    _context: AbstractAsyncContextManager[aiohttp.ClientResponse] | None
    _errors: _ErrorMap

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        context, self._context = self._context, None
        if context is None:
            return
        errors = self._errors
        with errors:
            # Releases the connection (closed if the body was not read to its end).
            await context.__aexit__(exc_type, exc, tb)
        errors.reraise()


class _DownloadContext(_OpenReply):
    """``async with transport.stream(url, ...) as stream``: one download GET."""

    __slots__ = ("_headers", "_timeout", "_transport", "_url")

    def __init__(
        self,
        transport: AiohttpTransport,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: aiohttp.ClientTimeout,
    ) -> None:
        self._transport = transport
        self._url = url
        self._headers = dict(headers)
        self._timeout = timeout
        self._errors = _ErrorMap.for_download(url)
        self._context: AbstractAsyncContextManager[aiohttp.ClientResponse] | None = None

    def __repr__(self) -> str:
        return f"<download {redact_url(self._url)}>"

    async def __aenter__(self) -> _AiohttpStream:
        session = self._transport._download_session()
        proxy = _Proxy()
        if self._transport._trust_env:
            # getproxies() may query the OS (macOS); aiohttp runs it in a thread too.
            proxy = await asyncio.to_thread(_env_proxy, self._url)
        errors = self._errors
        with errors:
            self._context = session.get(
                _request_url(self._url),
                headers=self._headers,
                allow_redirects=False,
                timeout=self._timeout,
                proxy=proxy.url,
                proxy_auth=proxy.auth,
            )
            response = await self._context.__aenter__()
        errors.reraise()
        return _AiohttpStream(response, errors)


class _ReplyContext(_OpenReply):
    """``async with transport.open(request) as reply``: one API request, its body unread."""

    __slots__ = ("_request", "_transport")

    def __init__(self, transport: AiohttpTransport, request: Request) -> None:
        self._transport = transport
        self._request = request
        self._errors = _ErrorMap.for_request(request)
        self._context: AbstractAsyncContextManager[aiohttp.ClientResponse] | None = None

    def __repr__(self) -> str:
        return f"<reply to {self._request.method} {redact_url(self._request.url)}>"

    async def __aenter__(self) -> _AiohttpStream:
        request = self._request
        session = self._transport._sessions().api
        proxy = _api_proxy(request.url)
        errors = self._errors
        with errors:
            # The headers go straight into aiohttp (see ``send``).
            self._context = session.request(
                request.method,
                request.url,
                json=request.json,
                params=request.params,
                headers=request.headers,
                timeout=_client_timeout(request.timeout, request.connect_timeout),
                allow_redirects=False,
                proxy=proxy.url,
                proxy_auth=proxy.auth,
            )
            response = await self._context.__aenter__()
        errors.reraise()
        return _AiohttpStream(response, errors)


class _AiohttpStream:
    """A reply whose body is read on demand (``DownloadStream``), aiohttp's errors mapped.

    What ``stream`` (downloads) and ``open`` (streamed API replies) yield.
    """

    __slots__ = (
        "_errors",
        "_response",
        "content_length",
        "headers",
        "http_version",
        "status",
    )

    def __init__(self, response: aiohttp.ClientResponse, errors: _ErrorMap) -> None:
        self._response = response
        self._errors = errors
        self.status = response.status
        self.headers: Mapping[str, str] = {k.lower(): v for k, v in response.headers.items()}
        self.content_length = response.content_length
        self.http_version = _version_text(response.version)

    def __repr__(self) -> str:
        return f"<download reply {self.status}>"

    def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        """Return an iterator over the (decoded) body in pieces of at most ``size`` bytes."""
        return _Chunks(self._response, size, self._errors)

    async def read_at_most(self, limit: int) -> bytes:
        """Return the body's first ``limit`` bytes."""
        errors = self._errors
        with errors:
            data = await _read_at_most(self._response, limit)
        errors.reraise()
        return data


class _Chunks:
    """The body of a download reply, chunk by chunk, with aiohttp's errors mapped.

    A class rather than an async generator: a generator left suspended (the caller stopped
    at ``max_bytes``) would be finalized later, at garbage collection or loop shutdown.
    """

    __slots__ = ("_errors", "_response", "_size")

    def __init__(self, response: aiohttp.ClientResponse, size: int, errors: _ErrorMap) -> None:
        self._response = response
        self._size = size
        self._errors = errors

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        errors = self._errors
        with errors:
            chunk = await self._response.content.read(self._size)
        errors.reraise()
        if not chunk:
            raise StopAsyncIteration
        return chunk


@attrs.frozen
class _Where:
    """What an error message says of the request that failed (built only when one did)."""

    method: str
    url: str  # as it may be shown
    connect_to: str  # what was being connected to
    during: str  # the request as a phrase (``GET https://...``)
    quote_cause: bool  # whether a broken-connection message quotes the scrubbed cause
    hidden: tuple[str, ...] = attrs.field(repr=False)  # exact strings scrubbed from causes


class _ErrorMap:
    """The one place where aiohttp/OS errors become ours: ``with errors: ...``, then ``reraise``.

    Like httpx's ``map_httpcore_exceptions``, but the mapped error must be raised after the
    ``with`` block, by ``reraise()``: an exception raised inside ``__exit__`` would get the
    original one as its ``__context__`` (see the module docstring). So ``__exit__`` builds
    the error, keeps it, and swallows the original; ``reraise()`` raises it, from a frame
    where no exception is being handled. Our own errors (``RunwayError``) pass through.

    Args:
        where: Returns what the messages say of the request; called only when one failed
            (redacting URLs and finding credentials costs more than the request's success
            path should pay). A broken-connection message of a download quotes the cause's
            type only (aiohttp's messages can quote a signed URL in forms a scrub may miss;
            the scrubbed text is on ``.cause`` all the same).

    """

    __slots__ = ("_outer", "_where", "failure")

    def __init__(self, where: Callable[[], _Where]) -> None:
        self._where = where
        self._outer: BaseException | None = None
        self.failure: BaseException | None = None

    def __repr__(self) -> str:
        return "<error map>"

    @classmethod
    def for_request(cls, request: Request) -> _ErrorMap:
        """Return the map of one API request (its credentials are scrubbed from causes)."""
        return cls(
            lambda: _Where(
                method=request.method,
                url=request.url,
                connect_to=_origin(request.url),
                during=f"{request.method} {request.url}",
                quote_cause=True,
                hidden=_credentials(request.headers),
            )
        )

    @classmethod
    def for_download(cls, url: str) -> _ErrorMap:
        """Return the map of one download GET (its URL's query and user info are scrubbed)."""
        return cls._for_signed_url(url, "GET", "download", "the download of")

    @classmethod
    def for_upload(cls, url: str) -> _ErrorMap:
        """Return the map of one upload POST (its URL's query and user info are scrubbed)."""
        return cls._for_signed_url(url, "POST", "upload", "the upload to")

    @classmethod
    def _for_signed_url(cls, url: str, method: str, what: str, during: str) -> _ErrorMap:
        def where() -> _Where:
            shown = redact_url(url)
            try:
                parts = urllib.parse.urlsplit(url)
                hidden: tuple[str, ...] = (
                    parts.query,
                    parts.fragment,
                    parts.netloc.rpartition("@")[0],
                )
            except ValueError:
                hidden = (url,)
            return _Where(
                method=method,
                url=shown,
                connect_to=f"{what} {shown}",
                during=f"{during} {shown}",
                quote_cause=False,
                hidden=hidden,
            )

        return cls(where)

    def __enter__(self) -> _ErrorMap:
        # The exception already handled around the block (the caller's), if any: the only
        # one ours may have as its context (see ``reraise`` and ``_scrub_tracebacks``).
        self._outer = sys.exc_info()[1]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or isinstance(exc, RunwayError):
            self._outer = None
            return False
        if isinstance(exc, asyncio.CancelledError):
            # Its traceback runs through aiohttp's frames, whose locals hold the headers (or
            # the signed URL); a fresh one carries only ours (asyncio.timeout() and
            # wait_for() turn it into their TimeoutError all the same).
            self.failure = asyncio.CancelledError(*exc.args)
        # asyncio.TimeoutError is an OSError only from Python 3.11 on.
        elif isinstance(exc, (aiohttp.ClientError, OSError, asyncio.TimeoutError)):
            self.failure = self._map(exc)
        else:
            self._outer = None
            return False
        _scrub_tracebacks(exc, self._outer)
        return True

    def reraise(self) -> None:
        """Raise the error the ``with`` block ended with, mapped; do nothing if it ended well."""
        failure, self.failure = self.failure, None
        outer, self._outer = self._outer, None
        if failure is None:
            return
        try:
            raise failure
        finally:
            # A task that resumed this coroutine from inside an ``except`` block (see
            # ``_scrub_tracebacks``) makes the exception it handles our context, aiohttp's
            # own included: ours gets the context it has under the C task, the caller's.
            failure.__context__ = outer

    def _map(self, exc: BaseException) -> APIConnectionError:
        where = self._where()
        cause = _describe(exc, *where.hidden)
        method, url = where.method, where.url
        if isinstance(exc, aiohttp.ClientConnectorError):
            # The TCP/TLS connection was never established: the server did not see the request.
            detail = cause.partition(": ")[2] or cause
            return APIConnectionError(
                f"Could not connect to {where.connect_to}: {detail}",
                method=method,
                url=url,
                sent=False,
                cause=cause,
            )
        if isinstance(exc, _CONNECT_TIMEOUTS):
            return APITimeoutError(
                f"Timed out connecting to {where.connect_to}.",
                method=method,
                url=url,
                sent=False,
                cause=cause,
            )
        if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
            return APITimeoutError(
                f"Timed out during {where.during}.", method=method, url=url, sent=True, cause=cause
            )
        broken = cause if where.quote_cause else type(exc).__name__
        return APIConnectionError(
            f"Connection broken during {where.during}: {broken}",
            method=method,
            url=url,
            sent=True,
            cause=cause,
        )


def _scrub_tracebacks(exc: BaseException, outer: BaseException | None) -> None:
    """Drop the tracebacks of ``exc`` and of the exceptions it chains, up to ``outer``.

    Swallowing aiohttp's exception is not always enough: a task that resumes a coroutine
    from inside an ``except`` block (the pure-Python ``asyncio.Task``, which
    ``backports.asyncio.runner`` and so pytest-asyncio use on Python 3.10) keeps the
    exception that woke it (a timeout's ``CancelledError``, a refused connection's
    ``OSError``) handled while our error is raised, so that exception becomes the
    ``__context__`` of ours, and its traceback runs through aiohttp's frames. Those
    exceptions are in ``exc``'s chain; their tracebacks go. The chain stops at ``outer``,
    the exception already handled around the block, which is the caller's.
    """
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or current is outer or any(current is each for each in seen):
            continue
        seen.append(current)
        current.__traceback__ = None
        todo += [current.__cause__, current.__context__]


def _describe(exc: BaseException, *hidden: str) -> str:
    """Return an error's type and message as scrubbed text (``ClientPayloadError: ...``)."""
    if isinstance(exc, aiohttp.ClientConnectorError) and exc.os_error is not None:
        detail = str(exc.os_error) or str(exc)
    else:
        detail = str(exc)
    name = type(exc).__name__
    return scrub(f"{name}: {detail}" if detail else name, *hidden)


def _credentials(headers: Mapping[str, str]) -> tuple[str, ...]:
    """Return the credentials in ``headers`` (each auth header's value and its token)."""
    found: list[str] = []
    for name, value in headers.items():
        if name.lower() in ("authorization", "proxy-authorization") and value:
            found.append(value)
            token = value.partition(" ")[2].strip()
            if token:
                found.append(token)
    return tuple(found)


def _origin(url: str) -> str:
    """Return ``scheme://host[:port]`` of ``url`` (what a connection is made to)."""
    parts = urllib.parse.urlsplit(redact_url(url))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _trace_configs_of(session: aiohttp.ClientSession) -> list[aiohttp.TraceConfig]:
    # A public property since aiohttp 3.10 (3.9 keeps the list private).
    configs = getattr(session, "trace_configs", None)
    if configs is None:
        configs = getattr(session, "_trace_configs", None)
    return list(configs or ())


@attrs.frozen
class _Proxy:
    """The proxy of one request; its credentials stay out of repr and traceback locals."""

    url: str | None = None
    auth: aiohttp.BasicAuth | None = attrs.field(default=None, repr=False)


def _request_url(url: str) -> yarl.URL:
    # Signed URLs must reach the host byte for byte: yarl's default re-quoting rewrites some
    # escapes (%7E -> ~), which can break a signature. A URL that is already encoded
    # (ASCII, no spaces or control characters) is sent as is; anything else is quoted.
    if all(0x20 < ord(c) < 0x7F for c in url):
        return yarl.URL(url, encoded=True)
    return yarl.URL(url)


@functools.lru_cache(maxsize=64)
def _client_timeout(total: float, connect: float) -> aiohttp.ClientTimeout:
    """Return the (immutable) aiohttp timeout of one attempt; the same few serve every call."""
    return aiohttp.ClientTimeout(total=_limit(total), connect=_limit(min(connect, total)))


def _version_text(version: aiohttp.HttpVersion | None) -> str:
    """Return a reply's HTTP version as text (``HTTP/1.1``)."""
    if version is None or version == aiohttp.HttpVersion11:
        return "HTTP/1.1"
    return f"HTTP/{version.major}.{version.minor}"


def _limit(seconds: float | None) -> float | None:
    """Return a deadline for aiohttp: ``None`` for none (an infinite ``Timeout`` part)."""
    return None if seconds is None or math.isinf(seconds) else seconds


_NO_PROXY: Final = _Proxy()
# A URL's scheme and host: everything before the first "/", "?" or "#" after "//".
_ORIGIN: Final = re.compile(r"[^/?#]*(?://[^/?#]*)?")


@functools.lru_cache(maxsize=64)
def _split_origin(origin: str) -> tuple[str, str | None, bool]:
    """Return the scheme, the host and whether the host is loopback, of a URL's origin."""
    parts = urllib.parse.urlsplit(origin)
    host = parts.hostname
    return parts.scheme, host, host is not None and is_loopback_host(host)


def _api_proxy(url: str) -> _Proxy:
    """Return ``_env_proxy(url)`` for an API request, whose origin is split only once.

    Every API URL starts with the client's base URL, so the parse of its scheme and host
    (and the loopback check) is kept, for the few origins a process talks to.
    """
    match = _ORIGIN.match(url)
    scheme, host, loopback = _split_origin(match[0] if match else url)
    if loopback:
        return _NO_PROXY
    return _proxy_for(scheme, host)


def _env_proxy(url: str) -> _Proxy:
    """Return the proxy (and its credentials) the environment names for ``url``.

    The same choice aiohttp makes with ``trust_env=True``, minus its ``.netrc`` lookup; a
    proxy's credentials go to the proxy only, never to the output host.
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if host is None or is_loopback_host(host):
        return _NO_PROXY
    return _proxy_for(parts.scheme, host)


# What ``proxy_bypass`` is on POSIX, with the proxies given (missing from typeshed).
_proxy_bypass_environment: Callable[[str, dict[str, str]], bool] = (
    urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
)


def _proxy_for(scheme: str, host: str | None) -> _Proxy:
    if host is None:
        return _NO_PROXY
    # ``proxy_bypass(host)`` and ``getproxies()`` each read the whole environment (twice),
    # some 50 us a request; read it once. When the environment names proxies, both take
    # them from there on every platform; when it names none, only POSIX has nothing else
    # to ask (macOS and Windows have system settings), so the two calls stay there.
    proxies = urllib.request.getproxies_environment()
    if proxies:
        if _proxy_bypass_environment(host, proxies):
            return _NO_PROXY
        proxy = proxies.get(scheme)
    elif urllib.request.getproxies is urllib.request.getproxies_environment:
        return _NO_PROXY
    else:
        if urllib.request.proxy_bypass(host):
            return _NO_PROXY
        proxy = urllib.request.getproxies().get(scheme)
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
