"""Benchmarks: our client against the official ``runwayml`` SDK on the same emulator.

``nox -s bench`` (or ``python benchmarks/run.py [--only small,large,scale]``) runs each
scenario with a fresh emulator in its own process and each client in its own process, prints
a Markdown table and writes ``benchmarks/results/latest.{json,md}``.
``uploads`` compares uploads of local files
(``run_uploads``).

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
DEFAULT = ("small", "large", "scale", "sync", "uploads")
SYNC_CALLS = 500
# Scenarios with their own runner and table, outside SCENARIOS.
SPECIAL = ("sync", "uploads")
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


def fine_ratio(ours: float, theirs: float) -> str:
    """``ratio`` with two significant digits below 0.1x (0.003x, not 0.00x)."""
    if not theirs:
        return "-"
    value = ours / theirs
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def uploads_table(uploads: dict[str, Any]) -> str:
    def by_client(case: str) -> dict[str, dict[str, Any]]:
        return {row["client"]: row for row in uploads[case]}

    large = by_client("large")
    lines = [
        f"### uploads: one {uploads['large_mib']} MB file, `uploads.create_ephemeral(file=Path)`",
        "",
        "| client | wall s | MB/s | peak RSS MB | RSS growth MB | wall vs official | "
        "RSS growth vs official |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in large.items():
        theirs = large["official-" + name.rpartition("-")[2]]
        lines.append(
            f"| {name} | {row['wall_s']:.2f} | {uploads['large_mib'] / row['wall_s']:,.0f} | "
            f"{row['peak_rss_mb']:,.1f} | {row['rss_growth_mb']:,.1f} | "
            f"{fine_ratio(row['wall_s'], theirs['wall_s'])} | "
            f"{fine_ratio(row['rss_growth_mb'], theirs['rss_growth_mb'])} |"
        )
    many = by_client("many")
    lines += [
        "",
        f"### uploads: {uploads['small_files']} distinct {uploads['small_kib']} KB files, "
        "`asyncio.gather` of `create_ephemeral`",
        "",
        "| client | wall s | files/s | RSS growth MB | wall vs official async |",
        "|---|---|---|---|---|",
    ]
    for name, row in many.items():
        lines.append(
            f"| {name} | {row['wall_s']:.2f} | {uploads['small_files'] / row['wall_s']:,.0f} | "
            f"{row['rss_growth_mb']:,.1f} | "
            f"{fine_ratio(row['wall_s'], many['official-async']['wall_s'])} |"
        )
    batch = by_client("batch")
    lines += [
        "",
        f"### uploads: {uploads['creates']} `image_to_video.create` sharing one "
        f"{uploads['shared_image_mib']} MB local image (until every create is answered)",
        "",
        "| client | uploads sent | MB sent | wall s | RSS growth MB | wall vs official once | "
        "wall vs official naive |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in batch.items():
        lines.append(
            f"| {name} | {row['uploads_sent']} | {row['mb_sent']:,.1f} | {row['wall_s']:.2f} | "
            f"{row['rss_growth_mb']:,.1f} | "
            f"{fine_ratio(row['wall_s'], batch['official-once']['wall_s'])} | "
            f"{fine_ratio(row['wall_s'], batch['official-naive']['wall_s'])} |"
        )
    lines += [
        "",
        f"Each client runs in its own process, {uploads['rounds']} interleaved rounds: wall is "
        "the best round, RSS the worst. Peak RSS is the process's `VmHWM`, reset to its "
        "current RSS as the uploads start (`/proc/self/clear_refs`), so it is the uploads' own "
        "peak (`ru_maxrss` never drops below the spawning parent's peak); RSS growth is that "
        "peak over the RSS just before the uploads (after imports, client and one warm-up "
        "request). MB = 2^20 bytes. ours-async passes the `Path` to each create (its "
        "content cache uploads the file once); official-once uploads it with "
        "`create_ephemeral` and passes the URI, as the official docs suggest; official-naive "
        "uploads it in every create. ours runs with `max_concurrency=None` on an emulator "
        "without limits, so no limiter is measured.",
    ]
    if not all(row.get("peak_reset") for case in UPLOAD_CLIENTS for row in uploads[case]):
        lines += ["", "The peak RSS could not be reset here: RSS growth may read low."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT),
        help=f"comma-separated, of {', '.join([*SCENARIOS, *SPECIAL])}",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results are written")
    args = parser.parse_args()
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS) - set(SPECIAL))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {sorted([*SCENARIOS, *SPECIAL])}")
    import runway_async

    try:
        import runwayml

        official = runwayml.__version__
    except ImportError:  # only needed by the comparisons
        official = None
    if official is None and any(
        name in SPECIAL or "official" in SCENARIOS[name].sdks for name in names
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
        if name == "uploads":
            results["uploads"] = run_uploads()
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
        for special in SPECIAL:
            if special not in results and special in previous:
                merged[special] = previous[special]
    report = table(merged)
    if "sync" in merged:
        report += "\n" + sync_table(merged["sync"])
    if "uploads" in merged:
        report += "\n" + uploads_table(merged["uploads"])
    print(report)
    previous_path.write_text(json.dumps(merged, indent=2) + "\n")
    (args.out / "latest.md").write_text(report)


if __name__ == "__main__":
    main()
