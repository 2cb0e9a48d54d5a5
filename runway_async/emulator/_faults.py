"""Fault injection: scripted faults queued for the next matching requests, and random ones.

A fault stands for what goes wrong between a client and the real API (a gateway shedding
load, a connection cut, a reply that never comes), so tests can check how a client copes.
The *before* kinds leave the request unprocessed (no task); the *after* kinds process it
first (the task exists), which is what makes a submission ambiguous to the client. The kinds
that mangle the reply itself (``not_http``, ``not_json``, ``truncated``, ``oversized``,
``endless``, ``hold_body``) process the request too: the server did the work and the reply
went wrong on its way back, the case a client must not answer by sending the create again.
Faults reach the output files' GETs (``/_emulator/outputs/...``) only when routed to
``outputs`` (or that path), so a download can be stalled or cut mid-file.
"""

from __future__ import annotations

import enum
import random
import threading
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Fault", "FaultKind", "FaultQueue", "parse_fault"]


class FaultKind(str, enum.Enum):
    """The kinds of fault the emulator can inject."""

    ERROR_BEFORE = "error_before"
    """Answer 5xx (default 503) without processing the request: no task is created."""
    ERROR_AFTER = "error_after"
    """Process the request (the task is created), then answer 5xx (default 500)."""
    RATE_LIMIT = "rate_limit"
    """Answer 429 with ``Retry-After`` without processing the request."""
    DROP_BEFORE = "drop_before"
    """Close the connection without processing the request."""
    DROP_AFTER = "drop_after"
    """Process the request (the task is created), then close the connection unanswered."""
    HOLD_AFTER = "hold_after"
    """Process the request, then never reply, or reply after ``delay`` seconds."""
    LATENCY = "latency"
    """Wait ``delay`` seconds, then process the request normally."""
    NOT_HTTP = "not_http"
    """Process the request, then answer bytes that are not HTTP at all and close."""
    NOT_JSON = "not_json"
    """Process the request, then answer its status with an HTML page instead of JSON."""
    TRUNCATED = "truncated"
    """Process the request, then send half its reply under a ``Content-Length`` of the
    whole, and close."""
    OVERSIZED = "oversized"
    """Process the request, then answer its JSON reply padded to ``size`` bytes (default
    16 MiB) with an extra ``padding`` member. With ``status``, answer that error status with
    a padded JSON error instead, without processing the request."""
    ENDLESS = "endless"
    """Process the request, then send the reply's headers and a body that never ends: one
    space every ``delay`` seconds (default 0.1) until the client gives up."""
    HOLD_BODY = "hold_body"
    """Process the request, then send the reply's headers (its whole ``Content-Length``)
    and the first half of its body, and hold the rest: send it after ``delay`` seconds, or
    never (``None``) until the client closes the connection or the server stops. Route it to
    ``outputs`` to stall a download mid-file."""

    @property
    def processes_request(self) -> bool:
        """Whether the request is processed (a task may be created) under this fault."""
        return self in _PROCESSING_KINDS


_PROCESSING_KINDS: frozenset[FaultKind] = frozenset(
    {
        FaultKind.ERROR_AFTER,
        FaultKind.DROP_AFTER,
        FaultKind.HOLD_AFTER,
        FaultKind.LATENCY,
        FaultKind.NOT_HTTP,
        FaultKind.NOT_JSON,
        FaultKind.TRUNCATED,
        FaultKind.OVERSIZED,
        FaultKind.ENDLESS,
        FaultKind.HOLD_BODY,
    }
)
DEFAULT_OVERSIZED_BYTES = 16 * 1024 * 1024
"""Size of an ``oversized`` reply when the fault names none: twice the client's default cap."""
DEFAULT_ENDLESS_INTERVAL = 0.1
"""Seconds between the pieces of an ``endless`` body when the fault names no ``delay``."""


_DEFAULT_STATUS: Mapping[FaultKind, int] = {
    FaultKind.ERROR_BEFORE: 503,
    FaultKind.ERROR_AFTER: 500,
    FaultKind.RATE_LIMIT: 429,
}


def _optional_non_negative(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{attribute.name} must be a number >= 0 or None, got {value!r}")


def _optional_status(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise ValueError(f"status must be an HTTP error status (400-599) or None, got {value!r}")


def _optional_size(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"size must be an integer number of bytes >= 0 or None, got {value!r}")


def _optional_route(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"route must be a non-empty string or None, got {value!r}")


@attrs.frozen(kw_only=True)
class Fault:
    """One fault to apply to one request.

    Attributes:
        kind: What goes wrong.
        route: Which requests it applies to: an endpoint name (``text_to_image``,
            ``recipes.product_ad``, ``tasks``, ``organization``, ``outputs`` for the output
            files' GETs) or a path prefix (``/v1/tasks``); ``None`` means any task-creating
            POST.
        retry_after: For ``rate_limit`` (and error kinds, if given): the ``Retry-After``
            header in seconds.
        delay: Seconds to wait: before processing for ``latency``; before replying for
            ``hold_after`` (``None``: never reply); before the rest of a ``hold_body`` body
            (``None``: never); between the pieces of an ``endless`` body (``None``: 0.1).
        status: The HTTP status for ``error_before``/``error_after``/``rate_limit``, and
            for an ``oversized`` error reply.
        size: Bytes of an ``oversized`` reply (``None``: 16 MiB).

    """

    kind: FaultKind = attrs.field(converter=FaultKind)
    route: str | None = attrs.field(default=None, validator=_optional_route)
    retry_after: float | None = attrs.field(default=None, validator=_optional_non_negative)
    delay: float | None = attrs.field(default=None, validator=_optional_non_negative)
    status: int | None = attrs.field(default=None, validator=_optional_status)
    size: int | None = attrs.field(default=None, validator=_optional_size)

    @property
    def processes_request(self) -> bool:
        """Whether the request is processed (a task may be created) under this fault."""
        if self.kind is FaultKind.OVERSIZED and self.status is not None:
            return False  # an oversized error reply stands for a rejection
        return self.kind.processes_request

    @property
    def http_status(self) -> int:
        """The status this fault answers with (for the kinds that answer at all)."""
        if self.status is not None:
            return self.status
        return _DEFAULT_STATUS.get(self.kind, 500)

    def matches(self, path: str, endpoint: str | None, *, creates_task: bool) -> bool:
        """Return whether this fault applies to a request.

        Args:
            path: The request path (``/v1/text_to_image``).
            endpoint: The endpoint name the path belongs to, if any.
            creates_task: Whether the request is a task-creating POST.

        Returns:
            ``True`` when the fault's route selects the request.

        """
        if self.route is None:
            return creates_task
        if endpoint is not None and self.route == endpoint:
            return True
        return self.route.startswith("/") and path.startswith(self.route)


def parse_fault(data: object) -> tuple[Fault, int]:
    """Return the fault and count described by a JSON object (the ``/_emulator/faults`` body).

    Args:
        data: ``{"kind": ..., "count"?, "route"?, "retry_after"?, "delay"?, "status"?,
            "size"?}`` (camelCase ``retryAfter`` is accepted too).

    Returns:
        The fault and how many requests it applies to.

    Raises:
        ValueError: The object does not describe a valid fault.

    """
    if not isinstance(data, Mapping):
        raise ValueError("the body must be a JSON object")
    fields = dict(data)
    if "retryAfter" in fields:
        fields["retry_after"] = fields.pop("retryAfter")
    unknown = set(fields) - {"kind", "count", "route", "retry_after", "delay", "status", "size"}
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    if "kind" not in fields:
        raise ValueError("kind is required")
    count = fields.pop("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an integer >= 1, got {count!r}")
    try:
        return Fault(**fields), count
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None


class FaultQueue:
    """Faults waiting for their requests, in the order they were injected.

    Thread-safe, so a test in another thread can script an emulator running in its own.
    """

    def __init__(
        self,
        *,
        rates: Mapping[FaultKind, float] | None = None,
        seed: int | None = None,
        random_delay: float = 1.0,
    ) -> None:
        self._lock = threading.Lock()
        self._queued: list[list[Any]] = []  # [fault, remaining] pairs, FIFO
        self._rates = dict(rates or {})
        self._random_delay = random_delay
        self._seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not cryptography

    def inject(
        self,
        kind: FaultKind | str,
        *,
        count: int = 1,
        route: str | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        status: int | None = None,
        size: int | None = None,
    ) -> Fault:
        """Queue a fault for the next ``count`` matching requests.

        Args:
            kind: A ``FaultKind`` or its value (``"error_after"``).
            count: How many matching requests it applies to.
            route: An endpoint name (``outputs``: the output files) or path prefix;
                ``None`` = any task-creating POST.
            retry_after: ``Retry-After`` seconds (``rate_limit`` defaults to 1).
            delay: Seconds of ``latency``, before a ``hold_after`` reply or the rest of a
                ``hold_body`` body (``None``: never), or between the pieces of an
                ``endless`` body.
            status: HTTP status for the error kinds, ``rate_limit`` and ``oversized``.
            size: Bytes of an ``oversized`` reply.

        Returns:
            The queued fault.

        Raises:
            ValueError: An argument is invalid.

        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be an integer >= 1, got {count!r}")
        fault = Fault(
            kind=kind,
            route=route,
            retry_after=retry_after,
            delay=delay,
            status=status,
            size=size,
        )
        if fault.kind is FaultKind.LATENCY and fault.delay is None:
            raise ValueError("a latency fault needs a delay")
        with self._lock:
            self._queued.append([fault, count])
        return fault

    def pending(self) -> list[tuple[Fault, int]]:
        """Return the queued faults with the number of requests each still applies to."""
        with self._lock:
            return [(fault, remaining) for fault, remaining in self._queued]

    def clear(self) -> None:
        """Drop every queued fault (the random rates stay)."""
        with self._lock:
            self._queued.clear()

    def reset(self) -> None:
        """Drop every queued fault and restart the random faults' sequence from the seed."""
        with self._lock:
            self._queued.clear()
            self._rng = random.Random(self._seed)  # noqa: S311 - simulation, not cryptography

    def take(self, path: str, endpoint: str | None, *, creates_task: bool) -> Fault | None:
        """Return the fault to apply to a request, consuming one use of it.

        Queued faults come first, oldest first; then, for task-creating POSTs only, the
        configured random rates are drawn in ``FaultKind`` order.

        Args:
            path: The request path.
            endpoint: The endpoint name, if the path belongs to one.
            creates_task: Whether the request is a task-creating POST.

        Returns:
            The fault, or ``None`` to serve the request normally.

        """
        with self._lock:
            for entry in self._queued:
                fault: Fault = entry[0]
                if fault.matches(path, endpoint, creates_task=creates_task):
                    entry[1] -= 1
                    if entry[1] == 0:
                        self._queued.remove(entry)
                    return fault
            if not creates_task or not self._rates:
                return None
            # One draw per kind, always, so the sequence of draws (and so every later
            # outcome) does not depend on which kind fired.
            chosen: FaultKind | None = None
            for kind in FaultKind:
                rate = self._rates.get(kind, 0.0)
                hit = self._rng.random() < rate
                if hit and chosen is None:
                    chosen = kind
            if chosen is None:
                return None
            delay = (
                self._random_delay
                if chosen in (FaultKind.LATENCY, FaultKind.HOLD_AFTER, FaultKind.HOLD_BODY)
                else None
            )
            return Fault(kind=chosen, delay=delay)
