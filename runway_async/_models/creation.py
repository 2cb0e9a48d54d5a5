"""Replies of the task-creating endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._serial import WireModel
from .cost import Cost

__all__ = [
    "CapacityFallback",
    "ResolvedSettings",
    "RoutedTaskCreated",
    "Routing",
    "TaskCreated",
]


@attrs.frozen(kw_only=True)
class TaskCreated(WireModel):
    """The reply of a generation endpoint: the new task's id and cost estimate.

    Attributes:
        id: The task id, for ``GET /v1/tasks/{id}``.
        estimated_cost: The most the task may charge; ``None`` when the server did not say
            (older API versions and ``/v1/avatar_videos``).
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    estimated_cost: Cost | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ResolvedSettings(WireModel):
    """The router configuration settings applied to one request.

    Attributes:
        optimize_for: The preference that weighted the choice (``cost``, ``latency``,
            ``quality``; kept as sent, so new values do not fail).
        price_ceiling: The most credits one generation of this modality may cost, or
            ``None`` when the configuration sets no ceiling.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    optimize_for: str
    price_ceiling: int | float | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class CapacityFallback(WireModel):
    """How the router fell back when preferred models were at capacity.

    Attributes:
        skipped: The models passed over for lack of capacity.
        all_exhausted: Whether every eligible model was at capacity.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    skipped: tuple[str, ...] = ()
    all_exhausted: bool = False
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class Routing(WireModel):
    """Which model a router chose for a ``/v1/generate/*`` request, and why.

    Attributes:
        config_id: The slug of the router configuration applied.
        model: The model chosen.
        provider: The provider of that model.
        estimated_cost: The most the task may charge; ``None`` when the server did not say.
        resolved_input: The request defaults the router settled on; its shape depends on the
            modality (video: ``duration``, ``ratio``, ``resolution``), so it keeps the wire
            keys verbatim. Part of equality, not of the hash.
        resolved_settings: The configuration settings applied, when the server said.
        capacity_fallback: Present when the router skipped models that were at capacity.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    config_id: str
    model: str
    provider: str
    estimated_cost: Cost | None = None
    resolved_input: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    resolved_settings: ResolvedSettings | None = None
    capacity_fallback: CapacityFallback | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class RoutedTaskCreated(WireModel):
    """The reply of ``POST /v1/generate/{video,image,audio}``: the task id and the routing.

    Attributes:
        id: The task id, for ``GET /v1/tasks/{id}``.
        routing: The router's choice; ``None`` if the server left it out, so a created (and
            paid for) task is never lost to a missing description.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    routing: Routing | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
