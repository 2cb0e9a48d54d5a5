"""Replies the client will not take whole: the size cap, bounded messages, unreadable creates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from runway_async import (
    AmbiguousSubmissionError,
    AsyncRunway,
    BadRequestError,
    InProcessLimiter,
    PollConfig,
    ResponseValidationError,
    SlotTimeoutError,
    TaskFailedError,
)
from runway_async._exceptions import MAX_MESSAGE_CHARS
from runway_async._requester import DEFAULT_MAX_RESPONSE_BYTES
from runway_async.emulator import Emulator

from .conftest import API_KEY, ScriptedServer, json_reply

IMAGE_PARAMS: dict[str, Any] = {
    "model": "gen4_image",
    "prompt_text": "a red fox",
    "ratio": "1920:1080",
}
IMAGE_BODY: dict[str, Any] = {
    "model": "gen4_image",
    "promptText": "a red fox",
    "ratio": "1920:1080",
}
CREATED_AT = "2025-01-01T00:00:00Z"


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Start a fast emulator for one test."""
    async with Emulator(time_scale=0.002, seed=5) as emu:
        yield emu


def client_for(url: str, **options: Any) -> AsyncRunway:
    options.setdefault("timeout", 5.0)
    return AsyncRunway(API_KEY, base_url=url, **options)


def endless_json() -> Any:
    """Return a handler that streams a JSON array without Content-Length until cut off."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b"[")
        try:
            for _ in range(10_000):  # 80 MB at most, far past any cap used here
                await response.write(b'"xxxxxx",' * 1000)
        except ConnectionError:
            pass  # the client stopped reading: the point of the test
        return response

    return handler


class TestResponseCap:
    """What is read of an API reply is capped by max_response_bytes."""

    async def test_oversized_read_reply_is_a_validation_error(self, emulator: Emulator) -> None:
        """A 200 over the cap raises ResponseValidationError naming the option, with its start."""
        emulator.faults.inject("oversized", route="organization", size=100_000)
        async with client_for(emulator.url, max_response_bytes=4096) as client:
            with pytest.raises(ResponseValidationError) as info:
                await client.organization.retrieve()
        message = str(info.value)
        assert "max_response_bytes=4096" in message
        assert "AsyncRunway(max_response_bytes=...)" in message
        assert isinstance(info.value.body, str)
        assert 0 < len(info.value.body) <= 4096
        assert info.value.body.startswith("{")

    async def test_reply_without_length_stops_being_read_at_the_cap(
        self, server: ScriptedServer
    ) -> None:
        """A chunked reply is read only up to the cap, not to its end (or to a timeout)."""
        server.reply(endless_json())
        async with client_for(server.url, max_response_bytes=64 * 1024) as client:
            with pytest.raises(ResponseValidationError) as info:
                await client.request("GET", "/v1/organization")
        assert len(info.value.body) <= 64 * 1024
        assert len(server.requests) == 1  # not retried: the same reply would come again

    async def test_oversized_create_reply_is_ambiguous(self, emulator: Emulator) -> None:
        """A 200 over the cap to a create is ambiguous: sent once, request body kept."""
        emulator.faults.inject("oversized", size=100_000)
        async with client_for(emulator.url, max_response_bytes=4096) as client:
            with pytest.raises(AmbiguousSubmissionError) as info:
                await client.text_to_image.create(**IMAGE_PARAMS)
        assert info.value.request_body == IMAGE_BODY
        assert info.value.status_code == 200
        assert isinstance(info.value.body, str)
        assert len(info.value.body) <= 4096
        assert "max_response_bytes=4096" in str(info.value)
        metrics = emulator.metrics()
        assert metrics["tasks_created_total"] == 1
        assert metrics["requests"]["POST /v1/text_to_image"] == {"200": 1}

    async def test_oversized_error_reply_keeps_its_status(self, emulator: Emulator) -> None:
        """A 400 over the cap is still a BadRequestError, with the start of its body."""
        emulator.faults.inject("oversized", status=400, size=100_000)
        async with client_for(emulator.url, max_response_bytes=4096) as client:
            with pytest.raises(BadRequestError) as info:
                await client.text_to_image.create(**IMAGE_PARAMS)
        assert isinstance(info.value.body, str)
        assert len(info.value.body) <= 4096
        assert "longer than max_response_bytes" in str(info.value)
        assert emulator.metrics()["tasks_created_total"] == 0

    async def test_default_cap(self, emulator: Emulator) -> None:
        """By default replies up to 8 MiB are read and a longer one is refused."""
        async with client_for(emulator.url) as client:
            assert client._core.requester.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
            assert DEFAULT_MAX_RESPONSE_BYTES == 8 * 1024 * 1024
            emulator.faults.inject("oversized", route="organization", size=1024 * 1024)
            await client.organization.retrieve()
            emulator.faults.inject(
                "oversized", route="organization", size=DEFAULT_MAX_RESPONSE_BYTES + 1
            )
            with pytest.raises(ResponseValidationError):
                await client.organization.retrieve()

    async def test_with_options_sets_the_cap(self, emulator: Emulator) -> None:
        """with_options(max_response_bytes=...) changes the cap of the copy only."""
        async with client_for(emulator.url) as client:
            small = client.with_options(max_response_bytes=2048)
            emulator.faults.inject("oversized", route="organization", size=10_000, count=2)
            with pytest.raises(ResponseValidationError):
                await small.organization.retrieve()
            await client.organization.retrieve()
            assert client.with_options(timeout=3)._core.requester.max_response_bytes == (
                DEFAULT_MAX_RESPONSE_BYTES
            )

    @pytest.mark.parametrize("value", [0, -1, 1.5, True, "8"])
    def test_invalid_cap_is_refused(self, value: Any) -> None:
        """max_response_bytes must be an integer >= 1."""
        with pytest.raises(ValueError, match="max_response_bytes"):
            AsyncRunway(API_KEY, base_url="http://127.0.0.1:9", max_response_bytes=value)
        client = AsyncRunway(API_KEY, base_url="http://127.0.0.1:9")
        with pytest.raises(ValueError, match="max_response_bytes"):
            client.with_options(max_response_bytes=value)


class TestBoundedMessages:
    """Exception messages built from server data stay short; the data stays on the exception."""

    async def test_failed_task_message_is_bounded(self, server: ScriptedServer) -> None:
        """A FAILED task with a 100 kB failure gives a short message; .failure has it all."""
        failure = "boom " * 20_000
        server.reply(
            json_reply(
                {
                    "id": "t-1",
                    "status": "FAILED",
                    "createdAt": CREATED_AT,
                    "failure": failure,
                    "failureCode": "INTERNAL",
                }
            )
        )
        async with client_for(server.url, poll=PollConfig(min_interval=0.01)) as client:
            with pytest.raises(TaskFailedError) as info:
                await client.tasks.wait("t-1", timeout=10)
        message = str(info.value)
        assert len(message) <= MAX_MESSAGE_CHARS + 100
        assert message.startswith("Task t-1 failed [INTERNAL]: boom boom")
        assert ".failure" in message
        assert info.value.failure == failure
        assert info.value.task_details is not None
        assert info.value.task_details.failure == failure  # type: ignore[union-attr]

    async def test_status_error_message_is_bounded(self, server: ScriptedServer) -> None:
        """A 400 whose error text is 100 kB gives a short message; .body has the full text."""
        text = "bad " * 25_000
        server.reply(json_reply({"error": text}, status=400))
        async with client_for(server.url) as client:
            with pytest.raises(BadRequestError) as info:
                await client.request("GET", "/v1/organization")
        assert len(str(info.value)) <= MAX_MESSAGE_CHARS + 100
        assert info.value.error == text

    async def test_validation_error_message_is_bounded(self, server: ScriptedServer) -> None:
        """A task reply with a huge invalid field gives a short message; .body has the reply."""
        data = {"id": "t-1", "status": "PENDING", "createdAt": "x" * 100_000}
        server.reply(json_reply(data))
        async with client_for(server.url) as client:
            with pytest.raises(ResponseValidationError) as info:
                await client.tasks.retrieve("t-1")
        assert len(str(info.value)) <= MAX_MESSAGE_CHARS + 100
        assert "see .body" in str(info.value)
        assert info.value.body == data


class TestUnreadableCreateReplies:
    """A create answered 2xx with a reply we cannot read is ambiguous: the task may exist."""

    @pytest.mark.parametrize(
        "reply",
        [
            {},
            {"id": 5},
            {"id": ""},
            [],
            "not a task",
            {"id": "t-1", "estimatedCost": "a lot"},
        ],
    )
    async def test_unparseable_reply_is_ambiguous(self, server: ScriptedServer, reply: Any) -> None:
        """No id, a wrong shape or plain text raises AmbiguousSubmissionError, sent once."""
        server.reply(json_reply(reply))
        async with client_for(server.url, max_concurrency=None) as client:
            with pytest.raises(AmbiguousSubmissionError) as info:
                await client.text_to_image.create(**IMAGE_PARAMS)
        assert len(server.requests) == 1
        assert info.value.request_body == IMAGE_BODY
        assert info.value.status_code == 200
        assert info.value.body == reply
        assert isinstance(info.value.__cause__, ResponseValidationError)

    async def test_empty_reply_is_ambiguous(self, server: ScriptedServer) -> None:
        """An empty 200 to a create is ambiguous too."""

        async def empty(_request: web.Request) -> web.StreamResponse:
            return web.Response(status=200)

        server.reply(empty)
        async with client_for(server.url, max_concurrency=None) as client:
            with pytest.raises(AmbiguousSubmissionError) as info:
                await client.text_to_image.create(**IMAGE_PARAMS)
        assert info.value.body is None
        assert len(server.requests) == 1

    async def test_routed_create_with_a_bad_reply_is_ambiguous(
        self, server: ScriptedServer
    ) -> None:
        """A generate.* create whose reply lacks its id is ambiguous as well."""
        server.reply(json_reply({"routing": {}}))
        async with client_for(server.url, max_concurrency=None) as client:
            with pytest.raises(AmbiguousSubmissionError):
                await client.generate.video.create(
                    config_id="my-router", input={"prompt_text": "a dog"}
                )
        assert len(server.requests) == 1

    @pytest.mark.parametrize("kind", ["not_json", "truncated", "not_http"])
    async def test_emulated_garbled_reply_is_ambiguous(self, emulator: Emulator, kind: str) -> None:
        """A garbled reply to a processed create is ambiguous and not re-sent; the task exists."""
        emulator.faults.inject(kind)
        async with client_for(emulator.url) as client:
            with pytest.raises(AmbiguousSubmissionError) as info:
                await client.text_to_image.create(**IMAGE_PARAMS)
        assert info.value.request_body == IMAGE_BODY
        metrics = emulator.metrics()
        assert metrics["tasks_created_total"] == 1
        assert sum(metrics["requests"]["POST /v1/text_to_image"].values()) == 1

    async def test_slot_stays_taken_after_an_unreadable_reply(self, emulator: Emulator) -> None:
        """The slot of a create with an unreadable reply is held, as for any ambiguous create."""
        emulator.faults.inject("not_json")
        async with client_for(
            emulator.url,
            max_concurrency=1,
            slot_timeout=0,
            limiter=InProcessLimiter(),
            poll=PollConfig(min_interval=10),
        ) as client:
            with pytest.raises(AmbiguousSubmissionError):
                await client.text_to_image.create(**IMAGE_PARAMS)
            with pytest.raises(SlotTimeoutError):
                await client.text_to_image.create(**IMAGE_PARAMS)
        assert emulator.metrics()["tasks_created_total"] == 1


class TestRetrieveChecksTheId:
    """tasks.retrieve(id) accepts only a reply about that task."""

    async def test_reply_about_another_task_is_refused(self, server: ScriptedServer) -> None:
        """A reply whose id is another task's raises ResponseValidationError with the body."""
        other = {"id": "t-other", "status": "PENDING", "createdAt": CREATED_AT}
        server.reply(json_reply(other))
        async with client_for(server.url) as client:
            with pytest.raises(ResponseValidationError) as info:
                await client.tasks.retrieve("t-x")
        assert info.value.body == other
        assert "t-other" in str(info.value)

    async def test_reply_about_the_task_is_accepted(self, server: ScriptedServer) -> None:
        """A reply with the asked id is returned as the task."""
        server.reply(json_reply({"id": "t-x", "status": "PENDING", "createdAt": CREATED_AT}))
        async with client_for(server.url) as client:
            task = await client.tasks.retrieve("t-x")
        assert task.id == "t-x"
