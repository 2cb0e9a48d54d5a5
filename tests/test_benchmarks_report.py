"""The benchmark report and pictures: targets, ratios, timeline rows, the PNG, ``seen``."""

from __future__ import annotations

import importlib
import struct
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from runway_async.emulator import EmulatorConfig
from runway_async.emulator._state import Simulation

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str) -> ModuleType:
    """Import one of the benchmark modules (they import each other by plain name)."""
    if not (BENCH / f"{name}.py").is_file():
        pytest.skip("benchmarks/ is not in this source tree")
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def scenario_row(sdk: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sdk": sdk,
        "succeeded": 100,
        "tasks_created": 100,
        "wall_s": 90.0,
        "wall_api_s": 90.0,
        "critical_path_api_s": 88.0,
        "wall_ratio": 1.02,
        "gets_per_task": 1.1,
        "peak_gets_per_s": 10,
        "lag_p50_api_s": 0.8,
        "lag_p95_api_s": 1.9,
        "max_running": 10,
        "throttled_api_s": 20.0,
        "throttled_per_task_api_s": 0.2,
        "duplicate_creates": 0,
        "requests": 2000,
        "peak_rss_mb": 50.0,
        "cpu_s": 1.0,
        "cpu_ms_per_request": 0.5,
    }
    return {**row, **values}


def results(**extra: Any) -> dict[str, Any]:
    return {
        "scenarios": {
            "small": [scenario_row("ours"), scenario_row("official", wall_s=92.0)],
            "large": [
                scenario_row("ours", wall_s=95.0, wall_ratio=1.2, cpu_s=1.4),
                scenario_row("official", throttled_api_s=14000.0),
            ],
            "scale": [scenario_row("ours", gets_per_task=1.6)],
        },
        **extra,
    }


def by_goal(found: list[Any]) -> dict[tuple[str, str], Any]:
    return {(target.goal.split(" (")[0], target.scenario): target for target in found}


class TestTargets:
    def test_each_target_is_judged_against_its_bar(self) -> None:
        """Each target compares the right row's figure with the issue's bar."""
        report = load("report")
        sync = {"calls": 500, "us_per_call": {"async": 300.0, "sync": 420.0}}
        found = by_goal(report.targets(results(sync=sync)))
        assert found["wall <= 1.03x critical path", "small"].met is True
        assert found["wall <= 1.03x critical path", "large"].met is False
        assert found["wall <= 1.03x critical path", "large"].measured == "1.2x"
        assert found["never slower than the official SDK", "small"].met is True
        # ours 95 s against the official 90 s.
        assert found["never slower than the official SDK", "large"].met is False
        assert found["GETs per task <= 1.5", "scale"].met is False
        assert found["mean THROTTLED per task <= 0.5 s", "small"].met is True
        assert found["lag p50 <= 1.0 s", "small"].met is True
        assert found["lag p95 <= 2.0 s", "small"].met is True
        assert found["sync hop <= 1.3x our async call", "sync"].met is False  # 1.4x
        # 1.4 s of CPU for 2,000 requests: 0.7 ms each.
        cpu = found["client CPU per request <= 0.6 ms", "large"]
        assert (cpu.met, cpu.measured) == (False, "0.7 ms")

    def test_what_did_not_run_is_not_measured(self) -> None:
        """A scenario missing from the results is reported as not measured, not as met."""
        report = load("report")
        found = report.targets({"scenarios": {}})
        assert {target.met for target in found} == {None}
        assert {target.status() for target in found} == {"not measured"}

    def test_throttled_per_task_and_cpu_per_request_come_from_the_totals(self) -> None:
        """Rows written before these columns existed are still judged (or left unmeasured)."""
        report = load("report")
        old = scenario_row("ours", throttled_api_s=60.0)
        del old["throttled_per_task_api_s"], old["requests"], old["cpu_ms_per_request"]
        assert report.throttled_per_task(old) == pytest.approx(0.6)
        assert report.cpu_ms_per_request(old) is None

    def test_cold_start_holds_the_history_run_to_the_small_bars(self) -> None:
        """The cold start is met when the process with a history meets the lag and GET bars."""
        report = load("report")
        good = scenario_row("ours", lag_p50_api_s=0.5, lag_p95_api_s=1.0, gets_per_task=1.0)
        bad = scenario_row("ours", lag_p50_api_s=2.5, lag_p95_api_s=4.0, gets_per_task=2.0)
        met = report.cold_target({"warmup": good, "history": good, "no_history": bad})
        assert met.met is True
        assert "with history: lag p50 0.50 / p95 1.00 s" in met.measured
        assert report.cold_target({"warmup": good, "history": bad, "no_history": bad}).met is False


class TestReport:
    def test_ratios_come_before_the_table_and_targets_before_the_scenarios(self) -> None:
        """Each compared scenario opens with its ratios; a failed target reads NOT met."""
        report = load("report")
        text = report.render(results(), {"small": "100 tasks"}, {"small"}, {})
        assert text.index("## Targets") < text.index("## Scenarios")
        small = text[text.index("### small: 100 tasks") :]
        assert small.index("**ours / official:** wall 0.98x") < small.index("| SDK |")
        assert "THROTTLED s/task" in small
        assert "CPU ms/request" in small
        assert "![small: task timelines](small.png)" in small
        assert "large.png" not in text  # no picture was drawn for it
        assert "| wall <= 1.03x critical path | large | 1.2x | **NOT met** |" in text
        assert "Only ours in this scenario." in text[text.index("### scale") :]

    def test_ratio_keeps_two_significant_digits_below_a_tenth(self) -> None:
        """Small ratios stay readable and a missing denominator gives a dash."""
        report = load("report")
        assert report.ratio(1.0, 2.0) == "0.50x"
        assert report.ratio(0.0034, 1.0) == "0.0034x"
        assert report.ratio(0.0, 5.0) == "0.00x"
        assert report.ratio(1.0, 0.0) == "-"
        assert report.ratio(None, 1.0) == "-"


TIMELINES = {
    # Out of creation order on purpose; times in API seconds since the emulator's reset.
    "b": {"created": 2.0, "admitted": 5.0, "ended": 14.0, "seen": 15.5},
    "a": {"created": 1.0, "admitted": 1.0, "ended": 10.0, "seen": None},
    "c": {"created": 3.0, "admitted": 3.5, "ended": 12.0, "seen": 12.0},
}


class TestTimelineRows:
    def test_rows_are_in_creation_order_from_the_first_create(self) -> None:
        """Tasks are drawn in creation order, with times counted from the first create."""
        timelines = load("timelines")
        bars = timelines.bars(TIMELINES)
        assert (bars.step, bars.total) == (1, 3)
        assert [row.created for row in bars.rows] == [0.0, 1.0, 2.0]
        assert bars.rows[1] == timelines.TaskRow(created=1.0, admitted=4.0, ended=13.0, seen=14.5)
        assert bars.end() == pytest.approx(14.5)

    def test_segments_leave_out_what_did_not_happen(self) -> None:
        """A task never THROTTLED, or whose end no GET saw, has no bar for it."""
        timelines = load("timelines")
        segments = timelines.bars(TIMELINES).segments()
        assert segments["throttled"] == [(1, 1.0, 3.0), (2, 2.0, 0.5)]
        assert segments["running"] == [(0, 0.0, 9.0), (1, 4.0, 9.0), (2, 2.5, 8.5)]
        assert segments["gap"] == [(1, 13.0, 1.5)]  # a: never seen; c: seen at its end

    def test_large_runs_are_sampled(self) -> None:
        """Above the row cap every k-th task is kept, at its place in creation order."""
        timelines = load("timelines")
        many = {
            str(i): {"created": float(i), "admitted": float(i), "ended": i + 5.0, "seen": None}
            for i in range(2500)
        }
        bars = timelines.bars(many, max_rows=1000)
        assert (bars.step, bars.total, len(bars.rows)) == (3, 2500, 834)
        running = bars.segments()["running"]
        assert running[:2] == [(0, 0.0, 5.0), (3, 3.0, 5.0)]
        assert running[-1][0] == 2499

    def test_an_empty_run_draws_nothing(self) -> None:
        """No tasks gives no rows, and a row cap below one is refused."""
        timelines = load("timelines")
        bars = timelines.bars({})
        assert (bars.rows, bars.total, bars.end()) == ((), 0, 0.0)
        with pytest.raises(ValueError, match="max_rows"):
            timelines.bars(TIMELINES, max_rows=0)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class TestPicture:
    def test_two_panels_make_one_small_png(self, tmp_path: Path) -> None:
        """The picture is a 1200x700 PNG of modest size, drawn without a display."""
        pytest.importorskip("matplotlib", reason="matplotlib draws the benchmark pictures")
        timelines = load("timelines")
        bars = timelines.bars(TIMELINES)
        panels = [
            timelines.Panel(label="ours", subtitle="wall 1 s", bars=bars),
            timelines.Panel(label="official", subtitle="wall 2 s", bars=bars),
        ]
        path = tmp_path / "pictures" / "small.png"
        timelines.draw(path, "small: 3 tasks", panels)
        assert png_size(path) == (1200, 700)
        assert path.stat().st_size < 200_000

    def test_missing_matplotlib_is_explained(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without matplotlib the harness says why there are no pictures instead of failing."""
        timelines = load("timelines")
        monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises ImportError
        reason = timelines.matplotlib_missing()
        assert reason is not None
        assert "matplotlib is not installed" in reason


class _Clock:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.wall = datetime(2025, 3, 1, tzinfo=timezone.utc)

    def __call__(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return self.wall

    def tick(self, seconds: float) -> None:
        self.seconds += seconds
        self.wall += timedelta(seconds=seconds)


class TestEmulatorTimelines:
    def test_seen_is_when_a_get_first_returned_the_end(self) -> None:
        """``seen`` is the task's end plus its detection lag; None until a GET saw the end."""
        clock = _Clock()
        config = EmulatorConfig(
            jitter=0.0, seed=1, durations={"video": 10.0}, pending_seconds=1.0, concurrency=None
        )
        sim = Simulation(config, clock=clock, wall_clock=clock.now)
        tasks = [
            sim.create(
                endpoint="image_to_video",
                model="gen4_turbo",
                kind="video",
                body={"n": n},
                estimated_credits=50,
            )
            for n in range(2)
        ]
        clock.tick(12.5)  # both ended at 11 s
        assert sim.get(tasks[0].id) is not None
        clock.tick(2.0)
        assert sim.get(tasks[0].id) is not None  # a later GET does not move ``seen``
        timelines = sim.metrics(tasks=True)["tasks"]
        first, second = timelines[tasks[0].id], timelines[tasks[1].id]
        assert first["ended"] == pytest.approx(11.0)
        assert first["seen"] == pytest.approx(12.5)
        assert second["ended"] == pytest.approx(11.0)
        assert second["seen"] is None
