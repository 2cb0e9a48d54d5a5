"""The SQLite batch journal: records, fingerprints, resume paths, UNKNOWN jobs, the CLI."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from click.testing import CliRunner, Result

from runway_async import (
    AmbiguousSubmissionError,
    AsyncRunway,
    BatchResult,
    Job,
    JournalError,
    JournalMismatchError,
    PollConfig,
    SQLiteBatchJournal,
    cli,
)
from runway_async._journal import SCHEMA_VERSION, job_fingerprint
from runway_async._version import __version__
from runway_async.emulator import Emulator

TIME_SCALE = 0.002
DURATIONS = {"image": 0.5, "audio": 0.5, "video": 0.5}
POLL = PollConfig(interval=0.01, requests_per_second=5000)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def image(prompt: str = "a fox", key: str | None = None) -> Job:
    return Job(
        "text_to_image",
        {"model": "gen4_image", "prompt_text": prompt, "ratio": "1024:1024"},
        key=key,
    )


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=TIME_SCALE, durations=DURATIONS, seed=5).in_thread() as running:
        yield running


@pytest_asyncio.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncRunway]:
    async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as made:
        yield made


def created(emu: Emulator) -> int:
    return int(emu.metrics()["tasks_created_total"])


class TestJournalFile:
    def test_a_new_journal_records_schema_sdk_and_durability_settings(self, tmp_path: Path) -> None:
        """WAL, synchronous=FULL, the schema version and the SDK version are in the file."""
        path = tmp_path / "b.db"
        with SQLiteBatchJournal(path) as journal:
            info = journal.info()
            assert info["schema_version"] == str(SCHEMA_VERSION)
            assert info["sdk_version"] == __version__
            assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()

    def test_a_file_that_is_not_a_journal_is_refused(self, tmp_path: Path) -> None:
        """Garbage and another schema version raise JournalError."""
        bad = tmp_path / "bad.db"
        bad.write_bytes(b"not a database at all" * 100)
        with pytest.raises(JournalError, match="not a batch journal"):
            SQLiteBatchJournal(bad)
        other = tmp_path / "other.db"
        SQLiteBatchJournal(other).close()
        db = sqlite3.connect(other)
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        db.commit()
        db.close()
        with pytest.raises(JournalError, match="schema version 99"):
            SQLiteBatchJournal(other)

    def test_records_survive_reopening(self, tmp_path: Path) -> None:
        """Each call is durable: a new connection sees the states, request and task id."""
        path = tmp_path / "b.db"
        jobs = [image("a"), image("b"), image("c")]
        with SQLiteBatchJournal(path) as journal:
            journal.check_jobs(jobs)
            journal.job_sending(0, jobs[0], {"promptText": "a"})
            journal.job_submitted(0, jobs[0], "task-a")
            journal.job_sending(1, jobs[1], {"promptText": "b"})
        with SQLiteBatchJournal(path) as journal:
            states = {row["index"]: row["state"] for row in journal.rows()}
            assert states == {0: "SUBMITTED", 1: "UNKNOWN", 2: "NOT_STARTED"}
            first = journal.job_record(0, jobs[0])
            assert first is not None
            assert first.task_id == "task-a"
            assert not first.unknown
            second = journal.job_record(1, jobs[1])
            assert second is not None
            assert second.unknown
            assert second.request == {"promptText": "b"}
            assert journal.job_record(2, jobs[2]) is None


class TestFingerprints:
    def test_local_files_count_by_content_not_by_path_object(self, tmp_path: Path) -> None:
        """The same bytes give the same fingerprint; other bytes another one."""
        picture = tmp_path / "cat.png"
        picture.write_bytes(PNG)

        def job(path: Path) -> Job:
            return Job("image_to_video", {"model": "gen4_turbo", "prompt_image": path})

        first = job_fingerprint(job(picture))
        assert job_fingerprint(job(tmp_path / "." / "cat.png")) == first
        picture.write_bytes(PNG + b"\0")
        assert job_fingerprint(job(picture)) != first

    def test_a_changed_job_is_refused_naming_job_and_field(self, tmp_path: Path) -> None:
        """check_jobs names the first job and field that differ, and the number of jobs."""
        with SQLiteBatchJournal(tmp_path / "b.db") as journal:
            journal.check_jobs([image("a"), image("b")])
            journal.check_jobs([image("a"), image("b")])  # the same jobs: accepted
            with pytest.raises(JournalMismatchError) as info:
                journal.check_jobs([image("a"), image("B")])
            assert info.value.index == 1
            assert info.value.field == "params.prompt_text"
            assert '"b"' in str(info.value)
            assert '"B"' in str(info.value)
            with pytest.raises(JournalMismatchError) as info:
                journal.check_jobs([image("a"), image("b"), image("c")])
            assert info.value.index == 2
            assert info.value.field is None
            with pytest.raises(JournalMismatchError, match="id"):
                journal.check_jobs([image("a", key="x"), image("b")])

    async def test_client_batch_refuses_changed_jobs_before_sending(
        self, client: AsyncRunway, emu: Emulator, tmp_path: Path
    ) -> None:
        """A list that differs from the journal's raises from client.batch; nothing is sent."""
        path = tmp_path / "b.db"
        await client.batch([image("a")], journal=path).gather()
        before = created(emu)
        with pytest.raises(JournalMismatchError):
            client.batch([image("z")], journal=path)
        assert created(emu) == before

    async def test_a_lazy_iterable_is_compared_job_by_job(
        self, client: AsyncRunway, emu: Emulator, tmp_path: Path
    ) -> None:
        """A generator's changed job fails with the difference, and nothing more starts."""
        path = tmp_path / "b.db"
        await client.batch(iter([image("a"), image("b")]), journal=path).gather()
        before = created(emu)
        results = await client.batch(
            iter([image("a"), image("changed")]), journal=path, max_in_flight=1
        ).gather()
        assert results[0].status == "SUCCEEDED"
        assert results[1].status == "ERROR"
        assert "params.prompt_text" in (results[1].error_message or "")
        assert created(emu) == before


class TestResume:
    async def test_a_finished_batch_is_not_paid_again(
        self, client: AsyncRunway, emu: Emulator, tmp_path: Path
    ) -> None:
        """Run twice with one journal: one create per job, the same results and files."""
        path, out = tmp_path / "b.db", tmp_path / "out"
        jobs = [image("a", key="a"), image("b", key="b")]
        first = await client.batch(jobs, journal=path, download_to=out).gather()
        assert [r.status for r in first] == ["SUCCEEDED", "SUCCEEDED"]
        assert created(emu) == 2
        again = await client.batch(jobs, journal=path, download_to=out).gather()
        assert created(emu) == 2
        assert [r.status for r in again] == ["SUCCEEDED", "SUCCEEDED"]
        assert [r.task_id for r in again] == [r.task_id for r in first]
        assert [[f.sha256 for f in r.files] for r in again] == [
            [f.sha256 for f in r.files] for r in first
        ]

    async def test_a_missing_download_is_fetched_again_without_a_create(
        self, client: AsyncRunway, emu: Emulator, tmp_path: Path
    ) -> None:
        """A deleted or altered output is downloaded again from its task; nothing created."""
        path, out = tmp_path / "b.db", tmp_path / "out"
        jobs = [image("a", key="a"), image("b", key="b")]
        first = await client.batch(jobs, journal=path, download_to=out).gather()
        first[0].files[0].path.unlink()
        first[1].files[0].path.write_bytes(b"tampered")
        again = await client.batch(jobs, journal=path, download_to=out).gather()
        assert created(emu) == 2
        for old, new in zip(first, again, strict=True):
            assert new.status == "SUCCEEDED"
            assert new.task_id == old.task_id
            assert new.files[0].sha256 == old.files[0].sha256
            assert new.files[0].path.read_bytes() != b"tampered"

    async def test_a_job_with_a_task_id_is_waited_for(
        self, client: AsyncRunway, emu: Emulator, tmp_path: Path
    ) -> None:
        """Killed after the reply: the recorded task is waited for, not created again."""
        job = image("a")
        task = await client.text_to_image.create(
            model="gen4_image", prompt_text="a", ratio="1024:1024"
        )
        with SQLiteBatchJournal(tmp_path / "b.db") as journal:
            journal.job_sending(0, job, {"promptText": "a"})
            journal.job_submitted(0, job, task.id)
            (result,) = await client.batch([job], journal=journal).gather()
        assert result.status == "SUCCEEDED"
        assert result.task_id == task.id
        assert created(emu) == 1

    async def test_an_unanswered_create_is_unknown_and_never_resent(
        self, client: AsyncRunway, emu: Emulator, tmp_path: Path
    ) -> None:
        """Killed between send and reply: UNKNOWN with the request kept, no create; opt in."""
        path = tmp_path / "b.db"
        job = image("a")
        with SQLiteBatchJournal(path) as journal:
            journal.job_sending(0, job, {"promptText": "a", "model": "gen4_image"})
        (result,) = await client.batch([job], journal=path).gather()
        assert result.status == "UNKNOWN"
        assert isinstance(result.error, AmbiguousSubmissionError)
        assert result.error.request_body == {"promptText": "a", "model": "gen4_image"}
        assert "no way to list recent tasks" in (result.note or "")
        assert created(emu) == 0
        (result,) = await client.batch([job], journal=path).gather()
        assert result.status == "UNKNOWN"
        assert created(emu) == 0
        (result,) = await client.batch([job], journal=path, resubmit_unknown=True).gather()
        assert result.status == "SUCCEEDED"
        assert created(emu) == 1
        with SQLiteBatchJournal(path) as journal:
            (row,) = journal.rows()
        assert row["state"] == "SUCCEEDED"
        assert row["attempts"] == 2

    async def test_an_ambiguous_create_is_unknown_with_its_request(
        self, client: AsyncRunway, emu: Emulator, tmp_path: Path
    ) -> None:
        """A dropped reply makes the job UNKNOWN (not ERROR), recorded with its request."""
        path = tmp_path / "b.db"
        emu.faults.inject("drop_after")
        (result,) = await client.batch([image("a")], journal=path).gather()
        assert result.status == "UNKNOWN"
        assert isinstance(result.error, AmbiguousSubmissionError)
        assert created(emu) == 1  # the server did create it
        with SQLiteBatchJournal(path) as journal:
            (row,) = journal.rows()
        assert row["state"] == "UNKNOWN"
        assert row["request"]["promptText"] == "a"
        (again,) = await client.batch([image("a")], journal=path).gather()
        assert again.status == "UNKNOWN"
        assert created(emu) == 1

    async def test_a_refused_create_is_sent_again_on_resume(
        self, client: AsyncRunway, emu: Emulator, tmp_path: Path
    ) -> None:
        """A create certainly refused (400) created nothing: the next run sends it again."""
        path = tmp_path / "b.db"
        emu.faults.inject("error_before", status=400)
        (result,) = await client.batch([image("a")], journal=path).gather()
        assert result.status == "ERROR"
        (again,) = await client.batch([image("a")], journal=path).gather()
        assert again.status == "SUCCEEDED"
        assert created(emu) == 1

    async def test_a_journal_with_only_the_old_three_methods_still_works(
        self, client: AsyncRunway, emu: Emulator
    ) -> None:
        """The optional methods are optional: a user journal of three methods resumes."""

        class Old:
            def __init__(self) -> None:
                self.tasks: dict[int, str] = {}
                self.ended: list[str] = []

            def known_task_id(self, index: int, job: Job) -> str | None:
                return self.tasks.get(index)

            def job_submitted(self, index: int, job: Job, task_id: str) -> None:
                self.tasks[index] = task_id

            def job_finished(self, result: BatchResult) -> None:
                self.ended.append(result.status)

        old = Old()
        await client.batch([image("a")], journal=old).gather()
        await client.batch([image("a")], journal=old).gather()
        assert old.ended == ["SUCCEEDED", "SUCCEEDED"]
        assert created(emu) == 1


# -- the command line ---------------------------------------------------------------------


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli.build_cli(), list(args), prog_name="runway-async")


@pytest.fixture
def env_emulator(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    return emu


def write_jobs(path: Path, *lines: Any) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


LINE_A = {"endpoint": "text_to_image", "id": "a", "params": image("a").params}
LINE_B = {"endpoint": "text_to_image", "id": "b", "params": image("b").params}


class TestCommandLine:
    @pytest.mark.parametrize("paths", ["absolute", "relative"])
    def test_a_rerun_resumes_from_the_default_journal(
        self, env_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: str
    ) -> None:
        """DIR/<stem>.journal.db is the default; running again creates nothing more.

        Also with relative paths, as the README's first command gives them (``--out
        outputs/``): the journal records absolute ones, the rows stay relative to DIR.
        """
        jobs = write_jobs(tmp_path / "jobs.jsonl", LINE_A, {"endpoint": "nope"}, LINE_B)
        out = tmp_path / "out"
        if paths == "relative":
            monkeypatch.chdir(tmp_path)
            jobs, out = Path("jobs.jsonl"), Path("out")
        first = invoke("batch", str(jobs), "--out", str(out), "--timeout", "60")
        assert first.exit_code == 1, first.output  # the invalid line
        assert (out / "jobs.journal.db").is_file()
        rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
        assert created(env_emulator) == 2
        again = invoke("batch", str(jobs), "--out", str(out), "--timeout", "60")
        assert "Resuming from the journal" in again.output
        assert created(env_emulator) == 2
        rows_again = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
        assert rows_again == rows
        # `journal results` rebuilds the same rows.
        rebuilt = tmp_path / "rebuilt.jsonl"
        result = invoke("journal", "results", str(out / "jobs.journal.db"), "--out", str(rebuilt))
        assert result.exit_code == 0, result.output
        assert [json.loads(x) for x in rebuilt.read_text().splitlines()] == rows

    def test_the_readme_command_runs_twice(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The README's first command (relative paths, ``--emulator``), then the same again.

        The second run resumes from the journal: every job is already done, nothing is
        created, and results.jsonl is written again with the same rows.
        """
        monkeypatch.chdir(tmp_path)
        write_jobs(Path("jobs.jsonl"), LINE_A, LINE_B)
        command = ("batch", "jobs.jsonl", "--emulator", "--out", "outputs/")
        first = invoke(*command)
        assert first.exit_code == 0, first.output
        rows = Path("outputs/results.jsonl").read_text()
        again = invoke(*command)
        assert again.exit_code == 0, again.output
        assert "Resuming from the journal" in again.output
        assert Path("outputs/results.jsonl").read_text() == rows
        assert sorted(p.name for p in Path("outputs").iterdir()) == [
            "a_0.png",
            "b_0.png",
            "jobs.journal.db",
            "results.jsonl",
        ]

    def test_a_changed_jobs_file_is_refused_naming_the_line(
        self, env_emulator: Emulator, tmp_path: Path
    ) -> None:
        """Exit status 2 and the line and field, nothing sent; --no-journal runs it anyway."""
        out = tmp_path / "out"
        jobs = write_jobs(tmp_path / "jobs.jsonl", LINE_A, LINE_B)
        assert invoke("batch", str(jobs), "--out", str(out)).exit_code == 0
        write_jobs(jobs, LINE_A, {**LINE_B, "params": image("other").params})
        refused = invoke("batch", str(jobs), "--out", str(out))
        assert refused.exit_code == 2
        assert "line 2" in refused.output
        assert "params.prompt_text" in refused.output
        assert created(env_emulator) == 2
        fresh = tmp_path / "fresh"
        assert invoke("batch", str(jobs), "--out", str(fresh), "--no-journal").exit_code == 0
        assert not list(fresh.glob("*.journal.db"))
        assert created(env_emulator) == 4

    def test_journal_show_lists_states_and_unknown_requests(
        self, env_emulator: Emulator, tmp_path: Path
    ) -> None:
        """An ambiguous create is UNKNOWN in the batch and in `journal show`, with its request."""
        out = tmp_path / "out"
        jobs = write_jobs(tmp_path / "jobs.jsonl", LINE_A, LINE_B)
        env_emulator.faults.inject("drop_after", route="text_to_image")
        result = invoke("batch", str(jobs), "--out", str(out), "--journal", str(tmp_path / "j.db"))
        assert result.exit_code == 1
        assert "UNKNOWN" in result.output
        show = invoke("journal", "show", str(tmp_path / "j.db"))
        assert show.exit_code == 0, show.output
        assert "SUCCEEDED" in show.output
        assert "UNKNOWN job" in show.output
        assert '"promptText"' in show.output
        before = created(env_emulator)
        resent = invoke(
            "batch", str(jobs), "--out", str(out), "--journal", str(tmp_path / "j.db"),
            "--resubmit-unknown",
        )  # fmt: skip
        assert resent.exit_code == 0, resent.output
        assert created(env_emulator) == before + 1

    def test_journal_commands_refuse_a_file_that_is_not_a_journal(self, tmp_path: Path) -> None:
        """A clear error, not a traceback."""
        bad = tmp_path / "x.db"
        bad.write_text("hello" * 200)
        result = invoke("journal", "show", str(bad))
        assert result.exit_code == 1
        assert "not a batch journal" in result.output
