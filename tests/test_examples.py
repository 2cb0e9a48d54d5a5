"""The README's main job and the examples run as a new user would run them."""

from __future__ import annotations

import importlib.util
import json
import runpy
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp.test_utils import TestClient, TestServer

from runway_async import PollConfig
from runway_async.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent


class TestQuickstart:
    """examples/quickstart.py: the README's first command."""

    def test_runs_on_the_emulator(self) -> None:
        """The quickstart finishes its batch on the embedded emulator and exits 0."""
        done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, str(ROOT / "examples" / "quickstart.py")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "7 tasks, 0 failed" in done.stdout
        assert done.stdout.count("SUCCEEDED") == 7


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
        [sys.executable, *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


class TestBatchExamples:
    """examples/batch_script.py, examples/web_handler.py and the batch CLI on the examples."""

    def test_batch_cli_runs_the_example_jobs(self, tmp_path: Path) -> None:
        """The README's first command exits 0 with one SUCCEEDED row per job and its file."""
        out = tmp_path / "outputs"
        jobs = ROOT / "examples" / "jobs.jsonl"
        done = run("-m", "runway_async.cli", "batch", str(jobs), "--emulator", "--out", str(out))
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        assert len(rows) == len([line for line in jobs.read_text().splitlines() if line.strip()])
        assert {row["status"] for row in rows} == {"SUCCEEDED"}
        assert all((out / f["path"]).is_file() for row in rows for f in row["files"])

    def test_batch_script_runs_the_example_jobs(self, tmp_path: Path) -> None:
        """The batch script runs examples/jobs.jsonl on the emulator and exits 0."""
        done = run(str(ROOT / "examples" / "batch_script.py"), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("SUCCEEDED") == 12
        assert len(list((tmp_path / "outputs").iterdir())) == 12

    async def test_web_handler_answers_with_the_image(self) -> None:
        """The web handler creates a task per request and answers with its output URL."""
        web_handler = load_example("web_handler")
        async with Emulator(time_scale=0.01) as emu:
            app = web_handler.make_app(
                emu.api_key, base_url=emu.url, poll=PollConfig(interval=0.01)
            )
            async with TestClient(TestServer(app)) as http:
                reply = await http.post("/posters", json={"prompt": "a fox"})
                assert reply.status == 200
                assert (await reply.json())["images"][0].startswith(emu.url)
                bad = await http.post("/posters", json={"prompt": ""})
                assert bad.status == 400
                assert (await bad.json())["field"] == "prompt_text"


class TestSyncOfficialExample:
    """examples/sync_official.py: the official README's sync usage with only the import changed."""

    def test_runs_unchanged_on_the_emulator(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Create, print the id, wait, retrieve and wait, organization, the official errors."""
        import runway_async

        runway_async.set_testing(True)  # as the pytest plugin's fixtures do: no 5 s poll floor
        try:
            with Emulator(time_scale=0.01, seed=3).in_thread() as emu:
                for name, value in emu.env().items():
                    monkeypatch.setenv(name, value)
                runpy.run_path(str(ROOT / "examples" / "sync_official.py"), run_name="__main__")
        finally:
            runway_async.set_testing(False)
        lines = capsys.readouterr().out.splitlines()
        assert len(lines[0]) == 36  # the task id
        assert lines[1].startswith("SUCCEEDED ('http://127.0.0.1:")
        assert lines[2] == "SUCCEEDED SUCCEEDED"
        assert int(lines[3]) > 0  # credit balance
        assert lines[4:] == ["Another non-200-range status code was received", "404"]
