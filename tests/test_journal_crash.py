"""Crash tests: ``runway-async batch`` SIGKILLed at chosen points, then run again.

The child process runs against an emulator in this process (a thread); the moment of each
kill is chosen by reading the child's journal (sqlite) and the emulator's metrics, never by
sleeping. Running the same command again must finish every job with each task created once,
except a job killed between its POST and the reply, which stays UNKNOWN (its request kept)
until ``--resubmit-unknown``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runway_async.emulator import Emulator
from runway_async.emulator._media import MEDIA

# Runs once per CI run (the default Python, aiohttp 3.13): see noxfile.py.
pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"),
    pytest.mark.heavy,
]

TIME_SCALE = 0.002
# gen4_image tasks last 250 API seconds: 0.5 s here, long enough to be killed while waiting.
DURATIONS = {"image": 250.0, "audio": 0.5, "video": 0.5}
DEADLINE = 30.0  # bounds every wait; reached only when something is broken


def image_line(prompt: str) -> dict[str, Any]:
    return {
        "endpoint": "text_to_image",
        "id": prompt,
        "params": {"model": "gen4_image", "prompt_text": prompt, "ratio": "1024:1024"},
    }


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=TIME_SCALE, durations=DURATIONS, seed=9).in_thread() as running:
        yield running


def start(emu: Emulator, jobs: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **emu.env(), "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
    return subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "runway_async.cli", "batch", str(jobs), "--out", str(out), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run(emu: Emulator, jobs: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = start(emu, jobs, out, *args)
    stdout, stderr = proc.communicate(timeout=DEADLINE)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def states(journal: Path) -> dict[int, tuple[str, str | None]]:
    """Return each job's (state, task id) as the child's journal has it right now."""
    if not journal.exists():
        return {}
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
    try:
        rows = db.execute("SELECT idx, state, task_id FROM jobs").fetchall()
    except sqlite3.OperationalError:  # the child has not created the tables yet
        return {}
    finally:
        db.close()
    return {idx: (state, task_id) for idx, state, task_id in rows}


def kill_when(proc: subprocess.Popen[str], condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the batch exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)  # a polling step, not a timing assumption
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=DEADLINE)


def rows(out: Path) -> list[dict[str, Any]]:
    text = (out / "results.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def write_jobs(path: Path, count: int) -> Path:
    lines = [json.dumps(image_line(f"job{n}")) for n in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_killed_while_waiting_and_before_posts(emu: Emulator, tmp_path: Path) -> None:
    """Killed with job 0 RUNNING and jobs 1-2 not yet sent: the rerun creates each once."""
    jobs, out = write_jobs(tmp_path / "jobs.jsonl", 3), tmp_path / "out"
    journal = out / "jobs.journal.db"
    proc = start(emu, jobs, out, "--concurrency", "1")

    def job0_waiting() -> bool:
        now = states(journal)
        return now.get(0, ("", None))[0] == "submitted"

    kill_when(proc, job0_waiting, "job 0's task id was recorded")
    assert proc.returncode == -signal.SIGKILL
    first = states(journal)
    assert [first[n][0] for n in (1, 2)] == ["pending", "pending"]  # never sent
    assert emu.metrics()["tasks_created_total"] == 1

    done = run(emu, jobs, out, "--concurrency", "1")
    assert done.returncode == 0, done.stderr
    assert [row["status"] for row in rows(out)] == ["SUCCEEDED"] * 3
    assert rows(out)[0]["task_id"] == first[0][1]  # waited for, not created again
    metrics = emu.metrics()
    assert metrics["tasks_created_total"] == 3
    assert metrics["duplicate_creates"] == 0


def test_killed_between_post_and_reply(emu: Emulator, tmp_path: Path) -> None:
    """The held create ends UNKNOWN with its request; only --resubmit-unknown sends it again."""
    jobs, out = write_jobs(tmp_path / "jobs.jsonl", 2), tmp_path / "out"
    journal = out / "jobs.journal.db"
    emu.faults.inject("hold_after", route="text_to_image")  # processed, never answered
    proc = start(emu, jobs, out)

    def one_held_one_done() -> bool:
        now = sorted(state for state, _task in states(journal).values())
        return now == ["finished", "sending"] and emu.metrics()["tasks_created_total"] == 2

    kill_when(proc, one_held_one_done, "one create held and the other job done")
    (held,) = [n for n, (state, _task) in states(journal).items() if state == "sending"]

    again = run(emu, jobs, out)
    assert again.returncode == 1
    result = rows(out)
    assert result[held]["status"] == "UNKNOWN"
    assert "no way to list recent tasks" in result[held]["note"]
    assert result[1 - held]["status"] == "SUCCEEDED"
    assert emu.metrics()["tasks_created_total"] == 2
    assert emu.metrics()["duplicate_creates"] == 0

    show = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "runway_async.cli", "journal", "show", str(journal)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=True,
    )
    assert f"job{held}" in show.stdout
    assert "UNKNOWN" in show.stdout

    resent = run(emu, jobs, out, "--resubmit-unknown")
    assert resent.returncode == 0, resent.stderr
    assert [row["status"] for row in rows(out)] == ["SUCCEEDED", "SUCCEEDED"]
    metrics = emu.metrics()
    assert metrics["tasks_created_total"] == 3  # the opted-in second create of the held job
    assert metrics["duplicate_creates"] == 1


def temp_files(out: Path) -> list[Path]:
    """Return the partial downloads (``.runway-download-*.part``) in the out dir."""
    return sorted(out.glob(".runway-download-*.part")) if out.exists() else []


def test_killed_while_downloading(emu: Emulator, tmp_path: Path) -> None:
    """Killed mid-file: the rerun downloads it whole, creates nothing again, leaves no temp."""
    jobs, out = write_jobs(tmp_path / "jobs.jsonl", 2), tmp_path / "out"
    journal = out / "jobs.journal.db"
    # The first output GET sends its headers and half the file, then holds the rest.
    emu.faults.inject("hold_body", route="outputs")
    proc = start(emu, jobs, out, "--concurrency", "1")

    def downloading() -> bool:
        # Job 1 is created while job 0 downloads; waiting for its task id keeps the kill
        # out of its create (which would leave it UNKNOWN, the other test's case).
        if emu.metrics()["faults_holding"] != 1 or not temp_files(out):
            return False
        return [state for state, _task in states(journal).values()] == ["submitted"] * 2

    kill_when(proc, downloading, "job 0's first output held mid-body")
    assert proc.returncode == -signal.SIGKILL
    first = states(journal)
    assert emu.metrics()["tasks_created_total"] == 2
    assert not list(out.glob("job0*"))  # nothing of the held file in place
    deadline = time.monotonic() + DEADLINE
    while emu.metrics()["faults_holding"]:  # the server sees the killed client's socket close
        assert time.monotonic() < deadline, "the held download outlived its client"
        time.sleep(0.005)  # a polling step, not a timing assumption

    done = run(emu, jobs, out, "--concurrency", "1")
    assert done.returncode == 0, done.stderr
    result = rows(out)
    assert [row["status"] for row in result] == ["SUCCEEDED", "SUCCEEDED"]
    # Each task waited for or downloaded again, never created again.
    assert [row["task_id"] for row in result] == [first[0][1], first[1][1]]
    metrics = emu.metrics()
    assert metrics["tasks_created_total"] == 2
    assert metrics["duplicate_creates"] == 0
    outputs = metrics["requests"]["GET /_emulator/outputs/{task_id}/{name}"]
    assert outputs == {"dropped": 1, "200": 2}  # the held one, then one per job

    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        recorded = db.execute("SELECT idx, path, sha256, bytes FROM files ORDER BY idx").fetchall()
        finished = db.execute("SELECT state FROM jobs ORDER BY idx").fetchall()
    finally:
        db.close()
    assert finished == [("finished",), ("finished",)]
    assert [idx for idx, *_ in recorded] == [0, 1]
    for _idx, path, sha256, size in recorded:
        data = Path(path).read_bytes()
        assert data == MEDIA["image"].data  # whole: the held half was not kept
        assert len(data) == size
        assert hashlib.sha256(data).hexdigest() == sha256
    assert Path(recorded[0][1]).name.startswith("job0")
    assert temp_files(out) == []  # the killed run's partial download was removed
