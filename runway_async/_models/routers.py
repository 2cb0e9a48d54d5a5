"""Model Routers (``/v1/routers``) and their routing history.

Enumerated values (``optimize_for``, ``mode``, a request's ``status``, ...) are kept as the
strings sent, so a value newer than this SDK never fails to parse. Model ids are user data,
kept verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ._serial import WireModel

__all__ = [
    "CapacityStep",
    "FilterStep",
    "RankStep",
    "Router",
    "RouterFallback",
    "RouterMaxCredits",
    "RouterModels",
    "RouterSettings",
    "RoutingRequest",
    "RoutingStep",
    "UnknownRoutingStep",
]


@attrs.frozen(kw_only=True)
class RouterFallback(WireModel):
    """What routing does when the preferred model cannot start at once.

    Attributes:
        on_capacity: Skip models at the account's concurrency limit instead of queueing.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    on_capacity: bool | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class RouterMaxCredits(WireModel):
    """Per-modality credit caps, applied to each generated output (``None``: no cap).

    Attributes:
        audio: The cap for audio outputs.
        image: The cap for image outputs.
        video: The cap for video outputs.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    audio: int | None = None
    image: int | None = None
    video: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class RouterModels(WireModel):
    """Which models a router may pick.

    Attributes:
        ids: Model ids.
        mode: ``allow_new_except`` (``ids`` are excluded) or ``allowlist_only`` (only
            ``ids``); kept as sent.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    ids: tuple[str, ...] = ()
    mode: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class RouterSettings(WireModel):
    """A router's routing preferences (one settings version).

    Attributes:
        schema_version: The settings schema version the snapshot was written with.
        optimize_for: ``cost``, ``latency`` or ``quality`` (kept as sent); ``None`` when
            not set.
        models: The model allow- or denylist, when set.
        max_credits_per_generation: Per-output credit caps, when set.
        fallback: The capacity fallback, when set.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    schema_version: int | None = None
    optimize_for: str | None = None
    models: RouterModels | None = None
    max_credits_per_generation: RouterMaxCredits | None = None
    fallback: RouterFallback | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class Router(WireModel):
    """A Model Router configuration.

    Attributes:
        id: The router's id (a UUID), for managing it through the API.
        slug: The immutable slug used as ``config_id`` in ``generate.*`` requests.
        name: The display name.
        description: The description, or ``None``.
        created_at: When the router was created.
        updated_at: When it was last updated.
        version: The settings version; a settings change increments it, a change of name
            or description does not.
        settings: The current settings.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    slug: str
    name: str
    description: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int
    settings: RouterSettings
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


# --- routing history ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FilterStep(WireModel):
    """A hard-filter stage of a routing decision.

    Attributes:
        type: Always ``"filter"``.
        filter: Which filter ran (``capability``, ``prompt_length``, ``input_support``,
            ``allow_deny``, ``price``; kept as sent).
        models: The models still eligible after it.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    type: Literal["filter"] = "filter"
    filter: str
    models: tuple[str, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class CapacityStep(WireModel):
    """The capacity stage of a routing decision (models skipped at their limit).

    Attributes:
        type: Always ``"capacity"``.
        skipped: Models passed over because the account was at their concurrency limit.
        all_exhausted: Whether every eligible model was at its limit.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    type: Literal["capacity"] = "capacity"
    skipped: tuple[str, ...] = ()
    all_exhausted: bool = False
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class RankStep(WireModel):
    """The ranking stage of a routing decision.

    Attributes:
        type: Always ``"rank"``.
        outcome: How the model was chosen (``cost``, ``selected``, ``fallback``,
            ``single_candidate``; kept as sent).
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    type: Literal["rank"] = "rank"
    outcome: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UnknownRoutingStep(WireModel):
    """A routing stage of a type this SDK does not know, kept instead of failing to parse.

    Attributes:
        type: The type exactly as sent.
        extra: Every other wire key, verbatim (not part of the hash).

    """

    type: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


RoutingStep = FilterStep | CapacityStep | RankStep | UnknownRoutingStep
"""One stage of a routing decision, typed by its wire ``type``."""


@attrs.frozen(kw_only=True)
class RoutingRequest(WireModel):
    """One recorded routing decision of a router (``routers.list_requests``).

    Attributes:
        id: The record's id.
        request_id: The id of the generation request.
        created_at: When the request was routed.
        status: How routing ended: ``routed``, ``no_eligible_model``,
            ``router_config_not_found``, ``invalid_request`` or ``error`` (kept as sent).
        model: The model chosen, if any.
        provider: Its provider, if any.
        task_id: The task created, if any.
        estimated_credits: The estimated cost in credits, if known.
        reason: A free-text explanation, for humans.
        reason_code: Why the model won (``lowest_cost``, ``best_latency``, ...), or
            ``None`` when ranking was never reached.
        emptied_by: The filters that left no eligible model.
        pipeline: The routing stages, in order.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    request_id: str
    created_at: datetime
    status: str
    model: str | None = None
    provider: str | None = None
    task_id: str | None = None
    estimated_credits: int | float | None = None
    reason: str | None = None
    reason_code: str | None = None
    emptied_by: tuple[str, ...] = ()
    pipeline: tuple[RoutingStep, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
