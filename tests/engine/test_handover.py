"""Early handover of a slot: the estimator's handover point, ``Limiter.lend`` and its timing.

A slot is lent to the next create when its task is expected to end within about one create
round trip, so the server starts the next task the moment the old one ends (see
``_watcher``). When the watcher lends is tested on virtual time in
``test_watcher_schedule.py`` (``TestWatcherHandover``); the wall time and THROTTLED seconds
it yields are measured by ``nox -s bench``.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from runway_async import SucceededTask
from runway_async._estimator import DurationEstimator
from runway_async._limits import InProcessLimiter, Slot

from .conftest import ClientFactory, EmulatorFactory, fast_poll, image

MODEL = "gen4_image"


class TestEstimator:
    """``DurationEstimator.handover``: the earliest time whose mean THROTTLED wait is the budget."""

    def test_nothing_before_three_unbiased_durations(self) -> None:
        estimator = DurationEstimator()
        estimator.observe(duration=8.0, unbiased=True)
        estimator.observe(duration=9.0, unbiased=True)
        estimator.observe(duration=7.0)  # aimed by the estimate: not part of the spread
        assert estimator.aim is not None
        assert estimator.handover(0.25) is None
        estimator.observe(duration=8.5, unbiased=True)
        assert estimator.handover(0.25) is not None
        assert estimator.handover(0.0) is None  # a zero budget turns it off

    @staticmethod
    def chain(durations: list[float], budget: float, point: float) -> tuple[float, float]:
        """Return the mean THROTTLED wait and idle time per task along one slot.

        20,000 tasks of random durations (another draw than the estimator's): each next
        create goes out at the previous task's expected start + ``point`` and is expected
        to start ``budget`` after it is created.
        """
        rng = random.Random(5)
        wait = total = idle = 0.0
        for _ in range(20_000):
            gap = wait + rng.choice(durations) - budget - point
            idle += max(0.0, -gap)
            wait = max(0.0, gap)
            total += wait
        return total / 20_000, idle / 20_000

    @pytest.mark.parametrize("budget", [0.05, 0.2, 0.5, 1.0])
    def test_a_chain_of_handovers_waits_the_budget_on_average(self, budget: float) -> None:
        estimator = DurationEstimator()
        durations = [7.7 + 0.1 * n for n in range(17)]  # 7.7 .. 9.3
        for duration in durations:
            estimator.observe(duration=duration, unbiased=True)
        point = estimator.handover(budget)
        later = estimator.handover(budget / 2)
        assert point is not None
        assert later is not None
        assert later > point  # less waiting: later
        assert estimator.handover(budget) == point  # cached until the spread changes
        wait, idle = self.chain(durations, budget, point)
        assert wait == pytest.approx(budget, rel=0.25)
        assert idle < self.chain(durations, budget / 2, later)[1]  # waiting buys slot time

    def test_equal_durations_hand_over_one_budget_before_the_end(self) -> None:
        """Every task takes 8 s: the next create goes out 1 s early and waits 1 s."""
        estimator = DurationEstimator()
        for duration in (8.0, 8.0, 8.0):
            estimator.observe(duration=duration, unbiased=True)
        assert estimator.handover(1.0) == pytest.approx(7.0, abs=0.01)

    def test_hits_of_polls_aimed_a_little_higher_still_count(self) -> None:
        """Other tasks' hits lower the aim while a task runs; its own hit still counts."""
        estimator = DurationEstimator()
        for _ in range(5):
            estimator.observe(duration=10.0)
        assert estimator.aim == 10.0
        estimator.observe(at_most=9.0, aim_used=10.0)
        lowered = estimator.aim
        assert lowered is not None
        assert lowered < 10.0
        estimator.observe(at_most=11.0, aim_used=10.0)  # aimed above the lowered estimate
        assert estimator.aim == pytest.approx(lowered * (1 - 0.0015))
        estimator.observe(at_most=12.0, aim_used=12.0)  # aimed far above: says nothing
        assert estimator.aim == pytest.approx(lowered * (1 - 0.0015))


class TestLimiterLend:
    """``InProcessLimiter.lend``: one more create through per lent slot, no more."""

    async def test_a_lent_slot_lets_the_next_create_through_once(self) -> None:
        limiter = InProcessLimiter()
        held = limiter.try_acquire(MODEL, limit=1)
        assert held is not None
        first = asyncio.ensure_future(limiter.acquire(MODEL, limit=1))
        second = asyncio.ensure_future(limiter.acquire(MODEL, limit=1))
        await asyncio.sleep(0)
        assert limiter.waiting(MODEL) == 2
        held.ends_at = 123.0
        limiter.lend(held)
        limiter.lend(held)  # idempotent
        early = await asyncio.wait_for(first, 5)
        assert early.starts_at == 123.0  # it can expect to start when the lender ends
        assert limiter.in_use(MODEL) == 2
        assert limiter.waiting(MODEL) == 1
        limiter.release(held)  # its early create already took the place it frees
        await asyncio.sleep(0)
        assert not second.done()
        assert limiter.in_use(MODEL) == 1
        limiter.release(early)
        later = await asyncio.wait_for(second, 5)
        assert later.starts_at is None
        limiter.release(later)
        assert limiter.in_use(MODEL) == 0

    async def test_a_lent_slot_with_nobody_waiting_lets_the_next_acquire_in(self) -> None:
        limiter = InProcessLimiter()
        held = limiter.try_acquire(MODEL, limit=1)
        assert held is not None
        assert limiter.try_acquire(MODEL, limit=1) is None
        limiter.lend(held)
        early = limiter.try_acquire(MODEL, limit=1)
        assert early is not None
        assert limiter.try_acquire(MODEL, limit=1) is None  # one early create per slot
        limiter.release(held)
        limiter.release(early)
        assert limiter.in_use(MODEL) == 0

    def test_a_released_slot_is_not_lent(self) -> None:
        limiter = InProcessLimiter()
        held = limiter.try_acquire(MODEL, limit=1)
        assert held is not None
        limiter.release(held)
        limiter.lend(held)
        assert not held.lent
        again = limiter.try_acquire(MODEL, limit=1)
        assert again is not None
        assert limiter.try_acquire(MODEL, limit=1) is None


class CountingLimiter(InProcessLimiter):
    """The default limiter, counting the slots lent to it."""

    def __init__(self) -> None:
        super().__init__()
        self.lends = 0

    def lend(self, slot: Slot) -> None:
        self.lends += 1
        super().lend(slot)


class TestOnTheEmulator:
    """The official pattern with handover on: slots pass early, tasks wait only briefly."""

    async def test_slots_are_handed_over_before_their_tasks_end(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        limiter = CountingLimiter()
        poll = fast_poll(handover=None)  # the default budget: 0.2 API seconds
        async with (
            start_emulator(concurrency=3) as emu,
            make_client(emu, limiter=limiter, poll=poll) as client,
        ):
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(30))
            )
            done = await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
            metrics = emu.metrics(tasks=True)
        assert all(isinstance(task, SucceededTask) for task in done)
        assert metrics["tasks_created_total"] == 30
        assert metrics["duplicate_creates"] == 0
        assert metrics["max_running"]["gen4_image"] <= 3
        assert limiter.lends > 0  # handed over early, not only when seen to end
        assert limiter.in_use("gen4_image") == 0
        # THROTTLED briefly: on average well under half a task's duration (a lend at
        # creation would make it about a whole one).
        durations = [t["duration"] for t in metrics["tasks"].values()]
        mean_duration = sum(durations) / len(durations)
        assert metrics["throttled_seconds"]["total"] / 30 < 0.5 * mean_duration
