"""Batch fan-out against the real emulator over loopback: results, failures, stops, journal."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from runway_async import (
    AsyncRunway,
    BadRequestError,
    InvalidRequestError,
    PollConfig,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
)
from runway_async._batch import (
    Batch,
    BatchResult,
    InMemoryBatchJournal,
    Job,
    validate_job,
)
from runway_async.emulator import Emulator

# 0.5 API seconds is 1 ms at this time scale; SLOW takes 0.2 s and NEVER about half an hour.
TIME_SCALE = 0.002
SLOW_MODEL = "gen4.5"
NEVER_MODEL = "veo3.1_fast"
DURATIONS = {"image": 0.5, "audio": 0.5, "video": 0.5, SLOW_MODEL: 100.0, NEVER_MODEL: 1e6}
POLL = PollConfig(interval=0.01, requests_per_second=5000)


def image(prompt: str = "a fox", key: str | None = None) -> Job:
    return Job(
        "text_to_image",
        {"model": "gen4_image", "prompt_text": prompt, "ratio": "1024:1024"},
        key=key,
    )


def slow_video(key: str | None = None) -> Job:
    return Job(
        "text_to_video",
        {"model": SLOW_MODEL, "prompt_text": "waves", "ratio": "1280:720", "duration": 5},
        key=key,
    )


def never(key: str | None = None) -> Job:
    return Job(
        "text_to_video",
        {"model": NEVER_MODEL, "prompt_text": "waves", "ratio": "1280:720"},
        key=key,
    )


def invalid(key: str | None = None) -> Job:
    return Job(
        "text_to_image",
        {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1:1"},
        key=key,
    )


SPEECH = Job(
    "text_to_speech",
    {
        "model": "eleven_multilingual_v2",
        "prompt_text": "Hello",
        "voice": {"type": "runway-preset", "preset_id": "Leslie"},
    },
)
RECIPE = Job(
    "recipes.product_ad",
    {"product_images": [{"uri": "https://example.com/shoe.png"}], "version": "2026-06"},
)


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    """Start an emulator at 500x speed with one slow and one never-ending video model."""
    async with Emulator(time_scale=TIME_SCALE, durations=DURATIONS, seed=1) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncRunway]:
    """Return a client of the emulator that polls every 10 ms."""
    async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as runway:
        yield runway


class SubmissionSignal(InMemoryBatchJournal):
    """An in-memory journal that sets an event once ``count`` tasks were created."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.reached = asyncio.Event()

    def job_submitted(self, index: int, job: Job, task_id: str) -> None:
        super().job_submitted(index, job, task_id)
        if len(self.submitted) >= self.count:
            self.reached.set()


async def server_status(client: AsyncRunway, task_id: str) -> str:
    return (await client.tasks.retrieve(task_id)).status


class TestJob:
    def test_from_json_reads_a_jobs_file_line(self) -> None:
        """A JSON object with endpoint, params and id becomes a job keyed by the id."""
        job = Job.from_json({"endpoint": "text_to_image", "params": {"seed": 1}, "id": "k"})
        assert job == Job("text_to_image", {"seed": 1}, key="k")

    def test_from_json_defaults(self) -> None:
        """Params and id may be left out."""
        assert Job.from_json({"endpoint": "text_to_image"}) == Job("text_to_image", {})

    @pytest.mark.parametrize(
        ("data", "words"),
        [
            ([1, 2], "got an array"),
            ({"params": {}}, "endpoint must be a string"),
            ({"endpoint": 3}, "got a number"),
            ({"endpoint": "text_to_image", "params": []}, "params must be a JSON object"),
            ({"endpoint": "text_to_image", "id": 7}, "id must be a string or null"),
            ({"endpoint": "text_to_image", "param": {}}, "unknown key 'param'"),
        ],
    )
    def test_from_json_refuses_other_shapes(self, data: Any, words: str) -> None:
        """Anything but a job object is an InvalidRequestError saying what is wrong."""
        with pytest.raises(InvalidRequestError, match=words):
            Job.from_json(data)

    def test_params_must_be_a_mapping(self) -> None:
        """A Job refuses params that are not a mapping."""
        with pytest.raises(TypeError, match="params must be a mapping"):
            Job("text_to_image", ["model"])  # type: ignore[arg-type]

    def test_validate_accepts_a_valid_job(self) -> None:
        """A job the call would accept passes."""
        validate_job(image())
        validate_job(RECIPE)

    @pytest.mark.parametrize(
        ("job", "words"),
        [
            (Job("text_to_imagine", {}), "Unknown endpoint 'text_to_imagine'"),
            (invalid(), "ratio must be one of"),
            (
                Job(
                    "text_to_image",
                    {"model": "gen4_image", "promptText": "x", "ratio": "1024:1024"},
                ),
                "use 'prompt_text'",
            ),
        ],
    )
    def test_validate_refuses_what_the_call_would(self, job: Job, words: str) -> None:
        """Unknown endpoints, bad values and wire names are refused before sending."""
        with pytest.raises(InvalidRequestError, match=words):
            validate_job(job)


class TestResults:
    async def test_results_stream_as_they_complete_and_gather_keeps_input_order(
        self, client: AsyncRunway
    ) -> None:
        """Iteration yields results as jobs finish; gather returns them in input order."""
        jobs = [slow_video("slow"), image(key="a"), SPEECH, RECIPE]
        batch = client.batch(jobs)
        streamed = [result async for result in batch]
        assert [r.index for r in streamed][-1] == 0  # the slow one finished last
        assert sorted(r.index for r in streamed) == [0, 1, 2, 3]
        gathered = await batch.gather()
        assert [r.index for r in gathered] == [0, 1, 2, 3]
        assert [r.job for r in gathered] == jobs
        assert all(r.ok and r.status == "SUCCEEDED" for r in gathered)
        assert gathered[0].key == "slow"
        for result in gathered:
            assert result.task is not None
            assert result.task.status == "SUCCEEDED"
            assert result.task_id == result.task.id
            assert result.error is None
            assert result.error_message is None
            assert result.files == ()

    async def test_every_iteration_starts_from_the_first_result(self, client: AsyncRunway) -> None:
        """Iterating a finished batch again yields the same results again."""
        batch = client.batch([image(), image("b")])
        first = [r async for r in batch]
        second = [r async for r in batch]
        assert first == second
        assert len(first) == 2
        assert batch.done

    async def test_on_result_hears_each_result(self, client: AsyncRunway) -> None:
        """on_result is called once per job with its result."""
        heard: list[BatchResult] = []
        results = await client.batch([image(), SPEECH], on_result=heard.append).gather()
        assert sorted(heard, key=lambda r: r.index) == results

    async def test_a_raising_on_result_is_logged_and_the_batch_goes_on(
        self, client: AsyncRunway, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An exception from on_result is logged, not raised, and loses no result."""

        def explode(_result: BatchResult) -> None:
            raise RuntimeError("boom")

        with caplog.at_level(logging.ERROR, logger="runway_async"):
            results = await client.batch([image(), image("b")], on_result=explode).gather()
        assert [r.status for r in results] == ["SUCCEEDED", "SUCCEEDED"]
        assert sum("on_result raised" in r.getMessage() for r in caplog.records) == 2

    async def test_an_empty_batch_is_done_at_once(self, client: AsyncRunway) -> None:
        """No jobs: gather returns an empty list."""
        assert await client.batch([]).gather() == []


class TestFailures:
    async def test_bad_jobs_do_not_lose_the_others(
        self, client: AsyncRunway, emu: Emulator
    ) -> None:
        """An invalid job and a refused create are results next to the successes."""
        emu.faults.inject("error_before", route="text_to_speech", status=400)
        results = await client.batch([image(), invalid("bad"), SPEECH, RECIPE]).gather()
        assert [r.status for r in results] == ["SUCCEEDED", "INVALID", "ERROR", "SUCCEEDED"]
        bad = results[1]
        assert isinstance(bad.error, InvalidRequestError)
        assert bad.error.field == "ratio"
        assert bad.task_id is None
        assert bad.key == "bad"
        assert bad.error_message is not None
        assert "ratio" in bad.error_message
        refused = results[2]
        assert isinstance(refused.error, BadRequestError)
        assert refused.task_id is None
        assert emu.metrics()["tasks_created_total"] == 2  # the invalid job sent nothing

    async def test_failed_tasks_are_failed_results(self) -> None:
        """On an emulator whose tasks all fail, each job is FAILED with the task's failure."""
        async with (
            Emulator(time_scale=TIME_SCALE, durations=DURATIONS, failure_rate=1.0, seed=2) as emu,
            AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client,
        ):
            results = await client.batch([image(), SPEECH, invalid()]).gather()
        assert [r.status for r in results] == ["FAILED", "FAILED", "INVALID"]
        for result in results[:2]:
            assert isinstance(result.error, TaskFailedError)
            assert result.task is not None
            assert result.task.status == "FAILED"
            assert result.task_id == result.task.id
            assert result.error_message == str(result.error)

    async def test_a_task_cancelled_elsewhere_is_cancelled(self, client: AsyncRunway) -> None:
        """A task deleted by someone else ends its job CANCELLED, with the task."""
        journal = SubmissionSignal(1)
        batch = client.batch([never()], journal=journal)
        await journal.reached.wait()
        await client.tasks.delete(journal.submitted[0][1])
        (result,) = await batch.gather()
        assert result.status == "CANCELLED"
        assert isinstance(result.error, TaskCancelledError)
        assert result.task is not None
        assert result.task.status == "CANCELLED"


class TestDeadline:
    @pytest.mark.parametrize("cancel_tasks", [True, False])
    async def test_deadline_times_out_what_is_unfinished(
        self, client: AsyncRunway, emu: Emulator, cancel_tasks: bool
    ) -> None:
        """At the deadline, jobs in flight and queued end TIMED_OUT; finished ones stand."""
        jobs = [image(), image("b"), *(never(f"n{i}") for i in range(6))]
        results = await client.batch(
            jobs,
            max_in_flight=4,
            deadline=0.5,
            cancel_server_tasks_on_cancel=cancel_tasks,
        ).gather()
        assert [r.status for r in results] == ["SUCCEEDED"] * 2 + ["TIMED_OUT"] * 6
        started = [r for r in results[2:] if r.task_id is not None]
        queued = [r for r in results[2:] if r.task_id is None]
        assert len(started) == 4
        assert len(queued) == 2
        assert emu.metrics()["tasks_created_total"] == 6
        for result in results[2:]:
            assert isinstance(result.error, TaskTimeoutError)
        for result in queued:
            assert result.error_message is not None
            assert "did not start before the batch's deadline" in result.error_message
        statuses = {await server_status(client, r.task_id or "") for r in started}
        if cancel_tasks:
            assert statuses == {"CANCELLED"}
            assert all("was cancelled" in (r.error_message or "") for r in started)
        else:
            assert "CANCELLED" not in statuses
            assert all("left running" in (r.error_message or "") for r in started)

    async def test_a_deadline_that_does_not_come_changes_nothing(self, client: AsyncRunway) -> None:
        """A batch that ends before its deadline has only its own results."""
        results = await client.batch([image()], deadline=60).gather()
        assert [r.status for r in results] == ["SUCCEEDED"]


class TestCancel:
    @pytest.mark.parametrize("cancel_tasks", [True, False])
    async def test_cancel_stops_queued_jobs_before_they_create_tasks(
        self, client: AsyncRunway, emu: Emulator, cancel_tasks: bool
    ) -> None:
        """cancel() ends every job CANCELLED; queued ones never create a task."""
        journal = SubmissionSignal(2)
        batch = client.batch(
            [never(str(i)) for i in range(10)],
            max_in_flight=2,
            journal=journal,
            cancel_server_tasks_on_cancel=cancel_tasks,
        )
        await journal.reached.wait()
        assert batch.cancel() is True
        results = await batch.gather()
        assert [r.status for r in results] == ["CANCELLED"] * 10
        assert all(isinstance(r.error, TaskCancelledError) for r in results)
        assert [r.task_id is not None for r in results] == [True] * 2 + [False] * 8
        assert emu.metrics()["tasks_created_total"] == 2
        statuses = {await server_status(client, r.task_id or "") for r in results[:2]}
        assert (statuses == {"CANCELLED"}) is cancel_tasks
        assert batch.cancel() is False  # already done

    async def test_cancelling_the_consumer_cancels_the_batch(
        self, client: AsyncRunway, emu: Emulator
    ) -> None:
        """A cancelled gather() cancels the batch and its server tasks before it returns."""
        journal = SubmissionSignal(3)
        batch = client.batch(
            [never() for _ in range(8)],
            max_in_flight=3,
            journal=journal,
            cancel_server_tasks_on_cancel=True,
        )
        consumer = asyncio.ensure_future(batch.gather())
        await journal.reached.wait()
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        assert batch.done
        assert emu.metrics()["tasks_created_total"] == 3
        for _, task_id in journal.submitted.values():
            assert await server_status(client, task_id) == "CANCELLED"
        results = await batch.gather()
        assert {r.status for r in results} == {"CANCELLED"}
        assert len(results) == 8

    async def test_cancelling_an_iterating_consumer_cancels_the_batch(
        self, client: AsyncRunway, emu: Emulator
    ) -> None:
        """A consumer cancelled inside ``async for`` cancels what is still queued."""
        journal = SubmissionSignal(2)
        batch = client.batch([never() for _ in range(5)], max_in_flight=2, journal=journal)

        async def consume() -> list[BatchResult]:
            return [result async for result in batch]

        consumer = asyncio.ensure_future(consume())
        await journal.reached.wait()
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        assert batch.done
        assert emu.metrics()["tasks_created_total"] == 2

    async def test_leaving_async_with_early_cancels_the_rest(
        self, client: AsyncRunway, emu: Emulator
    ) -> None:
        """Leaving ``async with batch`` before it finished cancels the jobs left."""
        journal = SubmissionSignal(2)
        async with client.batch([never() for _ in range(4)], max_in_flight=2, journal=journal) as b:
            await journal.reached.wait()
        assert b.done
        results = await b.gather()
        assert [r.status for r in results] == ["CANCELLED"] * 4
        assert emu.metrics()["tasks_created_total"] == 2  # the queued jobs never started

    async def test_leaving_async_with_after_the_end_changes_nothing(
        self, client: AsyncRunway
    ) -> None:
        """A batch consumed to its end inside ``async with`` keeps its results."""
        async with client.batch([image(), SPEECH]) as batch:
            results = [result async for result in batch]
        assert [r.status for r in results] == ["SUCCEEDED", "SUCCEEDED"]
        assert batch.cancel() is False


class TestWorkerPool:
    async def test_a_large_lazy_iterator_runs_through_a_fixed_pool(self) -> None:
        """A lazy iterator of many jobs is pulled one at a time by a fixed set of workers."""
        total, pool = 600, 12
        pulled = 0
        finished = 0
        most_in_flight = 0
        most_tasks = 0

        def jobs() -> Iterator[Job]:
            nonlocal pulled, most_in_flight, most_tasks
            for n in range(total):
                # Every job pulled before this one and not finished is in flight.
                most_in_flight = max(most_in_flight, pulled - finished)
                most_tasks = max(most_tasks, len(asyncio.all_tasks()))
                pulled += 1
                yield image(f"picture {n}")

        def count(_result: BatchResult) -> None:
            nonlocal finished
            finished += 1

        # Unlimited models, so only the pool bounds the jobs in flight.
        async with (
            Emulator(time_scale=TIME_SCALE, durations=DURATIONS, concurrency=None) as emu,
            AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client,
        ):
            batch = client.batch(jobs(), max_in_flight=pool, on_result=count)
            results = await batch.gather()
            assert emu.metrics()["tasks_created_total"] == total
        assert [r.index for r in results] == list(range(total))
        assert all(r.ok for r in results)
        assert most_in_flight == pool - 1  # the pool was full, never more
        assert most_tasks < 100  # not one coroutine per job

    async def test_an_async_iterable_of_jobs(self, client: AsyncRunway) -> None:
        """Jobs may come from an async generator."""

        async def jobs() -> AsyncIterator[Job]:
            for n in range(5):
                yield image(f"p{n}")

        results = await client.batch(jobs(), max_in_flight=3).gather()
        assert [r.index for r in results] == [0, 1, 2, 3, 4]
        assert all(r.ok for r in results)

    async def test_an_item_that_is_not_a_job_raises_after_the_others(
        self, client: AsyncRunway
    ) -> None:
        """A bad item stops the intake; the jobs taken finish, then the error is raised."""

        def jobs() -> Iterator[Any]:
            yield image()
            yield {"endpoint": "text_to_image"}
            yield image("never taken")

        batch = client.batch(jobs(), max_in_flight=1)
        seen: list[BatchResult] = []

        async def consume() -> None:
            async for result in batch:
                seen.append(result)

        with pytest.raises(TypeError, match=r"item 1 is a dict .*Job\.from_json"):
            await consume()
        assert [r.status for r in seen] == ["SUCCEEDED"]
        with pytest.raises(TypeError):
            await batch.gather()

    async def test_bad_arguments(self, client: AsyncRunway) -> None:
        """Wrong option values and a non-iterable jobs argument fail at once."""
        with pytest.raises(ValueError, match="max_in_flight"):
            client.batch([], max_in_flight=0)
        with pytest.raises(TypeError, match="max_in_flight"):
            client.batch([], max_in_flight=2.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="deadline"):
            client.batch([], deadline=0)
        with pytest.raises(TypeError, match="iterable of Job"):
            client.batch(image())  # type: ignore[arg-type]

    def test_needs_a_running_loop(self) -> None:
        """client.batch outside an event loop is a RuntimeError."""
        client = AsyncRunway("key", base_url="http://127.0.0.1:9")
        with pytest.raises(RuntimeError):
            client.batch([])


class TestDownloads:
    async def test_outputs_are_downloaded_as_each_task_succeeds(
        self, client: AsyncRunway, tmp_path: Path
    ) -> None:
        """A job's files are on disk when its result comes, while slower jobs still run."""
        seen_early: list[bool] = []
        batch: Batch | None = None

        def check(result: BatchResult) -> None:
            assert batch is not None
            if result.index == 1:
                seen_early.append(not batch.done and all(f.path.exists() for f in result.files))

        batch = client.batch([slow_video(), image(), SPEECH], download_to=tmp_path, on_result=check)
        results = await batch.gather()
        assert seen_early == [True]
        for result in results:
            assert result.ok
            assert len(result.files) == 1
            (file,) = result.files
            assert file.path.parent == tmp_path
            assert file.path.name.startswith(result.task_id or "-")
            data = file.path.read_bytes()
            assert hashlib.sha256(data).hexdigest() == file.sha256
            assert len(data) == file.bytes
        suffixes = [r.files[0].path.suffix for r in results]
        assert suffixes == [".mp4", ".png", ".wav"]

    async def test_a_failed_download_is_an_error_that_keeps_the_task(
        self, client: AsyncRunway, tmp_path: Path
    ) -> None:
        """When the outputs cannot be written, the job is ERROR with its succeeded task."""
        not_a_directory = tmp_path / "file"
        not_a_directory.write_text("in the way")
        (result,) = await client.batch([image()], download_to=not_a_directory).gather()
        assert result.status == "ERROR"
        assert isinstance(result.error, OSError)
        assert result.task is not None
        assert result.task.status == "SUCCEEDED"
        assert result.task_id == result.task.id
        assert result.error_message is not None
        assert result.error_message.startswith("the task succeeded but downloading")


class TestJournal:
    async def test_the_journal_sees_every_transition(self, client: AsyncRunway) -> None:
        """Each created task is recorded before its result; invalid jobs only finish."""
        journal = InMemoryBatchJournal()
        results = await client.batch([image(), invalid(), SPEECH], journal=journal).gather()
        assert [r.status for r in results] == ["SUCCEEDED", "INVALID", "SUCCEEDED"]
        for index in (0, 2):
            submitted = ("submitted", index, results[index].task_id)
            finished = ("finished", index, "SUCCEEDED")
            assert journal.events.index(submitted) < journal.events.index(finished)
        assert ("finished", 1, "INVALID") in journal.events
        assert len(journal.events) == 5
        assert journal.finished == {r.index: r for r in results}
        assert {i: t for i, (_, t) in journal.submitted.items()} == {
            0: results[0].task_id,
            2: results[2].task_id,
        }

    async def test_a_resumed_batch_reattaches_to_its_tasks(
        self, client: AsyncRunway, emu: Emulator
    ) -> None:
        """After a stop, the same jobs with the same journal wait for the old tasks."""
        jobs = [slow_video("a"), slow_video("b"), slow_video("c")]
        journal = SubmissionSignal(3)
        first = client.batch(jobs, journal=journal)  # the "crash" leaves tasks running
        await journal.reached.wait()
        first.cancel()
        assert {r.status for r in await first.gather()} == {"CANCELLED"}
        created = {i: t for i, (_, t) in journal.submitted.items()}

        results = await client.batch(jobs, journal=journal).gather()
        assert [r.status for r in results] == ["SUCCEEDED"] * 3
        assert {r.index: r.task_id for r in results} == created
        assert emu.metrics()["tasks_created_total"] == 3  # nothing paid twice

    def test_a_changed_job_is_not_reattached(self) -> None:
        """The in-memory journal answers only for the job it recorded at that index."""
        journal = InMemoryBatchJournal()
        journal.job_submitted(0, image("a"), "task-1")
        assert journal.known_task_id(0, image("a")) == "task-1"
        assert journal.known_task_id(0, image("b")) is None
        assert journal.known_task_id(1, image("a")) is None

    async def test_a_failing_journal_starts_no_more_jobs(
        self, client: AsyncRunway, emu: Emulator
    ) -> None:
        """When the journal fails, its job is ERROR and no further job creates a task."""

        class FullDisk(InMemoryBatchJournal):
            def job_submitted(self, index: int, job: Job, task_id: str) -> None:
                raise OSError(28, "No space left on device")

        results = await client.batch(
            [image(), image("b"), image("c")], max_in_flight=1, journal=FullDisk()
        ).gather()
        assert [r.status for r in results] == ["ERROR", "CANCELLED", "CANCELLED"]
        assert results[0].task_id is not None
        assert (results[0].error_message or "").startswith("the batch journal failed")
        assert "the batch journal failed" in (results[1].error_message or "")
        assert emu.metrics()["tasks_created_total"] == 1
