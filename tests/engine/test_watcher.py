"""The task watcher against the emulator: shared GETs, the poll floor, priors, errors, deadlines."""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runway_async import (
    AsyncRunway,
    NotFoundError,
    PollConfig,
    RunningTask,
    SucceededTask,
    Task,
    TaskTimeoutError,
)
from runway_async._tasks import TaskWatcher, _Entry

from .conftest import (
    MIN_INTERVAL,
    ClientFactory,
    EmulatorFactory,
    fast_poll,
    image,
    new_key,
)


def task_gets(metrics: dict[str, Any]) -> int:
    """Return how many GET /v1/tasks/{id} the emulator answered (any status)."""
    return sum(metrics["requests"].get("GET /v1/tasks/{id}", {}).values())


def record_polls(watcher: TaskWatcher) -> dict[str, list[float]]:
    """Record when each GET of each task was sent (loop time), by wrapping the fetch."""
    sent: dict[str, list[float]] = defaultdict(list)
    fetch = watcher._fetch
    loop = asyncio.get_running_loop()

    async def recording(task_id: str) -> Task:
        sent[task_id].append(loop.time())
        return await fetch(task_id)

    watcher._fetch = recording  # type: ignore[method-assign]
    return sent


class TestOfficialPattern:
    """gather(creates) then gather(waits), unchanged, as the official SDK's README shows it."""

    async def test_two_hundred_creates_stay_within_the_org_limit(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """200 gathered creates at org concurrency 5 never exceed 5 running and never throttle."""
        async with start_emulator(concurrency=5) as emu, make_client(emu) as client:
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(200))
            )
            done = await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
            metrics = emu.metrics()
        assert all(isinstance(task, SucceededTask) for task in done)
        assert metrics["tasks_created_total"] == 200
        assert metrics["tasks_by_status"] == {"SUCCEEDED": 200}
        assert metrics["max_running"]["gen4_image"] <= 5
        assert metrics["throttled_seconds"]["total"] == 0
        assert metrics["duplicate_creates"] == 0

    async def test_chained_wait_in_one_expression(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """create(...).wait_for_task_output() chained, gathered 60 times, holds the limit."""
        async with start_emulator(concurrency=3) as emu, make_client(emu) as client:
            done = await asyncio.gather(
                *(
                    client.text_to_image.create(**image(n)).wait_for_task_output(timeout=60)
                    for n in range(60)
                )
            )
            metrics = emu.metrics()
        assert all(isinstance(task, SucceededTask) for task in done)
        assert len({task.id for task in done}) == 60
        assert metrics["tasks_created_total"] == 60
        assert metrics["max_running"]["gen4_image"] <= 3
        assert metrics["throttled_seconds"]["total"] == 0

    async def test_a_creation_is_lazy_and_awaited_once(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Nothing is sent until the creation is awaited; a second await is an error."""
        async with start_emulator() as emu, make_client(emu) as client:
            creation = client.text_to_image.create(**image(0))
            unused = client.text_to_image.create(**image(1))
            assert "not sent" in repr(unused)
            assert emu.metrics()["tasks_created_total"] == 0
            handle = await creation
            with pytest.raises(RuntimeError, match="already awaited"):
                await creation
            await handle.wait_for_task_output(timeout=60)
            metrics = emu.metrics()
        assert metrics["tasks_created_total"] == 1
        del unused  # dropped unawaited: no request and no "never awaited" warning

    async def test_gets_stay_within_the_request_budget(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """With a budget of R GETs per second, no run sends more than R per second plus R."""
        budget = 400.0
        poll = fast_poll(requests_per_second=budget)
        async with start_emulator(concurrency=20) as emu, make_client(emu, poll=poll) as client:
            started = time.monotonic()
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(80))
            )
            await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
            elapsed = time.monotonic() - started
            gets = task_gets(emu.metrics())
        assert gets >= 80
        assert gets <= budget * elapsed + budget


class TestSharedPolls:
    """Waiters share the watcher's GETs."""

    async def test_many_waiters_cost_one_get_per_poll(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Fifty coroutines waiting for one task cause no more GETs than one would."""
        async with (
            start_emulator(durations={"image": 30.0}) as emu,
            make_client(emu) as client,
        ):
            handle = await client.text_to_image.create(**image(0))
            done = await asyncio.gather(
                *(handle.wait_for_task_output(timeout=30) for _ in range(50)),
                client.tasks.wait(handle.id, timeout=30),
            )
            watcher = client._watcher()
            gets = task_gets(emu.metrics())
        assert {task.id for task in done} == {handle.id}
        # 30 API s at a 5 API s floor: a handful of polls at most, and exactly the watcher's.
        assert gets == watcher.polls_sent
        assert 1 <= gets <= 8

    async def test_cancelling_one_waiter_leaves_the_others(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A cancelled waiter does not disturb the other waiters of the same task."""
        async with start_emulator(durations={"image": 20.0}) as emu, make_client(emu) as client:
            handle = await client.text_to_image.create(**image(0))
            doomed = asyncio.ensure_future(handle.wait_for_task_output(timeout=30))
            survivor = asyncio.ensure_future(handle.wait_for_task_output(timeout=30))
            await asyncio.sleep(0)
            doomed.cancel()
            done = await survivor
            with pytest.raises(asyncio.CancelledError):
                await doomed
        assert done.id == handle.id

    async def test_ended_task_is_served_without_a_get(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Waiting again for a task the watcher saw end sends no further GET."""
        async with start_emulator() as emu, make_client(emu) as client:
            handle = await client.text_to_image.create(**image(0))
            first = await handle.wait_for_task_output(timeout=30)
            before = task_gets(emu.metrics())
            again = await client.tasks.wait(handle.id, timeout=30)
            assert task_gets(emu.metrics()) == before
        assert again == first


class TestSchedule:
    """When tasks are polled."""

    async def test_min_interval_holds_for_every_task(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """No task is polled twice within min_interval, errors and throttling included."""
        async with (
            start_emulator(concurrency=3, durations={"image": 12.0, "audio": 3.0}) as emu,
            make_client(emu, max_concurrency=None) as client,
        ):
            sent = record_polls(client._watcher())
            emu.faults.inject("error_before", route="/v1/tasks", count=4)
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(9))
            )
            await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
        assert sent
        for times in sent.values():
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert all(gap >= MIN_INTERVAL * 0.999 for gap in gaps), gaps

    async def test_throttled_task_is_polled_when_a_sibling_ends(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A THROTTLED task is looked at again as soon as one of ours of its model ends."""
        # Slow polls of THROTTLED tasks every 1000 floors (20 s): only the re-poll on a
        # sibling's end lets these waits finish within their 5 s deadline.
        poll = fast_poll(max_interval=1000 * MIN_INTERVAL)
        async with (
            start_emulator(concurrency=1, durations={"image": 10.0}) as emu,
            make_client(emu, max_concurrency=None, poll=poll) as client,
        ):
            handles = [await client.text_to_image.create(**image(n)) for n in range(3)]
            done = await asyncio.gather(*(h.wait_for_task_output(timeout=5) for h in handles))
            metrics = emu.metrics()
        assert [task.id for task in done] == [h.id for h in handles]
        assert metrics["throttled_seconds"]["total"] > 0

    async def test_gets_in_flight_are_bounded(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """However many polls fall due together, at most max_in_flight GETs are out at once."""
        async with (
            start_emulator(concurrency=None) as emu,
            make_client(emu, poll=fast_poll(max_in_flight=3)) as client,
        ):
            watcher = client._watcher()
            fetch = watcher._fetch
            out = [0, 0]  # now, most

            async def counting(task_id: str) -> Task:
                out[0] += 1
                out[1] = max(out[1], out[0])
                try:
                    return await fetch(task_id)
                finally:
                    out[0] -= 1

            watcher._fetch = counting  # type: ignore[method-assign]
            emu.faults.inject("latency", route="/v1/tasks", delay=MIN_INTERVAL, count=100)
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(12))
            )
            await asyncio.gather(*(h.wait_for_task_output(timeout=30) for h in handles))
        assert out[1] == 3

    async def test_priors_are_learned(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Once a model's durations are learned, its tasks need fewer GETs each."""
        async with (
            start_emulator(concurrency=10, durations={"image": 8.0}) as emu,
            make_client(emu) as client,
        ):

            async def wave(size: int) -> float:
                before = task_gets(emu.metrics())
                handles = await asyncio.gather(
                    *(client.text_to_image.create(**image(n)) for n in range(size))
                )
                await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
                return (task_gets(emu.metrics()) - before) / size

            first = await wave(10)
            await wave(20)
            later = await wave(20)
            watcher = client._watcher()
        assert later < first
        # Learned, not the default; how close the estimate sits to the real durations depends
        # on loop timing here, so TestFirstPollPlan checks that on controlled inputs instead.
        assert watcher.expected_duration("gen4_image") != client.poll.assumed_duration


class TestFirstPollPlan:
    """Where the watcher plans a task's first poll, on controlled inputs (no wall clock).

    The detection lag this planning yields is measured by the benchmarks (``nox -s bench``
    reports lag p50/p95); here only the decision is checked, so load cannot fail it.
    """

    POLL = PollConfig(min_interval=5.0, jitter=0.02)  # production-like, set explicitly
    MODEL = "gen4_image"

    @pytest.fixture
    async def watcher(self) -> AsyncIterator[TaskWatcher]:
        """Yield a watcher that never sends anything (only its planning is exercised)."""
        async with AsyncRunway(new_key(), base_url="http://127.0.0.1:9") as client:
            watcher = TaskWatcher(
                client=client, transport=client._transport, poll=self.POLL, rand=random.Random(3)
            )
            yield watcher
            await watcher.aclose()

    def new_task(self, created: float) -> _Entry:
        """Return the entry of a task of MODEL created at ``created`` (loop seconds)."""
        return _Entry("t", model=self.MODEL, created=created, poll=self.POLL, slot=None)

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


class TestErrorsAndDeadlines:
    """What ends a wait and what does not."""

    async def test_retryable_poll_errors_do_not_end_a_wait(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Three 503s in a row on the task's GETs are ridden out."""
        async with start_emulator() as emu, make_client(emu) as client:
            handle = await client.text_to_image.create(**image(0))
            emu.faults.inject("error_before", route="/v1/tasks", count=3)
            done = await handle.wait_for_task_output(timeout=30)
            metrics = emu.metrics()
        assert done.id == handle.id
        assert metrics["requests"]["GET /v1/tasks/{id}"]["503"] == 3

    async def test_not_found_ends_every_wait(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A 404 ends all waits of the task with NotFoundError."""
        async with start_emulator() as emu, make_client(emu) as client:
            outcomes = await asyncio.gather(
                *(client.tasks.wait("no-such-task", timeout=30) for _ in range(3)),
                return_exceptions=True,
            )
            gets = task_gets(emu.metrics())
        assert all(isinstance(o, NotFoundError) for o in outcomes)
        assert gets == 1

    async def test_deadline_raises_with_the_last_task(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A wait past its own deadline raises TaskTimeoutError carrying the last task seen."""
        async with (
            start_emulator(durations={"image": 10_000.0}) as emu,
            make_client(emu) as client,
        ):
            handle = await client.text_to_image.create(**image(0))
            with pytest.raises(TaskTimeoutError) as info:
                await handle.wait_for_task_output(timeout=MIN_INTERVAL * 5)
            other = await client.tasks.retrieve(handle.id)
        assert isinstance(info.value.task_details, RunningTask)
        assert isinstance(info.value, TimeoutError)
        assert isinstance(other, RunningTask)

    async def test_closing_the_client_ends_pending_waits(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A wait still pending when the client closes fails rather than hanging."""
        async with start_emulator(durations={"image": 10_000.0}) as emu:
            client = make_client(emu)
            handle = await client.text_to_image.create(**image(0))
            waiting = asyncio.ensure_future(handle.wait_for_task_output(timeout=None))
            await asyncio.sleep(0)
            await client.aclose()
            with pytest.raises(RuntimeError, match="closed"):
                await waiting

    async def test_tasks_nobody_watches_are_not_polled(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Fire-and-forget creates within the limit cost no GET at all."""
        async with start_emulator(concurrency=5) as emu, make_client(emu) as client:
            for n in range(3):
                await client.text_to_image.create(**image(n))
            await asyncio.sleep(10 * MIN_INTERVAL)  # long past their ends: still no poll
            gets = task_gets(emu.metrics())
        assert gets == 0
