"""Benchmarks: our client against the official ``runwayml`` SDK on the same emulator.

``nox -s bench`` (or ``python benchmarks/run.py [--only small,large,scale]``) runs each
scenario with a fresh emulator in its own process and each client in its own process, prints
a Markdown table and writes ``benchmarks/results/latest.{json,md}``.

Scenarios (from the task-engine issue):

* ``small``: 100 tasks, organization concurrency 10, 8 s tasks, real time, both SDKs.
* ``large``: 1,000 tasks gathered at once, concurrency 50, 3 s tasks, real time, both SDKs.
* ``scale``: 10,000 tasks, concurrency 20, 8 s tasks, ours alone, with the emulator's time
  scaled by 0.02 and our poll floor scaled the same way.

Every client runs the official SDK's pattern unchanged:
``await asyncio.gather(*(client.image_to_video.create(...).wait_for_task_output() ...))``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MODEL = "gen4_turbo"


@attrs.frozen
class Scenario:
    name: str
    tasks: int
    concurrency: int
    seconds: float
    time_scale: float = 1.0
    sdks: tuple[str, ...] = ("ours", "official")

    def describe(self) -> str:
        scale = "real time" if self.time_scale == 1 else f"time scale {self.time_scale}"
        return (
            f"{self.tasks:,} tasks, concurrency {self.concurrency}, "
            f"{self.seconds:g} s tasks, {scale}"
        )


SCENARIOS = {
    "small": Scenario("small", 100, 10, 8.0),
    "large": Scenario("large", 1000, 50, 3.0),
    "scale": Scenario("scale", 10_000, 20, 8.0, time_scale=0.02, sdks=("ours",)),
    # A few seconds, ours alone: the test suite runs it to keep this harness working.
    "smoke": Scenario("smoke", 20, 4, 8.0, time_scale=0.01, sdks=("ours",)),
}
DEFAULT = ("small", "large", "scale", "sync")
SYNC_CALLS = 500


@contextmanager
def emulator(scenario: Scenario) -> Iterator[str]:
    settings = {
        "concurrency": scenario.concurrency,
        "daily_limit": None,
        "durations": {MODEL: scenario.seconds},
        "time_scale": scenario.time_scale,
        "seed": 1,
        "api_key": "bench-key",
    }
    proc = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(HERE / "serve.py"), json.dumps(settings)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the emulator did not start (printed {url!r})")
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)


def control(url: str, path: str, *, method: str = "GET") -> Any:
    request = urllib.request.Request(url + path, method=method)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.load(response)


def critical_path(timelines: dict[str, dict[str, Any]], concurrency: int, pending: float) -> float:
    """Return how long the server needs for these tasks with a client that loses no time.

    Every task is ready at 0, in creation order, and takes its own ``pending + duration`` on
    one of ``concurrency`` slots (list scheduling, as the server's FIFO does).
    """
    order = sorted(timelines.values(), key=lambda t: t["created"])
    slots = [0.0] * concurrency
    end = 0.0
    for task in order:
        start = heapq.heappop(slots)
        finish = start + pending + task["duration"]
        heapq.heappush(slots, finish)
        end = max(end, finish)
    return end


def run_client(scenario: Scenario, sdk: str, url: str) -> dict[str, Any]:
    control(url, "/_emulator/reset", method="POST")
    command = [sys.executable, str(HERE / "client.py"), sdk, url, str(scenario.tasks)]
    command += ["--time-scale", str(scenario.time_scale)]
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        command, capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0:
        raise RuntimeError(f"{sdk} client failed:\n{done.stderr[-4000:]}")
    client = json.loads(done.stdout)
    metrics = control(url, "/_emulator/metrics?tasks=1")
    timelines = metrics["tasks"]
    scale = scenario.time_scale
    ideal = critical_path(timelines, scenario.concurrency, 0.5)
    lag = metrics["detection_lag_summary"]
    return {
        "sdk": sdk,
        "succeeded": client["succeeded"],
        "tasks_created": metrics["tasks_created_total"],
        "wall_s": round(client["wall"], 2),
        "wall_api_s": round(client["wall"] / scale, 2),
        "critical_path_api_s": round(ideal, 2),
        "wall_ratio": round(client["wall"] / scale / ideal, 3),
        "gets_per_task": metrics["polls"]["mean_per_task"],
        "peak_gets_per_s": metrics["peak_requests_per_second"].get("GET /v1/tasks/{id}", 0),
        "lag_p50_api_s": lag["p50_api_seconds"],
        "lag_p95_api_s": lag["p95_api_seconds"],
        "max_running": max(metrics["max_running"].values(), default=0),
        "throttled_api_s": metrics["throttled_seconds"]["total"],
        "duplicate_creates": metrics["duplicate_creates"],
        "peak_rss_mb": round(client["peak_rss_mb"], 1),
        "cpu_s": round(client["cpu"], 2),
    }


COLUMNS = [
    ("sdk", "SDK"),
    ("succeeded", "done"),
    ("wall_s", "wall s"),
    ("wall_ratio", "wall / critical path"),
    ("gets_per_task", "GETs/task"),
    ("peak_gets_per_s", "peak GET/s"),
    ("lag_p50_api_s", "lag p50"),
    ("lag_p95_api_s", "lag p95"),
    ("max_running", "max RUNNING"),
    ("throttled_api_s", "THROTTLED s"),
    ("peak_rss_mb", "peak RSS MB"),
    ("cpu_s", "CPU s"),
]


def cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or not theirs:
        return "-"
    return f"{ours / theirs:.2f}x"


def table(results: dict[str, Any]) -> str:
    lines = []
    for name, rows in results["scenarios"].items():  # the sync table is added by main()
        scenario = SCENARIOS[name]
        lines += [f"### {name}: {scenario.describe()}", ""]
        lines.append("| " + " | ".join(title for _, title in COLUMNS) + " |")
        lines.append("|" + "---|" * len(COLUMNS))
        for row in rows:
            lines.append("| " + " | ".join(cell(row[key]) for key, _ in COLUMNS) + " |")
        by_sdk = {row["sdk"]: row for row in rows}
        if "ours" in by_sdk and "official" in by_sdk:
            ours, theirs = by_sdk["ours"], by_sdk["official"]
            lines.append(
                "| ours / official | | "
                f"{ratio(ours['wall_s'], theirs['wall_s'])} | | "
                f"{ratio(ours['gets_per_task'], theirs['gets_per_task'])} | "
                f"{ratio(ours['peak_gets_per_s'], theirs['peak_gets_per_s'])} | "
                f"{ratio(ours['lag_p50_api_s'], theirs['lag_p50_api_s'])} | "
                f"{ratio(ours['lag_p95_api_s'], theirs['lag_p95_api_s'])} | | | "
                f"{ratio(ours['peak_rss_mb'], theirs['peak_rss_mb'])} | "
                f"{ratio(ours['cpu_s'], theirs['cpu_s'])} |"
            )
        lines.append("")
    lines.append(
        "Lags and THROTTLED are API seconds (scaled back in the scale run); wall / critical "
        "path compares the client's wall time with the server's own schedule for the same "
        "tasks and durations when no time is lost between tasks."
    )
    return "\n".join(lines) + "\n"


def run_sync_overhead() -> dict[str, Any]:
    """Time sequential task GETs through our sync, our async and the official sync client."""
    scenario = Scenario("sync", 1, 5, 2.0, time_scale=0.01)
    print(f"sync: per-call overhead, {SYNC_CALLS} calls per client ...", file=sys.stderr)
    with emulator(scenario) as url:
        command = [sys.executable, str(HERE / "sync_overhead.py"), url, str(SYNC_CALLS)]
        done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            command, capture_output=True, text=True, check=False, timeout=600
        )
    if done.returncode != 0:
        raise RuntimeError(f"sync overhead run failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def sync_table(sync: dict[str, Any]) -> str:
    us = sync["us_per_call"]
    lines = [
        f"### sync: per-call overhead ({sync['calls']} sequential `tasks.retrieve` each)",
        "",
        "| client | µs per call | vs our async | vs official sync |",
        "|---|---|---|---|",
    ]
    for name, value in us.items():
        lines.append(
            f"| {name} | {value} | {value / us['async']:.2f}x | "
            f"{value / us['official sync']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(DEFAULT), help=f"comma-separated, of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results are written")
    args = parser.parse_args()
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS) - {"sync"})
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {sorted(SCENARIOS)}")
    import runway_async

    try:
        import runwayml

        official = runwayml.__version__
    except ImportError:  # only needed by the comparisons
        official = None
    if official is None and any(
        name == "sync" or "official" in SCENARIOS[name].sdks for name in names
    ):
        parser.error("the comparisons need the official SDK: pip install runwayml==5.24.0")
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "versions": {"runway_async": runway_async.__version__, "runwayml": official},
        "scenarios": {},
    }
    for name in names:
        if name == "sync":
            results["sync"] = run_sync_overhead()
            continue
        scenario = SCENARIOS[name]
        rows = []
        with emulator(scenario) as url:
            for sdk in scenario.sdks:
                print(f"{name}: {sdk}: {scenario.describe()} ...", file=sys.stderr, flush=True)
                rows.append(run_client(scenario, sdk, url))
        results["scenarios"][name] = rows
    # Scenarios run now replace their earlier results; the others stay (``--only`` reruns one).
    args.out.mkdir(parents=True, exist_ok=True)
    merged = results
    previous_path = args.out / "latest.json"
    if previous_path.is_file():
        previous = json.loads(previous_path.read_text())
        merged = {**results, "scenarios": {**previous.get("scenarios", {})}}
        merged["scenarios"].update(results["scenarios"])
        if "sync" not in results and "sync" in previous:
            merged["sync"] = previous["sync"]
    report = table(merged)
    if "sync" in merged:
        report += "\n" + sync_table(merged["sync"])
    print(report)
    previous_path.write_text(json.dumps(merged, indent=2) + "\n")
    (args.out / "latest.md").write_text(report)


if __name__ == "__main__":
    main()
