"""Quickstart: a small batch of generations on the embedded emulator, or the real API.

With no arguments it starts the local emulator (no key, no network) and runs a batch of
mixed tasks on it; with RUNWAYML_API_SECRET set and --real it talks to the real API.
"""

from __future__ import annotations

import asyncio
import sys
import time

from runway_async import AsyncRunway, PollConfig, TaskFailedError, TaskHandle
from runway_async.emulator import Emulator

PROMPTS = [
    "A lighthouse at dawn",
    "A fox in fresh snow",
    "A neon city in the rain",
    "A paper boat on a pond",
    "A desert under the milky way",
    "A robot watering plants",
]


async def run_batch(client: AsyncRunway) -> int:
    """Create one image per prompt and one narration, wait for all; return the failures."""

    async def image(prompt: str) -> bool:
        task = await client.text_to_image.create(
            model="gen4_image", prompt_text=prompt, ratio="1920:1080"
        )
        return await finish(task, prompt)

    async def speech() -> bool:
        task = await client.text_to_speech.create(
            model="eleven_multilingual_v2",
            prompt_text="Six pictures, coming right up.",
            voice={"type": "runway-preset", "preset_id": "Leslie"},
        )
        return await finish(task, "narration")

    async def finish(task: TaskHandle, label: str) -> bool:
        try:
            done = await task.wait_for_task_output(timeout=300)
        except TaskFailedError as exc:
            print(f"  FAILED    {task.id}  {label}: {exc.failure_code or exc}")
            return False
        print(f"  SUCCEEDED {task.id}  {label}: {done.output[0]}")
        return True

    results = await asyncio.gather(speech(), *(image(p) for p in PROMPTS))
    return results.count(False)


async def main() -> int:
    started = time.monotonic()
    if "--real" in sys.argv:
        async with AsyncRunway() as client:
            failures = await run_batch(client)
    else:
        async with Emulator(seed=1) as emu, AsyncRunway("demo-key", base_url=emu.url) as client:
            print(f"emulator at {emu.url}")
            # The emulator's tasks take seconds; poll every 0.5 s instead of the real API's 5 s.
            failures = await run_batch(client.with_options(poll=PollConfig(interval=0.5)))
    print(f"{len(PROMPTS) + 1} tasks, {failures} failed, {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
