"""Learned task durations shared through a limiter that several processes use (issue 15).

A limiter with ``load_durations``/``save_durations`` (``RedisLimiter`` has them) gives a new
client's watcher what the fleet measured, and receives what it learns. Here a stand-in keeps
them in a dict, so the core's side is tested without Redis.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from runway_async import AsyncRunway, InProcessLimiter, PollConfig
from runway_async._core import SharesDurations
from runway_async._duration_cache import EstimatorState
from runway_async.emulator import Emulator

from .conftest import API_KEY

MODEL = "gen4_image"


class SharingLimiter(InProcessLimiter):
    """An in-process limiter that shares durations through a dict (as Redis would)."""

    def __init__(self, store: dict[str, EstimatorState], *, fail: bool = False) -> None:
        super().__init__()
        self.store = store
        self.fail = fail
        self.loads = 0
        self.saves: list[dict[str, EstimatorState]] = []

    async def load_durations(self) -> dict[str, EstimatorState]:
        self.loads += 1
        if self.fail:
            raise ConnectionError("redis is down")
        return dict(self.store)

    async def save_durations(self, states: Mapping[str, EstimatorState]) -> None:
        if self.fail:
            raise ConnectionError("redis is down")
        self.saves.append(dict(states))
        self.store.update(states)


async def run_tasks(emu: Emulator, limiter: InProcessLimiter, count: int) -> AsyncRunway:
    client = AsyncRunway(
        API_KEY, base_url=emu.url, limiter=limiter, poll=PollConfig(interval=0.005)
    )
    for n in range(count):
        await client.text_to_image.create(
            model=MODEL, prompt_text=f"fox {n}", ratio="1920:1080"
        ).wait_for_task_output(timeout=60)
    return client


def test_the_stand_in_is_a_sharing_limiter() -> None:
    assert isinstance(SharingLimiter({}), SharesDurations)
    assert not isinstance(InProcessLimiter(), SharesDurations)


async def test_a_new_client_starts_from_what_the_fleet_learned() -> None:
    store: dict[str, EstimatorState] = {}
    async with Emulator(time_scale=0.002, seed=9) as emu:
        first_limiter = SharingLimiter(store)
        first = await run_tasks(emu, first_limiter, 6)
        learned = first._core.state.watcher().learned()
        await first.aclose()
        assert MODEL in learned
        assert store[MODEL] == learned[MODEL]  # shared when the client closed, at the latest

        second_limiter = SharingLimiter(store)
        async with AsyncRunway(API_KEY, base_url=emu.url, limiter=second_limiter) as second:
            watcher = second._core.state.watcher()
            # The load runs in the background of the loop; the client's first create yields.
            await second.organization.retrieve()
            assert second_limiter.loads == 1
            assert watcher.learned()[MODEL] == store[MODEL]


async def test_a_watcher_keeps_its_own_measurements() -> None:
    async with Emulator(time_scale=0.002, seed=9) as emu:
        limiter = SharingLimiter({})
        client = await run_tasks(emu, limiter, 4)
        watcher = client._core.state.watcher()
        own = watcher.learned()[MODEL]
        other = EstimatorState(aim=99.0, exact=1, observed=1, spread=(99.0,), pending=None)
        watcher.seed({MODEL: other, "gen4_turbo": other})
        assert watcher.learned()[MODEL] == own
        assert watcher.learned()["gen4_turbo"].aim == pytest.approx(99.0)
        await client.aclose()


async def test_sharing_failures_never_reach_the_client() -> None:
    async with Emulator(time_scale=0.002, seed=9) as emu:
        limiter = SharingLimiter({}, fail=True)
        client = await run_tasks(emu, limiter, 3)
        await client.aclose()  # the final share fails quietly
        assert limiter.loads == 1
        assert limiter.saves == []
