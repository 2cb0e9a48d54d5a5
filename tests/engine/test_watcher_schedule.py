"""The watcher's timing decisions on virtual time: when each task is polled, and why.

Every test drives a ``TaskWatcher`` on a ``VirtualClock`` with a fake ``fetch`` that answers
from scripted task timelines (no emulator, no network, no real time), and checks the exact
virtual times of the GETs. A verdict here cannot depend on the machine's load; the lag and
GET counts these decisions yield in practice are measured by ``nox -s bench``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime, timezone
from typing import Any, cast

import attrs
import pytest

from runway_async._clock import VirtualClock
from runway_async._config import PollConfig
from runway_async._exceptions import (
    APIConnectionError,
    APIStatusError,
    NotFoundError,
    RateLimitError,
    TaskTimeoutError,
)
from runway_async._limits import Limiter, Slot
from runway_async._models import (
    PendingTask,
    RunningTask,
    SucceededTask,
    Task,
    ThrottledTask,
)
from runway_async._rate import RateBudget
from runway_async._watched import EarlyLook, Phase, WatchedTask
from runway_async._watcher import TaskWatcher

T0 = 1000.0  # the virtual clock's start: every task time below is T0 + seconds
MODEL = "gen4_image"
# Production-like settings, given explicitly (so the testing switch leaves them alone);
# no jitter unless a test says, so every planned time is exact.
POLL = PollConfig(min_interval=5.0, jitter=0.0)  # max_interval: 6 * 5 = 30 s


@attrs.define
class Script:
    """One task's life on the fake server, in virtual seconds.

    THROTTLED until ``throttled_until``, PENDING until ``started``, RUNNING until ``end``
    (reporting linear progress if ``progress``), then SUCCEEDED. ``latency``: seconds each
    GET of it takes (the reply reflects the state when the GET arrived).
    """

    end: float
    throttled_until: float | None = None
    started: float | None = None
    progress: bool = True
    created: float = T0
    latency: float = 0.0

    def task(self, task_id: str, now: float) -> Task:
        """Return the task as a GET arriving at ``now`` finds it."""
        created_at = datetime(2025, 1, 1, tzinfo=timezone.utc)
        if now >= self.end:
            return SucceededTask(id=task_id, created_at=created_at, output=("https://o/x.png",))
        if self.throttled_until is not None and now < self.throttled_until:
            return ThrottledTask(id=task_id, created_at=created_at)
        started = self.started
        if started is None:
            started = self.throttled_until if self.throttled_until is not None else self.created
        if now < started:
            return PendingTask(id=task_id, created_at=created_at)
        progress = (now - started) / (self.end - started) if self.progress else None
        return RunningTask(id=task_id, created_at=created_at, progress=progress)


class FakeAPI:
    """Answers the watcher's GETs from scripts, recording when each was sent."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.scripts: dict[str, Script] = {}
        self.errors: dict[str, list[Exception]] = defaultdict(list)
        self.sent: dict[str, list[float]] = defaultdict(list)
        self.out = 0
        self.most_out = 0

    def script(self, task_id: str, **timeline: Any) -> None:
        """Script a task; times are seconds after ``T0``."""
        for key in ("end", "throttled_until", "started", "created"):
            if timeline.get(key) is not None:
                timeline[key] = T0 + timeline[key]
        self.scripts[task_id] = Script(**timeline)

    def fail(self, task_id: str, *errors: Exception) -> None:
        """Make the next GETs of ``task_id`` fail with ``errors``, one each."""
        self.errors[task_id].extend(errors)

    def times(self, task_id: str) -> list[float]:
        """Return when each GET of ``task_id`` was sent, in seconds after ``T0``."""
        return [round(at - T0, 9) for at in self.sent[task_id]]

    async def fetch(self, task_id: str) -> Task:
        """One GET: the state at arrival, after the script's latency."""
        now = self.clock.now()
        self.sent[task_id].append(now)
        self.out += 1
        self.most_out = max(self.most_out, self.out)
        try:
            script = self.scripts.get(task_id)
            if script is not None and script.latency:
                await self.clock.sleep(script.latency)
            if self.errors[task_id]:
                raise self.errors[task_id].pop(0)
            if script is None:
                raise NotFoundError("no such task", status_code=404)
            return script.task(task_id, now)
        finally:
            self.out -= 1


class FakeLimiter:
    """The part of a ``Limiter`` the watcher uses, recording the calls."""

    def __init__(self) -> None:
        self.released: list[tuple[Slot, float]] = []
        self.stale = 0
        self.hooks: dict[str | None, Callable[[], None]] = {}
        self.lent: list[tuple[Slot, float]] = []
        self.clock: VirtualClock | None = None

    def release(self, slot: Slot, *, after: float = 0.0, created: bool = True) -> None:
        self.released.append((slot, after))

    def mark_stale(self) -> None:
        self.stale += 1

    def notify_when_wanted(self, slot: Slot, callback: Callable[[], None]) -> None:
        self.hooks[slot.task_id] = callback

    def lend(self, slot: Slot) -> None:
        slot.lent = True
        self.lent.append((slot, self.clock.now() if self.clock is not None else 0.0))


Make = Callable[..., TaskWatcher]


@pytest.fixture
def clock() -> VirtualClock:
    """Return a virtual clock at ``T0``."""
    return VirtualClock(T0)


@pytest.fixture
def api(clock: VirtualClock) -> FakeAPI:
    """Return a fake API on the virtual clock."""
    return FakeAPI(clock)


@pytest.fixture
async def make(clock: VirtualClock, api: FakeAPI) -> AsyncIterator[Make]:
    """Return a factory of watchers polling ``api`` on ``clock``; closes them afterwards."""
    made: list[TaskWatcher] = []

    def build(**options: Any) -> TaskWatcher:
        options.setdefault("poll", POLL)
        options.setdefault("rand", random.Random(7))
        # Tasks run from creation (no pending time), known: no probes unless a test says.
        options.setdefault("pending", {MODEL: 0.0})
        watcher = TaskWatcher(fetch=api.fetch, clock=clock, **options)
        made.append(watcher)
        return watcher

    yield build
    for watcher in made:
        await watcher.aclose()


async def run(clock: VirtualClock, *waits: Awaitable[Any], limit: float = 10_000.0) -> list[Any]:
    """Drive the clock until every wait is done; return their outcomes (errors included)."""
    gathered = asyncio.gather(*waits, return_exceptions=True)
    await clock.run_until_done(gathered, limit=limit)
    return list(gathered.result())


def create(watcher: TaskWatcher, *task_ids: str, model: str = MODEL) -> None:
    """Register tasks as created now by this client (no slot)."""
    for task_id in task_ids:
        watcher.register_created(task_id, model=model, slot=None)


def waits(watcher: TaskWatcher, task_ids: Iterable[str], **options: Any) -> list[Awaitable[Task]]:
    """Return waits (no deadline unless given) for ``task_ids``."""
    options.setdefault("timeout", None)
    return [watcher.wait(t, poll=POLL, **options) for t in task_ids]


def status(code: int, retry_after: float | None = None) -> APIStatusError:
    """Return a poll failure with HTTP status ``code``."""
    cls = RateLimitError if code == 429 else APIStatusError
    return cls(f"HTTP {code}", status_code=code, retry_after=retry_after)


class TestFirstPoll:
    """When a task this client created is first polled."""

    async def test_cold_start_polls_at_the_floor(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Nothing learned about the model: polls every min_interval from creation.

        (While RUNNING without progress the end cannot be estimated either.)
        """
        watcher = make()
        api.script("a", end=12.0, progress=False)
        create(watcher, "a")
        [done] = await run(clock, *waits(watcher, ["a"]))
        assert isinstance(done, SucceededTask)
        assert api.times("a") == [5.0, 10.0, 15.0]
        assert clock.now() == T0 + 15.0

    async def test_a_task_created_elsewhere_is_looked_at_at_once(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """A wait for a task this client did not create polls it right away."""
        watcher = make()
        api.script("x", end=0.0)
        await clock.advance(3.0)
        [done] = await run(clock, *waits(watcher, ["x"]))
        assert done.id == "x"
        assert api.times("x") == [3.0]

    async def test_after_learning_the_first_poll_lands_just_after_the_end(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Once the model's durations are learned, one GET finds a task ended, soon after.

        (This replaces the real-time ``test_detection_lag_is_small_once_learned``.)
        """
        watcher = make(poll=PollConfig(min_interval=5.0, jitter=0.02))
        durations = [7.6, 8.0, 8.4, 7.8, 8.2]
        for n, duration in enumerate(durations):
            api.script(f"w{n}", end=duration)
        create(watcher, *(f"w{n}" for n in range(5)))
        await run(clock, *waits(watcher, (f"w{n}" for n in range(5))))
        # Each was seen RUNNING at 5 s (progress gave its exact end) and ended at 10 s.
        assert all(api.times(f"w{n}") == [5.0, 10.0] for n in range(5))
        # The slowest seen plus half the range: the first five to end are the shortest.
        learned = max(durations) + 0.5 * (max(durations) - min(durations))
        assert watcher.expected_duration(MODEL) == pytest.approx(learned)

        created = clock.now() - T0
        api.script("next", end=created + 8.0, created=created)
        create(watcher, "next")
        [done] = await run(clock, *waits(watcher, ["next"]))
        assert done.id == "next"
        [first] = api.times("next")  # one GET was enough
        lag = first - (created + 8.0)
        # At the learned end plus at most 2 % jitter: under a second, not a poll interval.
        assert learned - 8.0 - 1e-9 <= lag <= learned - 8.0 + 0.02 * learned + 1e-9

    async def test_priors_are_learned(self, clock: VirtualClock, api: FakeAPI, make: Make) -> None:
        """Waves of similar tasks: GETs per task fall to about one, lag stays small."""
        watcher = make(poll=PollConfig(min_interval=5.0, jitter=0.02))
        rng = random.Random(11)
        per_wave: list[float] = []
        lags: list[float] = []
        for wave in range(6):
            start = clock.now() - T0
            ids = [f"t{wave}-{n}" for n in range(10)]
            ends = {}
            for task_id in ids:
                ends[task_id] = start + 8.0 * (0.9 + 0.2 * rng.random())  # 8 s +-10 %
                api.script(task_id, end=ends[task_id], created=start)
            create(watcher, *ids)
            await run(clock, *waits(watcher, ids))
            per_wave.append(sum(len(api.sent[t]) for t in ids) / len(ids))
            if wave >= 3:
                lags += [api.times(t)[-1] - ends[t] for t in ids]
        assert per_wave[0] == 2.0  # cold: the floor, then the extrapolated end
        assert all(gets <= 1.2 for gets in per_wave[3:]), per_wave
        assert statistics.median(lags) <= 0.15 * 8.0, lags
        assert max(lags) <= 5.0 + 1e-9, lags  # a miss costs at most one more floor


class TestFirstPollPlan:
    """Where the watcher plans a task's first poll, on controlled inputs.

    The detection lag this planning yields is measured by the benchmarks (``nox -s bench``
    reports lag p50/p95); here only the decision is checked, so load cannot fail it.
    """

    POLL = PollConfig(min_interval=5.0, jitter=0.02)  # production-like, set explicitly
    MODEL = "gen4_image"

    @pytest.fixture
    async def watcher(self, make: Make) -> TaskWatcher:
        """Return a watcher whose planning is exercised directly (it sends nothing)."""
        return make(poll=self.POLL, rand=random.Random(3))

    def new_task(self, created: float) -> WatchedTask:
        """Return the record of a task of MODEL created at ``created`` (clock seconds)."""
        return WatchedTask("t", model=self.MODEL, created=created, poll=self.POLL, slot=None)

    def warm_up(self, watcher: TaskWatcher, durations: list[float]) -> None:
        """Let the watcher learn ended tasks, each seen just after its end, as polls find them."""
        for index, duration in enumerate(durations):
            created = 1000.0 * index
            entry = self.new_task(created)
            entry.lo = created + 0.99 * duration  # its last GET that found it still running
            watcher._learn(entry, created + 1.01 * duration)

    def test_cold_start_looks_at_the_poll_floor(self, watcher: TaskWatcher) -> None:
        """With nothing learned about the model, the first poll is min_interval after creation."""
        assert watcher._plan(self.new_task(50.0), now=50.0) == 50.0 + self.POLL.min_interval

    def test_first_poll_is_planned_just_after_the_learned_end(self, watcher: TaskWatcher) -> None:
        """After warm-up, the first poll is planned after most tasks have ended, not long after."""
        rng = random.Random(11)
        durations = [8.0 * (0.9 + 0.2 * rng.random()) for _ in range(40)]  # 8 s +-10%
        self.warm_up(watcher, durations)
        expected = watcher.expected_duration(self.MODEL)
        assert expected <= 1.1 * max(durations)  # near the slowest seen, not beyond
        created = 50_000.0
        planned = watcher._plan(self.new_task(created), now=created)
        # Planned at the learned end, plus at most the jitter that spreads a fleet of tasks.
        assert created + expected <= planned <= created + expected * (1 + self.POLL.jitter)
        # After the end of nearly every task like the ones seen (the aim is a high quantile)...
        ended = sum(created + d <= planned for d in durations)
        assert ended >= 0.9 * len(durations)
        # ...yet soon after it: a small fraction of a task's duration, not a poll interval.
        median = statistics.median(durations)
        assert planned - (created + median) <= 0.15 * median
        assert planned - created < self.POLL.min_interval + median

    def test_a_plan_in_the_past_is_now(self, watcher: TaskWatcher) -> None:
        """A task whose learned end has already passed is polled at once, never in the past."""
        self.warm_up(watcher, [8.0] * 6)
        assert watcher._plan(self.new_task(0.0), now=100.0) == 100.0


class TestRunning:
    """Polls of a RUNNING task aim just after its extrapolated end."""

    async def test_progress_is_extrapolated(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Progress gives the end; the next poll aims 0.5 % of the duration past it.

        At most max_interval after the previous one. With the model's pending time known
        (here: none), one sample is enough even early on; without it, an early sample is not
        trusted and the rate comes from two.
        """
        watcher = make(poll=PollConfig(min_interval=5.0, max_interval=60.0, jitter=0.0))
        api.script("a", end=100.0)
        create(watcher, "a")
        await run(clock, *waits(watcher, ["a"]))
        # 5: 5 % done, from creation: end at 100 -> capped at 5 + 60; 65: 100 + 0.5.
        assert api.times("a") == pytest.approx([5.0, 65.0, 100.5])

        api.script("b", end=clock.now() - T0 + 100.0, created=clock.now() - T0)
        unknown = make(poll=PollConfig(min_interval=5.0, max_interval=60.0, jitter=0.0))
        unknown._pending.clear()
        unknown._looks[MODEL] = 2  # its probes were spent: looked at after one floor
        start = clock.now() - T0
        create(unknown, "b")
        await run(clock, *waits(unknown, ["b"]))
        # 5: too early to guess; 10: two samples, end at 100 -> capped at 10 + 60; 70: 100.5.
        times = [round(t - start, 6) for t in api.times("b")]
        assert times == pytest.approx([5.0, 10.0, 70.0, 100.5])

    async def test_one_sample_far_enough_in_is_extrapolated_from_the_start(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """One sample past 25 % and the known start suffice; below 25 % a second is taken."""
        watcher = make()
        api.script("a", end=16.0)  # 5 / 16 = 31 % at the first poll
        create(watcher, "a")
        await run(clock, *waits(watcher, ["a"]))
        assert api.times("a") == pytest.approx([5.0, 16.0 + 0.005 * 16.0])

    async def test_pending_then_running_starts_the_clock_late(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Time spent PENDING is not taken for progress: the start is the last PENDING poll."""
        watcher = make()
        api.script("a", started=6.0, end=14.0)
        create(watcher, "a")
        await run(clock, *waits(watcher, ["a"]))
        # 5: PENDING, so it starts after 5; 10: RUNNING 50 %, so it takes (10 - 5) / 0.5 = 10 s
        # and ends at 15 (from creation it would be 20 s, ending at 20): polled at 15.05.
        assert api.times("a") == pytest.approx([5.0, 10.0, 15.0 + 0.005 * 10.0])


class TestFloor:
    """Never two GETs of one task less than min_interval apart."""

    async def test_min_interval_holds_for_every_task(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Errors (with short Retry-After), early looks and pokes never beat the floor."""
        watcher = make()
        rng = random.Random(5)
        ids = [f"t{n}" for n in range(9)]
        for n, task_id in enumerate(ids):
            queued = 0.0 if n < 3 else 10.0 * (n - 2)  # three run, the rest queue
            api.script(task_id, throttled_until=queued or None, end=queued + 12.0)
            if n % 2:
                api.fail(task_id, status(503, retry_after=0.5), APIConnectionError("reset"))
        create(watcher, *ids)
        pending = asyncio.gather(*waits(watcher, ids))
        for _ in range(40):  # poke random tasks now and then, as cancels would
            await clock.advance(rng.uniform(0.5, 3.0))
            watcher.poke(rng.choice(ids))
        await clock.run_until_done(pending, limit=1000.0)
        for task_id in ids:
            gaps = [b - a for a, b in itertools.pairwise(api.sent[task_id])]
            assert gaps
            assert min(gaps) >= 5.0 - 1e-9, (task_id, gaps)


class TestThrottled:
    """THROTTLED tasks: slow polls, and an early look when a sibling ends."""

    async def test_throttled_task_is_polled_when_a_sibling_ends(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Queued tasks are polled every max_interval, and at once when one of ours ends."""
        watcher = make()
        api.script("a", end=20.0, progress=False)
        api.script("b", created=0.1, throttled_until=20.0, end=40.0, progress=False)
        api.script("c", created=0.2, throttled_until=40.0, end=60.0, progress=False)
        for task_id in "abc":
            create(watcher, task_id)
            await clock.advance(0.1)
        await run(clock, *waits(watcher, "abc"))
        assert api.times("a") == [5.0, 10.0, 15.0, 20.0]
        # b: THROTTLED at 5.1, next slow poll due at 35.1, but a ended at 20: looked at then.
        assert api.times("b") == pytest.approx([5.1, 20.0, 25.0, 30.0, 35.0, 40.0])
        # c: slow polls (5.2, 35.2), then b's end at 40 (c's floor: 40.2).
        assert api.times("c") == pytest.approx([5.2, 35.2, 40.2, 45.2, 50.2, 55.2, 60.2])

    async def test_the_early_look_passes_on_when_the_slot_went_elsewhere(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """An early look that finds the task still queued passes to the next one in line."""
        watcher = make()
        api.script("a", end=20.0, progress=False)
        api.script("b", created=0.1, throttled_until=50.0, end=70.0, progress=False)
        api.script("c", created=0.2, throttled_until=20.0, end=40.0, progress=False)
        for task_id in "abc":
            create(watcher, task_id)
            await clock.advance(0.1)
        await run(clock, *waits(watcher, "abc"))
        # a ends at 20: b (oldest) looks, still queued, so c looks too, and is running.
        assert api.times("c") == pytest.approx([5.2, 20.0, 25.0, 30.0, 35.0, 40.0])
        # c ends at 40: b looks again (still queued until 50), then slow polls.
        assert api.times("b") == pytest.approx([5.1, 20.0, 40.0, 70.0])

    async def test_a_sibling_ending_during_a_get_makes_the_next_poll_early(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """The GET out when the sibling ended may predate the freed slot: the next is early."""
        watcher = make()
        api.script("a", end=36.0, progress=False)  # seen ended at 40
        api.script("b", created=0.1, throttled_until=40.0, end=60.0, progress=False, latency=10.0)
        create(watcher, "a")
        await clock.advance(0.1)
        create(watcher, "b")
        await run(clock, *waits(watcher, "ab"))
        assert api.times("a") == [5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0]
        # b: THROTTLED at 5.1 (answered at 15.1), slow poll at 35.1, out until 45.1 and
        # THROTTLED; a ended at 40 meanwhile, so the next GET goes at once (45.1), not at the
        # slow pace (65.1).
        assert api.times("b") == pytest.approx([5.1, 35.1, 45.1, 55.1, 65.1])

    async def test_a_throttled_task_marks_the_limiter_stale(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """A task our limiter let through but the server queued makes it refresh its limits."""
        limiter = FakeLimiter()
        watcher = make(limiter=cast(Limiter, limiter))
        api.script("a", throttled_until=10.0, end=12.0, progress=False)
        slot = Slot(MODEL)
        watcher.register_created("a", model=MODEL, slot=slot)
        await run(clock, *waits(watcher, "a"))
        assert limiter.stale == 1
        assert limiter.released == [(slot, 0.0)]


class TestErrors:
    """Poll failures: back-off, Retry-After, and what ends a wait."""

    async def test_backoff_doubles_from_the_floor_up_to_max_interval(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Retryable failures in a row: 5, 10, 20, then max_interval (30) between GETs."""
        watcher = make()
        api.script("a", end=72.0, progress=False)
        api.fail("a", status(503), status(502), APIConnectionError("reset"), status(408))
        create(watcher, "a")
        [done] = await run(clock, *waits(watcher, "a"))
        assert isinstance(done, SucceededTask)
        assert api.times("a") == [5.0, 10.0, 20.0, 40.0, 70.0, 75.0]

    async def test_retry_after_is_honoured_up_to_max_interval(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """A Retry-After longer than the back-off is waited out, at most max_interval."""
        limiter = FakeLimiter()
        watcher = make(limiter=cast(Limiter, limiter))
        api.script("a", end=52.0, progress=False)
        api.fail("a", status(503, retry_after=17.0), status(429, retry_after=100.0))
        create(watcher, "a")
        await run(clock, *waits(watcher, "a"))
        assert api.times("a") == [5.0, 22.0, 52.0]
        assert limiter.stale == 1  # the 429

    async def test_a_final_error_ends_every_wait_after_one_get(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """A 404 ends all waits of the task with NotFoundError."""
        watcher = make()
        outcomes = await run(clock, *waits(watcher, ["gone"] * 3))
        assert all(isinstance(o, NotFoundError) for o in outcomes)
        assert api.times("gone") == [0.0]


class TestBudget:
    """The watcher-wide limits: GETs per second and GETs in flight."""

    async def test_gets_stay_within_the_request_budget(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Ten polls due together at 2 GETs/s: a burst of two, then one every half second."""
        watcher = make(poll=PollConfig(min_interval=5.0, jitter=0.0, requests_per_second=2.0))
        ids = [f"t{n}" for n in range(10)]
        for task_id in ids:
            api.script(task_id, end=1.0)
        create(watcher, *ids)
        await run(clock, *waits(watcher, ids))
        sent = sorted(at for task_id in ids for at in api.times(task_id))
        assert sent == [5.0, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0]

    async def test_gets_in_flight_are_bounded(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Twelve polls due together, 3 in flight at most, each GET taking 2 s."""
        watcher = make(poll=PollConfig(min_interval=5.0, jitter=0.0, max_in_flight=3))
        ids = [f"t{n}" for n in range(12)]
        for task_id in ids:
            api.script(task_id, end=1.0, latency=2.0)
        create(watcher, *ids)
        await run(clock, *waits(watcher, ids))
        assert api.most_out == 3
        sent = sorted(at for task_id in ids for at in api.times(task_id))
        assert sent == [5.0] * 3 + [7.0] * 3 + [9.0] * 3 + [11.0] * 3

    def test_rate_budget_refills_on_its_clock(self, clock: VirtualClock) -> None:
        """The token bucket: full at start, refilled at its rate, capped at its burst."""
        budget = RateBudget(4.0, clock=clock)
        assert budget.burst == 4.0
        for _ in range(4):
            assert budget.wait_time() == 0.0
            budget.take()
        assert budget.wait_time() == 0.25
        clock._now += 10.0  # long idle: refills to the burst, not beyond
        for _ in range(4):
            assert budget.wait_time() == 0.0
            budget.take()
        assert budget.wait_time() == 0.25


class TestInterest:
    """Only tasks someone needs are polled."""

    async def test_tasks_nobody_watches_are_never_polled(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Fire-and-forget creates cost no GET, however long they are left."""
        watcher = make()
        for task_id in "abc":
            api.script(task_id, end=8.0)
        create(watcher, *"abc")
        await clock.advance(1000.0)
        assert not api.sent
        assert watcher.tracked == 3

    async def test_a_wanted_slot_gets_its_task_polled(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Once a create queues for its slot, the task is polled and the slot freed at its end."""
        limiter = FakeLimiter()
        watcher = make(limiter=cast(Limiter, limiter))
        api.script("a", end=12.0, progress=False)
        slot = Slot(MODEL)
        watcher.register_created("a", model=MODEL, slot=slot)
        await clock.advance(100.0)
        assert not api.sent
        limiter.hooks["a"]()  # another create waits for a slot of MODEL
        await clock.advance(100.0)
        assert api.times("a") == [100.0]  # ended long ago: one look, at once
        assert limiter.released == [(slot, 0.0)]
        assert watcher.tracked == 0

    async def test_deadline_raises_with_the_last_task(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """A wait past its deadline (on the watcher's clock) raises with the last task seen.

        Once nobody waits, the task is not polled any more.
        """
        watcher = make()
        api.script("a", end=10_000.0, progress=False)
        create(watcher, "a")
        [outcome] = await run(clock, *waits(watcher, ["a"], timeout=12.0))
        assert isinstance(outcome, TaskTimeoutError)
        assert isinstance(outcome, TimeoutError)
        assert isinstance(outcome.task_details, RunningTask)
        assert "did not end within 12.0 s (last status: RUNNING)" in str(outcome)
        assert clock.now() == T0 + 12.0
        await clock.advance(1000.0)
        assert api.times("a") == [5.0, 10.0]

    async def test_a_poke_looks_at_once(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """After a cancel, the task is polled at the earliest allowed moment."""
        watcher = make()
        api.script("a", throttled_until=1000.0, end=2000.0)
        create(watcher, "a")
        waiting = asyncio.gather(*waits(watcher, "a"))
        await clock.advance(12.0)  # THROTTLED at 5: next slow poll at 35
        watcher.poke("a")
        await clock.advance(1.0)
        assert api.times("a") == [5.0, 12.0]
        watcher.poke("a")  # at 13: the floor holds (12 + 5)
        await clock.advance(10.0)
        assert api.times("a") == [5.0, 12.0, 17.0]
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting


class TestWatchedTask:
    """The phase of a watched task and its allowed moves."""

    def test_a_poll_cycle(self) -> None:
        """IDLE -> SCHEDULED (-> SCHEDULED) -> IN_FLIGHT -> IDLE -> ENDED."""
        entry = WatchedTask("t", model=None, created=None, poll=POLL, slot=None)
        assert entry.phase is Phase.IDLE
        first = entry.schedule()
        second = entry.schedule()  # planned again: the first heap item is stale
        assert not entry.is_current(first)
        assert entry.is_current(second)
        entry.send()
        assert entry.phase is Phase.IN_FLIGHT
        assert not entry.is_current(second)
        entry.answered()
        entry.end()
        entry.end()  # idempotent
        assert entry.phase is Phase.ENDED

    @pytest.mark.parametrize(
        ("path", "illegal"),
        [
            ([], Phase.IN_FLIGHT),  # a GET without a plan
            (["schedule", "send"], Phase.SCHEDULED),  # planned while a GET is out
            (["schedule", "send"], Phase.ENDED),  # dropped while a GET is out
            (["end"], Phase.SCHEDULED),  # polled after it ended
            (["end"], Phase.IDLE),
        ],
    )
    def test_illegal_moves_raise(self, path: list[str], illegal: Phase) -> None:
        """A move the watcher never makes is a bug, reported at once."""
        entry = WatchedTask("t", model=None, created=None, poll=POLL, slot=None)
        for step in path:
            getattr(entry, step)()
        with pytest.raises(AssertionError, match="no move"):
            entry.move(illegal)

    def test_early_looks(self) -> None:
        """An early look asked now, and one asked for after the GET out, are used in turn."""
        entry = WatchedTask("t", model=None, created=None, poll=POLL, slot=None)
        entry.schedule()
        entry.send()
        entry.ask_look_after()
        assert entry.look is EarlyLook.NEXT
        assert entry.owes_look
        assert not entry.early  # the GET out is not the early look
        with pytest.raises(AssertionError):
            entry.ask_look()  # not while a GET is out
        entry.answered()
        entry.ask_look()  # a poke after a failed GET
        assert entry.look is EarlyLook.BOTH
        entry.look_used()
        assert entry.early
        assert entry.look is EarlyLook.THIS
        entry.look_used()
        assert not entry.owes_look


class TestWatcherHandover:
    """When the watcher lends a held slot, on virtual time."""

    async def test_a_progress_sample_times_the_handover_at_the_extrapolated_end(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """A first task's 5 s sample extrapolates its end; the slot is lent then, not at 10 s."""
        limiter = FakeLimiter()
        limiter.clock = clock
        watcher = make(limiter=cast(Limiter, limiter))
        api.script("a", started=0.0, end=8.0)
        slot = Slot(MODEL)
        watcher.register_created("a", model=MODEL, slot=slot)
        [done] = await run(clock, *waits(watcher, "a"))
        assert isinstance(done, SucceededTask)
        assert api.times("a") == [5.0, 10.0]
        assert [(s, round(at - T0, 6)) for s, at in limiter.lent] == [(slot, 8.0)]
        assert slot.ends_at == pytest.approx(T0 + 8.0)

    async def test_learned_durations_time_the_handover_from_creation(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """After three measured tasks: lent at creation + handover point - create round trip."""
        limiter = FakeLimiter()
        limiter.clock = clock
        watcher = make(limiter=cast(Limiter, limiter))
        for task_id, end in (("a", 8.0), ("b", 8.5), ("c", 9.0)):
            api.script(task_id, started=0.0, end=end)
            watcher.register_created(task_id, model=MODEL, slot=Slot(MODEL))
        await run(clock, *waits(watcher, ["a", "b", "c"]))
        limiter.lent.clear()
        created = clock.now()
        api.script("d", created=created - T0, started=created - T0, end=created - T0 + 8.2)
        slot = Slot(MODEL)
        watcher.register_created("d", model=MODEL, slot=slot, sent=created - 0.25)
        estimator = watcher._estimators[MODEL]
        point = estimator.handover(POLL.handover_budget)
        assert point is not None
        await run(clock, *waits(watcher, "d"))
        assert len(limiter.lent) == 1
        assert limiter.lent[0][0] is slot
        assert limiter.lent[0][1] == pytest.approx(created + point - 0.25)

    async def test_no_handover_when_it_is_off_or_the_slot_is_gone(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        limiter = FakeLimiter()
        limiter.clock = clock
        poll = PollConfig(min_interval=5.0, jitter=0.0, handover=0)
        watcher = make(limiter=cast(Limiter, limiter), poll=poll)
        api.script("a", started=0.0, end=8.0)
        watcher.register_created("a", model=MODEL, slot=Slot(MODEL))
        await run(clock, *waits(watcher, "a"))
        assert limiter.lent == []


class TestProbe:
    """A model's pending time (creation to running) is measured by its first tasks."""

    async def test_the_first_task_is_probed_early_and_measures_the_pending_time(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """Polled at 1 s and 6 s: two samples a floor apart say it started at 0.5 s."""
        watcher = make(pending={})
        api.script("a", started=0.5, end=8.5)
        create(watcher, "a")
        await run(clock, *waits(watcher, "a"))
        assert api.times("a") == [1.0, 6.0, 11.0]
        assert watcher.learned()[MODEL].pending == pytest.approx(0.5)
        assert watcher.expected_duration(MODEL) == pytest.approx(8.5)

    async def test_two_probes_per_model_then_the_floor(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        watcher = make(pending={})
        for task_id in ("a", "b", "c"):
            api.script(task_id, end=2.0)  # ends before a second sample: nothing measured
        create(watcher, "a", "b", "c")
        await run(clock, *waits(watcher, ["a", "b", "c"]))
        assert [api.times(t)[0] for t in ("a", "b", "c")] == [1.0, 1.0, 5.0]
        assert watcher.learned()[MODEL].pending is None

    @pytest.mark.parametrize(("pending", "learned"), [(0.5, 8.5), (0.0, 8.0 / 0.9)])
    async def test_a_known_pending_time_makes_one_sample_exact(
        self, clock: VirtualClock, api: FakeAPI, make: Make, pending: float, learned: float
    ) -> None:
        """One sample at 5 s of a task running 0.5 s to 8.5 s: exact only with its pending time.

        Taken as running from creation, 56 % done at 5 s says 8.9 s.
        """
        watcher = make(pending={MODEL: pending})
        api.script("a", started=0.5, end=8.5)
        create(watcher, "a")
        await run(clock, *waits(watcher, "a"))
        assert api.times("a") == [5.0, 10.0]
        assert watcher.expected_duration(MODEL) == pytest.approx(learned)


class TestSampling:
    """Short tasks never run at their first poll: some are looked at early to measure them."""

    async def test_one_task_in_four_is_sampled_while_the_spread_is_short(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        watcher = make()
        api.script("first", end=4.5)
        create(watcher, "first")
        await run(clock, *waits(watcher, ["first"]))
        assert api.times("first") == [5.0]  # ended: only an upper bound, no duration
        estimator = watcher._estimators[MODEL]
        assert estimator.aim == 5.0
        assert len(estimator.spread) == 0
        created = clock.now() - T0
        ids = ["b", "c", "d", "e"]
        for task_id in ids:
            api.script(task_id, created=created, end=created + 4.5)
        create(watcher, *ids)
        await run(clock, *waits(watcher, ids))
        firsts = [round(api.times(t)[0] - created, 6) for t in ids]
        # The fourth is looked at at 85 % of the aim, while it runs: its progress gives 4.5 s.
        assert firsts == [5.0, 5.0, 5.0, 4.25]
        assert list(estimator.spread) == pytest.approx([4.5])

    async def test_the_pending_time_is_fitted_across_tasks(
        self, clock: VirtualClock, api: FakeAPI, make: Make
    ) -> None:
        """First samples at different ages lie on age = pending + progress * duration."""
        watcher = make(pending={})
        watcher._learn_pending_across(MODEL, 1.0, 0.2)
        watcher._learn_pending_across(MODEL, 1.0, 0.21)
        assert MODEL not in watcher._pending  # the same progress twice: no line yet
        watcher._learn_pending_across(MODEL, 2.75, 0.9)
        assert watcher._pending[MODEL] == pytest.approx(0.5, abs=0.02)
