"""Per-call overhead of the sync client: ours (sync and async) and the official sync client.

``python benchmarks/sync_overhead.py URL CALLS`` times CALLS sequential
``tasks.retrieve(id)`` calls of one finished task through each client against the emulator
at URL and prints one JSON object of microseconds per call. ``run.py --only sync`` starts the
emulator and reports the ratios.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

API_KEY = "bench-key"
IMAGE = {"model": "gen4_image", "prompt_text": "a red fox", "ratio": "1920:1080"}


def per_call(seconds: float, calls: int) -> float:
    return round(seconds / calls * 1e6, 1)


async def time_async(url: str, task_id: str, calls: int) -> float:
    from runway_async import AsyncRunway

    async with AsyncRunway(API_KEY, base_url=url) as client:
        await client.tasks.retrieve(task_id)  # warm: session and connection
        start = time.perf_counter()
        for _ in range(calls):
            await client.tasks.retrieve(task_id)
        return per_call(time.perf_counter() - start, calls)


def time_sync(url: str, task_id: str, calls: int) -> float:
    from runway_async import Runway

    with Runway(API_KEY, base_url=url) as client:
        client.tasks.retrieve(task_id)  # warm: loop thread, session and connection
        start = time.perf_counter()
        for _ in range(calls):
            client.tasks.retrieve(task_id)
        return per_call(time.perf_counter() - start, calls)


def time_official(url: str, task_id: str, calls: int) -> float:
    from runwayml import RunwayML

    with RunwayML(api_key=API_KEY, base_url=url) as client:
        client.tasks.retrieve(task_id)
        start = time.perf_counter()
        for _ in range(calls):
            client.tasks.retrieve(task_id)
        return per_call(time.perf_counter() - start, calls)


def main() -> None:
    url, calls = sys.argv[1], int(sys.argv[2])
    from runway_async import Runway

    with Runway(API_KEY, base_url=url) as client:
        task_id = client.text_to_image.create(**IMAGE).id
    results: dict[str, Any] = {"calls": calls}
    # Interleaved rounds, best of each: less noise from the machine than one long run each.
    rounds: dict[str, list[float]] = {"async": [], "sync": [], "official sync": []}
    for _ in range(3):
        rounds["async"].append(asyncio.run(time_async(url, task_id, calls)))
        rounds["sync"].append(time_sync(url, task_id, calls))
        rounds["official sync"].append(time_official(url, task_id, calls))
    results["us_per_call"] = {name: min(values) for name, values in rounds.items()}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
