"""Client construction, lifecycle, options and secrecy of the API key."""

from __future__ import annotations

import asyncio
import gc
import logging
import traceback

import aiohttp
import pytest

import runway_async
from runway_async import AsyncRunway, AsyncRunwayML, InvalidRequestError, NotFoundError

from .conftest import API_KEY, ScriptedServer, json_reply


class TestConstruction:
    """Settings come from arguments, then the environment, then defaults."""

    async def test_missing_key_names_the_env_var(self) -> None:
        """Without a key the error names RUNWAYML_API_SECRET."""
        with pytest.raises(InvalidRequestError, match="RUNWAYML_API_SECRET"):
            AsyncRunway()

    async def test_key_and_url_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """RUNWAYML_API_SECRET and RUNWAYML_BASE_URL are read when no argument is given."""
        monkeypatch.setenv("RUNWAYML_API_SECRET", API_KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", "http://127.0.0.1:9/")
        async with AsyncRunway() as client:
            assert client.base_url == "http://127.0.0.1:9"

    async def test_default_base_url(self) -> None:
        """The default base URL is Runway's production API host."""
        async with AsyncRunway(API_KEY) as client:
            assert client.base_url == "https://api.dev.runwayml.com"

    @pytest.mark.parametrize(
        "url", ["http://api.example.com", "http://10.0.0.1:8000", "ftp://x", "https://u:p@host"]
    )
    async def test_unsafe_base_urls_are_refused(self, url: str) -> None:
        """Plain http to a non-loopback host (or a URL with credentials) is refused."""
        with pytest.raises(InvalidRequestError) as info:
            AsyncRunway(API_KEY, base_url=url)
        assert info.value.field == "base_url"

    @pytest.mark.parametrize(
        "url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80", "https://x.io"]
    )
    async def test_loopback_http_is_allowed(self, url: str) -> None:
        """Plain http is fine for loopback hosts (the local emulator)."""
        async with AsyncRunway(API_KEY, base_url=url) as client:
            assert client.base_url == url

    async def test_alias(self) -> None:
        """AsyncRunwayML is the same class, for migration."""
        assert AsyncRunwayML is AsyncRunway

    async def test_invalid_session_type(self) -> None:
        """Only an aiohttp.ClientSession is accepted as session."""
        with pytest.raises(TypeError, match="ClientSession"):
            AsyncRunway(API_KEY, session=object())


class TestLifecycle:
    """The session is lazy, closed once, and warned about when leaked."""

    async def test_aclose_is_idempotent(self, server: ScriptedServer) -> None:
        """aclose() may be called twice; a closed client refuses requests."""
        server.reply(json_reply({}))
        client = AsyncRunway(API_KEY, base_url=server.url)
        await client.request("GET", "/v1/organization")
        await client.aclose()
        await client.aclose()
        assert client.is_closed
        with pytest.raises(RuntimeError, match="closed"):
            await client.request("GET", "/v1/organization")

    async def test_injected_session_is_not_closed(self, server: ScriptedServer) -> None:
        """A session passed in stays open after the client closes."""
        server.reply(json_reply({}))
        async with aiohttp.ClientSession() as session:
            async with AsyncRunway(API_KEY, base_url=server.url, session=session) as client:
                await client.request("GET", "/v1/organization")
            assert not session.closed

    async def test_unclosed_client_warns(self, server: ScriptedServer) -> None:
        """Dropping a client with an open session emits ResourceWarning."""
        server.reply(json_reply({}))
        client = AsyncRunway(API_KEY, base_url=server.url)
        await client.request("GET", "/v1/organization")
        session = client._core.http.current_session()
        assert session is not None
        # No reference cycle holds a client, so dropping the last reference is what warns.
        with pytest.warns(ResourceWarning, match="Unclosed"):  # noqa: PT031
            del client
            gc.collect()
        await session.close()

    async def test_unused_client_does_not_warn(self) -> None:
        """A client that never sent a request has nothing to close and does not warn."""
        client = AsyncRunway(API_KEY)
        del client
        gc.collect()

    async def test_with_options_shares_the_pool(self, server: ScriptedServer) -> None:
        """with_options returns a configured copy on the same session; closing it closes nothing."""
        server.reply(json_reply({}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            copy = client.with_options(timeout=5, max_retries=7)
            assert copy.max_retries == 7
            assert copy.timeout.total == 5
            assert client.max_retries == 2
            await copy.request("GET", "/v1/organization")
            await copy.aclose()
            await client.request("GET", "/v1/organization")
            assert copy._core.http is client._core.http

    async def test_other_event_loop_gets_its_own_session(self, server: ScriptedServer) -> None:
        """A client used in a second event loop (another thread) works there too."""
        server.reply(json_reply({}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            await client.request("GET", "/v1/organization")
            mine = client._core.http.current_session()

            def other_loop() -> object:
                return asyncio.run(client.request("GET", "/v1/organization"))

            assert await asyncio.to_thread(other_loop) == {}
            assert client._core.http.current_session() is mine
            assert len(server.requests) == 2


class TestSecrecy:
    """The API key never shows in repr, str, errors, tracebacks or logs."""

    async def test_repr(self) -> None:
        """Neither the client nor its parts show the key."""
        async with AsyncRunway(API_KEY) as client:
            core = client._core
            for obj in (client, core, core.requester, core.http, client.tasks):
                assert API_KEY not in repr(obj)
                assert API_KEY not in str(obj)

    async def test_errors_and_logs(
        self,
        server: ScriptedServer,
        caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Error messages, tracebacks and debug logs never contain the key."""
        monkeypatch.setenv("RUNWAYML_LOG", "debug")
        server.reply(json_reply({"error": "x"}, status=500), json_reply({"error": "nope"}, 404))
        caplog.set_level(logging.DEBUG, logger="runway_async")
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(NotFoundError) as info:
                await client.request("GET", "/v1/tasks/abc")
        text = "".join(traceback.format_exception(info.value))
        assert API_KEY not in text
        assert caplog.records
        assert all(API_KEY not in r.getMessage() for r in caplog.records)
        logger = logging.getLogger("runway_async")
        for handler in list(logger.handlers):
            if getattr(handler, "_runway_async", False):
                logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


async def test_request_escape_hatch(server: ScriptedServer) -> None:
    """client.request sends any call with the usual headers and returns the JSON."""
    server.reply(json_reply({"data": [], "nextCursor": None}))
    async with AsyncRunway(API_KEY, base_url=server.url) as client:
        data = await client.request("GET", "/v1/voices", params={"limit": "5"})
    assert data == {"data": [], "nextCursor": None}
    assert server.requests[0].path == "/v1/voices?limit=5"


def test_testing_switch() -> None:
    """set_testing toggles is_testing."""
    runway_async.set_testing(False)
    assert not runway_async.is_testing()
    runway_async.set_testing(True)
    assert runway_async.is_testing()
