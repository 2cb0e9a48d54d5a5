"""One upload run: one client, one scenario, in this process; prints one JSON object.

``python benchmarks/uploads.py CASE CLIENT URL DIR`` runs CASE with CLIENT against the
emulator at URL, on the files ``run.py --only uploads`` made in DIR:

* ``large``: ``uploads.create_ephemeral(file=Path(...))`` of one large file (``large.mp4``);
  CLIENT is ``ours-async``, ``ours-sync``, ``official-sync`` or ``official-async``.
* ``many``: ``asyncio.gather`` of ``create_ephemeral`` over the distinct ``small-*.png``
  files; CLIENT is ``ours-async`` or ``official-async``.
* ``batch``: ``BATCH_CREATES`` gathered ``image_to_video.create`` calls sharing
  ``shared.png`` (the tasks are not waited for). ``ours-async`` passes the ``Path`` (its
  content cache uploads it once), ``official-once`` uploads it once and passes the URI (as the
  official docs suggest), ``official-naive`` uploads it in every create.

The JSON holds the wall seconds of the measured part, its peak RSS and that peak's growth over
the process's RSS just before it (after the imports, the client's construction and one warm-up
request). On Linux the peak is reset to the current RSS as the measured part starts
(``/proc/self/clear_refs``; ``peak_reset`` says whether that worked) and read from ``VmHWM``:
``getrusage(RUSAGE_SELF).ru_maxrss`` (also reported) cannot serve there, as it never drops
below the parent's peak RSS when this process was spawned (the kernel carries the forked
memory's high-water mark over the exec) nor below the peak when any thread of this process
exited. Elsewhere the peak is ``ru_maxrss`` and the baseline the peak so far.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

API_KEY = "bench-key"
BATCH_CREATES = 200
LARGE_FILE = "large.mp4"
SHARED_IMAGE = "shared.png"
SMALL_GLOB = "small-*.png"


def max_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_status_mb(field: str) -> float | None:
    """Return a ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in MB, if any."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def peak_rss_mb() -> float:
    peak = proc_status_mb("VmHWM")
    return max_rss_mb() if peak is None else peak


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux 4.0+); return whether it worked."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def create_params(i: int) -> dict[str, Any]:
    return {
        "model": "gen4_turbo",
        "prompt_text": f"upload benchmark {i}",
        "ratio": "1280:720",
        "duration": 5,
    }


def small_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(SMALL_GLOB))


class Meter:
    """The measured part of a run: wall time and peak RSS growth over the baseline."""

    def __init__(self) -> None:
        self.baseline = 0.0
        self.peak_reset = False
        self.start = 0.0
        self.wall = 0.0

    def __enter__(self) -> Meter:
        current = proc_status_mb("VmRSS")
        self.peak_reset = current is not None and reset_peak_rss()
        # Without /proc the baseline is the peak so far, and the growth may read low.
        self.baseline = max_rss_mb() if current is None or not self.peak_reset else current
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.start

    def report(self, **extra: Any) -> dict[str, Any]:
        peak = peak_rss_mb() if self.peak_reset else max_rss_mb()
        return {
            "wall": self.wall,
            "baseline_rss_mb": round(self.baseline, 1),
            "peak_rss_mb": round(peak, 1),
            "ru_maxrss_mb": round(max_rss_mb(), 1),
            "rss_growth_mb": round(max(peak - self.baseline, 0.0), 1),
            "peak_reset": self.peak_reset,
            **extra,
        }


# -- ours ------------------------------------------------------------------------------


async def ours_async(case: str, url: str, folder: Path) -> dict[str, Any]:
    from runway_async import AsyncRunway

    async with AsyncRunway(API_KEY, base_url=url, max_concurrency=None) as client:
        await client.organization.retrieve()  # warm: session and connection
        if case == "large":
            with Meter() as meter:
                uri = (await client.uploads.create_ephemeral(file=folder / LARGE_FILE)).uri
            return meter.report(uris=[uri])
        if case == "many":
            files = small_files(folder)
            with Meter() as meter:
                done = await asyncio.gather(
                    *(client.uploads.create_ephemeral(file=path) for path in files)
                )
            return meter.report(uris=[upload.uri for upload in done])
        image = folder / SHARED_IMAGE
        with Meter() as meter:
            tasks = await asyncio.gather(
                *(
                    client.image_to_video.create(prompt_image=image, **create_params(i))
                    for i in range(BATCH_CREATES)
                )
            )
        return meter.report(created=len({task.id for task in tasks}))


def ours_sync(case: str, url: str, folder: Path) -> dict[str, Any]:
    from runway_async import Runway

    if case != "large":
        raise SystemExit(f"ours-sync runs only the large case, not {case!r}")
    with Runway(API_KEY, base_url=url, max_concurrency=None) as client:
        client.organization.retrieve()  # warm: loop thread, session and connection
        with Meter() as meter:
            uri = client.uploads.create_ephemeral(file=folder / LARGE_FILE).uri
        return meter.report(uris=[uri])


# -- official --------------------------------------------------------------------------


def official_sync(case: str, url: str, folder: Path) -> dict[str, Any]:
    from runwayml import RunwayML

    if case != "large":
        raise SystemExit(f"official-sync runs only the large case, not {case!r}")
    with RunwayML(api_key=API_KEY, base_url=url) as client:
        client.organization.retrieve()
        with Meter() as meter:
            uri = client.uploads.create_ephemeral(file=folder / LARGE_FILE).uri
        return meter.report(uris=[uri])


async def official_async(case: str, url: str, folder: Path, *, naive: bool) -> dict[str, Any]:
    from runwayml import AsyncRunwayML

    async with AsyncRunwayML(api_key=API_KEY, base_url=url) as client:
        await client.organization.retrieve()
        if case == "large":
            with Meter() as meter:
                uri = (await client.uploads.create_ephemeral(file=folder / LARGE_FILE)).uri
            return meter.report(uris=[uri])
        if case == "many":
            files = small_files(folder)
            with Meter() as meter:
                done = await asyncio.gather(
                    *(client.uploads.create_ephemeral(file=path) for path in files)
                )
            return meter.report(uris=[upload.uri for upload in done])
        image = folder / SHARED_IMAGE

        async def create(i: int, uri: str | None) -> str:
            if uri is None:  # the naive pattern: upload in every create
                uri = (await client.uploads.create_ephemeral(file=image)).uri
            task = await client.image_to_video.create(prompt_image=uri, **create_params(i))
            return task.id

        with Meter() as meter:
            shared = None if naive else (await client.uploads.create_ephemeral(file=image)).uri
            ids = await asyncio.gather(*(create(i, shared) for i in range(BATCH_CREATES)))
        return meter.report(created=len(set(ids)))


RUNNERS: dict[str, Callable[[str, str, Path], Any]] = {
    "ours-async": lambda case, url, folder: asyncio.run(ours_async(case, url, folder)),
    "ours-sync": ours_sync,
    "official-sync": official_sync,
    "official-async": lambda case, url, folder: asyncio.run(
        official_async(case, url, folder, naive=False)
    ),
    "official-once": lambda case, url, folder: asyncio.run(
        official_async(case, url, folder, naive=False)
    ),
    "official-naive": lambda case, url, folder: asyncio.run(
        official_async(case, url, folder, naive=True)
    ),
}


def main() -> None:
    case, client, url, folder = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
    if case not in ("large", "many", "batch"):
        raise SystemExit(f"unknown case {case!r}")
    json.dump(RUNNERS[client](case, url, folder), sys.stdout)


if __name__ == "__main__":
    main()
