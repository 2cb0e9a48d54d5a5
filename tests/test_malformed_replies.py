"""Malformed replies (issue 12): each raises our own error, with the status and a bounded excerpt.

For three kinds of call: a GET of a task, a create, and a plain endpoint (``avatars.retrieve``),
against the emulator's reply-mangling faults (an HTML page, a truncated body, a 50 MB body, a
body that never ends) and a scripted gateway (an HTML error page, a wrong content type). A
create whose server may have processed it raises ``AmbiguousSubmissionError`` with its request
kept and is never re-sent; a read is retried as the policy says, then fails. Every call ends
within the configured timeout (each is also bounded by an outer ``wait_for`` far longer, so a
hang fails the test instead of stalling it, and the error type shows which bound fired).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import pytest
import pytest_asyncio
from aiohttp import web

from runway_async import (
    AmbiguousSubmissionError,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncRunway,
    ResponseValidationError,
    RetryConfig,
)
from runway_async._exceptions import MAX_MESSAGE_CHARS
from runway_async._requester import DEFAULT_MAX_RESPONSE_BYTES
from runway_async.emulator import Emulator

from .conftest import API_KEY, ScriptedServer

OUTER_BOUND = 30.0  # seconds; far beyond every configured timeout here
MESSAGE_BOUND = MAX_MESSAGE_CHARS + 100  # the message, plus the pointer to .body
IMAGE_PARAMS: dict[str, Any] = {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1024:1024"}
IMAGE_BODY: dict[str, Any] = {"model": "gen4_image", "promptText": "a fox", "ratio": "1024:1024"}
GATEWAY_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    + "<p>The upstream server is unavailable. Please try again later.</p>" * 200
    + "</body></html>"
)
CALLS = ["get", "create", "plain"]

Call = Callable[[], Awaitable[object]]


@attrs.frozen
class Target:
    """A client on the emulator with one task and one avatar to read, and the three calls."""

    emu: Emulator
    client: AsyncRunway
    task_id: str
    avatar_id: str

    def call(self, kind: str) -> Call:
        if kind == "get":
            return lambda: self.client.tasks.retrieve(self.task_id)
        if kind == "create":
            return lambda: self.client.text_to_image.create(**IMAGE_PARAMS)
        return lambda: self.client.avatars.retrieve(self.avatar_id)

    def route(self, kind: str) -> str | None:
        return {"get": "tasks", "create": None, "plain": "/v1/avatars/"}[kind]

    def requests(self, kind: str) -> int:
        label = {
            "get": "GET /v1/tasks/{id}",
            "create": "POST /v1/text_to_image",
            "plain": "GET /v1/avatars/{id}",
        }[kind]
        return sum(self.emu.metrics()["requests"].get(label, {}).values())


@pytest_asyncio.fixture
async def target() -> AsyncIterator[Target]:
    """Start an emulator; yield a client (one retry, 1 s timeout), a task and an avatar."""
    async with (
        Emulator(time_scale=0.002, seed=3) as emu,
        AsyncRunway(
            API_KEY,
            base_url=emu.url,
            timeout=1.0,
            max_concurrency=None,
            retry=RetryConfig(max_retries=1),
        ) as client,
    ):
        task = await client.text_to_image.create(**IMAGE_PARAMS, seed=1)
        avatar = await client.avatars.create(
            name="Ada",
            personality="Helpful.",
            reference_image="https://example.com/ada.png",
            voice={"type": "runway-live-preset", "preset_id": "adrian"},
        )
        yield Target(emu, client, task.id, avatar.id)


async def bounded(call: Call) -> BaseException:
    """Run ``call`` under the outer bound and return what it raised (it must raise)."""
    with pytest.raises(APIError) as info:
        await asyncio.wait_for(call(), OUTER_BOUND)
    return info.value


def check_bounded(error: BaseException) -> None:
    assert len(str(error)) <= MESSAGE_BOUND


def check_ambiguous(error: BaseException, status: int | None) -> AmbiguousSubmissionError:
    """Check a create that may have been processed: ambiguous, its request kept."""
    assert isinstance(error, AmbiguousSubmissionError), repr(error)
    assert error.request_body == IMAGE_BODY
    assert error.status_code == status
    assert "not re-sent" in str(error)
    check_bounded(error)
    return error


class TestEmulatedReplies:
    """The emulator's reply-mangling faults, for a GET, a create and a plain endpoint."""

    @pytest.mark.parametrize("kind", CALLS)
    async def test_html_page_instead_of_json(self, target: Target, kind: str) -> None:
        """An HTML 200 raises our error naming the status, the content type and its start."""
        target.emu.faults.inject("not_json", route=target.route(kind))
        before = target.requests(kind)
        error = await bounded(target.call(kind))
        assert "answered 200 with a reply that is not JSON (text/html" in str(error)
        assert "'<html><head><title>Gateway</title>" in str(error)
        assert isinstance(error, APIError)
        assert isinstance(error.body, str)
        assert error.body.startswith("<html>")
        check_bounded(error)
        if kind == "create":
            check_ambiguous(error, 200)
            assert isinstance(error.__cause__, ResponseValidationError)
            assert target.emu.metrics()["tasks_created_total"] == 2  # the fixture's and this
        else:
            assert type(error) is ResponseValidationError
        assert target.requests(kind) == before + 1  # never re-sent: it would come again

    @pytest.mark.parametrize("kind", CALLS)
    async def test_truncated_json(self, target: Target, kind: str) -> None:
        """Half a JSON body under the full Content-Length: a read is retried, then fails."""
        target.emu.faults.inject("truncated", route=target.route(kind), count=2)
        before = target.requests(kind)
        error = await bounded(target.call(kind))
        check_bounded(error)
        if kind == "create":
            check_ambiguous(error, None)
            assert isinstance(error.__cause__, APIConnectionError)
            assert target.requests(kind) == before + 1
        else:
            assert type(error) is APIConnectionError
            assert error.cause is not None
            assert "payload is not completed" in error.cause
            assert target.requests(kind) == before + 2  # one retry

    @pytest.mark.parametrize("kind", CALLS)
    async def test_fifty_megabyte_body(self, target: Target, kind: str) -> None:
        """A 50 MB reply is read up to max_response_bytes only; the error keeps that start."""
        size = 50 * 1024 * 1024
        target.emu.faults.inject("oversized", route=target.route(kind), size=size)
        error = await bounded(target.call(kind))
        assert "larger than max_response_bytes=" in str(error)
        assert isinstance(error, APIError)
        assert isinstance(error.body, str)
        assert 0 < len(error.body) <= DEFAULT_MAX_RESPONSE_BYTES
        assert error.body.startswith("{")
        check_bounded(error)
        if kind == "create":
            check_ambiguous(error, 200)
        else:
            assert type(error) is ResponseValidationError

    @pytest.mark.parametrize("kind", CALLS)
    async def test_reply_that_never_ends(self, target: Target, kind: str) -> None:
        """A body that trickles forever ends in our timeout error, not a hang."""
        target.emu.faults.inject("endless", route=target.route(kind), delay=0.01, count=2)
        quick = attrs.evolve(target, client=target.client.with_options(timeout=0.3))
        error = await bounded(quick.call(kind))
        check_bounded(error)
        if kind == "create":
            check_ambiguous(error, None)
            assert isinstance(error.__cause__, APITimeoutError)
        else:
            assert isinstance(error, APITimeoutError)

    async def test_retry_budget_bounds_a_reply_that_never_ends(self, target: Target) -> None:
        """With a long per-attempt timeout, RetryConfig.max_total still ends the call."""
        target.emu.faults.inject("endless", route="tasks", delay=0.01, count=10)
        client = target.client.with_options(
            timeout=60.0, retry=RetryConfig(max_retries=5, max_total=0.5)
        )
        error = await bounded(lambda: client.tasks.retrieve(target.task_id))
        assert isinstance(error, APITimeoutError)
        assert "max_total" in str(error)


def html_reply(status: int, page: str = GATEWAY_PAGE, content_type: str = "text/html") -> Any:
    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=page, content_type=content_type)

    return handler


def scripted_call(client: AsyncRunway, kind: str) -> Call:
    if kind == "get":
        return lambda: client.tasks.retrieve("t-1")
    if kind == "create":
        return lambda: client.text_to_image.create(**IMAGE_PARAMS)
    return lambda: client.avatars.retrieve("a-1")


@pytest_asyncio.fixture
async def gateway(server: ScriptedServer) -> AsyncIterator[tuple[ScriptedServer, AsyncRunway]]:
    async with AsyncRunway(
        API_KEY,
        base_url=server.url,
        timeout=1.0,
        max_concurrency=None,
        retry=RetryConfig(max_retries=1),
    ) as client:
        yield server, client


class TestGatewayReplies:
    """What a gateway or proxy in front of the API answers: HTML errors, wrong content types."""

    @pytest.mark.parametrize("kind", CALLS)
    async def test_html_502_page(
        self, gateway: tuple[ScriptedServer, AsyncRunway], kind: str
    ) -> None:
        """A 502 HTML page (not processed): retried, then a status error with an excerpt."""
        server, client = gateway
        server.reply(html_reply(502))
        error = await bounded(scripted_call(client, kind))
        assert isinstance(error, APIStatusError), repr(error)
        assert error.status_code == 502
        assert str(error).startswith("Error code 502 for ")
        assert "502 Bad Gateway" in str(error)
        assert error.body == GATEWAY_PAGE  # in full on the exception, cut in the message
        check_bounded(error)
        assert len(server.requests) == 2  # 502 proves nothing was processed: re-sent

    @pytest.mark.parametrize("kind", CALLS)
    async def test_html_504_page(
        self, gateway: tuple[ScriptedServer, AsyncRunway], kind: str
    ) -> None:
        """A 504 HTML page: a read is retried; a create may have been processed: ambiguous."""
        server, client = gateway
        server.reply(html_reply(504))
        error = await bounded(scripted_call(client, kind))
        check_bounded(error)
        assert "504" in str(error)
        if kind == "create":
            check_ambiguous(error, 504)
            assert len(server.requests) == 1
        else:
            assert isinstance(error, APIStatusError)
            assert error.status_code == 504
            assert len(server.requests) == 2

    @pytest.mark.parametrize("kind", CALLS)
    async def test_html_labelled_as_json(
        self, gateway: tuple[ScriptedServer, AsyncRunway], kind: str
    ) -> None:
        """A 200 HTML page claiming application/json is still not JSON: our error."""
        server, client = gateway
        server.reply(html_reply(200, content_type="application/json"))
        error = await bounded(scripted_call(client, kind))
        assert "answered 200 with a reply that is not JSON (application/json" in str(error)
        check_bounded(error)
        if kind == "create":
            check_ambiguous(error, 200)
        else:
            assert type(error) is ResponseValidationError
        assert len(server.requests) == 1

    async def test_json_under_a_wrong_content_type_is_read(
        self, gateway: tuple[ScriptedServer, AsyncRunway]
    ) -> None:
        """A valid JSON task labelled text/plain is read as it is (a tolerant parse)."""
        server, client = gateway
        page = '{"id": "t-1", "status": "PENDING", "createdAt": "2025-01-01T00:00:00Z"}'
        server.reply(html_reply(200, page=page, content_type="text/plain"))
        task = await client.tasks.retrieve("t-1")
        assert task.id == "t-1"
        assert task.status == "PENDING"

    async def test_empty_success_reply_to_a_read(
        self, gateway: tuple[ScriptedServer, AsyncRunway]
    ) -> None:
        """An empty 200 to a GET is our validation error, not a crash."""
        server, client = gateway
        server.reply(html_reply(200, page=""))
        error = await bounded(scripted_call(client, "get"))
        assert type(error) is ResponseValidationError
        check_bounded(error)
