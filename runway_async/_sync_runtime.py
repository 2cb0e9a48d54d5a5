"""What the generated sync classes (``_sync.py``) stand on: the portal and the wrappers.

Every sync client owns one ``Portal``: an event loop in a daemon thread, started on first
use, in which the async client, its aiohttp session and its task watcher live. A sync call
hands the async call to that loop (one ``call_soon_threadsafe`` there, one lock released
back; anyio's portal only starts and stops the loop) and blocks the calling thread until it
is done, so one sync client can be shared by many threads, and a thread that runs an event
loop of its own (a Jupyter cell) can call it without "event loop is already running". After
``os.fork()`` the child starts a new thread and a new async client on first use.

Nothing here knows the API: the generated classes delegate each method in one line through
``SyncObject._run`` (a call) or ``SyncObject._iterate`` (an async iterator as an iterator),
and the conversions from async results to sync twins come from the generated registry.
"""

from __future__ import annotations

import _thread
import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import inspect
import itertools
import os
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

import attrs
from anyio.from_thread import BlockingPortal

from ._http import Secret
from ._models import bound_client
from ._options import wrap_public_methods
from ._raw import AsyncResponseContextManager, RawResponses, StreamingResponses
from ._resources._pagination import CursorPage

if TYPE_CHECKING:
    from ._client import AsyncRunway

__all__ = [
    "Portal",
    "SyncClientBase",
    "SyncCursorPage",
    "SyncObject",
    "SyncRawResponses",
    "SyncResource",
    "SyncResponseContextManager",
    "SyncStreamingResponses",
    "SyncWrapper",
    "client_twin",
    "hide_key",
    "register_twin",
    "run_task_method",
    "task_twin",
]

T = TypeVar("T")

# How long closing waits for the loop thread, and a cancelled call for its cleanup.
_STOP_TIMEOUT: Final = 10.0
_CANCEL_GRACE: Final = 5.0
# How often a waiting caller checks that the loop thread is still there (a call whose loop
# stopped under it raises instead of waiting forever); a finished call wakes it at once.
_ALIVE_CHECK: Final = 1.0

# Async class -> how to make its sync twin from an instance and the owning sync client.
_TWINS: dict[type, Callable[[Any, SyncClientBase], Any]] = {}

# Async clients left behind in a forked child: their session belongs to the parent's loop,
# so they can be neither used nor closed; kept referenced so no "unclosed" warning fires.
_ORPHANS: list[object] = []


def register_twin(async_cls: type, make: Callable[[Any, SyncClientBase], Any]) -> None:
    """Record how to wrap instances of ``async_cls`` returned by async calls."""
    _TWINS[async_cls] = make


def retype_task(task: Any, twin: type, client: object) -> Any:
    """Return ``task`` (a frozen attrs task) as class ``twin``, bound to ``client``.

    Its public fields are copied; the binding is the one given (``client`` is the alias of
    every task class's private binding field).
    """
    cls = type(task)
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple(
            (a.alias, a.name) for a in attrs.fields(cls) if a.alias != "client"
        )
    values = {alias: getattr(task, name) for alias, name in fields}
    values["client"] = client
    return twin(**values)


# Task class -> (alias, attribute name) of its fields but the binding, read once per class.
_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def task_twin(twin: type) -> Callable[[Any, SyncClientBase], Any]:
    """Return the maker of ``twin`` (a sync task class) from an async task."""
    return lambda task, client: retype_task(task, twin, client)


def client_twin(value: AsyncRunway, client: SyncClientBase) -> SyncClientBase:
    """Return the sync copy around ``value``, a ``with_options`` copy of the async client."""
    return client._copy(value)


def run_task_method(
    task: Any, async_cls: type, namespace: str, name: str, /, *args: Any, **kwargs: Any
) -> Any:
    """Run method ``name`` of the async model class ``async_cls`` for its sync twin ``task``.

    The twin (a task, a workflow invocation) is bound to its sync client; the async method
    runs, blocking, on an async copy of it (an ``async_cls``) bound to the ``namespace``
    (``tasks``, ``workflow_invocations``) of that client's async client, in its loop.
    """
    client = bound_client(task)
    if not isinstance(client, SyncClientBase):
        raise RuntimeError(
            f"Task {task.id} is not bound to a client, so it cannot wait; get it from "
            "client.tasks.retrieve(id) or call client.tasks.wait(id) instead."
        )
    view = retype_task(task, async_cls, getattr(client._async_client(), namespace))
    return client._run(getattr(view, name), *args, **kwargs)


def _unwrap(value: Any) -> Any:
    # A sync twin passed back into a call (client.download(handle, ...)) means its async self.
    return value._wrapped if isinstance(value, SyncWrapper) else value


def _unwrap_all(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    # Most calls pass no twin at all: then the arguments go on as they are, not copied.
    for value in args:
        if isinstance(value, SyncWrapper):
            args = tuple([_unwrap(arg) for arg in args])
            break
    for value in kwargs.values():
        if isinstance(value, SyncWrapper):
            kwargs = {key: _unwrap(value) for key, value in kwargs.items()}
            break
    return args, kwargs


def hide_key(api_key: str | None) -> Callable[[], str | None]:
    """Return a function that gives ``api_key`` back, keeping it out of frame locals.

    A sync constructor keeps only this function, so a traceback printed with its locals
    (capture_locals, Sentry, pytest -l) shows a function object, never the key.
    """
    secret = Secret(api_key) if api_key is not None else None
    return lambda: secret.reveal() if secret is not None else None


def to_sync(value: Any, client: SyncClientBase) -> Any:
    """Wrap what an async call returned: twins for async objects, lists element-wise."""
    make = _TWINS.get(type(value))
    if make is not None:
        return make(value, client)
    if type(value) is list:
        return [to_sync(item, client) for item in value]
    return value


class Portal:
    """One event-loop thread for one sync client (and the copies made by ``with_options``).

    Started lazily, restarted in a forked child, stopped by ``stop()`` and at interpreter
    exit.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # (loop, its thread) while running: what a call reads, in one go.
        self._current: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
        self._key: int | None = None
        self._owned: list[AsyncRunway] = []
        self._portal: BlockingPortal | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()

    def own(self, client: AsyncRunway) -> None:
        """Close ``client`` in the loop before the loop thread ends, if still open then."""
        with self._lock:
            self._after_fork()
            self._owned.append(client)

    def _after_fork(self) -> None:
        if self._pid != os.getpid():  # a forked child: the parent's thread is not here
            self._thread = self._portal = self._key = self._loop = self._current = None
            self._owned = []  # the parent's clients belong to the parent's loop
            self._pid = os.getpid()

    @property
    def running(self) -> bool:
        """Whether the loop thread is up (in this process)."""
        return self._portal is not None and self._pid == os.getpid()

    def in_loop_thread(self) -> bool:
        """Whether the caller is the portal's own loop thread."""
        return self.running and threading.current_thread() is self._thread

    def _get(self) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
        with self._lock:
            self._after_fork()
            if self._portal is None or self._loop is None or self._current is None:
                self._portal, self._thread, self._loop = _start_loop_thread(self._owned)
                self._current = (self._loop, self._thread)
                # However this object goes (closed, dropped, or still open at exit), its
                # thread is stopped cleanly, its pending tasks cancelled inside the loop.
                # Keyed by a counter: thread ids are reused once a thread ends.
                self._key = key = next(_KEYS)
                _RUNNING[key] = (self._portal, self._thread)
                weakref.finalize(self, _stop_thread, key)
            return self._current

    def call(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``func(*args, **kwargs)`` in the loop (awaiting what it returns) and wait.

        The same as ``run(func, args, kwargs)``, which documents what it raises.
        """
        return self.run(func, args, kwargs)

    def run(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``func(*args, **kwargs)`` in the loop (awaiting what it returns) and wait.

        The arguments come packed, as the sync twins already hold them. Ctrl-C (or any
        exception raised in the waiting thread) cancels the call in the loop before it
        propagates, so no request is left running unseen.

        Raises:
            RuntimeError: Called from the loop thread itself, or the loop stopped (the client
                was closed) before the call could finish.
            concurrent.futures.CancelledError: The loop cancelled the call (the client was
                closed by another thread meanwhile).

        """
        # The common case takes no lock: the loop is up in this process. Anything else
        # (first call, forked child, stopped) starts it under the lock.
        current = self._current
        if current is None or self._pid != os.getpid():
            current = self._get()
        loop, thread = current
        if threading.current_thread() is thread:
            raise RuntimeError(
                "a sync Runway call was made from inside its own event loop (for example from "
                "an on_event callback); use the async client there"
            )
        call = _Call(func, args, kwargs)
        # One hop each way, the cheapest there is: the loop is woken once (its self-pipe)
        # to start the call as a task, and the task itself releases the lock this thread
        # sleeps on, as soon as the call is done (no future chained back through another
        # turn of the loop).
        done = call.done
        loop.call_soon_threadsafe(call.start)  # RuntimeError if the loop has closed
        finished = True
        try:
            while not done.acquire(timeout=_ALIVE_CHECK):
                if not thread.is_alive():  # it may have finished as the thread ended
                    finished = done.acquire(blocking=False)
                    break
        except BaseException:
            if not call.settled:
                # Cancel it in the loop and give it a moment to clean up (release its slot,
                # ...) before the caller's exception (Ctrl-C) propagates.
                with contextlib.suppress(RuntimeError):  # the loop has closed: nothing runs
                    loop.call_soon_threadsafe(call.cancel)
                    done.acquire(timeout=_CANCEL_GRACE)
            raise
        if not finished:
            raise RuntimeError(
                "the sync client's event loop stopped before the call finished (the client "
                "was closed meanwhile)"
            )
        error = call.error
        if error is not None:
            call.error = None  # no cycle through the traceback's frames
            try:
                raise error
            finally:
                del error
        return call.result

    def iterate(self, factory: Callable[[], Any]) -> Iterator[Any]:
        """Turn the async iterator ``factory()`` (built in the loop) into an iterator."""
        iterator: AsyncIterator[Any] = self.call(factory)
        try:
            while True:
                try:
                    item = self.call(iterator.__anext__)
                except StopAsyncIteration:
                    return
                yield item
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None and self.running:
                self.call(aclose)

    def stop(self) -> None:
        """Stop the loop thread (a no-op if it is not running)."""
        with self._lock:
            key, same_process = self._key, self._pid == os.getpid()
            self._thread = self._portal = self._key = self._loop = self._current = None
        if key is not None and same_process:
            _stop_thread(key)


class _Call:
    """One sync call: started in the loop thread, its outcome handed back through a lock.

    The calling thread holds ``done`` and sleeps acquiring it again; the loop releases it
    once, when the call has ended (``settled``), with ``result`` or ``error`` set.
    """

    __slots__ = ("args", "done", "error", "func", "kwargs", "result", "settled", "task")

    def __init__(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.result: Any = None
        self.error: BaseException | None = None
        self.settled = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the call as a task of the running loop (in the loop thread)."""
        coro = self._run()
        try:
            self.task = asyncio.get_running_loop().create_task(coro)
        except BaseException as exc:  # handed to the caller like any failure of the call
            coro.close()
            self.error = exc
            self._settle()

    async def _run(self) -> None:
        try:
            result = self.func(*self.args, **self.kwargs)
            if inspect.isawaitable(result):  # a coroutine, or a TaskCreation
                result = await result
            self.result = result
        except (asyncio.CancelledError, GeneratorExit):
            # Cancelled by the loop (its client closed by another thread) or for the caller
            # (then unseen): the caller gets what a cancelled concurrent future raises.
            self.error = concurrent.futures.CancelledError()
            raise
        except BaseException as exc:  # handed to the caller, not to the loop
            self.error = exc
        finally:
            self._settle()

    def _settle(self, _task: object = None) -> None:
        if not self.settled:
            self.settled = True
            if _task is not None and self.error is None:  # cancelled before it began
                self.error = concurrent.futures.CancelledError()
            self.done.release()

    def cancel(self) -> None:
        """Cancel the call (in the loop thread): the caller was interrupted."""
        task = self.task
        if task is not None and not task.done():
            # A task cancelled before its first step never runs ``_run``: settle it anyway.
            task.add_done_callback(self._settle)
            task.cancel()


def _start_loop_thread(
    owned: list[AsyncRunway],
) -> tuple[BlockingPortal, threading.Thread, asyncio.AbstractEventLoop]:
    # Our own thread rather than anyio's start_blocking_portal, whose helper pool hangs in
    # a forked child; the portal is created inside the new loop and serves until stopped.
    # Before the loop ends it closes the async clients it owns that are still open (a sync
    # client dropped without close(), or still open at exit), so no session leaks.
    ready: concurrent.futures.Future[tuple[BlockingPortal, asyncio.AbstractEventLoop]] = (
        concurrent.futures.Future()
    )

    async def serve() -> None:
        async with BlockingPortal() as portal:
            ready.set_result((portal, asyncio.get_running_loop()))
            await portal.sleep_until_stopped()
        for client in owned:
            with contextlib.suppress(Exception):  # closing is idempotent and best effort
                await client.aclose()

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported to the starting thread
            if not ready.done():
                ready.set_exception(exc)

    thread = threading.Thread(target=main, name="runway-sync", daemon=True)
    thread.start()
    portal, loop = ready.result(timeout=_STOP_TIMEOUT)
    return portal, thread, loop


# Every running loop thread of this process, by a key of its own, until it is stopped.
_RUNNING: dict[int, tuple[BlockingPortal, threading.Thread]] = {}
_KEYS = itertools.count()


def _stop_thread(key: int) -> None:
    entry = _RUNNING.pop(key, None)
    if entry is None:
        return
    portal, thread = entry
    if threading.current_thread() is thread:
        # Dropped inside its own loop (a finalizer run there): stop without blocking.
        asyncio.get_running_loop().create_task(portal.stop(cancel_remaining=True))
        return
    with contextlib.suppress(RuntimeError):  # the loop already ended
        portal.call(portal.stop, True)
    thread.join(timeout=_STOP_TIMEOUT)


if hasattr(os, "register_at_fork"):  # the parent's threads are not in a forked child
    os.register_at_fork(after_in_child=_RUNNING.clear)


class SyncObject:
    """A sync twin: delegates to an async object through its client's portal."""

    __slots__ = ("_client_ref",)

    _client_ref: SyncClientBase

    def _target(self) -> Any:
        raise NotImplementedError

    def _run(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        client = self._client_ref
        args, kwargs = _unwrap_all(args, kwargs)
        return to_sync(client._portal.run(func, args, kwargs), client)

    def _iterate(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Iterator[Any]:
        client = self._client_ref
        for item in client._portal.iterate(lambda: func(*args, **kwargs)):
            yield to_sync(item, client)

    def __repr__(self) -> str:
        try:
            target = self._target()
        except AttributeError:  # half-built (its constructor raised), seen in a traceback
            return f"<{type(self).__name__} (not constructed)>"
        return repr(target).replace(type(target).__name__, type(self).__name__, 1)


class SyncWrapper(SyncObject):
    """The twin of one async object returned by a call (a task handle, a batch)."""

    __slots__ = ("_wrapped",)

    def __init__(self, wrapped: Any, client: SyncClientBase) -> None:
        """Wrap ``wrapped``, reaching its loop through ``client``."""
        self._wrapped = wrapped
        self._client_ref = client

    def _target(self) -> Any:
        return self._wrapped


class _RawAccess:
    """``with_raw_response`` and ``with_streaming_response`` of the sync client and namespaces."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> SyncRawResponses:
        """Return the raw-response view of this namespace's API calls (``APIResponse``).

        ``client.image_to_video.with_raw_response.create(...)`` gives the HTTP reply
        (``status_code``, ``headers``, ``request_id``, ``elapsed``) and ``.parse()`` what
        the call returns. Nested namespaces are there too.
        """
        assert isinstance(self, SyncObject)
        return SyncRawResponses(self)

    @property
    def with_streaming_response(self) -> SyncStreamingResponses:
        """Return this namespace's API calls as ``with`` contexts reading the body on demand.

        ``with client.tasks.with_streaming_response.retrieve(id) as response:``; the body
        of a GET, PATCH or DELETE reply is read only by ``read()``, ``parse()``,
        ``iter_bytes()``...; a create's is read at once.
        """
        assert isinstance(self, SyncObject)
        return SyncStreamingResponses(self)


class SyncResource(_RawAccess, SyncObject):
    """The twin of a namespace reached by attribute from the client (``client.tasks``)."""

    __slots__ = ("_path",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_public_methods(cls)  # an unknown keyword's TypeError names extra_body

    def __init__(self, client: SyncClientBase, path: tuple[str, ...]) -> None:
        """Reach the async namespace at ``path`` from ``client``'s async client."""
        self._client_ref = client
        self._path = path

    def _target(self) -> Any:
        target: Any = self._client_ref._async_client()
        for name in self._path:
            target = getattr(target, name)
        return target

    def _child(self, cls: type[SyncResource], name: str) -> Any:
        return cls(self._client_ref, (*self._path, name))


class SyncClientBase(_RawAccess, SyncObject):
    """The sync client's machinery: its async client, its portal and closing."""

    __slots__ = (
        "_async",
        "_children",
        "_closed",
        "_factory",
        "_owner",
        "_pid",
        "_portal",
    )

    def _start(self, factory: Callable[[], AsyncRunway]) -> None:
        # Building the async client here validates the arguments in the caller's thread;
        # it opens nothing until its first request, which happens in the portal's loop.
        self._factory: Callable[[], AsyncRunway] | None = factory
        self._async = factory()
        self._pid = os.getpid()
        self._portal = Portal()
        self._portal.own(self._async)
        self._owner = True
        self._closed = False
        self._children: dict[str, Any] = {}
        self._client_ref = self

    def _copy(self, async_client: AsyncRunway) -> SyncClientBase:
        # A with_options() copy: shares the portal; closing it closes nothing.
        clone = object.__new__(type(self))
        clone._factory = None
        clone._async = async_client
        clone._pid = self._pid
        clone._portal = self._portal
        clone._owner = False
        clone._closed = False
        clone._children = {}
        clone._client_ref = clone
        return clone

    def _async_client(self) -> AsyncRunway:
        if self._pid != os.getpid():
            if self._factory is None:
                raise RuntimeError(
                    "a with_options() copy cannot be used after os.fork(); make the copy "
                    "again from the client in the child process"
                )
            _ORPHANS.append(self._async)
            self._async, self._pid = self._factory(), os.getpid()
            self._portal.own(self._async)
        return self._async

    def _target(self) -> Any:
        return self._async_client()

    def _child(self, cls: type[SyncResource], name: str) -> Any:
        child = self._children.get(name)
        if child is None:
            child = self._children[name] = cls(self, (name,))
        return child

    def close(self) -> None:
        """Close the connections and stop the client's event-loop thread.

        A copy made by ``with_options`` does not own them: closing it is a no-op.
        """
        if not self._owner or self._closed:
            return
        self._closed = True
        try:
            if self._portal.running:
                self._portal.call(self._async.aclose)
        finally:
            self._portal.stop()

    def __del__(self) -> None:
        # A client dropped without close(): close it. A finalizer run inside the client's
        # own loop cannot block on it; there the loop closes it when it stops (its portal
        # goes with this client, or at exit).
        try:
            if not getattr(self, "_owner", False) or getattr(self, "_closed", True):
                return
            if self._portal.in_loop_thread():
                self._closed = True
            else:
                self.close()
        except Exception:  # noqa: S110 - nothing useful can be done in a finalizer
            pass


class SyncCursorPage(SyncWrapper, Generic[T]):
    """One page of a cursor-paginated listing (the sync twin of ``CursorPage``).

    What a paginated ``list(...)`` of the sync client returns: the first page, already
    fetched. Iterating it (``for voice in client.voices.list(limit=50)``) yields the items
    of this page and of every page after it, fetching each page when it is reached.

    Attributes:
        data: The items of this page.
        next_cursor: The cursor of the next page; ``None`` on the last page.

    """

    __slots__ = ()

    def __len__(self) -> int:
        return len(self._wrapped.data)

    @property
    def data(self) -> list[T]:
        """The items of this page, in the server's order."""
        return [to_sync(item, self._client_ref) for item in self._wrapped.data]

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page; ``None`` on the last page."""
        cursor: str | None = self._wrapped.next_cursor
        return cursor

    def has_next_page(self) -> bool:
        """Whether a page follows this one."""
        return bool(self._wrapped.has_next_page())

    def next_page_info(self) -> dict[str, Any] | None:
        """Return the query of the next page (``{"cursor": ...}``); ``None`` on the last."""
        info: dict[str, Any] | None = self._wrapped.next_page_info()
        return info

    def get_next_page(self) -> SyncCursorPage[T]:
        """Fetch the page after this one, with the same filters.

        Raises:
            RuntimeError: This is the last page (check ``has_next_page()`` first).

        """
        page: SyncCursorPage[T] = self._run(self._wrapped.get_next_page)
        return page

    def iter_pages(self) -> Iterator[SyncCursorPage[T]]:
        """Yield this page and every page after it."""
        return self._iterate(self._wrapped.iter_pages)

    def __iter__(self) -> Iterator[T]:
        return self._iterate(self._wrapped.__aiter__)


register_twin(CursorPage, SyncCursorPage)


class SyncRawResponses:
    """``with_raw_response`` of the sync client or a namespace (``RawResponses``' twin).

    The same namespaces and API calls as the async one; a call blocks and returns the
    ``APIResponse``, whose ``parse()`` gives what the sync call returns.
    """

    __slots__ = ("_owner",)

    _async_kind: ClassVar[type[RawResponses]] = RawResponses

    def __init__(self, owner: SyncObject) -> None:
        self._owner = owner

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {type(self._owner).__name__}>"

    def _namespace(self) -> RawResponses:
        return self._async_kind(self._owner._target())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        found = getattr(self._namespace(), name)  # AttributeError for a helper, as async
        if isinstance(found, RawResponses):
            return type(self)(getattr(self._owner, name))
        return self._wrap(found)

    def __dir__(self) -> list[str]:
        return dir(self._namespace())

    def _wrap(self, call: Callable[..., Any]) -> Callable[..., Any]:
        owner = self._owner

        @functools.wraps(call)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return owner._run(call, *args, **kwargs)

        return blocking


class SyncStreamingResponses(SyncRawResponses):
    """``with_streaming_response`` of the sync client or a namespace: ``with`` contexts."""

    __slots__ = ()

    _async_kind: ClassVar[type[RawResponses]] = StreamingResponses

    def _wrap(self, call: Callable[..., Any]) -> Callable[..., Any]:
        owner = self._owner

        @functools.wraps(call)
        def context(*args: Any, **kwargs: Any) -> SyncResponseContextManager:
            args, kwargs = _unwrap_all(args, kwargs)
            return SyncResponseContextManager(owner, call(*args, **kwargs))

        return context


class SyncResponseContextManager:
    """``with client.with_streaming_response.<...>(...) as response`` (sync).

    Entering sends the request (in the client's event loop) and gives the ``APIResponse``
    once the reply's headers are in; leaving releases the connection.
    """

    __slots__ = ("_context", "_entered", "_owner")

    def __init__(self, owner: SyncObject, context: AsyncResponseContextManager) -> None:
        self._owner = owner
        self._context = context
        self._entered = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __enter__(self) -> Any:
        self._entered = True
        return self._owner._run(self._context.__aenter__)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._entered:
            self._owner._run(self._context.__aexit__, exc_type, exc, tb)


@atexit.register
def _stop_all() -> None:
    # Each loop closes the clients it owns before it ends.
    for key in list(_RUNNING):
        _stop_thread(key)
