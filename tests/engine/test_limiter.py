"""Per-model slots: sizing from the organization, overrides, cancellation, ambiguity, quotas."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

import pytest

from runway_async import (
    AmbiguousSubmissionError,
    AsyncRunway,
    BadRequestError,
    DailyLimitError,
    InProcessLimiter,
    Limiter,
    Organization,
    RateLimitError,
    Slot,
    SlotTimeoutError,
)
from runway_async._clock import VirtualClock

from .conftest import (
    MIN_INTERVAL,
    SPEECH,
    ClientFactory,
    EmulatorFactory,
    fast_poll,
    image,
    new_key,
    org,
)

MODEL = "gen4_image"


async def until(condition: Any) -> None:
    """Yield to the loop until ``condition()`` holds (no timing involved)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


class TestSharing:
    """One limiter per organization (API key and base URL) in a process."""

    async def test_same_key_and_url_share_one_limiter(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Clients with the same key and URL share a limiter; another key gets its own."""
        key = new_key()
        async with (
            start_emulator() as emu,
            make_client(emu, api_key=key) as a,
            make_client(emu, api_key=key) as b,
            make_client(emu) as c,
        ):
            assert a.limiter is b.limiter
            assert a.limiter is not c.limiter
            assert a.with_options(max_concurrency=2).limiter is a.limiter
            assert isinstance(a.limiter, Limiter)

    def test_registry_is_keyed_by_a_digest(self) -> None:
        """The process registry never holds the raw API key."""
        from runway_async import _limits

        key = new_key()
        InProcessLimiter.shared(key, "http://127.0.0.1:1")
        assert all(key not in name for name in _limits._REGISTRY)

    async def test_two_clients_of_one_org_stay_within_its_limit(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Two clients with the same key gathering at once never exceed the org's limit."""
        key = new_key()
        async with start_emulator(concurrency=3) as emu:
            async with make_client(emu, api_key=key) as a, make_client(emu, api_key=key) as b:

                async def run(client: AsyncRunway, offset: int) -> None:
                    handles = await asyncio.gather(
                        *(client.text_to_image.create(**image(offset + n)) for n in range(30))
                    )
                    await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))

                await asyncio.gather(run(a, 0), run(b, 100))
            metrics = emu.metrics()
        assert metrics["tasks_by_status"] == {"SUCCEEDED": 60}
        assert metrics["max_running"][MODEL] <= 3
        assert metrics["throttled_seconds"]["total"] == 0


class TestOrphanedSlots:
    """Slots of tasks whose client closed while they ran are adopted by a waiting create."""

    async def test_create_and_close_cycles_do_not_leak_slots(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """After 5 create-and-close cycles a new create does not wait out the guessed durations."""
        key = new_key()
        poll = fast_poll(default_duration=120)
        async with start_emulator(concurrency=5) as emu:
            for n in range(5):
                async with make_client(emu, api_key=key, poll=poll) as client:
                    await client.text_to_image.create(**image(n))
            async with make_client(emu, api_key=key, poll=poll, slot_timeout=30) as client:
                handle = await client.text_to_image.create(**image(99))
                done = await handle.wait_for_task_output(timeout=30)
            metrics = emu.metrics()
        assert done.status == "SUCCEEDED"
        assert metrics["tasks_created_total"] == 6
        assert metrics["throttled_seconds"]["total"] == 0

    async def test_an_orphan_is_handed_out_once(self) -> None:
        """orphans() returns a delayed-released slot with a known task once, then nothing."""
        limiter = InProcessLimiter()
        slot = await limiter.acquire(MODEL, limit=1)
        slot.task_id = "task-1"
        limiter.release(slot, after=120)
        assert limiter.orphans(MODEL) == [slot]
        assert limiter.orphans(MODEL) == []
        limiter.release(slot)
        assert (await limiter.acquire(MODEL, limit=1, timeout=1)).model == MODEL


class TestMaxConcurrency:
    """``max_concurrency`` overrides the organization's limits."""

    async def test_int_caps_every_model(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """An int caps each model below the org's limit."""
        async with (
            start_emulator(concurrency=5) as emu,
            make_client(emu, max_concurrency=2) as client,
        ):
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(12))
            )
            await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
            metrics = emu.metrics()
        assert metrics["max_running"][MODEL] <= 2
        assert metrics["tasks_created_total"] == 12

    async def test_mapping_caps_listed_models_and_leaves_others_auto(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A mapping caps the models it names; the others follow the organization."""
        async with (
            start_emulator(concurrency=3, durations={"audio": 4.0}) as emu,
            make_client(emu, max_concurrency={MODEL: 1}) as client,
        ):
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(6)),
                *(client.text_to_speech.create(**SPEECH) for _ in range(9)),
            )
            await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
            metrics = emu.metrics()
        assert metrics["max_running"][MODEL] == 1
        assert metrics["max_running"]["eleven_multilingual_v2"] <= 3
        assert metrics["throttled_seconds"]["total"] == 0

    async def test_none_turns_limiting_off(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """With None nothing waits client-side: the server throttles, and no org read is made."""
        async with (
            start_emulator(concurrency=2) as emu,
            make_client(emu, max_concurrency=None) as client,
        ):
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(8))
            )
            await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
            metrics = emu.metrics()
        assert metrics["throttled_seconds"]["total"] > 0
        assert "GET /v1/organization" not in metrics["requests"]

    @pytest.mark.parametrize("value", [0, -1, 1.5, "many", {MODEL: 0}, {MODEL: "x"}, True])
    async def test_invalid_settings_are_refused(self, value: object) -> None:
        """Counts below 1, non-integers and other junk are rejected at construction."""
        with pytest.raises(ValueError, match="max_concurrency"):
            AsyncRunway(new_key(), base_url="http://127.0.0.1:9", max_concurrency=value)  # type: ignore[arg-type]

    async def test_slot_timeout_sends_nothing(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A create that cannot get a slot in time raises SlotTimeoutError and sends nothing."""
        async with (
            start_emulator(durations={"image": 10_000.0}) as emu,
            make_client(emu, max_concurrency=1, slot_timeout=MIN_INTERVAL) as client,
        ):
            await client.text_to_image.create(**image(0))
            with pytest.raises(SlotTimeoutError) as info:
                await client.text_to_image.create(**image(1))
            assert client.limiter.waiting(MODEL) == 0  # type: ignore[attr-defined]
            metrics = emu.metrics()
        assert info.value.model == MODEL
        assert isinstance(info.value, TimeoutError)
        assert metrics["tasks_created_total"] == 1


class TestCancellation:
    """Cancelling never leaks a slot, and a create cancelled while queued costs nothing."""

    async def test_cancelled_while_queued_never_creates(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A create cancelled while waiting for a slot leaves the queue and never POSTs."""
        async with (
            start_emulator(durations={"image": 10_000.0}) as emu,
            make_client(emu, max_concurrency=1) as client,
        ):
            limiter = client.limiter
            assert isinstance(limiter, InProcessLimiter)
            await client.text_to_image.create(**image(0))
            queued = asyncio.ensure_future(client.text_to_image.create(**image(1)))
            await until(lambda: limiter.waiting(MODEL) == 1)
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            assert limiter.waiting(MODEL) == 0
            assert limiter.in_use(MODEL) == 1
            metrics = emu.metrics()
        assert metrics["tasks_created_total"] == 1

    async def test_cancelled_wait_after_create_does_not_leak(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A task whose waiter was cancelled still frees its slot when it ends."""
        async with start_emulator() as emu, make_client(emu, max_concurrency=1) as client:
            first = await client.text_to_image.create(**image(0))
            waiter = asyncio.ensure_future(first.wait_for_task_output(timeout=30))
            await asyncio.sleep(0)
            waiter.cancel()
            second = await client.text_to_image.create(**image(1))
            await second.wait_for_task_output(timeout=30)
            await until(lambda: client.limiter.in_use(MODEL) == 0)  # type: ignore[attr-defined]
            metrics = emu.metrics()
        assert metrics["tasks_created_total"] == 2
        assert metrics["max_running"][MODEL] == 1
        assert metrics["throttled_seconds"]["total"] == 0

    async def test_cancelled_mid_post_frees_after_the_expected_duration(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A create cancelled while its POST is out holds its slot as long as a task takes."""
        async with start_emulator() as emu, make_client(emu, max_concurrency=1) as client:
            await (await client.text_to_image.create(**image(0))).wait_for_task_output()
            emu.faults.inject("hold_after", delay=60 * MIN_INTERVAL)
            pending = asyncio.ensure_future(client.text_to_image.create(**image(1)))
            await until(lambda: emu.metrics()["tasks_created_total"] == 2)
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
            assert client.limiter.in_use(MODEL) == 1  # type: ignore[attr-defined]
            third = await client.text_to_image.create(**image(2))
            await third.wait_for_task_output(timeout=30)
            metrics = emu.metrics()
        assert metrics["tasks_created_total"] == 3
        assert metrics["max_running"][MODEL] == 1
        assert metrics["throttled_seconds"]["total"] == 0


class TestFailedCreates:
    """What a failed create does with its slot."""

    async def test_ambiguous_create_frees_after_the_expected_duration(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """After error_after the slot stays taken until such a task would have ended."""
        async with start_emulator() as emu, make_client(emu, max_concurrency=1) as client:
            for n in range(3):  # learn how long the model takes
                await (await client.text_to_image.create(**image(n))).wait_for_task_output()
            emu.faults.inject("error_after")
            with pytest.raises(AmbiguousSubmissionError):
                await client.text_to_image.create(**image(10))
            assert client.limiter.in_use(MODEL) == 1  # type: ignore[attr-defined]
            after = await client.text_to_image.create(**image(11))
            await after.wait_for_task_output(timeout=30)
            metrics = emu.metrics()
        assert metrics["tasks_created_total"] == 5
        # The unseen task ended before the next one started: never two at once.
        assert metrics["max_running"][MODEL] == 1
        assert metrics["throttled_seconds"]["total"] == 0

    async def test_certain_failure_frees_at_once(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A create the server certainly refused gives its slot back immediately."""
        async with start_emulator() as emu, make_client(emu, max_concurrency=1) as client:
            emu.faults.inject("error_before", status=400)
            with pytest.raises(BadRequestError):
                await client.text_to_image.create(**image(0))
            assert client.limiter.in_use(MODEL) == 0  # type: ignore[attr-defined]


class TestDailyLimit:
    """The daily quota fails fast."""

    async def test_daily_limit_raises_before_sending(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Once the model's daily quota is used up, creates fail without a request."""
        async with start_emulator(daily_limit=3) as emu, make_client(emu) as client:
            for n in range(3):
                await client.text_to_image.create(**image(n))
            with pytest.raises(DailyLimitError) as info:
                await client.text_to_image.create(**image(3))
            await client.text_to_speech.create(**SPEECH)  # another model is unaffected
            metrics = emu.metrics()
        error = info.value
        assert isinstance(error, RateLimitError)
        assert (error.model, error.limit, error.used) == (MODEL, 3, 3)
        assert MODEL in str(error)
        assert "24 hours" in str(error)
        assert metrics["requests"]["POST /v1/text_to_image"] == {"200": 3}


class TestInProcessLimiter:
    """The limiter on its own."""

    async def test_slots_are_granted_first_come_first_served(self) -> None:
        """Queued acquires get slots in the order they asked."""
        limiter = InProcessLimiter()
        limiter.update_organization(org({MODEL: 1}))
        held = await limiter.acquire(MODEL)
        order: list[int] = []

        async def take(n: int) -> None:
            slot = await limiter.acquire(MODEL)
            order.append(n)
            limiter.release(slot)

        waiting = [asyncio.ensure_future(take(n)) for n in range(5)]
        await until(lambda: limiter.waiting(MODEL) == 5)
        limiter.release(held)
        await asyncio.gather(*waiting)
        assert order == [0, 1, 2, 3, 4]
        assert limiter.in_use(MODEL) == 0

    async def test_until_the_org_is_read_one_slot_per_model(self) -> None:
        """Before the organization is known each model gets one slot; its limits then apply."""
        limiter = InProcessLimiter()
        first = await limiter.acquire(MODEL)
        other_model = await limiter.acquire("veo3.1")
        claims: list[bool] = []
        second = asyncio.ensure_future(
            limiter.acquire(MODEL, on_wait=lambda: claims.append(limiter.claim_refresh()))
        )
        await until(lambda: limiter.waiting(MODEL) == 1)
        assert claims == [True]  # the waiting acquire is asked to fetch the organization
        limiter.update_organization(org({MODEL: 2}))
        slot = await second
        assert limiter.in_use(MODEL) == 2
        for held in (first, other_model, slot):
            limiter.release(held)

    async def test_a_failed_read_fails_open(self) -> None:
        """If the organization cannot be read, auto means unlimited until it can."""
        limiter = InProcessLimiter()
        await limiter.acquire(MODEL)
        assert limiter.claim_refresh()
        limiter.refresh_failed()
        assert not limiter.claim_refresh()  # not again right away
        slots = [await limiter.acquire(MODEL) for _ in range(5)]
        assert limiter.in_use(MODEL) == 6
        assert len(slots) == 5

    async def test_deadline_and_release_later(self) -> None:
        """A deadline raises SlotTimeoutError; a delayed release frees the slot when due."""
        now = [0.0]
        limiter = InProcessLimiter(clock=lambda: now[0])
        limiter.update_organization(org({MODEL: 1}))
        slot = await limiter.acquire(MODEL)
        with pytest.raises(SlotTimeoutError):
            await limiter.acquire(MODEL, timeout=0)
        limiter.release(slot, after=10.0)
        assert limiter.in_use(MODEL) == 1
        now[0] = 10.0
        assert limiter.in_use(MODEL) == 0
        limiter.release(slot)  # idempotent
        assert limiter.in_use(MODEL) == 0

    async def test_daily_quota_counts_creates_since_the_read(self) -> None:
        """Usage read from the org plus slots granted since then hit the daily limit."""
        limiter = InProcessLimiter()
        limiter.update_organization(org({MODEL: None}, {MODEL: 5}, **{MODEL: 3}))
        first = await limiter.acquire(MODEL)
        second = await limiter.acquire(MODEL)
        with pytest.raises(DailyLimitError):
            await limiter.acquire(MODEL)
        limiter.release(second, created=False)  # that create never happened
        third = await limiter.acquire(MODEL)
        for slot in (first, third):
            limiter.release(slot)

    async def test_wanted_callback_fires_when_someone_queues(self) -> None:
        """A held slot's holder hears when another acquire starts waiting for its model."""
        limiter = InProcessLimiter()
        limiter.update_organization(org({MODEL: 1}))
        held = await limiter.acquire(MODEL)
        wanted: list[str] = []
        limiter.notify_when_wanted(held, lambda: wanted.append("now"))
        assert wanted == []
        queued = asyncio.ensure_future(limiter.acquire(MODEL))
        await until(lambda: bool(wanted))
        limiter.release(held)
        limiter.release(await queued)
        assert wanted == ["now"]


class TestTryAcquire:
    """The non-blocking half of ``acquire``."""

    async def test_takes_a_free_slot_or_returns_none(self) -> None:
        """A free slot is taken at once; with none free, nothing is held or queued."""
        limiter = InProcessLimiter()
        limiter.update_organization(org({MODEL: 1}))
        slot = limiter.try_acquire(MODEL)
        assert slot is not None
        assert slot.model == MODEL
        assert limiter.try_acquire(MODEL) is None
        assert (limiter.in_use(MODEL), limiter.waiting(MODEL)) == (1, 0)
        assert limiter.try_acquire(MODEL, limit=None) is not None  # no cap
        limiter.release(slot)
        assert limiter.try_acquire(MODEL, limit=1) is None  # the uncapped one still runs

    async def test_does_not_jump_the_queue(self) -> None:
        """While an acquire is queued, a try gets nothing even if the cap allows one more."""
        limiter = InProcessLimiter()
        limiter.update_organization(org({MODEL: 1}))
        held = await limiter.acquire(MODEL)
        queued = asyncio.ensure_future(limiter.acquire(MODEL))
        await until(lambda: limiter.waiting(MODEL) == 1)
        assert limiter.try_acquire(MODEL, limit=None) is None
        limiter.release(held)
        limiter.release(await queued)

    async def test_refuses_when_the_daily_quota_is_used_up(self) -> None:
        """The daily quota raises DailyLimitError rather than returning None."""
        limiter = InProcessLimiter()
        limiter.update_organization(org({MODEL: None}, {MODEL: 1}))
        assert limiter.try_acquire(MODEL) is not None
        with pytest.raises(DailyLimitError):
            limiter.try_acquire(MODEL)

    def test_checks_the_limit(self) -> None:
        """A limit that is not a count, None or "auto" is refused."""
        with pytest.raises(ValueError, match="limit must be"):
            InProcessLimiter().try_acquire(MODEL, limit=0)


class TestVirtualTime:
    """The limiter's waits run on its clock, so a VirtualClock decides them exactly."""

    async def test_slot_timeout_expires_at_the_virtual_deadline(self) -> None:
        """A queued acquire with timeout=30 fails at exactly 30 virtual seconds."""
        clock = VirtualClock()
        limiter = InProcessLimiter(clock=clock)
        limiter.update_organization(org({MODEL: 1}))
        held = await limiter.acquire(MODEL)
        start = clock.now()
        failed_at: list[float] = []

        async def queue() -> None:
            with pytest.raises(SlotTimeoutError) as info:
                await limiter.acquire(MODEL, timeout=30)
            failed_at.append(clock.now())
            assert info.value.timeout == 30

        queued = asyncio.ensure_future(queue())
        await clock.run_until(start + 29.5)
        assert not queued.done()
        assert limiter.waiting(MODEL) == 1
        await clock.run_until_done(queued, limit=60)
        await queued
        assert failed_at == [start + 30]
        assert limiter.waiting(MODEL) == 0
        assert clock.pending == 0  # the deadline's timer is gone
        limiter.release(held)

    async def test_a_delayed_release_frees_at_its_virtual_time(self) -> None:
        """release(after=10) hands the slot to a queued acquire at exactly +10 s."""
        clock = VirtualClock()
        limiter = InProcessLimiter(clock=clock)
        limiter.update_organization(org({MODEL: 1}))
        held = await limiter.acquire(MODEL)
        start = clock.now()
        limiter.release(held, after=10)
        granted_at: list[float] = []

        async def queue() -> None:
            slot = await limiter.acquire(MODEL)
            granted_at.append(clock.now())
            limiter.release(slot)

        queued = asyncio.ensure_future(queue())
        await clock.run_until(start + 9.9)
        assert (limiter.in_use(MODEL), limiter.waiting(MODEL)) == (1, 1)
        await clock.run_until_done(queued, limit=60)
        await queued
        assert granted_at == [start + 10]
        assert limiter.in_use(MODEL) == 0

    async def test_a_shorter_delay_wakes_a_queued_acquire_earlier(self) -> None:
        """A queued acquire sleeping until one expiry re-plans when an earlier one is set."""
        clock = VirtualClock()
        limiter = InProcessLimiter(clock=clock)
        limiter.update_organization(org({MODEL: 2}))
        first, second = await limiter.acquire(MODEL), await limiter.acquire(MODEL)
        start = clock.now()
        limiter.release(first, after=50)
        queued = asyncio.ensure_future(limiter.acquire(MODEL))
        await clock.run_until(start + 5)
        limiter.release(second, after=5)  # frees at start + 10
        await clock.run_until_done(queued, limit=100)
        assert clock.now() == start + 10
        limiter.release(await queued)

    async def test_wanted_callback_fires_when_a_second_acquire_queues(self) -> None:
        """notify_when_wanted fires once, when another acquire of the model starts waiting."""
        clock = VirtualClock()
        limiter = InProcessLimiter(clock=clock)
        limiter.update_organization(org({MODEL: 1, "veo3.1": 1}))
        held = await limiter.acquire(MODEL)
        wanted: list[float] = []
        limiter.notify_when_wanted(held, lambda: wanted.append(clock.now()))
        other = await limiter.acquire("veo3.1")  # another model: not wanted
        await clock.advance(7)
        assert wanted == []
        queued = asyncio.ensure_future(limiter.acquire(MODEL))
        third = asyncio.ensure_future(limiter.acquire(MODEL))
        await clock.settle()
        assert wanted == [clock.now()]  # once, however many queue
        late: list[str] = []
        limiter.notify_when_wanted(held, lambda: late.append("again"))
        assert late == ["again"]  # already wanted: at once
        limiter.release(held)
        limiter.release(await queued)
        limiter.release(await third)
        limiter.release(other)
        assert wanted == [clock.now()]

    async def test_a_released_slot_is_never_wanted(self) -> None:
        """A callback registered for a released or delay-released slot never runs."""
        limiter = InProcessLimiter(clock=VirtualClock())
        limiter.update_organization(org({MODEL: 2}))
        gone, leaving = await limiter.acquire(MODEL), await limiter.acquire(MODEL)
        limiter.release(gone)
        calls: list[str] = []
        limiter.notify_when_wanted(gone, lambda: calls.append("gone"))
        limiter.notify_when_wanted(leaving, lambda: calls.append("leaving"))
        limiter.release(leaving, after=60)
        blocker = await limiter.acquire(MODEL)
        queued = asyncio.ensure_future(limiter.acquire(MODEL))
        await until(lambda: limiter.waiting(MODEL) == 1)
        assert calls == []
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        limiter.release(blocker)

    async def test_a_plain_function_is_still_accepted_as_the_clock(self) -> None:
        """clock= may be a function of seconds (the old signature); waits use loop time."""
        now = [100.0]
        limiter = InProcessLimiter(clock=lambda: now[0])
        limiter.update_organization(org({MODEL: 1}))
        held = await limiter.acquire(MODEL)
        limiter.release(held, after=5)
        now[0] = 105.0
        assert limiter.in_use(MODEL) == 0
        with pytest.raises(TypeError, match="clock"):
            InProcessLimiter(clock=42)  # type: ignore[arg-type]


class MinimalLimiter:
    """A third-party limiter: no limits, told nothing, knows no orphans."""

    def __init__(self) -> None:
        self.held: set[Slot] = set()
        self.wanted: list[Slot] = []

    async def acquire(
        self,
        model: str,
        *,
        limit: int | Literal["auto"] | None = "auto",
        timeout: float | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> Slot:
        slot = Slot(model, self)
        self.held.add(slot)
        return slot

    def release(self, slot: Slot, *, after: float = 0.0, created: bool = True) -> None:
        self.held.discard(slot)

    def claim_refresh(self) -> bool:
        return False

    def update_organization(self, organization: Organization) -> None:
        pass

    def refresh_failed(self, *, abandoned: bool = False) -> None:
        pass

    def mark_stale(self) -> None:
        pass

    def notify_when_wanted(self, slot: Slot, callback: Callable[[], None]) -> None:
        self.wanted.append(slot)
        callback()  # cannot tell: always wanted

    def orphans(self, model: str) -> list[Slot]:
        return []

    def lend(self, slot: Slot) -> None:
        pass  # cannot lend: slots pass on only when released


class TestLimiterInterface:
    """``Limiter`` is a runtime-checkable protocol another limiter can implement fully."""

    def test_protocol_is_runtime_checkable(self) -> None:
        """An isinstance check needs every method, notify_when_wanted, orphans and lend included."""
        assert isinstance(InProcessLimiter(), Limiter)
        assert isinstance(MinimalLimiter(), Limiter)
        assert not isinstance(object(), Limiter)

        class NotToldWhenWanted(MinimalLimiter):
            notify_when_wanted = None  # type: ignore[assignment]

        class NoOrphans(MinimalLimiter):
            orphans = None  # type: ignore[assignment]

        assert not isinstance(NotToldWhenWanted(), Limiter)
        assert not isinstance(NoOrphans(), Limiter)
        assert Slot("m").limiter is None
        assert not hasattr(Slot, "notify_when_wanted")  # asked of the limiter, not the slot

    async def test_a_third_party_limiter_runs_creates(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A client given a minimal limiter creates, watches and releases through it."""
        limiter = MinimalLimiter()
        async with start_emulator() as emu, make_client(emu, limiter=limiter) as client:
            assert client.limiter is limiter
            handles = [await client.text_to_image.create(**image(n)) for n in range(3)]
            for handle in handles:
                assert (await handle.wait_for_task_output(timeout=30)).status == "SUCCEEDED"
            await until(lambda: not limiter.held)
        assert len(limiter.wanted) == 3


def test_poll_config_keeps_the_cores_name() -> None:
    """PollConfig(interval=...) still works and means min_interval."""
    poll = fast_poll()
    assert poll.interval == poll.min_interval
    from runway_async import PollConfig

    assert PollConfig(interval=0.5).min_interval == 0.5
    with pytest.raises(ValueError, match="not both"):
        PollConfig(interval=0.5, min_interval=1.0)
