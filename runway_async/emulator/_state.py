"""The simulation: tasks, per-model queues and usage, in simulated time, with no HTTP.

Time is computed, not ticked: every call first advances the simulation to "now" by
processing, in time order, the events that fell due since the last call (a task starting to
run, a task ending). A slot freed at simulated time ``t`` promotes the oldest THROTTLED task
of that model at exactly ``t``, however late the next request comes. So there is no
background loop per task, results do not depend on how often clients poll, and tests can
drive the clock by hand.

Two clocks are used on purpose. The lifecycle (durations, progress, queueing) runs in *API
seconds*, real seconds divided by ``time_scale``, so a tiny time scale makes tasks fast. The
calendar (``createdAt``, the rolling daily limit, usage by day) runs on the wall clock, so a
fast simulation does not make days pass in minutes.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, Literal

import attrs

from ._config import KEEP, EmulatorConfig, Keep, Limit
from ._media import MediaKind

__all__ = [
    "FAILURE_CODES",
    "DailyLimitExceeded",
    "Simulation",
    "TaskRecord",
    "TaskStatus",
]

TaskStatus = Literal["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]

TERMINAL: Final[frozenset[str]] = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})

FAILURE_CODES: Final[tuple[tuple[str, str], ...]] = (
    ("SAFETY.INPUT.TEXT", "The prompt text was flagged by content moderation."),
    ("SAFETY.INPUT.IMAGE", "An input image was flagged by content moderation."),
    ("SAFETY.OUTPUT.VIDEO", "The generated output was flagged by content moderation."),
    ("INTERNAL.BAD_OUTPUT.CODE01", "The output did not pass internal quality checks."),
    ("INPUT_PREPROCESSING.SAFETY.TEXT", "The prompt text was rejected during preprocessing."),
    ("INPUT_PREPROCESSING.INTERNAL", "The moderation step failed; try again."),
    ("ASSET.INVALID", "An input asset could not be read."),
    ("INTERNAL", "An internal error occurred."),
)
"""``failureCode`` values (from the API's task-failure docs) with a ``failure`` text each."""

_DAY: Final = timedelta(days=1)
# Event kinds, in the order they are processed when they fall at the same instant: a slot
# freed at t is reused at t, and "most simultaneous RUNNING" does not count both tasks.
_END: Final = 0
_RUN: Final = 1


PSEUDO_WORKFLOW_MODEL: Final = "workflow"
"""The model name workflow invocations run under in the simulation (see ``_resources_b``)."""


class DailyLimitExceeded(Exception):
    """A create would exceed the model's daily generation limit."""

    def __init__(self, model: str, limit: int) -> None:
        super().__init__(
            f"Daily generation limit reached for model {model!r} ({limit} per day); "
            "try again later."
        )
        self.model = model
        self.limit = limit


@attrs.define(kw_only=True)
class TaskRecord:
    """One task as the simulation tracks it (times in API seconds).

    Attributes:
        id: The task id.
        endpoint: The endpoint that created it (``text_to_image``).
        model: The model it counts against for limits and usage.
        kind: The media kind of its output.
        created: Simulated creation time.
        created_at: Wall-clock creation time (the wire ``createdAt``).
        estimated_credits: The most the task may charge.
        output_count: How many output files it produces.
        duration: How long it runs, in API seconds.
        failure: ``(failureCode, failure)`` if it will fail, else ``None``.
        status: Its status as of the simulation's last advance.
        admitted: When it got a slot (PENDING), if it did.
        started: When it started RUNNING, if it did.
        ended: When it reached a terminal status, if it did.
        cost: Final credits charged, once terminal.
        usage_model: The model its charges are reported under in usage, if not ``model``.
        invocation: Whether it is a workflow invocation (unknown to ``/v1/tasks``).
        output_kinds: The media kind of each output, when they differ (else ``kind``).
        output_ready: For each output, the fraction of the run after which it exists
            (served while RUNNING); ``None``: every output exists once SUCCEEDED.

    """

    id: str
    endpoint: str
    model: str
    kind: MediaKind
    created: float
    created_at: datetime
    estimated_credits: int
    output_count: int
    duration: float
    failure: tuple[str, str] | None
    status: TaskStatus = "PENDING"
    admitted: float | None = None
    started: float | None = None
    ended: float | None = None
    cost: int | None = None
    usage_model: str | None = None
    invocation: bool = False
    output_kinds: tuple[MediaKind, ...] | None = None
    output_ready: tuple[float, ...] | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended."""
        return self.status in TERMINAL

    def output_kind(self, index: int) -> MediaKind:
        """Return the media kind of output ``index``."""
        return self.kind if self.output_kinds is None else self.output_kinds[index]

    def has_output(self, index: int, now: float) -> bool:
        """Return whether output ``index`` exists at ``now`` (and so may be downloaded)."""
        if not 0 <= index < self.output_count:
            return False
        if self.status == "SUCCEEDED":
            return True
        if self.status != "RUNNING" or self.output_ready is None:
            return False
        return self.progress(now) >= self.output_ready[index]

    def progress(self, now: float) -> float:
        """Return the fraction done at ``now`` (0 before it runs, below 1 while running)."""
        if self.status == "SUCCEEDED":
            return 1.0
        if self.started is None:
            return 0.0
        done = (now - self.started) / self.duration if self.duration > 0 else 1.0
        # A RUNNING task never reports 1.0: that instant is SUCCEEDED.
        return round(min(max(done, 0.0), 0.9999), 4)

    def charge(self) -> int:
        """Return what the task holds right now: its estimate until it ends, then its cost."""
        return self.estimated_credits if self.cost is None else self.cost


@attrs.define
class _Lane:
    """One model's scheduling state: slots in use, the FIFO of THROTTLED tasks, counters."""

    active: int = 0  # PENDING + RUNNING tasks, the ones holding a slot
    running: int = 0
    max_running: int = 0
    queue: deque[str] = attrs.Factory(deque)
    throttled_seconds: float = 0.0


@attrs.frozen
class _Lag:
    task_id: str
    model: str
    status: str
    api_seconds: float
    real_seconds: float


def _percentile(values: list[float], fraction: float) -> float | None:
    # Nearest-rank percentile: always one of the observed values, and well defined for n=1.
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def body_fingerprint(endpoint: str, body: object) -> str:
    """Return a stable digest of a create request, equal for identical bodies.

    Args:
        endpoint: The endpoint name, so equal bodies on different endpoints differ.
        body: The JSON body.

    Returns:
        A hex digest.

    """
    text = json.dumps([endpoint, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Simulation:
    """Every task and counter of one emulator, advanced lazily in simulated time.

    Not thread-safe by itself; the server serialises calls.

    Args:
        config: The emulator's settings.
        clock: Real monotonic seconds; inject a fake one to drive time by hand in tests.
        wall_clock: The current UTC time, for ``createdAt`` and daily accounting.

    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall_clock = wall_clock or (lambda: datetime.now(timezone.utc))
        self._resets = -1
        self.reset()

    def reset(self) -> None:
        """Forget every task, usage record, metric and ``set_limits`` change; restart time at 0."""
        seed = self.config.seed
        self._resets += 1
        # The same outcomes after every reset, so benchmark runs repeat; a separate id stream,
        # so asking for ids never shifts outcomes, and new ids per reset, so a stale poller
        # from before a reset never reads a new task under an old id.
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not cryptography
        self._id_rng = random.Random(  # noqa: S311
            None if seed is None else f"ids:{seed}:{self._resets}"
        )
        self._origin = self._clock()
        self._tasks: dict[str, TaskRecord] = {}
        self._lanes: dict[str, _Lane] = defaultdict(_Lane)
        self._events: list[tuple[float, int, int, str]] = []
        self._seq = 0
        self._processed_until = 0.0
        # Creation times per model, oldest first, for the rolling 24-hour count.
        self._created: dict[str, deque[datetime]] = defaultdict(deque)
        self._charges: dict[str, tuple[date, str, int]] = {}  # survive task deletion
        self._created_per_model: Counter[str] = Counter()
        self._bodies: Counter[str] = Counter()
        self._lags: dict[str, _Lag] = {}
        self._seen_terminal: set[str] = set()
        self._polls: Counter[str] = Counter()
        # Limits changed while running (set_limits), by model, over the configured ones.
        self._concurrency: dict[str, Limit] = {}
        self._daily_limits: dict[str, Limit] = {}

    # -- time ---------------------------------------------------------------------------

    def now(self) -> float:
        """Return the current simulated time in API seconds since the last reset."""
        return (self._clock() - self._origin) / self.config.time_scale

    def advance(self, until: float | None = None) -> float:
        """Process every event due by ``until`` (default: now), in time order.

        Args:
            until: Simulated time to advance to.

        Returns:
            The simulated time advanced to.

        """
        target = self.now() if until is None else until
        target = max(target, self._processed_until)
        while self._events and self._events[0][0] <= target:
            at, kind, _seq, task_id = heapq.heappop(self._events)
            task = self._tasks.get(task_id)
            if task is None:
                continue
            if kind == _RUN and task.status == "PENDING":
                self._start(task, at)
            elif kind == _END and task.status == "RUNNING":
                self._finish(task, at)
        self._processed_until = target
        return target

    def _push(self, at: float, kind: int, task_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, kind, self._seq, task_id))

    # -- lifecycle ------------------------------------------------------------------------

    def _admit(self, task: TaskRecord, at: float) -> None:
        lane = self._lanes[task.model]
        lane.active += 1
        if task.status == "THROTTLED":
            lane.throttled_seconds += at - task.created
        task.status = "PENDING"
        task.admitted = at
        self._push(at + self.config.pending_seconds, _RUN, task.id)

    def _start(self, task: TaskRecord, at: float) -> None:
        lane = self._lanes[task.model]
        lane.running += 1
        lane.max_running = max(lane.max_running, lane.running)
        task.status = "RUNNING"
        task.started = at
        self._push(at + task.duration, _END, task.id)

    def _finish(self, task: TaskRecord, at: float) -> None:
        if task.failure is None:
            task.status = "SUCCEEDED"
            task.cost = task.estimated_credits
        else:
            task.status = "FAILED"
            # Moderated generations are charged like successful ones; other failures refund.
            task.cost = task.estimated_credits if task.failure[0].startswith("SAFETY.") else 0
        task.ended = at
        self._update_charge(task)
        self._release(task, at, was_running=True)

    def _release(self, task: TaskRecord, at: float, *, was_running: bool) -> None:
        lane = self._lanes[task.model]
        lane.active -= 1
        if was_running:
            lane.running -= 1
        self._promote(task.model, at)

    def _promote(self, model: str, at: float) -> None:
        lane = self._lanes[model]
        limit = self.concurrency_for(model)
        while lane.queue and (limit is None or lane.active < limit):
            self._admit(self._tasks[lane.queue.popleft()], at)

    # -- limits -------------------------------------------------------------------------

    def concurrency_for(self, model: str) -> Limit:
        """Return how many tasks of ``model`` may hold a slot at once now (``None``: no cap)."""
        if model in self._concurrency and not self.config.spec_mock:
            return self._concurrency[model]
        return self.config.concurrency_for(model)

    def daily_limit_for(self, model: str) -> Limit:
        """Return how many tasks of ``model`` may be created per 24 h now (``None``: no cap)."""
        if model in self._daily_limits and not self.config.spec_mock:
            return self._daily_limits[model]
        return self.config.daily_limit_for(model)

    def set_limits(
        self,
        model: str,
        *,
        concurrency: Limit | Keep = KEEP,
        daily_limit: Limit | Keep = KEEP,
    ) -> None:
        """Change ``model``'s limits from now on (values checked by the caller).

        Tasks already RUNNING or PENDING keep their slots under a lower concurrency cap (new
        ones wait THROTTLED until fewer hold one); a higher cap admits THROTTLED tasks at
        once, oldest first. A lower daily limit refuses further creates once reached.

        Args:
            model: The model.
            concurrency: Its new concurrency cap; ``KEEP`` leaves it.
            daily_limit: Its new daily limit; ``KEEP`` leaves it.

        """
        now = self.advance()
        if not isinstance(concurrency, Keep):
            self._concurrency[model] = concurrency
        if not isinstance(daily_limit, Keep):
            self._daily_limits[model] = daily_limit
        self._promote(model, now)

    def _update_charge(self, task: TaskRecord) -> None:
        model = task.usage_model or task.model
        self._charges[task.id] = (task.created_at.date(), model, task.charge())

    # -- requests -------------------------------------------------------------------------

    def _new_id(self) -> str:
        if self.config.seed is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._id_rng.getrandbits(128), version=4))

    def daily_generations(self, model: str) -> int:
        """Return how many tasks of ``model`` were created in the past 24 hours (wall clock)."""
        times = self._created.get(model)
        if not times:
            return 0
        horizon = self._wall_clock() - _DAY
        while times and times[0] <= horizon:
            times.popleft()
        return len(times)

    def create(
        self,
        *,
        endpoint: str,
        model: str,
        kind: MediaKind,
        body: object,
        estimated_credits: int,
        output_count: int = 1,
        duration: float | None = None,
        failure: tuple[str, str] | None = None,
        usage_model: str | None = None,
    ) -> TaskRecord:
        """Create a task now: PENDING if its model has a free slot, else THROTTLED.

        Args:
            endpoint: The endpoint name.
            model: The model it counts against.
            kind: Its output's media kind.
            body: The request body (for duplicate detection).
            estimated_credits: The most it may charge.
            output_count: How many output files it will have.
            duration: Its exact run time in API seconds (default: the configured duration
                of ``model`` or ``kind``, with jitter).
            failure: ``(failureCode, failure)`` to make it fail for sure (default: it fails
                at the configured ``failure_rate``).
            usage_model: The model its charges are reported under (default ``model``).

        Returns:
            The new task.

        Raises:
            DailyLimitExceeded: The model's daily limit is reached; nothing was created.

        """
        now = self.advance()
        daily = self.daily_limit_for(model)
        if daily is not None and self.daily_generations(model) >= daily:
            raise DailyLimitExceeded(model, daily)
        # Draw the same numbers for every task whatever the settings, so one seed gives the
        # same durations whether or not failures are switched on.
        spread = self._rng.uniform(-1.0, 1.0)
        fails = self._rng.random() < self.config.failure_rate
        drawn = FAILURE_CODES[self._rng.randrange(len(FAILURE_CODES))]
        if self.config.failure_codes is not None:
            texts = dict(FAILURE_CODES)
            code = self.config.failure_codes[self._rng.randrange(len(self.config.failure_codes))]
            drawn = (code, texts.get(code, f"The task failed ({code})."))
        base = self.config.duration_for(model, kind)
        if failure is not None:
            fails = True
        task = TaskRecord(
            id=self._new_id(),
            endpoint=endpoint,
            model=model,
            kind=kind,
            created=now,
            created_at=_to_milliseconds(self._wall_clock()),
            estimated_credits=estimated_credits,
            output_count=output_count,
            duration=base * (1.0 + self.config.jitter * spread) if duration is None else duration,
            failure=(failure or drawn) if fails else None,
            usage_model=usage_model,
        )
        self._tasks[task.id] = task
        self._created[model].append(task.created_at)
        self._created_per_model[model] += 1
        self._bodies[body_fingerprint(endpoint, body)] += 1
        self._update_charge(task)
        lane = self._lanes[model]
        limit = self.concurrency_for(model)
        if lane.queue or (limit is not None and lane.active >= limit):
            task.status = "THROTTLED"
            lane.queue.append(task.id)
        else:
            self._admit(task, now)
        return task

    def get(self, task_id: str) -> TaskRecord | None:
        """Return a task as of now, recording how late a terminal state was first seen.

        Args:
            task_id: The task id.

        Returns:
            The task, or ``None`` if it does not exist (or was deleted).

        """
        now = self.advance()
        task = self._tasks.get(task_id)
        if task is None:
            return None
        self._polls[task_id] += 1
        if task.is_terminal and task.id not in self._seen_terminal and task.ended is not None:
            self._seen_terminal.add(task.id)
            lag = max(0.0, now - task.ended)
            self._lags[task.id] = _Lag(
                task.id, task.model, task.status, lag, lag * self.config.time_scale
            )
        return task

    def peek(self, task_id: str) -> TaskRecord | None:
        """Return a task as of now without counting it as seen (for serving its outputs)."""
        self.advance()
        return self._tasks.get(task_id)

    def delete(self, task_id: str) -> Literal["cancelled", "deleted"] | None:
        """Cancel a task that has not ended, or delete one that has.

        Cancelling before the task ran refunds it (cost 0); cancelling a RUNNING task keeps
        the charge. A cancelled task frees its slot at once. A deleted task is gone (its
        charge stays in the usage report).

        Args:
            task_id: The task id.

        Returns:
            What happened, or ``None`` if there is no such task.

        """
        now = self.advance()
        task = self._tasks.get(task_id)
        if task is None:
            return None
        if task.is_terminal:
            del self._tasks[task_id]
            return "deleted"
        previous = task.status
        task.status = "CANCELLED"
        task.ended = now
        task.cost = task.estimated_credits if previous == "RUNNING" else 0
        self._update_charge(task)
        lane = self._lanes[task.model]
        if previous == "THROTTLED":
            lane.queue.remove(task.id)
            lane.throttled_seconds += now - task.created
        else:
            self._release(task, now, was_running=previous == "RUNNING")
        return "cancelled"

    # -- reports --------------------------------------------------------------------------

    def organization(self, models: Iterable[str]) -> dict[str, Any]:
        """Return the ``GET /v1/organization`` body (wire names).

        Args:
            models: Every model name to list limits and usage for.

        Returns:
            ``creditBalance``, ``tier`` and ``usage``.

        """
        self.advance()
        # Workflow invocations run as the pseudo-model "workflow", which the real API's tier
        # does not list (a workflow's tasks count against the models it uses).
        names = sorted((set(models) | set(self._created_per_model)) - {PSEUDO_WORKFLOW_MODEL})
        held = sum(amount for _, _, amount in self._charges.values())
        return {
            "creditBalance": max(0, self.config.credit_balance - held),
            "tier": {
                "maxMonthlyCreditSpend": self.config.max_monthly_credit_spend,
                "models": {
                    m: {
                        "maxConcurrentGenerations": self.concurrency_for(m),
                        "maxDailyGenerations": self.daily_limit_for(m),
                    }
                    for m in names
                },
            },
            "usage": {
                "models": {m: {"dailyGenerations": self.daily_generations(m)} for m in names}
            },
        }

    def usage(self, start: date, before: date, *, include_reserved: bool = False) -> dict[str, Any]:
        """Return the ``POST /v1/organization/usage`` body: credits by day and model.

        Args:
            start: First day (UTC), inclusive.
            before: Last day, exclusive.
            include_reserved: Also return the fields the API reserves for future use.

        Returns:
            ``models`` and ``results`` (one entry per day of the range).

        """
        self.advance()
        per_day: dict[date, Counter[str]] = defaultdict(Counter)
        for day, model, amount in self._charges.values():
            if start <= day < before:
                per_day[day][model] += amount
        models = sorted({m for counts in per_day.values() for m in counts})
        results = []
        day = start
        while day < before:
            counts = per_day.get(day, Counter())
            results.append(
                {
                    "date": day.isoformat(),
                    "usedCredits": [{"model": m, "amount": counts[m]} for m in sorted(counts)],
                }
            )
            day += _DAY
        body: dict[str, Any] = {"models": models, "results": results}
        if include_reserved:
            body["apiKeys"] = []
            body["resultsByApiKey"] = [
                {"date": entry["date"], "usedCredits": []} for entry in results
            ]
        return body

    def today(self) -> date:
        """Return the current UTC date of the wall clock."""
        return self._wall_clock().date()

    def wall_now(self) -> datetime:
        """Return the current UTC time of the wall clock, to the millisecond (``createdAt``)."""
        return _to_milliseconds(self._wall_clock())

    def metrics(self, *, tasks: bool = False) -> dict[str, Any]:
        """Return the simulation's counters (the task part of ``/_emulator/metrics``).

        Args:
            tasks: Also return every task's timeline (``tasks``), for benchmark reports.

        Returns:
            Tasks created, most simultaneous RUNNING, THROTTLED time, duplicate bodies,
            detection lags and polls per task, keyed as documented on ``Emulator.metrics``.

        """
        now = self.advance()
        throttled: dict[str, float] = {}
        for model, lane in self._lanes.items():
            seconds = lane.throttled_seconds
            # Tasks still waiting count up to now.
            seconds += sum(now - self._tasks[t].created for t in lane.queue)
            throttled[model] = round(seconds, 6)
        lags = list(self._lags.values())
        api = [lag.api_seconds for lag in lags]
        real = [lag.real_seconds for lag in lags]
        duplicates = [n for n in self._bodies.values() if n > 1]
        status_counts = Counter(task.status for task in self._tasks.values())
        return {
            "now": round(now, 6),
            "tasks_created": dict(sorted(self._created_per_model.items())),
            "tasks_created_total": sum(self._created_per_model.values()),
            "tasks_by_status": dict(sorted(status_counts.items())),
            "max_running": {m: lane.max_running for m, lane in sorted(self._lanes.items())},
            "running": {m: lane.running for m, lane in sorted(self._lanes.items())},
            "throttled_seconds": {
                "total": round(sum(throttled.values()), 6),
                "models": dict(sorted(throttled.items())),
            },
            "duplicate_bodies": len(duplicates),
            "duplicate_creates": sum(n - 1 for n in duplicates),
            "detection_lag": {
                lag.task_id: {
                    "model": lag.model,
                    "status": lag.status,
                    "api_seconds": round(lag.api_seconds, 6),
                    "real_seconds": round(lag.real_seconds, 6),
                }
                for lag in lags
            },
            "detection_lag_summary": {
                "count": len(lags),
                "p50_api_seconds": _round(_percentile(api, 0.5)),
                "p95_api_seconds": _round(_percentile(api, 0.95)),
                "p50_real_seconds": _round(_percentile(real, 0.5)),
                "p95_real_seconds": _round(_percentile(real, 0.95)),
            },
            "polls": self._poll_summary(),
            **({"tasks": self._timelines()} if tasks else {}),
        }

    def _poll_summary(self) -> dict[str, Any]:
        # GETs of each created task, including tasks never polled (0).
        counts = [self._polls.get(task_id, 0) for task_id in self._tasks]
        return {
            "total": sum(counts),
            "mean_per_task": _round(sum(counts) / len(counts)) if counts else None,
            "max_per_task": max(counts, default=None),
        }

    def _timelines(self) -> dict[str, dict[str, Any]]:
        # ``seen``: when a GET first returned the task's end (None until one did).
        def seen(task: TaskRecord) -> float | None:
            lag = self._lags.get(task.id)
            if lag is None or task.ended is None:
                return None
            return _round(task.ended + lag.api_seconds)

        return {
            task.id: {
                "model": task.model,
                "status": task.status,
                "created": _round(task.created),
                "admitted": _round(task.admitted),
                "started": _round(task.started),
                "ended": _round(task.ended),
                "seen": seen(task),
                "duration": _round(task.duration),
                "polls": self._polls.get(task.id, 0),
            }
            for task in self._tasks.values()
        }

    def known_task_ids(self) -> Mapping[str, TaskRecord]:
        """Return the live tasks by id (read-only view for reports and tests)."""
        return self._tasks


def _to_milliseconds(moment: datetime) -> datetime:
    # The API's timestamps carry JavaScript's millisecond precision.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
