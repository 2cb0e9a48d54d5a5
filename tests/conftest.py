"""Shared fixtures: an isolated environment, the testing switch, a scripted loopback server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import pytest_asyncio
from aiohttp import web

import runway_async

from .redis_support import RedisServer, require_redis

API_KEY = "key_" + "ab" * 64

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture(scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a cache directory standing in for the user's, shared by the session."""
    return tmp_path_factory.mktemp("user-cache")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, _cache_home: Path) -> Iterator[None]:
    """Keep the developer's real Runway settings (and cache directory) out of every test."""
    for name in ("RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL", "RUNWAYML_LOG"):
        monkeypatch.delenv(name, raising=False)
    # Subprocesses (examples, the CLI) run without the testing switch: their default
    # duration cache must land here, not in the user's cache directory.
    monkeypatch.setenv("XDG_CACHE_HOME", str(_cache_home))
    monkeypatch.setenv("LOCALAPPDATA", str(_cache_home))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    runway_async.set_testing(True)
    yield
    runway_async.set_testing(False)


class Received(NamedTuple):
    """One request as the scripted server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return json.loads(self.body)


class ScriptedServer:
    """A loopback HTTP server whose replies each test scripts, recording what it received."""

    def __init__(self) -> None:
        self.handlers: list[Handler] = []
        self.requests: list[Received] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    def reply(self, *handlers: Handler) -> None:
        """Queue handlers; each request consumes the next one (the last one repeats)."""
        self.handlers.extend(handlers)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            Received(request.method, request.path_qs, dict(request.headers), await request.read())
        )
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return await handler(request)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest_asyncio.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    """Start a scripted loopback server for one test."""
    srv = ScriptedServer()
    await srv.start()
    yield srv
    await srv.stop()


def json_reply(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    """Return a handler that answers ``data`` as JSON."""

    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.json_response(data, status=status, headers=headers)

    return handler


def drop_connection() -> Handler:
    """Return a handler that closes the connection after reading the request."""

    async def handler(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    return handler


def half_then_drop(data: bytes) -> Handler:
    """Return a handler that promises ``data`` (a PNG) by Content-Length, sends half, then cuts."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "image/png", "Content-Length": str(len(data))}
        )
        await response.prepare(request)
        await response.write(data[: len(data) // 2])
        assert request.transport is not None
        request.transport.abort()
        return response

    return handler


def hang() -> Handler:
    """Return a handler that never answers (until the server stops)."""

    async def handler(_request: web.Request) -> web.StreamResponse:
        await asyncio.Event().wait()
        return web.Response()

    return handler


def endpoint_method(client: Any, endpoint: str) -> Any:
    """Return the create method of ``endpoint`` on a client (ours or the official SDK's)."""
    namespace, _, rest = endpoint.partition(".")
    if namespace == "recipes":
        return getattr(client.recipes, rest)
    if namespace == "generate":
        return getattr(client.generate, rest).create
    return getattr(client, namespace).create


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Start one redis-server for the session (skipped, or failed under CI, if missing)."""
    server = RedisServer(require_redis(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """Return the session redis-server's URL (restarted if a test left it stopped)."""
    redis_server.start()
    return redis_server.url


@pytest.fixture
def redis_namespace() -> str:
    """Return a namespace no other test uses, so tests never see each other's keys."""
    return "test-" + uuid.uuid4().hex


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Start a redis-server for one test, which may stop and start it (same port)."""
    server = RedisServer(require_redis(), tmp_path)
    server.start()
    yield server
    server.stop()
