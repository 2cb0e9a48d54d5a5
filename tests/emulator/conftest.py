"""Fixtures: a fast emulator on a free loopback port, our client and a raw HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio

from runway_async import AsyncRunway, PollConfig
from runway_async.emulator import Emulator

from ..conftest import API_KEY

# 1 API second = 2 ms: an image (2 API s) takes about 4 ms, a video (5 API s) about 10 ms.
TIME_SCALE = 0.002
HEADERS = {"Authorization": f"Bearer {API_KEY}", "X-Runway-Version": "2024-11-06"}
IMAGE_BODY: dict[str, Any] = {
    "model": "gen4_image",
    "promptText": "a red fox",
    "ratio": "1920:1080",
}
IMAGE_PARAMS: dict[str, Any] = {
    "model": "gen4_image",
    "prompt_text": "a red fox",
    "ratio": "1920:1080",
}


class FakeClock:
    """A monotonic clock that moves only when told, to step simulated time by hand."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def tick(self, seconds: float) -> None:
        """Move the clock forward."""
        self.seconds += seconds


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Start a fast, seeded emulator for one test."""
    async with Emulator(time_scale=TIME_SCALE, seed=7) as emu:
        yield emu


@pytest_asyncio.fixture
async def client(emulator: Emulator) -> AsyncIterator[AsyncRunway]:
    """Return our client pointed at the emulator, polling quickly."""
    async with AsyncRunway(
        API_KEY, base_url=emulator.url, poll=PollConfig(interval=0.005), timeout=5.0
    ) as runway:
        yield runway


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a plain aiohttp session for requests our client would refuse to send."""
    async with aiohttp.ClientSession() as session:
        yield session
