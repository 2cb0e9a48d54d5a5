"""Request shape of every task-creating endpoint: URL, headers and camelCase body.

These unit tests patch aiohttp with aioresponses, which only works on aiohttp < 3.14; the
nox ``tests(aiohttp='3.13')`` session runs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

aioresponses_module = pytest.importorskip("aioresponses")

from runway_async import AsyncRunway, Cost, InvalidRequestError, TaskHandle  # noqa: E402
from runway_async._spec import ENDPOINTS, EndpointSpec  # noqa: E402

from .conftest import API_KEY, endpoint_method  # noqa: E402
from .test_spec import minimal_params, sample  # noqa: E402

pytestmark = pytest.mark.aioresponses

BASE = "https://api.dev.runwayml.com"


def current_variants() -> Iterator[Any]:
    for name, endpoint in ENDPOINTS.items():
        for variant in endpoint.variants:
            if not variant.legacy:
                yield pytest.param(name, variant.value, id=f"{name}:{variant.value or '-'}")


def reply_for(spec: EndpointSpec) -> dict[str, Any]:
    if spec.response == "routed":
        return {
            "id": "task-1",
            "routing": {
                "configId": "my-router",
                "model": "gen4.5",
                "provider": "runway",
                "estimatedCost": {"credits": 12},
                "resolvedInput": {},
                "resolvedSettings": {"optimizeFor": "cost", "priceCeiling": None},
            },
        }
    if spec.response == "id_only":
        return {"id": "task-1"}
    return {"id": "task-1", "estimatedCost": {"credits": 12}}


@pytest.fixture
def mocked() -> Iterator[Any]:
    with aioresponses_module.aioresponses() as m:
        yield m


class TestEveryEndpoint:
    """Each endpoint and model sends the right request and returns a handle."""

    @pytest.mark.parametrize(("endpoint", "value"), list(current_variants()))
    async def test_request_shape(self, mocked: Any, endpoint: str, value: str | None) -> None:
        """The call POSTs the camelCase body to the endpoint's path with our headers."""
        spec = ENDPOINTS[endpoint]
        variant = spec.variant_for(value)
        params = minimal_params(spec, variant)
        expected_body = sample(variant.body, python=False)
        if spec.discriminator is not None:
            expected_body = {spec.discriminator: value, **expected_body}
        mocked.post(BASE + spec.path, payload=reply_for(spec))
        async with AsyncRunway(API_KEY) as client:
            handle = await endpoint_method(client, endpoint)(**params)
        assert isinstance(handle, TaskHandle)
        assert handle.id == "task-1"
        assert handle.endpoint == endpoint
        if spec.response != "id_only":
            assert handle.estimated_cost == Cost(12)
        (key, calls), *_ = mocked.requests.items()
        assert key[0] == "POST"
        assert str(key[1]) == BASE + spec.path
        call = calls[0]
        assert call.kwargs["json"] == expected_body
        headers = call.kwargs["headers"]
        assert headers["Authorization"] == f"Bearer {API_KEY}"
        assert headers["X-Runway-Version"] == "2024-11-06"
        assert headers["User-Agent"].startswith("runway-async/")


class TestBodies:
    """Python keyword names and nested snake_case keys become the API's camelCase."""

    async def test_image_to_video_official_example(self, mocked: Any) -> None:
        """The official README call sends camelCase keys and returns the estimate."""
        mocked.post(
            BASE + "/v1/image_to_video", payload={"id": "t", "estimatedCost": {"credits": 25}}
        )
        async with AsyncRunway(API_KEY) as client:
            task = await client.image_to_video.create(
                model="gen4.5",
                prompt_image="https://example.com/a.png",
                prompt_text="A cat",
                ratio="1280:720",
                duration=5,
                content_moderation={"public_figure_threshold": "low"},
            )
        assert task.model == "gen4.5"
        body = next(iter(mocked.requests.values()))[0].kwargs["json"]
        assert body == {
            "model": "gen4.5",
            "promptImage": "https://example.com/a.png",
            "promptText": "A cat",
            "ratio": "1280:720",
            "duration": 5,
            "contentModeration": {"publicFigureThreshold": "low"},
        }

    async def test_nested_voice(self, mocked: Any) -> None:
        """voice={'type': ..., 'preset_id': ...} is sent as presetId."""
        mocked.post(BASE + "/v1/text_to_speech", payload={"id": "t"})
        async with AsyncRunway(API_KEY) as client:
            await client.text_to_speech.create(
                model="eleven_multilingual_v2",
                prompt_text="Hello",
                voice={"type": "runway-preset", "preset_id": "Leslie"},
            )
        body = next(iter(mocked.requests.values()))[0].kwargs["json"]
        assert body["voice"] == {"type": "runway-preset", "presetId": "Leslie"}

    async def test_keyframe_ranges_stay_snake_case(self, mocked: Any) -> None:
        """start_seconds/end_seconds are snake_case on the wire too."""
        mocked.post(BASE + "/v1/generate/video", payload=reply_for(ENDPOINTS["generate.video"]))
        async with AsyncRunway(API_KEY) as client:
            task = await client.generate.video.create(
                config_id="my-router",
                input={
                    "prompt_text": "a dog",
                    "reference_videos": [{"role": "source", "uri": "https://example.com/v.mp4"}],
                    "keyframes": [
                        {
                            "uri": "https://example.com/k.png",
                            "seconds": 1.0,
                            "range": {"start_seconds": 0, "end_seconds": 2},
                        }
                    ],
                },
            )
        assert task.routing is not None
        assert task.routing.model == "gen4.5"
        body = next(iter(mocked.requests.values()))[0].kwargs["json"]
        assert body["configId"] == "my-router"
        assert body["input"]["keyframes"][0]["range"] == {"start_seconds": 0, "end_seconds": 2}
        assert body["input"]["referenceVideos"] == [
            {"role": "source", "uri": "https://example.com/v.mp4"}
        ]

    async def test_invalid_params_send_nothing(self, mocked: Any) -> None:
        """A bad ratio fails before any request, naming the field and the allowed values."""
        async with AsyncRunway(API_KEY) as client:
            with pytest.raises(InvalidRequestError) as info:
                await client.image_to_video.create(
                    model="gen4.5",
                    prompt_image="https://example.com/a.png",
                    prompt_text="A cat",
                    ratio="1920:1080",  # type: ignore[arg-type]
                    duration=5,
                )
        assert info.value.field == "ratio"
        assert info.value.allowed is not None
        assert "1280:720" in info.value.allowed
        assert mocked.requests == {}

    async def test_malformed_create_reply(self, mocked: Any) -> None:
        """A create reply without an id is ambiguous (the task may exist), with the raw body."""
        from runway_async import AmbiguousSubmissionError

        mocked.post(BASE + "/v1/text_to_image", body="<html>oops</html>", status=200)
        async with AsyncRunway(API_KEY) as client:
            with pytest.raises(AmbiguousSubmissionError) as info:
                await client.text_to_image.create(
                    model="gen4_image", prompt_text="x", ratio="1920:1080"
                )
        assert info.value.body == "<html>oops</html>"

    async def test_loopback_media_only_for_loopback_clients(self, mocked: Any) -> None:
        """http:// media URLs on loopback pass only when the client itself talks to loopback."""
        params: dict[str, Any] = {
            "model": "gen4.5",
            "prompt_image": "http://127.0.0.1:8000/_emulator/outputs/t/0.png",
            "prompt_text": "A cat",
            "ratio": "1280:720",
            "duration": 5,
        }
        async with AsyncRunway(API_KEY) as client:
            with pytest.raises(InvalidRequestError) as info:
                await client.image_to_video.create(**params)
        assert info.value.field == "prompt_image"
        mocked.post("http://127.0.0.1:9/v1/image_to_video", payload={"id": "t"})
        async with AsyncRunway(API_KEY, base_url="http://127.0.0.1:9") as client:
            await client.image_to_video.create(**params)
        assert json.loads(json.dumps(next(iter(mocked.requests.values()))[0].kwargs["json"]))
