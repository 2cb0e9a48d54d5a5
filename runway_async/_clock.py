"""Time for the task engine: one clock object for the watcher, retries and the limiter.

Every timing decision of the client (when to poll a task, how long to back off before a
retry, when a concurrency slot held by an ambiguous create frees) reads ``now()`` and waits
through ``sleep()`` or ``call_at()`` of a ``Clock``. The default, ``SYSTEM_CLOCK``, is the
process's monotonic clock; ``set_testing(True)``, the public switch for test suites, makes
its back-off sleeps instant. Tests of the engine's decisions pass a ``VirtualClock`` instead,
whose time moves only when the test says, so a verdict never depends on the machine's load.

This module is the bottom of the package: it imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "SYSTEM_CLOCK",
    "Clock",
    "SystemClock",
    "Timer",
    "VirtualClock",
    "as_clock",
    "is_testing",
    "set_done",
    "set_testing",
]

_testing = False


def set_testing(on: bool) -> None:
    """Make retry back-off and poll waits (nearly) instant, for tests.

    Retries stay bounded by their attempt count and polls by the wait's deadline; only the
    sleeping between them is skipped (the system clock's back-off sleeps return at once, and
    a ``PollConfig`` left at its defaults polls every 5 ms). Meant for test suites, ours and
    our users'.

    Args:
        on: ``True`` to switch testing mode on, ``False`` to switch it off.

    """
    global _testing
    _testing = bool(on)


def is_testing() -> bool:
    """Return whether ``set_testing(True)`` is in force."""
    return _testing


class Timer(Protocol):
    """A callback scheduled by ``Clock.call_at``."""

    def cancel(self) -> None:
        """Stop the callback from running (a no-op once it ran)."""


class Clock(Protocol):
    """Monotonic seconds, and ways to wait for them.

    Implementations: ``SystemClock`` (the default) and ``VirtualClock`` (tests). A clock is
    used from event-loop code only; ``now()`` may also be read from any thread.
    """

    def now(self) -> float:
        """Return the current time in seconds (monotonic, arbitrary origin)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a back-off between retries)."""
        ...

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback()`` in the running event loop once ``now()`` reaches ``when``."""
        ...


class SystemClock:
    """The process's monotonic clock; back-off sleeps are skipped under ``set_testing(True)``."""

    def __repr__(self) -> str:
        return "<SystemClock>"

    def now(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``; only yield to the loop under ``set_testing(True)``."""
        await asyncio.sleep(0.0 if _testing else max(0.0, seconds))

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        """Schedule ``callback`` on the running loop at monotonic time ``when``."""
        loop = asyncio.get_running_loop()
        return loop.call_later(max(0.0, when - time.monotonic()), callback)


SYSTEM_CLOCK = SystemClock()
"""The clock every client uses unless given another."""


def as_clock(clock: Clock | Callable[[], float]) -> Clock:
    """Return ``clock`` as a ``Clock``; a plain function of monotonic seconds is wrapped.

    For arguments that took a time function before the ``Clock`` existed
    (``InProcessLimiter(clock=...)``): the wrapped function's waits run on the event loop's
    own time.

    Raises:
        TypeError: ``clock`` is neither a ``Clock`` nor callable.

    """
    if callable(getattr(clock, "now", None)):
        return clock  # type: ignore[return-value]
    if callable(clock):
        return _FunctionClock(clock)
    raise TypeError(f"clock must be a Clock or a function returning seconds, got {clock!r}")


class _FunctionClock:
    """A ``Clock`` reading a plain function; its waits run on the event loop's own time."""

    __slots__ = ("_now",)

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def __repr__(self) -> str:
        return f"<FunctionClock {self._now!r}>"

    def now(self) -> float:
        return self._now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        loop = asyncio.get_running_loop()
        return loop.call_later(max(0.0, when - self._now()), callback)


class _VirtualTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """A clock whose time moves only when ``advance`` or ``run_until`` moves it (for tests).

    Timers run in time order, each at its own time, and after each the event loop runs every
    callback that is ready (``settle`` rounds of ``asyncio.sleep(0)``), so coroutines woken
    by a timer take their next step (send a fake request, handle its reply) before time moves
    on. Nothing waits for real time: a test of the watcher's schedule runs in milliseconds
    whatever the machine's load.

    Args:
        start: The initial ``now()``.
        settle: Rounds of the event loop run after each timer and each ``advance``.

    """

    def __init__(self, start: float = 1000.0, *, settle: int = 30) -> None:
        self._now = float(start)
        self._settle = settle
        self._timers: list[tuple[float, int, _VirtualTimer]] = []
        self._seq = itertools.count()

    def __repr__(self) -> str:
        return f"<VirtualClock now={self._now:.3f} timers={self.pending}>"

    @property
    def pending(self) -> int:
        """How many timers are scheduled and not cancelled."""
        return sum(1 for _at, _seq, timer in self._timers if not timer.cancelled)

    def now(self) -> float:
        """Return the virtual time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the virtual time has moved ``seconds`` on."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self.call_at(self._now + max(0.0, seconds), lambda: set_done(future))
        try:
            await future
        finally:
            timer.cancel()

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        """Schedule ``callback`` at virtual time ``when``."""
        timer = _VirtualTimer(when, callback)
        heapq.heappush(self._timers, (when, next(self._seq), timer))
        return timer

    def next_timer(self) -> float | None:
        """Return when the earliest pending timer fires, if any."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    async def settle(self) -> None:
        """Let the event loop run everything that is ready, without moving time."""
        for _ in range(self._settle):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move time ``seconds`` on, firing every timer due on the way, in order."""
        await self.run_until(self._now + seconds)

    async def run_until(self, when: float) -> None:
        """Move time to ``when``, firing every timer due by then, each at its own time."""
        await self.settle()
        while True:
            at = self.next_timer()
            if at is None or at > when:
                break
            _at, _seq, timer = heapq.heappop(self._timers)
            self._now = max(self._now, at)
            timer.callback()
            await self.settle()
        self._now = max(self._now, when)
        await self.settle()

    async def run_until_done(self, awaitable_task: asyncio.Future[object], *, limit: float) -> None:
        """Fire timers in order until ``awaitable_task`` is done or ``limit`` seconds pass.

        Raises:
            TimeoutError: ``limit`` virtual seconds passed first.

        """
        end = self._now + limit
        await self.settle()
        while not awaitable_task.done():
            at = self.next_timer()
            if at is None or at > end:
                raise TimeoutError(f"not done within {limit} virtual seconds")
            await self.run_until(at)


def set_done(future: asyncio.Future[None]) -> None:
    """Resolve ``future`` with ``None`` unless it is done (a timer's wake-up)."""
    if not future.done():
        future.set_result(None)
