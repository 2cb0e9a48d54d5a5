"""The one retry policy: which failures are retried, how long to wait, when to give up.

API requests (``_requester``) and downloads (``_download``) run their attempts through
``call_with_retries``; the task watcher's polls, which keep their own schedule, ask
``is_retryable`` whether a failed poll ends a wait. So "408, 429 and 5xx are transient" is
written once, here.

The policy never pays twice: a create (a non-idempotent POST) is re-sent only when the
server certainly did not accept it: the connection was never established, or it answered
429, 502 or 503. Reads are also re-sent after a timeout, a broken connection, 408 and
any other 5xx.

Time is read and waited for through a ``Clock`` (``_clock``): the budget
(``RetryConfig.max_total``) is measured on it and back-offs sleep on it, so a test can run
the loop on a ``VirtualClock``; under ``set_testing(True)`` the system clock's sleeps are
instant while every decision stays the same.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Final, Protocol, TypeVar

from ._clock import Clock
from ._config import RetryConfig, Timeout
from ._exceptions import APIConnectionError, APIStatusError
from ._http import HTTPTransport

__all__ = [
    "CREATE_RETRY_STATUSES",
    "READ_RETRY_STATUSES",
    "TransferHost",
    "call_with_retries",
    "is_retryable",
    "is_retryable_status",
]

logger = logging.getLogger("runway_async")

READ_RETRY_STATUSES: Final = frozenset({408, 429})
"""Statuses below 500 after which an idempotent request is re-sent (and every 5xx)."""
CREATE_RETRY_STATUSES: Final = frozenset({429, 502, 503})
"""The only statuses after which a create is re-sent: the server did not process it."""

_T = TypeVar("_T")
_rand = random.Random()  # noqa: S311 - back-off jitter, not cryptography


def is_retryable_status(status: int, *, idempotent: bool = True) -> bool:
    """Return whether a reply with ``status`` is worth sending the request again for.

    Args:
        status: The HTTP status of the reply.
        idempotent: Whether the request may be re-sent after it reached the server
            (``False`` for a create).

    """
    if idempotent:
        return status in READ_RETRY_STATUSES or status >= 500
    return status in CREATE_RETRY_STATUSES


def is_retryable(exc: BaseException, *, idempotent: bool = True) -> bool:
    """Return whether the failed attempt that raised ``exc`` should be tried again.

    Connection errors and timeouts are retryable when the request is idempotent, or when
    it certainly never reached the server (``sent=False``); status errors by
    ``is_retryable_status``. Anything else (a refused reply, a bad parameter, an ambiguous
    create, an error of ours) is final.

    Args:
        exc: What the attempt raised.
        idempotent: Whether the request may be re-sent after it reached the server.

    """
    if isinstance(exc, APIConnectionError):
        return idempotent or not exc.sent
    if isinstance(exc, APIStatusError):
        return is_retryable_status(exc.status_code, idempotent=idempotent)
    return False


class TransferHost(Protocol):
    """What a transfer outside the API requester needs of a client (uploads, downloads).

    Its transport, retry settings, timeouts and clock; the client's core provides them, so
    transfers never see the client itself.
    """

    @property
    def http(self) -> HTTPTransport:
        """The HTTP transport the transfer goes through."""
        ...

    @property
    def retry(self) -> RetryConfig:
        """The retry settings of the transfer (``max_retries`` may be overridden per call)."""
        ...

    @property
    def timeout(self) -> Timeout:
        """The request timeouts: ``connect`` bounds connecting, ``total`` a stalled read."""
        ...

    @property
    def clock(self) -> Clock:
        """The clock of the retry budget and back-offs (and of the upload URI cache)."""
        ...


async def call_with_retries(
    attempt: Callable[[float], Awaitable[_T]],
    *,
    retry: RetryConfig,
    clock: Clock,
    what: str,
    idempotent: bool = True,
    before_retry: Callable[[], object] | None = None,
    rand: Callable[[], float] | None = None,
) -> _T:
    """Run ``attempt`` until it succeeds, fails for good, or the retries run out.

    After a retryable failure (``is_retryable``), the next attempt waits for
    ``RetryConfig.backoff`` (the server's ``Retry-After`` when it sent one, capped; else
    exponential with jitter). The failure is raised instead once ``max_retries`` retries
    were made, or when waiting would reach ``max_total`` seconds since the first attempt
    (a retry left no time at all would only time out at once).

    Args:
        attempt: Makes one attempt; receives the seconds left of the budget (``max_total``
            less the time spent), which it may use to cut its own timeout.
        retry: The policy's settings.
        clock: Measures the budget and sleeps the back-offs.
        what: The request, for the log (``GET /v1/tasks/...``, ``download of https://...``).
        idempotent: Whether the request may be re-sent after it may have reached the
            server; see ``is_retryable``.
        before_retry: Called before each retry, after the back-off (a download rewinds its
            file).
        rand: Returns a number in [0, 1) for the jitter; a shared generator by default.

    Returns:
        What the successful attempt returned.

    Raises:
        Exception: What the last attempt raised.

    """
    jitter = rand if rand is not None else _rand.random
    started = clock.now()
    retries = 0
    while True:
        error: Exception
        try:
            return await attempt(retry.max_total - (clock.now() - started))
        except Exception as exc:
            if not is_retryable(exc, idempotent=idempotent):
                raise
            error = exc
        retries += 1
        if retries > retry.max_retries:
            raise error
        retry_after = error.retry_after if isinstance(error, APIStatusError) else None
        delay = retry.backoff(retries, retry_after, jitter())
        # >=: a retry left no time at all would only time out at once.
        if clock.now() - started + delay >= retry.max_total:
            raise error
        logger.info(
            "Retrying %s in %.2fs (retry %d of %d) after: %s",
            what,
            delay,
            retries,
            retry.max_retries,
            error,
        )
        await clock.sleep(delay)
        if before_retry is not None:
            before_retry()
