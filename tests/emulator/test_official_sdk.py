"""Conformance: the official ``runwayml`` SDK, unchanged, against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
import pytest_asyncio

from runway_async.emulator import Emulator, EmulatorConfig

from ..conftest import API_KEY
from .conftest import FakeClock

runwayml = pytest.importorskip("runwayml")

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def official(emulator: Emulator) -> AsyncIterator[Any]:
    """Return the official async client pointed at the emulator, with retries off."""
    async with runwayml.AsyncRunwayML(
        api_key=API_KEY, base_url=emulator.url, max_retries=0
    ) as client:
        yield client


# (resource path on the official client, keyword arguments), bodies from the reference.
CREATES: list[tuple[str, dict[str, Any]]] = [
    ("text_to_image", {"model": "gen4_image", "prompt_text": "a red fox", "ratio": "1920:1080"}),
    (
        "image_to_video",
        {"model": "gen4_turbo", "prompt_image": "https://example.com/cat.png", "ratio": "1280:720"},
    ),
    (
        "text_to_speech",
        {
            "model": "eleven_multilingual_v2",
            "prompt_text": "Hello there.",
            "voice": {"type": "runway-preset", "preset_id": "Maya"},
        },
    ),
    (
        "avatar_videos",
        {
            "model": "gwm1_avatars",
            "avatar": {"type": "runway-preset", "preset_id": "influencer"},
            "speech": {"type": "text", "text": "Welcome!"},
        },
    ),
    ("generate.video", {"config_id": "default", "input": {"prompt_text": "a calm lake"}}),
]


def resource(client: Any, path: str) -> Any:
    for part in path.split("."):
        client = getattr(client, part)
    return client


class TestOfficialSDK:
    @pytest.mark.parametrize(("path", "kwargs"), CREATES, ids=[c[0] for c in CREATES])
    async def test_create_and_retrieve(
        self, official: Any, path: str, kwargs: dict[str, Any]
    ) -> None:
        """The official SDK creates a task and reads it back as one of its task types."""
        created = await resource(official, path).create(**kwargs)
        assert created.id
        task = await official.tasks.retrieve(created.id)
        assert task.id == created.id
        assert task.status in {"PENDING", "THROTTLED", "RUNNING", "SUCCEEDED"}

    async def test_create_reply_carries_the_estimate(self, official: Any) -> None:
        """A TaskCreated reply parses with its estimatedCost."""
        created = await official.text_to_image.with_raw_response.create(**CREATES[0][1])
        data = await created.json()
        assert set(data) == {"id", "estimatedCost"}

    async def test_every_status_parses(self) -> None:
        """THROTTLED, PENDING, RUNNING, SUCCEEDED and FAILED tasks parse as the official types."""
        clock = FakeClock()
        config = EmulatorConfig(concurrency=1, jitter=0.0, durations={"image": 10.0})
        seen: dict[str, Any] = {}
        for failure_rate in (0.0, 1.0):
            emu = Emulator.from_config(attrs.evolve(config, failure_rate=failure_rate), clock=clock)
            async with (
                emu,
                runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as client,
            ):
                first = await client.text_to_image.create(**CREATES[0][1])
                second = await client.text_to_image.create(**CREATES[0][1])
                for step in (0.0, 5.0, 100.0):
                    clock.tick(step)
                    for task_id in (first.id, second.id):
                        task = await client.tasks.retrieve(task_id)
                        seen[task.status] = task
        assert set(seen) == {"PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED"}
        assert 0 <= seen["RUNNING"].progress < 1
        assert seen["SUCCEEDED"].output
        assert seen["SUCCEEDED"].cost.credits > 0
        assert seen["FAILED"].failure
        assert seen["FAILED"].failure_code

    async def test_delete_cancels_then_deletes(self) -> None:
        """tasks.delete cancels, deletes, and then retrieve raises NotFoundError."""
        # Simulated time stands still, so the task cannot end before the first delete.
        emu = Emulator.from_config(EmulatorConfig(), clock=FakeClock())
        async with (
            emu,
            runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as client,
        ):
            created = await client.text_to_image.create(**CREATES[0][1])
            assert await client.tasks.delete(created.id) is None
            task = await client.tasks.retrieve(created.id)
            assert task.status == "CANCELLED"
            assert task.cost.credits == 0
            await client.tasks.delete(created.id)
            with pytest.raises(runwayml.NotFoundError):
                await client.tasks.retrieve(created.id)

    async def test_organization(self, official: Any) -> None:
        """organization.retrieve parses, with limits for the models."""
        org = await official.organization.retrieve()
        assert org.credit_balance > 0
        assert org.tier.models["gen4_image"].max_concurrent_generations == 5
        assert "gen4_image" in org.usage.models

    async def test_invalid_body_is_bad_request(self, official: Any) -> None:
        """An invalid body gets a 400 that the official SDK maps to BadRequestError."""
        with pytest.raises(runwayml.BadRequestError) as info:
            await official.text_to_image.create(model="gen4_image", prompt_text="x", ratio="1:1")
        assert "ratio" in str(info.value)

    async def test_daily_limit_is_rate_limit_error(self, official: Any) -> None:
        """A 429 at creation maps to the official SDK's RateLimitError."""
        async with (
            Emulator(daily_limit=0) as emu,
            runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as client,
        ):
            with pytest.raises(runwayml.RateLimitError):
                await client.text_to_image.create(**CREATES[0][1])
