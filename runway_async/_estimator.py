"""How long one model's tasks take: the time at which a first poll finds most of them ended.

The watcher keeps one ``DurationEstimator`` per model and plans each new task's first poll
at its ``aim`` after creation (see ``_watcher``). Nothing here reads a clock: the watcher
passes in what it saw.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Final

from ._duration_cache import EstimatorState

__all__ = ["QUANTILE", "DurationEstimator"]

QUANTILE: Final = 0.97
"""Share of tasks the first poll should find ended."""

_STEP: Final = 0.05  # tracker step, as a fraction of the estimate
_EXPLORE_STEP: Final = 0.1  # shrink per hit while only upper bounds are known
_WARMUP: Final = 5  # exact durations whose maximum starts the estimate
_STALE_AIM: Final = 0.1  # a first poll aimed this much above the estimate still counts
_SPREAD_WINDOW: Final = 64  # unbiased exact durations kept for the spread
_CHAIN: Final = 2000  # durations drawn to find a handover point
_BISECTIONS: Final = 20  # steps of the search for it
_PERSISTED_SPREAD: Final = 16  # durations of the spread kept in the duration cache
_SPREAD_MIN: Final = 3  # fewest of them before a slot is handed over early


class DurationEstimator:
    """What one model's tasks have taken: the time at which a first poll finds most ended.

    ``aim`` estimates the 97th percentile of creation-to-end seconds. It starts from the
    first exact durations seen (the slowest of the first few), or, with only upper bounds,
    from the first bound, shrinking 10 % per first poll that found the task ended until an
    exact duration comes in. From then on a stochastic quantile tracker steps it down a
    little for each task that had ended by then and up more for one that had not, so at
    equilibrium 97 % of tasks are found ended by their first poll.

    The spread of durations comes from ``spread``: the exact durations of tasks whose polls
    were not aimed by this estimate (the first of a model, tasks created elsewhere), so the
    sample is not biased towards the tasks the aim missed. It gives ``handover(budget)``:
    the time after creation at which handing the task's slot to the next create costs that
    create ``budget`` seconds of THROTTLED wait on average (see ``_watcher``), and a floor
    under the first poll (``first_poll``).

    Attributes:
        aim: The estimate in seconds (``None`` until a task of the model was seen to end).
        exact: How many exact durations were observed.
        observed: How many ended tasks were observed in all.
        spread: The latest unbiased exact durations (at most 64), oldest first.

    """

    __slots__ = ("_cache", "_changes", "_high", "_low", "aim", "exact", "observed", "spread")

    def __init__(self) -> None:
        """Start with nothing known."""
        self.aim: float | None = None
        self.exact = 0
        self.observed = 0
        self.spread: deque[float] = deque(maxlen=_SPREAD_WINDOW)
        # What is read from the spread: ("floor", handed_over) and ("handover", budget).
        self._cache: dict[tuple[str, object], float] = {}
        self._low = self._high = 0.0  # the shortest and longest of the warm-up durations
        self._changes = 0  # durations added to the spread

    def __repr__(self) -> str:
        return f"<DurationEstimator aim={self.aim} exact={self.exact} observed={self.observed}>"

    def observe(
        self,
        *,
        duration: float | None = None,
        at_most: float | None = None,
        aim_used: float | None = None,
        unbiased: bool = False,
    ) -> None:
        """Learn from one ended task: its ``duration``, or only that it took ``at_most``.

        Args:
            duration: Seconds from creation to end, when known (to within a poll's margin).
            at_most: Otherwise, an upper bound: when the task was first seen ended.
            aim_used: The ``aim`` its first poll was planned with, if it was.
            unbiased: ``duration`` is of a task whose polls this estimate did not aim, so
                it joins ``spread``.

        """
        self.observed += 1
        if duration is not None and unbiased:
            self.spread.append(max(duration, 0.0))
            self._changes += 1
            # What is read from the spread; past 16 durations one more moves it little, so it
            # is read again after every eighth (a handover point costs a few milliseconds).
            if len(self.spread) <= _PERSISTED_SPREAD or self._changes % 8 == 0:
                self._cache.clear()
        aim = self.aim
        if duration is not None:
            duration = max(duration, 0.0)
            self.exact += 1
            if aim is None or self.exact == 1:
                self.aim = self._low = self._high = duration
                return
            if self.exact <= _WARMUP:
                # The longest so far, plus half the range seen: the first few to end are
                # the shortest, so the longest of them is short of the 97th percentile.
                self._low, self._high = min(self._low, duration), max(self._high, duration)
                self.aim = max(aim, self._high + 0.5 * (self._high - self._low))
                return
            hit = duration <= aim
        elif aim is None:
            if at_most is not None:
                self.aim = max(at_most, 0.0)
            return
        elif aim_used is not None and aim_used <= aim * (1 + _STALE_AIM):
            # Ended by a first poll aimed at (about) the current estimate. Other tasks' hits
            # lower the estimate while this one runs, so "about" allows for them.
            hit = True
        elif at_most is not None and at_most <= aim:
            hit = True
        else:
            return  # only an upper bound above the estimate: says nothing
        if hit:
            step = _EXPLORE_STEP if self.exact == 0 else _STEP * (1 - QUANTILE)
            self.aim = aim * (1.0 - step)
        else:
            self.aim = aim * (1.0 + _STEP * QUANTILE)

    def first_poll(self, *, handed_over: bool = False) -> float | None:
        """Return when to poll a new task first: ``aim``, at least the spread's 97th percentile.

        The tracker wanders around the percentile it tracks; the unbiased durations keep it
        from wandering below what was actually seen (a miss costs a poll floor of lag).

        Args:
            handed_over: The task was created early on a lent slot, timed from when the task
                before it was expected to end: that end varies as much as a duration does,
                so the floor is the 97th percentile of a duration plus that variation.

        """
        aim = self.aim
        if aim is None or not self._measured:
            return aim
        key = ("floor", handed_over)
        floor = self._cache.get(key)
        if floor is None:
            ordered = sorted(self.spread)
            if handed_over:
                mean = sum(ordered) / len(ordered)
                ordered = sorted(a + b - mean for a in ordered for b in ordered)
            floor = self._cache[key] = _quantile(ordered, QUANTILE)
        return max(aim, floor)

    @property
    def wants_samples(self) -> bool:
        """Whether the spread still needs durations (the aim is known, the spread too short)."""
        return self.aim is not None and not self._measured

    @property
    def warming_up(self) -> bool:
        """Whether the estimate still starts from the first few durations (or none)."""
        return self.exact <= _WARMUP and (self.aim is None or self.exact > 0)

    @property
    def _measured(self) -> bool:
        """Whether the aim and three unbiased durations are known."""
        return self.aim is not None and len(self.spread) >= _SPREAD_MIN

    def _sample(self) -> list[float] | None:
        """Return the sorted durations the spread is read from, if there are enough.

        ``spread``, once it holds three. (The aim's misses never join it: they are the
        long tail. Tasks too short to run at their first poll are sampled early instead,
        see the watcher.)
        """
        return sorted(self.spread) if self._measured else None

    def can_hand_over(self, budget: float) -> bool:
        """Return whether ``handover(budget)`` has an answer (cheaply: nothing is computed)."""
        return budget > 0 and self._measured

    def handover(self, budget: float) -> float | None:
        """Return when, after its start, to hand a task's slot to the next create.

        The watcher sends the next create then and expects it to start ``budget`` seconds
        after it is created (the THROTTLED wait this is timed for), and times that task's
        own handover from there: along a chain of handovers on one slot, the wait of task
        ``n + 1`` is ``max(0, wait(n) + duration(n) - budget - point)``. The point returned
        is where that chain waits ``budget`` seconds per task on average, over durations
        drawn from ``spread`` (a fixed draw, so the answer is reproducible): as early as
        that allows, so the slot idles as little as it can. ``None`` until three unbiased
        durations are known, or when ``budget`` is not positive.
        """
        if not budget > 0:
            return None
        cached = self._cache.get(("handover", budget))
        if cached is not None:
            return cached
        ordered = self._sample()
        if ordered is None:
            return None
        draw = random.Random(len(ordered))  # noqa: S311 - a fixed sample, not cryptography
        durations = [ordered[draw.randrange(len(ordered))] for _ in range(_CHAIN)]

        def mean_wait(point: float) -> float:
            wait = total = 0.0
            for duration in durations:
                wait = max(0.0, wait + duration - budget - point)
                total += wait
            return total / len(durations)

        low, high = max(0.0, ordered[0] - 2 * budget), ordered[-1]  # too early .. never waits
        if mean_wait(low) <= budget:
            high = low
        for _ in range(_BISECTIONS):
            middle = (low + high) / 2
            if mean_wait(middle) > budget:
                low = middle
            else:
                high = middle
        self._cache[("handover", budget)] = high
        return high

    # -- persistence (``_duration_cache``): apart from the learning rule above ----------

    def state(self) -> EstimatorState | None:
        """Return what was learned, to persist (``None`` while no task was seen to end)."""
        if self.aim is None:
            return None
        ordered = sorted(self.spread)
        if len(ordered) > _PERSISTED_SPREAD:  # evenly spaced order statistics stand for all
            last = len(ordered) - 1
            step = last / (_PERSISTED_SPREAD - 1)
            ordered = [ordered[round(i * step)] for i in range(_PERSISTED_SPREAD)]
        return EstimatorState(
            aim=self.aim, exact=self.exact, observed=self.observed, spread=tuple(ordered)
        )

    @classmethod
    def from_state(cls, state: EstimatorState) -> DurationEstimator:
        """Return an estimator that goes on from a persisted ``state``: its aim and counts."""
        estimator = cls()
        estimator.aim = state.aim
        estimator.exact = state.exact
        estimator.observed = state.observed
        estimator.spread.extend(state.spread)
        if len(estimator.spread) >= 1:  # the warm-up range goes on from what was seen
            estimator._low, estimator._high = min(estimator.spread), max(estimator.spread)
        else:
            estimator._low = estimator._high = state.aim
        return estimator


def _quantile(ordered: list[float], q: float) -> float:
    """Return the ``q`` quantile of sorted ``ordered`` (linear interpolation)."""
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
