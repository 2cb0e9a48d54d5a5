"""The benchmark harness: its critical-path model and smoke runs on the emulator."""

from __future__ import annotations

import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import attrs
import pytest

from runway_async import PollConfig

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def load_runner() -> ModuleType:
    if not (BENCH / "run.py").is_file():
        pytest.skip("benchmarks/ is not in this source tree")
    if str(BENCH) not in sys.path:  # run.py imports report.py and timelines.py by name
        sys.path.insert(0, str(BENCH))
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


def run_bench(only: str, out: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(BENCH / "run.py"), "--only", only, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_smoke_scenario_runs_and_writes_results(tmp_path: Path) -> None:
    """The smoke scenario completes every task and writes both reports and its picture."""
    load_runner()
    done = run_bench("smoke", tmp_path)
    results = json.loads((tmp_path / "latest.json").read_text())
    [row] = results["scenarios"]["smoke"]
    assert row["sdk"] == "ours"
    assert row["succeeded"] == row["tasks_created"] == 20
    # THROTTLED at most briefly, by design: a create sent early into a held slot waits at
    # most for that slot's task to end (8 s tasks, 10% jitter, 0.5 s pending).
    assert row["throttled_per_task_api_s"] <= 8.0 * 1.1 + 0.5
    assert row["max_running"] <= 4
    assert row["duplicate_creates"] == 0
    assert row["wall_ratio"] >= 1.0  # nobody beats the server's own schedule
    # 20 creates and at least one GET each; control routes are not counted.
    assert row["requests"] >= 40
    # cpu_s is rounded to 10 ms in the row, cpu_ms_per_request computed from the exact value.
    per_request = row["cpu_s"] * 1000 / row["requests"]
    assert row["cpu_ms_per_request"] == pytest.approx(per_request, abs=5.0 / row["requests"])
    assert row["peak_rss_mb"] > 0
    report = (tmp_path / "latest.md").read_text()
    assert "### smoke" in report
    assert "## Targets (issue 13)" in report
    assert {target["scenario"] for target in results["targets"]} >= {"small", "large", "cold"}
    picture = tmp_path / "smoke.png"
    if importlib.util.find_spec("matplotlib") is None:
        assert "matplotlib is not installed" in done.stderr
        assert not picture.exists()
    else:
        data = picture.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (1200, 700)
        assert "![smoke: task timelines](smoke.png)" in report


def test_cold_start_scenario_runs_three_fresh_processes(tmp_path: Path) -> None:
    """The cold start warms a history up, then measures a fresh process with and without it."""
    load_runner()
    if "duration_cache" not in attrs.fields_dict(PollConfig):
        pytest.skip("PollConfig has no duration_cache option yet")
    run_bench("cold-smoke", tmp_path)
    results = json.loads((tmp_path / "latest.json").read_text())
    cold = results["cold"]["cold-smoke"]
    assert cold["warmup"]["tasks_created"] == cold["warmup"]["succeeded"] == 30
    for step in ("history", "no_history"):
        # Each process ran on a reset emulator: only its own 10 tasks are counted.
        assert cold[step]["tasks_created"] == cold[step]["succeeded"] == 10
        assert cold[step]["gets_per_task"] >= 1
        assert cold[step]["lag_p50_api_s"] is not None
    report = (tmp_path / "latest.md").read_text()
    assert "### cold-smoke: the first 10 tasks of a fresh process" in report
    assert "fresh process, `duration_cache=None`" in report
