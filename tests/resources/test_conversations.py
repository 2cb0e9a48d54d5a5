"""``client.avatar_conversations`` through our async client.

Against the stateful emulator (each realtime session is a conversation: list with filters
and pages, retrieve with its transcript, delete) and a scripted loopback server for the full
reply shape (tool calls and results, null avatars, unknown statuses and avatar types).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

import aiohttp
import pytest

from runway_async import (
    AsyncRunway,
    ConversationCustomAvatar,
    ConversationPresetAvatar,
    EndedConversation,
    FailedConversation,
    InProgressConversation,
    InvalidRequestError,
    NotFoundError,
    ReadyRealtimeSession,
    TranscriptToolCall,
    UnknownConversation,
    UnknownConversationAvatar,
)
from runway_async.emulator import Emulator, EmulatorConfig
from runway_async.types import RunwayPresetAvatar

from ..conftest import API_KEY, ScriptedServer, json_reply
from .conftest import SESSION_CONFIG

AVATAR: RunwayPresetAvatar = {"type": "runway-preset", "preset_id": "influencer"}
STAMP = "2025-01-01T00:00:00Z"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Return the emulator's settings: sessions that no test step races (``SESSION_CONFIG``)."""
    return SESSION_CONFIG


async def start_session(client: AsyncRunway, avatar_id: str | None = None) -> str:
    """Create a realtime session (with a custom avatar if given); return its id."""
    if avatar_id is None:
        created = await client.realtime_sessions.create(avatar=AVATAR, model="gwm1_avatars")
    else:
        created = await client.realtime_sessions.create(
            avatar={"type": "custom", "avatar_id": avatar_id}, model="gwm1_avatars"
        )
    return created.id


class TestEmulator:
    """Conversations recorded by the emulator's realtime sessions."""

    async def test_a_session_is_a_conversation(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """A joined session's conversation is in progress, with a transcript, then ended."""
        session_id = await start_session(client)
        ready = await client.realtime_sessions.wait(session_id)
        assert isinstance(ready, ReadyRealtimeSession)
        url = f"{emulator.url}/_emulator/realtime_sessions/{session_id}/consume"
        headers = {"Authorization": f"Bearer {ready.session_key}", "X-Runway-Version": "2024-11-06"}
        async with aiohttp.ClientSession() as http, http.post(url, headers=headers) as reply:
            assert reply.status == 200
        live = await client.avatar_conversations.retrieve(session_id)
        assert isinstance(live, InProgressConversation)
        assert isinstance(live.avatar, ConversationPresetAvatar)
        assert live.avatar.preset_id == "influencer"
        assert live.started_at is not None
        assert live.transcript
        assert live.transcript[0].role == "assistant"
        await client.realtime_sessions.delete(session_id)
        ended = await client.avatar_conversations.retrieve(session_id)
        assert isinstance(ended, EndedConversation)
        assert ended.ended_at is not None

    async def test_list_pages_and_filters(self, client: AsyncRunway) -> None:
        """Five conversations in three pages of two; the avatar filter keeps its own."""
        avatar = await client.avatars.create(
            name="Ada",
            personality="Helpful.",
            reference_image="https://example.com/face.png",
            voice={"type": "runway-live-preset", "preset_id": "clara"},
        )
        await client.avatars.wait(avatar.id)
        mine = [await start_session(client, avatar.id) for _ in range(2)]
        others = [await start_session(client) for _ in range(3)]
        first = await client.avatar_conversations.list(limit=2)
        second = await first.get_next_page()
        third = await second.get_next_page()
        assert not third.has_next_page()
        paged = [c.id for page in (first, second, third) for c in page.data]
        assert sorted(paged) == sorted(mine + others)
        iterated = [c.id async for c in client.avatar_conversations.list(limit=2)]
        assert iterated == paged
        filtered = await client.avatar_conversations.list(limit=10, avatar=avatar.id)
        assert sorted(c.id for c in filtered.data) == sorted(mine)
        assert all(isinstance(c.avatar, ConversationCustomAvatar) for c in filtered.data)

    async def test_date_filters(self, client: AsyncRunway) -> None:
        """start_date/end_date take datetimes; a window in the past lists nothing."""
        await start_session(client)
        past = await client.avatar_conversations.list(
            limit=10,
            start_date=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
            end_date="2020-01-02T00:00:00Z",
        )
        assert past.data == ()
        recent = await client.avatar_conversations.list(
            limit=10, start_date=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
        )
        assert len(recent.data) == 1

    async def test_delete(self, client: AsyncRunway) -> None:
        """A deleted conversation answers 404; unknown ids too."""
        session_id = await start_session(client)
        await client.realtime_sessions.delete(session_id)
        await client.avatar_conversations.delete(session_id)
        with pytest.raises(NotFoundError):
            await client.avatar_conversations.retrieve(session_id)
        with pytest.raises(NotFoundError):
            await client.avatar_conversations.delete("no-such-conversation")


class TestWire:
    """The full reply shape, from a scripted server."""

    def conversation(self, status: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": "c1",
            "name": "Conversation with Ada",
            "status": status,
            "createdAt": STAMP,
            "avatar": None,
            "duration": None,
            "maxDuration": 300,
            "startedAt": STAMP,
            "recordingUrl": None,
            "tools": [{"type": "backend_rpc", "name": "lookup", "description": "Find."}],
            "transcript": [
                {
                    "role": "assistant",
                    "content": None,
                    "timestamp": STAMP,
                    "toolCalls": [{"name": "lookup", "arguments": {"order id": 7}, "id": "t1"}],
                    "toolResults": [
                        {"name": "lookup", "id": "t1", "result": "shipped", "durationMs": 12.5}
                    ],
                },
                {"role": "narrator", "content": "Hi", "timestamp": None, "emotion": "calm"},
            ],
        }
        body.update(fields)
        return body

    async def test_transcript_with_tools(self, server: ScriptedServer) -> None:
        """Tool calls keep their argument keys verbatim; new roles and keys are kept."""
        server.reply(json_reply(self.conversation("ended", endedAt=STAMP, duration=61)))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            got = await client.avatar_conversations.retrieve("c1")
        assert isinstance(got, EndedConversation)
        assert got.avatar is None
        assert got.duration == 61
        call = got.transcript[0].tool_calls
        assert call == (TranscriptToolCall(name="lookup", arguments={"order id": 7}, id="t1"),)
        results = got.transcript[0].tool_results
        assert results is not None
        assert (results[0].result, results[0].duration_ms) == ("shipped", 12.5)
        assert got.transcript[1].role == "narrator"
        assert got.transcript[1].extra == {"emotion": "calm"}
        assert got.tools[0].type == "backend_rpc"

    async def test_failed_and_unknown(self, server: ScriptedServer) -> None:
        """A failed conversation has its failure; new statuses and avatar types are kept."""
        server.reply(
            json_reply(
                self.conversation(
                    "failed",
                    failure="Lost connection.",
                    failureCode="INTERNAL",
                    avatar={"type": "runway-preset", "presetId": "influencer"},
                )
            ),
            json_reply(self.conversation("archived", avatar={"type": "hologram", "id": "h1"})),
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            failed = await client.avatar_conversations.retrieve("c1")
            archived = await client.avatar_conversations.retrieve("c1")
        assert isinstance(failed, FailedConversation)
        assert (failed.failure, failed.failure_code) == ("Lost connection.", "INTERNAL")
        assert failed.avatar == ConversationPresetAvatar(preset_id="influencer")
        assert isinstance(archived, UnknownConversation)
        assert archived.status == "archived"
        assert archived.extra["avatar"] == {"type": "hologram", "id": "h1"}

    async def test_list_item_shape(self, server: ScriptedServer) -> None:
        """List items are summaries; an unknown avatar type in one does not fail the page."""
        item = {
            "id": "c1",
            "name": "Conversation",
            "status": "paused",
            "createdAt": STAMP,
            "duration": None,
            "hasTools": True,
            "avatar": {"type": "hologram"},
        }
        server.reply(json_reply({"data": [item], "nextCursor": ""}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            page = await client.avatar_conversations.list(limit=1, avatar="av1")
        path, _, query = server.requests[0].path.partition("?")
        assert path == "/v1/avatar_conversations"
        assert urllib.parse.parse_qs(query) == {"limit": ["1"], "avatar": ["av1"]}
        assert not page.has_next_page()  # an empty cursor ends the listing
        assert page.data[0].status == "paused"
        assert page.data[0].has_tools is True
        assert page.data[0].avatar == UnknownConversationAvatar(type="hologram")

    async def test_bad_dates_are_refused(self, server: ScriptedServer) -> None:
        """A start_date that is not a date is refused before sending."""
        server.reply(json_reply({"data": []}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(InvalidRequestError) as info:
                await client.avatar_conversations.list(limit=1, start_date="last tuesday")
        assert info.value.field == "start_date"
        assert server.requests == []
