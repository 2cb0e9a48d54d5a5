"""One client run: create N tasks with the official SDK's gather pattern and wait for all.

``python benchmarks/client.py {ours,official} URL N [--time-scale S] [--duration-cache P]``
prints one JSON object: wall seconds, client CPU seconds and peak RSS of this process. Each
run gets its own process so CPU and memory belong to one SDK only.

``--duration-cache`` (ours only) is passed to ``PollConfig(duration_cache=...)``: a file path,
or ``none`` for no persisted history. Without it the option is left at its default. ``none``
is accepted, and ignored, by a ``runway_async`` that has no such option (it has no history).

The peak RSS is the process's ``VmHWM`` (``/proc/self/status``): ``ru_maxrss`` never drops
below the peak RSS of the parent that spawned this process, so it can read the parent's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

API_KEY = "bench-key"
MODEL = "gen4_turbo"


def params(n: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "prompt_image": "https://example.com/frame.png",
        "prompt_text": f"benchmark task {n}",
        "ratio": "1280:720",
        "duration": 5,
    }


async def gather_all(client: Any, n: int) -> int:
    """The official SDK's pattern, the same code for both SDKs: gather create-then-wait."""

    async def one(i: int) -> str:
        task = await client.image_to_video.create(**params(i))
        done = await task.wait_for_task_output(timeout=7200)
        return str(done.status)

    statuses = await asyncio.gather(*(one(i) for i in range(n)))
    return statuses.count("SUCCEEDED")


def history_option(duration_cache: str | None) -> dict[str, Any]:
    """Return the ``PollConfig`` keyword for ``--duration-cache`` (none when not given)."""
    import attrs

    from runway_async import PollConfig

    if duration_cache is None:
        return {}
    if "duration_cache" not in attrs.fields_dict(PollConfig):
        if duration_cache.lower() == "none":
            return {}  # no such option: no persisted history either
        sys.exit("this runway_async has no PollConfig(duration_cache=...)")
    return {"duration_cache": None if duration_cache.lower() == "none" else duration_cache}


async def run_ours(
    url: str, n: int, time_scale: float, duration_cache: str | None, *, handover: bool = True
) -> int:
    from runway_async import AsyncRunway, PollConfig

    # The documented 5 s poll floor and the request budget, scaled with the emulator's time
    # (1.0 in the real-time comparisons, so these are the defaults there). ``handover=False``
    # (the ``ours-no-handover`` client): slots pass on only when a task is seen to end.
    poll = PollConfig(
        min_interval=5.0 * time_scale,
        requests_per_second=25.0 / time_scale,
        **history_option(duration_cache),
        **({} if handover else {"handover": 0.0}),
    )
    async with AsyncRunway(API_KEY, base_url=url, poll=poll) as client:
        return await gather_all(client, n)


async def run_official(url: str, n: int) -> int:
    from runwayml import AsyncRunwayML

    async with AsyncRunwayML(api_key=API_KEY, base_url=url) as client:
        return await gather_all(client, n)


def peak_rss_mb() -> float:
    """Return this process's peak RSS in MB: ``VmHWM``, else ``ru_maxrss`` (see above)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    # ru_maxrss is in KiB on Linux, bytes on macOS; only Linux has /proc.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sdk", choices=["ours", "ours-no-handover", "official"])
    parser.add_argument("url")
    parser.add_argument("n", type=int)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--duration-cache", help="ours: a history file path, or none")
    args = parser.parse_args()
    ours = args.sdk.startswith("ours")
    if args.duration_cache is not None and not ours:
        parser.error("--duration-cache is an option of ours only")
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    if ours:
        handover = args.sdk == "ours"
        run = run_ours(args.url, args.n, args.time_scale, args.duration_cache, handover=handover)
        succeeded = asyncio.run(run)
    else:
        succeeded = asyncio.run(run_official(args.url, args.n))
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    rss = peak_rss_mb()
    json.dump({"succeeded": succeeded, "wall": wall, "cpu": cpu, "peak_rss_mb": rss}, sys.stdout)


if __name__ == "__main__":
    main()
