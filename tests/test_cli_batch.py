"""The ``batch``, ``tasks`` and ``org`` commands, against emulators started in the test."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from runway_async import AsyncRunway, PollConfig, cli
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
                assert file["path"].startswith(row["task_id"])
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
