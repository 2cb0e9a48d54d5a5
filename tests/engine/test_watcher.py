"""The task watcher against the emulator: shared GETs, the in-flight cap, errors, interest.

The watcher's timing decisions (the poll floor, first polls, learned durations, THROTTLED
tasks, back-off, the request budget, deadlines) are tested on virtual time in
``test_watcher_schedule.py``, where the machine's load cannot change a verdict.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runway_async import NotFoundError, SucceededTask, Task

from .conftest import MIN_INTERVAL, ClientFactory, EmulatorFactory, fast_poll, image


def task_gets(metrics: dict[str, Any]) -> int:
    """Return how many GET /v1/tasks/{id} the emulator answered (any status)."""
    return sum(metrics["requests"].get("GET /v1/tasks/{id}", {}).values())


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
            watcher = client._core.watcher()
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

    async def test_gets_in_flight_are_bounded(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """However many polls fall due together, at most max_in_flight GETs are out at once."""
        async with (
            start_emulator(concurrency=None) as emu,
            make_client(emu, poll=fast_poll(max_in_flight=3)) as client,
        ):
            watcher = client._core.watcher()
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
