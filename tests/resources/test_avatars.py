"""``client.avatars`` through our async client.

Against the stateful emulator (CRUD, waiting to READY, a failed avatar, pagination, usage)
and, for what the emulator cannot be made to say (unknown statuses and fields, a reply about
another avatar), a scripted loopback server. Also: the method signatures of the five
namespaces of this part of the API (avatars, conversations, sessions, documents, voices)
match the official SDK's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from typing import Any

import pytest
import runwayml
from runwayml.resources.avatar_conversations import AsyncAvatarConversationsResource
from runwayml.resources.avatars import AsyncAvatarsResource
from runwayml.resources.documents import AsyncDocumentsResource
from runwayml.resources.realtime_sessions import AsyncRealtimeSessionsResource
from runwayml.resources.voices import AsyncVoicesResource

from runway_async import (
    AsyncRunway,
    AvatarCustomVoice,
    AvatarPresetVoice,
    AvatarUsage,
    FailedAvatar,
    InvalidRequestError,
    NotFoundError,
    PollConfig,
    ProcessingAvatar,
    ReadyAvatar,
    ResourceFailedError,
    ResponseValidationError,
    TaskTimeoutError,
    UnknownAvatar,
    UnknownAvatarVoice,
)
from runway_async.emulator import Emulator, EmulatorConfig
from runway_async.types import RunwayLivePresetVoice

from ..conftest import API_KEY, ScriptedServer, json_reply
from .conftest import TIME_SCALE

IMAGE = "https://example.com/face.png"
PRESET: RunwayLivePresetVoice = {"type": "runway-live-preset", "preset_id": "victoria"}
STAMP = "2025-01-01T00:00:00Z"


def avatar_body(status: str, **fields: Any) -> dict[str, Any]:
    """Return an avatar as the API sends it."""
    body: dict[str, Any] = {
        "id": "av1",
        "status": status,
        "name": "Ada",
        "personality": "Helpful.",
        "startScript": None,
        "voice": {
            "type": "runway-live-preset",
            "presetId": "victoria",
            "name": "Victoria",
            "description": "Warm.",
        },
        "documentIds": [],
        "referenceImageUri": None,
        "processedImageUri": None,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    body.update(fields)
    return body


async def make_avatar(client: AsyncRunway, name: str = "Ada", image: str = IMAGE) -> str:
    avatar = await client.avatars.create(
        name=name, personality="Helpful and brief.", reference_image=image, voice=PRESET
    )
    return avatar.id


class TestCrud:
    """Create, retrieve, update, list and delete on the emulator."""

    async def test_create_then_retrieve(self, client: AsyncRunway) -> None:
        """A new avatar is PROCESSING, with its voice typed, and reads back the same."""
        document = await client.documents.create(content="Opening hours: 9-5.", name="Hours")
        created = await client.avatars.create(
            name="Ada",
            personality="Helpful and brief.",
            reference_image=IMAGE,
            voice=PRESET,
            document_ids=[document.id],
            image_processing="none",
            start_script="Hello!",
        )
        assert isinstance(created, ProcessingAvatar)
        assert isinstance(created.voice, AvatarPresetVoice)
        assert created.voice.preset_id == "victoria"
        assert created.document_ids == (document.id,)
        assert created.start_script == "Hello!"
        assert created.created_at.tzinfo is not None
        got = await client.avatars.retrieve(created.id)
        assert got.id == created.id
        assert isinstance(got, (ProcessingAvatar, ReadyAvatar))
        assert got.name == "Ada"

    async def test_update_changes_fields_and_none_clears_start_script(
        self, client: AsyncRunway
    ) -> None:
        """update() returns the changed avatar; start_script=None clears the line."""
        created = await client.avatars.create(
            name="Ada",
            personality="Helpful.",
            reference_image=IMAGE,
            voice=PRESET,
            start_script="Hello!",
        )
        renamed = await client.avatars.update(created.id, name="Grace")
        assert isinstance(renamed, (ProcessingAvatar, ReadyAvatar))
        assert renamed.name == "Grace"
        assert renamed.start_script == "Hello!"  # left out: kept
        cleared = await client.avatars.update(created.id, start_script=None)
        assert isinstance(cleared, (ProcessingAvatar, ReadyAvatar))
        assert cleared.start_script is None
        assert (await client.avatars.retrieve(created.id)).name == "Grace"

    async def test_custom_voice(self, client: AsyncRunway) -> None:
        """An avatar can speak with a custom voice, reported as AvatarCustomVoice."""
        voice = await client.voices.create(
            from_={"type": "text", "model": "eleven_ttv_v3", "prompt": "A calm, low narrator."},
            name="Narrator",
        )
        await client.voices.wait(voice.id)
        created = await client.avatars.create(
            name="Ada",
            personality="Helpful.",
            reference_image=IMAGE,
            voice={"type": "custom", "id": voice.id},
        )
        assert isinstance(created, ProcessingAvatar)
        assert isinstance(created.voice, AvatarCustomVoice)
        assert created.voice.id == voice.id
        assert created.voice.deleted is False

    async def test_delete_then_404(self, client: AsyncRunway) -> None:
        """A deleted avatar answers 404, to retrieve and to a second delete."""
        avatar_id = await make_avatar(client)
        await client.avatars.delete(avatar_id)
        with pytest.raises(NotFoundError):
            await client.avatars.retrieve(avatar_id)
        with pytest.raises(NotFoundError):
            await client.avatars.delete(avatar_id)

    async def test_unknown_id_is_not_found(self, client: AsyncRunway) -> None:
        """An id that never existed answers NotFoundError."""
        with pytest.raises(NotFoundError):
            await client.avatars.retrieve("no-such-avatar")

    async def test_usage_has_one_entry_per_day(self, client: AsyncRunway) -> None:
        """get_usage takes datetimes or ISO strings and lists every day, empty ones too."""
        usage = await client.avatars.get_usage(
            start_date=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc),
            end_date="2025-03-04T00:00:00Z",
        )
        assert isinstance(usage, AvatarUsage)
        assert [day.date for day in usage.by_day] == [
            dt.date(2025, 3, 1),
            dt.date(2025, 3, 2),
            dt.date(2025, 3, 3),
        ]
        assert usage.total_sessions == 0


class TestWait:
    """wait() follows an avatar through the watcher."""

    async def test_wait_returns_the_ready_avatar(self, client: AsyncRunway) -> None:
        """The wait ends with a ReadyAvatar, which retrieve then confirms."""
        avatar_id = await make_avatar(client)
        ready = await client.avatars.wait(avatar_id)
        assert isinstance(ready, ReadyAvatar)
        assert ready.id == avatar_id
        assert isinstance(await client.avatars.retrieve(avatar_id), ReadyAvatar)

    async def test_failed_avatar_raises(self, client: AsyncRunway) -> None:
        """An avatar whose processing FAILED raises ResourceFailedError with its reason."""
        avatar_id = await make_avatar(client, image="https://example.com/fail.png")
        with pytest.raises(ResourceFailedError) as info:
            await client.avatars.wait(avatar_id)
        assert isinstance(info.value.resource, FailedAvatar)
        assert info.value.failure == info.value.resource.failure_reason
        assert info.value.failure
        assert avatar_id in str(info.value)

    async def test_concurrent_waits_share_the_result(self, client: AsyncRunway) -> None:
        """Several waits on one avatar all get the READY avatar."""
        avatar_id = await make_avatar(client)
        results = await asyncio.gather(*(client.avatars.wait(avatar_id) for _ in range(3)))
        assert {type(r) for r in results} == {ReadyAvatar}
        assert {r.id for r in results} == {avatar_id}

    async def test_deadline(self) -> None:
        """A wait shorter than the processing raises TaskTimeoutError with the avatar seen."""
        config = EmulatorConfig(time_scale=TIME_SCALE, avatar_seconds=10_000.0)
        async with (
            Emulator.from_config(config) as emu,
            AsyncRunway(API_KEY, base_url=emu.url, poll=PollConfig(interval=0.005)) as client,
        ):
            avatar_id = await make_avatar(client)
            with pytest.raises(TaskTimeoutError) as info:
                await client.avatars.wait(avatar_id, timeout=0.05)
        assert isinstance(info.value.task_details, ProcessingAvatar)

    async def test_wait_after_a_new_image_waits_again(self, client: AsyncRunway) -> None:
        """A new reference image makes the avatar PROCESSING; a new wait sees that."""
        avatar_id = await make_avatar(client)
        await client.avatars.wait(avatar_id)
        changed = await client.avatars.update(
            avatar_id, reference_image="https://example.com/other.png"
        )
        assert isinstance(changed, ProcessingAvatar)
        waited = await client.avatars.wait(avatar_id)
        assert waited.updated_at == changed.updated_at

    async def test_wait_for_a_missing_avatar(self, client: AsyncRunway) -> None:
        """Waiting for an avatar that does not exist raises NotFoundError."""
        with pytest.raises(NotFoundError):
            await client.avatars.wait("no-such-avatar", timeout=5)


class TestPagination:
    """list() pages through avatars, awaited page by page or iterated."""

    async def test_three_pages(self, client: AsyncRunway) -> None:
        """Five avatars at two per page: three pages, newest first, no repeats."""
        made = [await make_avatar(client, name=f"Ada {n}") for n in range(5)]
        first = await client.avatars.list(limit=2)
        assert len(first.data) == 2
        assert first.has_next_page()
        second = await first.get_next_page()
        assert second.has_next_page()
        third = await second.get_next_page()
        assert not third.has_next_page()
        paged = [a.id for page in (first, second, third) for a in page.data]
        assert paged == made[::-1]
        iterated = [avatar.id async for avatar in client.avatars.list(limit=2)]
        assert iterated == paged

    async def test_start_at_a_cursor(self, client: AsyncRunway) -> None:
        """cursor= starts the listing at a later page."""
        for n in range(3):
            await make_avatar(client, name=f"Ada {n}")
        first = await client.avatars.list(limit=2)
        assert first.next_cursor is not None
        later = await client.avatars.list(limit=2, cursor=first.next_cursor)
        assert [a.id for a in later.data] == [a.id for a in (await first.get_next_page()).data]


class TestValidation:
    """Invalid parameters are refused before anything is sent."""

    @pytest.mark.parametrize(
        ("call", "field"),
        [
            ({"voice": {"type": "runway-live-preset", "preset_id": "nobody"}}, "voice.preset_id"),
            ({"image_processing": "sharpen"}, "image_processing"),
        ],
    )
    async def test_bad_create(
        self, server: ScriptedServer, call: dict[str, Any], field: str
    ) -> None:
        """A bad enum raises InvalidRequestError naming the field; no request goes out."""
        server.reply(json_reply({}))
        params: dict[str, Any] = {
            "name": "Ada",
            "personality": "Helpful.",
            "reference_image": IMAGE,
            "voice": PRESET,
            **call,
        }
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(InvalidRequestError) as info:
                await client.avatars.create(**params)
        assert info.value.field == field
        assert server.requests == []

    async def test_update_needs_a_field(self, server: ScriptedServer) -> None:
        """An update that changes nothing is refused before sending."""
        server.reply(json_reply({}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(InvalidRequestError):
                await client.avatars.update("av1")
        assert server.requests == []


class TestWire:
    """What the scripted server says, and what was sent."""

    async def test_request_shape(self, server: ScriptedServer) -> None:
        """Nested keys go out in camelCase; start_script=None is sent as null."""
        server.reply(json_reply(avatar_body("READY")))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            await client.avatars.update("av1", start_script=None, voice=PRESET)
        sent = server.requests[0]
        assert (sent.method, sent.path) == ("PATCH", "/v1/avatars/av1")
        assert sent.json() == {
            "startScript": None,
            "voice": {"type": "runway-live-preset", "presetId": "victoria"},
        }

    async def test_unknown_status_voice_and_fields_are_kept(self, server: ScriptedServer) -> None:
        """A new status gives UnknownAvatar; new keys land in extra; a new voice type too."""
        server.reply(
            json_reply(avatar_body("ARCHIVED", archivedAt=STAMP)),
            json_reply(avatar_body("READY", voice={"type": "cloned", "x": 1}, mood="sunny")),
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            archived = await client.avatars.retrieve("av1")
            ready = await client.avatars.retrieve("av1")
        assert isinstance(archived, UnknownAvatar)
        assert archived.status == "ARCHIVED"
        assert archived.extra["archivedAt"] == STAMP
        assert archived.extra["voice"]["presetId"] == "victoria"
        assert isinstance(ready, ReadyAvatar)
        assert ready.extra == {"mood": "sunny"}
        assert ready.voice == UnknownAvatarVoice(type="cloned", extra={"x": 1})

    async def test_reply_about_another_avatar(self, server: ScriptedServer) -> None:
        """A reply whose id is not the one asked for is a ResponseValidationError."""
        server.reply(json_reply(avatar_body("READY", id="other")))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(ResponseValidationError, match="other"):
                await client.avatars.retrieve("av1")

    async def test_malformed_page(self, server: ScriptedServer) -> None:
        """A page item that is not an avatar is reported with its path."""
        server.reply(json_reply({"data": [{"id": "av1"}], "nextCursor": None}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(ResponseValidationError, match=r"\$\.data\[0\]\.status"):
                await client.avatars.list(limit=2)

    async def test_unknown_status_keeps_the_wait_polling(self, server: ScriptedServer) -> None:
        """An unknown status does not end a wait; the READY that follows does."""
        server.reply(
            json_reply(avatar_body("QUEUED_FOR_REVIEW")),
            json_reply(avatar_body("PROCESSING")),
            json_reply(avatar_body("READY")),
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            ready = await client.avatars.wait("av1", timeout=5)
        assert isinstance(ready, ReadyAvatar)
        assert len(server.requests) == 3


class TestOfficialSdk:
    """The official SDK and ours see the same avatars on the emulator."""

    async def test_official_create_our_wait(self, emulator: Emulator, client: AsyncRunway) -> None:
        """An avatar the official SDK creates is waited to READY by ours, and listed by both."""
        official = runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emulator.url)
        async with official:
            created = await official.avatars.create(
                name="Ada",
                personality="Helpful.",
                reference_image=IMAGE,
                voice={"type": "runway-live-preset", "preset_id": "victoria"},
            )
            ready = await client.avatars.wait(created.id)
            assert ready.name == "Ada"
            theirs = await official.avatars.retrieve(created.id)
            assert theirs.status == "READY"
            listed = [a.id async for a in official.avatars.list(limit=1)]
        assert listed == [created.id]


# The official SDK's per-request options, which our methods replace by client settings.
REQUEST_OPTIONS = ("extra_headers", "extra_query", "extra_body", "timeout")


@pytest.mark.parametrize(
    ("namespace", "official"),
    [
        ("avatars", AsyncAvatarsResource),
        ("avatar_conversations", AsyncAvatarConversationsResource),
        ("realtime_sessions", AsyncRealtimeSessionsResource),
        ("documents", AsyncDocumentsResource),
        ("voices", AsyncVoicesResource),
    ],
)
def test_signatures_match_the_official_sdk(namespace: str, official: type) -> None:
    """Every official method exists with the same parameter names and kinds, async alike."""
    ours = getattr(AsyncRunway(API_KEY), namespace)
    methods = [
        (name, fn)
        for name, fn in inspect.getmembers(official, inspect.isfunction)
        if not name.startswith(("_", "with_"))
    ]
    assert len(methods) >= 3
    for name, fn in methods:
        mine = getattr(ours, name)
        theirs = [
            (p.name, p.kind) for p in inspect.signature(fn).parameters.values() if p.name != "self"
        ]
        assert [(p.name, p.kind) for p in inspect.signature(mine).parameters.values()] == theirs
        assert [name for name, _kind in theirs][-4:] == list(REQUEST_OPTIONS)
        assert inspect.iscoroutinefunction(mine) == inspect.iscoroutinefunction(fn), name
