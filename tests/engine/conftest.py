"""Fixtures for the task engine: emulators at a small time scale and clients polling to scale.

Every client gets its own API key (the emulator accepts any), so no two tests share a
process-wide limiter even if the OS hands a later emulator an earlier one's port.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from runway_async import AsyncRunway, Organization, PollConfig
from runway_async._convert import structure
from runway_async.emulator import Emulator

# 1 API second = 4 ms: an image (2 API s) takes about 8 ms; the 5 s poll floor is 20 ms.
TIME_SCALE = 0.004
MIN_INTERVAL = 5 * TIME_SCALE
IMAGE: dict[str, Any] = {"model": "gen4_image", "prompt_text": "a red fox", "ratio": "1920:1080"}
SPEECH: dict[str, Any] = {
    "model": "eleven_multilingual_v2",
    "prompt_text": "Hello there.",
    "voice": {"type": "runway-preset", "preset_id": "Leslie"},
}


def new_key() -> str:
    """Return an API key no other test uses."""
    return "key_" + uuid.uuid4().hex


def fast_poll(**overrides: Any) -> PollConfig:
    """Return polling scaled to the emulator: the 5 s floor and the GET budget.

    Early handover is off (``handover=0``), so the limiter's count is exact and a test can
    say "never THROTTLED" whatever the machine's speed; ``test_handover.py`` turns it on.
    """
    settings: dict[str, Any] = {
        "min_interval": MIN_INTERVAL,
        "requests_per_second": 25 / TIME_SCALE,
        "max_in_flight": 32,
        "handover": 0.0,
    }
    settings.update(overrides)
    return PollConfig(**settings)


def image(n: int) -> dict[str, Any]:
    """Return image parameters with a distinct prompt (bodies differ, as in real use)."""
    return {**IMAGE, "prompt_text": f"a red fox, take {n}"}


EmulatorFactory = Callable[..., AbstractAsyncContextManager[Emulator]]
ClientFactory = Callable[..., AsyncRunway]


@pytest.fixture
def start_emulator() -> EmulatorFactory:
    """Return a factory of emulators at the engine tests' time scale."""

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[Emulator]:
        settings.setdefault("time_scale", TIME_SCALE)
        settings.setdefault("seed", 11)
        async with Emulator(**settings) as emu:
            yield emu

    return start


@pytest.fixture
def make_client() -> ClientFactory:
    """Return a factory of clients for an emulator, each with a key of its own."""

    def make(emu: Emulator, *, api_key: str | None = None, **options: Any) -> AsyncRunway:
        options.setdefault("poll", fast_poll())
        options.setdefault("timeout", 10.0)
        return AsyncRunway(api_key or new_key(), base_url=emu.url, **options)

    return make


def org(
    concurrency: dict[str, int | None], daily: dict[str, int | None] | None = None, **used: int
) -> Organization:
    """Return an organization with these per-model limits and daily usage."""
    daily = daily or {}
    models = {
        m: {"maxConcurrentGenerations": c, "maxDailyGenerations": daily.get(m)}
        for m, c in concurrency.items()
    }
    return structure(
        {
            "creditBalance": 100,
            "tier": {"maxMonthlyCreditSpend": 1000, "models": models},
            "usage": {"models": {m: {"dailyGenerations": n} for m, n in used.items()}},
        },
        Organization,
    )
