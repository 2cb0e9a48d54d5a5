"""One AsyncRunway used from many event loops: successive asyncio.run calls and threads."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from runway_async import AsyncRunway, PollConfig
from runway_async.emulator import Emulator

from .conftest import API_KEY, ScriptedServer, json_reply

IMAGE = {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1920:1080"}
POLL = PollConfig(interval=0.01)


def _loop_states(client: AsyncRunway) -> tuple[int, int]:
    """Return how many loops hold sessions and watchers of ``client``."""
    return client._core.http.loop_count(), client._core.state.loop_count()


class TestSuccessiveRuns:
    """A module-level client driven by one asyncio.run() per step, as official-SDK code does."""

    def test_create_then_retrieve_then_wait_in_separate_runs(
        self, fresh_runway_emulator: Emulator
    ) -> None:
        """Create in one asyncio.run, retrieve and wait in the next ones: every step works."""
        emu = fresh_runway_emulator
        client = AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL)

        async def create() -> str:
            return (await client.text_to_image.create(**IMAGE)).id

        task_id = asyncio.run(create())
        assert _loop_states(client) == (0, 0)  # the first loop's state went with it
        assert asyncio.run(client.tasks.retrieve(task_id)).id == task_id
        done = asyncio.run(client.tasks.wait(task_id, timeout=30))
        assert done.status == "SUCCEEDED"
        assert emu.metrics()["tasks_created_total"] == 1
        asyncio.run(client.aclose())
        assert client.is_closed

    def test_closed_client_is_refused_in_any_loop(self, runway_emulator: Emulator) -> None:
        """After aclose() in one loop, a call from another loop fails clearly."""
        client = AsyncRunway(runway_emulator.api_key, base_url=runway_emulator.url)
        asyncio.run(client.aclose())
        with pytest.raises(RuntimeError, match="closed"):
            asyncio.run(client.organization.retrieve())


class TestLoopsInThreads:
    """Several loops alive at once, in different threads, share one client."""

    def test_threads_each_running_asyncio_run_per_request(
        self, fresh_runway_emulator: Emulator
    ) -> None:
        """4 threads x 2 requests, each its own asyncio.run: 8 tasks created, 8 succeeded."""
        emu = fresh_runway_emulator
        client = AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL)
        outcomes: list[str] = []
        lock = threading.Lock()

        async def one() -> str:
            done = await client.text_to_image.create(**IMAGE).wait_for_task_output(timeout=30)
            return done.status

        def worker() -> None:
            for _ in range(2):
                try:
                    status = asyncio.run(one())
                except Exception as exc:  # reported, so the assertion shows it
                    status = repr(exc)
                with lock:
                    outcomes.append(status)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert outcomes == ["SUCCEEDED"] * 8
        assert emu.metrics()["tasks_created_total"] == 8
        assert _loop_states(client) == (0, 0)
        asyncio.run(client.aclose())

    async def test_other_loop_state_is_its_own(self, server: ScriptedServer) -> None:
        """A request from a loop in another thread uses that loop's session and watcher."""
        server.reply(json_reply({}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            await client.request("GET", "/v1/organization")
            mine = client._core.watcher()

            def elsewhere() -> bool:
                async def use() -> bool:
                    await client.request("GET", "/v1/organization")
                    return client._core.watcher() is not mine

                return asyncio.run(use())

            assert await asyncio.to_thread(elsewhere)
            assert client._core.watcher() is mine
            assert _loop_states(client) == (1, 1)


SCRIPT = """
import asyncio
from runway_async import AsyncRunwayML

client = AsyncRunwayML()  # module level, never closed: the official README's pattern


async def main():
    task = await client.text_to_image.create(
        model="gen4_image", prompt_text="a fox", ratio="1920:1080"
    )
    await client.tasks.retrieve(task.id)
    print("created", task.id)


asyncio.run(main())
"""


class TestUnclosedAtExit:
    """A script that never closes its client exits silently."""

    def test_no_unclosed_session_messages(self, runway_emulator: Emulator, tmp_path: Path) -> None:
        """A module-level client used in one asyncio.run and never closed prints nothing."""
        script = tmp_path / "script.py"
        script.write_text(textwrap.dedent(SCRIPT))
        env = {**os.environ, **runway_emulator.env(), "PYTHONDEVMODE": "0"}
        done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("created ")
        assert done.stderr == ""
