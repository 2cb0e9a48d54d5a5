"""The benchmark harness: its critical-path model and a smoke run on the emulator."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def load_runner() -> ModuleType:
    if not (BENCH / "run.py").is_file():
        pytest.skip("benchmarks/ is not in this source tree")
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def test_critical_path_is_list_scheduling_in_creation_order() -> None:
    """Three 2 s tasks and one 4 s task on 2 slots, with 0.5 s pending each."""
    runner = load_runner()
    timelines = {
        "a": {"created": 0.0, "duration": 2.0},
        "b": {"created": 0.1, "duration": 4.0},
        "c": {"created": 0.2, "duration": 2.0},
        "d": {"created": 0.3, "duration": 2.0},
    }
    # a: 0-2.5, b: 0-4.5, c: 2.5-5, d: 4.5-7.
    assert runner.critical_path(timelines, 2, 0.5) == pytest.approx(7.0)
    assert runner.critical_path(timelines, 4, 0.5) == pytest.approx(4.5)


def test_smoke_scenario_runs_and_writes_results(tmp_path: Path) -> None:
    """The smoke scenario completes every task, never throttles and writes both reports."""
    load_runner()
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(BENCH / "run.py"), "--only", "smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "latest.json").read_text())
    [row] = results["scenarios"]["smoke"]
    assert row["sdk"] == "ours"
    assert row["succeeded"] == row["tasks_created"] == 20
    assert row["throttled_api_s"] == 0
    assert row["max_running"] <= 4
    assert row["duplicate_creates"] == 0
    assert row["wall_ratio"] >= 1.0  # nobody beats the server's own schedule
    assert "### smoke" in (tmp_path / "latest.md").read_text()
