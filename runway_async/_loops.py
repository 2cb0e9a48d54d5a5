"""Per-event-loop state: one value for each running loop, closed when that loop shuts down.

An ``AsyncRunway`` may be used from any event loop: from successive ``asyncio.run()`` calls
(a module-level client, as in the official SDK's README), and from several loops alive at
once in different threads. aiohttp sessions and the task watcher belong to one loop each, so
the client keeps one of each per loop in a ``LoopLocal``.

A loop's value is closed when that loop shuts down, so a script that never closes its client
exits silently: with the value, a tiny async generator is started in the loop; asyncio
finalizes every async generator of a loop in ``loop.shutdown_asyncgens()``, which
``asyncio.run`` (and ``asyncio.Runner``, and pytest-asyncio) call after cancelling the
remaining tasks and before closing the loop, and the generator's ``finally`` closes the
value there, in its own loop. Unlike a sentinel task, the generator is not a pending task
that anybody could see in ``asyncio.all_tasks()``. A loop closed without
``shutdown_asyncgens()`` (a hand-driven ``run_until_complete``) leaves its value open; it is
dropped when its loop is found closed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["LoopLocal", "call_soon_anywhere"]

logger = logging.getLogger("runway_async")

_T = TypeVar("_T")


def call_soon_anywhere(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
    """Schedule ``callback`` on ``loop`` from any thread, waking the loop only if need be.

    From the loop's own thread a plain ``call_soon`` (no write to its self-pipe); from any
    other thread ``call_soon_threadsafe``.

    Raises:
        RuntimeError: ``loop`` is closed.

    """
    try:
        here = asyncio.get_running_loop() is loop
    except RuntimeError:
        here = False
    if here:
        loop.call_soon(callback)
    else:
        loop.call_soon_threadsafe(callback)


class _Entry(Generic[_T]):
    """One loop's value, the generator that closes it at the loop's shutdown, and a flag."""

    __slots__ = ("closed", "guard", "value")

    def __init__(self, value: _T) -> None:
        self.value = value
        self.guard: AsyncGenerator[None, None] | None = None
        self.closed = False


class LoopLocal(Generic[_T]):
    """Values of one kind, one per event loop, each closed in its loop when that loop ends.

    Thread-safe: each loop's thread reads and creates its own entry; closing them all may
    happen from any of the loops.

    Args:
        close: Closes a value; called once per value, inside the value's loop.

    """

    def __init__(self, close: Callable[[_T], Awaitable[None]]) -> None:
        self._close = close
        self._lock = threading.Lock()
        self._entries: dict[asyncio.AbstractEventLoop, _Entry[_T]] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, create: Callable[[], _T]) -> _T:
        """Return the running loop's value, creating it with ``create()`` on first use.

        Raises:
            RuntimeError: No event loop is running.

        """
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._entries.get(loop)
            if entry is not None:
                return entry.value
            self._drop_closed_loops()
        # Only this loop's thread creates this loop's entry, so no one else can race us.
        entry = _Entry(create())
        with self._lock:
            self._entries[loop] = entry
        entry.guard = _start(self._close_at_shutdown(loop, entry))
        return entry.value

    def current(self) -> _T | None:
        """Return the running loop's value if it has one (``None`` outside a loop too)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        with self._lock:
            entry = self._entries.get(loop)
        return entry.value if entry is not None else None

    def values(self) -> list[_T]:
        """Return every loop's value (a snapshot)."""
        with self._lock:
            return [entry.value for entry in self._entries.values()]

    async def aclose(self) -> None:
        """Close every value: the running loop's here, the others' in their own loops.

        A value of another loop that is still running is closed there without waiting for
        it; one of a loop that is not running any more cannot be closed and is dropped.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            entries = list(self._entries.items())
            self._entries.clear()
        mine: _Entry[_T] | None = None
        for other, entry in entries:
            if other is loop:
                mine = entry
            elif other.is_running() and not other.is_closed():
                closing = self._finish(entry)
                try:
                    asyncio.run_coroutine_threadsafe(closing, other)
                except RuntimeError:  # it closed meanwhile
                    closing.close()
        if mine is not None:
            await self._finish(mine)

    def _drop_closed_loops(self) -> None:
        # Called with the lock held. Loops closed without shutdown_asyncgens() never ran
        # their guard; forget their values so neither they nor their loops pile up.
        for loop in [loop for loop in self._entries if loop.is_closed()]:
            del self._entries[loop]

    async def _finish(self, entry: _Entry[_T]) -> None:
        """Close ``entry``'s value once, then retire its guard (in the value's loop)."""
        if entry.closed:
            return
        entry.closed = True
        try:
            await self._close(entry.value)
        finally:
            guard, entry.guard = entry.guard, None
            if guard is not None:
                await guard.aclose()

    async def _close_at_shutdown(
        self, loop: asyncio.AbstractEventLoop, entry: _Entry[_T]
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if entry.guard is not None:  # the loop is shutting down (not our own aclose)
                entry.guard = None
                with self._lock:
                    if self._entries.get(loop) is entry:
                        del self._entries[loop]
                try:
                    await self._finish(entry)
                except Exception as exc:  # nobody to raise to at loop shutdown
                    logger.debug("Closing a client's state at event-loop shutdown: %r", exc)


def _start(guard: AsyncGenerator[None, None]) -> AsyncGenerator[None, None]:
    """Run ``guard`` to its ``yield`` now, so the running loop registers it for shutdown.

    The loop learns of an async generator when it is first iterated (``firstiter`` hook);
    its body up to the ``yield`` does not await, so one step runs it synchronously.
    """
    step = guard.asend(None)
    try:
        step.send(None)
    except StopIteration:
        return guard
    step.close()  # not reached: the body yields without awaiting
    raise RuntimeError("loop guard did not stop at its yield")
