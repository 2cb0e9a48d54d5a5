"""RedisLimiter through the real client: limit changes, Redis outages, the sync client.

Each "process" is a client with its own ``RedisLimiter`` (own owner id, connections and
background tasks) on one namespace, against the emulator over loopback and a real
``redis-server``. The emulator's per-model cap of RUNNING tasks makes oversubscription show
as THROTTLED time; its task timelines (``metrics(tasks=True)``) show how many tasks were
alive (created, not yet ended) at once. Leases are short and every wait is for a
condition, with a deadline; polling is the engine tests' (early handover off unless a test
turns it on, so the limiter's count is exact).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from runway_async import (
    AsyncRunway,
    LimiterUnavailableError,
    RedisLimiter,
    Runway,
    RunwayError,
    TaskHandle,
)
from runway_async.emulator import Emulator

from .engine.conftest import TIME_SCALE, fast_poll, image, new_key
from .redis_support import RedisServer

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.fleet import max_alive  # noqa: E402

pytestmark = pytest.mark.redis

MODEL = "gen4_image"
LEASES: dict[str, Any] = {
    "lease_ttl": 1.0,
    "refresh_interval": 0.2,
    "fairness": 0.0,
    "organization_interval": 0.5,
}
"""Short leases, strict FIFO, and the organization's limits re-read every half second."""


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Await ``check()`` until it holds, for at most ``timeout`` seconds (each look bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.wait_for(check(), timeout):
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


@pytest_asyncio.fixture
async def raw(redis_url: str) -> AsyncIterator[Any]:
    """Return a plain redis-py client, to read what the limiters share."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def shared_concurrency(raw: Any, namespace: str) -> int | None:
    """Return the concurrency limit of ``MODEL`` the fleet reads from Redis (``None``: unknown).

    The process that re-read ``GET /v1/organization`` wrote it; every limiter's grants use it.
    """
    blob = await raw.hget("{" + namespace + "}:org", "limits")
    if blob is None:
        return None
    limits = json.loads(blob).get(MODEL)
    return None if limits is None else int(limits[0])


def clients(
    stack: AsyncExitStack, emu: Emulator, url: str, namespace: str, count: int, **poll: Any
) -> list[AsyncRunway]:
    """Return ``count`` clients with a RedisLimiter each on ``namespace``, closed by ``stack``.

    Registered so that each client closes before its limiter (the watcher's last releases
    are sent while the limiter is still open).
    """
    made = []
    key = new_key()
    for _ in range(count):
        limiter = RedisLimiter(url, namespace=namespace, **LEASES)
        stack.push_async_callback(limiter.aclose)
        client = AsyncRunway(
            key, base_url=emu.url, poll=fast_poll(**poll), timeout=10, limiter=limiter
        )
        stack.push_async_callback(client.aclose)
        made.append(client)
    return made


async def burst(runs: Sequence[tuple[AsyncRunway, Sequence[int]]]) -> list[str]:
    """Create every job of every client at once, wait for all; return the final statuses."""

    async def one(client: AsyncRunway, n: int) -> str:
        handle = await client.text_to_image.create(**image(n))
        return str((await handle.wait_for_task_output(timeout=60)).status)

    jobs = [one(client, n) for client, numbers in runs for n in numbers]
    return list(await asyncio.wait_for(asyncio.gather(*jobs), 120))


def created_since(metrics: dict[str, Any], since: float) -> dict[str, dict[str, Any]]:
    """Return the timelines of the tasks created at or after ``since`` (API seconds)."""
    return {
        task_id: task
        for task_id, task in metrics["tasks"].items()
        if task["model"] == MODEL and task["created"] >= since
    }


def throttled(timelines: dict[str, dict[str, Any]]) -> float:
    """Return the API seconds these tasks waited THROTTLED (created to admitted)."""
    return sum(
        (float("inf") if task["admitted"] is None else float(task["admitted"]))
        - float(task["created"])
        for task in timelines.values()
    )


class TestLimitChanges:
    """A limit changed on the organization mid-run reaches every process's limiter."""

    async def test_a_raised_limit_is_used_by_every_process(
        self, redis_url: str, redis_namespace: str, raw: Any
    ) -> None:
        """Concurrency 2 raised to 4: once re-read, two clients' burst holds 4 tasks at once.

        Only client ``a`` creates between the change and the check, so the shared value is
        re-read by whichever process holds the refresh claim at the time: if an idle process
        kept it, the change would not be picked up for the claim's whole TTL.
        """
        async with (
            Emulator(
                time_scale=TIME_SCALE, seed=31, concurrency=2, durations={MODEL: 100.0}
            ) as emu,
            AsyncExitStack() as stack,
        ):
            a, b = clients(stack, emu, redis_url, redis_namespace, 2)
            assert await burst([(a, range(3)), (b, range(100, 103))]) == ["SUCCEEDED"] * 6
            assert await shared_concurrency(raw, redis_namespace) == 2
            before = emu.metrics()
            assert before["max_running"][MODEL] == 2
            assert before["throttled_seconds"]["total"] == 0

            emu.set_limits(MODEL, max_concurrent_generations=4)
            probes = iter(range(200, 300))

            async def raised() -> bool:
                await burst([(a, [next(probes)])])  # a create after the interval re-reads
                return await shared_concurrency(raw, redis_namespace) == 4

            await eventually(raised)
            since = emu.metrics()["now"]
            statuses = await burst([(a, range(300, 304)), (b, range(400, 404))])
            metrics = emu.metrics(tasks=True)
        assert statuses == ["SUCCEEDED"] * 8
        fresh = created_since(metrics, since)
        assert len(fresh) == 8
        # 8 tasks of 100 API s (0.4 s) each through 4 shared slots: 4 run together, never 5
        # (early handover is off, so no slot is lent); nothing waited THROTTLED.
        assert max_alive(fresh, MODEL) == 4
        assert metrics["max_running"][MODEL] == 4
        assert metrics["throttled_seconds"]["total"] == 0

    @pytest.mark.parametrize("handover", [0.0, None], ids=["handover-off", "handover-on"])
    async def test_a_lowered_limit_holds_for_every_process(
        self, redis_url: str, redis_namespace: str, raw: Any, handover: float | None
    ) -> None:
        """Concurrency 4 lowered to 1: once re-read, two clients' burst has 1 task alive at once.

        Picked up by a THROTTLED task (its watcher marks the limits stale) or by the
        re-read interval, whichever comes first. The bound after that: with early handover
        off no slot is ever lent, so exactly the limit (1); with it on, each held slot may
        be lent once to an early create (``Limiter.lend``, the performance issue's
        handover), so at most twice the limit (2), as ``tests/test_fleet.py`` allows.
        """
        async with (
            Emulator(time_scale=TIME_SCALE, seed=32, concurrency=4, durations={MODEL: 25.0}) as emu,
            AsyncExitStack() as stack,
        ):
            a, b = clients(stack, emu, redis_url, redis_namespace, 2, handover=handover)
            assert await burst([(a, range(4)), (b, range(100, 104))]) == ["SUCCEEDED"] * 8
            assert await shared_concurrency(raw, redis_namespace) == 4

            emu.set_limits(MODEL, max_concurrent_generations=1)
            probes = iter(range(200, 300))

            async def lowered() -> bool:
                # Two at once: the second may wait THROTTLED (marking the limits stale).
                await burst([(a, [next(probes)]), (b, [next(probes)])])
                return await shared_concurrency(raw, redis_namespace) == 1

            await eventually(lowered)
            since = emu.metrics()["now"]
            statuses = await burst([(a, range(300, 304)), (b, range(400, 404))])
            metrics = emu.metrics(tasks=True)
        assert statuses == ["SUCCEEDED"] * 8
        fresh = created_since(metrics, since)
        assert len(fresh) == 8
        if handover == 0.0:
            assert max_alive(fresh, MODEL) == 1
            assert throttled(fresh) == 0
        else:
            assert max_alive(fresh, MODEL) <= 2


class TestRedisOutage:
    """Redis stopped mid-run, seen through the client."""

    async def test_fails_closed_then_resumes(self, own_redis: RedisServer) -> None:
        """Running tasks deliver; a create fails fast, sending nothing; creates resume after."""
        async with (
            Emulator(
                time_scale=TIME_SCALE, seed=33, concurrency=4, durations={MODEL: 250.0}
            ) as emu,
            RedisLimiter(own_redis.url, unavailable_timeout=0.5, **LEASES) as limiter,
            AsyncRunway(
                new_key(), base_url=emu.url, poll=fast_poll(), timeout=10, limiter=limiter
            ) as client,
        ):
            handles: list[TaskHandle] = []
            for n in range(2):  # one at a time: the first learns the limit (4)
                handles.append(await asyncio.wait_for(client.text_to_image.create(**image(n)), 30))
            own_redis.stop()
            stopped_at = emu.metrics()["now"]
            created = emu.metrics()["tasks_created_total"]
            with pytest.raises(LimiterUnavailableError) as info:
                await asyncio.wait_for(client.text_to_image.create(**image(10)), 30)
            assert isinstance(info.value, RunwayError)
            assert info.value.timeout == 0.5
            assert emu.metrics()["tasks_created_total"] == created  # nothing was sent

            done = await asyncio.wait_for(
                asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles)), 90
            )
            assert [task.status for task in done] == ["SUCCEEDED"] * 2
            assert all(task.output for task in done)
            timelines = emu.metrics(tasks=True)["tasks"]
            # They were still running when Redis went away (250 API s = 1 s each).
            assert all(timelines[h.id]["ended"] > stopped_at for h in handles)

            own_redis.start()
            again = await asyncio.wait_for(client.text_to_image.create(**image(20)), 30)
            assert (await again.wait_for_task_output(timeout=60)).status == "SUCCEEDED"
            assert emu.metrics()["tasks_created_total"] == created + 1

    async def test_local_fallback_keeps_creating(self, own_redis: RedisServer) -> None:
        """With unavailable="local", creates go on under per-process limits while Redis is down."""
        import redis.asyncio

        namespace = "outage-local"
        async with (
            Emulator(time_scale=TIME_SCALE, seed=34, concurrency=2, durations={MODEL: 25.0}) as emu,
            RedisLimiter(
                own_redis.url,
                namespace=namespace,
                unavailable="local",
                unavailable_timeout=0.5,
                **LEASES,
            ) as limiter,
            AsyncRunway(
                new_key(), base_url=emu.url, poll=fast_poll(), timeout=10, limiter=limiter
            ) as client,
        ):
            assert await burst([(client, range(3))]) == ["SUCCEEDED"] * 3  # learns 2
            own_redis.stop()
            since = emu.metrics()["now"]
            assert await burst([(client, range(100, 106))]) == ["SUCCEEDED"] * 6
            metrics = emu.metrics(tasks=True)
            down = created_since(metrics, since)
            assert len(down) == 6
            # The fallback knows the organization's limit too: still 2 at most.
            assert max_alive(down, MODEL) <= 2
            assert metrics["throttled_seconds"]["total"] == 0

            own_redis.start()  # empty: no persistence
            probe = redis.asyncio.Redis.from_url(own_redis.url, decode_responses=True)
            try:
                probes = iter(range(200, 300))

                async def shared_again() -> bool:
                    await burst([(client, [next(probes)])])
                    return bool(await probe.zcard("{" + namespace + "}:daily:" + MODEL))

                await eventually(shared_again)
            finally:
                await probe.aclose()


class TestSyncClient:
    """The sync client with a RedisLimiter, on its own event-loop thread."""

    def test_two_sync_clients_hold_the_org_limit(
        self, redis_url: str, redis_namespace: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Two sync clients on one namespace create and wait: at most 2 running, none THROTTLED.

        Closing a client stops its loop thread, which closes its limiter's connections there:
        nobody listens on the namespace's channels afterwards, and nothing was logged at
        WARNING or above (warnings are errors in this suite).
        """
        import redis

        caplog.set_level(logging.WARNING, logger="runway_async")
        errors: list[BaseException] = []
        statuses: list[str] = []
        key = new_key()
        with Emulator(
            time_scale=TIME_SCALE, seed=35, concurrency=2, durations={MODEL: 25.0}
        ).in_thread() as emu:
            limiters = [RedisLimiter(redis_url, namespace=redis_namespace, **LEASES) for _ in "ab"]
            with (
                Runway(
                    key, base_url=emu.url, poll=fast_poll(), timeout=10, limiter=limiters[0]
                ) as a,
                Runway(
                    key, base_url=emu.url, poll=fast_poll(), timeout=10, limiter=limiters[1]
                ) as b,
            ):

                def work(client: Runway, offset: int) -> None:
                    try:
                        # create() blocks while no slot is free; the waits run on the
                        # client's own loop thread meanwhile.
                        handles = [
                            client.text_to_image.create(**image(offset + n)) for n in range(4)
                        ]
                        for handle in handles:
                            statuses.append(handle.wait_for_task_output(timeout=60).status)
                    except BaseException as exc:  # reported below
                        errors.append(exc)

                threads = [
                    threading.Thread(target=work, args=(a, 0)),
                    threading.Thread(target=work, args=(b, 100)),
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=120)
                assert not any(thread.is_alive() for thread in threads)
            metrics = emu.metrics(tasks=True)
        for limiter in limiters:
            asyncio.run(limiter.aclose())  # nothing left to close: the loops closed theirs
        probe = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            channel = "{" + redis_namespace + "}:freed"
            deadline = time.monotonic() + 10
            while dict(probe.pubsub_numsub(channel)).get(channel, 0) != 0:
                assert time.monotonic() < deadline, "a limiter still listens after close"
                time.sleep(0.01)  # polling the server for a condition, not timing
        finally:
            probe.close()
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
        assert errors == []
        assert statuses == ["SUCCEEDED"] * 8
        assert metrics["max_running"][MODEL] <= 2
        assert max_alive(metrics["tasks"], MODEL) <= 2
        assert metrics["throttled_seconds"]["total"] == 0
