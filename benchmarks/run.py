"""Benchmarks: our client against the official ``runwayml`` SDK on the same emulator.

``nox -s bench`` (or ``python benchmarks/run.py [--only small,large,scale,cold]``) runs each
scenario with a fresh emulator in its own process and each client in its own process, prints
the report (``report.py``: the issue's targets, then per scenario the ratios ours / official
and the table) and writes ``benchmarks/results/latest.{json,md}`` and, with matplotlib, one
timeline picture per task scenario, ``benchmarks/results/<scenario>.png`` (``timelines.py``).
``uploads`` compares uploads of local files (``run_uploads``).

Scenarios (from the task-engine and performance issues):

* ``small``: 100 tasks, organization concurrency 10, 8 s tasks, real time, both SDKs.
* ``large``: 1,000 tasks gathered at once, concurrency 50, 3 s tasks, real time, both SDKs.
* ``scale``: 10,000 tasks, concurrency 20, 8 s tasks, ours alone, with the emulator's time
  scaled by 0.02 and our poll floor scaled the same way.
* ``cold``: the first 10 tasks of a fresh process of ours, with and without a persisted
  duration history (``PollConfig(duration_cache=...)``), concurrency 10, 8 s tasks, real time
  (``run_cold``).

Every client runs the official SDK's pattern unchanged:
``await asyncio.gather(*(client.image_to_video.create(...).wait_for_task_output() ...))``.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import report
import timelines

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
    # ours-no-handover: ours with PollConfig(handover=0), to show what the early handover buys.
    "small": Scenario("small", 100, 10, 8.0, sdks=("ours", "official", "ours-no-handover")),
    "large": Scenario("large", 1000, 50, 3.0),
    "scale": Scenario("scale", 10_000, 20, 8.0, time_scale=0.02, sdks=("ours",)),
    # A few seconds, ours alone: the test suite runs it to keep this harness working.
    "smoke": Scenario("smoke", 20, 4, 8.0, time_scale=0.01, sdks=("ours",)),
}
# Cold start: ``tasks`` measured per fresh process, after a warm-up of COLD_WARMUP tasks.
# Real time, so no client cost is scaled up against the tasks; ``cold-smoke`` (time scale
# 0.01, our poll floor scaled with it) keeps the harness working in the test suite.
COLD = {
    "cold": Scenario("cold", 10, 10, 8.0, sdks=("ours",)),
    "cold-smoke": Scenario("cold-smoke", 10, 10, 8.0, time_scale=0.01, sdks=("ours",)),
}
COLD_WARMUP = 30
# "fleet" needs redis-server (installed by .ci/run; skipped with a message when missing).
DEFAULT = ("small", "large", "scale", "cold", "sync", "uploads", "fleet")
SYNC_CALLS = 500
# Scenarios with their own runner and table, outside SCENARIOS and COLD.
SPECIAL = ("sync", "uploads", "fleet")
MIB = 1024 * 1024
UPLOAD_ROUNDS = 3
LARGE_UPLOAD_MIB = 150
SMALL_UPLOADS = 200
SMALL_UPLOAD_KIB = 200
SHARED_IMAGE_MIB = 2
BATCH_CREATES = 200  # as in uploads.py
UPLOAD_CLIENTS = {
    "large": ("ours-async", "official-async", "ours-sync", "official-sync"),
    "many": ("ours-async", "official-async"),
    "batch": ("ours-async", "official-once", "official-naive"),
}


@contextmanager
def emulator(scenario: Scenario, overrides: Mapping[str, Any] | None = None) -> Iterator[str]:
    settings = {
        "concurrency": scenario.concurrency,
        "daily_limit": None,
        "durations": {MODEL: scenario.seconds},
        "time_scale": scenario.time_scale,
        "seed": 1,
        "api_key": "bench-key",
        **(overrides or {}),
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


def critical_path(
    tasks: Mapping[str, Mapping[str, Any]], concurrency: int, pending: float
) -> float:
    """Return how long the server needs for these tasks with a client that loses no time.

    Every task is ready at 0, in creation order, and takes its own ``pending + duration`` on
    one of ``concurrency`` slots (list scheduling, as the server's FIFO does).
    """
    order = sorted(tasks.values(), key=lambda t: t["created"])
    slots = [0.0] * concurrency
    end = 0.0
    for task in order:
        start = heapq.heappop(slots)
        finish = start + pending + task["duration"]
        heapq.heappush(slots, finish)
        end = max(end, finish)
    return end


def run_client(
    scenario: Scenario,
    sdk: str,
    url: str,
    *,
    tasks: int | None = None,
    duration_cache: str = "none",
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Run one client process on a reset emulator; return its row and the task timelines.

    Args:
        scenario: The scenario (its time scale, concurrency).
        sdk: ``ours`` or ``official``.
        url: The emulator.
        tasks: How many tasks (default: the scenario's).
        duration_cache: Ours: the history file, or ``none`` (every run starts cold and
            never touches the user's history file).

    """
    control(url, "/_emulator/reset", method="POST")
    count = scenario.tasks if tasks is None else tasks
    command = [sys.executable, str(HERE / "client.py"), sdk, url, str(count)]
    command += ["--time-scale", str(scenario.time_scale)]
    if sdk.startswith("ours"):
        command += ["--duration-cache", duration_cache]
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        command, capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0:
        raise RuntimeError(f"{sdk} client failed:\n{done.stderr[-4000:]}")
    client = json.loads(done.stdout)
    metrics = control(url, "/_emulator/metrics?tasks=1")
    task_timelines: dict[str, dict[str, Any]] = metrics["tasks"]
    scale = scenario.time_scale
    ideal = critical_path(task_timelines, scenario.concurrency, 0.5)
    lag = metrics["detection_lag_summary"]
    created = metrics["tasks_created_total"]
    throttled = metrics["throttled_seconds"]["total"]
    # Every API request the emulator served in this run (control routes are not counted).
    requests = sum(sum(outcomes.values()) for outcomes in metrics["requests"].values())
    row = {
        "sdk": sdk,
        "succeeded": client["succeeded"],
        "tasks_created": created,
        "wall_s": round(client["wall"], 2),
        "wall_api_s": round(client["wall"] / scale, 2),
        "critical_path_api_s": round(ideal, 2),
        "wall_ratio": round(client["wall"] / scale / ideal, 3),
        "gets_per_task": metrics["polls"]["mean_per_task"],
        "peak_gets_per_s": metrics["peak_requests_per_second"].get("GET /v1/tasks/{id}", 0),
        "lag_p50_api_s": lag["p50_api_seconds"],
        "lag_p95_api_s": lag["p95_api_seconds"],
        "max_running": max(metrics["max_running"].values(), default=0),
        "throttled_api_s": throttled,
        "throttled_per_task_api_s": round(throttled / created, 3) if created else None,
        "duplicate_creates": metrics["duplicate_creates"],
        "requests": requests,
        "peak_rss_mb": round(client["peak_rss_mb"], 1),
        "cpu_s": round(client["cpu"], 2),
        "cpu_ms_per_request": round(client["cpu"] * 1000 / requests, 3) if requests else None,
    }
    return row, task_timelines


def panel(row: dict[str, Any], bars: timelines.Bars) -> timelines.Panel:
    """One SDK's panel of a timeline picture, titled with its wall time and THROTTLED."""
    label = "ours (runway_async)" if row["sdk"] == "ours" else "official SDK (runwayml)"
    subtitle = (
        f"wall {row['wall_api_s']:,.1f} s = {row['wall_ratio']:.2f}x critical path "
        f"{row['critical_path_api_s']:,.1f} s; THROTTLED {row['throttled_api_s']:,.0f} s"
    )
    return timelines.Panel(label=label, subtitle=subtitle, bars=bars)


def run_scenario(scenario: Scenario, out: Path, draw: bool) -> list[dict[str, Any]]:
    """Run every SDK of a task scenario on one emulator; draw its timelines if ``draw``."""
    rows, panels = [], []
    with emulator(scenario) as url:
        for sdk in scenario.sdks:
            print(f"{scenario.name}: {sdk}: {scenario.describe()} ...", file=sys.stderr, flush=True)
            row, task_timelines = run_client(scenario, sdk, url)
            rows.append(row)
            if sdk in ("ours", "official"):  # the picture compares the two SDKs as shipped
                panels.append(panel(row, timelines.bars(task_timelines)))
    if draw:
        title = f"{scenario.name}: {scenario.describe()} (API seconds)"
        timelines.draw(out / f"{scenario.name}.png", title, panels)
    return rows


def run_cold(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """Run the cold start: a warm-up that writes a history, then two fresh processes.

    All three processes of ours run in sequence on one emulator (the history is kept per
    base URL), each on a reset emulator: (a) ``COLD_WARMUP`` tasks with a history file, which
    it writes; (b) a fresh process reading that file; (c) a fresh process with no history.
    """
    with (
        tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp,
        emulator(scenario) as url,
    ):
        history = str(Path(tmp) / "durations.json")
        steps = {
            "warmup": (COLD_WARMUP, history),
            "history": (scenario.tasks, history),
            "no_history": (scenario.tasks, "none"),
        }
        rows = {}
        for step, (tasks, cache) in steps.items():
            print(f"{scenario.name}: {step}: {tasks} tasks ...", file=sys.stderr, flush=True)
            rows[step], _ = run_client(scenario, "ours", url, tasks=tasks, duration_cache=cache)
            if step == "warmup" and not Path(history).is_file():
                raise RuntimeError("the warm-up process wrote no duration history")
    return rows


def describe_cold(scenario: Scenario) -> str:
    return (
        f"the first {scenario.tasks} tasks of a fresh process after a {COLD_WARMUP}-task "
        f"warm-up; concurrency {scenario.concurrency}, {scenario.seconds:g} s tasks, "
        + ("real time" if scenario.time_scale == 1 else f"time scale {scenario.time_scale}")
    )


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


def write_random_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path`` in 1 MiB chunks; return their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(MIB, left))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return digest.hexdigest()


def make_upload_files(folder: Path) -> dict[str, dict[str, str]]:
    """Write the files of the upload cases; return each case's SHA-256 by file name."""
    return {
        "large": {"large.mp4": write_random_file(folder / "large.mp4", LARGE_UPLOAD_MIB * MIB)},
        "many": {
            f"small-{i:03d}.png": write_random_file(
                folder / f"small-{i:03d}.png", SMALL_UPLOAD_KIB * 1024
            )
            for i in range(SMALL_UPLOADS)
        },
        "batch": {"shared.png": write_random_file(folder / "shared.png", SHARED_IMAGE_MIB * MIB)},
    }


def run_upload_client(
    case: str, client: str, url: str, folder: Path, digests: Mapping[str, str]
) -> dict[str, Any]:
    """Run one upload case with one client in its own process; add what the emulator got."""
    control(url, "/_emulator/reset", method="POST")
    command = [sys.executable, str(HERE / "uploads.py"), case, client, url, str(folder)]
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        command, capture_output=True, text=True, check=False, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"{case} upload run of {client} failed:\n{done.stderr[-4000:]}")
    row: dict[str, Any] = json.loads(done.stdout)
    uploads = control(url, "/_emulator/uploads")["uploads"]
    received = [upload for upload in uploads if upload["uploaded"]]
    # Integrity, not timing: every file that arrived is one of ours, byte for byte.
    wrong = [u["filename"] for u in received if digests.get(u["filename"]) != u["sha256"]]
    if wrong:
        raise RuntimeError(f"{client} uploaded altered or unknown files: {wrong[:5]}")
    if case in ("large", "many") and {u["filename"] for u in received} != set(digests):
        raise RuntimeError(f"{client} did not upload every file of the {case} case")
    if case == "batch" and row["created"] != BATCH_CREATES:
        raise RuntimeError(f"{client} created {row['created']} tasks, not {BATCH_CREATES}")
    row["uploads_issued"] = len(uploads)
    row["uploads_sent"] = len(received)
    row["mb_sent"] = sum(upload["size"] for upload in received) / MIB
    row.pop("uris", None)
    return row


def run_uploads() -> dict[str, Any]:
    """Upload cases, every client in its own process; best wall and worst RSS of the rounds."""
    overrides = {"concurrency": None, "daily_limit": None}
    results: dict[str, Any] = {
        "rounds": UPLOAD_ROUNDS,
        "large_mib": LARGE_UPLOAD_MIB,
        "small_files": SMALL_UPLOADS,
        "small_kib": SMALL_UPLOAD_KIB,
        "creates": BATCH_CREATES,
        "shared_image_mib": SHARED_IMAGE_MIB,
    }
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as tmp:
        folder = Path(tmp)
        print("uploads: writing the files ...", file=sys.stderr, flush=True)
        digests = make_upload_files(folder)
        with emulator(Scenario("uploads", 1, 1, 5.0), overrides) as url:
            for case, clients in UPLOAD_CLIENTS.items():
                runs: dict[str, list[dict[str, Any]]] = {client: [] for client in clients}
                # Interleaved rounds: less noise from the machine than one long run each.
                for round_ in range(UPLOAD_ROUNDS):
                    for client in clients:
                        print(
                            f"uploads: {case}: {client} (round {round_ + 1}) ...",
                            file=sys.stderr,
                            flush=True,
                        )
                        runs[client].append(
                            run_upload_client(case, client, url, folder, digests[case])
                        )
                results[case] = [summarize_upload_runs(client, runs[client]) for client in clients]
    return results


def summarize_upload_runs(client: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "client": client,
        "wall_s": round(min(run["wall"] for run in runs), 3),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "rss_growth_mb": max(run["rss_growth_mb"] for run in runs),
        "uploads_sent": max(run["uploads_sent"] for run in runs),
        "uploads_issued": max(run["uploads_issued"] for run in runs),
        "mb_sent": round(max(run["mb_sent"] for run in runs), 1),
        "peak_reset": all(run["peak_reset"] for run in runs),
    }


def compile_once() -> None:
    """Let the client processes load compiled modules, as an installed package does.

    An editable install under ``PYTHONDONTWRITEBYTECODE`` would recompile our package in every
    client process (about 0.14 s of CPU that no pip-installed user pays, while the official
    SDK's site-packages already hold bytecode): the children write and reuse bytecode under
    one cache prefix, filled once here before anything is measured.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault(
        "PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "runway-bench-pycache")
    )
    subprocess.run(
        [sys.executable, "-c", "import runway_async, runway_async._sync; import runwayml"],
        check=False,
        capture_output=True,
        timeout=300,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    choices = [*SCENARIOS, *COLD, *SPECIAL]
    parser.add_argument(
        "--only", default=",".join(DEFAULT), help=f"comma-separated, of {', '.join(choices)}"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results are written")
    args = parser.parse_args()
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(choices))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {sorted(choices)}")
    compile_once()
    import runway_async

    try:
        import runwayml

        official = runwayml.__version__
    except ImportError:  # only needed by the comparisons
        official = None
    if official is None and any(
        name in SPECIAL or (name in SCENARIOS and "official" in SCENARIOS[name].sdks)
        for name in names
    ):
        parser.error("the comparisons need the official SDK: pip install runwayml==5.24.0")
    no_pictures = timelines.matplotlib_missing()
    if no_pictures is not None and any(name in SCENARIOS for name in names):
        print(no_pictures, file=sys.stderr, flush=True)
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "versions": {"runway_async": runway_async.__version__, "runwayml": official},
        "scenarios": {},
        "cold": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name == "sync":
            results["sync"] = run_sync_overhead()
        elif name == "uploads":
            results["uploads"] = run_uploads()
        elif name == "fleet":
            import fleet

            reason = fleet.redis_missing()
            if reason is not None:
                print(f"fleet: skipped, {reason}", flush=True)
                continue
            results["fleet"] = fleet.bench(critical_path)
        elif name in COLD:
            results["cold"][name] = run_cold(COLD[name])
        else:
            scenario = SCENARIOS[name]
            draw = no_pictures is None
            results["scenarios"][name] = run_scenario(scenario, args.out, draw)
    # Scenarios run now replace their earlier results; the others stay (``--only`` reruns one).
    merged = results
    previous_path = args.out / "latest.json"
    if previous_path.is_file():
        previous = json.loads(previous_path.read_text())
        merged = {
            **results,
            "scenarios": {**previous.get("scenarios", {}), **results["scenarios"]},
            "cold": {**previous.get("cold", {}), **results["cold"]},
        }
        for special in SPECIAL:
            if special not in results and special in previous:
                merged[special] = previous[special]
    merged["targets"] = [attrs.asdict(target) for target in report.targets(merged)]
    descriptions = {name: scenario.describe() for name, scenario in SCENARIOS.items()}
    descriptions.update({name: describe_cold(scenario) for name, scenario in COLD.items()})
    pictures = {name for name in merged["scenarios"] if (args.out / f"{name}.png").is_file()}
    text = report.render(merged, descriptions, pictures, UPLOAD_CLIENTS)
    print(text)
    previous_path.write_text(json.dumps(merged, indent=2) + "\n")
    (args.out / "latest.md").write_text(text)


if __name__ == "__main__":
    main()
