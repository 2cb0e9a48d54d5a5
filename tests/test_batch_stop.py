"""Stopping a batch: never delete an ended task, await creates already sent, keep downloads.

Issue 9 items 1 and 4, against the emulator over loopback; the scripted server only where
the emulator cannot produce the situation (a download held open, an unknown task status).
"""

from __future__ import annotations

import asyncio
import inspect
import math
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from runway_async import AsyncRunway, PollConfig, TaskCancelledError, TaskTimeoutError
from runway_async import _batch as batch_module
from runway_async._batch import Batch, InMemoryBatchJournal, Job
from runway_async._create_signal import CREATE_SENT, mark_create_sent
from runway_async.emulator import Emulator

from .conftest import API_KEY, ScriptedServer
from .test_batch import SubmissionSignal

# Images take (0.5 + 1) API seconds = 15 ms; the never-ending model about three hours.
TIME_SCALE = 0.01
NEVER_MODEL = "veo3.1_fast"
DURATIONS = {"image": 1.0, "audio": 1.0, "video": 1.0, NEVER_MODEL: 1e6}
# The watcher's first look at a task comes 30 s after its create: a stop before that has
# not seen the task end, which is how the repro (min_interval=3) caught the batch
# deleting tasks; 30 s keeps that true on a slow machine.
BLIND = PollConfig(min_interval=30, requests_per_second=5000)
FAST = PollConfig(interval=0.01, requests_per_second=5000)
CONDITION_TIMEOUT = 20.0
CREATED = "2025-01-01T00:00:00Z"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def image(key: str | None = None) -> Job:
    return Job(
        "text_to_image",
        {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1024:1024"},
        key=key,
    )


def never(key: str | None = None) -> Job:
    return Job(
        "text_to_video",
        {"model": NEVER_MODEL, "prompt_text": "waves", "ratio": "1280:720"},
        key=key,
    )


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds, checking often; fail after a generous deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + CONDITION_TIMEOUT
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.005)


def server_statuses(emu: Emulator) -> dict[str, str]:
    """Return every task the emulator holds, by id, with its current status."""
    statuses = {}
    for task_id in list(emu.simulation.known_task_ids()):
        task = emu.simulation.peek(task_id)
        if task is not None:
            statuses[task_id] = task.status
    return statuses


def requests(emu: Emulator, route: str) -> int:
    """Return how many requests reached ``route`` (``"DELETE /v1/tasks/{id}"``)."""
    return sum(emu.metrics()["requests"].get(route, {}).values())


DELETES = "DELETE /v1/tasks/{id}"


def names_in(directory: Path) -> list[str]:
    """Return the names of the files in ``directory``, sorted."""
    return sorted(os.listdir(directory))


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    """Start an emulator where images take 15 ms and one video model never ends."""
    async with Emulator(time_scale=TIME_SCALE, durations=DURATIONS, seed=1) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def blind_client(emu: Emulator) -> AsyncIterator[AsyncRunway]:
    """Return a client whose watcher first looks at a task 30 s after creating it."""
    async with AsyncRunway(emu.api_key, base_url=emu.url, poll=BLIND) as client:
        yield client


@pytest_asyncio.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncRunway]:
    """Return a client of the emulator that polls every 10 ms."""
    async with AsyncRunway(emu.api_key, base_url=emu.url, poll=FAST) as runway:
        yield runway


async def stop_when_succeeded_on_server(
    emu: Emulator, journal: SubmissionSignal, count: int
) -> None:
    """Wait until ``count`` tasks exist and all of them SUCCEEDED on the server."""
    await journal.reached.wait()

    def all_succeeded() -> bool:
        statuses = server_statuses(emu)
        return len(statuses) == count and set(statuses.values()) == {"SUCCEEDED"}

    await until(all_succeeded, "every task succeeded on the server")


class TestEndedTasksAreNeverDeleted:
    @pytest.mark.parametrize("download", [False, True])
    async def test_cancel_after_the_tasks_succeeded_sends_no_delete(
        self, emu: Emulator, blind_client: AsyncRunway, tmp_path: Path, download: bool
    ) -> None:
        """Issue repro: tasks that succeeded before cancel() stay, and their rows SUCCEEDED."""
        journal = SubmissionSignal(3)
        batch = blind_client.batch(
            [image(str(n)) for n in range(3)],
            cancel_server_tasks_on_cancel=True,
            journal=journal,
            download_to=tmp_path if download else None,
        )
        await stop_when_succeeded_on_server(emu, journal, 3)
        assert batch.cancel() is True
        results = await batch.gather()
        assert requests(emu, DELETES) == 0
        assert set(server_statuses(emu).values()) == {"SUCCEEDED"}  # still there
        assert len(server_statuses(emu)) == 3
        for result in results:
            assert result.status == "SUCCEEDED"
            assert result.ok
            assert result.error is None
            assert result.task is not None
            assert result.task.status == "SUCCEEDED"
            assert result.task_id == journal.submitted[result.index][1]
            assert result.task.output  # the output URLs the user paid for
            assert result.files == ()  # no download starts after a stop
            assert result.note is not None
            assert f"its task {result.task_id} had already succeeded" in result.note
            if download:
                assert "only 0 of its 1 outputs were downloaded" in result.note
                assert "task.output" in result.note
        assert names_in(tmp_path) == []

    async def test_a_cancelled_consumer_sends_no_delete_for_succeeded_tasks(
        self, emu: Emulator, blind_client: AsyncRunway
    ) -> None:
        """Cancelling the coroutine that gathers a batch never deletes a task that ended."""
        journal = SubmissionSignal(2)
        batch = blind_client.batch(
            [image(), image()], cancel_server_tasks_on_cancel=True, journal=journal
        )
        consumer = asyncio.ensure_future(batch.gather())
        await stop_when_succeeded_on_server(emu, journal, 2)
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        assert batch.done
        assert requests(emu, DELETES) == 0
        assert [r.status for r in await batch.gather()] == ["SUCCEEDED", "SUCCEEDED"]

    async def test_a_cancelled_runner_sends_no_delete_for_succeeded_tasks(
        self, emu: Emulator, blind_client: AsyncRunway
    ) -> None:
        """When the batch's own task is cancelled (loop shutdown), ended tasks stay too."""
        journal = SubmissionSignal(2)
        batch = blind_client.batch(
            [image(), image()], cancel_server_tasks_on_cancel=True, journal=journal
        )
        await stop_when_succeeded_on_server(emu, journal, 2)
        batch._runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await batch._runner
        assert batch.done
        assert requests(emu, DELETES) == 0
        results = sorted(batch._results, key=lambda r: r.index)
        assert [r.status for r in results] == ["SUCCEEDED", "SUCCEEDED"]

    async def test_a_task_that_failed_before_the_stop_is_failed(self) -> None:
        """A task that FAILED before the stop is reported FAILED as it ended, not deleted."""
        async with (
            Emulator(time_scale=TIME_SCALE, durations=DURATIONS, failure_rate=1.0, seed=2) as emu,
            AsyncRunway(emu.api_key, base_url=emu.url, poll=BLIND) as client,
        ):
            journal = SubmissionSignal(1)
            batch = client.batch([image()], cancel_server_tasks_on_cancel=True, journal=journal)
            await journal.reached.wait()
            await until(lambda: set(server_statuses(emu).values()) == {"FAILED"}, "it failed")
            batch.cancel()
            (result,) = await batch.gather()
            assert requests(emu, DELETES) == 0
            assert server_statuses(emu) == {result.task_id: "FAILED"}
        assert result.status == "FAILED"
        assert result.task is not None
        assert result.task.status == "FAILED"
        assert result.error_message is not None
        assert "failed" in result.error_message

    async def test_a_running_task_is_looked_at_then_cancelled(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        """A task still running at the stop is fetched, then cancelled (DELETE) on the server."""
        journal = SubmissionSignal(2)
        batch = client.batch(
            [never(), never(), never()],
            max_in_flight=2,
            cancel_server_tasks_on_cancel=True,
            journal=journal,
        )
        await journal.reached.wait()
        gets_before = requests(emu, "GET /v1/tasks/{id}")
        batch.cancel()
        results = await batch.gather()
        assert requests(emu, DELETES) == 2
        assert requests(emu, "GET /v1/tasks/{id}") >= gets_before + 2  # one look each
        assert set(server_statuses(emu).values()) == {"CANCELLED"}
        for result in results[:2]:
            assert result.status == "CANCELLED"
            assert isinstance(result.error, TaskCancelledError)
            assert result.error_message == (
                f"Job {result.index} was cancelled with its batch; its task {result.task_id} "
                "was cancelled."
            )
        assert results[2].task_id is None
        assert "no task was created" in (results[2].error_message or "")

    async def test_without_cancelling_a_running_task_is_left_running(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        """cancel_server_tasks_on_cancel=False never sends a DELETE and says so."""
        journal = SubmissionSignal(1)
        batch = client.batch([never()], journal=journal)
        await journal.reached.wait()
        batch.cancel()
        (result,) = await batch.gather()
        assert requests(emu, DELETES) == 0
        assert result.status == "CANCELLED"
        assert result.error_message == (
            f"Job 0 was cancelled with its batch; its task {result.task_id} was left running."
        )
        assert set(server_statuses(emu).values()) <= {"PENDING", "RUNNING"}


class TestCreatesInFlight:
    async def test_a_create_sent_before_the_deadline_is_awaited_and_cancelled(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        """Issue repro: a held create is awaited after the deadline; its task is cancelled."""
        emu.faults.inject("hold_after", delay=1.0)
        journal = InMemoryBatchJournal()
        (result,) = await client.batch(
            [never()], deadline=0.3, cancel_server_tasks_on_cancel=True, journal=journal
        ).gather()
        assert result.status == "TIMED_OUT"
        assert isinstance(result.error, TaskTimeoutError)
        assert result.task_id is not None
        assert journal.submitted[0][1] == result.task_id
        assert server_statuses(emu) == {result.task_id: "CANCELLED"}  # not left to finish
        assert result.error_message == (
            f"Job 0 did not finish before the batch's deadline; its task {result.task_id} "
            "was cancelled."
        )

    async def test_a_create_unanswered_after_the_grace_period_may_have_created_a_task(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        """A create still held when the grace period ends is reported as possibly created."""
        emu.faults.inject("hold_after")  # never answered
        journal = SubmissionSignal(1)
        batch = client.batch([never(), image()], max_in_flight=1, journal=journal, grace_period=0.2)
        await until(lambda: len(emu.simulation.known_task_ids()) == 1, "the task exists")
        batch.cancel()
        first, second = await batch.gather()
        assert first.status == "CANCELLED"
        assert first.task_id is None
        assert isinstance(first.error, TaskCancelledError)
        assert first.error_message == (
            "Job 0 was cancelled with its batch; its create request was sent but not answered "
            "within the grace period (0.2 s); the server may have created a task."
        )
        assert "no task was created" in (second.error_message or "")
        assert emu.metrics()["tasks_created_total"] == 1
        assert journal.submitted == {}

    async def test_at_the_deadline_a_create_held_past_the_grace_period_is_given_up(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        """At the deadline too, a create held longer than grace_period ends TIMED_OUT unknown."""
        emu.faults.inject("hold_after", delay=30.0)
        (result,) = await client.batch(
            [never()], deadline=0.05, grace_period=0.1, cancel_server_tasks_on_cancel=True
        ).gather()
        assert result.status == "TIMED_OUT"
        assert result.task_id is None
        assert "not answered within the grace period (0.1 s)" in (result.error_message or "")
        assert "the server may have created a task" in (result.error_message or "")
        assert emu.metrics()["tasks_created_total"] == 1

    async def test_jobs_waiting_for_a_slot_send_nothing(self, emu: Emulator) -> None:
        """Jobs that only waited for a concurrency slot say no task was created, and none was."""
        async with AsyncRunway(
            emu.api_key, base_url=emu.url, poll=FAST, max_concurrency=1
        ) as client:
            journal = SubmissionSignal(1)
            batch = client.batch(
                [never(str(n)) for n in range(4)],
                cancel_server_tasks_on_cancel=True,
                journal=journal,
            )
            await journal.reached.wait()
            batch.cancel()
            results = await batch.gather()
            assert emu.metrics()["tasks_created_total"] == 1
            assert requests(emu, "POST /v1/text_to_video") == 1
        created = [r for r in results if r.task_id is not None]
        waited = [r for r in results if r.task_id is None]
        assert len(created) == 1
        assert len(waited) == 3
        assert "its task" in (created[0].error_message or "")
        for result in waited:
            assert result.status == "CANCELLED"
            assert result.error_message == (
                f"Job {result.index} was cancelled with its batch; its create request had not "
                "been sent, so no task was created."
            )
            assert "may have created" not in (result.error_message or "")


def task_json(status: str, task_id: str = "t1", **fields: object) -> dict[str, object]:
    return {"id": task_id, "status": status, "createdAt": CREATED, **fields}


class HeldOutputs:
    """A scripted API whose single task succeeds with ``outputs`` files, served on release.

    Outputs listed in ``held`` are served only after ``release`` is set.
    """

    def __init__(self, server: ScriptedServer, outputs: int, held: set[int], status: str) -> None:
        self.server = server
        self.outputs = outputs
        self.held = held
        self.status = status
        self.release = asyncio.Event()
        self.asked: list[int] = []
        self.hang_gets = False
        server.reply(self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            return web.json_response({"id": "t1"})
        if request.path == "/v1/tasks/t1" and request.method == "GET":
            if self.hang_gets:
                await asyncio.Event().wait()  # until the server stops
            urls = [f"{self.server.url}/out/{n}.png" for n in range(self.outputs)]
            extra: dict[str, Any] = {"output": urls} if self.status == "SUCCEEDED" else {}
            return web.json_response(task_json(self.status, **extra))
        if request.path.startswith("/out/"):
            index = int(request.path.removeprefix("/out/").split(".")[0])
            self.asked.append(index)
            if index in self.held:
                await self.release.wait()
            return web.Response(body=PNG, content_type="image/png")
        return web.json_response({"error": "unexpected"}, status=500)

    def deletes(self) -> int:
        return sum(r.method == "DELETE" for r in self.server.requests)


@pytest_asyncio.fixture
async def scripted_client(server: ScriptedServer) -> AsyncIterator[AsyncRunway]:
    """Return a client of the scripted server, without a limiter."""
    async with AsyncRunway(API_KEY, base_url=server.url, poll=FAST, max_concurrency=None) as runway:
        yield runway


class TestDownloadsInFlight:
    async def test_a_download_under_way_finishes_within_the_grace_period(
        self, server: ScriptedServer, scripted_client: AsyncRunway, tmp_path: Path
    ) -> None:
        """A download running at the stop completes; the job is SUCCEEDED with its file."""
        api = HeldOutputs(server, outputs=1, held={0}, status="SUCCEEDED")
        batch = scripted_client.batch(
            [image()], download_to=tmp_path, cancel_server_tasks_on_cancel=True
        )
        await until(lambda: api.asked == [0], "the download started")
        batch.cancel()
        api.release.set()
        (result,) = await batch.gather()
        assert result.status == "SUCCEEDED"
        assert result.note is None
        (file,) = result.files
        assert file.path.read_bytes() == PNG
        assert api.deletes() == 0

    async def test_a_download_cut_by_the_grace_period_keeps_the_files_on_disk(
        self, server: ScriptedServer, scripted_client: AsyncRunway, tmp_path: Path
    ) -> None:
        """When the grace period ends mid-download, the row keeps the complete files and a note."""
        api = HeldOutputs(server, outputs=2, held={1}, status="SUCCEEDED")
        batch = scripted_client.batch([image()], download_to=tmp_path, grace_period=0.05)
        await until(lambda: api.asked == [0, 1], "the second download started")
        batch.cancel()
        (result,) = await batch.gather()
        assert result.status == "SUCCEEDED"
        assert result.task_id == "t1"
        (file,) = result.files  # the first output, complete on disk
        assert file.path.read_bytes() == PNG
        assert names_in(tmp_path) == [file.path.name]  # no partial file either
        assert result.note is not None
        assert "only 1 of its 2 outputs were downloaded" in result.note
        assert api.deletes() == 0


class TestUnknownStatus:
    async def test_a_task_in_an_unknown_status_is_not_deleted(
        self, server: ScriptedServer, scripted_client: AsyncRunway
    ) -> None:
        """A status this SDK does not know is not known to be cancellable: no DELETE."""
        api = HeldOutputs(server, outputs=0, held=set(), status="PAUSED")
        batch = scripted_client.batch([image()], cancel_server_tasks_on_cancel=True)
        await until(lambda: any(r.method == "GET" for r in server.requests), "a poll")
        batch.cancel()
        (result,) = await batch.gather()
        assert api.deletes() == 0
        assert result.status == "CANCELLED"
        assert result.task is not None
        assert result.task.status == "PAUSED"
        assert result.error_message == (
            "Job 0 was cancelled with its batch; its task t1 was left running: its status "
            "'PAUSED' is not one a DELETE is known to cancel."
        )


class TestBounds:
    async def test_a_look_that_hangs_is_given_up_without_a_delete(
        self,
        server: ScriptedServer,
        scripted_client: AsyncRunway,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A stop whose GET never answers ends after its time limit and sends no DELETE."""
        monkeypatch.setattr(batch_module, "_STOP_REQUEST_TIMEOUT", 0.1)
        api = HeldOutputs(server, outputs=0, held=set(), status="RUNNING")
        batch = scripted_client.batch([image()], cancel_server_tasks_on_cancel=True)
        await until(lambda: any(r.method == "GET" for r in server.requests), "a poll")
        api.hang_gets = True
        batch.cancel()
        (result,) = await batch.gather()
        assert api.deletes() == 0
        assert result.status == "CANCELLED"
        assert result.error_message == (
            "Job 0 was cancelled with its batch; looking up its task t1 took longer than "
            "0.1 s, so it may still be running."
        )


class TestOptions:
    @pytest.mark.parametrize(
        ("value", "error"),
        [(-1, ValueError), (math.nan, ValueError), (math.inf, ValueError), ("5", TypeError)],
    )
    async def test_grace_period_must_be_finite_and_not_negative(
        self, client: AsyncRunway, value: Any, error: type[Exception]
    ) -> None:
        """grace_period refuses negative, NaN, infinite and non-number values at once."""
        with pytest.raises(error, match="grace_period"):
            client.batch([], grace_period=value)

    async def test_a_zero_grace_period_stops_at_once(self, client: AsyncRunway) -> None:
        """grace_period=0 is allowed: nothing sent after the stop is waited for."""
        results = await client.batch([image()], grace_period=0).gather()
        assert [r.status for r in results] == ["SUCCEEDED"]

    def test_the_default_grace_period_is_ten_seconds(self) -> None:
        """Creates sent and downloads under way get 10 s after a stop unless told otherwise."""
        assert inspect.signature(Batch).parameters["grace_period"].default == 10.0
        assert inspect.signature(AsyncRunway.batch).parameters["grace_period"].default == 10.0

    def test_the_create_hook_is_per_context(self) -> None:
        """mark_create_sent calls the hook of the current context only, and nothing by default."""
        heard: list[str] = []
        mark_create_sent()  # no batch: nothing happens
        token = CREATE_SENT.set(lambda: heard.append("sent"))
        try:
            mark_create_sent()
        finally:
            CREATE_SENT.reset(token)
        mark_create_sent()
        assert heard == ["sent"]
