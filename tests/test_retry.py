"""The one retry policy (``_retry``): what is retried, how long it waits, when it gives up.

The loop runs on a ``VirtualClock``: every delay is checked exactly, in no real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest

import runway_async
from runway_async import (
    AmbiguousSubmissionError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    InvalidRequestError,
    RateLimitError,
    ResponseValidationError,
    RetryConfig,
)
from runway_async._clock import SYSTEM_CLOCK, VirtualClock
from runway_async._http import status_error_class
from runway_async._retry import call_with_retries, is_retryable, is_retryable_status

T = TypeVar("T")


def status(code: int, retry_after: float | None = None) -> APIStatusError:
    return status_error_class(code)(f"status {code}", status_code=code, retry_after=retry_after)


def connection(*, sent: bool) -> APIConnectionError:
    return APIConnectionError("broken", sent=sent)


def timeout(*, sent: bool) -> APITimeoutError:
    return APITimeoutError("slow", sent=sent)


class TestClassification:
    """Which failures are worth another attempt, for reads and for creates."""

    @pytest.mark.parametrize(
        ("code", "read", "create"),
        [
            (400, False, False),
            (401, False, False),
            (403, False, False),
            (404, False, False),
            (408, True, False),
            (409, False, False),
            (410, False, False),
            (422, False, False),
            (429, True, True),
            (500, True, False),
            (501, True, False),
            (502, True, True),
            (503, True, True),
            (504, True, False),
            (599, True, False),
        ],
    )
    def test_statuses(self, code: int, read: bool, create: bool) -> None:
        """408/429/5xx are retried for reads; only 429/502/503 for creates."""
        assert is_retryable_status(code) is read
        assert is_retryable_status(code, idempotent=False) is create
        assert is_retryable(status(code)) is read
        assert is_retryable(status(code), idempotent=True) is read
        assert is_retryable(status(code), idempotent=False) is create

    @pytest.mark.parametrize(
        ("exc", "read", "create"),
        [
            (connection(sent=False), True, True),
            (connection(sent=True), True, False),
            (timeout(sent=False), True, True),
            (timeout(sent=True), True, False),
            (ResponseValidationError("bad reply"), False, False),
            (AmbiguousSubmissionError("maybe", method="POST", url="u"), False, False),
            (InvalidRequestError("bad", field="x"), False, False),
            (ValueError("ours"), False, False),
            (asyncio.CancelledError(), False, False),
        ],
        ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
    )
    def test_errors(self, exc: BaseException, read: bool, create: bool) -> None:
        """Connection errors are retried unless a create may have reached the server."""
        assert is_retryable(exc) is read
        assert is_retryable(exc, idempotent=False) is create


class Attempts:
    """A scripted attempt: raises the queued errors in turn, then returns ``"ok"``."""

    def __init__(self, clock: VirtualClock, *errors: Exception) -> None:
        self.clock = clock
        self.errors = list(errors)
        self.times: list[float] = []
        self.budgets: list[float] = []

    async def __call__(self, budget: float) -> str:
        self.times.append(self.clock.now())
        self.budgets.append(budget)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    def offsets(self) -> list[float]:
        return [round(t - self.times[0], 6) for t in self.times]


async def run(clock: VirtualClock, call: Awaitable[T], *, limit: float = 10_000.0) -> T:
    """Drive ``call`` on ``clock`` to its end and return its result (or raise its error)."""
    task: asyncio.Future[Any] = asyncio.ensure_future(call)
    await clock.run_until_done(task, limit=limit)
    return task.result()  # type: ignore[no-any-return]


def zero() -> float:
    return 0.0


def one() -> float:
    return 1.0


class TestLoop:
    """call_with_retries on virtual time."""

    async def test_exponential_backoff(self) -> None:
        """Delays double from initial_delay, capped at max_delay, no jitter at rand=0."""
        clock = VirtualClock()
        attempts = Attempts(clock, *(status(500) for _ in range(5)))
        retry = RetryConfig(max_retries=5, initial_delay=1.0, max_delay=6.0, max_total=1000)
        got = await run(
            clock, call_with_retries(attempts, retry=retry, clock=clock, what="GET /x", rand=zero)
        )
        assert got == "ok"
        assert attempts.offsets() == [0.0, 1.0, 3.0, 7.0, 13.0, 19.0]

    async def test_jitter(self) -> None:
        """The jitter adds up to ``jitter`` times the back-off."""
        clock = VirtualClock()
        attempts = Attempts(clock, status(503), status(503))
        retry = RetryConfig(initial_delay=1.0, jitter=0.5)
        await run(clock, call_with_retries(attempts, retry=retry, clock=clock, what="x", rand=one))
        assert attempts.offsets() == [0.0, 1.5, 4.5]

    async def test_retry_after_is_honoured_and_capped(self) -> None:
        """A server's Retry-After replaces the back-off, capped by max_retry_after."""
        clock = VirtualClock()
        attempts = Attempts(clock, status(429, retry_after=7.0), status(429, retry_after=500.0))
        retry = RetryConfig(max_retry_after=20.0)
        await run(clock, call_with_retries(attempts, retry=retry, clock=clock, what="x", rand=one))
        assert attempts.offsets() == [0.0, 7.0, 27.0]

    async def test_budget_stops_retries(self) -> None:
        """No retry starts if its back-off would reach max_total; attempts get what is left."""
        clock = VirtualClock()
        attempts = Attempts(clock, *(status(503, retry_after=4.0) for _ in range(10)))
        retry = RetryConfig(max_retries=10, max_total=10.0)
        with pytest.raises(InternalServerError):
            await run(clock, call_with_retries(attempts, retry=retry, clock=clock, what="x"))
        assert attempts.offsets() == [0.0, 4.0, 8.0]
        assert attempts.budgets == [10.0, 6.0, 2.0]

    async def test_retry_after_over_the_budget_is_not_waited(self) -> None:
        """A Retry-After longer than what is left of max_total ends the call at once."""
        clock = VirtualClock()
        attempts = Attempts(clock, status(503, retry_after=30.0))
        retry = RetryConfig(max_retries=10, max_total=1.0)
        with pytest.raises(InternalServerError) as info:
            await run(clock, call_with_retries(attempts, retry=retry, clock=clock, what="x"))
        assert info.value.retry_after == 30.0
        assert len(attempts.times) == 1
        assert clock.now() == attempts.times[0]

    async def test_max_retries_bounds_the_attempts(self) -> None:
        """After max_retries retries the last error is raised."""
        clock = VirtualClock()
        errors = [connection(sent=True) for _ in range(5)]
        attempts = Attempts(clock, *errors)
        retry = RetryConfig(max_retries=2)
        with pytest.raises(APIConnectionError) as info:
            await run(clock, call_with_retries(attempts, retry=retry, clock=clock, what="x"))
        assert info.value is errors[2]
        assert len(attempts.times) == 3

    async def test_final_errors_are_raised_at_once(self) -> None:
        """A non-retryable failure is raised as is, after one attempt."""
        clock = VirtualClock()
        error = status(400)
        attempts = Attempts(clock, error)
        with pytest.raises(BadRequestError) as info:
            await run(
                clock, call_with_retries(attempts, retry=RetryConfig(), clock=clock, what="x")
            )
        assert info.value is error
        assert len(attempts.times) == 1

    async def test_sent_create_is_not_retried(self) -> None:
        """A create whose connection broke after sending is not sent again."""
        clock = VirtualClock()
        attempts = Attempts(clock, connection(sent=True))
        with pytest.raises(APIConnectionError):
            await run(
                clock,
                call_with_retries(
                    attempts, retry=RetryConfig(), clock=clock, what="POST /x", idempotent=False
                ),
            )
        assert len(attempts.times) == 1

    @pytest.mark.parametrize(
        "error",
        [connection(sent=False), timeout(sent=False), status(429), status(502), status(503)],
        ids=["refused", "connect-timeout", "429", "502", "503"],
    )
    async def test_certain_create_failures_are_retried(self, error: Exception) -> None:
        """A create that certainly was not accepted is sent again."""
        clock = VirtualClock()
        attempts = Attempts(clock, error)
        got = await run(
            clock,
            call_with_retries(
                attempts, retry=RetryConfig(), clock=clock, what="POST /x", idempotent=False
            ),
        )
        assert got == "ok"
        assert len(attempts.times) == 2

    async def test_before_retry_runs_after_each_back_off(self) -> None:
        """before_retry is called once before every retry, after its back-off."""
        clock = VirtualClock()
        attempts = Attempts(clock, status(500), status(500))
        calls: list[float] = []
        await run(
            clock,
            call_with_retries(
                attempts,
                retry=RetryConfig(initial_delay=1.0),
                clock=clock,
                what="x",
                rand=zero,
                before_retry=lambda: calls.append(clock.now()),
            ),
        )
        assert calls == attempts.times[1:]

    async def test_retries_are_logged(self, caplog: pytest.LogCaptureFixture) -> None:
        """Each retry is logged with what, the delay and the error."""
        clock = VirtualClock()
        attempts = Attempts(clock, status(503))
        with caplog.at_level("INFO", logger="runway_async"):
            await run(
                clock,
                call_with_retries(
                    attempts,
                    retry=RetryConfig(initial_delay=1.0),
                    clock=clock,
                    what="GET /v1/x",
                    rand=zero,
                ),
            )
        assert "Retrying GET /v1/x in 1.00s (retry 1 of 2) after: status 503" in caplog.text

    async def test_testing_switch_makes_system_sleeps_instant(self) -> None:
        """Under set_testing(True) the system clock's sleeps are instant, the policy the same.

        A 30 s Retry-After is obeyed without waiting.
        """
        runway_async.set_testing(True)
        assert RetryConfig().backoff(1, 30.0, 1.0) == 30.0  # the policy does not change
        attempts: list[int] = []

        async def attempt(_budget: float) -> str:
            attempts.append(1)
            if len(attempts) == 1:
                raise RateLimitError("busy", status_code=429, retry_after=30.0)
            return "ok"

        call = call_with_retries(attempt, retry=RetryConfig(), clock=SYSTEM_CLOCK, what="x")
        assert await asyncio.wait_for(call, timeout=10) == "ok"
        assert len(attempts) == 2


def test_backoff_is_pure() -> None:
    """RetryConfig.backoff no longer reads the testing switch."""
    retry = RetryConfig(initial_delay=1.0, max_delay=8.0, jitter=0.5, max_retry_after=10.0)
    for testing in (False, True):
        runway_async.set_testing(testing)
        assert retry.backoff(1, 3.0, 0.9) == 3.0
        assert retry.backoff(3, None, 1.0) == 6.0
