"""The client over a transport and a clock of the caller's: the seams the architecture opens.

A transport written here (no aiohttp, no socket) answers like the API from a virtual
timeline, and a ``VirtualClock`` drives the watcher: a create and its wait run end to end in
milliseconds of real time, whatever the machine's load.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from runway_async import (
    NOT_GIVEN,
    AsyncRunway,
    HTTPTransport,
    PollConfig,
    SucceededTask,
    TaskTimeoutError,
    VirtualClock,
)
from runway_async._client import core_of
from runway_async._http import DownloadStream, FilePart, Request, Response

DURATION = 12.0  # virtual seconds each task runs (beyond the 10 s of two poll floors)
IMAGE = {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1920:1080"}


class TimelineAPI:
    """An ``HTTPTransport`` answering creates and task GETs from the virtual clock's time."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.created: dict[str, float] = {}
        self.requests: list[tuple[str, str, float]] = []
        self.closed = False

    async def send(self, request: Request) -> Response:
        now = self.clock.now()
        path = request.url.split("://", 1)[1].partition("/")[2]
        self.requests.append((request.method, "/" + path, now))
        assert request.headers["Authorization"] == "Bearer key_core"
        if request.method == "POST" and path == "v1/text_to_image":
            task_id = f"task-{len(self.created)}"
            self.created[task_id] = now
            return Response(200, {}, {"id": task_id})
        if request.method == "GET" and path.startswith("v1/tasks/"):
            task_id = path.rpartition("/")[2]
            return Response(200, {}, self.task(task_id, now))
        return Response(404, {}, {"error": "Not found"})

    def task(self, task_id: str, now: float) -> dict[str, Any]:
        created = self.created[task_id]
        reply: dict[str, Any] = {"id": task_id, "createdAt": "2026-12-02T00:00:00Z"}
        elapsed = now - created
        if elapsed >= DURATION:
            reply.update(status="SUCCEEDED", output=[f"https://cdn.example/{task_id}.png"])
        else:
            reply.update(status="RUNNING", progress=round(elapsed / DURATION, 3))
        return reply

    def stream(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        connect_timeout: float,
        read_timeout: float,
    ) -> AbstractAsyncContextManager[DownloadStream]:
        raise NotImplementedError("no downloads here")

    async def post_form(
        self,
        url: str,
        *,
        fields: Sequence[tuple[str, str]],
        file: FilePart,
        timeout: float | None,
        connect_timeout: float,
        max_response_bytes: int,
        on_progress: Callable[[int], object] | None = None,
    ) -> Response:
        raise NotImplementedError("no uploads here")

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1000.0)


@pytest.fixture
async def client(clock: VirtualClock) -> AsyncIterator[tuple[AsyncRunway, TimelineAPI]]:
    api = TimelineAPI(clock)
    assert isinstance(api, HTTPTransport)  # the protocol, checked structurally by mypy too
    client = AsyncRunway(
        "key_core",
        base_url="https://api.example",
        transport=api,
        clock=clock,
        poll=PollConfig(min_interval=5.0),
        max_concurrency=None,
    )
    yield client, api
    await client.aclose()


class TestPluggedTransportAndClock:
    async def test_a_create_and_its_wait_run_on_virtual_time(
        self, client: tuple[AsyncRunway, TimelineAPI], clock: VirtualClock
    ) -> None:
        """A task of 12 virtual s, the first of its model: probed at 1 s, then 6 s.

        Two progress samples a floor apart measure when it started and how fast it goes;
        the extrapolation then aims the last poll just after its end.
        """
        runway, api = client
        handle = await runway.text_to_image.create(**IMAGE)
        waiting = asyncio.ensure_future(handle.wait_for_task_output(timeout=60))
        await clock.run_until_done(waiting, limit=60)
        done = waiting.result()
        assert isinstance(done, SucceededTask)
        assert done.output == ("https://cdn.example/task-0.png",)
        polls = [at - 1000.0 for method, path, at in api.requests if method == "GET"]
        assert polls[:2] == pytest.approx([1.0, 6.0])
        assert len(polls) == 3
        assert DURATION <= polls[2] <= DURATION * 1.03  # just after the end (plus jitter)

    async def test_a_wait_deadline_passes_on_virtual_time(
        self, client: tuple[AsyncRunway, TimelineAPI], clock: VirtualClock
    ) -> None:
        """A 0.5 s deadline ends the wait at 0.5 virtual seconds, before the 1 s first poll."""
        runway, api = client
        handle = await runway.text_to_image.create(**IMAGE)
        waiting = asyncio.ensure_future(handle.wait_for_task_output(timeout=0.5))
        await clock.run_until_done(waiting, limit=10)
        with pytest.raises(TaskTimeoutError):
            waiting.result()
        assert clock.now() == pytest.approx(1000.5)
        assert [m for m, _p, _a in api.requests] == ["POST"]

    async def test_closing_the_client_closes_its_transport(self, clock: VirtualClock) -> None:
        """A transport given to the client is closed with it (the client owns what it uses)."""
        api = TimelineAPI(clock)
        runway = AsyncRunway("key_core", base_url="https://api.example", transport=api)
        await runway.aclose()
        assert api.closed

    async def test_a_session_and_a_transport_are_refused_together(
        self, clock: VirtualClock
    ) -> None:
        """session= builds the default transport; with transport= too it is a TypeError."""
        with pytest.raises(TypeError, match="session or transport"):
            AsyncRunway("key_core", transport=TimelineAPI(clock), session=object())


class TestCores:
    async def test_resources_and_copies_share_one_state(
        self, client: tuple[AsyncRunway, TimelineAPI]
    ) -> None:
        """Each with_options copy has its own core over the one shared state and transport."""
        runway, api = client
        copy = runway.with_options(timeout=5, slot_timeout=2)
        assert core_of(copy) is not core_of(runway)
        assert core_of(copy).state is core_of(runway).state
        assert core_of(copy).http is api
        assert copy.slot_timeout == 2
        assert runway.slot_timeout is None


class TestWithOptionsNotGiven:
    async def test_left_out_keeps_and_none_means_no_limit(
        self, client: tuple[AsyncRunway, TimelineAPI]
    ) -> None:
        """NOT_GIVEN keeps a setting; None lifts max_concurrency and slot_timeout."""
        runway, _api = client
        limited = runway.with_options(max_concurrency=3, slot_timeout=4)
        same = limited.with_options(timeout=NOT_GIVEN)
        assert (same.max_concurrency, same.slot_timeout) == (3, 4)
        lifted = limited.with_options(max_concurrency=None, slot_timeout=None)
        assert (lifted.max_concurrency, lifted.slot_timeout) == (None, None)

    @pytest.mark.parametrize("name", ["max_retries", "retry", "poll", "max_response_bytes"])
    async def test_none_is_refused_where_it_means_nothing(
        self, client: tuple[AsyncRunway, TimelineAPI], name: str
    ) -> None:
        """with_options(timeout=None) used to keep the setting silently; now it says so."""
        runway, _api = client
        with pytest.raises(TypeError, match=rf"with_options\({name}=None\)"):
            runway.with_options(**{name: None})

    async def test_timeout_none_means_no_per_request_deadline(
        self, client: tuple[AsyncRunway, TimelineAPI]
    ) -> None:
        """As in the official SDK: the retry budget is then the only bound of a call."""
        runway, _api = client
        assert math.isinf(runway.with_options(timeout=None).timeout.total)
