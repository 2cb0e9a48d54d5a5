"""Raw responses: ``with_raw_response``, ``with_streaming_response``, ``APIStatusError.response``.

The official SDK's way to read a call's HTTP reply (status, headers, request id, timing) and
still get what the call returns::

    response = await client.image_to_video.with_raw_response.create(...)
    response.headers.get("x-request-id")
    task = await response.parse()        # the TaskHandle, watched by the engine as usual

One generic wrapper serves every endpoint method (nothing is written out per resource):

- ``RawResponses`` (``client.with_raw_response``, ``resource.with_raw_response``) mirrors a
  client or a resource: a nested namespace gives another ``RawResponses``, an endpoint
  method (one that takes ``extra_headers``) a function returning the awaitable raw
  response. Helpers that are not one API call (``wait``, ``events``, ``download``,
  ``batch``) raise ``AttributeError``, as they do not exist there in the official SDK.
- The wrapper puts a ``RawRecorder`` in ``_options.RAW_SINK`` and calls the real method, so
  validation, the limiter, the watcher and the never-pay-twice rules run unchanged. The
  method's ``call_options`` puts the recorder in its ``CallOptions``, which reach the
  requester for the call's own request only (never uploads nor the organization read made
  along the way); the requester records each attempt's reply there (the last one wins).
  The recorder takes records from one asyncio task only (the call's): a task spawned during
  the call inherits ``RAW_SINK`` with the rest of the context, and must not record.
- ``StreamingResponses`` (``with_streaming_response``) returns an
  ``AsyncResponseContextManager``: the call runs in a task of its own, and for GET, PATCH
  and DELETE calls the requester opens the reply (``StreamingTransport.open``), records it
  and waits with the body unread until the caller reads it (``read()``, ``parse()``, ...) or
  streams it (``iter_bytes()``). A create (any POST) reads its reply at once: the task is
  registered with the watcher and its concurrency slot accounted whatever the caller does.

``HTTPResponse`` is the reply as ``httpx.Response`` offers it (what ``APIStatusError.response``
and ``AsyncAPIResponse.http_response`` are in the official SDK); ``HTTPRequest`` the request
it answers, without credentials.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import inspect
import json as jsonlib
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import timedelta
from http import HTTPStatus
from typing import Any, ClassVar, Final

from ._exceptions import StreamAlreadyConsumed
from ._http import DownloadStream, Request, Response
from ._options import RAW_SINK

__all__ = [
    "AsyncAPIResponse",
    "AsyncResponseContextManager",
    "HTTPRequest",
    "HTTPResponse",
    "RawRecorder",
    "RawResponses",
    "ResponseHeaders",
    "StreamingResponses",
    "http_response",
]

DEFAULT_CHUNK_SIZE: Final = 64 * 1024
"""Largest piece ``iter_bytes()`` yields when no ``chunk_size`` is given."""

# Request headers a raw response never shows: they carry credentials.
_SECRET_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"}
)


class ResponseHeaders(Mapping[str, str]):
    """A reply's headers: a read-only mapping whose keys are matched in any case."""

    __slots__ = ("_headers",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = {name.lower(): value for name, value in headers.items()}

    def __getitem__(self, name: str) -> str:
        return self._headers[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._headers

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._headers!r})"


class HTTPRequest:
    """The request a reply answers, as ``httpx.Request`` offers it; no credentials in it.

    Attributes:
        method: The HTTP method (upper case).
        headers: The headers sent, without those that carry credentials (``Authorization``).

    """

    __slots__ = ("_base", "_params", "headers", "method")

    def __init__(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.method = method
        self._base = url
        self._params = params
        self.headers = ResponseHeaders(
            {k: v for k, v in (headers or {}).items() if k.lower() not in _SECRET_HEADERS}
        )

    @property
    def url(self) -> str:
        """The absolute URL, query string included."""
        if not self._params:
            return self._base
        return f"{self._base}?{urllib.parse.urlencode(self._params)}"

    def __repr__(self) -> str:
        return f"<HTTPRequest({self.method!r}, {self.url!r})>"


class HTTPResponse:
    """An API reply as ``httpx.Response`` offers it: status, headers, body, timing.

    What ``APIStatusError.response`` is, and ``AsyncAPIResponse.http_response``. Everything
    is in memory already (the body as read, capped at ``max_response_bytes``), except the
    body of a streamed response not read yet.

    Attributes:
        status_code: The HTTP status.
        headers: The reply's headers (any case).
        request: The request it answers (method, URL, headers without credentials).
        http_version: ``HTTP/1.1``.
        request_id: The server's request id (``x-request-id``), when it sent one.
        truncated: The body was longer than ``max_response_bytes``: ``content`` is its start.

    """

    __slots__ = (
        "_content",
        "_data",
        "_seconds",
        "headers",
        "http_version",
        "request",
        "request_id",
        "status_code",
        "truncated",
    )

    def __init__(
        self,
        *,
        status_code: int,
        headers: Mapping[str, str],
        request: HTTPRequest,
        elapsed: float = 0.0,
        content: bytes | None = None,
        data: Any = None,
        read: bool = True,
        http_version: str = "HTTP/1.1",
        request_id: str | None = None,
        truncated: bool = False,
    ) -> None:
        self.status_code = status_code
        self.headers = ResponseHeaders(headers)
        self.request = request
        self.http_version = http_version
        self.request_id = request_id
        self.truncated = truncated
        self._seconds = elapsed
        # The body's bytes; None when unread (``_data`` is then ``_UNREAD``) or when the
        # transport kept only the parsed body (made into bytes again when asked for).
        self._content = content
        self._data = data if read else _UNREAD

    @property
    def url(self) -> str:
        """The URL of the request, query string included."""
        return self.request.url

    @property
    def elapsed(self) -> timedelta:
        """The time from sending the request until the reply was read (its headers, if not)."""
        return timedelta(seconds=self._seconds)

    @property
    def reason_phrase(self) -> str:
        """The status's reason phrase (``Not Found``), empty for an unknown status."""
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status_code < 300

    @property
    def is_error(self) -> bool:
        """Whether the status is 4xx or 5xx."""
        return self.status_code >= 400

    @property
    def is_read(self) -> bool:
        """Whether the body is here (always, but for a streamed reply not read yet)."""
        return self._data is not _UNREAD

    @property
    def content(self) -> bytes:
        """The body's bytes (the start of it when ``truncated``).

        Raises:
            RuntimeError: The body of this streamed reply was not read (``await read()``).

        """
        content = self._content
        if content is not None:
            return content
        data = self._data
        if data is _UNREAD:
            raise RuntimeError(
                "The body of this streamed response was not read; call read() first."
            )
        if data is None:
            content = b""
        elif isinstance(data, str):
            content = data.encode()
        else:
            content = jsonlib.dumps(data).encode()
        self._content = content
        return content

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Return the body parsed as JSON (a new object each time).

        Raises:
            ValueError: The body is not JSON.

        """
        return jsonlib.loads(self.content)

    def read(self) -> bytes:
        """Return the body's bytes (``httpx.Response.read``; it is in memory already)."""
        return self.content

    def __repr__(self) -> str:
        return f"<HTTPResponse [{self.status_code} {self.reason_phrase}]>".replace(" ]", "]")


_UNREAD: Final[Any] = object()


def http_response(
    request: Request,
    response: Response | None,
    *,
    elapsed: float,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    http_version: str = "HTTP/1.1",
) -> HTTPResponse:
    """Return the ``HTTPResponse`` of one exchange (the requester's record of it).

    Args:
        request: What was sent (its credential headers are left out).
        response: The reply as read; ``None`` for a streamed reply whose body is unread
            (then ``status``, ``headers`` and ``http_version`` describe it).
        elapsed: Seconds from sending to the reply (read, or its headers).
        status: The status of an unread reply.
        headers: The headers of an unread reply.
        http_version: The HTTP version of an unread reply.

    """
    sent = HTTPRequest(request.method, request.url, params=request.params, headers=request.headers)
    if response is None:
        given = headers or {}
        lowered = {k.lower(): v for k, v in given.items()}
        return HTTPResponse(
            status_code=status or 0,
            headers=lowered,
            request=sent,
            elapsed=elapsed,
            read=False,
            http_version=http_version,
            request_id=lowered.get("x-request-id") or lowered.get("apigw-requestid"),
        )
    return HTTPResponse(
        status_code=response.status,
        headers=response.headers,
        request=sent,
        elapsed=elapsed,
        content=response.content,
        data=response.data,
        http_version=response.http_version,
        request_id=response.request_id,
        truncated=response.truncated,
    )


# -- the recorder ----------------------------------------------------------------------------


class RawRecorder:
    """Where the requester records the HTTP exchange of one raw call (``RAW_SINK``).

    It takes records only from the call's own asyncio task (``task``), and none once the
    call is over (``closed``): a background task spawned during the call, or a later page
    of a paginated list, sends with the same options but is not this call's exchange.

    Args:
        stream: Whether the call's reply may be held with its body unread (streaming).
        task: The task whose records count (set later for a streamed call's own task).

    Attributes:
        response: The last exchange recorded (the final attempt's).
        attempts: How many attempts recorded a reply.

    """

    __slots__ = (
        "_body",
        "_go",
        "_opened",
        "_reply",
        "attempts",
        "closed",
        "response",
        "stream",
        "task",
    )

    def __init__(self, *, stream: bool = False, task: asyncio.Task[Any] | None = None) -> None:
        self.stream = stream
        self.task = task
        self.closed = False
        self.response: HTTPResponse | None = None
        self.attempts = 0
        self._reply: DownloadStream | None = None
        self._opened: asyncio.Future[None] | None = None
        self._body: asyncio.Future[None] | None = None
        self._go: asyncio.Future[bool] | None = None
        if stream:
            loop = asyncio.get_running_loop()
            self._opened = loop.create_future()
            self._body = loop.create_future()

    def __repr__(self) -> str:
        return (
            f"<RawRecorder{' streaming' if self.stream else ''}{' closed' if self.closed else ''}>"
        )

    def accepts(self) -> bool:
        """Whether a request sent now belongs to the call (its task, while it runs)."""
        return not self.closed and asyncio.current_task() is self.task

    def record(self, response: HTTPResponse, attempt: int) -> None:
        """Keep ``response``, the reply to attempt number ``attempt`` (1 for the first)."""
        self.response = response
        self.attempts = attempt
        if response.status_code < 400:  # an error status may still be retried
            _settle(self._opened)
            if response.is_read:
                _settle(self._body)

    async def hold(self, reply: DownloadStream, response: HTTPResponse, attempt: int) -> None:
        """Record a successful reply whose body is unread; wait until the caller wants it.

        Returns when the body is to be read (``read()``, ``parse()``) by the requester.

        Raises:
            StreamAlreadyConsumed: The caller streamed the body itself, or closed the
                response without reading it; the call ends there.

        """
        go = self._go
        if go is None:
            go = self._go = asyncio.get_running_loop().create_future()
        self._reply = reply
        self.record(response, attempt)
        try:
            if not await go:
                raise StreamAlreadyConsumed(
                    "The body of this streamed response was streamed or closed before it "
                    "was read, so there is nothing left to parse."
                )
        finally:
            self._reply = None

    # -- the caller's side ------------------------------------------------------------------

    def held(self) -> DownloadStream | None:
        """Return the reply held with its body unread, if the call is waiting for the caller."""
        go = self._go
        return self._reply if go is not None and not go.done() else None

    def release(self, *, read: bool) -> None:
        """Let the held call go on: read the body (``read``), or end (streamed or closed)."""
        go = self._go
        if go is None:
            go = self._go = asyncio.get_running_loop().create_future()
        if not go.done():
            go.set_result(read)

    async def wait_opened(self, call: asyncio.Task[Any]) -> None:
        """Wait until the call's successful reply is recorded, or the call ended."""
        assert self._opened is not None
        await asyncio.wait((self._opened, call), return_when=asyncio.FIRST_COMPLETED)

    async def wait_body(self, call: asyncio.Task[Any]) -> None:
        """Wait until the reply's body is read, or the call ended."""
        assert self._body is not None
        await asyncio.wait((self._body, call), return_when=asyncio.FIRST_COMPLETED)

    @property
    def opened(self) -> bool:
        """Whether a successful reply was recorded (streaming)."""
        return self._opened is not None and self._opened.done()


def _settle(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


# -- the raw response ------------------------------------------------------------------------


class AsyncAPIResponse:
    """The raw response of one API call: its HTTP reply, and ``parse()`` for the result.

    What ``with_raw_response.<method>(...)`` gives (and ``with_streaming_response`` in its
    context). ``parse()`` returns what the call itself returns: for a create the
    ``TaskHandle`` (the engine watches the task as usual), for a list the first page, for a
    retrieve the model. ``http_response`` is the reply (an ``HTTPResponse``, where the
    official SDK has an ``httpx.Response``).
    """

    __slots__ = ("_call", "_closed", "_recorder", "_streamed", "_value")

    def __init__(
        self,
        recorder: RawRecorder,
        *,
        value: Any = None,
        call: asyncio.Task[Any] | None = None,
    ) -> None:
        assert recorder.response is not None
        self._recorder = recorder
        self._value = value
        self._call = call
        self._streamed = False
        self._closed = call is None

    @property
    def http_response(self) -> HTTPResponse:
        """The HTTP reply (headers, status; the body once read)."""
        response = self._recorder.response
        assert response is not None
        return response

    @property
    def headers(self) -> ResponseHeaders:
        """The reply's headers (any case: ``headers.get("x-request-id")``)."""
        return self.http_response.headers

    @property
    def http_request(self) -> HTTPRequest:
        """The request (method, URL, headers without credentials)."""
        return self.http_response.request

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self.http_response.status_code

    @property
    def url(self) -> str:
        """The request's URL, query string included."""
        return self.http_response.url

    @property
    def method(self) -> str:
        """The request's HTTP method."""
        return self.http_response.request.method

    @property
    def http_version(self) -> str:
        """The reply's HTTP version (``HTTP/1.1``)."""
        return self.http_response.http_version

    @property
    def elapsed(self) -> timedelta:
        """The time from sending the request until the reply was read (its headers, if not)."""
        return self.http_response.elapsed

    @property
    def request_id(self) -> str | None:
        """The server's request id (``x-request-id``), when it sent one."""
        return self.http_response.request_id

    @property
    def retries_taken(self) -> int:
        """Attempts made before the one that answered (0 when the first one did)."""
        return max(self._recorder.attempts - 1, 0)

    @property
    def is_closed(self) -> bool:
        """Whether the reply is over: its body read or dropped, its connection released."""
        return self._closed or self._call is None or self._call.done()

    def __repr__(self) -> str:
        response = self.http_response
        status = f"{response.status_code} {response.reason_phrase}".strip()
        return f"<{type(self).__name__} [{status}] {response.request.method} {response.url}>"

    async def parse(self) -> Any:
        """Return what the call returns (a ``TaskHandle`` for a create, a page for a list).

        For a streamed response, the body is read first.

        Raises:
            StreamAlreadyConsumed: The streamed body was streamed (or closed) instead.
            ResponseValidationError: The reply is not what the call returns.

        """
        call = self._call
        if call is None:
            return self._value
        if self._streamed:
            raise _consumed()
        self._recorder.release(read=True)
        return await call

    async def read(self) -> bytes:
        """Read (once) and return the body's bytes.

        Raises:
            StreamAlreadyConsumed: The streamed body was streamed (or closed) instead.
            APIConnectionError: The connection broke while the body was read.

        """
        response = self.http_response
        if response.is_read:
            return response.content
        call = self._call
        if self._streamed or call is None or call.done():
            if call is not None and call.done() and not call.cancelled():
                call.result()  # the call's own failure, if it has one
            raise _consumed()
        self._recorder.release(read=True)
        await self._recorder.wait_body(call)
        response = self.http_response
        if not response.is_read:
            call.result()  # what ended the call before the body was in
            raise _consumed()
        return response.content

    async def text(self) -> str:
        """Read the body and return it decoded as UTF-8."""
        return (await self.read()).decode("utf-8", errors="replace")

    async def json(self) -> Any:
        """Read the body and return it parsed as JSON.

        Raises:
            ValueError: The body is not JSON.

        """
        return jsonlib.loads(await self.read())

    async def close(self) -> None:
        """Release the reply: an unread streamed body is dropped, its connection released.

        A create's call is never cut short: its task is registered with the watcher before
        this returns.
        """
        self._closed = True
        call = self._call
        if call is None or call.done():
            return
        self._recorder.release(read=False)
        await asyncio.wait((call,))

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Yield the body in pieces (read from the connection as they come, when streamed).

        Args:
            chunk_size: Largest piece, in bytes (default 64 KiB).

        Raises:
            StreamAlreadyConsumed: The body was streamed already.

        """
        size = chunk_size or DEFAULT_CHUNK_SIZE
        reply = self._recorder.held() if self._call is not None else None
        if reply is None:
            if self._streamed:
                raise _consumed()
            content = await self.read()
            for start in range(0, len(content), size):
                yield content[start : start + size]
            return
        self._streamed = True
        try:
            async for chunk in reply.iter_chunks(size):
                yield chunk
        finally:
            self._recorder.release(read=False)

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """Yield the body as text (UTF-8), piece by piece."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        async for chunk in self.iter_bytes(chunk_size):
            text = decoder.decode(chunk)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    async def iter_lines(self) -> AsyncIterator[str]:
        """Yield the body's lines (text, without their line endings)."""
        pending = ""
        async for text in self.iter_text():
            lines = (pending + text).splitlines(keepends=True)
            pending = ""
            if lines and not lines[-1].endswith(("\n", "\r")):
                pending = lines.pop()
            for line in lines:
                yield line.rstrip("\r\n")
        if pending:
            yield pending


def _consumed() -> StreamAlreadyConsumed:
    return StreamAlreadyConsumed(
        "The body of this streamed response was streamed already (iter_bytes(), "
        "iter_text(), iter_lines()) or dropped (close()); read() it before iterating if "
        "both are needed."
    )


class AsyncResponseContextManager:
    """``async with client.with_streaming_response.<...>(...) as response``.

    Entering sends the request and gives the ``AsyncAPIResponse`` once the reply's headers
    are in (an error status raises, as without streaming); leaving releases the connection.
    Nothing is sent before the ``async with``.
    """

    __slots__ = ("_args", "_kwargs", "_method", "_response")

    def __init__(
        self, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self._method = method
        self._args = args
        self._kwargs = kwargs
        self._response: AsyncAPIResponse | None = None

    def __repr__(self) -> str:
        return f"<AsyncResponseContextManager {_name_of(self._method)}>"

    async def __aenter__(self) -> AsyncAPIResponse:
        if self._response is not None:
            raise RuntimeError("this streaming response context was entered already")
        recorder = RawRecorder(stream=True)
        token = RAW_SINK.set(recorder)
        try:
            # The call runs in a task of its own (it waits there, body unread, for the
            # reader); the task starts with RAW_SINK set, copied with the context.
            call = asyncio.get_running_loop().create_task(
                _run(self._method, self._args, self._kwargs)
            )
        finally:
            RAW_SINK.reset(token)
        recorder.task = call
        call.add_done_callback(_retrieve)
        try:
            await recorder.wait_opened(call)
        except BaseException:
            call.cancel()
            raise
        if not recorder.opened:
            recorder.closed = True
            call.result()  # the call's error (an error status, a refused parameter)
            raise _no_request(self._method)
        response = AsyncAPIResponse(recorder, call=call)
        self._response = response
        return response

    async def __aexit__(self, *exc_info: object) -> None:
        response = self._response
        if response is not None:
            await response.close()


def _retrieve(task: asyncio.Task[Any]) -> None:
    # The call's outcome is the reader's business; one nobody asked for is not an error.
    if not task.cancelled():
        task.exception()


async def _run(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call ``method`` and await what it returns (a coroutine, a ``TaskCreation``, a page)."""
    result = method(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


async def raw_call(
    method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> AsyncAPIResponse:
    """Run one endpoint call, recording its HTTP exchange; return the raw response.

    Raises:
        Exception: What the call raises (an error status included, as in the official SDK).
        RuntimeError: The method sent no request of its own.

    """
    recorder = RawRecorder(task=asyncio.current_task())
    token = RAW_SINK.set(recorder)
    try:
        value = await _run(method, args, kwargs)
    finally:
        RAW_SINK.reset(token)
        recorder.closed = True
    if recorder.response is None:
        raise _no_request(method)
    return AsyncAPIResponse(recorder, value=value)


def _no_request(method: Callable[..., Any]) -> RuntimeError:
    return RuntimeError(f"{_name_of(method)} sent no API request, so it has no raw response.")


def _name_of(method: Callable[..., Any]) -> str:
    return getattr(method, "__qualname__", None) or repr(method)


# -- the namespaces ------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _takes_call_options(function: Callable[..., Any]) -> bool:
    """Whether ``function`` is an endpoint method (it takes the per-call options)."""
    try:
        return "extra_headers" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _is_namespace(value: object) -> bool:
    return hasattr(type(value), "with_raw_response") and not callable(value)


def _endpoint(value: object) -> Callable[..., Any] | None:
    function = getattr(value, "__func__", None)
    if inspect.ismethod(value) and function is not None and _takes_call_options(function):
        return value
    return None


class RawResponses:
    """``client.with_raw_response`` and ``<resource>.with_raw_response``.

    The same namespaces and endpoint methods as its target; calling a method returns an
    awaitable of its ``AsyncAPIResponse``. Helpers that are not one API call (``wait``,
    ``events``, ``download``, ``batch``) are not here: call them on the client.
    """

    __slots__ = ("_target",)

    _kind: ClassVar[str] = "with_raw_response"

    def __init__(self, target: object) -> None:
        self._target = target

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {type(self._target).__name__}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._target, name)
        if _is_namespace(value):
            return type(self)(value)
        method = _endpoint(value)
        if method is None:
            owner = type(self._target).__name__
            raise AttributeError(
                f"{owner}.{name} is not an API call, so {self._kind} does not offer it; "
                f"call it directly ({owner}.{name}(...))."
            )
        return self._wrap(method)

    def __dir__(self) -> list[str]:
        names = []
        for name in dir(self._target):
            if name.startswith("_") or name in ("with_raw_response", "with_streaming_response"):
                continue
            value = getattr(self._target, name, None)
            if _is_namespace(value) or _endpoint(value) is not None:
                names.append(name)
        return names

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            return raw_call(method, args, kwargs)

        return call


class StreamingResponses(RawResponses):
    """``client.with_streaming_response`` and ``<resource>.with_streaming_response``.

    Calling a method returns an ``AsyncResponseContextManager``: the body of a GET, PATCH
    or DELETE reply is read only when asked for; a create's reply is read at once (its task
    must be registered with the watcher whatever the caller does).
    """

    __slots__ = ()

    _kind: ClassVar[str] = "with_streaming_response"

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> AsyncResponseContextManager:
            return AsyncResponseContextManager(method, args, kwargs)

        return call
