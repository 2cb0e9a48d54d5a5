"""One limiter shared by event loops in different threads (as sync clients use it)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from runway_async import AsyncRunway, InProcessLimiter, Organization
from runway_async._convert import structure
from runway_async.emulator import Emulator

from .conftest import TIME_SCALE, fast_poll, image, new_key

MODEL = "gen4_image"


class TestThreads:
    """Thread and loop safety of the in-process limiter."""

    def test_two_loops_in_two_threads_stay_within_the_limit(self) -> None:
        """Clients on two loops in two threads share one limiter and never overfill the org."""
        key = new_key()
        emulator = Emulator(time_scale=TIME_SCALE, concurrency=3, seed=3)
        limiters: list[object] = []

        async def run(url: str, offset: int) -> int:
            async with AsyncRunway(key, base_url=url, poll=fast_poll()) as client:
                limiters.append(client.limiter)
                handles = await asyncio.gather(
                    *(client.text_to_image.create(**image(offset + n)) for n in range(25))
                )
                done = await asyncio.gather(*(h.wait_for_task_output(timeout=60) for h in handles))
                return len(done)

        with emulator.in_thread() as emu, ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(asyncio.run, run(emu.url, n * 100)) for n in range(2)]
            assert [f.result(timeout=120) for f in futures] == [25, 25]
            metrics = emu.metrics()
        assert limiters[0] is limiters[1]
        assert metrics["tasks_by_status"] == {"SUCCEEDED": 50}
        assert metrics["max_running"][MODEL] <= 3
        assert metrics["throttled_seconds"]["total"] == 0

    def test_limiter_holds_under_contention(self) -> None:
        """Four threads hammering acquire/release never hold more slots than the limit."""
        limiter = InProcessLimiter()
        limiter.update_organization(
            structure(
                {
                    "creditBalance": 0,
                    "tier": {"models": {MODEL: {"maxConcurrentGenerations": 2}}},
                    "usage": {"models": {}},
                },
                Organization,
            )
        )
        lock = threading.Lock()
        held = [0]
        peak = [0]

        async def worker() -> None:
            async def once() -> None:
                slot = await limiter.acquire(MODEL, timeout=30)
                with lock:
                    held[0] += 1
                    peak[0] = max(peak[0], held[0])
                await asyncio.sleep(0)
                with lock:
                    held[0] -= 1
                limiter.release(slot, created=False)

            await asyncio.gather(*(once() for _ in range(200)))

        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(asyncio.run, worker()) for _ in range(4)]:
                future.result(timeout=60)
        assert peak[0] <= 2
        assert limiter.in_use(MODEL) == 0
        assert limiter.waiting(MODEL) == 0
