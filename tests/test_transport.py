"""Requests against a real loopback server: retries, the create policy, errors, tracing.

Also unit tests of the layers underneath: ``APIRequester`` on a fake transport and virtual
time, and ``AiohttpTransport`` on its own.
"""

from __future__ import annotations

import asyncio
import socket
import time
import traceback
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

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
from runway_async._clock import VirtualClock
from runway_async._http import Request, Response, parse_retry_after
from runway_async._requester import APIRequester, status_error
from runway_async._transport import AiohttpTransport

from .conftest import API_KEY, ScriptedServer, drop_connection, half_then_drop, hang, json_reply


def client_for(server: ScriptedServer, **kwargs: object) -> runway_async.AsyncRunway:
    return runway_async.AsyncRunway(API_KEY, base_url=server.url, **kwargs)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StalledTransport:
    """An ``HTTPTransport`` whose every request runs to its timeout on a virtual clock."""

    closed = False

    def __init__(self, clock: VirtualClock, *, takes: float) -> None:
        self.clock = clock
        self.takes = takes
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        await self.clock.sleep(min(self.takes, request.timeout))
        raise APITimeoutError("stalled", method=request.method, url=request.url, sent=True)

    def stream(self, url: str, **_options: object) -> Any:
        raise NotImplementedError

    async def post_form(self, url: str, **_options: object) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed = True


class ScriptedTransport:
    """An ``HTTPTransport`` that answers (or raises) what the test queued, recording requests."""

    closed = False

    def __init__(self, *replies: Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    def stream(self, url: str, **_options: object) -> Any:
        raise NotImplementedError

    async def post_form(self, url: str, **_options: object) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed = True


def requester_for(
    transport: Any,
    clock: VirtualClock | None = None,
    *,
    timeout: Timeout | None = None,
    retry: RetryConfig | None = None,
    **options: Any,
) -> APIRequester:
    return APIRequester(
        transport=transport,
        base_url="https://api.example.test",
        api_key=API_KEY,
        runway_version="2024-11-06",
        timeout=timeout or Timeout(),
        retry=retry or RetryConfig(),
        clock=clock or VirtualClock(),
        **options,
    )


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
        clock = VirtualClock()
        transport = StalledTransport(clock, takes=6.0)
        retry = RetryConfig(max_retries=5, max_total=10.0, initial_delay=0.0)
        requester = requester_for(transport, clock, timeout=Timeout(total=6.0), retry=retry)
        started = clock.now()
        job: asyncio.Future[Any] = asyncio.ensure_future(
            requester.request("GET", "/v1/organization")
        )
        await clock.run_until_done(job, limit=100)
        with pytest.raises(APITimeoutError) as info:
            job.result()
        assert [r.timeout for r in transport.requests] == [6.0, 4.0]
        assert clock.now() - started == 10.0
        assert "max_total" in str(info.value)

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
        assert parse_retry_after({"retry-after": "7"}) == 7.0
        future = datetime.now(timezone.utc) + timedelta(seconds=120)
        assert (
            100
            < (parse_retry_after({"retry-after": format_datetime(future, usegmt=True)}) or 0)
            <= 120
        )
        assert parse_retry_after({"retry-after": "soon"}) is None
        assert parse_retry_after({}) is None

    def test_backoff_honours_retry_after_with_a_cap(self) -> None:
        """Back-off uses Retry-After capped by max_retry_after, else exponential with jitter."""
        runway_async.set_testing(False)
        retry = RetryConfig(initial_delay=1.0, max_delay=8.0, jitter=0.5, max_retry_after=10.0)
        assert retry.backoff(1, 3.0, 0.9) == 3.0
        assert retry.backoff(1, 500.0, 0.9) == 10.0
        assert retry.backoff(1, None, 0.0) == 1.0
        assert retry.backoff(3, None, 1.0) == 6.0
        assert retry.backoff(10, None, 0.0) == 8.0
        runway_async.set_testing(True)  # the same policy; only the clock's sleeps are instant
        assert retry.backoff(3, 30.0, 1.0) == 10.0


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


class TestRequester:
    """APIRequester on a scripted transport: what it sends and how it judges replies."""

    async def test_request_carries_the_headers_and_hides_them(self) -> None:
        """Auth, version, agent and default headers are sent; the request's repr hides them."""
        transport = ScriptedTransport(Response(status=200, headers={}, data={"ok": True}))
        requester = requester_for(transport, default_headers={"X-Trace": "1"})
        response = await requester.request("get", "/v1/organization", params={"a": "b"})
        assert response.data == {"ok": True}
        (request,) = transport.requests
        assert request.method == "GET"
        assert request.url == "https://api.example.test/v1/organization"
        assert request.params == {"a": "b"}
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        assert request.headers["X-Runway-Version"] == "2024-11-06"
        assert request.headers["User-Agent"] == f"runway-async/{runway_async.__version__}"
        assert request.headers["X-Trace"] == "1"
        assert request.max_response_bytes == requester.max_response_bytes
        assert API_KEY not in repr(request)
        assert API_KEY not in repr(requester)

    async def test_copy_shares_the_transport(self) -> None:
        """A copy changes its settings only, and sends through the same transport."""
        transport = ScriptedTransport(Response(status=200, headers={}, data=None))
        requester = requester_for(transport)
        copy = requester.copy(timeout=Timeout(total=3), max_response_bytes=10)
        assert copy.transport is transport
        assert (copy.timeout.total, copy.max_response_bytes) == (3, 10)
        assert copy.retry == requester.retry
        assert copy.clock is requester.clock
        await copy.request("GET", "/v1/organization")
        assert transport.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"
        assert transport.requests[0].timeout == 3

    async def test_sent_create_failure_is_ambiguous(self) -> None:
        """A POST whose connection broke after sending is not re-sent: AmbiguousSubmissionError."""
        broken = APIConnectionError("Connection broken", method="POST", url="u", sent=True)
        transport = ScriptedTransport(broken)
        requester = requester_for(transport)
        with pytest.raises(AmbiguousSubmissionError) as info:
            await requester.request("POST", "/v1/text_to_image", json={"a": 1})
        assert info.value.__cause__ is broken
        assert info.value.request_body == {"a": 1}
        assert "to avoid paying twice" in str(info.value)
        assert len(transport.requests) == 1

    async def test_post_can_be_declared_idempotent(self) -> None:
        """idempotent=True lets a POST be re-sent like a read."""
        clock = VirtualClock()
        broken = APIConnectionError("Connection broken", method="POST", url="u", sent=True)
        transport = ScriptedTransport(broken, Response(status=200, headers={}, data={}))
        requester = requester_for(transport, clock)
        job: asyncio.Future[Any] = asyncio.ensure_future(
            requester.request("POST", "/v1/x", idempotent=True)
        )
        await clock.run_until_done(job, limit=100)
        assert job.result().status == 200
        assert len(transport.requests) == 2


class TestAiohttpTransport:
    """The aiohttp transport on its own: sessions, tracing, and errors that stay ours."""

    def test_refuses_other_sessions(self) -> None:
        """Only an aiohttp.ClientSession is accepted; trace_configs are for its own sessions."""
        with pytest.raises(TypeError, match=r"aiohttp\.ClientSession"):
            AiohttpTransport(object())

    async def test_trace_configs_go_to_our_sessions_not_with_a_given_one(self) -> None:
        """trace_configs with an injected session is refused (give them to that session)."""
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TypeError, match="trace_configs"):
                AiohttpTransport(session, trace_configs=[aiohttp.TraceConfig()])

    async def test_send_and_close(self, server: ScriptedServer) -> None:
        """send() returns any status; aclose() closes the session it made, once."""
        server.reply(json_reply({"error": "no"}, status=404, headers={"X-Request-Id": "r9"}))
        transport = AiohttpTransport()
        request = Request(
            method="GET",
            url=server.url + "/v1/tasks/x",
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=5.0,
            connect_timeout=5.0,
            max_response_bytes=1024,
        )
        response = await transport.send(request)
        assert (response.status, response.data, response.request_id) == (404, {"error": "no"}, "r9")
        owned_before = transport.owns_open_session
        assert owned_before
        assert transport.loop_count() == 1
        session = transport.current_session()
        assert session is not None
        await transport.aclose()
        await transport.aclose()
        assert transport.closed
        assert session.closed
        assert not transport.owns_open_session
        with pytest.raises(RuntimeError, match="closed"):
            await transport.send(request)

    async def test_body_broken_mid_download_is_ours_and_unchained(
        self, server: ScriptedServer
    ) -> None:
        """A connection cut while a download's body streams raises our error, not aiohttp's."""
        server.reply(half_then_drop(b"x" * 100000))
        transport = AiohttpTransport()
        url = server.url + "/o.png?signature=SIGNATURE42"
        received: list[bytes] = []

        async def read_all() -> None:
            async with transport.stream(
                url, headers={}, timeout=5.0, connect_timeout=5.0, read_timeout=5.0
            ) as stream:
                assert stream.status == 200
                assert stream.content_length == 100000
                async for chunk in stream.iter_chunks(512):
                    received.append(chunk)

        try:
            with pytest.raises(APIConnectionError) as info:
                await read_all()
        finally:
            await transport.aclose()
        error = info.value
        assert received
        assert error.sent is True
        assert error.__cause__ is None
        assert error.__context__ is None
        assert error.cause is not None
        assert "SIGNATURE42" not in str(error) + repr(vars(error))
        frames = [f.f_code.co_filename for f, _ in traceback.walk_tb(error.__traceback__)]
        assert not any("aiohttp" in Path(name).parts for name in frames)


class TestTracing:
    """aiohttp TraceConfigs see API requests and downloads alike."""

    @staticmethod
    def tracer(seen: list[tuple[str, str]]) -> aiohttp.TraceConfig:
        async def on_start(
            _session: aiohttp.ClientSession,
            _context: object,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            seen.append((params.method, params.url.path))

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(on_start)
        return trace

    @staticmethod
    async def png(_request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\x89PNG data", content_type="image/png")

    async def test_injected_session_traces_downloads_too(
        self, server: ScriptedServer, tmp_path: Path
    ) -> None:
        """The trace configs of a session given to the client also see its downloads."""
        seen: list[tuple[str, str]] = []
        server.reply(json_reply({}), self.png)
        async with (
            aiohttp.ClientSession(trace_configs=[self.tracer(seen)]) as session,
            client_for(server, session=session) as client,
        ):
            await client.request("GET", "/v1/organization")
            await client.download(server.url + "/o.png", tmp_path)
        assert seen == [("GET", "/v1/organization"), ("GET", "/o.png")]

    async def test_transport_trace_configs(self, server: ScriptedServer, tmp_path: Path) -> None:
        """AiohttpTransport(trace_configs=...) instruments the sessions it creates."""
        seen: list[tuple[str, str]] = []
        server.reply(json_reply({}), self.png)
        transport = AiohttpTransport(trace_configs=[self.tracer(seen)])
        try:
            async with client_for(server, transport=transport) as client:
                await client.request("GET", "/v1/organization")
                await client.download(server.url + "/o.png", tmp_path)
        finally:
            await transport.aclose()
        assert seen == [("GET", "/v1/organization"), ("GET", "/o.png")]
