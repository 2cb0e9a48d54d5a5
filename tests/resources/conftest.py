"""Fixtures of the resource tests: a fast, seeded emulator and our client on it.

A module that needs other emulator settings overrides ``emulator_config`` (the realtime
session modules use ``SESSION_CONFIG``). Modules with their own ``emu``/``client`` fixtures
(routers, webapp, workflows) keep them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from runway_async import AsyncRunway, PollConfig
from runway_async.emulator import Emulator, EmulatorConfig

from ..conftest import API_KEY

TIME_SCALE = 0.002  # 1 API second = 2 ms: an avatar (5 API s of processing) is READY in 10 ms

# 1 API second = 10 ms: a session is READY in 5 ms, its key lasts 3 s (300 API s) and a
# joined session runs for 10 s, so no lifecycle step races the test on a slow machine.
SESSION_CONFIG = EmulatorConfig(
    time_scale=0.01,
    seed=5,
    session_ready_seconds=0.5,
    session_seconds=1000.0,
    avatar_seconds=1.0,
)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Return the emulator's settings: fast and seeded."""
    return EmulatorConfig(time_scale=TIME_SCALE, seed=5)


@pytest_asyncio.fixture
async def emulator(emulator_config: EmulatorConfig) -> AsyncIterator[Emulator]:
    """Start an emulator with ``emulator_config`` for one test."""
    async with Emulator.from_config(emulator_config) as emu:
        yield emu


@pytest_asyncio.fixture
async def client(emulator: Emulator) -> AsyncIterator[AsyncRunway]:
    """Return our client on the emulator, polling quickly."""
    async with AsyncRunway(
        API_KEY, base_url=emulator.url, poll=PollConfig(interval=0.005), timeout=5.0
    ) as runway:
        yield runway
