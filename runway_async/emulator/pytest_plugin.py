"""pytest fixtures that test code using the Runway API against the local emulator.

Installed with ``runway-async`` (entry point ``pytest11``), so the fixtures are simply there.
Nothing is autouse and importing this module starts nothing: an emulator runs only in a
session that asks for one of these fixtures.

``runway_emulator`` (session)
    An ``Emulator`` running in a daemon thread on a free loopback port, shared by the whole
    session (each pytest-xdist worker gets its own). Tasks run 200 times faster than on the
    real API (``time_scale=0.005``: a 5 s video takes 25 ms). It works with any event loop
    and with sync code. State (tasks, usage, metrics, queued faults) carries over between
    tests; call ``runway_emulator.reset()`` or use ``fresh_runway_emulator``.
``fresh_runway_emulator`` (function)
    The same emulator, reset before the test.
``runway_client`` (function)
    An ``AsyncRunway`` wired to the emulator (its key and URL, a 10 ms poll interval), closed
    after the test. An async fixture: with pytest-asyncio it works in strict and auto mode,
    in tests running in the default function-scoped loop (for a test in a module or session
    loop, build the client yourself from ``runway_emulator.url`` and ``.api_key``); without
    pytest-asyncio, anyio's pytest plugin runs it for ``@pytest.mark.anyio`` tests.
``runway_env`` (function)
    Sets ``RUNWAYML_BASE_URL`` and ``RUNWAYML_API_SECRET`` to the emulator for the test, so
    code that builds its own client from the environment (ours or the official SDK's) runs
    unchanged. Returns those variables.

``runway_client`` and ``runway_env`` also turn on ``runway_async.set_testing(True)`` for the
test (restored afterwards): poll waits and retry back-off become near-instant.

Change the emulator's settings by overriding ``runway_emulator_config`` (session scope) in
your ``conftest.py``; its keyword arguments for ``Emulator`` win over the defaults::

    @pytest.fixture(scope="session")
    def runway_emulator_config():
        return {"concurrency": 2, "failure_rate": 0.1, "seed": 1}
"""

from __future__ import annotations

import importlib
import types
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from runway_async import AsyncRunway
    from runway_async.emulator import Emulator

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "EMULATOR_DEFAULTS",
    "POLL_INTERVAL",
    "fresh_runway_emulator",
    "runway_client",
    "runway_emulator",
    "runway_emulator_config",
    "runway_env",
]

EMULATOR_DEFAULTS: Final[Mapping[str, Any]] = types.MappingProxyType({"time_scale": 0.005})
"""The plugin's ``Emulator`` settings before ``runway_emulator_config`` is applied."""

POLL_INTERVAL: Final = 0.01
"""Seconds between polls of ``runway_client`` (the emulator needs no 5 s courtesy)."""


def _async_fixture(func: _F) -> _F:
    """Declare an async fixture, through pytest-asyncio when it is installed.

    pytest-asyncio's decorator makes the fixture work in its strict mode too; it is looked up
    here rather than imported, so the plugin never needs it. Without it, a plain async
    fixture still runs under anyio's pytest plugin. The fixture runs in a function-scoped
    loop, the loop tests run in by default, whatever ``asyncio_default_fixture_loop_scope``
    says: the client's connections belong to the loop of the test that used them.
    """
    try:
        pytest_asyncio = importlib.import_module("pytest_asyncio")
    except ImportError:
        return cast("_F", pytest.fixture(func))
    try:
        return cast("_F", pytest_asyncio.fixture(func, loop_scope="function"))
    except TypeError:  # pytest-asyncio before 0.24 has no loop_scope: always the test's loop
        return cast("_F", pytest_asyncio.fixture(func))


@pytest.fixture(scope="session")
def runway_emulator_config() -> dict[str, Any]:
    """Return keyword arguments for the session's ``Emulator``; override it to change them."""
    return {}


@pytest.fixture(scope="session")
def runway_emulator(runway_emulator_config: Mapping[str, Any]) -> Iterator[Emulator]:
    """Run one emulator in a thread for the whole test session (loopback, free port)."""
    from runway_async.emulator import Emulator

    settings = {**EMULATOR_DEFAULTS, **runway_emulator_config}
    with Emulator(**settings).in_thread() as emulator:
        yield emulator


@pytest.fixture
def fresh_runway_emulator(runway_emulator: Emulator) -> Emulator:
    """Return the session's emulator after clearing its tasks, usage, metrics and faults."""
    runway_emulator.reset()
    return runway_emulator


@pytest.fixture
def _runway_testing() -> Iterator[None]:
    """Make poll waits and retry back-off near-instant for the test, then restore."""
    import runway_async

    was_testing = runway_async.is_testing()
    runway_async.set_testing(True)
    try:
        yield
    finally:
        runway_async.set_testing(was_testing)


@pytest.fixture
def runway_env(
    runway_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, _runway_testing: None
) -> dict[str, str]:
    """Point ``RUNWAYML_BASE_URL`` and ``RUNWAYML_API_SECRET`` at the emulator for the test."""
    env = runway_emulator.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@_async_fixture
async def runway_client(
    runway_emulator: Emulator, _runway_testing: None
) -> AsyncIterator[AsyncRunway]:
    """Return an ``AsyncRunway`` wired to the emulator, closed after the test."""
    from runway_async import AsyncRunway, PollConfig

    async with AsyncRunway(
        runway_emulator.api_key,
        base_url=runway_emulator.url,
        poll=PollConfig(interval=POLL_INTERVAL),
    ) as client:
        yield client
