"""Raw responses: ``with_raw_response``, ``with_streaming_response``, ``APIStatusError.response``.

Against the emulator over loopback (creates, retrieves, lists, deletes, nested namespaces,
the sync twins) and a scripted loopback server for what the emulator cannot be made to say
(request ids, a retried 429, a body held back until the test lets it go).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

import runway_async
from runway_async import (
    APIConnectionError,
    APIResponse,
    AsyncAPIResponse,
    AsyncRunway,
    CursorPage,
    HTTPResponse,
    NotFoundError,
    PollConfig,
    RateLimitError,
    Runway,
    StreamAlreadyConsumed,
    SucceededTask,
    TaskHandle,
)
from runway_async._client import core_of
from runway_async._http import Request, Response
from runway_async._raw import raw_call
from runway_async._sync import SyncCursorPage
from runway_async._sync import TaskHandle as SyncTaskHandle
from runway_async._transport import AiohttpTransport
from runway_async.emulator import Emulator

from .conftest import ScriptedServer, drop_connection, json_reply
from .engine.conftest import IMAGE, new_key

MISSING = "00000000-0000-0000-0000-000000000000"
TASK_ID = "11111111-1111-4111-8111-111111111111"
TASK = {"id": TASK_ID, "status": "PENDING", "createdAt": "2025-01-01T00:00:00Z"}
DEADLINE = 10.0  # a safety net for a wrong implementation, never a timing verdict


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Start a fast emulator for one test."""
    async with Emulator(time_scale=0.004, seed=5) as emu:
        yield emu


@pytest_asyncio.fixture
async def client(emulator: Emulator) -> AsyncIterator[AsyncRunway]:
    """Return our client on the emulator, with a key (and so a limiter) of its own."""
    async with AsyncRunway(
        new_key(), base_url=emulator.url, poll=PollConfig(interval=0.005), timeout=5.0
    ) as runway:
        yield runway


def scripted_client(server: ScriptedServer, **options: Any) -> AsyncRunway:
    """Return a client of the scripted server."""
    options.setdefault("timeout", 5.0)
    return AsyncRunway(new_key(), base_url=server.url, **options)


def assert_no_key(text: str, key: str) -> None:
    """Assert that ``text`` holds no part of the API key."""
    assert key not in text
    assert key[4:20] not in text


class TestRawCreate:
    """``with_raw_response`` on a create: the reply, and the handle the engine watches."""

    async def test_the_official_readme_snippet_runs(self, client: AsyncRunway) -> None:
        """The official README's raw-response snippet runs with only the import switched."""
        response = await client.image_to_video.with_raw_response.create(
            model="gen4_turbo",
            prompt_image="https://example.com/cat.png",
            prompt_text="A cat walks",
            ratio="1280:720",
        )
        assert response.headers.get("x-request-id") is None  # the emulator sends none
        task = await response.parse()
        assert isinstance(task, TaskHandle)
        output = await task.wait_for_task_output()
        assert output.status == "SUCCEEDED"

    async def test_the_reply_is_described(self, client: AsyncRunway) -> None:
        """Status, headers, request (without the key), URL, method, timing and version."""
        response = await client.text_to_image.with_raw_response.create(**IMAGE)
        assert isinstance(response, AsyncAPIResponse)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.method == "POST" == response.http_request.method
        assert response.url == f"{client.base_url}/v1/text_to_image"
        assert response.http_request.headers["x-runway-version"]
        assert "authorization" not in response.http_request.headers
        assert isinstance(response.elapsed, dt.timedelta)
        assert response.elapsed >= dt.timedelta(0)
        assert response.http_version == "HTTP/1.1"
        assert response.retries_taken == 0
        assert response.is_closed
        assert (await response.json())["id"] == (await response.parse()).id
        assert json.loads(await response.text()) == await response.json()

    async def test_the_handle_is_watched_and_its_slot_counted(self, client: AsyncRunway) -> None:
        """The raw create took a concurrency slot and registered its task with the watcher."""
        response = await client.text_to_image.with_raw_response.create(**IMAGE)
        handle = await response.parse()
        assert client.limiter.in_use("gen4_image") == 1
        assert core_of(client).watcher().tracked == 1
        task = await handle.wait_for_task_output()
        assert isinstance(task, SucceededTask)
        assert client.limiter.in_use("gen4_image") == 0

    async def test_the_resource_placement_works_too(self, client: AsyncRunway) -> None:
        """``client.with_raw_response.<resource>`` and ``client.<resource>.with_raw_response``."""
        first = await client.with_raw_response.text_to_image.create(**IMAGE)
        second = await client.text_to_image.with_raw_response.create(**IMAGE)
        assert first.url == second.url
        assert (await first.parse()).id != (await second.parse()).id

    async def test_nested_namespaces(self, client: AsyncRunway) -> None:
        """generate.video and organization.webapp.audit_logs are reached through the wrapper."""
        await client.routers.create(slug="gen")
        video = await client.with_raw_response.generate.video.create(
            config_id="gen", input={"prompt_text": "a fox runs"}
        )
        assert video.url.endswith("/v1/generate/video")
        assert isinstance(await video.parse(), TaskHandle)
        logs = await client.with_raw_response.organization.webapp.audit_logs.list(limit=2)
        assert logs.url.endswith("/v1/organization/webapp/audit_logs?limit=2")
        assert isinstance(await logs.parse(), CursorPage)


class TestRawPlainCalls:
    """``with_raw_response`` on retrieves, lists and deletes."""

    async def test_retrieve(self, client: AsyncRunway) -> None:
        """parse() gives the task, bound to the client, the body its wire form."""
        handle = await client.text_to_image.create(**IMAGE)
        response = await client.with_raw_response.tasks.retrieve(handle.id)
        task = await response.parse()
        assert task.id == handle.id
        assert (await response.json())["id"] == handle.id
        assert response.url.endswith(f"/v1/tasks/{handle.id}")
        assert (await task.wait_for_task_output()).status == "SUCCEEDED"

    async def test_list_gives_the_first_page(self, client: AsyncRunway) -> None:
        """A list's parse() is the first page; its next pages do not change the response."""
        response = await client.organization.webapp.audit_logs.with_raw_response.list(limit=1)
        page = await response.parse()
        assert isinstance(page, CursorPage)
        assert len(page.data) == 1
        assert page.has_next_page()
        url = response.url
        later = await page.get_next_page()
        assert later.data != page.data
        assert response.url == url  # the later page was not recorded into this response

    async def test_delete(self, client: AsyncRunway) -> None:
        """A delete's parse() is None, as the call's; the reply is the DELETE's."""
        handle = await client.text_to_image.create(**IMAGE)
        response = await client.with_raw_response.tasks.delete(handle.id)
        assert await response.parse() is None
        assert response.method == "DELETE"
        assert 200 <= response.status_code < 300

    async def test_helpers_are_not_offered(self, client: AsyncRunway) -> None:
        """wait, events, download and batch raise AttributeError naming the way to call them."""
        for owner, name in (
            (client.with_raw_response.tasks, "wait"),
            (client.tasks.with_raw_response, "events"),
            (client.with_raw_response, "download"),
            (client.with_raw_response, "batch"),
        ):
            with pytest.raises(AttributeError, match="is not an API call"):
                getattr(owner, name)
        with pytest.raises(AttributeError):
            client.with_raw_response.no_such_namespace  # noqa: B018

    async def test_dir_lists_namespaces_and_calls(self, client: AsyncRunway) -> None:
        """dir() shows the namespaces and API calls, not the helpers."""
        names = dir(client.with_raw_response)
        assert {"tasks", "image_to_video", "generate", "organization"} <= set(names)
        assert "download" not in names
        assert dir(client.with_raw_response.tasks) == ["delete", "retrieve"]

    async def test_a_refused_parameter_raises_before_sending(self, client: AsyncRunway) -> None:
        """Validation runs as in the plain call: nothing is sent, nothing is recorded."""
        with pytest.raises(runway_async.InvalidRequestError):
            await client.with_raw_response.text_to_image.create(**{**IMAGE, "ratio": "1:1"})
        with pytest.raises(TypeError, match="extra_body"):
            await client.with_raw_response.text_to_image.create(**IMAGE, promptTxt="x")


class TestStatusErrors:
    """``APIStatusError.response``: the error reply, without credentials."""

    async def test_the_error_carries_its_reply(self, client: AsyncRunway) -> None:
        """status_code, headers, text and json() of the 404, with or without raw responses."""
        for call in (client.tasks.retrieve, client.with_raw_response.tasks.retrieve):
            with pytest.raises(NotFoundError) as caught:
                await call(MISSING)
            response = caught.value.response
            assert isinstance(response, HTTPResponse)
            assert response.status_code == 404
            assert response.reason_phrase == "Not Found"
            assert response.headers["content-type"].startswith("application/json")
            assert response.json() == caught.value.body
            assert MISSING in response.text
            assert response.request.method == "GET"
            assert response.url.endswith(f"/v1/tasks/{MISSING}")

    async def test_the_key_is_nowhere_in_it(self, emulator: Emulator) -> None:
        """Neither the reply's repr, its request's headers nor its text show the API key."""
        key = new_key()
        async with AsyncRunway(key, base_url=emulator.url, timeout=5.0) as client:
            with pytest.raises(NotFoundError) as caught:
                await client.tasks.retrieve(MISSING, extra_headers={"X-Trace": "t"})
        response = caught.value.response
        for text in (
            repr(response),
            repr(response.request),
            repr(dict(response.request.headers)),
            response.text,
            repr(caught.value),
        ):
            assert_no_key(text, key)
        assert response.request.headers["x-trace"] == "t"

    async def test_a_streamed_call_raises_on_entry(self, client: AsyncRunway) -> None:
        """with_streaming_response raises the error status when entered, as the official SDK."""
        context = client.with_streaming_response.tasks.retrieve(MISSING)
        with pytest.raises(NotFoundError) as caught:
            async with context:
                pytest.fail("entered despite the 404")
        assert caught.value.response.status_code == 404


class TestScriptedReplies:
    """What the emulator does not send: request ids, retried statuses."""

    async def test_the_request_id_and_the_final_attempt(self, server: ScriptedServer) -> None:
        """A retried 429 is not the raw response: the final 200 is, with its request id."""
        server.reply(
            json_reply({"error": "slow down"}, 429, {"x-request-id": "req-1"}),
            json_reply(TASK, 200, {"X-Request-Id": "req-2"}),
        )
        async with scripted_client(server) as client:
            response = await client.with_raw_response.tasks.retrieve(TASK_ID)
        assert response.status_code == 200
        assert response.request_id == "req-2" == response.headers.get("x-request-id")
        assert response.retries_taken == 1
        assert (await response.parse()).id == TASK_ID

    async def test_an_exhausted_retry_carries_the_last_reply(self, server: ScriptedServer) -> None:
        """The RateLimitError raised after the retries holds the last 429 as its response."""
        server.reply(json_reply({"error": "slow down"}, 429, {"x-request-id": "req-9"}))
        async with scripted_client(server, max_retries=1) as client:
            with pytest.raises(RateLimitError) as caught:
                await client.with_raw_response.tasks.retrieve(TASK_ID)
        assert caught.value.response.request_id == "req-9"
        assert caught.value.response.json() == {"error": "slow down"}

    async def test_records_of_other_tasks_are_ignored(self, server: ScriptedServer) -> None:
        """A task spawned during a raw call inherits its recorder but does not record."""
        other = {**TASK, "id": "22222222-2222-4222-8222-222222222222"}
        server.reply(json_reply(TASK), json_reply(other))
        async with scripted_client(server) as client:

            async def call() -> str:
                task = await client.tasks.retrieve(TASK_ID)
                # Created inside the raw call: it starts with the call's context, recorder
                # included, and its request comes after the call's own.
                spawned = await asyncio.create_task(client.tasks.retrieve(other["id"]))
                assert spawned.id == other["id"]
                return task.id

            response = await raw_call(call, (), {})
        assert response.url.endswith(f"/v1/tasks/{TASK_ID}")
        assert await response.parse() == TASK_ID
        assert len(server.requests) == 2


def held_body(first: bytes, rest: bytes, gate: asyncio.Event) -> Any:
    """Return a handler sending the headers and ``first``, then ``rest`` once ``gate`` is set."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "application/json", "x-request-id": "held"}
        )
        await response.prepare(request)
        await response.write(first)
        await gate.wait()
        await response.write(rest)
        await response.write_eof()
        return response

    return handler


class TestStreaming:
    """``with_streaming_response``: the body is read only when asked for."""

    async def test_the_body_is_not_read_until_asked(self, server: ScriptedServer) -> None:
        """Entering returns with the headers while the server still holds the body back."""
        body = json.dumps(TASK).encode()
        gate = asyncio.Event()
        server.reply(held_body(body[:10], body[10:], gate))
        async with scripted_client(server) as client:
            context = client.with_streaming_response.tasks.retrieve(TASK_ID)
            response = await asyncio.wait_for(context.__aenter__(), DEADLINE)
            try:
                assert response.status_code == 200
                assert response.request_id == "held"
                assert not response.http_response.is_read
                assert not response.is_closed
                gate.set()
                task = await asyncio.wait_for(response.parse(), DEADLINE)
                assert task.id == TASK_ID
                assert await response.read() == body
                assert response.http_response.is_read
            finally:
                await context.__aexit__(None, None, None)
            assert response.is_closed

    async def test_iter_bytes_streams_as_the_body_comes(self, server: ScriptedServer) -> None:
        """The first chunk arrives before the rest is sent; parse() is then refused."""
        body = json.dumps(TASK).encode()
        gate = asyncio.Event()
        server.reply(held_body(body[:10], body[10:], gate))
        async with (
            scripted_client(server) as client,
            client.with_streaming_response.tasks.retrieve(TASK_ID) as response,
        ):
            chunks = response.iter_bytes()
            first = await asyncio.wait_for(chunks.__anext__(), DEADLINE)
            assert first == body[:10]
            gate.set()
            rest = b"".join([chunk async for chunk in chunks])
            assert first + rest == body
            with pytest.raises(StreamAlreadyConsumed):
                await response.parse()
            with pytest.raises(StreamAlreadyConsumed):
                await response.read()

    async def test_leaving_unread_releases_the_call(self, server: ScriptedServer) -> None:
        """Leaving the context without reading ends the call; the client goes on working."""
        gate = asyncio.Event()
        body = json.dumps(TASK).encode()
        server.reply(held_body(body[:5], body[5:], gate), json_reply(TASK))
        async with scripted_client(server) as client:
            async with client.with_streaming_response.tasks.retrieve(TASK_ID) as response:
                assert not response.http_response.is_read
            assert response.is_closed
            with pytest.raises(StreamAlreadyConsumed):
                await response.parse()
            gate.set()
            assert (await client.tasks.retrieve(TASK_ID)).id == TASK_ID

    async def test_a_broken_connection_raises_ours(self, server: ScriptedServer) -> None:
        """A connection dropped before the reply raises APIConnectionError on entering."""
        server.reply(drop_connection())
        async with scripted_client(server, max_retries=0) as client:
            with pytest.raises(APIConnectionError) as caught:
                async with client.with_streaming_response.tasks.retrieve(TASK_ID):
                    pytest.fail("entered without a reply")
        assert caught.value.__cause__ is None  # aiohttp's error is never chained

    async def test_lines_and_text(self, client: AsyncRunway) -> None:
        """iter_lines() and text() give the body as text."""
        handle = await client.text_to_image.create(**IMAGE)
        async with client.tasks.with_streaming_response.retrieve(handle.id) as response:
            lines = [line async for line in response.iter_lines()]
        assert json.loads("".join(lines))["id"] == handle.id
        async with client.with_streaming_response.tasks.retrieve(handle.id) as response:
            assert json.loads(await response.text())["id"] == handle.id
            assert (await response.parse()).id == handle.id

    async def test_a_create_is_read_and_registered_at_once(self, client: AsyncRunway) -> None:
        """A streamed create reads its reply at once; left unparsed, its task is still watched."""
        async with client.with_streaming_response.text_to_image.create(**IMAGE) as response:
            assert response.http_response.is_read
            created = await response.json()
        assert client.limiter.in_use("gen4_image") == 1
        assert core_of(client).watcher().tracked == 1
        task = await client.tasks.wait(created["id"])
        assert task.status == "SUCCEEDED"
        assert client.limiter.in_use("gen4_image") == 0

    async def test_a_transport_without_open_reads_at_once(self, emulator: Emulator) -> None:
        """A transport of the user's own without ``open`` still serves streamed calls."""

        class SendOnly:
            def __init__(self) -> None:
                self.inner = AiohttpTransport()
                self.sent = 0

            @property
            def closed(self) -> bool:
                return self.inner.closed

            async def send(self, request: Request) -> Response:
                self.sent += 1
                return await self.inner.send(request)

            def stream(self, url: str, **options: Any) -> Any:
                return self.inner.stream(url, **options)

            async def aclose(self) -> None:
                await self.inner.aclose()

        transport = SendOnly()
        async with AsyncRunway(
            new_key(), base_url=emulator.url, transport=transport, timeout=5.0
        ) as client:
            handle = await client.text_to_image.create(**IMAGE)
            async with client.with_streaming_response.tasks.retrieve(handle.id) as response:
                assert response.http_response.is_read
                assert (await response.parse()).id == handle.id
        assert transport.sent >= 2


@pytest.fixture
def sync_emulator() -> Iterator[Emulator]:
    """Run an emulator in its own thread, for the sync client."""
    with Emulator(time_scale=0.004, seed=5).in_thread() as emu:
        yield emu


@pytest.fixture
def sync_client(sync_emulator: Emulator) -> Iterator[Runway]:
    """Return a sync client of the threaded emulator."""
    with Runway(
        new_key(), base_url=sync_emulator.url, poll=PollConfig(interval=0.005), timeout=5.0
    ) as runway:
        yield runway


class TestSyncTwins:
    """The sync client's ``with_raw_response`` and ``with_streaming_response``."""

    def test_a_raw_create_gives_a_sync_handle(self, sync_client: Runway) -> None:
        """parse() returns the sync TaskHandle, which waits without await."""
        response = sync_client.image_to_video.with_raw_response.create(
            model="gen4_turbo",
            prompt_image="https://example.com/cat.png",
            prompt_text="A cat walks",
            ratio="1280:720",
        )
        assert isinstance(response, APIResponse)
        assert response.status_code == 200
        assert response.headers.get("x-request-id") is None
        handle = response.parse()
        assert isinstance(handle, SyncTaskHandle)
        assert handle.wait_for_task_output().status == "SUCCEEDED"

    def test_retrieve_and_list(self, sync_client: Runway) -> None:
        """A retrieve parses to the sync task, a list to the sync first page."""
        handle = sync_client.text_to_image.create(**IMAGE)
        response = sync_client.with_raw_response.tasks.retrieve(handle.id)
        assert response.json()["id"] == handle.id
        assert response.parse().id == handle.id
        page = sync_client.with_raw_response.organization.webapp.audit_logs.list(limit=1)
        assert isinstance(page.parse(), SyncCursorPage)

    def test_streaming_and_errors(self, sync_client: Runway) -> None:
        """A sync streaming context reads on demand; an error status raises with .response."""
        handle = sync_client.text_to_image.create(**IMAGE)
        with sync_client.tasks.with_streaming_response.retrieve(handle.id) as response:
            assert not response.http_response.is_read
            assert response.parse().id == handle.id
        with pytest.raises(NotFoundError) as caught:
            sync_client.with_raw_response.tasks.retrieve(MISSING)
        assert caught.value.response.status_code == 404
        with pytest.raises(AttributeError, match="is not an API call"):
            sync_client.with_raw_response.tasks.wait  # noqa: B018
