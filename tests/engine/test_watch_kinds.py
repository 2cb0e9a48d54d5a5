"""Waiting for objects other than tasks through the watcher, on virtual time.

Avatars, voices, sessions and invocations: a ``WatchKind`` maps their statuses onto the task
schedule.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import attrs
import pytest

from runway_async import (
    AsyncRunway,
    NotFoundError,
    PollConfig,
    ResponseValidationError,
    TaskTimeoutError,
    VirtualClock,
)
from runway_async._client import core_of
from runway_async._http import DownloadStream, Request, Response
from runway_async._watched import WatchKind

READY_AFTER = 17.0  # virtual seconds a thing stays PROCESSING


@attrs.frozen
class Thing:
    id: str
    status: str
    progress: float | None = None


def parse_thing(data: object, thing_id: str) -> Thing:
    if not isinstance(data, Mapping) or data.get("id") != thing_id:
        raise ResponseValidationError("not that thing", body=data)
    return Thing(id=data["id"], status=data["status"], progress=data.get("progress"))


THING = WatchKind(
    name="thing",
    path=lambda thing_id: f"/v1/things/{thing_id}",
    parse=parse_thing,
    status=lambda thing: {
        "PROCESSING": "PENDING",
        "WORKING": "RUNNING",
        "READY": "SUCCEEDED",
        "BROKEN": "FAILED",
    }.get(thing.status, thing.status),
)


class ThingsAPI:
    """Answers ``GET /v1/things/{id}`` from the virtual clock: PROCESSING, then READY."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.gets: list[tuple[str, float]] = []
        self.script: dict[str, list[tuple[float, dict[str, Any]]]] = {}

    async def send(self, request: Request) -> Response:
        path = "/" + request.url.split("://", 1)[1].partition("/")[2]
        now = self.clock.now()
        self.gets.append((path, now))
        thing_id = path.rpartition("/")[2]
        steps = self.script.get(thing_id)
        if steps is None:
            return Response(404, {}, {"error": "Not found"})
        reply: dict[str, Any] = {}
        for at, state in steps:
            if now - 1000.0 >= at:
                reply = state
        return Response(200, {}, {"id": thing_id, **reply})

    def stream(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        connect_timeout: float,
        read_timeout: float,
    ) -> AbstractAsyncContextManager[DownloadStream]:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1000.0)


@pytest.fixture
async def setup(clock: VirtualClock) -> AsyncIterator[tuple[AsyncRunway, ThingsAPI]]:
    api = ThingsAPI(clock)
    client = AsyncRunway(
        "key_kinds",
        base_url="https://api.example",
        transport=api,  # type: ignore[arg-type]  # a partial fake: no uploads here
        clock=clock,
        poll=PollConfig(min_interval=5.0),
        max_concurrency=None,
    )
    yield client, api
    await client.aclose()


async def test_a_wait_polls_every_floor_until_ready(
    setup: tuple[AsyncRunway, ThingsAPI], clock: VirtualClock
) -> None:
    client, api = setup
    api.script["a"] = [(0, {"status": "PROCESSING"}), (READY_AFTER, {"status": "READY"})]
    core = core_of(client)
    waiting = asyncio.ensure_future(core.wait_resource(THING, "a", timeout=60))
    await clock.run_until_done(waiting, limit=60)
    thing = waiting.result()
    assert thing == Thing(id="a", status="READY")
    times = [at - 1000.0 for _, at in api.gets]
    assert times[0] == 0.0  # an object created elsewhere: looked at once
    assert all(b - a >= 5.0 for a, b in itertools.pairwise(times))  # the floor
    assert times[-1] >= READY_AFTER
    assert len(times) <= 5  # 0, 5, 10, 15, 20


async def test_concurrent_waits_share_each_get(
    setup: tuple[AsyncRunway, ThingsAPI], clock: VirtualClock
) -> None:
    client, api = setup
    api.script["b"] = [(0, {"status": "PROCESSING"}), (8, {"status": "READY"})]
    core = core_of(client)
    waits = [asyncio.ensure_future(core.wait_resource(THING, "b", timeout=60)) for _ in range(5)]
    await clock.run_until_done(asyncio.gather(*waits), limit=60)
    assert {w.result().status for w in waits} == {"READY"}
    assert len(api.gets) == 3  # 0, 5, 10: one GET per poll, however many waiters


async def test_a_failed_object_is_returned_not_raised(
    setup: tuple[AsyncRunway, ThingsAPI], clock: VirtualClock
) -> None:
    client, api = setup
    api.script["c"] = [(0, {"status": "PROCESSING"}), (3, {"status": "BROKEN"})]
    waiting = asyncio.ensure_future(core_of(client).wait_resource(THING, "c", timeout=60))
    await clock.run_until_done(waiting, limit=60)
    assert waiting.result().status == "BROKEN"


async def test_the_deadline_raises_with_the_last_object(
    setup: tuple[AsyncRunway, ThingsAPI], clock: VirtualClock
) -> None:
    client, api = setup
    api.script["d"] = [(0, {"status": "PROCESSING"})]
    waiting = asyncio.ensure_future(core_of(client).wait_resource(THING, "d", timeout=12))
    await clock.run_until_done(waiting, limit=60)
    with pytest.raises(TaskTimeoutError) as caught:
        waiting.result()
    assert caught.value.task_details == Thing(id="d", status="PROCESSING")
    assert clock.now() - 1000.0 == pytest.approx(12.0)


async def test_a_404_ends_the_wait(
    setup: tuple[AsyncRunway, ThingsAPI], clock: VirtualClock
) -> None:
    client, _ = setup
    waiting = asyncio.ensure_future(core_of(client).wait_resource(THING, "nope", timeout=60))
    await clock.run_until_done(waiting, limit=60)
    with pytest.raises(NotFoundError):
        waiting.result()


async def test_events_carry_progress_and_the_end(
    setup: tuple[AsyncRunway, ThingsAPI], clock: VirtualClock
) -> None:
    client, api = setup
    api.script["e"] = [
        (0, {"status": "WORKING", "progress": 0.2}),
        (6, {"status": "WORKING", "progress": 0.6}),
        (11, {"status": "READY"}),
    ]

    async def collect() -> list[tuple[str, float | None]]:
        stream = core_of(client).resource_events(THING, "e", buffer=16)
        return [(event.kind, event.progress) async for event in stream]

    collecting = asyncio.ensure_future(collect())
    await clock.run_until_done(collecting, limit=60)
    kinds = collecting.result()
    assert kinds[0] == ("running", 0.2)
    assert ("running", 0.6) in kinds
    assert kinds[-1] == ("succeeded", 1.0)


async def test_kinds_get_their_own_watcher_and_close_with_the_client(
    clock: VirtualClock,
) -> None:
    api = ThingsAPI(clock)
    api.script["f"] = [(0, {"status": "PROCESSING"})]
    client = AsyncRunway(
        "key_kinds",
        base_url="https://api.example",
        transport=api,  # type: ignore[arg-type]
        clock=clock,
        poll=PollConfig(min_interval=5.0),
        max_concurrency=None,
    )
    core = core_of(client)
    waiting = asyncio.ensure_future(core.wait_resource(THING, "f", timeout=None))
    await clock.advance(1.0)
    assert core.state.kind_watcher(THING) is not core.watcher()
    await client.aclose()
    with pytest.raises(Exception, match="closed"):
        await waiting
