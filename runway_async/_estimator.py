"""How long one model's tasks take: the time at which a first poll finds most of them ended.

The watcher keeps one ``DurationEstimator`` per model and plans each new task's first poll
at its ``aim`` after creation (see ``_watcher``). Nothing here reads a clock: the watcher
passes in what it saw.
"""

from __future__ import annotations

from typing import Final

__all__ = ["QUANTILE", "DurationEstimator"]

QUANTILE: Final = 0.97
"""Share of tasks the first poll should find ended."""

_STEP: Final = 0.05  # tracker step, as a fraction of the estimate
_EXPLORE_STEP: Final = 0.1  # shrink per hit while only upper bounds are known
_WARMUP: Final = 5  # exact durations whose maximum starts the estimate


class DurationEstimator:
    """What one model's tasks have taken: the time at which a first poll finds most ended.

    ``aim`` estimates the 97th percentile of creation-to-end seconds. It starts from the
    first exact durations seen (the slowest of the first few), or, with only upper bounds,
    from the first bound, shrinking 10 % per first poll that found the task ended until an
    exact duration comes in. From then on a stochastic quantile tracker steps it down a
    little for each task that had ended by then and up more for one that had not, so at
    equilibrium 97 % of tasks are found ended by their first poll.

    Attributes:
        aim: The estimate in seconds (``None`` until a task of the model was seen to end).
        exact: How many exact durations were observed.
        observed: How many ended tasks were observed in all.

    """

    __slots__ = ("aim", "exact", "observed")

    def __init__(self) -> None:
        """Start with nothing known."""
        self.aim: float | None = None
        self.exact = 0
        self.observed = 0

    def __repr__(self) -> str:
        return f"<DurationEstimator aim={self.aim} exact={self.exact} observed={self.observed}>"

    def observe(
        self,
        *,
        duration: float | None = None,
        at_most: float | None = None,
        aim_used: float | None = None,
    ) -> None:
        """Learn from one ended task: its ``duration``, or only that it took ``at_most``.

        Args:
            duration: Seconds from creation to end, when known (to within a poll's margin).
            at_most: Otherwise, an upper bound: when the task was first seen ended.
            aim_used: The ``aim`` its first poll was planned with, if it was.

        """
        self.observed += 1
        aim = self.aim
        if duration is not None:
            duration = max(duration, 0.0)
            self.exact += 1
            if aim is None or self.exact == 1:
                self.aim = duration
                return
            if self.exact <= _WARMUP:
                self.aim = max(aim, duration)
                return
            hit = duration <= aim
        elif aim is None:
            if at_most is not None:
                self.aim = max(at_most, 0.0)
            return
        elif aim_used is not None and aim_used <= aim * (1 + 1e-9):
            hit = True  # ended by a first poll aimed no later than the current estimate
        elif at_most is not None and at_most <= aim:
            hit = True
        else:
            return  # only an upper bound above the estimate: says nothing
        if hit:
            step = _EXPLORE_STEP if self.exact == 0 else _STEP * (1 - QUANTILE)
            self.aim = aim * (1.0 - step)
        else:
            self.aim = aim * (1.0 + _STEP * QUANTILE)
