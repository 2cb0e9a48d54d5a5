"""The endpoint spec (api.json), its conversion to wire bodies and its validator."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from importlib import resources
from types import MappingProxyType
from typing import Any

import pytest

from runway_async import InvalidRequestError
from runway_async._spec import (
    ENDPOINTS,
    PLAIN_ENDPOINTS,
    EndpointSpec,
    TypeSpec,
    ValidationIssue,
    VariantSpec,
    describe,
    get_endpoint,
    get_plain_endpoint,
    to_wire,
    validate_wire,
)
from runway_async._spec._dates import format_iso, parse_iso
from runway_async._spec._model import load_endpoints, load_plain_endpoints
from runway_async._spec._wire import _Converter

ENDPOINT_NAMES = [
    "image_to_video",
    "text_to_video",
    "video_to_video",
    "text_to_image",
    "character_performance",
    "image_upscale",
    "video_upscale",
    "video_to_hdr",
    "video_to_audio",
    "sound_effect",
    "text_to_speech",
    "speech_to_speech",
    "voice_dubbing",
    "voice_isolation",
    "avatar_videos",
    "recipes.ad_localization",
    "recipes.marketing_stock_image",
    "recipes.multi_shot_video",
    "recipes.product_ad",
    "recipes.product_campaign_image",
    "recipes.product_swap",
    "recipes.product_ugc",
    "generate.video",
    "generate.image",
    "generate.audio",
]

IMAGE = "https://example.com/frame.png"
VIDEO = "https://example.com/clip.mp4"
AUDIO = "https://example.com/voice.mp3"
MEDIA_SAMPLES = {"image": IMAGE, "video": VIDEO, "audio": AUDIO}


# --------------------------------------------------------------------------------------------
# Sample bodies built from the spec (also used by test_generated_endpoints)
# --------------------------------------------------------------------------------------------


def sample(node: TypeSpec, *, python: bool = True) -> Any:
    """Return a small valid value of a type, with Python (or wire) keys in objects."""
    if node.enum:
        return node.enum[0]
    kind = node.kind
    if kind == "union":
        return sample(node.any_of[0], python=python)
    if kind == "string":
        if node.media is not None:
            return MEDIA_SAMPLES[node.media]
        return "x" * max(node.min_length or 1, 3)
    if kind in ("integer", "number"):
        if node.minimum is not None:
            return int(node.minimum) if kind == "integer" else node.minimum
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        assert node.items is not None
        return [sample(node.items, python=python) for _ in range(max(node.min_items or 1, 1))]
    if kind == "object":
        return {
            (member.python_name if python else wire): sample(member.type, python=python)
            for wire, member in node.fields.items()
            if member.required
        }
    if kind == "map":
        return {}
    return {"uri": IMAGE}


def minimal_params(endpoint: EndpointSpec, variant: VariantSpec) -> dict[str, Any]:
    """Return the smallest valid keyword parameters of one variant (Python names)."""
    params: dict[str, Any] = sample(variant.body)
    if endpoint.discriminator is not None:
        params = {endpoint.discriminator: variant.value, **params}
    return params


def all_variants() -> Iterator[Any]:
    """Yield one pytest param per (endpoint, variant)."""
    for name, endpoint in ENDPOINTS.items():
        for variant in endpoint.variants:
            yield pytest.param(name, variant.value, id=f"{name}:{variant.value or '-'}")


def variant_of(endpoint: str, value: str | None) -> tuple[EndpointSpec, VariantSpec]:
    """Return an endpoint's spec and one of its variants."""
    spec = get_endpoint(endpoint)
    return spec, spec.variant_for(value)


def rejects(endpoint: str, params: dict[str, Any], **kwargs: Any) -> InvalidRequestError:
    """Return the error ``to_wire`` raises for these parameters."""
    with pytest.raises(InvalidRequestError) as info:
        to_wire(endpoint, params, **kwargs)
    assert info.value.endpoint == endpoint
    return info.value


def without_hint(error: InvalidRequestError) -> str:
    """Return an error's message without its closing how-to-send-it-anyway hint."""
    text, hint, _ = str(error).partition(" To send it anyway: ")
    assert hint, "the message has no hint"
    return text


def gen45(**extra: Any) -> dict[str, Any]:
    """Return valid gen4.5 image_to_video parameters, updated with ``extra``."""
    params: dict[str, Any] = {
        "model": "gen4.5",
        "prompt_image": IMAGE,
        "prompt_text": "A cat walks",
        "ratio": "1280:720",
        "duration": 5,
    }
    params.update(extra)
    return params


def walk(node: TypeSpec) -> Iterator[TypeSpec]:
    """Yield a node and every node below it."""
    yield node
    for member in node.fields.values():
        yield from walk(member.type)
    for child in (node.items, node.values, *node.any_of):
        if child is not None:
            yield from walk(child)


# --------------------------------------------------------------------------------------------
# Reference examples (shapes from the API reference), as Python keyword parameters
# --------------------------------------------------------------------------------------------

EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (
        "image_to_video",
        gen45(
            seed=42,
            content_moderation={"public_figure_threshold": "low"},
            output_format="prores",
            prores_profile="4444",
        ),
    ),
    (
        "image_to_video",
        {
            "model": "veo3.1",
            "ratio": "1920:1080",
            "duration": 8,
            "audio": True,
            "negative_prompt": "blur",
            "prompt_image": [
                {"uri": IMAGE, "position": "first"},
                {"uri": "runway://upload/last", "position": "last"},
            ],
        },
    ),
    (
        "image_to_video",
        {
            "model": "klingO3_4k",
            "prompt_image": IMAGE,
            "references": IMAGE,
            "provider_settings": {
                "multi_prompt": [{"prompt": "a", "duration": 5}, {"prompt": "b", "duration": 5}],
                "shot_type": "customize",
            },
        },
    ),
    (
        "image_to_video",
        {
            "model": "seedance2",
            "prompt_image": [{"uri": IMAGE}],
            "duration": "auto",
            "reference_audio": [{"type": "audio", "uri": "runway://a"}],
        },
    ),
    (
        "image_to_video",
        {
            "model": "hailuo3",
            "prompt_image": [{"uri": IMAGE, "position": "first"}],
            "prompt_text": "waves",
            "resolution": "2k",
        },
    ),
    (
        "text_to_video",
        {"model": "gen4.5", "prompt_text": "A fox", "ratio": "720:1280", "duration": 10},
    ),
    ("text_to_video", {"model": "seedance2_5", "draft_task_id": "7f3c"}),
    ("text_to_video", {"model": "kling3.0_pro", "ratio": "1440:1440", "cfg_scale": 0.5}),
    (
        "video_to_video",
        {
            "model": "aleph2",
            "video_uri": VIDEO,
            "target_aspect_ratio": "21:9",
            "keyframes": [
                {"uri": IMAGE, "seconds": 1.5, "range": {"start_seconds": 0, "end_seconds": 3}},
                {"uri": IMAGE, "at": 0.9},
            ],
        },
    ),
    (
        "video_to_video",
        {
            "model": "seedance2_5",
            "prompt_video": VIDEO,
            "mode": "edit",
            "prompt_text": "make it night",
            "duration": "auto",
        },
    ),
    (
        "text_to_image",
        {
            "model": "gen4_image_turbo",
            "prompt_text": "@hero in a field",
            "ratio": "1920:1080",
            "reference_images": [{"uri": IMAGE, "tag": "hero"}],
        },
    ),
    (
        "text_to_image",
        {
            "model": "gemini_image3.1_flash",
            "prompt_text": "portrait",
            "ratio": "1024:1024",
            "output_count": 4,
            "reference_images": [{"uri": IMAGE, "subject": "human"}],
        },
    ),
    ("text_to_image", {"model": "seedream5_lite", "prompt_text": "city", "ratio": "3000:2000"}),
    (
        "text_to_image",
        {
            "model": "gpt_image_2",
            "prompt_text": "logo",
            "ratio": "auto",
            "background": "transparent",
            "output_count": 10,
        },
    ),
    (
        "character_performance",
        {
            "model": "act_two",
            "character": {"type": "image", "uri": IMAGE},
            "reference": {"type": "video", "uri": VIDEO},
            "expression_intensity": 5,
            "body_control": True,
            "seed": 4294967295,
        },
    ),
    (
        "image_upscale",
        {
            "model": "magnific_precision_upscaler_v2",
            "image_uri": IMAGE,
            "scale_factor": 4,
            "sharpen": 100,
            "flavor": "photo",
        },
    ),
    (
        "video_upscale",
        {"model": "enhance_frame_rate", "video_uri": VIDEO, "target_framerate": "23_98"},
    ),
    (
        "video_to_hdr",
        {
            "model": "ruby",
            "video_uri": VIDEO,
            "output_format": "hdr_prores",
            "prores_profile": "422 HQ",
        },
    ),
    (
        "video_to_audio",
        {"model": "mirelo_sfx_2_0", "video_uri": VIDEO, "duration": 4.5, "format": "wav"},
    ),
    (
        "sound_effect",
        {
            "model": "seed_audio",
            "prompt_text": "rain on @Audio1",
            "reference_audios": [AUDIO],
            "sample_rate": 48000,
        },
    ),
    (
        "sound_effect",
        {"model": "eleven_text_to_sound_v2", "prompt_text": "door", "duration": 0.5, "loop": True},
    ),
    (
        "text_to_speech",
        {
            "model": "eleven_v3",
            "prompt_text": "[whispers] hello",
            "voice": {"type": "runway-preset", "preset_id": "Leslie"},
            "speed": 1.2,
            "stability": 0,
            "seed": 0,
        },
    ),
    (
        "text_to_speech",
        {
            "model": "seed_audio",
            "prompt_text": "hello",
            "voice": {"type": "reference-audio", "audio_uri": AUDIO},
        },
    ),
    (
        "speech_to_speech",
        {
            "model": "eleven_multilingual_sts_v2",
            "media": {"type": "video", "uri": VIDEO},
            "voice": {"type": "runway-preset", "preset_id": "Maya"},
        },
    ),
    ("voice_dubbing", {"model": "eleven_voice_dubbing", "audio_uri": AUDIO, "target_lang": "fil"}),
    ("voice_isolation", {"model": "eleven_voice_isolation", "audio_uri": "runway://x"}),
    (
        "avatar_videos",
        {
            "model": "gwm1_avatars",
            "avatar": {"type": "runway-preset", "preset_id": "cooking-teacher"},
            "speech": {
                "type": "text",
                "text": "Hi!",
                "voice": {"type": "preset", "preset_id": "luna"},
            },
        },
    ),
    (
        "avatar_videos",
        {
            "model": "gwm1_avatars",
            "avatar": {"type": "custom", "avatar_id": "a1"},
            "speech": {"type": "audio", "audio": "data:audio/mpeg;base64,SUQz"},
        },
    ),
    (
        "recipes.ad_localization",
        {"version": "2026-06", "target_language": "zh-Hant", "reference_image": {"uri": IMAGE}},
    ),
    (
        "recipes.marketing_stock_image",
        {"version": "unsafe-latest", "prompt": "desk", "output_count": 4, "quality": "low"},
    ),
    ("recipes.multi_shot_video", {"mode": "auto", "version": "2026-06", "prompt": "a day"}),
    (
        "recipes.multi_shot_video",
        {
            "mode": "custom",
            "version": "2026-06",
            "duration": 15,
            "shots": [{"prompt": p, "duration": 5} for p in "abc"],
        },
    ),
    (
        "recipes.product_ad",
        {
            "version": "2026-07",
            "product_images": [{"uri": IMAGE}],
            "style_images": [{"uri": IMAGE}] * 4,
            "duration": 15,
        },
    ),
    (
        "recipes.product_campaign_image",
        {"version": "2026-06", "prompt": "summer", "image": {"uri": IMAGE}},
    ),
    (
        "recipes.product_swap",
        {
            "version": "2026-06",
            "original_product_image": {"uri": IMAGE},
            "reference_video": {"uri": VIDEO},
            "resolution": "1080p",
            "new_product_images": [{"uri": IMAGE, "view": "side"}],
        },
    ),
    (
        "recipes.product_ugc",
        {
            "version": "2026-06",
            "character_image": {"uri": IMAGE},
            "product_image": {"uri": IMAGE},
            "ratio": "1080:1920",
        },
    ),
    (
        "generate.video",
        {
            "config_id": "my-router",
            "input": {
                "prompt_text": "drone shot",
                "aspect_ratio": "16:9",
                "reference_videos": [{"role": "source", "uri": VIDEO}],
                "keyframes": [{"uri": IMAGE, "at": 0.5}],
            },
        },
    ),
    (
        "generate.image",
        {"config_id": "r", "input": {"prompt_text": "cat", "output_count": 2, "resolution": "2k"}},
    ),
    (
        "generate.audio",
        {
            "config_id": "r",
            "input": {
                "prompt_text": "hi",
                "type": "speech",
                "voice": {"type": "preset", "preset_id": "Rachel"},
            },
        },
    ),
]


class TestSpecData:
    def test_endpoints_are_the_task_creating_ones(self) -> None:
        """The spec holds exactly the 25 task-creating endpoints, workflows excluded."""
        assert sorted(ENDPOINTS) == sorted(ENDPOINT_NAMES)
        assert len(ENDPOINTS) == 25

    @pytest.mark.parametrize(
        ("name", "path", "discriminator", "response"),
        [
            ("image_to_video", "/v1/image_to_video", "model", "task_created"),
            ("character_performance", "/v1/character_performance", "model", "task_created"),
            ("avatar_videos", "/v1/avatar_videos", "model", "id_only"),
            ("recipes.multi_shot_video", "/v1/recipes/multi_shot_video", "mode", "task_created"),
            ("recipes.product_ad", "/v1/recipes/product_ad", None, "task_created"),
            ("generate.video", "/v1/generate/video", None, "routed"),
            ("generate.audio", "/v1/generate/audio", None, "routed"),
        ],
    )
    def test_endpoint_metadata(
        self, name: str, path: str, discriminator: str | None, response: str
    ) -> None:
        """Each endpoint records its POST path, discriminator and reply kind."""
        spec = get_endpoint(name)
        assert (spec.name, spec.method, spec.path) == (name, "POST", path)
        assert (spec.discriminator, spec.response) == (discriminator, response)

    def test_models_list_every_variant_with_legacy_flagged(self) -> None:
        """Models include the legacy variants, which are flagged with their source SDK."""
        i2v = get_endpoint("image_to_video")
        assert i2v.models[:2] == ("gen4.5", "gen4_turbo")
        assert set(i2v.legacy_models) == {"veo3", "gen3a_turbo"}
        assert get_endpoint("video_to_video").legacy_models == ("gen4_aleph",)
        assert i2v.variant_for("veo3").legacy_source == "runwayml 5.13.0 (HEAD)"
        assert get_endpoint("recipes.multi_shot_video").models == ("auto", "custom")
        assert get_endpoint("recipes.product_ad").models == ()

    def test_python_names_follow_the_snake_case_rule(self) -> None:
        """Every field's Python name is its wire name with ``_`` before capitals, lower-cased."""
        for endpoint in ENDPOINTS.values():
            for variant in endpoint.variants:
                for node in walk(variant.body):
                    for wire, member in node.fields.items():
                        expected = re.sub(r"([A-Z])", r"_\1", wire).lower()
                        assert member.python_name == expected
                        assert member.description, (endpoint.name, wire)
        keyframe = get_endpoint("video_to_video").variant_for("aleph2").fields["keyframes"]
        assert keyframe.type.items is not None
        range_node = keyframe.type.items.any_of[0].fields["range"].type
        assert {m.python_name for m in range_node.fields.values()} == {
            "start_seconds",
            "end_seconds",
        }

    def test_media_fields_record_their_kind(self) -> None:
        """Media URI strings carry the media kind the reference gives them."""
        i2v = get_endpoint("image_to_video").variant_for("gen4.5")
        assert i2v.fields["promptImage"].type.any_of[0].media == "image"
        v2v = get_endpoint("video_to_video").variant_for("seedance2")
        assert v2v.fields["promptVideo"].type.media == "video"
        ref_audio = v2v.fields["referenceAudio"].type.items
        assert ref_audio is not None
        assert ref_audio.fields["uri"].type.media == "audio"
        tts = get_endpoint("text_to_speech").variant_for("seed_audio")
        assert tts.fields["voice"].type.fields["audioUri"].type.media == "audio"
        assert tts.fields["promptText"].type.media is None

    def test_reference_facts_are_added_to_the_schema(self) -> None:
        """Counts, ranges and UTF-16 lengths from the reference's notes are in the spec."""
        kling = get_endpoint("image_to_video").variant_for("klingO3_4k")
        refs = next(b for b in kling.fields["references"].type.any_of if b.kind == "array")
        assert refs.max_items == 7
        gen45_text = get_endpoint("image_to_video").variant_for("gen4.5").fields["promptText"]
        assert (gen45_text.type.max_length, gen45_text.type.utf16) == (1000, True)
        speech = get_endpoint("avatar_videos").variant_for("gwm1_avatars").fields["speech"]
        text = next(b for b in speech.type.any_of if "text" in b.fields).fields["text"].type
        assert (text.min_length, text.max_length, text.utf16) == (1, 1000, False)
        act_two = get_endpoint("character_performance").variant_for("act_two")
        assert act_two.fields["seed"].type.maximum == 4294967295
        assert act_two.fields["expressionIntensity"].type.minimum == 1
        shots = get_endpoint("recipes.multi_shot_video").variant_for("custom").fields["shots"]
        assert (shots.type.min_items, shots.type.max_items) == (3, 5)

    def test_unconfirmed_constraints_are_flagged(self) -> None:
        """Constraints the reference marks unconfirmed are recorded with the flag."""
        turbo = get_endpoint("image_to_video").variant_for("gen4_turbo").fields["duration"]
        assert (turbo.type.minimum, turbo.type.maximum, turbo.type.unconfirmed) == (2, 10, True)

    def test_api_json_is_package_data(self) -> None:
        """The spec ships inside the package and parses as the documented layout."""
        text = resources.files("runway_async._spec").joinpath("api.json").read_text("utf-8")
        data = json.loads(text)
        assert data["format_version"] == 2
        assert set(data["endpoints"]) == set(ENDPOINT_NAMES)
        assert set(load_endpoints(data)) == set(ENDPOINT_NAMES)

    def test_unknown_endpoint_lists_the_known_ones(self) -> None:
        """An unknown endpoint name raises InvalidRequestError listing the known names."""
        with pytest.raises(InvalidRequestError, match="Unknown endpoint 'image_to_vid'") as info:
            get_endpoint("image_to_vid")
        assert info.value.allowed is not None
        assert "image_to_video" in info.value.allowed

    def test_variant_for_an_unknown_value_lists_every_model(self) -> None:
        """variant_for raises InvalidRequestError listing every model, legacy ones included."""
        with pytest.raises(InvalidRequestError) as info:
            get_endpoint("text_to_video").variant_for("gen5")
        assert info.value.field == "model"
        assert info.value.allowed == get_endpoint("text_to_video").models
        assert "'veo3'" in str(info.value)

    def test_endpoints_mapping_behaves_like_a_mapping(self) -> None:
        """ENDPOINTS is a read-only mapping of names to EndpointSpec."""
        assert isinstance(ENDPOINTS["text_to_image"], EndpointSpec)
        assert "generate.image" in ENDPOINTS
        assert len(list(ENDPOINTS)) == len(ENDPOINTS) == 25


class TestValidBodies:
    @pytest.mark.parametrize(("endpoint", "value"), list(all_variants()))
    def test_minimal_body_built_from_the_spec_is_accepted(
        self, endpoint: str, value: str | None
    ) -> None:
        """Every endpoint and model accepts a body made of its required fields only."""
        spec, variant = variant_of(endpoint, value)
        params = minimal_params(spec, variant)
        body = to_wire(endpoint, params)
        assert validate_wire(endpoint, body) == []
        if spec.discriminator is not None:
            assert body[spec.discriminator] == value
        assert set(body) - {spec.discriminator} == set(variant.required)

    @pytest.mark.parametrize(
        ("endpoint", "params"), EXAMPLES, ids=[f"{e}-{i}" for i, (e, _) in enumerate(EXAMPLES)]
    )
    def test_reference_examples_are_accepted(self, endpoint: str, params: dict[str, Any]) -> None:
        """Realistic calls shaped like the reference's examples convert and validate."""
        body = to_wire(endpoint, params)
        assert validate_wire(endpoint, body) == []
        assert json.loads(json.dumps(body)) == body

    def test_wire_body_of_an_example(self) -> None:
        """A nested call converts to exactly the expected camelCase body."""
        body = to_wire(
            "video_to_video",
            {
                "model": "aleph2",
                "video_uri": VIDEO,
                "content_moderation": {"public_figure_threshold": "auto"},
                "keyframes": [
                    {"uri": IMAGE, "at": 0.5, "range": {"start_seconds": 1, "end_seconds": 2}}
                ],
            },
        )
        assert body == {
            "model": "aleph2",
            "videoUri": VIDEO,
            "contentModeration": {"publicFigureThreshold": "auto"},
            "keyframes": [
                {"uri": IMAGE, "at": 0.5, "range": {"start_seconds": 1, "end_seconds": 2}}
            ],
        }


class TestConversion:
    def test_nested_snake_case_keys_become_camel_case(self) -> None:
        """Nested objects take the official SDK's snake_case keys and send wire names."""
        body = to_wire(
            "text_to_speech",
            {
                "model": "eleven_v4",
                "prompt_text": "hi",
                "use_speaker_boost": True,
                "voice": {"type": "runway-preset", "preset_id": "Leslie"},
            },
        )
        assert body == {
            "model": "eleven_v4",
            "promptText": "hi",
            "useSpeakerBoost": True,
            "voice": {"type": "runway-preset", "presetId": "Leslie"},
        }

    def test_wire_names_are_accepted_in_nested_objects(self) -> None:
        """A nested object may also use the wire (camelCase) name of a known field."""
        body = to_wire(
            "generate.audio",
            {
                "config_id": "r",
                "input": {
                    "promptText": "hi",
                    "type": "speech",
                    "voice": {"type": "preset", "presetId": "Maya"},
                },
            },
        )
        assert body["input"] == {
            "promptText": "hi",
            "type": "speech",
            "voice": {"type": "preset", "presetId": "Maya"},
        }

    def test_a_field_given_under_both_names_is_refused(self) -> None:
        """Giving one field as both its Python and its wire name raises."""
        error = rejects(
            "speech_to_speech",
            {
                "model": "eleven_multilingual_sts_v2",
                "media": {"type": "audio", "uri": AUDIO},
                "voice": {"type": "runway-preset", "preset_id": "Maya", "presetId": "Maya"},
            },
        )
        assert error.field == "voice.preset_id"
        assert "given twice" in str(error)

    def test_start_and_end_seconds_stay_snake_case(self) -> None:
        """start_seconds/end_seconds are snake_case on the wire and are sent unchanged."""
        body = to_wire(
            "generate.video",
            {
                "config_id": "r",
                "input": {
                    "keyframes": [
                        {
                            "uri": IMAGE,
                            "seconds": 2,
                            "range": {"start_seconds": 0, "end_seconds": 4},
                        }
                    ]
                },
            },
        )
        assert body["input"]["keyframes"][0]["range"] == {"start_seconds": 0, "end_seconds": 4}

    def test_any_sequence_and_mapping_become_plain_json(self) -> None:
        """Tuples and read-only mappings are accepted and come out as lists and dicts."""
        params = MappingProxyType(
            {
                "model": "veo3.1",
                "ratio": "1280:720",
                "prompt_image": (MappingProxyType({"uri": IMAGE, "position": "first"}),),
            }
        )
        body = to_wire("image_to_video", params)
        assert body == {
            "model": "veo3.1",
            "ratio": "1280:720",
            "promptImage": [{"uri": IMAGE, "position": "first"}],
        }
        assert type(body["promptImage"]) is list
        assert type(body["promptImage"][0]) is dict

    def test_none_parameters_are_omitted(self) -> None:
        """Top-level None values mean omitted and are not sent."""
        body = to_wire("image_to_video", gen45(seed=None, content_moderation=None))
        assert "seed" not in body
        assert "contentModeration" not in body

    def test_keys_of_user_keyed_maps_are_left_untouched(self) -> None:
        """Keys of a map (user-chosen keys) are kept while its values are converted."""
        spec = load_endpoints(
            {
                "endpoints": {
                    "demo": {
                        "method": "POST",
                        "path": "/v1/demo",
                        "discriminator": None,
                        "response": "task_created",
                        "summary": "Demo.",
                        "variants": [
                            {
                                "title": "Demo",
                                "fields": {
                                    "nodeOutputs": {
                                        "type": "map",
                                        "python_name": "node_outputs",
                                        "required": False,
                                        "description": "Outputs by node.",
                                        "values": {
                                            "type": "object",
                                            "fields": {
                                                "mediaUri": {
                                                    "type": "string",
                                                    "python_name": "media_uri",
                                                    "required": True,
                                                    "description": "URI.",
                                                }
                                            },
                                        },
                                    }
                                },
                            }
                        ],
                    }
                }
            }
        )["demo"]
        variant = spec.variants[0]
        converted = _Converter("demo").convert_object(
            variant.body.keys,
            variant.fields,
            {"node_outputs": {"my_node_1": {"media_uri": "x"}, "otherNode": {"mediaUri": "y"}}},
            (),
            (),
        )
        assert converted == {
            "nodeOutputs": {"my_node_1": {"mediaUri": "x"}, "otherNode": {"mediaUri": "y"}}
        }

    def test_non_string_keys_are_refused(self) -> None:
        """A nested mapping with a non-string key raises InvalidRequestError."""
        error = rejects("image_to_video", gen45(content_moderation={1: "low"}))
        assert error.field == "content_moderation"

    def test_non_mapping_params_are_refused(self) -> None:
        """Parameters that are not a mapping raise InvalidRequestError."""
        with pytest.raises(InvalidRequestError, match="must be a mapping"):
            to_wire("image_to_video", [("model", "gen4.5")])  # type: ignore[arg-type]


class TestValidationErrors:
    def test_missing_required_field(self) -> None:
        """A missing required field is named, in Python and wire form."""
        params = gen45()
        del params["prompt_text"]
        error = rejects("image_to_video", params)
        assert error.field == "prompt_text"
        assert str(error) == "prompt_text (promptText) is required for model 'gen4.5'."

    def test_missing_tag_lists_the_allowed_values(self) -> None:
        """A missing object tag says which values it takes."""
        error = rejects(
            "text_to_speech",
            {"model": "eleven_v3", "prompt_text": "hi", "voice": {"preset_id": "Leslie"}},
        )
        assert error.field == "voice.type"
        assert error.allowed == ("runway-preset",)
        assert "'runway-preset'" in str(error)

    def test_unknown_field_suggests_the_close_match(self) -> None:
        """A misspelt field is reported with the closest allowed name and the allowed list."""
        error = rejects("image_to_video", gen45(promt_text="x"))
        assert error.field == "promt_text"
        assert "did you mean prompt_text?" in str(error)
        assert error.allowed is not None
        assert "prompt_image" in error.allowed
        assert "promptImage" not in error.allowed

    def test_unknown_field_names_the_models_that_accept_it(self) -> None:
        """A field of other models only is reported with the models that take it."""
        error = rejects("image_to_video", gen45(audio=True))
        assert error.field == "audio"
        assert "only models veo3.1, veo3.1_fast" in str(error)

    def test_unknown_nested_field(self) -> None:
        """An unknown key inside a nested object is reported with its dotted path."""
        error = rejects("image_to_video", gen45(content_moderation={"threshold": "low"}))
        assert error.field == "content_moderation.threshold"
        assert error.allowed == ("public_figure_threshold",)

    def test_bad_enum_lists_the_allowed_values(self) -> None:
        """A value outside an enum is reported with every allowed value."""
        error = rejects("image_to_video", gen45(ratio="1920:1080"))
        assert error.field == "ratio"
        assert error.allowed == (
            "1280:720",
            "720:1280",
            "1104:832",
            "960:960",
            "832:1104",
            "1584:672",
        )
        assert without_hint(error) == (
            "ratio must be one of '1280:720', '720:1280', '1104:832', '960:960', '832:1104', "
            "'1584:672' for model 'gen4.5' (got '1920:1080')."
        )

    def test_long_enums_are_abridged_in_the_message_but_complete_in_allowed(self) -> None:
        """Messages name at most 30 enum values; ``allowed`` has them all."""
        error = rejects(
            "text_to_speech",
            {
                "model": "eleven_v3",
                "prompt_text": "hi",
                "voice": {"type": "runway-preset", "preset_id": "Bob"},
            },
        )
        assert error.field == "voice.preset_id"
        assert error.allowed is not None
        assert len(error.allowed) == 49
        assert "(49 values in all)" in str(error)

    @pytest.mark.parametrize(
        ("value", "code"), [(11, "too big"), (1, "too small"), (2, None), (10, None)]
    )
    def test_numeric_range(self, value: int, code: str | None) -> None:
        """Numbers outside a range are refused; the bounds are inclusive."""
        if code is None:
            to_wire("image_to_video", gen45(duration=value))
            return
        error = rejects("image_to_video", gen45(duration=value))
        assert (
            without_hint(error)
            == f"duration must be between 2 and 10 for model 'gen4.5' (got {value})."
        )

    def test_bool_is_not_an_integer(self) -> None:
        """True is refused where an integer is expected."""
        error = rejects("image_to_video", gen45(seed=True))
        assert str(error) == "seed must be an integer for model 'gen4.5' (got a boolean)."

    def test_integers_are_numbers_and_integral_floats_are_integers(self) -> None:
        """An int is accepted for a number, and 5.0 for an integer (JSON does not tell)."""
        to_wire("text_to_video", {"model": "kling3.0_pro", "ratio": "1440:1440", "cfg_scale": 1})
        to_wire("image_to_video", gen45(duration=5.0))
        error = rejects("image_to_video", gen45(duration=5.5))
        assert error.field == "duration"

    def test_type_errors_name_the_expected_type(self) -> None:
        """A value of the wrong JSON type is reported with the expected type."""
        error = rejects("image_to_video", gen45(prompt_text=["a"]))
        assert (
            str(error)
            == "prompt_text (promptText) must be a string for model 'gen4.5' (got a list)."
        )

    def test_length_counts_utf16_code_units_where_the_reference_says_so(self) -> None:
        """A 1000-character prompt with an emoji is 1001 UTF-16 units: too long for gen4.5."""
        text = "a" * 999 + "\N{GRINNING FACE}"
        assert len(text) == 1000
        error = rejects("image_to_video", gen45(prompt_text=text))
        assert without_hint(error) == (
            "prompt_text (promptText) must be at most 1000 UTF-16 code units long for model "
            "'gen4.5' (got 1001 UTF-16 code units)."
        )
        to_wire("image_to_video", gen45(prompt_text="a" * 998 + "\N{GRINNING FACE}"))

    def test_length_counts_characters_elsewhere(self) -> None:
        """Where the reference gives plain characters, an emoji counts as one."""
        speech = {"type": "text", "text": "a" * 999 + "\N{GRINNING FACE}"}
        params = {
            "model": "gwm1_avatars",
            "speech": speech,
            "avatar": {"type": "custom", "avatar_id": "a"},
        }
        to_wire("avatar_videos", params)
        speech["text"] += "b"
        error = rejects("avatar_videos", params)
        assert error.field == "speech.text"
        assert "at most 1000 characters long" in str(error)

    def test_empty_string_is_refused_where_non_empty(self) -> None:
        """A required non-empty string may not be empty."""
        error = rejects("image_to_video", gen45(prompt_text=""))
        assert (
            without_hint(error) == "prompt_text (promptText) must not be empty for model 'gen4.5'."
        )

    def test_pattern(self) -> None:
        """A reference-image tag must start with a letter and use only word characters."""
        params = {
            "model": "gen4_image",
            "prompt_text": "x",
            "ratio": "1024:1024",
            "reference_images": [{"uri": IMAGE, "tag": "9lives"}],
        }
        error = rejects("text_to_image", params)
        assert error.field == "reference_images[0].tag"

    @pytest.mark.parametrize(("count", "ok"), [(0, False), (1, True), (10, True), (11, False)])
    def test_item_counts(self, count: int, ok: bool) -> None:
        """The product_images list takes 1 to 10 items."""
        params = {"version": "2026-06", "product_images": [{"uri": IMAGE}] * count}
        if ok:
            to_wire("recipes.product_ad", params)
            return
        error = rejects("recipes.product_ad", params)
        assert error.field == "product_images"
        assert f"(got {count})" in str(error)

    def test_missing_discriminator_lists_every_model(self) -> None:
        """A missing model is reported with every allowed model."""
        error = rejects("text_to_image", {"prompt_text": "x"})
        assert error.field == "model"
        assert error.allowed == get_endpoint("text_to_image").models
        assert str(error).startswith(
            "model is required for text_to_image; allowed: 'gen4_image_turbo'"
        )

    def test_discriminator_that_is_no_name_lists_every_model(self) -> None:
        """A model that is not a name is reported with every allowed model, the legacy ones too.

        (A name the spec does not know is let through: tests/test_forward_compat.py.)
        """
        error = rejects("video_to_video", {"model": 3, "video_uri": VIDEO})
        assert error.field == "model"
        assert error.allowed == get_endpoint("video_to_video").models
        assert "'gen4_aleph'" in str(error)
        assert "(got 3)" in str(error)

    def test_unknown_mode_of_a_recipe(self) -> None:
        """The multi-shot recipe is told apart by mode, with the same kind of error."""
        error = rejects("recipes.multi_shot_video", {"mode": "manual", "version": "2026-06"})
        assert error.field == "mode"
        assert error.allowed == ("auto", "custom")

    def test_nested_union_reports_the_chosen_branch(self) -> None:
        """In a tagged union the tag picks the branch, whose own error is reported."""
        error = rejects(
            "avatar_videos",
            {
                "model": "gwm1_avatars",
                "avatar": {"type": "custom", "avatar_id": "a"},
                "speech": {
                    "type": "text",
                    "text": "hi",
                    "voice": {"type": "preset", "preset_id": "Leslie"},
                },
            },
        )
        assert error.field == "speech.voice.preset_id"
        assert error.allowed is not None
        assert "luna" in error.allowed

    def test_unknown_tag_lists_the_branches(self) -> None:
        """An unknown tag value lists the tags of every branch."""
        error = rejects(
            "avatar_videos",
            {
                "model": "gwm1_avatars",
                "avatar": {"type": "preset", "preset_id": "influencer"},
                "speech": {"type": "audio", "audio": AUDIO},
            },
        )
        assert error.field == "avatar.type"
        assert error.allowed == ("runway-preset", "custom")

    def test_untagged_union_reports_the_best_branch(self) -> None:
        """Keyframes given with ``at`` are checked as the at-branch, not as a wall of text."""
        params = {"model": "aleph2", "video_uri": VIDEO, "keyframes": [{"uri": IMAGE, "at": 2}]}
        error = rejects("video_to_video", params)
        assert (
            without_hint(error)
            == "keyframes[0].at must be between 0 and 1 for model 'aleph2' (got 2)."
        )

    def test_scalar_union_names_every_branch(self) -> None:
        """The duration error of gemini_omni_flash_1.1 says it takes 'auto' or 3 to 10."""
        params = {"model": "gemini_omni_flash_1.1", "prompt_image": IMAGE, "prompt_text": "x"}
        for bad in (12, "fast", True):
            error = rejects("image_to_video", {**params, "duration": bad})
            assert str(error).startswith(
                "duration must be 'auto' or an integer from 3 to 10 for model "
                "'gemini_omni_flash_1.1' (got "
            )
        to_wire("image_to_video", {**params, "duration": "auto"})

    def test_string_or_list_union_with_neither(self) -> None:
        """A number given as prompt_image is reported as needing a string or a list."""
        error = rejects("image_to_video", gen45(prompt_image=3))
        assert error.field == "prompt_image"
        assert "must be a string or a list" in str(error)

    def test_list_item_paths_use_indexes(self) -> None:
        """Errors inside lists name the item index in Python and wire form."""
        params = {
            "model": "veo3.1",
            "ratio": "1280:720",
            "prompt_image": [
                {"uri": IMAGE, "position": "first"},
                {"uri": IMAGE, "position": "middle"},
            ],
        }
        error = rejects("image_to_video", params)
        assert error.field == "prompt_image[1].position"
        assert str(error).startswith("prompt_image[1].position (promptImage[1].position) must be")

    def test_the_first_problem_is_raised(self) -> None:
        """Unknown fields come before missing ones, and those before bad values."""
        params = gen45(ratio="1:1", extra=1)
        del params["duration"]
        assert rejects("image_to_video", params).field == "extra"
        del params["extra"]
        assert rejects("image_to_video", params).field == "duration"

    def test_long_values_are_not_dumped(self) -> None:
        """A long bad value is quoted only in part."""
        error = rejects("image_to_video", gen45(ratio="9" * 5000))
        assert "(5000 characters)" in str(error)
        assert len(str(error)) < 400


class TestMediaUris:
    def media_error(self, uri: str, **kwargs: Any) -> InvalidRequestError | None:
        """Return the error for ``uri`` as gen4.5's prompt image, or None if accepted."""
        try:
            to_wire("image_to_video", gen45(prompt_image=uri), **kwargs)
        except InvalidRequestError as exc:
            error = exc
        else:
            return None
        assert error.field == "prompt_image"
        return error

    @pytest.mark.parametrize(
        "uri",
        [
            "https://example.com/cat.png",
            "https://cdn.example.co.uk:8443/a/b.jpg?sig=1",
            "runway://uploads/abc123",
            "data:image/png;base64,iVBORw0KGgo=",
            "DATA:image/jpeg;base64,/9j/",
        ],
    )
    def test_accepted_forms(self, uri: str) -> None:
        """HTTPS URLs with a domain, runway:// uploads and image data URIs are accepted."""
        assert self.media_error(uri) is None

    def test_http_is_refused(self) -> None:
        """Plain http is refused, even to a loopback host, unless the loopback flag is set."""
        error = self.media_error("http://example.com/cat.png")
        assert error is not None
        assert "use https://" in str(error)
        assert self.media_error("http://127.0.0.1:8000/cat.png") is not None

    @pytest.mark.parametrize(
        "uri", ["http://127.0.0.1:8000/out.png", "http://localhost/o.png", "http://[::1]:9/o.png"]
    )
    def test_loopback_http_is_accepted_with_the_flag(self, uri: str) -> None:
        """With allow_loopback_http, http URLs to loopback hosts (emulator outputs) pass."""
        assert self.media_error(uri, allow_loopback_http=True) is None

    def test_loopback_flag_does_not_open_other_hosts(self) -> None:
        """The loopback flag leaves http to other hosts refused."""
        assert self.media_error("http://example.com/o.png", allow_loopback_http=True) is not None
        assert self.media_error("http://10.0.0.1/o.png", allow_loopback_http=True) is not None

    @pytest.mark.parametrize("uri", ["https://93.184.216.34/a.png", "https://[2001:db8::1]/a.png"])
    def test_ip_hosts_are_refused(self, uri: str) -> None:
        """HTTPS URLs must name a domain, not an IP address."""
        error = self.media_error(uri)
        assert error is not None
        assert "not an IP address" in str(error)

    def test_overlong_urls_are_refused(self) -> None:
        """URLs over 2048 characters are refused."""
        error = self.media_error("https://example.com/" + "a" * 2100)
        assert error is not None
        assert "2048" in str(error)

    def test_data_uri_of_the_wrong_media_type(self) -> None:
        """A data URI must declare the field's media type."""
        error = self.media_error("data:video/mp4;base64,AAAA")
        assert error is not None
        assert "declares video/mp4, not an image type" in str(error)

    def test_oversized_data_uri(self) -> None:
        """Image data URIs over 5 MB (encoded) are refused; video allows 16 MB."""
        big = "data:image/png;base64," + "A" * (5 * 1024 * 1024 + 4)
        error = self.media_error(big)
        assert error is not None
        assert "limited to 5 MB" in str(error)
        assert "uploads.create_ephemeral" in str(error)  # the way out exists now
        assert len(str(error)) < 400
        video = "data:video/mp4;base64," + "A" * (5 * 1024 * 1024 + 4)
        to_wire(
            "video_upscale",
            {"model": "enhance_frame_rate", "video_uri": video, "target_framerate": "24"},
        )

    @pytest.mark.parametrize(
        "uri", ["data:image/png,rawbytes", "data:image/png;base64,not base64!", "data:;base64,AA"]
    )
    def test_malformed_data_uris(self, uri: str) -> None:
        """Data URIs must be base64 and declare a media type."""
        assert self.media_error(uri) is not None

    @pytest.mark.parametrize("uri", ["ftp://example.com/a.png", "file:///a.png", "runway://", ""])
    def test_other_strings_are_refused(self, uri: str) -> None:
        """Anything else than the three forms is refused."""
        assert self.media_error(uri) is not None


class TestUnconfirmedAndLegacy:
    def test_unconfirmed_ranges_are_not_enforced(self) -> None:
        """gen4_turbo's unconfirmed 2-10 s duration and eleven_v4's speed > 0 are not checked."""
        to_wire(
            "image_to_video",
            {"model": "gen4_turbo", "prompt_image": IMAGE, "ratio": "1280:720", "duration": 42},
        )
        to_wire(
            "text_to_speech",
            {
                "model": "eleven_v4",
                "prompt_text": "hi",
                "speed": 0,
                "voice": {"type": "runway-preset", "preset_id": "Tom"},
            },
        )
        to_wire(
            "generate.audio",
            {
                "config_id": "r",
                "input": {
                    "prompt_text": "x",
                    "type": "audio",
                    "reference_audios": [{"uri": AUDIO}] * 4,
                },
            },
        )

    def test_unconfirmed_fields_keep_their_type_checks(self) -> None:
        """An unconfirmed range does not lift the type check."""
        error = rejects(
            "image_to_video",
            {"model": "gen4_turbo", "prompt_image": IMAGE, "ratio": "1280:720", "duration": "long"},
        )
        assert error.field == "duration"

    def test_legacy_models_are_let_through(self) -> None:
        """Legacy models pass with unknown fields, missing fields and values off their enums."""
        body = to_wire(
            "image_to_video",
            {"model": "veo3", "prompt_image": "http://x/a.png", "duration": 5, "resolution": "4k"},
        )
        assert body["model"] == "veo3"
        assert body["duration"] == 5
        to_wire(
            "video_to_video",
            {
                "model": "gen4_aleph",
                "video_uri": VIDEO,
                "prompt_text": "x",
                "references": [{"type": "image", "uri": IMAGE}],
            },
        )
        to_wire("image_to_video", {"model": "gen3a_turbo", "prompt_image": IMAGE})

    def test_legacy_models_keep_json_type_checks(self) -> None:
        """Light checks on legacy models still refuse values of the wrong JSON type."""
        error = rejects(
            "image_to_video", {"model": "gen3a_turbo", "prompt_image": IMAGE, "prompt_text": 5}
        )
        assert error.field == "prompt_text"


class TestValidateWire:
    def test_valid_body_has_no_issues(self) -> None:
        """A valid camelCase body yields no issues."""
        body = {
            "model": "gen4.5",
            "promptImage": IMAGE,
            "promptText": "x",
            "ratio": "1280:720",
            "duration": 5,
        }
        assert validate_wire("image_to_video", body) == []

    def test_every_issue_is_returned_with_wire_paths(self) -> None:
        """All issues come back, each with its wire path, Python path and code."""
        body = {"model": "gen4.5", "promptImage": [{"uri": "ftp://x"}], "ratio": "x", "extra": 1}
        issues = validate_wire("image_to_video", body)
        found = {(i.path, i.python_path, i.code) for i in issues}
        assert found == {
            (("extra",), "extra", "unknown_field"),
            (("duration",), "duration", "required"),
            (("promptText",), "prompt_text", "required"),
            (("promptImage", 0, "position"), "prompt_image[0].position", "required"),
            (("promptImage", 0, "uri"), "prompt_image[0].uri", "invalid_media"),
            (("ratio",), "ratio", "invalid_enum"),
        }
        assert all(isinstance(i, ValidationIssue) and i.message.endswith(".") for i in issues)

    def test_unknown_field_issue_lists_wire_names(self) -> None:
        """For the emulator, allowed field names are wire names (Python ones kept aside)."""
        issue = validate_wire("image_to_video", {**to_wire("image_to_video", gen45()), "x": 1})[0]
        assert issue.code == "unknown_field"
        assert issue.allowed is not None
        assert "promptText" in issue.allowed
        assert issue.python_allowed is not None
        assert "prompt_text" in issue.python_allowed

    def test_snake_case_keys_are_unknown_on_the_wire(self) -> None:
        """The wire validator takes camelCase only: a snake_case key is an unknown field."""
        body = {
            "model": "gen4.5",
            "prompt_image": IMAGE,
            "promptText": "x",
            "ratio": "1280:720",
            "duration": 5,
        }
        codes = {(i.path, i.code) for i in validate_wire("image_to_video", body)}
        assert codes == {(("prompt_image",), "unknown_field"), (("promptImage",), "required")}

    def test_body_must_be_an_object(self) -> None:
        """A body that is not a JSON object is one invalid_type issue at the root."""
        issues = validate_wire("generate.image", ["x"])
        assert [(i.path, i.code) for i in issues] == [((), "invalid_type")]
        assert (
            issues[0].message
            == "The request body must be an object for generate.image (got a list)."
        )

    def test_discriminator_issue_comes_alone(self) -> None:
        """Without a known model nothing else can be checked, so one issue comes back."""
        issues = validate_wire("text_to_video", {"model": "nope", "extra": 1})
        assert [(i.path, i.code) for i in issues] == [(("model",), "invalid_enum")]

    def test_loopback_flag(self) -> None:
        """validate_wire honours allow_loopback_http like to_wire."""
        body = {"model": "eleven_voice_isolation", "audioUri": "http://127.0.0.1:1/a.mp3"}
        assert validate_wire("voice_isolation", body)[0].code == "invalid_media"
        assert validate_wire("voice_isolation", body, allow_loopback_http=True) == []

    def test_unknown_endpoint_raises(self) -> None:
        """An unknown endpoint is a programming error: InvalidRequestError."""
        with pytest.raises(InvalidRequestError):
            validate_wire("text_to_3d", {})


class TestPlainSpecFormat:
    """Format 2's plain section: loading, the new node keys and the ISO date helpers."""

    def test_plain_section_is_loaded(self) -> None:
        """api.json's plain section loads into PLAIN_ENDPOINTS, apart from the task endpoints."""
        text = resources.files("runway_async._spec").joinpath("api.json").read_text("utf-8")
        data = json.loads(text)
        assert sorted(load_plain_endpoints(data)) == sorted(data["plain"])
        assert sorted(PLAIN_ENDPOINTS) == sorted(data["plain"])
        assert len(PLAIN_ENDPOINTS) == 37
        assert not set(PLAIN_ENDPOINTS) & set(ENDPOINTS)

    def test_path_parameters_must_match_the_path(self) -> None:
        """A path placeholder without its parameter (or the reverse) fails to load."""
        entry = {
            "method": "GET",
            "path": "/v1/things/{id}",
            "summary": "Get a thing.",
            "reply": "Thing",
            "order": 0,
            "path_params": {},
            "query": {},
            "body": None,
        }
        with pytest.raises(ValueError, match="path parameters"):
            load_plain_endpoints({"plain": {"things.retrieve": entry}})

    def test_unknown_format_fails_to_load(self) -> None:
        """A string format other than the two known ones fails to load."""
        member = {
            "type": "string",
            "format": "email",
            "python_name": "x",
            "required": False,
            "description": "X.",
        }
        entry = {
            "method": "GET",
            "path": "/v1/things",
            "summary": "List things.",
            "reply": "Thing",
            "order": 0,
            "path_params": {},
            "query": {"x": member},
            "body": None,
        }
        with pytest.raises(ValueError, match="unknown format"):
            load_plain_endpoints({"plain": {"things.list": entry}})

    def test_new_node_keys(self) -> None:
        """nullable, format and csv reach the TypeSpec; nullable shows in descriptions."""
        voices = get_plain_endpoint("voices.update").field("description")
        assert voices is not None
        assert voices.type.nullable
        assert describe(voices.type) == "a string or null"
        usage = get_plain_endpoint("avatars.get_usage").field("start_date")
        assert usage is not None
        assert usage.type.format == "date-time"
        emails = get_plain_endpoint("organization.webapp.audit_logs.list").field("actor_emails")
        assert emails is not None
        assert (emails.type.csv, emails.type.max_items) == (True, 50)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-01-31", dt.datetime(2026, 1, 31, tzinfo=dt.timezone.utc)),
            ("2026-01-31T10:20", dt.datetime(2026, 1, 31, 10, 20, tzinfo=dt.timezone.utc)),
            ("2026-01-31T10:20:30Z", dt.datetime(2026, 1, 31, 10, 20, 30, tzinfo=dt.timezone.utc)),
            (
                "2026-01-31T10:20:30.123456789+02:00",
                dt.datetime(
                    2026, 1, 31, 10, 20, 30, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))
                ),
            ),
            (
                "2026-01-31 10:20:30,5-0130",
                dt.datetime(
                    2026,
                    1,
                    31,
                    10,
                    20,
                    30,
                    500000,
                    tzinfo=dt.timezone(-dt.timedelta(hours=1, minutes=30)),
                ),
            ),
        ],
    )
    def test_parse_iso_reads_dates_and_datetimes(self, text: str, expected: dt.datetime) -> None:
        """Dates, datetimes, Z, offsets and long fractions parse the same on every Python."""
        assert parse_iso(text) == expected

    @pytest.mark.parametrize(
        "text", ["", "2026-1-31", "2026-02-30", "2026-01-31T24:00", "2026-01-31T10:20+25:00", "x"]
    )
    def test_parse_iso_refuses_non_iso_text(self, text: str) -> None:
        """Malformed or impossible dates give None."""
        assert parse_iso(text) is None

    def test_format_iso(self) -> None:
        """A date is midnight UTC where only datetimes are taken; a datetime is isoformat."""
        day = dt.date(2026, 5, 4)
        assert format_iso(day, date_allowed=False) == "2026-05-04T00:00:00Z"
        assert format_iso(day, date_allowed=True) == "2026-05-04"
        moment = dt.datetime(2026, 5, 4, 1, 2, 3)
        assert format_iso(moment, date_allowed=True) == "2026-05-04T01:02:03"
