"""A fleet of worker processes spending one organization's limits (issue 15).

``python benchmarks/fleet.py worker URL N --start K [--redis URL --namespace NS]`` is one
worker: it creates N tasks (job numbers K to K+N-1) with our client against the emulator at
URL, waits for all of them, and prints one JSON object (succeeded, wall seconds, CPU seconds).
Without ``--redis`` its limiter is the usual per-process one, which believes it owns the
organization's whole limit; with it, a ``RedisLimiter`` shared by every worker using that
Redis and namespace.

``run_fleet`` starts several workers at once and waits for them; ``fleet_metrics`` reads what
the emulator saw (``Emulator.metrics(tasks=True)``): THROTTLED seconds per task and the most
tasks of the model alive (PENDING, THROTTLED or RUNNING) at once. The fleet test
(``tests/test_fleet.py``) and the ``fleet`` benchmark scenario both use these.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

API_KEY = "fleet-key"
MODEL = "gen4_turbo"
ROOT = Path(__file__).resolve().parent.parent


def params(n: int) -> dict[str, Any]:
    """Return the parameters of job ``n`` (distinct prompts, so no body repeats)."""
    return {
        "model": MODEL,
        "prompt_image": "https://example.com/frame.png",
        "prompt_text": f"fleet task {n}",
        "ratio": "1280:720",
        "duration": 5,
    }


async def work(
    url: str,
    count: int,
    start: int,
    *,
    redis_url: str | None,
    namespace: str | None,
    start_at: float | None = None,
    lease_ttl: float | None = None,
    time_scale: float = 1.0,
) -> dict[str, Any]:
    """Create ``count`` tasks and wait for them all; return what this worker saw.

    With ``start_at`` (a ``time.time()`` value), the first create waits until then, so
    workers started one after another begin together (at most 30 s of waiting). The
    documented 5 s poll floor and the request budget are scaled with the emulator's
    ``time_scale``, as in the other benchmark scenarios.
    """
    from runway_async import AsyncRunway, PollConfig

    limiter: Any = None
    if redis_url is not None:
        from runway_async import RedisLimiter

        options = {} if lease_ttl is None else {"lease_ttl": lease_ttl}
        limiter = RedisLimiter(redis_url, namespace=namespace or "fleet", **options)
    poll = PollConfig(
        min_interval=5.0 * time_scale,
        requests_per_second=25.0 / time_scale,
        duration_cache=None,
    )
    if start_at is not None:
        await asyncio.sleep(min(max(start_at - time.time(), 0.0), 30.0))
    began = time.perf_counter()
    began_at = time.time()
    async with AsyncRunway(API_KEY, base_url=url, limiter=limiter, poll=poll) as client:

        async def one(n: int) -> str:
            task = await client.image_to_video.create(**params(n))
            done = await task.wait_for_task_output(timeout=3600)
            return str(done.status)

        statuses = await asyncio.gather(*(one(start + i) for i in range(count)))
    round_trips = None
    if limiter is not None:
        await limiter.aclose()
        round_trips = getattr(limiter, "round_trips", None)
    return {
        "succeeded": statuses.count("SUCCEEDED"),
        "redis_round_trips": round_trips,
        "wall": time.perf_counter() - began,
        "began_at": began_at,
        "ended_at": time.time(),
        "cpu": time.process_time(),
    }


def run_fleet(
    url: str,
    *,
    workers: int,
    jobs: int,
    redis_url: str | None = None,
    namespace: str | None = None,
    timeout: float = 300.0,
    env: Mapping[str, str] | None = None,
    warm_up: float = 3.0,
    lease_ttl: float | None = None,
    time_scale: float = 1.0,
) -> list[dict[str, Any]]:
    """Run ``workers`` worker processes sharing ``jobs`` jobs; return each one's report.

    The workers begin their creates together, ``warm_up`` seconds after they are started
    (time for their imports), so that they compete for the limits as a fleet does.

    Raises:
        RuntimeError: A worker failed or did not finish within ``timeout`` seconds (all are
            stopped then).

    """
    share, extra = divmod(jobs, workers)
    start_at = time.time() + warm_up
    commands: list[list[str]] = []
    start = 0
    for index in range(workers):
        count = share + (1 if index < extra else 0)
        commands.append(
            worker_command(
                url,
                count,
                start=start,
                redis_url=redis_url,
                namespace=namespace,
                start_at=start_at,
                lease_ttl=lease_ttl,
                time_scale=time_scale,
            )
        )
        start += count
    environment = worker_env(env)
    processes = start_workers(commands, environment)
    deadline = time.monotonic() + timeout
    reports: list[dict[str, Any]] = []
    try:
        for process in processes:
            left = max(deadline - time.monotonic(), 0.1)
            out, err = process.communicate(timeout=left)
            if process.returncode != 0:
                raise RuntimeError(f"a fleet worker failed ({process.returncode}): {err[-2000:]}")
            reports.append(json.loads(out.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"the fleet did not finish within {timeout} s") from exc
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return reports


def worker_command(
    url: str,
    count: int,
    *,
    start: int = 0,
    redis_url: str | None = None,
    namespace: str | None = None,
    start_at: float | None = None,
    lease_ttl: float | None = None,
    time_scale: float = 1.0,
) -> list[str]:
    """Return the command line of one worker (see the module docstring)."""
    command = [sys.executable, str(Path(__file__)), "worker", url, str(count)]
    command += ["--start", str(start)]
    if start_at is not None:
        command += ["--start-at", repr(start_at)]
    if redis_url is not None:
        command += ["--redis", redis_url, "--namespace", namespace or "fleet"]
    if lease_ttl is not None:
        command += ["--lease-ttl", repr(lease_ttl)]
    if time_scale != 1.0:
        command += ["--time-scale", repr(time_scale)]
    return command


def worker_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a worker: ours, with this checkout importable."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    return environment


def start_workers(
    commands: Sequence[Sequence[str]], environment: Mapping[str, str]
) -> list[subprocess.Popen[str]]:
    """Start one process per command, reporting on pipes."""
    return [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            list(command),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(environment),
        )
        for command in commands
    ]


def max_alive(timelines: Mapping[str, Mapping[str, Any]], model: str = MODEL) -> int:
    """Return the most tasks of ``model`` alive at once: created, not yet ended."""
    edges: list[tuple[float, int]] = []
    for task in timelines.values():
        if task.get("model") != model:
            continue
        edges.append((float(task["created"]), 1))
        ended = task.get("ended")
        if ended is not None:
            edges.append((float(ended), -1))
    alive = peak = 0
    for _at, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):  # ends first
        alive += step
        peak = max(peak, alive)
    return peak


def fleet_metrics(metrics: Mapping[str, Any], model: str = MODEL) -> dict[str, Any]:
    """Summarise an emulator's ``metrics(tasks=True)`` after a fleet run."""
    created = int(metrics["tasks_created"].get(model, 0))
    throttled = float(metrics["throttled_seconds"]["models"].get(model, 0.0))
    return {
        "tasks": created,
        "throttled_per_task": throttled / created if created else 0.0,
        "max_alive": max_alive(metrics.get("tasks", {}), model),
        "max_running": int(metrics["max_running"].get(model, 0)),
    }


def _redis_commands(url: str) -> int:
    """Return how many commands the Redis at ``url`` has processed (``INFO stats``)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def redis_missing() -> str | None:
    """Return why the fleet scenario cannot run here (no usable ``redis-server``), or None."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.redis_support import missing_reason

    return missing_reason()


def bench(
    critical_path: Callable[[Mapping[str, Mapping[str, Any]], int, float], float],
    *,
    workers: int = 4,
    jobs: int = 200,
    concurrency: int = 5,
    seconds: float = 8.0,
    time_scale: float = 0.02,
) -> dict[str, Any]:
    """The ``fleet`` scenario: the same jobs by per-process limiters, then by a shared one.

    Starts its own ``redis-server`` (loopback, a free port) and, per run, a fresh emulator
    whose model allows ``concurrency`` tasks at once. Returns, per limiter: THROTTLED seconds
    per task, the most tasks alive and RUNNING at once, the wall time of the slowest worker
    against the critical path (``critical_path``, run.py's), and Redis commands per create.
    """
    import tempfile

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from runway_async.emulator import Emulator
    from tests.redis_support import RedisServer, require_redis

    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(require_redis(), Path(directory))
        server.start()
        try:
            for name, redis_url in (("per-process", None), ("redis", server.url)):
                print(f"fleet: {workers} workers x {jobs // workers} jobs, {name} ...", flush=True)
                commands = _redis_commands(server.url)
                with Emulator(
                    time_scale=time_scale,
                    seed=1,
                    concurrency=concurrency,
                    daily_limit=None,
                    durations={MODEL: seconds},
                ).in_thread() as emu:
                    reports = run_fleet(
                        emu.url,
                        workers=workers,
                        jobs=jobs,
                        redis_url=redis_url,
                        timeout=900,
                        time_scale=time_scale,
                    )
                    metrics = emu.metrics(tasks=True)
                used = _redis_commands(server.url) - commands - 2  # the two INFO calls
                seen = fleet_metrics(metrics)
                # From the first worker's first create to the last worker's last task.
                first = min(report["began_at"] for report in reports)
                wall = (max(report["ended_at"] for report in reports) - first) / time_scale
                ideal = critical_path(metrics["tasks"], concurrency, 0.5)
                rows[name] = {
                    **seen,
                    "wall_api_s": round(wall, 1),
                    "critical_path_api_s": round(ideal, 1),
                    "wall_over_critical": round(wall / ideal, 3) if ideal else None,
                    "redis_commands_per_create": (
                        round(used / seen["tasks"], 2) if redis_url and seen["tasks"] else None
                    ),
                    "redis_round_trips_per_create": (
                        round(sum(r["redis_round_trips"] for r in reports) / seen["tasks"], 2)
                        if redis_url and seen["tasks"]
                        else None
                    ),
                    "succeeded": sum(report["succeeded"] for report in reports),
                }
        finally:
            server.stop()
    return {
        "workers": workers,
        "jobs": jobs,
        "concurrency": concurrency,
        "seconds": seconds,
        "time_scale": time_scale,
        "rows": rows,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="run one worker and print its report")
    worker.add_argument("url")
    worker.add_argument("count", type=int)
    worker.add_argument("--start", type=int, default=0)
    worker.add_argument("--redis", default=None)
    worker.add_argument("--namespace", default=None)
    worker.add_argument("--start-at", type=float, default=None)
    worker.add_argument("--lease-ttl", type=float, default=None)
    worker.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    report = asyncio.run(
        work(
            args.url,
            args.count,
            args.start,
            redis_url=args.redis,
            namespace=args.namespace,
            start_at=args.start_at,
            lease_ttl=args.lease_ttl,
            time_scale=args.time_scale,
        )
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
