"""The sync client's hop to its loop thread (``_sync_runtime.Portal``), seen from callers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from runway_async import _sync_runtime
from runway_async._sync_runtime import Portal, _Call

# Every wait in these tests is bounded: a hop that never comes back fails the test instead.
DEADLINE = 30.0


@pytest.fixture
def portal() -> Iterator[Portal]:
    """Yield a portal, and stop its loop thread after the test."""
    made = Portal()
    yield made
    made.stop()


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``work`` in a new thread; the list gets its result or the exception it raised."""
    outcome: list[Any] = []

    def main() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    return thread, outcome


class TestHop:
    def test_results_and_errors_cross_the_hop(self, portal: Portal) -> None:
        """A call returns what the coroutine returns and raises what it raises, by class."""

        async def double(value: int, *, times: int) -> int:
            return value * times

        async def fail() -> None:
            raise KeyError("nope")

        assert portal.call(double, 21, times=2) == 42
        assert portal.run(double, (4,), {"times": 3}) == 12
        assert portal.call(lambda: "not awaitable") == "not awaitable"
        with pytest.raises(KeyError, match="nope"):
            portal.call(fail)
        assert portal.call(double, 1, times=1) == 1  # the loop thread survived the error

    def test_a_call_cancelled_by_the_loop_raises_cancelled_error(self, portal: Portal) -> None:
        """A call still running when its loop stops raises CancelledError in the caller."""
        started = threading.Event()

        async def forever() -> None:
            started.set()
            await asyncio.Event().wait()  # ended only by the cancellation

        thread, outcome = in_thread(lambda: portal.call(forever))
        assert started.wait(DEADLINE)
        portal.stop()  # what closing the client from another thread does
        thread.join(DEADLINE)
        assert not thread.is_alive()
        assert len(outcome) == 1
        assert isinstance(outcome[0], concurrent.futures.CancelledError)

    def test_a_call_whose_loop_is_gone_raises_instead_of_waiting_forever(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A call handed to a loop that stopped without running it fails once its thread ends."""
        monkeypatch.setattr(_sync_runtime, "_ALIVE_CHECK", 0.01)
        loop = asyncio.new_event_loop()  # open but never run again: the call is never started
        ended = threading.Thread(target=lambda: None)
        ended.start()
        ended.join()
        portal = Portal()
        portal._current = (loop, ended)
        try:
            thread, outcome = in_thread(lambda: portal.call(asyncio.sleep, 0))
            thread.join(DEADLINE)
        finally:
            loop.close()
        assert not thread.is_alive()
        assert len(outcome) == 1
        assert isinstance(outcome[0], RuntimeError)
        assert "stopped before the call finished" in str(outcome[0])

    def test_a_call_cancelled_before_it_began_is_settled(self, portal: Portal) -> None:
        """Cancelled in the same loop turn that started it, the call still hands back an end."""
        ran: list[bool] = []

        async def work() -> None:
            ran.append(True)

        call = _Call(work, (), {})
        loop, _thread = portal._get()

        def start_and_cancel() -> None:
            call.start()
            call.cancel()

        loop.call_soon_threadsafe(start_and_cancel)
        assert call.done.acquire(timeout=DEADLINE)
        assert isinstance(call.error, concurrent.futures.CancelledError)
        assert ran == []


class TestCtrlC:
    def test_ctrl_c_cancels_the_call_in_the_loop_before_it_propagates(self, portal: Portal) -> None:
        """When KeyboardInterrupt reaches the caller, the call's own cleanup has already run."""
        if threading.current_thread() is not threading.main_thread() or os.name != "posix":
            pytest.skip("needs POSIX signals and the test in the main thread")
        started = threading.Event()
        cleaned: list[str] = []

        async def slow_to_clean_up() -> None:
            started.set()
            try:
                await asyncio.Event().wait()  # ended only by the cancellation
            finally:
                # Cleanup that waits on something (a slot released over the network): with
                # the loop thread free to finish it, only a caller that waits sees it done.
                await asyncio.sleep(0.05)
                cleaned.append("done")

        main = threading.main_thread().ident
        assert main is not None

        def interrupt() -> None:
            if started.wait(DEADLINE):
                # A real SIGINT to the main thread, as Ctrl-C sends.
                signal.pthread_kill(main, signal.SIGINT)

        sender = threading.Thread(target=interrupt)
        sender.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                portal.call(slow_to_clean_up)
            assert cleaned == ["done"]
        finally:
            sender.join(DEADLINE)
        assert portal.call(asyncio.sleep, 0, "still works") == "still works"
