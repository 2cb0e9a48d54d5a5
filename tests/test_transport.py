"""Transport behaviour against a real loopback server: retries, the create policy, errors."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

import runway_async
from runway_async import (
    AmbiguousSubmissionError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryConfig,
    Timeout,
    UnprocessableEntityError,
)
from runway_async._transport import Response, _retry_after, status_error

from .conftest import API_KEY, ScriptedServer, drop_connection, hang, json_reply


def client_for(server: ScriptedServer, **kwargs: object) -> runway_async.AsyncRunway:
    return runway_async.AsyncRunway(API_KEY, base_url=server.url, **kwargs)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestCreatePolicy:
    """A POST is re-sent only when the server certainly did not accept it."""

    @pytest.mark.parametrize("status", [500, 504, 501, 599])
    async def test_ambiguous_status_is_not_resent(
        self, server: ScriptedServer, status: int
    ) -> None:
        """A 5xx other than 502/503 after a create raises AmbiguousSubmissionError, sent once."""
        server.reply(json_reply({"error": "boom"}, status=status))
        async with client_for(server) as client:
            with pytest.raises(AmbiguousSubmissionError) as info:
                await client.request("POST", "/v1/text_to_image", json={"model": "x"})
        assert len(server.requests) == 1
        assert info.value.status_code == status
        assert info.value.request_body == {"model": "x"}
        assert isinstance(info.value.__cause__, InternalServerError)

    async def test_dropped_connection_after_send_is_ambiguous(self, server: ScriptedServer) -> None:
        """A connection dropped after the server read the create is not re-sent."""
        server.reply(drop_connection())
        async with client_for(server) as client:
            with pytest.raises(AmbiguousSubmissionError) as info:
                await client.request("POST", "/v1/text_to_image", json={"a": 1})
        assert len(server.requests) == 1
        assert info.value.status_code is None
        assert isinstance(info.value.__cause__, APIConnectionError)

    async def test_timeout_after_send_is_ambiguous(self, server: ScriptedServer) -> None:
        """A create whose reply never comes times out as ambiguous and is sent once."""
        server.reply(hang())
        async with client_for(server, timeout=0.05) as client:
            with pytest.raises(AmbiguousSubmissionError) as info:
                await client.request("POST", "/v1/text_to_image", json={"a": 1})
        assert len(server.requests) == 1
        assert isinstance(info.value.__cause__, APITimeoutError)

    @pytest.mark.parametrize("status", [429, 502, 503])
    async def test_certain_rejections_are_retried(
        self, server: ScriptedServer, status: int
    ) -> None:
        """429, 502 and 503 mean the create was not processed, so it is sent again."""
        server.reply(json_reply({"error": "busy"}, status=status), json_reply({"id": "t1"}))
        async with client_for(server) as client:
            data = await client.request("POST", "/v1/text_to_image", json={"a": 1})
        assert data == {"id": "t1"}
        assert len(server.requests) == 2

    async def test_retries_are_bounded(self, server: ScriptedServer) -> None:
        """A create that keeps getting 429 fails with RateLimitError after max_retries + 1 tries."""
        server.reply(json_reply({"error": "daily limit"}, status=429))
        async with client_for(server, max_retries=3) as client:
            with pytest.raises(RateLimitError):
                await client.request("POST", "/v1/text_to_image", json={"a": 1})
        assert len(server.requests) == 4

    async def test_refused_connection_is_certain_and_retried(self) -> None:
        """A create that never connects raises a plain connection error, not an ambiguous one."""
        url = f"http://127.0.0.1:{closed_port()}"
        async with runway_async.AsyncRunway(API_KEY, base_url=url, max_retries=2) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.request("POST", "/v1/text_to_image", json={"a": 1})
        assert not isinstance(info.value, AmbiguousSubmissionError)
        assert info.value.sent is False

    @pytest.mark.parametrize("status", [400, 401, 404, 422])
    async def test_client_errors_are_raised_once(self, server: ScriptedServer, status: int) -> None:
        """A 4xx other than 429 on a create is raised as its status error after one request."""
        server.reply(json_reply({"error": "no"}, status=status))
        async with client_for(server) as client:
            with pytest.raises(APIStatusError) as info:
                await client.request("POST", "/v1/text_to_image", json={"a": 1})
        assert info.value.status_code == status
        assert len(server.requests) == 1


class TestReadRetries:
    """GET, DELETE and PATCH are retried on transient failures."""

    @pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
    async def test_transient_status_is_retried(self, server: ScriptedServer, status: int) -> None:
        """A transient status on a read is retried until it succeeds."""
        server.reply(json_reply({"error": "x"}, status=status), json_reply({"ok": True}))
        async with client_for(server) as client:
            assert await client.request("GET", "/v1/organization") == {"ok": True}
        assert len(server.requests) == 2

    @pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
    async def test_dropped_connection_is_retried(self, server: ScriptedServer, method: str) -> None:
        """A dropped connection on an idempotent request is retried."""
        server.reply(drop_connection(), json_reply({"ok": True}))
        async with client_for(server) as client:
            assert await client.request(method, "/v1/tasks/x") == {"ok": True}
        assert len(server.requests) == 2

    async def test_timeouts_are_retried_then_raised(self, server: ScriptedServer) -> None:
        """A read that keeps timing out raises APITimeoutError after every attempt."""
        server.reply(hang())
        async with client_for(server, timeout=0.05, max_retries=1) as client:
            with pytest.raises(APITimeoutError) as info:
                await client.request("GET", "/v1/tasks/x")
        assert isinstance(info.value, TimeoutError)
        assert len(server.requests) == 2

    async def test_not_found_is_not_retried(self, server: ScriptedServer) -> None:
        """A 404 is final."""
        server.reply(json_reply({"error": "Task not found"}, status=404))
        async with client_for(server) as client:
            with pytest.raises(NotFoundError):
                await client.request("GET", "/v1/tasks/x")
        assert len(server.requests) == 1

    async def test_total_retry_time_is_bounded(self, server: ScriptedServer) -> None:
        """Retries stop when the next back-off would pass max_total."""
        server.reply(json_reply({"error": "slow down"}, status=503, headers={"Retry-After": "30"}))
        retry = RetryConfig(max_retries=10, max_total=1.0)
        runway_async.set_testing(False)  # use the real back-off, which is over the budget
        async with client_for(server, retry=retry) as client:
            with pytest.raises(InternalServerError) as info:
                await client.request("GET", "/v1/organization")
        assert info.value.retry_after == pytest.approx(30)
        assert len(server.requests) == 1


class TestRetryBudget:
    """RetryConfig.max_total bounds the whole call, the attempt in progress included."""

    async def test_attempt_timeout_is_cut_to_what_is_left(self) -> None:
        """Each attempt gets the rest of the budget as its timeout; none starts once it is spent."""
        retry = RetryConfig(max_retries=5, max_total=10.0)
        client = runway_async.AsyncRunway(
            API_KEY, base_url="http://127.0.0.1:9", timeout=6.0, retry=retry
        )
        transport = client._transport
        now = [0.0]
        transport._clock = lambda: now[0]
        budgets: list[float | None] = []

        async def stalled_attempt(
            method: str, url: str, json: object, params: object, *, budget: float | None = None
        ) -> Response:
            budgets.append(budget)
            now[0] += 6.0 if budget is None else min(6.0, budget)  # runs to its timeout
            raise APITimeoutError("stalled", method=method, url=url, sent=True)

        transport._send_once = stalled_attempt  # type: ignore[method-assign]
        async with client:
            with pytest.raises(APITimeoutError):
                await client.request("GET", "/v1/organization")
        assert budgets == [10.0, 4.0]
        assert now[0] == 10.0

    async def test_stalled_get_fails_when_the_budget_is_spent(self, server: ScriptedServer) -> None:
        """A GET stalled past max_total fails then, not when its own longer timeout ends."""
        server.reply(hang())
        retry = RetryConfig(max_retries=3, max_total=0.3)
        async with client_for(server, timeout=30.0, retry=retry) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError) as info:
                await client.request("GET", "/v1/organization")
            elapsed = time.monotonic() - started
        assert "max_total" in str(info.value)
        assert len(server.requests) == 1
        assert 0.25 <= elapsed < 20.0  # without the cut: 30 s; any machine is well inside


class TestErrors:
    """Error replies map to the exception tree with their details."""

    @pytest.mark.parametrize(
        ("status", "cls"),
        [
            (400, BadRequestError),
            (401, AuthenticationError),
            (403, PermissionDeniedError),
            (404, NotFoundError),
            (409, ConflictError),
            (422, UnprocessableEntityError),
            (429, RateLimitError),
            (500, InternalServerError),
            (503, InternalServerError),
            (418, APIStatusError),
        ],
    )
    def test_status_maps_to_class(self, status: int, cls: type[APIStatusError]) -> None:
        """Each documented status maps to its exception class."""
        err = status_error(Response(status=status, headers={}, data={"error": "e"}))
        assert type(err) is cls
        assert err.status_code == status
        assert err.status == status

    def test_error_body_with_issues_and_doc_url(self) -> None:
        """The error, issues and docUrl members are parsed and the issues are summarised."""
        body = {
            "error": "Invalid parameter",
            "issues": [{"code": "invalid_enum", "path": ["ratio"], "message": "bad ratio"}],
            "docUrl": "https://docs.dev.runwayml.com/errors",
        }
        err = status_error(
            Response(status=400, headers={"x-request-id": "r1"}, data=body, request_id="r1"),
            method="POST",
            url="https://api/v1/x",
        )
        assert err.error == "Invalid parameter"
        assert err.issues[0]["path"] == ["ratio"]
        assert err.doc_url == "https://docs.dev.runwayml.com/errors"
        assert err.request_id == "r1"
        assert "ratio: bad ratio" in str(err)

    async def test_non_json_body_is_kept_as_text(self, server: ScriptedServer) -> None:
        """A gateway's HTML error page is kept as text in the exception."""
        from aiohttp import web

        async def html(_request: web.Request) -> web.StreamResponse:
            return web.Response(status=404, text="<html>Not here</html>", content_type="text/html")

        server.reply(html)
        async with client_for(server) as client:
            with pytest.raises(NotFoundError) as info:
                await client.request("GET", "/v1/tasks/x")
        assert info.value.body == "<html>Not here</html>"
        assert "Not here" in str(info.value)

    def test_retry_after_seconds_and_dates(self) -> None:
        """Retry-After is read as seconds or as an HTTP date; garbage is ignored."""
        assert _retry_after({"retry-after": "7"}) == 7.0
        future = datetime.now(timezone.utc) + timedelta(seconds=120)
        assert (
            100 < (_retry_after({"retry-after": format_datetime(future, usegmt=True)}) or 0) <= 120
        )
        assert _retry_after({"retry-after": "soon"}) is None
        assert _retry_after({}) is None

    def test_backoff_honours_retry_after_with_a_cap(self) -> None:
        """Back-off uses Retry-After capped by max_retry_after, else exponential with jitter."""
        runway_async.set_testing(False)
        retry = RetryConfig(initial_delay=1.0, max_delay=8.0, jitter=0.5, max_retry_after=10.0)
        assert retry.backoff(1, 3.0, 0.9) == 3.0
        assert retry.backoff(1, 500.0, 0.9) == 10.0
        assert retry.backoff(1, None, 0.0) == 1.0
        assert retry.backoff(3, None, 1.0) == 6.0
        assert retry.backoff(10, None, 0.0) == 8.0
        runway_async.set_testing(True)
        assert retry.backoff(3, 30.0, 1.0) == 0.0


class TestHeaders:
    """Every request carries auth, version and user agent headers."""

    async def test_headers(self, server: ScriptedServer) -> None:
        """Authorization, X-Runway-Version and User-Agent are sent."""
        server.reply(json_reply({}))
        async with client_for(server, default_headers={"X-Trace": "1"}) as client:
            await client.request("GET", "/v1/organization")
        headers = server.requests[0].headers
        assert headers["Authorization"] == f"Bearer {API_KEY}"
        assert headers["X-Runway-Version"] == "2024-11-06"
        assert headers["User-Agent"] == f"runway-async/{runway_async.__version__}"
        assert headers["X-Trace"] == "1"

    async def test_proxy_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """HTTPS_PROXY from the environment carries API requests (as a CONNECT tunnel)."""
        seen: list[bytes] = []

        async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(await reader.readline())
            writer.close()

        server = await asyncio.start_server(proxy, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        async with runway_async.AsyncRunway(
            API_KEY, base_url="https://api.example.test", max_retries=0
        ) as client:
            with pytest.raises(APIConnectionError):
                await client.request("GET", "/v1/organization")
        server.close()
        await server.wait_closed()
        assert seen
        assert seen[0].startswith(b"CONNECT api.example.test:443")

    async def test_no_proxy_and_loopback_bypass_the_proxy(
        self, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Loopback hosts (the emulator) and hosts in NO_PROXY are reached directly."""
        server.reply(json_reply({"direct": True}))
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port()}")
        async with client_for(server, max_retries=0) as client:
            assert await client.request("GET", "/v1/organization") == {"direct": True}
        monkeypatch.setenv("NO_PROXY", "api.example.test")
        async with runway_async.AsyncRunway(
            API_KEY, base_url="https://api.example.test", max_retries=0
        ) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.request("GET", "/v1/organization")
        assert "example.test" in str(info.value)

    async def test_netrc_does_not_break_requests(
        self, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A ~/.netrc entry for the API host neither breaks requests nor replaces our key."""
        netrc = tmp_path / ".netrc"
        netrc.write_text("default login someone password secret\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        server.reply(json_reply({}))
        async with client_for(server) as client:
            await client.request("GET", "/v1/organization")
        assert server.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_timeout_coercion() -> None:
    """A number becomes the total deadline; invalid values are refused."""
    assert Timeout.coerce(5).total == 5.0
    assert Timeout.coerce(5).connect == 5.0
    assert Timeout.coerce(Timeout(total=3, connect=1)).connect == 1
    with pytest.raises(TypeError):
        Timeout.coerce("5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="total"):
        Timeout(total=0)
