"""One client run: create N tasks with the official SDK's gather pattern and wait for all.

``python benchmarks/client.py {ours,official} URL N [--time-scale S]`` prints one JSON
object: wall seconds, client CPU seconds and peak RSS of this process. Each run gets its own
process so CPU and memory belong to one SDK only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
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


async def run_ours(url: str, n: int, time_scale: float) -> int:
    from runway_async import AsyncRunway, PollConfig

    # The documented 5 s poll floor and the request budget, scaled with the emulator's time
    # (1.0 in the real-time comparisons, so these are the defaults there).
    poll = PollConfig(min_interval=5.0 * time_scale, requests_per_second=25.0 / time_scale)
    async with AsyncRunway(API_KEY, base_url=url, poll=poll) as client:
        return await gather_all(client, n)


async def run_official(url: str, n: int) -> int:
    from runwayml import AsyncRunwayML

    async with AsyncRunwayML(api_key=API_KEY, base_url=url) as client:
        return await gather_all(client, n)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sdk", choices=["ours", "official"])
    parser.add_argument("url")
    parser.add_argument("n", type=int)
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    if args.sdk == "ours":
        succeeded = asyncio.run(run_ours(args.url, args.n, args.time_scale))
    else:
        succeeded = asyncio.run(run_official(args.url, args.n))
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    # ru_maxrss is in KiB on Linux.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"succeeded": succeeded, "wall": wall, "cpu": cpu, "peak_rss_mb": rss}, sys.stdout)


if __name__ == "__main__":
    main()
