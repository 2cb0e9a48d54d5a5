"""Fixtures for the sync client: an emulator in its own thread and sync clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from runway_async import Runway
from runway_async.emulator import Emulator

from ..engine.conftest import TIME_SCALE, fast_poll, new_key

SyncEmulatorFactory = Callable[..., AbstractContextManager[Emulator]]


@pytest.fixture
def start_emulator() -> SyncEmulatorFactory:
    """Return a factory of emulators served from a thread, at the engine tests' scale."""

    @contextmanager
    def start(**settings: Any) -> Iterator[Emulator]:
        settings.setdefault("time_scale", TIME_SCALE)
        settings.setdefault("seed", 11)
        with Emulator(**settings).in_thread() as emu:
            yield emu

    return start


@pytest.fixture
def emulator(start_emulator: SyncEmulatorFactory) -> Iterator[Emulator]:
    """One emulator with the defaults."""
    with start_emulator() as emu:
        yield emu


@pytest.fixture
def make_client() -> Iterator[Callable[..., Runway]]:
    """Return a factory of sync clients (closed after the test), each with its own key."""
    made: list[Runway] = []

    def make(emu: Emulator, **options: Any) -> Runway:
        options.setdefault("poll", fast_poll())
        options.setdefault("timeout", 10.0)
        client = Runway(options.pop("api_key", None) or new_key(), base_url=emu.url, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
