"""``client.realtime_sessions`` through our async client.

Against the stateful emulator (create, wait to READY with a session key, cancel) and a
scripted loopback server for failures and statuses the emulator cannot be made to reach.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import runwayml

from runway_async import (
    AsyncRunway,
    CancelledRealtimeSession,
    CompletedRealtimeSession,
    FailedRealtimeSession,
    InvalidRequestError,
    NotFoundError,
    NotReadyRealtimeSession,
    PollConfig,
    ReadyRealtimeSession,
    RealtimeSessionCreated,
    ResourceFailedError,
    RunningRealtimeSession,
    UnknownRealtimeSession,
)
from runway_async.emulator import Emulator, EmulatorConfig
from runway_async.types import BackendRpcTool, RunwayPresetAvatar

from ..conftest import API_KEY, ScriptedServer, json_reply
from .conftest import SESSION_CONFIG

AVATAR: RunwayPresetAvatar = {"type": "runway-preset", "preset_id": "influencer"}
STAMP = "2025-01-01T00:00:00Z"
TOOL: BackendRpcTool = {
    "type": "backend_rpc",
    "name": "lookup_order",
    "description": "Find an order by its number.",
    "parameters": [{"type": "string", "name": "number", "description": "The order number."}],
    "timeout_seconds": 5,
}


def session_body(status: str, **fields: Any) -> dict[str, Any]:
    """Return a realtime session as the API sends it."""
    return {"id": "s1", "status": status, "createdAt": STAMP, **fields}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Return the emulator's settings: sessions that no test step races (``SESSION_CONFIG``)."""
    return SESSION_CONFIG


async def consume(emulator: Emulator, session: ReadyRealtimeSession) -> int:
    """Join a READY session with its key, as a front end would; return the HTTP status."""
    url = f"{emulator.url}/_emulator/realtime_sessions/{session.id}/consume"
    headers = {
        "Authorization": f"Bearer {session.session_key}",
        "X-Runway-Version": "2024-11-06",
    }
    async with aiohttp.ClientSession() as http, http.post(url, headers=headers) as reply:
        return reply.status


class TestLifecycle:
    """Create, wait, retrieve and cancel on the emulator."""

    async def test_wait_gives_the_session_key(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """A new session is NOT_READY, then READY with a key that joins it (once)."""
        created = await client.realtime_sessions.create(
            avatar=AVATAR, model="gwm1_avatars", max_duration=600, tools=[TOOL]
        )
        assert isinstance(created, RealtimeSessionCreated)
        ready = await client.realtime_sessions.wait(created.id)
        assert isinstance(ready, ReadyRealtimeSession)
        assert ready.session_key
        assert ready.session_key not in repr(ready)
        assert ready.expires_at > ready.created_at
        assert await consume(emulator, ready) == 200
        running = await client.realtime_sessions.retrieve(created.id)
        assert isinstance(running, RunningRealtimeSession)
        assert await consume(emulator, ready) == 409  # the key is one-time

    async def test_waiting_after_the_key_was_used(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """Once a session runs, its key is gone: a wait (by another client) says so."""
        created = await client.realtime_sessions.create(avatar=AVATAR, model="gwm1_avatars")
        ready = await client.realtime_sessions.wait(created.id)
        await consume(emulator, ready)
        async with AsyncRunway(
            API_KEY, base_url=emulator.url, poll=PollConfig(interval=0.005)
        ) as other:
            with pytest.raises(ResourceFailedError, match="RUNNING") as info:
                await other.realtime_sessions.wait(created.id)
        assert isinstance(info.value.resource, RunningRealtimeSession)
        assert info.value.failure is None

    async def test_delete_cancels(self, client: AsyncRunway) -> None:
        """delete() cancels the session; a wait then raises ResourceFailedError."""
        created = await client.realtime_sessions.create(avatar=AVATAR, model="gwm1_avatars")
        await client.realtime_sessions.delete(created.id)
        cancelled = await client.realtime_sessions.retrieve(created.id)
        assert isinstance(cancelled, CancelledRealtimeSession)
        with pytest.raises(ResourceFailedError, match="CANCELLED") as info:
            await client.realtime_sessions.wait(created.id)
        assert info.value.resource == cancelled

    async def test_custom_avatar(self, client: AsyncRunway) -> None:
        """A session with one of your avatars becomes READY too."""
        avatar = await client.avatars.create(
            name="Ada",
            personality="Helpful.",
            reference_image="https://example.com/face.png",
            voice={"type": "runway-live-preset", "preset_id": "clara"},
        )
        await client.avatars.wait(avatar.id)
        created = await client.realtime_sessions.create(
            avatar={"type": "custom", "avatar_id": avatar.id},
            model="gwm1_avatars",
            personality="Extra cheerful.",
            start_script="Welcome back!",
        )
        assert isinstance(await client.realtime_sessions.wait(created.id), ReadyRealtimeSession)

    async def test_unknown_session(self, client: AsyncRunway) -> None:
        """An unknown id answers NotFoundError, to retrieve, delete and wait."""
        with pytest.raises(NotFoundError):
            await client.realtime_sessions.retrieve("no-such-session")
        with pytest.raises(NotFoundError):
            await client.realtime_sessions.delete("no-such-session")
        with pytest.raises(NotFoundError):
            await client.realtime_sessions.wait("no-such-session", timeout=5)


class TestValidation:
    """Invalid parameters are refused before anything is sent."""

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"tools": [{**TOOL, "name": "9lives"}]}, "tools[0].name"),
            ({"model": 2}, "model"),  # a new model's *name* is sent: test_forward_compat
            ({"avatar": {"type": "runway-preset", "preset_id": "pirate"}}, "avatar.preset_id"),
        ],
    )
    async def test_refused(
        self, server: ScriptedServer, params: dict[str, Any], field: str
    ) -> None:
        """The error names the offending field; the server sees nothing."""
        server.reply(json_reply({"id": "s1"}))
        call: dict[str, Any] = {"avatar": AVATAR, "model": "gwm1_avatars", **params}
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(InvalidRequestError) as info:
                await client.realtime_sessions.create(**call)
        assert info.value.field == field
        assert server.requests == []


class TestWire:
    """What the scripted server says, and what was sent."""

    async def test_request_shape(self, server: ScriptedServer) -> None:
        """Nested snake_case keys go out in camelCase; a tools generator is sent as a list."""
        server.reply(json_reply({"id": "s1"}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            await client.realtime_sessions.create(
                avatar={"type": "custom", "avatar_id": "av1"},
                model="gwm1_avatars",
                integration={
                    "type": "livekit",
                    "token": "t",
                    "room_name": "r",
                    "url": "wss://lk.example.com",
                },
                max_duration=90,
                tools=(tool for tool in [TOOL]),
            )
        body = server.requests[0].json()
        assert body["avatar"] == {"type": "custom", "avatarId": "av1"}
        assert body["integration"]["roomName"] == "r"
        assert body["maxDuration"] == 90
        assert body["tools"][0]["timeoutSeconds"] == 5
        assert body["tools"][0]["parameters"][0]["name"] == "number"

    async def test_every_status_parses(self, server: ScriptedServer) -> None:
        """Each status gives its class; a new one gives UnknownRealtimeSession."""
        server.reply(
            json_reply(session_body("NOT_READY", queued=True)),
            json_reply(session_body("COMPLETED", duration=42)),
            json_reply(session_body("HIBERNATING", region="eu")),
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            queued = await client.realtime_sessions.retrieve("s1")
            completed = await client.realtime_sessions.retrieve("s1")
            unknown = await client.realtime_sessions.retrieve("s1")
        assert isinstance(queued, NotReadyRealtimeSession)
        assert queued.queued is True
        assert isinstance(completed, CompletedRealtimeSession)
        assert completed.duration == 42
        assert isinstance(unknown, UnknownRealtimeSession)
        assert unknown.extra == {"region": "eu"}

    async def test_failed_session_raises_with_its_code(self, server: ScriptedServer) -> None:
        """A FAILED session ends the wait with ResourceFailedError carrying the failure code."""
        server.reply(
            json_reply(session_body("NOT_READY")),
            json_reply(session_body("FAILED", failure="No capacity.", failureCode="INTERNAL", x=1)),
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(ResourceFailedError) as info:
                await client.realtime_sessions.wait("s1", timeout=5)
        assert info.value.failure == "No capacity."
        assert info.value.failure_code == "INTERNAL"
        assert isinstance(info.value.resource, FailedRealtimeSession)
        assert info.value.resource.extra == {"x": 1}


class TestOfficialSdk:
    """The official SDK and ours see the same sessions on the emulator."""

    async def test_official_create_our_wait(self, emulator: Emulator, client: AsyncRunway) -> None:
        """A session the official SDK creates is waited to READY by ours; both read it."""
        async with runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emulator.url) as official:
            created = await official.realtime_sessions.create(
                avatar={"type": "runway-preset", "preset_id": "influencer"}, model="gwm1_avatars"
            )
            ready = await client.realtime_sessions.wait(created.id)
            theirs = await official.realtime_sessions.retrieve(created.id)
        assert theirs.status == "READY"
        assert getattr(theirs, "session_key", None) == ready.session_key
