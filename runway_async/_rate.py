"""A budget of requests per second (a token bucket) on the engine's clock."""

from __future__ import annotations

from ._clock import SYSTEM_CLOCK, Clock

__all__ = ["RateBudget"]


class RateBudget:
    """``rate`` requests per second, up to ``burst`` at once after a quiet spell.

    A token bucket: it holds at most ``burst`` tokens (by default one second's worth, and
    at least one), refills at ``rate`` per second of ``clock`` time, and each request
    spends one. Not thread-safe (used from one event loop).

    Args:
        rate: Tokens added per second (> 0).
        burst: Most tokens held (default ``max(1, rate)``).
        clock: The clock refills are measured on.

    """

    __slots__ = ("_burst", "_clock", "_rate", "_stamp", "_tokens")

    def __init__(
        self, rate: float, *, burst: float | None = None, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        """Start full."""
        if not rate > 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        self._rate = float(rate)
        self._burst = max(1.0, self._rate) if burst is None else float(burst)
        self._clock = clock
        self._tokens = self._burst
        self._stamp = clock.now()

    def __repr__(self) -> str:
        return f"<RateBudget rate={self._rate} burst={self._burst}>"

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    @property
    def burst(self) -> float:
        """Most tokens held."""
        return self._burst

    def wait_time(self) -> float:
        """Return seconds until a token is available (0 when one is)."""
        now = self._clock.now()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate

    def take(self) -> None:
        """Spend one token (after ``wait_time`` said one is there)."""
        self._tokens -= 1.0
