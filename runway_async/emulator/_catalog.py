"""What the emulator needs to know per endpoint: model, media kind, price, outputs, routing.

Endpoint names, paths, methods and model lists come from ``runway_async._spec`` (the one
source of truth shared with the client's validation); this module adds the simulated parts.
Prices are plausible figures in credits, in the spirit of Runway's published API pricing,
not a copy of it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final

from .._spec import ENDPOINTS, EndpointSpec
from ._media import MediaKind

__all__ = [
    "endpoint_spec",
    "estimate_credits",
    "known_models",
    "media_kind",
    "model_for",
    "output_count",
    "routing",
    "task_endpoints",
]

_IMAGE_ENDPOINTS: Final = frozenset(
    {
        "text_to_image",
        "image_upscale",
        "recipes.ad_localization",
        "recipes.marketing_stock_image",
        "recipes.product_campaign_image",
        "generate.image",
    }
)
_AUDIO_ENDPOINTS: Final = frozenset(
    {
        "text_to_speech",
        "sound_effect",
        "speech_to_speech",
        "voice_dubbing",
        "voice_isolation",
        "video_to_audio",
        "generate.audio",
    }
)

# The model a router picks for /v1/generate/*: one fixed choice per modality keeps the
# emulator deterministic; real routers choose by cost, latency or quality.
_ROUTED_MODEL: Final[Mapping[str, tuple[str, str]]] = {
    "generate.video": ("gen4.5", "runway"),
    "generate.image": ("gen4_image", "runway"),
    "generate.audio": ("eleven_v3", "elevenlabs"),
}
_ROUTED_SOUND_MODEL: Final = ("eleven_text_to_sound_v2", "elevenlabs")

# Credits per second of video output; models not listed use the default.
_VIDEO_RATE: Final[Mapping[str, int]] = {
    "gen4.5": 12,
    "gen4_turbo": 5,
    "veo3.1": 40,
    "veo3.1_fast": 15,
    "act_two": 5,
    "aleph2": 15,
    "ruby": 10,
    "gwm1_avatars": 8,
}
_DEFAULT_VIDEO_RATE: Final = 10
_IMAGE_PRICE: Final = 8  # credits per image
_AUDIO_PRICE: Final = 6  # credits per job
_DEFAULT_VIDEO_SECONDS: Final = 5
_RECIPE_VIDEO_SECONDS: Final = 10
_RECIPE_IMAGE_COUNT: Final[Mapping[str, int]] = {
    "recipes.marketing_stock_image": 4,
    "recipes.product_campaign_image": 4,
}


def task_endpoints() -> Mapping[str, EndpointSpec]:
    """Return every task-creating endpoint by name (``text_to_image``, ``generate.video``)."""
    return ENDPOINTS


def endpoint_spec(name: str) -> EndpointSpec:
    """Return the spec of the endpoint ``name``."""
    return ENDPOINTS[name]


def media_kind(endpoint: str) -> MediaKind:
    """Return the media kind of the endpoint's output.

    Args:
        endpoint: The endpoint name.

    Returns:
        ``image``, ``audio`` or ``video``.

    """
    if endpoint in _IMAGE_ENDPOINTS:
        return "image"
    if endpoint in _AUDIO_ENDPOINTS:
        return "audio"
    return "video"


def _input(body: Mapping[str, Any]) -> Mapping[str, Any]:
    value = body.get("input")
    return value if isinstance(value, Mapping) else {}


def _routed(endpoint: str, body: Mapping[str, Any]) -> tuple[str, str]:
    if endpoint == "generate.audio" and _input(body).get("type") == "audio":
        return _ROUTED_SOUND_MODEL
    return _ROUTED_MODEL[endpoint]


def model_for(endpoint: str, body: Mapping[str, Any]) -> str:
    """Return the model a (valid) create counts against for limits and usage.

    Args:
        endpoint: The endpoint name.
        body: The validated JSON body.

    Returns:
        The ``model`` field; the recipe's name for recipes (the API bills recipes by
        name); the router's pick for ``generate.*``.

    """
    if endpoint.startswith("recipes."):
        return endpoint.partition(".")[2]
    if endpoint in _ROUTED_MODEL:
        return _routed(endpoint, body)[0]
    model = body.get("model")
    return model if isinstance(model, str) else endpoint


@functools.lru_cache(maxsize=1)
def known_models() -> tuple[str, ...]:
    """Return every model name the emulator can bill, sorted, for ``GET /v1/organization``."""
    names: set[str] = set()
    for name, spec in ENDPOINTS.items():
        if name.startswith("recipes."):
            names.add(name.partition(".")[2])
        elif spec.discriminator == "model":
            names.update(str(m) for m in spec.models)
    names.update(model for model, _ in _ROUTED_MODEL.values())
    names.add(_ROUTED_SOUND_MODEL[0])
    return tuple(sorted(names))


def _number(value: object, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def output_count(endpoint: str, body: Mapping[str, Any]) -> int:
    """Return how many output files a create produces.

    Args:
        endpoint: The endpoint name.
        body: The validated JSON body.

    Returns:
        ``outputCount`` where the endpoint has one, the recipe's fixed count, else 1.

    """
    if endpoint == "generate.image":
        return max(1, int(_number(_input(body).get("outputCount"), 1)))
    default = _RECIPE_IMAGE_COUNT.get(endpoint, 1)
    return max(1, int(_number(body.get("outputCount"), default)))


def _video_seconds(endpoint: str, body: Mapping[str, Any]) -> float:
    if endpoint == "generate.video":
        return _number(_input(body).get("duration"), _DEFAULT_VIDEO_SECONDS)
    default = _RECIPE_VIDEO_SECONDS if endpoint.startswith("recipes.") else _DEFAULT_VIDEO_SECONDS
    return _number(body.get("duration"), default)


def estimate_credits(endpoint: str, model: str, body: Mapping[str, Any]) -> int:
    """Return the most a create may charge, in credits.

    Args:
        endpoint: The endpoint name.
        model: The model it counts against.
        body: The validated JSON body.

    Returns:
        A plausible whole number of credits.

    """
    kind = media_kind(endpoint)
    if kind == "image":
        return _IMAGE_PRICE * output_count(endpoint, body)
    if kind == "audio":
        return _AUDIO_PRICE
    rate = _VIDEO_RATE.get(model, _DEFAULT_VIDEO_RATE)
    return max(1, round(rate * _video_seconds(endpoint, body)))


def routing(endpoint: str, body: Mapping[str, Any], credits: int) -> dict[str, Any]:
    """Return the ``routing`` object of a ``/v1/generate/*`` reply (wire names).

    Args:
        endpoint: ``generate.video``, ``generate.image`` or ``generate.audio``.
        body: The validated JSON body.
        credits: The task's estimated cost.

    Returns:
        Every field the API declares: ``configId``, ``model``, ``provider``,
        ``estimatedCost``, ``resolvedInput``, ``resolvedSettings``.

    """
    model, provider = _routed(endpoint, body)
    given = _input(body)
    resolved: dict[str, Any]
    if endpoint == "generate.video":
        resolved = {
            "duration": _video_seconds(endpoint, body),
            "ratio": "1280:720",
            "resolution": str(given.get("resolution", "720p")),
        }
    elif endpoint == "generate.image":
        resolved = {
            "aspectRatio": str(given.get("aspectRatio", "16:9")),
            "ratio": "1920:1080",
            "resolution": str(given.get("resolution", "1k")),
        }
    else:
        kind = given.get("type") if given.get("type") in ("speech", "audio") else "speech"
        voice = given.get("voice")
        voice_type = voice.get("type") if isinstance(voice, Mapping) else None
        if voice_type == "preset":
            resolved_voice = "preset"
        elif voice_type == "reference-audio":
            resolved_voice = "reference-audio"
        else:
            resolved_voice = "default" if kind == "speech" else "none"
        resolved = {"type": kind, "voice": resolved_voice}
    return {
        "configId": str(body.get("configId", "")),
        "model": model,
        "provider": provider,
        "estimatedCost": {"credits": credits},
        "resolvedInput": resolved,
        "resolvedSettings": {"optimizeFor": "cost", "priceCeiling": None},
    }
