"""RedisLimiter against a real redis-server: slots, FIFO, leases, orphans, the org, outages.

Two "processes" are two ``RedisLimiter`` objects (each has its own owner id, connections and
background tasks) sharing one namespace; one test uses a real subprocess, SIGKILLed. Leases
are short (1 s) and every wait is for a condition, with a deadline.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from runway_async import (
    AsyncRunway,
    DailyLimitError,
    Limiter,
    LimiterUnavailableError,
    MissingExtraError,
    RedisLimiter,
    RunwayError,
    Slot,
    SlotTimeoutError,
    VirtualClock,
)
from runway_async._duration_cache import EstimatorState
from runway_async._redis_limiter import RedisSlot
from runway_async.emulator import Emulator

from .engine.conftest import TIME_SCALE, fast_poll, image, new_key, org
from .redis_support import RedisServer

pytestmark = pytest.mark.redis

MODEL = "gen4_image"
SHORT: dict[str, Any] = {"lease_ttl": 1.0, "refresh_interval": 0.2, "fairness": 0.0}
"""Short leases, so expiry is seen within about a second; strict FIFO."""

LimiterFactory = Callable[..., RedisLimiter]


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds, looking every 10 ms, for at most ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


@pytest_asyncio.fixture
async def make_limiter(redis_url: str, redis_namespace: str) -> AsyncIterator[LimiterFactory]:
    """Return a factory of limiters on the session's Redis, one namespace per test."""
    made: list[RedisLimiter] = []

    def make(**options: Any) -> RedisLimiter:
        settings = {**SHORT, **options}
        settings.setdefault("namespace", redis_namespace)
        url = settings.pop("url", redis_url)
        limiter = RedisLimiter(url, **settings)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.aclose()


@pytest_asyncio.fixture
async def raw(redis_url: str) -> AsyncIterator[Any]:
    """Return a plain redis-py client, to look at what the limiter stored."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def keys(limiter: RedisLimiter, name: str, model: str = MODEL) -> str:
    """Return the Redis key of one of ``limiter``'s per-model structures."""
    return "{" + limiter.namespace + "}:" + f"{name}:{model}"


class TestBasics:
    """Construction, the interface, and the import without redis-py."""

    async def test_is_a_limiter_and_validates_settings(self, make_limiter: LimiterFactory) -> None:
        """It satisfies the Limiter protocol; bad settings are refused at construction."""
        assert isinstance(make_limiter(), Limiter)
        with pytest.raises(ValueError, match="unavailable"):
            make_limiter(unavailable="maybe")
        with pytest.raises(ValueError, match="refresh_interval"):
            make_limiter(lease_ttl=1.0, refresh_interval=2.0)
        with pytest.raises(ValueError, match="namespace"):
            make_limiter(namespace="a{b}")

    def test_without_redis_py_it_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without redis-py, constructing one raises an ImportError naming the extra."""
        monkeypatch.setitem(sys.modules, "redis", None)
        monkeypatch.setitem(sys.modules, "redis.asyncio", None)
        with pytest.raises(MissingExtraError, match=r"runway_async\[redis\]") as info:
            RedisLimiter("redis://127.0.0.1:1/0")
        assert isinstance(info.value, ImportError)
        assert isinstance(info.value, RunwayError)
        assert info.value.extra == "redis"

    def test_import_does_not_need_redis(self) -> None:
        """``import runway_async`` works, and does not import redis-py."""
        code = "import sys, runway_async; assert 'redis' not in sys.modules; print('ok')"
        done = subprocess.run(  # noqa: S603  # our own interpreter and code
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.stdout.strip() == "ok", done.stderr


class TestGrants:
    """Slots up to the limit, FIFO across limiters, timeouts and cancellation."""

    async def test_grants_up_to_the_limit_then_waits(self, make_limiter: LimiterFactory) -> None:
        """Two slots of limit 2 are granted at once; a third times out and leaves the queue."""
        limiter = make_limiter()
        first = await limiter.acquire(MODEL, limit=2)
        second = await limiter.acquire(MODEL, limit=2)
        assert await limiter.in_use(MODEL) == 2
        with pytest.raises(SlotTimeoutError) as info:
            await limiter.acquire(MODEL, limit=2, timeout=0.2)
        assert info.value.model == MODEL
        assert await limiter.waiting(MODEL) == 0
        limiter.release(first)
        third = await limiter.acquire(MODEL, limit=2, timeout=10)
        assert isinstance(third, RedisSlot)
        assert third.token > second.token > first.token

    async def test_auto_is_one_slot_until_the_organization_is_known(
        self, make_limiter: LimiterFactory
    ) -> None:
        """Before any organization read, "auto" allows one slot per model; then its limit."""
        limiter = make_limiter()
        await limiter.acquire(MODEL)
        with pytest.raises(SlotTimeoutError):
            await limiter.acquire(MODEL, timeout=0.2)
        assert limiter.claim_refresh()  # the first acquire took the fleet's claim
        limiter.update_organization(org({MODEL: 3}))
        await limiter.acquire(MODEL, timeout=10)
        await limiter.acquire(MODEL, timeout=10)
        assert await limiter.in_use(MODEL) == 3

    async def test_fifo_across_two_limiters(self, make_limiter: LimiterFactory) -> None:
        """Waiters of two limiters are granted in the order they queued, whichever looks first."""
        a, b = make_limiter(), make_limiter()
        holder = await a.acquire(MODEL, limit=1)
        order: list[str] = []

        async def wait(name: str, limiter: RedisLimiter) -> None:
            slot = await limiter.acquire(MODEL, limit=1, timeout=20)
            order.append(name)
            limiter.release(slot)

        tasks = []
        for n, (name, limiter) in enumerate([("b1", b), ("a2", a), ("b3", b), ("a4", a)]):
            tasks.append(asyncio.ensure_future(wait(name, limiter)))
            await eventually(lambda n=n: _equals(a.waiting(MODEL), n + 1))
        a.release(holder)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert order == ["b1", "a2", "b3", "a4"]

    async def test_cancelled_waiter_leaves_the_queue(self, make_limiter: LimiterFactory) -> None:
        """An acquire cancelled while queued leaves the queue and holds nothing."""
        a, b = make_limiter(), make_limiter()
        holder = await a.acquire(MODEL, limit=1)
        queued = asyncio.ensure_future(b.acquire(MODEL, limit=1))
        await eventually(lambda: _equals(a.waiting(MODEL), 1))
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        await eventually(lambda: _equals(a.waiting(MODEL), 0))
        a.release(holder)
        await eventually(lambda: _equals(a.in_use(MODEL), 0))

    async def test_fencing_tokens_grow_across_limiters(self, make_limiter: LimiterFactory) -> None:
        """Every grant in a namespace gets a larger token than the one before, in any limiter."""
        a, b = make_limiter(), make_limiter()
        tokens = []
        for limiter in (a, b, a, b, b, a):
            slot = await limiter.acquire(MODEL, limit=None)
            assert isinstance(slot, RedisSlot)
            tokens.append(slot.token)
            limiter.release(slot)
        assert tokens == sorted(tokens)
        assert len(set(tokens)) == len(tokens)


class TestLeases:
    """Delayed releases, expiry of dead holders' slots, adoption of slots with tasks."""

    async def test_release_after_keeps_the_slot_until_then(
        self, make_limiter: LimiterFactory, raw: Any
    ) -> None:
        """release(after=60) keeps the lease for about 60 s; release(after=0.3) frees soon."""
        limiter = make_limiter()
        slot = await limiter.acquire(MODEL, limit=1)
        assert isinstance(slot, RedisSlot)
        limiter.release(slot, after=60)

        async def lease_moved() -> bool:
            score = await raw.zscore(keys(limiter, "held"), str(slot.token))
            seconds, micros = await raw.time()
            return score is not None and score > seconds * 1000 + micros / 1000 + 50_000

        await eventually(lease_moved)
        assert await limiter.in_use(MODEL) == 1
        with pytest.raises(SlotTimeoutError):
            await limiter.acquire(MODEL, limit=1, timeout=0.3)
        other = make_limiter()
        short = await other.acquire(MODEL, limit=2)
        other.release(short, after=0.3)
        assert (await other.acquire(MODEL, limit=2, timeout=10)).model == MODEL

    async def test_expired_lease_without_task_frees(
        self, make_limiter: LimiterFactory, raw: Any
    ) -> None:
        """A slot whose holder stops refreshing (closed, never released) frees at expiry."""
        a, b = make_limiter(), make_limiter()
        dead = await a.acquire(MODEL, limit=1)
        assert isinstance(dead, RedisSlot)
        await a.aclose()  # like a process that died: no release, no refresh
        slot = await b.acquire(MODEL, limit=1, timeout=20)
        assert isinstance(slot, RedisSlot)
        assert slot.token > dead.token
        assert await raw.zscore(keys(b, "held"), str(dead.token)) is None

    async def test_refreshed_lease_outlives_its_ttl(self, make_limiter: LimiterFactory) -> None:
        """A held slot is refreshed: after several lease TTLs it still holds the limit."""
        a, b = make_limiter(), make_limiter()
        await a.acquire(MODEL, limit=1)
        loop = asyncio.get_running_loop()
        until = loop.time() + 3 * SHORT["lease_ttl"]
        while loop.time() < until:
            with pytest.raises(SlotTimeoutError):
                await b.acquire(MODEL, limit=1, timeout=0.25)
        assert await a.in_use(MODEL) == 1

    async def test_slot_with_task_is_adopted_by_another_limiter(
        self, make_limiter: LimiterFactory, raw: Any
    ) -> None:
        """A dead holder's slot with a task is not freed but adopted (orphans()) elsewhere."""
        a, b = make_limiter(), make_limiter()
        dead = await a.acquire(MODEL, limit=1)
        assert isinstance(dead, RedisSlot)
        dead.task_id = "task-1"
        a.notify_when_wanted(dead, lambda: None)  # records the task in Redis
        await eventually(lambda: _info_has(raw, keys(a, "info"), dead.token, "task-1"))
        await a.aclose()
        adopted: list[Slot] = []

        def on_wait() -> None:
            for orphan in b.orphans(MODEL):
                adopted.append(orphan)
                b.release(orphan)  # as a watcher does once it sees the task end

        slot = await b.acquire(MODEL, limit=1, timeout=20, on_wait=on_wait)
        assert [(s.task_id, s.token) for s in adopted] == [("task-1", dead.token)]  # type: ignore[attr-defined]
        assert isinstance(slot, RedisSlot)
        assert slot.token > dead.token

    async def test_orphan_is_not_freed_without_an_adopter(
        self, make_limiter: LimiterFactory, raw: Any
    ) -> None:
        """Unadopted (no waiter asks for orphans), a dead holder's task slot keeps counting."""
        a, b = make_limiter(), make_limiter()
        dead = await a.acquire(MODEL, limit=1)
        assert isinstance(dead, RedisSlot)
        dead.task_id = "task-2"
        a.notify_when_wanted(dead, lambda: None)
        await eventually(lambda: _info_has(raw, keys(a, "info"), dead.token, "task-2"))
        await a.aclose()

        async def orphaned() -> bool:
            with pytest.raises(SlotTimeoutError):  # no on_wait: it adopts nothing
                await b.acquire(MODEL, limit=1, timeout=0.2)
            return await _member(raw, keys(a, "orphans"), dead.token)

        await eventually(orphaned, timeout=20)
        with pytest.raises(SlotTimeoutError):
            await b.acquire(MODEL, limit=1, timeout=0.5)
        assert await b.in_use(MODEL) == 1

    async def test_sigkilled_process_slots_come_back(
        self, redis_url: str, redis_namespace: str, make_limiter: LimiterFactory, raw: Any
    ) -> None:
        """A SIGKILLed process's slots return: one by expiry, the one with a task by adoption."""
        child = _start_child(redis_url, redis_namespace)
        try:
            line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)  # type: ignore[union-attr]
            plain, with_task = (int(t) for t in line.split())
            limiter = make_limiter()
            await eventually(lambda: _info_has(raw, keys(limiter, "info"), with_task, "task-child"))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            child.stdout.close()  # type: ignore[union-attr]
        adopted: list[Slot] = []

        def on_wait() -> None:
            for orphan in limiter.orphans(MODEL):
                adopted.append(orphan)
                limiter.release(orphan)

        first = await limiter.acquire(MODEL, limit=2, timeout=30, on_wait=on_wait)
        second = await limiter.acquire(MODEL, limit=2, timeout=30, on_wait=on_wait)
        assert [(s.task_id, s.token) for s in adopted] == [("task-child", with_task)]  # type: ignore[attr-defined]
        assert isinstance(first, RedisSlot)
        assert isinstance(second, RedisSlot)
        assert min(first.token, second.token) > max(plain, with_task)
        assert await raw.zscore(keys(limiter, "held"), str(plain)) is None


class TestOrganization:
    """One process reads the organization; all use what it wrote, daily quota included."""

    async def test_limits_written_by_one_are_used_by_the_other(
        self, make_limiter: LimiterFactory
    ) -> None:
        """A limit one limiter learned holds for another: 2 slots, not 1, then not 3."""
        a, b = make_limiter(), make_limiter()
        a.update_organization(org({MODEL: 2}))
        await eventually(lambda: _grants(b, 2))
        held = [await b.acquire(MODEL, timeout=10), await b.acquire(MODEL, timeout=10)]
        with pytest.raises(SlotTimeoutError):
            await b.acquire(MODEL, timeout=0.3)
        for slot in held:
            b.release(slot)

    async def test_claim_is_exclusive(self, make_limiter: LimiterFactory) -> None:
        """One limiter claims the refresh; the other does not until it is due again."""
        a, b = make_limiter(), make_limiter()
        first = await a.acquire(MODEL, limit=None)
        second = await b.acquire(MODEL, limit=None)
        assert [a.claim_refresh(), b.claim_refresh()] == [True, False]
        assert not a.claim_refresh()  # one claim, handed out once
        a.release(first)
        b.release(second)
        a.update_organization(org({MODEL: 5}))
        await eventually(lambda: _grants(b, 5))
        assert not b.claim_refresh()
        b.mark_stale()
        await eventually(b.claim_refresh)
        assert not a.claim_refresh()
        b.refresh_failed(abandoned=True)

    async def test_failed_read_means_unlimited_until_a_read_succeeds(
        self, make_limiter: LimiterFactory
    ) -> None:
        """After a failed first read, "auto" is unlimited fleet-wide (as in one process)."""
        a, b = make_limiter(), make_limiter()
        await a.acquire(MODEL)
        assert a.claim_refresh()
        a.refresh_failed()
        await eventually(lambda: _grants(b, 3))

    async def test_daily_quota_counts_every_limiter(
        self, make_limiter: LimiterFactory, raw: Any
    ) -> None:
        """Creates of two limiters add up against the daily quota; uncreated ones do not."""
        a, b = make_limiter(), make_limiter()
        a.update_organization(org({MODEL: 5}, {MODEL: 4}, **{MODEL: 1}))  # used 1
        org_key = "{" + a.namespace + "}:org"
        await eventually(lambda: _equals_text(raw.hget(org_key, "known"), "1"))
        for limiter, created in ((a, True), (b, False), (b, True)):  # used 2, 2, 3
            slot = await limiter.acquire(MODEL, timeout=10)
            limiter.release(slot, created=created)
            await eventually(lambda: _equals(a.in_use(MODEL), 0))
        slot = await a.acquire(MODEL, timeout=10)  # 4
        with pytest.raises(DailyLimitError) as info:
            await b.acquire(MODEL, timeout=10)
        assert (info.value.limit, info.value.used) == (4, 4)
        assert await b.waiting(MODEL) == 0
        a.release(slot)


class TestSharedDurations:
    """The hook for sharing learned task durations between processes."""

    async def test_saved_by_one_loaded_by_another(
        self, make_limiter: LimiterFactory, raw: Any
    ) -> None:
        """States saved by one limiter load in another; an invalid entry is skipped."""
        a, b = make_limiter(), make_limiter()
        state = EstimatorState(aim=8.5, exact=3, observed=4, spread=(8.0, 9.0), pending=0.5)
        await a.save_durations({MODEL: state})
        await raw.hset("{" + a.namespace + "}:durations", "broken", '{"aim": -1}')
        assert await b.load_durations() == {MODEL: state}


class TestSignals:
    """The wanted signal and lending work across limiters."""

    async def test_a_waiter_elsewhere_makes_holders_wanted(
        self, make_limiter: LimiterFactory, raw: Any
    ) -> None:
        """A create queued in one limiter fires the wanted-callback of the other's holder once."""
        a, b = make_limiter(), make_limiter()
        held = await a.acquire(MODEL, limit=2)
        gone = await a.acquire(MODEL, limit=2)
        await eventually(lambda: _listening(raw, a, 1))
        calls: list[str] = []
        a.notify_when_wanted(held, lambda: calls.append("held"))
        a.notify_when_wanted(gone, lambda: calls.append("gone"))
        a.release(gone)
        queued = asyncio.ensure_future(b.acquire(MODEL, limit=1))
        await eventually(lambda: calls == ["held"])
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        second = asyncio.ensure_future(b.acquire(MODEL, limit=1, timeout=0.3))
        with pytest.raises(SlotTimeoutError):
            await second
        assert calls == ["held"]

    async def test_registering_while_a_create_waits_fires(
        self, make_limiter: LimiterFactory
    ) -> None:
        """A slot registered while a create of its model already waits is wanted at once."""
        a, b = make_limiter(), make_limiter()
        held = await a.acquire(MODEL, limit=1)
        queued = asyncio.ensure_future(b.acquire(MODEL, limit=1))
        await eventually(lambda: _equals(a.waiting(MODEL), 1))
        fired = asyncio.Event()
        held.task_id = "task-3"
        a.notify_when_wanted(held, fired.set)
        await asyncio.wait_for(fired.wait(), 10)
        a.release(held)
        b.release(await asyncio.wait_for(queued, 10))

    async def test_lend_lets_one_more_through_elsewhere(self, make_limiter: LimiterFactory) -> None:
        """Lending a held slot grants one waiter of another limiter (early); once per slot."""
        a, b = make_limiter(), make_limiter()
        held = await a.acquire(MODEL, limit=1)
        first = asyncio.ensure_future(b.acquire(MODEL, limit=1, timeout=20))
        await eventually(lambda: _equals(a.waiting(MODEL), 1))
        a.lend(held)
        a.lend(held)
        early = await asyncio.wait_for(first, 20)
        assert early.early
        assert await a.in_use(MODEL) == 2
        with pytest.raises(SlotTimeoutError):
            await b.acquire(MODEL, limit=1, timeout=0.3)
        a.release(held)  # frees nothing more: its early create took the place
        with pytest.raises(SlotTimeoutError):
            await b.acquire(MODEL, limit=1, timeout=0.3)
        b.release(early)
        b.release(await b.acquire(MODEL, limit=1, timeout=10))

    async def test_early_grant_learns_when_the_lender_ends(
        self, make_limiter: LimiterFactory
    ) -> None:
        """A lender's ``ends_at`` reaches the early slot elsewhere as its ``starts_at``.

        Sent as seconds from now, so it means the same in the other process whatever its
        clock; a lender without an expected end gives an early slot without ``starts_at``.
        The early grant takes the lent slot expected to free first.
        """
        clock = VirtualClock(start=1000.0)
        other = VirtualClock(start=50.0)
        a, b = make_limiter(clock=clock), make_limiter(clock=other)
        late = await a.acquire(MODEL, limit=3)
        soon = await a.acquire(MODEL, limit=3)
        unknown = await a.acquire(MODEL, limit=3)
        late.ends_at = clock.now() + 30.0
        soon.ends_at = clock.now() + 2.0
        a.lend(late)
        a.lend(soon)
        first = await b.acquire(MODEL, limit=3, timeout=20)
        second = await b.acquire(MODEL, limit=3, timeout=20)
        assert first.early
        assert second.early
        assert first.starts_at is not None
        assert second.starts_at is not None
        # Whole milliseconds, and a little Redis time passes between the scripts.
        assert 50.0 + 1.0 <= first.starts_at <= 50.0 + 2.0
        assert 50.0 + 29.0 <= second.starts_at <= 50.0 + 30.0
        a.lend(unknown)
        third = await b.acquire(MODEL, limit=3, timeout=20)
        assert third.early
        assert third.starts_at is None
        for slot in (late, soon, unknown):
            a.release(slot)
        for slot in (first, second, third):
            b.release(slot)


class TestOutages:
    """Redis going away: fail closed within the bound, or fall back; resume when back."""

    async def test_creates_fail_within_the_bound_and_resume(self, own_redis: RedisServer) -> None:
        """With Redis stopped, acquire raises LimiterUnavailableError; it works once back."""
        async with RedisLimiter(own_redis.url, unavailable_timeout=0.5, **SHORT) as limiter:
            held = await limiter.acquire(MODEL, limit=2)
            own_redis.stop()
            with pytest.raises(LimiterUnavailableError) as info:
                await asyncio.wait_for(limiter.acquire(MODEL, limit=2), 30)
            assert info.value.timeout == 0.5
            assert "127.0.0.1" in str(info.value)
            limiter.release(held)  # retried in the background, never raises
            own_redis.start()
            slot = await asyncio.wait_for(limiter.acquire(MODEL, limit=2, timeout=10), 30)
            assert isinstance(slot, RedisSlot)
            limiter.release(slot)

    async def test_password_never_in_the_message(self, own_redis: RedisServer) -> None:
        """The URL's password does not appear in the error."""
        own_redis.stop()
        url = f"redis://:s3cret-pass@127.0.0.1:{own_redis.port}/0"
        async with RedisLimiter(url, unavailable_timeout=0.3, **SHORT) as limiter:
            with pytest.raises(LimiterUnavailableError) as info:
                await asyncio.wait_for(limiter.acquire(MODEL), 30)
        assert "s3cret" not in str(info.value)
        assert "s3cret" not in repr(limiter)

    async def test_local_fallback_until_redis_returns(self, own_redis: RedisServer) -> None:
        """With unavailable="local", slots come from this process's limiter meanwhile."""
        async with RedisLimiter(
            own_redis.url, unavailable="local", unavailable_timeout=0.3, **SHORT
        ) as limiter:
            own_redis.stop()
            local = await asyncio.wait_for(limiter.acquire(MODEL, limit=1), 30)
            assert not isinstance(local, RedisSlot)
            with pytest.raises(SlotTimeoutError):  # the fallback still limits
                await limiter.acquire(MODEL, limit=1, timeout=0.2)
            limiter.release(local)
            own_redis.start()

            async def shared_again() -> bool:
                slot = await limiter.acquire(MODEL, limit=1, timeout=5)
                limiter.release(slot)
                return isinstance(slot, RedisSlot)

            await eventually(shared_again, timeout=20)


class TestWithTheClient:
    """Two clients with their own RedisLimiter share one emulator's organization."""

    async def test_two_clients_stay_within_the_org_limit(
        self, redis_url: str, redis_namespace: str
    ) -> None:
        """Two clients (two limiters, one namespace) never oversubscribe: no THROTTLED time."""
        key = new_key()
        async with Emulator(time_scale=TIME_SCALE, seed=11, concurrency=2) as emu:
            async with (
                RedisLimiter(redis_url, namespace=redis_namespace, **SHORT) as la,
                RedisLimiter(redis_url, namespace=redis_namespace, **SHORT) as lb,
                AsyncRunway(key, base_url=emu.url, poll=fast_poll(), timeout=10, limiter=la) as a,
                AsyncRunway(key, base_url=emu.url, poll=fast_poll(), timeout=10, limiter=lb) as b,
            ):

                async def run(client: AsyncRunway, offset: int) -> None:
                    handles = await asyncio.gather(
                        *(client.text_to_image.create(**image(offset + n)) for n in range(8))
                    )
                    await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))

                await asyncio.wait_for(asyncio.gather(run(a, 0), run(b, 100)), 120)
            metrics = emu.metrics()
        assert metrics["tasks_by_status"] == {"SUCCEEDED": 16}
        assert metrics["max_running"][MODEL] <= 2
        assert metrics["throttled_seconds"]["total"] == 0


# -- helpers ---------------------------------------------------------------------------------


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _equals_text(value: Awaitable[str | None], expected: str) -> bool:
    return await value == expected


async def _listening(raw: Any, limiter: RedisLimiter, count: int) -> bool:
    """Return whether ``count`` limiters (event loops) listen to the namespace's channels."""
    channel = "{" + limiter.namespace + "}:wanted"
    found = dict(await raw.pubsub_numsub(channel))
    return int(found.get(channel, 0)) >= count


async def _info_has(raw: Any, key: str, token: int, task_id: str) -> bool:
    blob = await raw.hget(key, str(token))
    return blob is not None and task_id in blob


async def _member(raw: Any, key: str, token: int) -> bool:
    return await raw.zscore(key, str(token)) is not None


async def _grants(limiter: RedisLimiter, count: int, *, release: bool = False) -> bool:
    """Return whether ``count`` "auto" slots can be held at once (then give them back)."""
    slots = []
    try:
        for _ in range(count):
            slots.append(await limiter.acquire(MODEL, timeout=0.1))
    except SlotTimeoutError:
        return False
    finally:
        for slot in slots:
            limiter.release(slot)
    return True


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from runway_async import RedisLimiter

    async def main():
        limiter = RedisLimiter(sys.argv[1], namespace=sys.argv[2], lease_ttl=1.0,
                               refresh_interval=0.2)
        plain = await limiter.acquire("gen4_image", limit=2)
        with_task = await limiter.acquire("gen4_image", limit=2)
        with_task.task_id = "task-child"
        limiter.notify_when_wanted(with_task, lambda: None)
        print(plain.token, with_task.token, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def _start_child(url: str, namespace: str) -> subprocess.Popen[str]:
    """Start a process that holds two slots (one with a task) until it is killed."""
    return subprocess.Popen(  # noqa: S603  # our own interpreter and code
        [sys.executable, "-c", CHILD, url, namespace], stdout=subprocess.PIPE, text=True
    )
