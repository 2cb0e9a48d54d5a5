"""The ``batch``, ``tasks`` and ``org`` commands, against emulators started in the test."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from runway_async import AsyncRunway, BatchResult, Job, PollConfig, SucceededTask, cli
from runway_async._download import DownloadedFile
from runway_async.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_JOBS = ROOT / "examples" / "jobs.jsonl"
TIME_SCALE = 0.002
NEVER_MODEL = "seedance2_fast"  # not in the example jobs
DURATIONS = {"image": 0.5, "audio": 0.5, "video": 0.5, NEVER_MODEL: 1e6}
IMAGE_LINE = {
    "endpoint": "text_to_image",
    "params": {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1024:1024"},
}
NEVER_LINE = {
    "endpoint": "text_to_video",
    "params": {"model": NEVER_MODEL, "prompt_text": "waves", "ratio": "1280:720"},
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli.build_cli(), list(args), prog_name="runway-async")


def fast_emulator(**settings: Any) -> Emulator:
    return Emulator(time_scale=TIME_SCALE, durations=DURATIONS, seed=3, **settings)


def read_rows(out: Path) -> list[dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def write_jobs(path: Path, *lines: object) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


def run_on(emu: Emulator, work: Any) -> Any:
    """Run ``work(client)`` in a new event loop with a client of ``emu``."""

    async def main() -> Any:
        poll = PollConfig(interval=0.01, requests_per_second=5000)
        async with AsyncRunway(emu.api_key, base_url=emu.url, poll=poll) as client:
            return await work(client)

    return asyncio.run(main())


async def create_image(client: AsyncRunway) -> str:
    task = await client.text_to_image.create(
        model="gen4_image", prompt_text="a fox", ratio="1024:1024"
    )
    return task.id


@pytest.fixture
def fast_batch_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``batch --emulator`` start a fast emulator instead of a real-time one."""
    monkeypatch.setattr(cli, "_batch_emulator", fast_emulator)


@pytest.fixture
def env_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """Run a fast emulator in a thread and point RUNWAYML_* at it."""
    with fast_emulator().in_thread() as emu:
        for name, value in emu.env().items():
            monkeypatch.setenv(name, value)
        yield emu


class TestBatchCommand:
    def test_help_lists_the_new_commands(self) -> None:
        """``--help`` lists batch, tasks and org next to emulator."""
        result = invoke("--help")
        assert result.exit_code == 0
        for name in ("batch", "tasks", "org", "emulator"):
            assert name in result.output
        help_text = invoke("batch", "--help").output
        for option in ("--emulator", "--out", "--concurrency", "--timeout", "Blank lines"):
            assert option in help_text

    @pytest.mark.usefixtures("fast_batch_emulator")
    def test_example_jobs_run_on_the_emulator(self, tmp_path: Path) -> None:
        """The example jobs all succeed: one row per line, in order, files with their hashes."""
        out = tmp_path / "out"
        # --timeout only keeps a bug from hanging the suite.
        result = invoke(
            "batch", str(EXAMPLE_JOBS), "--emulator", "--out", str(out), "--timeout", "60"
        )
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        lines = EXAMPLE_JOBS.read_text(encoding="utf-8").splitlines()
        rows = read_rows(out)
        assert len(rows) == len(lines) >= 10
        for number, (row, line) in enumerate(zip(rows, lines, strict=True)):
            assert row["index"] == number
            assert row["line"] == number + 1
            assert row["id"] == json.loads(line)["id"]
            assert row["status"] == "SUCCEEDED"
            assert row["error"] is None
            assert row["task_id"]
            assert len(row["files"]) >= 1
            for file in row["files"]:
                data = (out / file["path"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == file["sha256"]
                assert len(data) == file["bytes"]
                # Named after the job's id (issue 12), the task id for a job without one.
                assert file["path"].startswith(f"{row['id'] or row['task_id']}_")
        assert "SUCCEEDED" in result.stdout
        assert "results.jsonl" in result.stdout

    @pytest.mark.usefixtures("fast_batch_emulator")
    def test_bad_lines_are_invalid_rows(self, tmp_path: Path) -> None:
        """Bad JSON, an unknown endpoint and invalid params are INVALID rows; the rest runs."""
        jobs = write_jobs(
            tmp_path / "jobs.jsonl",
            {**IMAGE_LINE, "id": "good"},
            '{"endpoint": "text_to_image", "params": {',
            "",
            {"endpoint": "text_to_imagine", "params": {}},
            {"endpoint": "text_to_image", "params": {**IMAGE_LINE["params"], "ratio": "1:1"}},
            "[1, 2]",
        )
        out = tmp_path / "out"
        result = invoke("batch", str(jobs), "--emulator", "--out", str(out))
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        rows = read_rows(out)
        assert [(r["index"], r["line"], r["status"]) for r in rows] == [
            (0, 1, "SUCCEEDED"),
            (1, 2, "INVALID"),
            (2, 4, "INVALID"),
            (3, 5, "INVALID"),
            (4, 6, "INVALID"),
        ]
        assert rows[0]["id"] == "good"
        for row in rows[1:]:
            assert row["error"].startswith(f"line {row['line']}: ")
            assert row["error"] in result.stderr  # also printed
            assert row["task_id"] is None
            assert row["files"] == []
        assert "not valid JSON" in rows[1]["error"]
        assert "Unknown endpoint 'text_to_imagine'" in rows[2]["error"]
        assert "ratio must be one of" in rows[3]["error"]
        assert "INVALID" in result.stdout  # the summary table

    def test_missing_key_is_one_clear_line(self, tmp_path: Path) -> None:
        """Without a key or --emulator, one line names the variable and the flag."""
        result = invoke("batch", str(EXAMPLE_JOBS), "--out", str(tmp_path))
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            "Error: no API key: set RUNWAYML_API_SECRET (or pass --emulator to run on a local "
            "emulator)."
        )

    def test_a_missing_file_is_a_usage_error(self, tmp_path: Path) -> None:
        """A jobs file that does not exist is refused by the argument check."""
        result = invoke("batch", str(tmp_path / "nope.jsonl"), "--emulator")
        assert result.exit_code == 2
        assert "does not exist" in result.output

    def test_unreachable_api_is_one_clear_line(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A base URL nobody listens on gives one 'cannot reach' line, no traceback."""
        monkeypatch.setenv("RUNWAYML_API_SECRET", "key")
        monkeypatch.setenv("RUNWAYML_BASE_URL", "http://127.0.0.1:9")
        result = invoke("batch", str(EXAMPLE_JOBS), "--out", str(tmp_path))
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: cannot reach http://127.0.0.1:9")
        assert "Traceback" not in result.output

    def test_environment_and_concurrency(self, env_emulator: Emulator, tmp_path: Path) -> None:
        """With the key and URL from the environment, --concurrency 1 runs one task a model."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", *([IMAGE_LINE] * 4))
        result = invoke("batch", str(jobs), "--out", str(tmp_path / "o"), "--concurrency", "1")
        assert result.exit_code == 0, result.output
        assert [r["status"] for r in read_rows(tmp_path / "o")] == ["SUCCEEDED"] * 4
        metrics = env_emulator.metrics()
        assert metrics["tasks_created_total"] == 4
        assert metrics["max_running"]["gen4_image"] == 1

    def test_failed_tasks_exit_non_zero_with_a_summary(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """FAILED jobs make the exit status 1, with their failure in the rows."""
        monkeypatch.setattr(cli, "_batch_emulator", lambda: fast_emulator(failure_rate=1.0))
        jobs = write_jobs(tmp_path / "jobs.jsonl", IMAGE_LINE, IMAGE_LINE)
        result = invoke("batch", str(jobs), "--emulator", "--out", str(tmp_path / "o"))
        assert result.exit_code == 1
        rows = read_rows(tmp_path / "o")
        assert [r["status"] for r in rows] == ["FAILED", "FAILED"]
        assert all(r["task_id"] and "failed" in r["error"] for r in rows)
        assert "FAILED" in result.stdout

    def test_timeout_stops_the_batch_and_cancels_its_tasks(
        self, env_emulator: Emulator, tmp_path: Path
    ) -> None:
        """--timeout ends unfinished jobs TIMED_OUT and cancels their server tasks."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", IMAGE_LINE, NEVER_LINE, NEVER_LINE)
        result = invoke("batch", str(jobs), "--out", str(tmp_path / "o"), "--timeout", "1")
        assert result.exit_code == 1
        rows = read_rows(tmp_path / "o")
        assert [r["status"] for r in rows] == ["SUCCEEDED", "TIMED_OUT", "TIMED_OUT"]
        for row in rows[1:]:
            assert "was cancelled" in row["error"]
        assert env_emulator.metrics()["tasks_by_status"].get("CANCELLED") == 2

    def test_an_empty_file_runs_nothing(self, tmp_path: Path) -> None:
        """A file of blank lines writes an empty results.jsonl and exits 0."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", "", "  ")
        result = invoke("batch", str(jobs), "--emulator", "--out", str(tmp_path / "o"))
        assert result.exit_code == 0, result.output
        assert read_rows(tmp_path / "o") == []


class TestParseJobs:
    def test_blank_lines_are_skipped_but_counted(self) -> None:
        """Blank lines are no jobs, yet line numbers count them; CRLF endings are fine."""
        text = "\r\n" + json.dumps(IMAGE_LINE) + "\r\n\n" + json.dumps(IMAGE_LINE) + "\n"
        entries = cli.parse_jobs(text)
        assert [(e.index, e.line, e.error) for e in entries] == [(0, 2, None), (1, 4, None)]

    def test_wire_names_are_refused(self) -> None:
        """Params take the Python keyword names; a camelCase name says which to use."""
        params = {"model": "gen4_image", "promptText": "x", "ratio": "1024:1024"}
        line = {"endpoint": "text_to_image", "params": params}
        (entry,) = cli.parse_jobs(json.dumps(line))
        assert entry.job is None
        assert entry.error is not None
        assert entry.error.startswith("line 1: ")
        assert "use 'prompt_text'" in entry.error


class TestTasksCommands:
    def test_get_shows_a_task(self, env_emulator: Emulator) -> None:
        """``tasks get`` prints the task's id, status and output; --json prints the reply."""
        task_id = run_on(env_emulator, create_image)
        run_on(env_emulator, lambda client: client.tasks.wait(task_id, timeout=30))
        result = invoke("tasks", "get", task_id)
        assert result.exit_code == 0, result.output
        assert task_id in result.stdout
        assert "SUCCEEDED" in result.stdout
        assert env_emulator.url in result.stdout
        as_json = invoke("tasks", "get", task_id, "--json")
        assert as_json.exit_code == 0
        assert json.loads(as_json.stdout)["status"] == "SUCCEEDED"

    def test_wait_prints_the_outputs(self, env_emulator: Emulator) -> None:
        """``tasks wait`` waits for the task and prints its output URLs."""
        task_id = run_on(env_emulator, create_image)
        result = invoke("tasks", "wait", task_id, "--timeout", "30")
        assert result.exit_code == 0, result.output
        (url,) = result.stdout.split()
        assert url.startswith(env_emulator.url)

    def test_wait_on_a_failing_task_exits_1(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A FAILED task makes ``tasks wait`` say why and exit 1."""
        with fast_emulator(failure_rate=1.0).in_thread() as emu:
            for name, value in emu.env().items():
                monkeypatch.setenv(name, value)
            task_id = run_on(emu, create_image)
            result = invoke("tasks", "wait", task_id)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: task {task_id} failed [")

    def test_wait_timeout_and_cancel(self, env_emulator: Emulator) -> None:
        """``tasks wait --timeout`` gives up on a long task; ``tasks cancel`` cancels it."""

        async def create_long(client: AsyncRunway) -> str:
            task = await client.text_to_video.create(
                model=NEVER_MODEL, prompt_text="waves", ratio="1280:720"
            )
            return task.id

        task_id = run_on(env_emulator, create_long)
        waited = invoke("tasks", "wait", task_id, "--timeout", "0.3")
        assert waited.exit_code == 1
        assert "did not end within 0.3 s" in waited.stderr
        cancelled = invoke("tasks", "cancel", task_id)
        assert cancelled.exit_code == 0, cancelled.output
        assert f"Cancelled task {task_id}" in cancelled.stdout
        assert "CANCELLED" in invoke("tasks", "get", task_id).stdout
        waited = invoke("tasks", "wait", task_id)
        assert waited.exit_code == 1
        assert waited.stderr.strip() == f"Error: task {task_id} was cancelled"

    @pytest.mark.usefixtures("env_emulator")
    @pytest.mark.parametrize("action", ["get", "wait", "cancel"])
    def test_unknown_task_is_one_clear_line(self, action: str) -> None:
        """An unknown id is 'not found' in one line, whatever the action."""
        result = invoke("tasks", action, "no-such-task")
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            "Error: no task no-such-task: not found (deleted tasks are not found either)"
        )
        assert "Traceback" not in result.output

    def test_missing_key(self) -> None:
        """Without RUNWAYML_API_SECRET, one line says so."""
        result = invoke("tasks", "get", "abc")
        assert result.exit_code == 1
        assert result.stderr.strip() == "Error: no API key: set RUNWAYML_API_SECRET."

    def test_refused_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A key the API refuses gives one line about the key."""
        with Emulator(api_key="the-right-key").in_thread() as emu:
            monkeypatch.setenv("RUNWAYML_BASE_URL", emu.url)
            monkeypatch.setenv("RUNWAYML_API_SECRET", "a-wrong-key")
            result = invoke("org")
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            "Error: the API refused the key (401): check RUNWAYML_API_SECRET"
        )


class TestOrgCommand:
    def test_org_shows_limits_and_usage(self, env_emulator: Emulator) -> None:
        """``org`` prints the credit balance and a row per model with its limits and usage."""
        run_on(env_emulator, create_image)
        result = invoke("org")
        assert result.exit_code == 0, result.output
        assert re.search(r"^Credit balance: [\d,]+$", result.stdout, re.MULTILINE)
        (row,) = [line for line in result.stdout.splitlines() if " gen4_image " in line]
        cells = [cell.strip() for cell in row.strip("│ ").split("│")]
        assert cells == ["gen4_image", "5", "10,000", "1", "9,999"]

    def test_org_json(self, env_emulator: Emulator) -> None:
        """``org --json`` prints the API's reply."""
        result = invoke("org", "--json")
        assert result.exit_code == 0
        data = json.loads(result.stdout)
        assert data["tier"]["models"]["gen4_image"]["maxConcurrentGenerations"] == 5


# -- issue 9: output, signals, jobs-file checks, bad text, float options, stop grace ---------

STOP_DEADLINE = 30.0  # bounds every wait below; none is reached unless something is broken


def wait_until(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str]) -> None:
    """Wait until ``condition()`` holds, failing if the process exits or the deadline passes."""
    deadline = time.monotonic() + STOP_DEADLINE
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the batch exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # a polling step, not a timing assumption


def created_task_ids(emu: Emulator) -> set[str]:
    return set(emu.metrics(tasks=True)["tasks"])


def batch_process(emu: Emulator, jobs: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    """Start ``runway-async batch`` in a child process against ``emu``."""
    env = {**os.environ, **emu.env(), "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
    return subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "runway_async.cli", "batch", str(jobs), "--out", str(out), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture
def read_only_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Yield a directory in which no file can be created.

    Its mode is 555; for root, whom modes do not stop, every open for writing inside it fails
    with EACCES instead, as on a read-only mount.
    """
    path = tmp_path / "read-only"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    refused = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND

    def inside(file: object) -> bool:
        return isinstance(file, (str, os.PathLike)) and Path(file).parent == path

    def denied(file: object) -> PermissionError:
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))

    real_os_open, real_io_open, real_path_open = os.open, io.open, Path.open

    def os_open(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & refused and inside(file):
            raise denied(file)
        return real_os_open(file, flags, *args, **kwargs)

    def io_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if set(mode) & set("wxa+") and inside(file):
            raise denied(file)
        return real_io_open(file, mode, *args, **kwargs)

    def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if set(mode) & set("wxa+") and inside(self):
            raise denied(self)
        return real_path_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(io, "open", io_open)  # what Path.open calls from Python 3.11 on
    # Python 3.10's Path.open calls the io.open its accessor bound at import, not ours.
    monkeypatch.setattr(Path, "open", path_open)
    yield path


class TestUnwritableOut:
    """Issue 9 item 3: an --out that cannot be written is found before anything is paid."""

    def test_read_only_out_is_refused_before_anything_is_sent(
        self, env_emulator: Emulator, read_only_dir: Path
    ) -> None:
        """A read-only --out fails with one line naming it; the API hears no request at all."""
        jobs = write_jobs(read_only_dir.parent / "jobs.jsonl", IMAGE_LINE)
        result = invoke("batch", str(jobs), "--out", str(read_only_dir))
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: cannot write to {read_only_dir} (")
        assert result.stderr.strip().endswith("nothing was sent")
        assert len(result.stderr.strip().splitlines()) == 1
        assert env_emulator.metrics()["requests"] == {}
        assert not (read_only_dir / "results.jsonl").exists()

    @pytest.mark.parametrize("blocked", ["results.jsonl", ".results.jsonl.part"])
    def test_results_file_that_cannot_be_written_is_refused(
        self, env_emulator: Emulator, tmp_path: Path, blocked: str
    ) -> None:
        """A directory where results.jsonl (or its temporary file) goes stops it before sending."""
        out = tmp_path / "out"
        (out / blocked).mkdir(parents=True)
        jobs = write_jobs(tmp_path / "jobs.jsonl", IMAGE_LINE)
        result = invoke("batch", str(jobs), "--out", str(out))
        assert result.exit_code == 1
        assert str(out) in result.stderr
        assert "nothing was sent" in result.stderr
        assert env_emulator.metrics()["requests"] == {}

    def test_out_under_a_file_is_refused(self, env_emulator: Emulator, tmp_path: Path) -> None:
        """An --out that cannot be created (under a regular file) stops it before sending."""
        (tmp_path / "file").write_text("x", encoding="utf-8")
        out = tmp_path / "file" / "out"
        jobs = write_jobs(tmp_path / "jobs.jsonl", IMAGE_LINE)
        result = invoke("batch", str(jobs), "--out", str(out))
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: cannot create {out}: ")
        assert env_emulator.metrics()["requests"] == {}

    def test_results_unwritable_at_the_end_still_reports_every_task(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """If results.jsonl cannot be written after all, every row (task ids too) goes to stderr."""
        out = tmp_path / "out"
        started: list[Emulator] = []

        def emulator_then_block() -> Emulator:
            # After the check before sending passed: the write at the end will fail.
            (out / ".results.jsonl.part").mkdir()
            started.append(fast_emulator())
            return started[0]

        monkeypatch.setattr(cli, "_batch_emulator", emulator_then_block)
        jobs = write_jobs(tmp_path / "jobs.jsonl", {**IMAGE_LINE, "id": "a"}, IMAGE_LINE, "{")
        result = invoke("batch", str(jobs), "--emulator", "--out", str(out))
        assert result.exit_code == 1
        assert not (out / "results.jsonl").exists()
        assert f"Error: cannot write {out / 'results.jsonl'}: " in result.stderr
        rows = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
        assert [(r["line"], r["id"], r["status"]) for r in rows] == [
            (1, "a", "SUCCEEDED"),
            (2, None, "SUCCEEDED"),
            (3, None, "INVALID"),
        ]
        assert all(r["task_id"] for r in rows[:2])
        assert "Batch summary" in result.stdout
        assert "Results:" not in result.stdout


class TestStopSignals:
    """Issue 9 item 5: SIGTERM stops a batch as Ctrl-C does, and the results are written."""

    @pytest.mark.parametrize(
        ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
    )
    def test_signal_cancels_the_tasks_and_writes_results(
        self, tmp_path: Path, sig: signal.Signals, code: int
    ) -> None:
        """After the signal, each created task is cancelled and in results.jsonl; exit 128+N."""
        jobs = write_jobs(
            tmp_path / "jobs.jsonl", {**NEVER_LINE, "id": "a"}, {**NEVER_LINE, "id": "b"}, "{"
        )
        out = tmp_path / "out"
        with fast_emulator().in_thread() as emu:
            proc = batch_process(emu, jobs, out)
            try:
                wait_until(lambda: len(created_task_ids(emu)) == 2, "both tasks exist", proc)
                proc.send_signal(sig)
                stdout, stderr = proc.communicate(timeout=STOP_DEADLINE)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
            created = created_task_ids(emu)
            by_status = emu.metrics()["tasks_by_status"]
        assert proc.returncode == code, stderr
        assert "Traceback" not in stderr
        assert "stopping" in stderr
        rows = read_rows(out)
        assert [(r["line"], r["status"]) for r in rows] == [
            (1, "CANCELLED"),
            (2, "CANCELLED"),
            (3, "INVALID"),
        ]
        assert {r["task_id"] for r in rows[:2]} == created
        assert by_status == {"CANCELLED": 2}
        assert "Batch summary" in stdout

    def test_create_in_flight_at_sigterm_is_recorded_and_cancelled(self, tmp_path: Path) -> None:
        """A create held at SIGTERM is awaited (--grace): its task is recorded and cancelled."""
        row, created, by_status = self.stop_during_held_create(tmp_path, 0.5, "30")
        assert row["status"] == "CANCELLED"
        assert row["task_id"] == created
        assert by_status == {"CANCELLED": 1}

    def test_grace_bounds_the_wait_for_a_create(self, tmp_path: Path) -> None:
        """A create unanswered within --grace is reported as possibly created; nothing hangs."""
        row, _, by_status = self.stop_during_held_create(tmp_path, None, "0.05")
        assert row["status"] == "CANCELLED"
        assert row["task_id"] is None
        assert "not answered within the grace period (0.05 s)" in row["error"]
        assert "may have created a task" in row["error"]
        assert by_status == {"RUNNING": 1}  # unknown to the client: nothing to cancel

    @staticmethod
    def stop_during_held_create(
        tmp_path: Path, delay: float | None, grace: str
    ) -> tuple[dict[str, Any], str, dict[str, int]]:
        """Send SIGTERM while the create's reply is held ``delay`` s (None: for ever)."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", {**NEVER_LINE, "id": "held"})
        out = tmp_path / "out"
        with fast_emulator().in_thread() as emu:
            emu.faults.inject("hold_after", delay=delay)
            proc = batch_process(emu, jobs, out, "--grace", grace)
            try:
                wait_until(lambda: len(created_task_ids(emu)) == 1, "the held create", proc)
                proc.send_signal(signal.SIGTERM)
                _, stderr = proc.communicate(timeout=STOP_DEADLINE)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
            (created,) = created_task_ids(emu)
            by_status = emu.metrics()["tasks_by_status"]
        assert proc.returncode == 143, stderr
        (row,) = read_rows(out)
        return row, created, by_status


class TestJobsFileChecks:
    """Issue 9 item 12: duplicate ids are named (or refused with --strict); no jobs says so."""

    def test_duplicate_ids_are_warned_about_with_their_lines(
        self, env_emulator: Emulator, tmp_path: Path
    ) -> None:
        """Two jobs with one id both run, and a warning names the id and both lines."""
        jobs = write_jobs(
            tmp_path / "jobs.jsonl",
            {**IMAGE_LINE, "id": "x"},
            {**IMAGE_LINE, "id": "y"},
            "",
            {**IMAGE_LINE, "id": "x"},
        )
        result = invoke("batch", str(jobs), "--out", str(tmp_path / "o"))
        assert result.exit_code == 0, result.output
        assert 'warning: id "x" is used by lines 1 and 4; results are keyed by id' in (
            result.stderr
        )
        assert '"y"' not in result.stderr
        assert [r["id"] for r in read_rows(tmp_path / "o")] == ["x", "y", "x"]
        assert env_emulator.metrics()["tasks_created_total"] == 3

    def test_many_duplicates_are_listed_briefly(self) -> None:
        """A warning lists five line numbers at most, then how many others."""
        assert cli._duplicate_text("k", [1, 2, 3, 4, 5, 6, 7]) == (
            'id "k" is used by lines 1, 2, 3, 4, 5 and 2 others'
        )
        assert cli._duplicate_text("k", [2, 5, 9]) == 'id "k" is used by lines 2, 5 and 9'

    @pytest.mark.parametrize(
        ("lines", "problem"),
        [
            ([{**IMAGE_LINE, "id": "x"}, {**IMAGE_LINE, "id": "x"}], 'id "x" is used by lines'),
            ([IMAGE_LINE, "{"], "1 invalid line"),
            (["", " "], "no jobs"),
        ],
        ids=["duplicate", "invalid", "empty"],
    )
    def test_strict_refuses_the_file_before_sending(
        self, env_emulator: Emulator, tmp_path: Path, lines: list[object], problem: str
    ) -> None:
        """With --strict, duplicate ids, an invalid line or no jobs exit 2 with nothing sent."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", *lines)
        result = invoke("batch", str(jobs), "--out", str(tmp_path / "o"), "--strict")
        assert result.exit_code == 2
        assert problem in result.stderr
        assert "(--strict); nothing was sent" in result.stderr
        assert env_emulator.metrics()["requests"] == {}
        assert not (tmp_path / "o" / "results.jsonl").exists()

    def test_an_empty_file_says_so(self, env_emulator: Emulator, tmp_path: Path) -> None:
        """A file with no jobs says so on stderr, writes an empty results.jsonl, exits 0."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", "", "\t")
        result = invoke("batch", str(jobs), "--out", str(tmp_path / "o"))
        assert result.exit_code == 0, result.output
        assert f"warning: no jobs in {jobs}" in result.stderr
        assert read_rows(tmp_path / "o") == []
        assert env_emulator.metrics()["requests"] == {}


class TestLoneSurrogates:
    """Issue 9 item 6 (CLI side): text that is not Unicode is an INVALID row, never a crash."""

    SURROGATE_LINE = (
        '{"endpoint": "text_to_image", "id": "s", "params": {"model": "gen4_image", '
        '"prompt_text": "a \\ud800 fox", "ratio": "1024:1024"}}'
    )

    @pytest.mark.usefixtures("fast_batch_emulator")
    def test_surrogate_line_is_invalid_and_the_others_run(self, tmp_path: Path) -> None:
        """The line is INVALID naming prompt_text; the valid line still runs; rows are UTF-8."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", self.SURROGATE_LINE, {**IMAGE_LINE, "id": "ok"})
        out = tmp_path / "out"
        result = invoke("batch", str(jobs), "--emulator", "--out", str(out))
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        rows = read_rows(out)  # strict UTF-8
        assert [(r["line"], r["status"]) for r in rows] == [(1, "INVALID"), (2, "SUCCEEDED")]
        assert rows[0]["error"].startswith("line 1: prompt_text holds a lone surrogate (\\ud800)")
        assert rows[0]["error"] in result.stderr

    @pytest.mark.parametrize(
        ("line", "field"),
        [
            ({"endpoint": "text_to_image", "id": "a\ud800", "params": {}}, "id"),
            ({"endpoint": "text\udfff", "params": {}}, "endpoint"),
            ({**IMAGE_LINE, "params": {**IMAGE_LINE["params"], "x\ud800": 1}}, "x\\ud800"),
            (
                {
                    "endpoint": "text_to_image",
                    "params": {**IMAGE_LINE["params"], "reference_images": [{"uri": "\udc00"}]},
                },
                "reference_images[0].uri",
            ),
        ],
        ids=["id", "endpoint", "params-key", "nested"],
    )
    def test_surrogates_anywhere_name_their_field(self, line: object, field: str) -> None:
        """A lone surrogate in any string or key makes the line invalid, naming where it is."""
        (entry,) = cli.parse_jobs(json.dumps(line))
        assert entry.job is None
        assert entry.error is not None
        assert entry.error.startswith(f"line 1: {field} holds a lone surrogate (\\ud")
        assert entry.error.endswith("which is not Unicode text and cannot be sent")
        entry.error.encode("utf-8")  # printable as it is

    def test_valid_surrogate_pairs_are_fine(self) -> None:
        """An escaped pair (an emoji) is ordinary text, not a lone surrogate."""
        line = {**IMAGE_LINE, "params": {**IMAGE_LINE["params"], "prompt_text": "a \U0001f98a"}}
        text = json.dumps(line)  # ensure_ascii: the fox becomes \ud83e\udd8a
        assert "\\ud83e\\udd8a" in text
        (entry,) = cli.parse_jobs(text)
        assert entry.error is None

    def test_rows_with_surrogates_are_written_escaped(self, tmp_path: Path) -> None:
        """A row whose text holds a lone surrogate is written with JSON escapes, losslessly."""
        rows = [{"error": "bad \ud800 text", "id": "café"}, {"error": None, "id": "café"}]
        cli._write_rows(tmp_path / "results.jsonl", rows)
        lines = (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
        assert lines[1] == '{"error": null, "id": "café"}'  # readable where it can be
        assert [json.loads(line) for line in lines] == rows


class TestFloatOptions:
    """Issue 9 item 7 (CLI side): every float option refuses nan and infinities."""

    @pytest.mark.parametrize("value", ["nan", "inf", "-inf", "Infinity", "NaN"])
    @pytest.mark.parametrize(
        "args",
        [
            ("batch", "JOBS", "--emulator", "--timeout"),
            ("batch", "JOBS", "--emulator", "--grace"),
            ("tasks", "wait", "some-task", "--timeout"),
            ("emulator", "--time-scale"),
            ("emulator", "--failure-rate"),
        ],
        ids=["batch-timeout", "batch-grace", "wait-timeout", "time-scale", "failure-rate"],
    )
    def test_non_finite_values_are_usage_errors(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], value: str
    ) -> None:
        """A non-finite value is a usage error (exit 2) naming the option; nothing runs."""

        def must_not_run(**_settings: Any) -> Emulator:
            pytest.fail("an emulator was started")

        monkeypatch.setattr(cli, "_make_emulator", must_not_run)
        monkeypatch.setattr(cli, "_batch_emulator", must_not_run)
        jobs = write_jobs(tmp_path / "jobs.jsonl", IMAGE_LINE)
        argv = [str(jobs) if arg == "JOBS" else arg for arg in args]
        result = (
            invoke(*argv, value, "--out", str(tmp_path / "o"))
            if args[0] == "batch"
            else (invoke(*argv, value))
        )
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '{args[-1]}'" in result.stderr
        assert "Traceback" not in result.output
        assert not (tmp_path / "o").exists()

    def test_finite_values_keep_their_ranges(self) -> None:
        """Finite numbers pass, within the option's range: 0 is a grace, not a timeout."""
        assert cli._finite_float(min=0).convert("0", None, None) == 0.0
        assert cli._finite_float(min=0, max=1).convert("0.5", None, None) == 0.5
        timeout = invoke("tasks", "wait", "t", "--timeout", "0")
        assert timeout.exit_code == 2
        assert "not in the range" in timeout.stderr


class TestStopGrace:
    """Issue 9 items 1 and 4 (CLI side): --grace, notes, and outputs not downloaded."""

    def test_grace_is_in_the_help_and_the_stop_is_described(self) -> None:
        """``batch --help`` explains --grace, --strict and what a stop keeps."""
        help_text = invoke("batch", "--help").output
        for text in ("--grace", "--strict", "SIGTERM", "already ended are kept"):
            assert text in help_text

    def test_a_succeeded_job_without_its_files_keeps_its_urls_and_note(
        self, tmp_path: Path
    ) -> None:
        """A SUCCEEDED row whose outputs were not downloaded has the URLs and the batch's note."""
        job = Job("text_to_image", IMAGE_LINE["params"], key="fox")
        task = SucceededTask(
            id="t-1",
            created_at=datetime.now(timezone.utc),
            output=("https://example.com/a.png", "https://example.com/b.png"),
        )
        files = tuple(
            DownloadedFile(
                path=tmp_path / f"t-1_{n}.png",
                url=url,
                sha256="0" * 64,
                bytes=1,
                content_type="image/png",
            )
            for n, url in enumerate(task.output)
        )
        note = "the batch stopped before its outputs were downloaded"
        results = [
            BatchResult(index=0, job=job, status="SUCCEEDED", task_id="t-1", task=task, note=note),
            BatchResult(
                index=1, job=job, status="SUCCEEDED", task_id="t-1", task=task, files=files[:1]
            ),
            BatchResult(
                index=2, job=job, status="SUCCEEDED", task_id="t-1", task=task, files=files
            ),
        ]
        lines = [cli.JobLine(index=n, line=n + 1, job=job, error=None) for n in range(3)]
        rows = cli._result_rows(lines, results, tmp_path)
        assert [row.get("output") for row in rows] == [list(task.output)] * 2 + [None]
        assert [row["note"] for row in rows] == [note, None, None]
        assert [row["files"][0]["path"] for row in rows[1:]] == ["t-1_0.png"] * 2
        # A job with a note still counts as succeeded.
        assert cli._print_summary(Console(file=io.StringIO()), rows, None) == {"SUCCEEDED": 3}


def test_a_jobs_file_runs_published_workflows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``"endpoint": "workflows.run"`` jobs run workflows; every node's files are downloaded."""
    out = tmp_path / "out"
    with Emulator(time_scale=0.002, seed=4).in_thread() as emu:
        poster = emu.add_workflow("poster", nodes={"poster": "image", "clips": ["video", "video"]})
        broken = emu.add_workflow("broken", fail="INTERNAL")
        jobs = tmp_path / "jobs.jsonl"
        jobs.write_text(
            json.dumps({"endpoint": "workflows.run", "params": {"id": poster}, "id": "ok"})
            + "\n"
            + json.dumps({"endpoint": "workflows.run", "params": {"id": broken}, "id": "bad"})
            + "\n"
            + json.dumps({"endpoint": "workflows.run", "params": {"nodeOutputs": {}}, "id": "x"})
            + "\n"
        )
        for name, value in emu.env().items():
            monkeypatch.setenv(name, value)
        result = invoke("batch", str(jobs), "--out", str(out), "--timeout", "60")
    lines = (out / "results.jsonl").read_text().splitlines()
    rows = {row["line"]: row for row in map(json.loads, lines)}
    assert rows[1]["status"] == "SUCCEEDED", result.output
    assert len(rows[1]["files"]) == 3  # one image and two videos, from two nodes
    assert all((out / f["path"]).stat().st_size == f["bytes"] for f in rows[1]["files"])
    assert rows[2]["status"] == "FAILED"
    assert "INTERNAL" in rows[2]["error"]
    assert rows[3]["status"] == "INVALID"
    assert "node_outputs" in rows[3]["error"]


@pytest.mark.redis
class TestBatchRedis:
    """``--redis URL``: the batch's limiter is a ``RedisLimiter`` shared with other processes."""

    def test_a_batch_on_shared_limits(
        self,
        fast_batch_emulator: None,
        redis_url: str,
        redis_namespace: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from runway_async import RedisLimiter

        made: list[RedisLimiter] = []
        real = cli._redis_limiter

        def spy(url: str | None, namespace: str) -> Any:
            limiter = real(url, namespace)
            made.append(limiter)  # type: ignore[arg-type]
            return limiter

        monkeypatch.setattr(cli, "_redis_limiter", spy)
        out = tmp_path / "out"
        result = invoke(
            "batch",
            str(EXAMPLE_JOBS),
            "--emulator",
            "--out",
            str(out),
            "--timeout",
            "60",
            "--redis",
            redis_url,
            "--redis-namespace",
            redis_namespace,
        )
        assert result.exit_code == 0, result.output
        assert {row["status"] for row in read_rows(out)} == {"SUCCEEDED"}
        assert isinstance(made[0], RedisLimiter)
        assert made[0].namespace == redis_namespace

    def test_a_bad_url_is_a_usage_error(self, tmp_path: Path) -> None:
        result = invoke(
            "batch", str(EXAMPLE_JOBS), "--emulator", "--out", str(tmp_path), "--redis", ""
        )
        assert result.exit_code == 2
        assert "Redis URL" in result.output
