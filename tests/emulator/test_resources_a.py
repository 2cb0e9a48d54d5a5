"""The emulator's uploads, avatars, conversations, realtime sessions, documents and voices.

Driven with the official ``runwayml`` SDK (its models check every reply's shape) and with raw
HTTP where the SDK cannot go: the presigned storage POST with a bad form, an oversized or a
chunked body, and the session-consume stand-in.
"""

from __future__ import annotations

import hashlib
import io
import wave
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
import pytest_asyncio

from runway_async.emulator import Emulator, EmulatorConfig

from ..conftest import API_KEY
from .conftest import HEADERS, FakeClock

runwayml = pytest.importorskip("runwayml")

pytestmark = pytest.mark.asyncio

OTHER_KEY = "key_" + "cd" * 64
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
CONFIG = EmulatorConfig(
    jitter=0.0,
    avatar_seconds=5.0,
    voice_seconds=3.0,
    session_ready_seconds=2.0,
    session_seconds=30.0,
)
AVATAR: dict[str, Any] = {
    "name": "Ada",
    "personality": "You are a patient support agent.",
    "reference_image": "https://example.com/ada.png",
    "voice": {"type": "runway-live-preset", "preset_id": "clara"},
}


class WallClock:
    """A UTC clock that moves one second per reading, so every timestamp differs."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@attrs.define
class Env:
    """A started emulator on a hand-driven clock, the official client and a raw session."""

    emu: Emulator
    clock: FakeClock
    client: Any
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.emu.url

    async def raw(
        self,
        method: str,
        path: str,
        *,
        key: str = API_KEY,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send one API request with ``key``; return the status and parsed JSON (or None)."""
        headers = {**HEADERS, "Authorization": f"Bearer {key}"}
        async with self.http.request(
            method, self.url + path, headers=headers, json=json, params=params
        ) as response:
            body = await response.read()
            return response.status, (await response.json() if body else None)

    async def get_bytes(self, url: str) -> tuple[int, str, bytes]:
        async with self.http.get(url) as response:
            return response.status, response.content_type, await response.read()


@pytest_asyncio.fixture
async def env() -> AsyncIterator[Env]:
    """Start an emulator whose simulated time moves only with ``env.clock.tick``."""
    clock = FakeClock()
    emu = Emulator.from_config(CONFIG, clock=clock, wall_clock=WallClock())
    async with (
        emu,
        runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as client,
        aiohttp.ClientSession() as http,
    ):
        yield Env(emu, clock, client, http)


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG_BYTES)
    return path


def i2v(uri: str) -> dict[str, Any]:
    return {"model": "gen4_turbo", "prompt_image": uri, "ratio": "1280:720"}


async def upload_slot(env: Env, filename: str = "cat.png", key: str = API_KEY) -> dict[str, Any]:
    status, slot = await env.raw(
        "POST", "/v1/uploads", key=key, json={"filename": filename, "type": "ephemeral"}
    )
    assert status == 200
    return slot  # type: ignore[no-any-return]


def form(
    fields: dict[str, str], data: bytes = PNG_BYTES, filename: str | None = "cat.png"
) -> aiohttp.FormData:
    body = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        body.add_field(name, value)
    if filename is not None:
        body.add_field("file", io.BytesIO(data), filename=filename, content_type="image/png")
    return body


async def store(env: Env, url: str, body: Any, **kwargs: Any) -> tuple[int, str]:
    async with env.http.post(url, data=body, **kwargs) as response:
        return response.status, await response.text()


class TestUploads:
    async def test_official_upload_is_accepted_by_a_create(
        self, env: Env, image_file: Path
    ) -> None:
        """create_ephemeral's runway:// URI works as a media value; the bytes arrived whole."""
        uploaded = await env.client.uploads.create_ephemeral(file=image_file, file_metadata="m")
        assert uploaded.uri.startswith("runway://")
        created = await env.client.image_to_video.create(**i2v(uploaded.uri))
        assert created.id
        async with env.http.get(env.url + "/_emulator/uploads") as response:
            (record,) = (await response.json())["uploads"]
        assert record["runwayUri"] == uploaded.uri
        assert record["uploaded"] is True
        assert record["size"] == len(PNG_BYTES)
        assert record["sha256"] == hashlib.sha256(PNG_BYTES).hexdigest()
        assert record["receivedFilename"] == "cat.png"

    async def test_unknown_runway_uri_is_refused_naming_the_field(self, env: Env) -> None:
        with pytest.raises(runwayml.BadRequestError) as caught:
            await env.client.image_to_video.create(**i2v("runway://uploads/never-issued"))
        assert "promptImage" in caught.value.body["error"]
        assert caught.value.body["issues"][0]["path"] == ["promptImage"]

    async def test_issued_but_never_uploaded_uri_is_refused(self, env: Env) -> None:
        slot = await upload_slot(env)
        with pytest.raises(runwayml.BadRequestError, match="never received"):
            await env.client.image_to_video.create(**i2v(slot["runwayUri"]))

    async def test_an_upload_belongs_to_its_api_key(self, env: Env) -> None:
        slot = await upload_slot(env)
        assert (await store(env, slot["uploadUrl"], form(slot["fields"])))[0] == 204
        body = {"model": "gen4_turbo", "promptImage": slot["runwayUri"], "ratio": "1280:720"}
        status, error = await env.raw("POST", "/v1/image_to_video", key=OTHER_KEY, json=body)
        assert status == 400
        assert "unknown" in error["error"]
        assert (await env.raw("POST", "/v1/image_to_video", json=body))[0] == 200

    async def test_uploads_expire(self, env: Env) -> None:
        slot = await upload_slot(env)
        assert (await store(env, slot["uploadUrl"], form(slot["fields"])))[0] == 204
        env.clock.tick(CONFIG.upload_lifetime)
        with pytest.raises(runwayml.BadRequestError, match="expired"):
            await env.client.image_to_video.create(**i2v(slot["runwayUri"]))
        status, text = await store(env, slot["uploadUrl"], form(slot["fields"]))
        assert status == 403
        assert "Policy expired" in text

    async def test_avatar_reference_image_checks_uploads_too(self, env: Env) -> None:
        with pytest.raises(runwayml.BadRequestError, match="referenceImage"):
            await env.client.avatars.create(**{**AVATAR, "reference_image": "runway://x/y"})

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"x-amz-signature": "0" * 64}, "SignatureDoesNotMatch"),
            ({"key": "uploads/someone-else.png"}, "AccessDenied"),
            ({"policy": None}, "AccessDenied"),
        ],
    )
    async def test_altered_or_missing_fields_are_forbidden(
        self, env: Env, change: dict[str, str | None], code: str
    ) -> None:
        slot = await upload_slot(env)
        fields = {**slot["fields"], **change}
        sent = {name: value for name, value in fields.items() if value is not None}
        status, text = await store(env, slot["uploadUrl"], form(sent))
        assert status == 403
        assert f"<Code>{code}</Code>" in text
        with pytest.raises(runwayml.BadRequestError, match="never received"):
            await env.client.image_to_video.create(**i2v(slot["runwayUri"]))

    async def test_form_without_a_file_part_is_refused(self, env: Env) -> None:
        slot = await upload_slot(env)
        status, text = await store(env, slot["uploadUrl"], form(slot["fields"], filename=None))
        assert status == 400
        assert "<ArgumentName>file</ArgumentName>" in text

    async def test_empty_file_is_refused(self, env: Env) -> None:
        slot = await upload_slot(env)
        status, text = await store(env, slot["uploadUrl"], form(slot["fields"], b""))
        assert status == 400
        assert "EntityTooSmall" in text

    async def test_chunked_body_needs_a_content_length(self, env: Env) -> None:
        slot = await upload_slot(env)

        async def chunks() -> AsyncIterator[bytes]:
            yield b"--x\r\n"

        headers = {"Content-Type": "multipart/form-data; boundary=x"}
        status, text = await store(env, slot["uploadUrl"], chunks(), headers=headers)
        assert status == 411
        assert "MissingContentLength" in text

    async def test_body_must_be_multipart(self, env: Env) -> None:
        slot = await upload_slot(env)
        status, text = await store(env, slot["uploadUrl"], b"{}", headers={"Content-Type": "a/b"})
        assert status == 412
        assert "multipart/form-data" in text

    async def test_unknown_storage_token_is_forbidden(self, env: Env) -> None:
        status, _ = await store(env, env.url + "/_emulator/storage/nope", form({}))
        assert status == 403

    async def test_files_over_the_cap_are_refused(self) -> None:
        config = attrs.evolve(CONFIG, upload_max_bytes=1000)
        async with (
            Emulator.from_config(config, clock=FakeClock()) as emu,
            aiohttp.ClientSession() as http,
        ):
            env = Env(emu, FakeClock(), None, http)
            slot = await upload_slot(env)
            # Streamed: the body's declared length is within the slack, the file is not.
            status, text = await store(env, slot["uploadUrl"], form(slot["fields"], b"x" * 1001))
            assert status == 400
            assert "EntityTooLarge" in text
            # Refused from the Content-Length alone.
            big = b"x" * (1000 + 1024 * 1024 + 1)
            status, text = await store(env, slot["uploadUrl"], form(slot["fields"], big))
            assert status == 400
            assert "<ProposedSize>" in text
            status, _ = await store(env, slot["uploadUrl"], form(slot["fields"], b"x" * 1000))
            assert status == 204

    async def test_bad_upload_requests(self, env: Env) -> None:
        status, error = await env.raw("POST", "/v1/uploads", json={"filename": "a.png"})
        assert (status, error["issues"][0]["path"]) == (400, ["type"])
        status, error = await env.raw(
            "POST", "/v1/uploads", json={"filename": "a.png", "type": "permanent"}
        )
        assert status == 400
        assert "'type'" in error["error"]


class TestAvatars:
    async def test_processing_then_ready_with_a_preview_image(self, env: Env) -> None:
        avatar = await env.client.avatars.create(**AVATAR)
        assert avatar.status == "PROCESSING"
        assert avatar.processed_image_uri is None
        assert avatar.voice.name == "Clara"
        env.clock.tick(4.9)
        assert (await env.client.avatars.retrieve(avatar.id)).status == "PROCESSING"
        env.clock.tick(0.2)
        ready = await env.client.avatars.retrieve(avatar.id)
        assert ready.status == "READY"
        assert ready.processed_image_uri is not None
        status, kind, data = await env.get_bytes(ready.processed_image_uri)
        assert (status, kind) == (200, "image/png")
        assert data.startswith(b"\x89PNG")

    async def test_failing_reference_image(self, env: Env) -> None:
        avatar = await env.client.avatars.create(
            **{**AVATAR, "reference_image": "https://example.com/fail.png"}
        )
        env.clock.tick(5.0)
        failed = await env.client.avatars.retrieve(avatar.id)
        assert failed.status == "FAILED"
        assert failed.failure_reason

    async def test_list_pages_newest_first(self, env: Env) -> None:
        ids = [
            (await env.client.avatars.create(**{**AVATAR, "name": f"A{n}"})).id for n in range(5)
        ]
        first = await env.client.avatars.list(limit=2)
        assert [a.id for a in first.data] == ids[:2:-1][:2]
        pages = [first]
        while pages[-1].has_next_page():
            pages.append(await pages[-1].get_next_page())
        assert [len(p.data) for p in pages] == [2, 2, 1]
        assert [a.id for p in pages for a in p.data] == ids[::-1]
        assert [a.id async for a in env.client.avatars.list(limit=2)] == ids[::-1]

    @pytest.mark.parametrize(
        ("params", "field"),
        [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({}, "limit")],
    )
    async def test_bad_limits(self, env: Env, params: dict[str, str], field: str) -> None:
        status, error = await env.raw("GET", "/v1/avatars", params=params)
        assert status == 400
        assert error["issues"][0]["path"] == [field]

    async def test_bad_cursors(self, env: Env) -> None:
        for _ in range(3):
            await env.client.avatars.create(**AVATAR)
        page = await env.client.avatars.list(limit=1)
        cursor = page.next_cursor
        assert cursor
        for bad in ("garbage!", cursor[:-3]):
            status, error = await env.raw(
                "GET", "/v1/avatars", params={"limit": "1", "cursor": bad}
            )
            assert (status, error["issues"][0]["path"]) == (400, ["cursor"])
        # A cursor of one list is not a cursor of another.
        status, _ = await env.raw("GET", "/v1/voices", params={"limit": "1", "cursor": cursor})
        assert status == 400

    async def test_update_and_delete(self, env: Env) -> None:
        avatar = await env.client.avatars.create(**AVATAR, start_script="Hi!")
        env.clock.tick(5.0)
        updated = await env.client.avatars.update(avatar.id, name="Grace", start_script=None)
        assert (updated.name, updated.start_script, updated.status) == ("Grace", None, "READY")
        assert updated.updated_at > avatar.updated_at
        reprocessed = await env.client.avatars.update(
            avatar.id, reference_image="https://example.com/grace.png"
        )
        assert reprocessed.status == "PROCESSING"
        with pytest.raises(runwayml.BadRequestError):
            await env.client.avatars.update(avatar.id)
        assert await env.client.avatars.delete(avatar.id) is None
        with pytest.raises(runwayml.NotFoundError):
            await env.client.avatars.retrieve(avatar.id)
        with pytest.raises(runwayml.NotFoundError):
            await env.client.avatars.delete(avatar.id)

    async def test_other_api_keys_see_nothing(self, env: Env) -> None:
        avatar = await env.client.avatars.create(**AVATAR)
        status, _ = await env.raw("GET", f"/v1/avatars/{avatar.id}", key=OTHER_KEY)
        assert status == 404
        status, page = await env.raw("GET", "/v1/avatars", key=OTHER_KEY, params={"limit": "5"})
        assert (status, page) == (200, {"data": [], "nextCursor": None})

    async def test_create_validation_names_the_field(self, env: Env) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({**AVATAR, "name": ""}, "name"),
            ({**AVATAR, "voice": {"type": "runway-live-preset", "preset_id": "nobody"}}, "voice"),
            ({**AVATAR, "voice": {"type": "custom", "id": "missing"}}, "voice.id"),
            ({**AVATAR, "document_ids": ["missing"]}, "documentIds[0]"),
            ({**AVATAR, "image_processing": "sharpen"}, "imageProcessing"),
            ({**AVATAR, "reference_image": "ftp://example.com/a.png"}, "referenceImage"),
        ]
        for params, field in cases:
            with pytest.raises(runwayml.BadRequestError) as caught:
                await env.client.avatars.create(**params)
            assert f"'{field}" in caught.value.body["error"], field

    async def test_custom_voice_and_documents(self, env: Env) -> None:
        voice = await env.client.voices.create(
            from_={"type": "audio", "audio": "https://example.com/me.mp3"}, name="Me"
        )
        doc = await env.client.documents.create(name="FAQ", content="# FAQ")
        avatar = await env.client.avatars.create(
            **{**AVATAR, "voice": {"type": "custom", "id": voice.id}}, document_ids=[doc.id]
        )
        assert (avatar.voice.type, avatar.voice.deleted, avatar.voice.name) == (
            "custom",
            False,
            "Me",
        )
        used = await env.client.documents.retrieve(doc.id)
        assert [(u.id, u.name) for u in used.used_by] == [(avatar.id, "Ada")]
        await env.client.voices.delete(voice.id)
        await env.client.documents.delete(doc.id)
        after = await env.client.avatars.retrieve(avatar.id)
        assert after.voice.deleted is True
        assert after.voice.name is None
        assert after.document_ids == []

    async def test_usage(self, env: Env) -> None:
        session = await env.client.realtime_sessions.create(
            model="gwm1_avatars", avatar={"type": "runway-preset", "preset_id": "influencer"}
        )
        env.clock.tick(2.0)
        await consume(env, session.id)
        env.clock.tick(30.0)
        await env.client.realtime_sessions.create(
            model="gwm1_avatars", avatar={"type": "runway-preset", "preset_id": "influencer"}
        )
        start = datetime(2026, 2, 28, tzinfo=timezone.utc)
        usage = await env.client.avatars.get_usage(
            start_date=start, end_date=start + timedelta(days=3)
        )
        assert (usage.total_sessions, usage.total_seconds, usage.avg_duration_seconds) == (
            2,
            30,
            30,
        )
        assert [(d.date.isoformat(), d.sessions, d.seconds) for d in usage.by_day] == [
            ("2026-02-28", 0, 0),
            ("2026-03-01", 2, 30),
            ("2026-03-02", 0, 0),
        ]
        with pytest.raises(runwayml.BadRequestError, match="90 days"):
            await env.client.avatars.get_usage(start_date=start, end_date=start + timedelta(91))
        status, error = await env.raw("GET", "/v1/avatar_usage", params={"endDate": "2026-03-01"})
        assert (status, error["issues"][0]["path"]) == (400, ["startDate"])


async def consume(env: Env, session_id: str, key: str | None = None) -> int:
    """Stand in for the client's WebRTC exchange: consume a READY session's key."""
    if key is None:
        key = (await env.client.realtime_sessions.retrieve(session_id)).session_key
    async with env.http.post(
        f"{env.url}/_emulator/realtime_sessions/{session_id}/consume",
        headers={"Authorization": f"Bearer {key}"},
    ) as response:
        return response.status


class TestRealtimeSessions:
    async def test_lifecycle_and_conversation(self, env: Env) -> None:
        avatar = await env.client.avatars.create(**AVATAR, start_script="Welcome!")
        with pytest.raises(runwayml.BadRequestError, match="not READY"):
            await env.client.realtime_sessions.create(
                model="gwm1_avatars", avatar={"type": "custom", "avatar_id": avatar.id}
            )
        env.clock.tick(5.0)
        created = await env.client.realtime_sessions.create(
            model="gwm1_avatars",
            avatar={"type": "custom", "avatar_id": avatar.id},
            max_duration=20,
            start_script="Welcome!",
            tools=[{"type": "client_event", "name": "wave", "description": "Wave."}],
        )
        session = await env.client.realtime_sessions.retrieve(created.id)
        assert (session.status, session.queued) == ("NOT_READY", True)
        env.clock.tick(1.5)
        session = await env.client.realtime_sessions.retrieve(created.id)
        assert (session.status, session.queued) == ("NOT_READY", False)
        env.clock.tick(0.5)
        ready = await env.client.realtime_sessions.retrieve(created.id)
        assert ready.status == "READY"
        assert ready.session_key
        assert ready.expires_at > ready.created_at
        conversation = await env.client.avatar_conversations.retrieve(created.id)
        assert (conversation.status, conversation.transcript) == ("in_progress", [])
        assert await consume(env, created.id, key="sk_wrong") == 401
        assert await consume(env, created.id) == 200
        assert (await env.client.realtime_sessions.retrieve(created.id)).status == "RUNNING"
        assert await consume(env, created.id, key=ready.session_key) == 409
        env.clock.tick(20.0)  # maxDuration caps the 30 s session
        done = await env.client.realtime_sessions.retrieve(created.id)
        assert (done.status, done.duration) == ("COMPLETED", 20)
        ended = await env.client.avatar_conversations.retrieve(created.id)
        assert (ended.status, ended.duration, ended.max_duration) == ("ended", 20, 20)
        assert ended.avatar.type == "custom"
        assert ended.avatar.id == avatar.id
        assert ended.transcript[0].content == "Welcome!"
        assert [t.role for t in ended.transcript] == ["assistant", "user", "assistant"]
        assert [t.name for t in ended.tools] == ["wave"]
        assert ended.ended_at is not None
        assert ended.recording_url is not None
        status, kind, _ = await env.get_bytes(ended.recording_url)
        assert (status, kind) == (200, "video/mp4")

    async def test_delete_cancels(self, env: Env) -> None:
        created = await env.client.realtime_sessions.create(
            model="gwm1_avatars", avatar={"type": "runway-preset", "preset_id": "tennis-coach"}
        )
        assert await env.client.realtime_sessions.delete(created.id) is None
        assert (await env.client.realtime_sessions.retrieve(created.id)).status == "CANCELLED"
        conversation = await env.client.avatar_conversations.retrieve(created.id)
        assert (conversation.status, conversation.duration) == ("ended", None)
        with pytest.raises(runwayml.NotFoundError):
            await env.client.realtime_sessions.retrieve("no-such-session")

    async def test_unconsumed_keys_expire(self, env: Env) -> None:
        created = await env.client.realtime_sessions.create(
            model="gwm1_avatars", avatar={"type": "runway-preset", "preset_id": "influencer"}
        )
        env.clock.tick(2.0 + 300.0)
        done = await env.client.realtime_sessions.retrieve(created.id)
        assert (done.status, done.duration) == ("COMPLETED", 0)

    async def test_create_validation(self, env: Env) -> None:
        preset = {"type": "runway-preset", "preset_id": "influencer"}
        cases: list[tuple[dict[str, Any], str]] = [
            ({"model": "gwm2", "avatar": preset}, "model"),
            ({"model": "gwm1_avatars", "avatar": {"type": "robot"}}, "avatar.type"),
            ({"model": "gwm1_avatars", "avatar": {"type": "custom", "avatar_id": "x"}}, "avatar"),
            ({"model": "gwm1_avatars", "avatar": preset, "max_duration": 0}, "maxDuration"),
            (
                {
                    "model": "gwm1_avatars",
                    "avatar": preset,
                    "integration": {"type": "elevenlabs", "signed_url": "http://x"},
                },
                "integration.signedUrl",
            ),
            (
                {
                    "model": "gwm1_avatars",
                    "avatar": preset,
                    "tools": [{"type": "client_event", "name": "1bad", "description": ""}],
                },
                "tools[0].name",
            ),
        ]
        for params, field in cases:
            with pytest.raises(runwayml.BadRequestError) as caught:
                await env.client.realtime_sessions.create(**params)
            assert f"'{field}" in caught.value.body["error"], field


class TestConversations:
    async def test_list_filter_and_delete(self, env: Env) -> None:
        avatar = await env.client.avatars.create(**AVATAR)
        env.clock.tick(5.0)
        preset = {"type": "runway-preset", "preset_id": "influencer"}
        custom = {"type": "custom", "avatar_id": avatar.id}
        ids = [
            (await env.client.realtime_sessions.create(model="gwm1_avatars", avatar=a)).id
            for a in (preset, custom, preset)
        ]
        listed = [c async for c in env.client.avatar_conversations.list(limit=2)]
        assert [c.id for c in listed] == ids[::-1]
        assert listed[0].avatar.name == "Influencer"
        assert listed[1].avatar.name == "Ada"
        only = await env.client.avatar_conversations.list(limit=10, avatar=avatar.id)
        assert [c.id for c in only.data] == [ids[1]]
        later = datetime(2030, 1, 1, tzinfo=timezone.utc)
        none = await env.client.avatar_conversations.list(limit=10, start_date=later)
        assert none.data == []
        assert await env.client.avatar_conversations.delete(ids[0]) is None
        with pytest.raises(runwayml.NotFoundError):
            await env.client.avatar_conversations.retrieve(ids[0])
        remaining = await env.client.avatar_conversations.list(limit=10)
        assert [c.id for c in remaining.data] == [ids[2], ids[1]]


class TestDocuments:
    async def test_crud_and_sorting(self, env: Env) -> None:
        docs = [
            await env.client.documents.create(name=f"Doc {n}", content=f"# {n}") for n in range(3)
        ]
        assert docs[0].used_by == []
        assert docs[0].type == "text"
        assert await env.client.documents.update(docs[0].id, content="# changed") is None
        changed = await env.client.documents.retrieve(docs[0].id)
        assert (changed.content, changed.name) == ("# changed", "Doc 0")
        assert changed.updated_at > changed.created_at

        async def order(sort: str, direction: str) -> list[str]:
            return [
                d.id async for d in env.client.documents.list(limit=2, sort=sort, order=direction)
            ]

        ids = [d.id for d in docs]
        assert await order("createdAt", "asc") == ids
        assert await order("createdAt", "desc") == ids[::-1]
        assert await order("updatedAt", "desc") == [ids[0], ids[2], ids[1]]
        status, page = await env.raw(
            "GET", "/v1/documents", params={"limit": "1", "sort": "createdAt", "order": "asc"}
        )
        assert status == 200
        assert "content" not in page["data"][0]
        status, error = await env.raw("GET", "/v1/documents", params={"limit": "1"})
        assert status == 400
        assert sorted(issue["path"] for issue in error["issues"]) == [["order"], ["sort"]]
        with pytest.raises(runwayml.BadRequestError):
            await env.client.documents.update(docs[1].id)
        await env.client.documents.delete(docs[1].id)
        with pytest.raises(runwayml.NotFoundError):
            await env.client.documents.retrieve(docs[1].id)
        with pytest.raises(runwayml.BadRequestError, match="'content'"):
            await env.client.documents.create(name="x", content="")


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnframes() / audio.getframerate()


class TestVoices:
    async def test_processing_ready_sample_and_crud(self, env: Env) -> None:
        created = await env.client.voices.create(
            from_={"type": "text", "model": "eleven_ttv_v3", "prompt": "A warm, low narrator."},
            name="Narrator",
            description="For audiobooks",
        )
        voice = await env.client.voices.retrieve(created.id)
        assert (voice.status, voice.name, voice.description) == (
            "PROCESSING",
            "Narrator",
            "For audiobooks",
        )
        env.clock.tick(3.0)
        ready = await env.client.voices.retrieve(created.id)
        assert ready.status == "READY"
        assert ready.preview_url is not None
        status, kind, data = await env.get_bytes(ready.preview_url)
        assert (status, kind) == (200, "audio/wav")
        assert wav_seconds(data) > 0
        renamed = await env.client.voices.update(created.id, name="Teller", description=None)
        assert (renamed.name, renamed.description) == ("Teller", None)
        listed = await env.client.voices.list(limit=10)
        assert [v.id for v in listed.data] == [created.id]
        await env.client.voices.delete(created.id)
        with pytest.raises(runwayml.NotFoundError):
            await env.client.voices.retrieve(created.id)

    async def test_failing_audio(self, env: Env) -> None:
        created = await env.client.voices.create(
            from_={"type": "audio", "audio": "https://example.com/fail.mp3"}, name="Broken"
        )
        env.clock.tick(3.0)
        failed = await env.client.voices.retrieve(created.id)
        assert failed.status == "FAILED"
        assert failed.failure_reason

    async def test_preview_is_a_real_wav(self, env: Env) -> None:
        preview = await env.client.voices.preview(
            model="eleven_multilingual_ttv_v2", prompt="A bright, cheerful young voice."
        )
        status, kind, data = await env.get_bytes(preview.url)
        assert (status, kind) == (200, "audio/wav")
        assert wav_seconds(data) == pytest.approx(preview.duration_secs)
        env.clock.tick(86_400.0)
        assert (await env.get_bytes(preview.url))[0] == 404

    async def test_validation(self, env: Env) -> None:
        calls: list[tuple[str, dict[str, Any], str]] = [
            ("preview", {"model": "eleven_ttv_v3", "prompt": "too short"}, "prompt"),
            ("preview", {"model": "v1", "prompt": "p" * 20}, "model"),
            ("create", {"from_": {"type": "text", "model": "x", "prompt": "p" * 20}}, "from.model"),
            (
                "create",
                {"from_": {"type": "text", "model": "eleven_ttv_v3", "prompt": "short"}},
                "from.prompt",
            ),
            ("create", {"from_": {"type": "audio", "audio": "runway://nope"}}, "from.audio"),
            ("create", {"from_": {"type": "video", "video": "x"}}, "from.type"),
        ]
        for method, params, field in calls:
            if method == "create":
                params = {**params, "name": "x"}
            with pytest.raises(runwayml.BadRequestError) as caught:
                await getattr(env.client.voices, method)(**params)
            assert f"'{field}'" in caught.value.body["error"], field


class TestResetAndSpecMock:
    async def test_reset_clears_everything(self, env: Env) -> None:
        avatar = await env.client.avatars.create(**AVATAR)
        env.emu.reset()
        with pytest.raises(runwayml.NotFoundError):
            await env.client.avatars.retrieve(avatar.id)

    async def test_spec_mock_answers_any_id(self) -> None:
        example = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
        async with (
            Emulator(spec_mock=True) as emu,
            runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as client,
        ):
            assert (await client.avatars.retrieve(example)).id == example
            assert (await client.avatars.update(example)).id == example
            assert (await client.voices.retrieve(example)).status == "READY"
            assert (await client.documents.retrieve(example)).id == example
            assert (await client.realtime_sessions.retrieve(example)).status == "READY"
            assert (await client.avatar_conversations.retrieve(example)).status == "ended"
            assert await client.documents.update(example) is None
            assert await client.avatar_conversations.delete(example) is None
            page = await client.documents.list(limit=1, order="asc", sort="createdAt", cursor="x")
            assert len(page.data) == 1
            moment = datetime(2019, 12, 27, 18, 11, 19, tzinfo=timezone.utc)
            usage = await client.avatars.get_usage(start_date=moment, end_date=moment)
            assert usage.total_sessions == 0
            created = await client.avatars.create(
                **{**AVATAR, "document_ids": [example]}, image_processing="optimize"
            )
            assert created.document_ids == [example]
