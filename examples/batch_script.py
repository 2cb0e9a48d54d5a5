"""Run examples/jobs.jsonl from Python: what ``runway-async batch`` does, in a few lines.

With no arguments it starts the local emulator in process (no key, no network, no credits);
with ``--real`` it uses the real API through RUNWAYML_API_SECRET. Outputs are downloaded into
``outputs/`` as each task succeeds, since their URLs expire within 24 to 48 hours.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from runway_async import AsyncRunway, Job, PollConfig
from runway_async.emulator import Emulator

JOBS = Path(__file__).with_name("jobs.jsonl")
OUT = Path("outputs")


def read_jobs(path: Path) -> list[Job]:
    """Return the jobs of a JSONL file (one object a line, blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Job.from_json(json.loads(line)) for line in lines if line.strip()]


async def run(client: AsyncRunway) -> int:
    """Run every job, print each result as it comes; return how many did not succeed."""
    batch = client.batch(read_jobs(JOBS), download_to=OUT, deadline=600)
    async for result in batch:
        files = ", ".join(str(f.path) for f in result.files)
        print(
            f"{result.status:<9} {result.key or result.index!s:<18} {files or result.error_message}"
        )
    results = await batch.gather()  # the same results, in input order
    return sum(not result.ok for result in results)


async def main() -> int:
    started = time.monotonic()
    if "--real" in sys.argv:
        async with AsyncRunway() as client:  # key from RUNWAYML_API_SECRET
            failures = await run(client)
    else:
        async with Emulator() as emu:
            # The emulator's tasks take seconds; poll faster than the real API's 5 s.
            poll = PollConfig(min_interval=0.25)
            async with AsyncRunway(emu.api_key, base_url=emu.url, poll=poll) as client:
                failures = await run(client)
    print(f"{failures} of the jobs did not succeed; {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
