"""A fleet of worker processes sharing one organization's limits through Redis (issue 15).

Real processes (``benchmarks/fleet.py`` workers), a real ``redis-server`` on loopback (see
``tests/redis_support.py``) and the emulator in this process, whose per-model cap of RUNNING
tasks makes any oversubscription show as THROTTLED seconds. Outcomes only: nothing here
depends on the machine's speed beyond generous deadlines.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runway_async.emulator import Emulator

from .redis_support import RedisServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fleet import (  # noqa: E402
    MODEL,
    fleet_metrics,
    run_fleet,
    start_workers,
    worker_command,
    worker_env,
)

# Multi-process and about half a minute: once per CI run, on the default Python.
pytestmark = [pytest.mark.redis, pytest.mark.heavy]

LIMIT = 5


def test_four_workers_hold_the_organization_limit(redis_url: str, redis_namespace: str) -> None:
    """4 processes x 200 jobs, limit 5: THROTTLED at most 0.5 s per task, <= 5 alive + early."""
    with Emulator(time_scale=0.02, seed=21, concurrency=LIMIT).in_thread() as emu:
        reports = run_fleet(
            emu.url,
            workers=4,
            jobs=200,
            redis_url=redis_url,
            namespace=redis_namespace,
            time_scale=0.02,
        )
        seen = fleet_metrics(emu.metrics(tasks=True))
    assert sum(report["succeeded"] for report in reports) == 200
    assert seen["tasks"] == 200
    assert seen["throttled_per_task"] <= 0.5, seen
    # At most one early create per held slot (the performance issue's handover).
    assert seen["max_alive"] <= 2 * LIMIT, seen
    assert seen["max_running"] <= LIMIT


def test_a_killed_workers_slots_come_back(
    redis_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    """SIGKILL one worker holding every slot: the other finishes, the killed one's tasks end."""
    lease_ttl = 2.0
    with Emulator(time_scale=0.05, seed=22, concurrency=2).in_thread() as emu:
        env = worker_env()

        def worker(count: int, start: int) -> subprocess.Popen[str]:
            command = worker_command(
                emu.url,
                count,
                start=start,
                redis_url=redis_url,
                namespace=redis_namespace,
                lease_ttl=lease_ttl,
                time_scale=0.05,
            )
            return start_workers([command], env)[0]

        victim = worker(6, 0)
        deadline = time.monotonic() + 60
        while emu.metrics()["tasks_created"].get(MODEL, 0) < 2:  # it holds both slots
            assert victim.poll() is None, victim.stderr.read() if victim.stderr else ""
            assert time.monotonic() < deadline, "the first worker created nothing"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=10)  # reaps it and closes its pipes
        killed_at = time.monotonic()
        survivor = worker(4, 100)
        out, err = survivor.communicate(timeout=120)
        assert survivor.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1])["succeeded"] == 4
        finished_in = time.monotonic() - killed_at
        metrics = emu.metrics(tasks=True)
    # The victim's created tasks ran to their end on the server all the same.
    assert metrics["tasks_by_status"].get("SUCCEEDED", 0) >= 4 + 2
    assert finished_in < 60
    seen = fleet_metrics(metrics)
    assert seen["max_running"] <= 2


def test_without_redis_each_process_oversubscribes(tmp_path: Path) -> None:
    """The contrast: per-process limiters each believe they own the whole limit."""
    with Emulator(time_scale=0.02, seed=23, concurrency=LIMIT).in_thread() as emu:
        run_fleet(emu.url, workers=4, jobs=80, time_scale=0.02)
        seen = fleet_metrics(emu.metrics(tasks=True))
    assert seen["max_alive"] > 2 * LIMIT, seen


def test_redis_server_fixture_restarts(redis_server: RedisServer) -> None:
    """A test may stop the session's server; the next one gets it back (same URL)."""
    url = redis_server.url
    redis_server.stop()
    assert not redis_server.running
    redis_server.start()
    assert redis_server.running
    assert redis_server.url == url
