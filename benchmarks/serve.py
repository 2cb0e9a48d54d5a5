"""Run one emulator in this process until stdin closes; print its URL on the first line.

The benchmark runs the emulator in its own process so that its CPU and memory never count
as the client's. Usage: ``python benchmarks/serve.py '{"concurrency": 10, ...}'`` where the
JSON object holds ``EmulatorConfig`` fields.
"""

from __future__ import annotations

import asyncio
import json
import sys

from runway_async.emulator import Emulator, EmulatorConfig


async def main(settings: dict[str, object]) -> None:
    emulator = Emulator.from_config(EmulatorConfig(**settings))  # type: ignore[arg-type]
    async with emulator:
        print(emulator.url, flush=True)
        # Serve until the parent closes our stdin (or dies).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
