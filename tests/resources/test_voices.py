"""``client.voices`` through our async client.

Against the stateful emulator (CRUD, waiting to READY, a failed voice, previews, pagination)
and a scripted loopback server for what the emulator cannot be made to say.
"""

from __future__ import annotations

import io
import wave
from typing import Any

import aiohttp
import pytest
import runwayml

from runway_async import (
    AsyncRunway,
    FailedVoice,
    InvalidRequestError,
    NotFoundError,
    PollConfig,
    ProcessingVoice,
    ReadyVoice,
    ResourceFailedError,
    TaskTimeoutError,
    UnknownModelWarning,
    UnknownVoice,
    VoiceCreated,
    VoicePreview,
)
from runway_async._spec import forget_warned_models
from runway_async.emulator import Emulator, EmulatorConfig
from runway_async.types import TextVoiceSource

from ..conftest import API_KEY, ScriptedServer, json_reply
from .conftest import TIME_SCALE

PROMPT = "A calm, low narrator with a slight rasp."
FROM_TEXT: TextVoiceSource = {"type": "text", "model": "eleven_ttv_v3", "prompt": PROMPT}
STAMP = "2025-01-01T00:00:00Z"


def voice_body(status: str, **fields: Any) -> dict[str, Any]:
    """Return a voice as the API sends it."""
    return {"id": "v1", "status": status, "name": "Narrator", "createdAt": STAMP, **fields}


class TestCrud:
    """Create, retrieve, update, list and delete on the emulator."""

    async def test_create_retrieve_update_delete(self, client: AsyncRunway) -> None:
        """The whole life of a voice; description=None clears the description."""
        created = await client.voices.create(
            from_=FROM_TEXT, name="Narrator", description="For audiobooks."
        )
        assert isinstance(created, VoiceCreated)
        got = await client.voices.retrieve(created.id)
        assert isinstance(got, (ProcessingVoice, ReadyVoice))
        assert (got.name, got.description) == ("Narrator", "For audiobooks.")
        renamed = await client.voices.update(created.id, name="Storyteller")
        assert isinstance(renamed, (ProcessingVoice, ReadyVoice))
        assert (renamed.name, renamed.description) == ("Storyteller", "For audiobooks.")
        cleared = await client.voices.update(created.id, description=None)
        assert isinstance(cleared, (ProcessingVoice, ReadyVoice))
        assert cleared.description is None
        await client.voices.delete(created.id)
        with pytest.raises(NotFoundError):
            await client.voices.retrieve(created.id)
        with pytest.raises(NotFoundError):
            await client.voices.update(created.id, name="Ghost")

    async def test_preview_is_a_real_audio_file(self, client: AsyncRunway) -> None:
        """preview() gives a URL of a playable WAV and its length."""
        preview = await client.voices.preview(model="eleven_ttv_v3", prompt=PROMPT)
        assert isinstance(preview, VoicePreview)
        assert preview.duration_secs > 0
        async with aiohttp.ClientSession() as http, http.get(preview.url) as reply:
            assert reply.status == 200
            audio = await reply.read()
        with wave.open(io.BytesIO(audio)) as wav:
            assert wav.getnframes() > 0


class TestWait:
    """wait() follows a voice through the watcher."""

    async def test_wait_returns_the_ready_voice(self, client: AsyncRunway) -> None:
        """The wait ends with a ReadyVoice that has a preview URL."""
        created = await client.voices.create(from_=FROM_TEXT, name="Narrator")
        ready = await client.voices.wait(created.id)
        assert isinstance(ready, ReadyVoice)
        assert ready.id == created.id
        assert ready.preview_url

    async def test_failed_voice_raises(self, client: AsyncRunway) -> None:
        """A voice that cannot be cloned raises ResourceFailedError with its reason."""
        created = await client.voices.create(
            from_={"type": "audio", "audio": "https://example.com/fail.mp3"}, name="Clone"
        )
        with pytest.raises(ResourceFailedError) as info:
            await client.voices.wait(created.id)
        assert isinstance(info.value.resource, FailedVoice)
        assert info.value.failure == info.value.resource.failure_reason
        assert info.value.failure

    async def test_deadline(self) -> None:
        """A wait shorter than the processing raises TaskTimeoutError with the voice seen."""
        config = EmulatorConfig(time_scale=TIME_SCALE, voice_seconds=10_000.0)
        async with (
            Emulator.from_config(config) as emu,
            AsyncRunway(API_KEY, base_url=emu.url, poll=PollConfig(interval=0.005)) as client,
        ):
            created = await client.voices.create(from_=FROM_TEXT, name="Narrator")
            with pytest.raises(TaskTimeoutError) as info:
                await client.voices.wait(created.id, timeout=0.05)
        assert isinstance(info.value.task_details, ProcessingVoice)


class TestPagination:
    """list() pages through voices, awaited page by page or iterated."""

    async def test_three_pages(self, client: AsyncRunway) -> None:
        """Five voices at two per page: three pages, newest first, the same when iterated."""
        made = [
            (await client.voices.create(from_=FROM_TEXT, name=f"Voice {n}")).id for n in range(5)
        ]
        page = await client.voices.list(limit=2)
        pages = [page]
        while page.has_next_page():
            page = await page.get_next_page()
            pages.append(page)
        assert [len(p.data) for p in pages] == [2, 2, 1]
        paged = [voice.id for p in pages for voice in p.data]
        assert paged == made[::-1]
        assert [voice.id async for voice in client.voices.list(limit=2)] == paged
        assert [voice.id async for voice in pages[1]] == paged[2:]

    async def test_last_page_has_no_next(self, client: AsyncRunway) -> None:
        """get_next_page() on the last page is an error, not a request."""
        page = await client.voices.list(limit=5)
        assert page.data == ()
        assert not page.has_next_page()
        with pytest.raises(RuntimeError, match="has_next_page"):
            await page.get_next_page()


class TestValidation:
    """Invalid parameters are refused before anything is sent."""

    async def test_short_preview_prompt(self, server: ScriptedServer) -> None:
        """A preview prompt under 20 characters is refused, naming the field."""
        server.reply(json_reply({}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(InvalidRequestError) as info:
                await client.voices.preview(model="eleven_ttv_v3", prompt="too short")
        assert info.value.field == "prompt"
        assert server.requests == []

    async def test_bad_source_model(self, server: ScriptedServer) -> None:
        """A voice-design model in from_ that is not a name is refused before sending."""
        server.reply(json_reply({}))
        source: Any = {"type": "text", "model": 9, "prompt": PROMPT}
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(InvalidRequestError) as info:
                await client.voices.create(from_=source, name="Narrator")
        assert info.value.field is not None
        assert info.value.field.endswith("model")
        assert server.requests == []

    async def test_new_source_model_is_sent_with_a_warning(self, server: ScriptedServer) -> None:
        """A voice-design model the spec does not know is sent, with an UnknownModelWarning."""
        forget_warned_models()
        server.reply(json_reply({"id": "v1"}))
        source: Any = {"type": "text", "model": "eleven_ttv_v9", "prompt": PROMPT}
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.warns(UnknownModelWarning, match="eleven_ttv_v9"):
                await client.voices.create(from_=source, name="Narrator")
        forget_warned_models()
        assert server.requests[0].json()["from"]["model"] == "eleven_ttv_v9"


class TestWire:
    """What the scripted server says, and what was sent."""

    async def test_request_shape(self, server: ScriptedServer) -> None:
        """from_ goes out as "from"; description=None as null, left out when not given."""
        server.reply(json_reply({"id": "v1"}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            await client.voices.create(from_=FROM_TEXT, name="Narrator", description=None)
            await client.voices.create(from_=FROM_TEXT, name="Narrator")
        assert server.requests[0].json() == {
            "from": {"type": "text", "model": "eleven_ttv_v3", "prompt": PROMPT},
            "name": "Narrator",
            "description": None,
        }
        assert "description" not in server.requests[1].json()

    async def test_unknown_status_and_fields(self, server: ScriptedServer) -> None:
        """A new status gives UnknownVoice; new keys land in extra."""
        server.reply(
            json_reply(voice_body("MODERATING", language="en")),
            json_reply(voice_body("READY", previewUrl=None, gender="f")),
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            unknown = await client.voices.retrieve("v1")
            ready = await client.voices.retrieve("v1")
        assert isinstance(unknown, UnknownVoice)
        assert unknown.status == "MODERATING"
        assert unknown.extra == {"language": "en"}
        assert isinstance(ready, ReadyVoice)
        assert ready.preview_url is None
        assert ready.extra == {"gender": "f"}


class TestOfficialSdk:
    """The official SDK and ours see the same voices on the emulator."""

    async def test_official_create_our_wait(self, emulator: Emulator, client: AsyncRunway) -> None:
        """A voice the official SDK creates is waited to READY by ours."""
        async with runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emulator.url) as official:
            created = await official.voices.create(from_=FROM_TEXT, name="Narrator")
            ready = await client.voices.wait(created.id)
            theirs = await official.voices.retrieve(created.id)
        assert ready.name == "Narrator"
        assert theirs.status == "READY"
