"""Quickstart: create a few tasks and wait for their output.

Run with no arguments to use a tiny local stand-in for the API (no key, no network); set
RUNWAYML_API_SECRET (and optionally RUNWAYML_BASE_URL) and pass --real to use the real API.
"""

from __future__ import annotations

import asyncio
import sys

from runway_async import AsyncRunway, TaskFailedError

PROMPTS = ["A lighthouse at dawn", "A fox in fresh snow", "A neon city in the rain"]


async def generate_all(client: AsyncRunway) -> None:
    async def one(prompt: str) -> None:
        task = await client.text_to_image.create(
            model="gen4_image",
            prompt_text=prompt,
            ratio="1920:1080",
        )
        print(f"created {task.id} for {prompt!r} (estimated {task.estimated_cost})")
        try:
            done = await task.wait_for_task_output(timeout=120)
        except TaskFailedError as exc:
            print(f"{task.id} failed: {exc}")
            return
        print(f"{task.id} succeeded: {done.output[0]}")

    await asyncio.gather(*(one(p) for p in PROMPTS))


async def main() -> None:
    if "--real" in sys.argv:
        async with AsyncRunway() as client:
            await generate_all(client)
        return
    from _stub_api import StubAPI  # a minimal stand-in until the emulator lands

    async with StubAPI() as stub, AsyncRunway("demo-key", base_url=stub.url) as client:
        await generate_all(client.with_options(poll=stub.poll))
    print("done")


if __name__ == "__main__":
    asyncio.run(main())
