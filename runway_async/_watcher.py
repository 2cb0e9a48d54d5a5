"""The central task watcher: one scheduler per event loop polls every task someone needs.

One ``TaskWatcher`` per client and event loop (shared by the client's ``with_options``
copies) tracks every task the client created and every task someone waits for. A single
scheduler coroutine keeps a heap of next-poll times and starts each GET when it falls due,
at most ``max_in_flight`` at once and within a ``RateBudget`` of ``requests_per_second``;
however many coroutines wait for one task, each poll is one GET.

When a task is polled follows from what is known about it:

* Right after creation, at the model's learned duration: an online estimate of the
  97th percentile of creation-to-end times of this client's earlier tasks of that model
  (a ``DurationEstimator``; before any were seen, at ``min_interval``). A task that was
  still running then was underestimated, and one that had ended was not; each outcome
  nudges the estimate, so about 97 % of tasks need exactly one GET.
* While RUNNING, the ``progress`` trend (two samples, or one and the start time) is
  extrapolated and the next poll aims just after the estimated end.
* While THROTTLED, slowly (``max_interval``), and again at the earliest allowed moment when
  one of the client's tasks of the same model ends (a slot freed up): an early look.
* After a retryable error, after a back-off doubling from ``min_interval`` (at least the
  server's ``Retry-After``, at most ``max_interval``).

Never two GETs of one task less than ``min_interval`` apart, never more than
``max_interval`` apart while watched. Random jitter (at most ``jitter`` times the task's
duration) is added only after the estimated end, so a fleet does not synchronise and no
lag is added before the task can have ended.

Tasks nobody waits for, listens to, or needs the slot of are not polled at all; a task
holding a concurrency slot starts being polled as soon as another create of its model
queues for a slot.

A task's slot is handed over before the task is seen to end (``Limiter.lend``): at the
moment after which the next create, sent now and arriving one create round trip later,
waits THROTTLED on the server for ``PollConfig.handover`` seconds on average
(``DurationEstimator.handover``), or, once a progress sample extrapolates the task's end,
one round trip before that end. The server then starts the next task the moment the old
one ends, instead of one detection lag and one round trip later. No GET is spent on it.

All timing reads the watcher's ``Clock`` (``now``, ``call_at``), so tests drive the whole
schedule on a ``VirtualClock``. Each task's polling phase lives in its ``WatchedTask``
(``_watched``).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Final

import attrs

from ._clock import SYSTEM_CLOCK, Clock, Timer, set_done
from ._config import PollConfig, check_seconds
from ._duration_cache import EstimatorState
from ._estimator import DurationEstimator
from ._events import DEFAULT_EVENT_BUFFER, EventBuffer, TaskEvent, TaskEventKind
from ._exceptions import CLIENT_CLOSED, APIStatusError, TaskTimeoutError
from ._limits import Limiter, Slot
from ._loops import call_soon_anywhere
from ._models import Task, check_task_id
from ._rate import RateBudget
from ._retry import is_retryable
from ._watched import Phase, WatchedTask

__all__ = ["TaskWatcher"]

logger = logging.getLogger("runway_async")

_MARGIN: Final = 0.005  # aim this fraction of the duration after an extrapolated end
_ONE_SAMPLE_MIN_PROGRESS: Final = 0.25  # below this, take a second sample, do not guess
_PROBE: Final = 0.2  # a probe's first poll, as a fraction of min_interval after creation
_PROBES: Final = 2  # probes per model until its pending time is known
_MEASURED_MIN_PROGRESS: Final = 0.02  # with a measured pending time, one sample this far in
_SAMPLE_AT: Final = 0.85  # a sampling first poll, as a fraction of the aim
_SAMPLE_EVERY: Final = 4  # one task in this many samples while a model's spread is short
_FIRST_SAMPLES: Final = 32  # first samples kept per model to fit the pending time
_MIN_PROGRESS_SPREAD: Final = 0.1  # their progress must vary this much (std) to fit a line
_ENDED_CACHE: Final = 4096  # ended tasks kept for late waiters (no GET needed)
_DORMANT_CAP: Final = 65536  # registered tasks nobody watches, kept for their creation time

_TERMINAL_KIND: Final[dict[str, TaskEventKind]] = {
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
}


class TaskWatcher:
    """Polls the tasks of one client (and its copies) from one scheduler coroutine.

    Created inside the running event loop; not thread-safe (the loop is its lock), and
    closed by ``client.aclose()``. See the module docstring for the schedule.

    Args:
        fetch: One GET of a task, returning it bound and checked (``task_from_reply``);
            it must not retry (the schedule does). Any exception is judged by the retry
            policy: retryable ones are polled through, others end the task's waits.
        poll: The watcher-wide settings (``max_in_flight``, ``requests_per_second``) and the
            default per-task settings.
        limiter: Released slots go back to it; told when tasks are THROTTLED or polls get
            429, and asked to say when a held slot is wanted.
        on_event: Called with every event, in the loop; exceptions are logged.
        rand: The source of jitter (seed it for reproducible schedules).
        clock: The time every decision reads and every wait is measured on.
        status_of: For watchers of other objects than tasks (avatars, workflow
            invocations, ...; see ``WatchKind``): maps a fetched object to the task status
            the schedule acts on; ``SUCCEEDED``, ``FAILED`` and ``CANCELLED`` end its waits.
            By default the object's own ``status`` (tasks).
        durations: What earlier processes learned of each model's durations (from the
            duration cache): each model's estimate goes on from there.
        on_learned: Called (soon after, in the loop) each time an ended task taught a
            model's estimate something; the client saves ``learned()`` from it.
        pending: Seconds from creation until each model's tasks run, where known (also
            taken from ``durations``). A model's first tasks are otherwise probed: first
            polled at ``0.2 * min_interval``, so two progress samples measure it.

    """

    def __init__(
        self,
        *,
        fetch: Callable[[str], Awaitable[Task]],
        poll: PollConfig,
        limiter: Limiter | None = None,
        on_event: Callable[[TaskEvent], object] | None = None,
        rand: random.Random | None = None,
        clock: Clock = SYSTEM_CLOCK,
        status_of: Callable[[Any], str] | None = None,
        durations: Mapping[str, EstimatorState] | None = None,
        on_learned: Callable[[], object] | None = None,
        pending: Mapping[str, float] | None = None,
    ) -> None:
        """Set up an idle watcher in the running event loop (nothing runs until a poll)."""
        self._loop = asyncio.get_running_loop()
        self._fetch = fetch
        self._poll = poll
        self._limiter = limiter
        self._on_event = on_event
        self._rand = rand or random.Random()  # noqa: S311 - jitter, not cryptography
        self._clock = clock
        self._status_of = status_of
        self._entries: dict[str, WatchedTask] = {}
        self._dormant: OrderedDict[str, None] = OrderedDict()
        self._ended: OrderedDict[str, Task] = OrderedDict()
        self._throttled: dict[str, dict[str, WatchedTask]] = {}
        self._estimators: dict[str, DurationEstimator] = {
            model: DurationEstimator.from_state(state) for model, state in (durations or {}).items()
        }
        self._on_learned = on_learned
        self._create_rtt: dict[str, float] = {}  # per model: smoothed create round trip
        # Per model: seconds from creation to running.
        self._pending: dict[str, float] = {
            model: state.pending
            for model, state in (durations or {}).items()
            if state.pending is not None
        }
        self._pending.update(pending or {})
        self._looks: dict[str, int] = {}  # per model: probes planned before it was measured
        self._sampled: dict[str, int] = {}  # per model: first polls considered for sampling
        self._pending_measured: set[str] = set()  # models whose pending time two samples gave
        # Per model: (progress, age) of first samples, for _learn_pending_across.
        self._first_samples: dict[str, deque[tuple[float, float]]] = {}
        self._handovers: dict[str, Timer] = {}  # per task holding a slot: when to lend it
        self._heap: list[tuple[float, int, int, WatchedTask]] = []
        self._seq = itertools.count()
        self._budget = RateBudget(poll.requests_per_second, clock=clock)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._global: set[EventBuffer] = set()
        self._runner: asyncio.Task[None] | None = None
        self._sleeper: asyncio.Future[None] | None = None
        self._sleep_until: float | None = None
        self._closed = False
        self.polls_sent = 0
        """GETs sent so far (for diagnostics and tests)."""
        self.learn_count = 0
        """Ended tasks the duration estimates learned from so far (it grows with each)."""

    def __repr__(self) -> str:
        return f"<TaskWatcher tracking={len(self._entries)} in_flight={len(self._in_flight)}>"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the watcher belongs to."""
        return self._loop

    def seed(self, durations: Mapping[str, EstimatorState]) -> None:
        """Take durations learned elsewhere for the models this watcher has not measured.

        A model this watcher already has an estimate of keeps its own (what this process
        saw is newer than what it is told); the others start from ``durations`` as if the
        watcher had been made with them.
        """
        for model, state in durations.items():
            if model in self._estimators:
                continue
            self._estimators[model] = DurationEstimator.from_state(state)
            if state.pending is not None:
                self._pending.setdefault(model, state.pending)

    def learned(self) -> dict[str, EstimatorState]:
        """Return each model's duration estimate as it stands (to persist), by model."""
        learned = {}
        for model, estimator in self._estimators.items():
            state = estimator.state()
            if state is not None:
                learned[model] = attrs.evolve(state, pending=self._pending.get(model))
        return learned

    @property
    def tracked(self) -> int:
        """How many tasks are tracked (not yet seen to end)."""
        return len(self._entries)

    def expected_duration(self, model: str | None, poll: PollConfig | None = None) -> float:
        """Return the seconds a task of ``model`` is expected to take, creation to end.

        The learned estimate (a high percentile) once a task of the model was seen, else
        ``poll.assumed_duration``.
        """
        aim = self._aim(model)
        return aim if aim is not None else (poll or self._poll).assumed_duration

    # -- registering --------------------------------------------------------------------

    def register_created(
        self,
        task_id: str,
        *,
        model: str | None,
        slot: Slot | None,
        poll: PollConfig | None = None,
        sent: float | None = None,
    ) -> None:
        """Track a task this client just created (its slot is released when it ends).

        ``sent``: when, on the watcher's clock, the create request went out; the round trip
        it took times the early handover of this model's slots.
        """
        if slot is not None:
            slot.task_id = task_id
        if self._closed:
            if slot is not None and self._limiter is not None:
                self._limiter.release(slot, after=self.expected_duration(model, poll))
            return
        existing = self._entries.get(task_id)
        if existing is not None:  # the same id twice: keep one entry, release the extra slot
            if slot is not None and self._limiter is not None:
                self._limiter.release(slot)
            return
        now = self._clock.now()
        # A task created early on a lent slot starts when the lender's task ends: exactly
        # then if that end is known, else after the THROTTLED wait the handover was timed
        # for (on average). Its polls and its own handover are timed from then, and moved
        # when the lender is seen (_anchor_successor). Each estimate rests on the task's own
        # creation, so errors never add up along a chain of handovers.
        start = now
        if slot is not None and slot.early:
            if slot.starts_at is not None:
                start = max(now, slot.starts_at)
            else:
                start = now + (poll or self._poll).handover_budget
        entry = WatchedTask(task_id, model=model, created=start, poll=poll or self._poll, slot=slot)
        entry.made = now
        self._entries[task_id] = entry
        if sent is not None and model is not None:
            rtt = max(0.0, now - sent)
            previous = self._create_rtt.get(model)
            self._create_rtt[model] = rtt if previous is None else 0.8 * previous + 0.2 * rtt
        if slot is not None:
            if self._limiter is not None:
                self._limiter.notify_when_wanted(slot, lambda: self._wanted_threadsafe(task_id))
                self._plan_handover(entry)
            else:
                entry.wanted = True  # no limiter to say when: as if wanted from the start
        self._emit(entry, "submitted", None)
        self._refresh_interest(entry)

    def adopt(self, slot: Slot) -> None:
        """Poll the task of an orphaned ``slot`` and release the slot when the task ends.

        The slot was held by a client closed while its task ran (see
        ``InProcessLimiter.orphans``); without an adopter it frees only at the task's
        expected end.
        """
        task_id = slot.task_id
        if task_id is None or self._closed or self._limiter is None:
            return
        entry = self._entries.get(task_id)
        if entry is None:
            entry = self._track_foreign(task_id, self._poll)
            entry.model = slot.model
        if entry.slot is not None:
            return
        entry.slot = slot
        entry.wanted = True
        self._refresh_interest(entry)

    def poke(self, task_id: str) -> None:
        """Poll a tracked task at the earliest allowed moment (after a cancel, say)."""
        entry = self._entries.get(task_id)
        if entry is not None and entry.phase is not Phase.IN_FLIGHT and self._interested(entry):
            entry.ask_look()
            self._schedule(entry, self._earliest(entry))

    # -- waiting ------------------------------------------------------------------------

    async def wait(self, task_id: str, *, timeout: float | None, poll: PollConfig) -> Task:
        """Wait until the task ends and return it, whatever its outcome.

        Args:
            task_id: The task id (also one created elsewhere).
            timeout: Seconds to wait, on the watcher's clock (``None``: no deadline).
            poll: The settings for the task if it is not tracked yet.

        Returns:
            The ended task (SUCCEEDED, FAILED or CANCELLED).

        Raises:
            TaskTimeoutError: The deadline passed; ``task_details`` is the last task seen.
            APIStatusError: A non-retryable poll error (404, 401, ...).

        """
        timeout = check_seconds("timeout", timeout, allow_none=True)
        self._check_open()
        cached = self._ended.get(task_id)
        if cached is not None:
            self._ended.move_to_end(task_id)
            return cached
        entry = self._entries.get(task_id) or self._track_foreign(task_id, poll)
        future: asyncio.Future[Task | BaseException] = self._loop.create_future()
        entry.waiters.add(future)
        self._refresh_interest(entry)
        deadline: Timer | None = None
        if timeout is not None:
            deadline = self._clock.call_at(
                self._clock.now() + timeout, lambda: _time_out(future, entry, timeout)
            )
        try:
            outcome = await future
        finally:
            if deadline is not None:
                deadline.cancel()
            entry.waiters.discard(future)
            if self._entries.get(task_id) is entry:
                self._refresh_interest(entry)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def events(
        self, task_id: str | None = None, *, buffer: int = DEFAULT_EVENT_BUFFER
    ) -> AsyncGenerator[TaskEvent, None]:
        """Yield events of one task (until its end) or of every task (until the client closes).

        Listening to every task makes the watcher poll every task the client created,
        including those nobody waits for.
        """
        self._check_open()
        stream = EventBuffer(buffer)
        if task_id is None:
            self._global.add(stream)
            if len(self._global) == 1:
                for entry in list(self._entries.values()):
                    self._refresh_interest(entry)
            try:
                while (event := await stream.get()) is not None:
                    yield event
            finally:
                self._global.discard(stream)
                if not self._global and not self._closed:
                    for entry in list(self._entries.values()):
                        self._refresh_interest(entry)
            return
        cached = self._ended.get(task_id)
        if cached is not None:
            yield self._event_for(cached, self._entries.get(task_id))
            return
        entry = self._entries.get(task_id) or self._track_foreign(task_id, self._poll)
        entry.listeners.append(stream)
        if entry.last is not None:
            stream.put(self._event_for(entry.last, entry))
        elif entry.created is not None:
            stream.put(self._new_event("submitted", entry, None))
        self._refresh_interest(entry)
        try:
            while (event := await stream.get()) is not None:
                yield event
        finally:
            if stream in entry.listeners:
                entry.listeners.remove(stream)
            if self._entries.get(task_id) is entry:
                self._refresh_interest(entry)

    # -- closing ------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop polling; pending waits fail; held slots are released when their tasks end.

        A slot whose task is still running is released at the task's expected end, so
        other clients sharing the limiter do not overfill the organization meanwhile.
        """
        if self._closed:
            return
        self._closed = True
        tasks = list(self._in_flight)
        if self._runner is not None:
            tasks.append(self._runner)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        now = self._clock.now()
        for entry in list(self._entries.values()):
            error = RuntimeError(f"The client was closed while waiting for task {entry.id}.")
            for future in entry.waiters:
                if not future.done():
                    future.set_result(error)
            for stream in entry.listeners:
                stream.close()
            if entry.slot is not None and self._limiter is not None:
                expected = self.expected_duration(entry.model, entry.poll)
                started = entry.created if entry.created is not None else now
                self._limiter.release(entry.slot, after=max(0.0, started + expected - now))
                entry.slot = None
        for stream in self._global:
            stream.close()
        for timer in self._handovers.values():
            timer.cancel()
        self._handovers.clear()
        self._entries.clear()
        self._dormant.clear()
        self._throttled.clear()
        self._heap.clear()

    # -- interest -----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(CLIENT_CLOSED)

    def _track_foreign(self, task_id: str, poll: PollConfig) -> WatchedTask:
        check_task_id(task_id)  # before anything is tracked
        entry = WatchedTask(task_id, model=None, created=None, poll=poll, slot=None)
        self._entries[task_id] = entry
        return entry

    def _interested(self, entry: WatchedTask) -> bool:
        return entry.needed or bool(self._global) or self._on_event is not None

    def _refresh_interest(self, entry: WatchedTask) -> None:
        """Schedule a task someone cares about; park (or forget) one nobody does."""
        if self._closed:
            return
        if self._interested(entry):
            self._dormant.pop(entry.id, None)
            if entry.phase is Phase.IDLE:
                self._schedule(entry, self._plan(entry, self._clock.now()))
            return
        if entry.phase is Phase.SCHEDULED:
            entry.unschedule()
        if entry.phase is Phase.IN_FLIGHT:
            return  # decided again when the GET returns
        if entry.created is None and entry.slot is None:
            self._forget(entry)
            return
        self._dormant[entry.id] = None
        self._dormant.move_to_end(entry.id)
        if len(self._dormant) > _DORMANT_CAP:
            for task_id in list(self._dormant):
                old = self._entries.get(task_id)
                if old is None or old.slot is None:
                    self._dormant.pop(task_id, None)
                    if old is not None:
                        self._forget(old)
                    break

    def _wanted_threadsafe(self, task_id: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to poll
            call_soon_anywhere(self._loop, lambda: self._on_wanted(task_id))

    def _on_wanted(self, task_id: str) -> None:
        entry = self._entries.get(task_id)
        if entry is not None and not entry.wanted:
            entry.wanted = True
            self._refresh_interest(entry)

    def _forget(self, entry: WatchedTask) -> None:
        timer = self._handovers.pop(entry.id, None)
        if timer is not None:
            timer.cancel()
        if self._entries.get(entry.id) is entry:
            del self._entries[entry.id]
        self._dormant.pop(entry.id, None)
        self._unthrottle(entry)
        entry.end()

    def _unthrottle(self, entry: WatchedTask) -> None:
        if entry.model is not None:
            queue = self._throttled.get(entry.model)
            if queue is not None:
                queue.pop(entry.id, None)
                if not queue:
                    del self._throttled[entry.model]

    # -- scheduling ---------------------------------------------------------------------

    def _schedule(self, entry: WatchedTask, at: float) -> None:
        version = entry.schedule()
        heapq.heappush(self._heap, (at, next(self._seq), version, entry))
        if len(self._heap) > 2 * len(self._entries) + 64:
            self._heap = [item for item in self._heap if item[3].is_current(item[2])]
            heapq.heapify(self._heap)
        if self._runner is None:
            self._runner = self._loop.create_task(self._run(), name="runway-task-watcher")
        elif self._sleep_until is None or at < self._sleep_until:
            self._wake()

    def _wake(self) -> None:
        sleeper = self._sleeper
        if sleeper is not None and not sleeper.done():
            sleeper.set_result(None)

    async def _run(self) -> None:
        max_in_flight = self._poll.max_in_flight
        while not self._closed:
            now = self._clock.now()
            wake_at: float | None = None
            while self._heap:
                at, _seq, version, entry = self._heap[0]
                if not entry.is_current(version):
                    heapq.heappop(self._heap)
                    continue
                if at > now:
                    wake_at = at
                    break
                if len(self._in_flight) >= max_in_flight:
                    break  # a finishing GET wakes us
                wait = self._budget.wait_time()
                if wait > 0:
                    wake_at = now + wait
                    break
                heapq.heappop(self._heap)
                self._budget.take()
                self._start_poll(entry)
            await self._sleep(wake_at)

    async def _sleep(self, until: float | None) -> None:
        future: asyncio.Future[None] = self._loop.create_future()
        self._sleeper = future
        self._sleep_until = until
        timer = None
        if until is not None:
            timer = self._clock.call_at(until, lambda: set_done(future))
        try:
            await future
        finally:
            if timer is not None:
                timer.cancel()
            self._sleeper = None
            self._sleep_until = None

    def _start_poll(self, entry: WatchedTask) -> None:
        entry.send()
        entry.last_sent = self._clock.now()
        self.polls_sent += 1
        task = self._loop.create_task(self._poll_once(entry))
        self._in_flight.add(task)
        task.add_done_callback(self._poll_done)

    def _poll_done(self, task: asyncio.Task[None]) -> None:
        # Wake the scheduler only once the GET no longer counts against max_in_flight.
        self._in_flight.discard(task)
        self._wake()

    async def _poll_once(self, entry: WatchedTask) -> None:
        # The GET goes out now, maybe a little after it was started: the floor counts from
        # here, so two GETs of one task are never closer than min_interval on the wire.
        sent = entry.last_sent = self._clock.now()
        outcome: Task | Exception
        try:
            outcome = await self._fetch(entry.id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure is judged below: retryable or final
            outcome = exc
        finally:
            entry.answered()
        if self._closed:
            return
        try:
            if isinstance(outcome, Exception):
                self._on_error(entry, outcome)
            else:
                self._on_task(entry, outcome, sent)
        except Exception as exc:  # a bug here must not leave waiters hanging
            logger.exception("Task watcher failed handling task %s", entry.id)
            self._finish(entry, error=exc)

    def _earliest(self, entry: WatchedTask) -> float:
        now = self._clock.now()
        if entry.last_sent is None:
            return now
        return max(now, entry.last_sent + entry.poll.shortest_interval)

    def _jitter(self, poll: PollConfig) -> float:
        return poll.jitter * self._rand.random()

    def _plan(self, entry: WatchedTask, now: float) -> float:
        """Return when to poll ``entry`` next (see the module docstring)."""
        poll = entry.poll
        shortest = poll.shortest_interval
        longest = poll.slowest_interval
        last = entry.last_sent
        if last is None:
            if entry.created is None:
                return now  # a task created elsewhere: look at it at once
            aim = self._aim(entry.model, entry)
            entry.aim_used = aim
            if aim is not None and self._sample(entry):
                # Look while it runs, so its progress gives its duration (see _sample).
                entry.aim_used = None
                target = entry.created + _SAMPLE_AT * aim
            elif aim is None:
                # A model not measured yet: its first tasks are probed early (_first_look).
                target = entry.created + self._first_look(entry) * shortest
            else:
                target = entry.created + min(aim * (1.0 + self._jitter(poll)), longest)
            return max(now, target)
        if entry.errors:
            backoff = min(longest, shortest * 2.0 ** (entry.errors - 1))
            if entry.retry_after is not None:
                backoff = max(backoff, min(entry.retry_after, longest))
            return max(now, last + backoff)
        status = entry.status
        if status == "THROTTLED":
            target = last if entry.early else last + longest
        elif status == "PENDING":
            aim = self._aim(entry.model, entry)
            if aim is None:
                target = last + shortest
            elif entry.created is not None and not entry.throttled_seen:
                target = entry.created + aim * (1.0 + self._jitter(poll))
            else:
                target = last + aim * (1.0 + self._jitter(poll))
        elif status == "RUNNING":
            estimate = self._estimate_end(entry)
            if estimate is None:
                target = last + shortest
            else:
                end, duration = estimate
                target = end + duration * (_MARGIN + self._jitter(poll))
        else:
            target = last + longest  # a status this SDK does not know: keep an eye on it
        target = min(max(target, last + shortest), last + longest)
        return max(now, target)

    def _first_look(self, entry: WatchedTask) -> float:
        """Return when to look first at a task of a model not measured yet (in floors).

        The first two tasks of a model whose pending time (creation to running) is unknown
        are probed at 0.2 of ``min_interval``: the probe and the poll a floor later give two
        progress samples of a running task, which measure it (``_learn_pending``; for tasks
        shorter than that, probes and later samples of other tasks fit it,
        ``_learn_pending_across``). With the pending time known, one sample of any later
        task extrapolates its end exactly. Other tasks are looked at after one floor.
        """
        model = entry.model
        if model is None or model in self._pending:
            return 1.0
        turn = self._looks.get(model, 0)
        if turn >= _PROBES:
            return 1.0
        self._looks[model] = turn + 1
        return _PROBE

    def _sample(self, entry: WatchedTask) -> bool:
        """Return whether ``entry``'s first poll should measure its duration.

        A model whose first tasks all ended before their first poll (shorter than
        ``min_interval``) has too few measured durations to time a handover or to floor
        the aim with. Until it has three, one task in four is first polled at 85 % of
        the aim, when it most likely still runs: its progress, late in the run, gives its end
        to within a fraction of the pending time. Those tasks wait a poll floor more; the
        rest are unaffected.
        """
        model = entry.model
        estimator = self._estimators.get(model) if model is not None else None
        if model is None or estimator is None or not estimator.wants_samples:
            return False
        if entry.sample is None:  # each task takes its turn once, however often re-planned
            turn = self._sampled.get(model, 0)
            self._sampled[model] = turn + 1
            entry.sample = turn % _SAMPLE_EVERY == _SAMPLE_EVERY - 1
        return entry.sample

    def _learn_pending(self, entry: WatchedTask) -> None:
        """Learn the model's time from creation to running from two progress samples."""
        first, last = entry.first_sample, entry.last_sample
        if (
            first is None
            or last is None
            or entry.created is None
            or entry.model is None
            or entry.throttled_seen  # it waited in the queue: not the model's pending time
            or entry.created != entry.made  # created on a lent slot: its start is a guess
        ):
            return
        if first is last:
            self._learn_pending_across(entry.model, last[0] - entry.created, last[1])
            return
        (t0, p0), (t1, p1) = first, last
        if p1 - p0 <= 1e-6 or t1 <= t0:
            return
        started = t1 - p1 * (t1 - t0) / (p1 - p0)
        pending = max(0.0, started - entry.created)
        previous = self._pending.get(entry.model) if entry.model in self._pending_measured else None
        self._pending[entry.model] = pending if previous is None else 0.8 * previous + 0.2 * pending
        if previous is None:
            self._pending_measured.add(entry.model)
            self._replan_samples(entry.model)

    def _learn_pending_across(self, model: str, age: float, progress: float) -> None:
        """Learn the pending time from first samples of different tasks at different ages.

        Tasks shorter than ``min_interval`` never give two samples, but a probe (young) and a
        sampling poll (old) do give points of ``age = pending + progress * duration``: a
        least-squares line through them has the pending time as its intercept. Two samples
        of one task, when there are any, take precedence.
        """
        points = self._first_samples.setdefault(model, deque(maxlen=_FIRST_SAMPLES))
        points.append((progress, age))
        if model in self._pending_measured or len(points) < 3:
            return
        count = len(points)
        mean_p = sum(p for p, _ in points) / count
        mean_a = sum(a for _, a in points) / count
        var_p = sum((p - mean_p) ** 2 for p, _ in points)
        if var_p < _MIN_PROGRESS_SPREAD**2 * count:
            return  # all at about the same progress: the line is not determined
        slope = sum((p - mean_p) * (a - mean_a) for p, a in points) / var_p
        youngest = min(a for _, a in points)
        first = model not in self._pending
        self._pending[model] = min(max(0.0, mean_a - slope * mean_p), youngest)
        if first:
            self._replan_samples(model)

    def _replan_samples(self, model: str) -> None:
        """Extrapolate again the sampled tasks of ``model``: its pending time is now known."""
        now = self._clock.now()
        for other in list(self._entries.values()):
            if other.model != model or other.last_sample is None:
                continue
            if other.phase is Phase.SCHEDULED and other.status == "RUNNING":
                self._schedule(other, self._plan(other, now))
            self._plan_handover(other)

    def _aim(self, model: str | None, entry: WatchedTask | None = None) -> float | None:
        """Return the model's learned first-poll time (``DurationEstimator.first_poll``)."""
        estimator = self._estimators.get(model) if model is not None else None
        if estimator is None:
            return None
        slot = entry.slot if entry is not None else None
        # Started when the lender ended, which is known only roughly unless it was sampled.
        uncertain = slot is not None and slot.early and slot.starts_at is None
        return estimator.first_poll(handed_over=uncertain)

    def _estimate_end(self, entry: WatchedTask) -> tuple[float, float] | None:
        """Return the extrapolated end (clock time) and running duration, if progress allows."""
        sample = entry.last_sample
        if sample is None:
            return None
        t1, p1 = sample
        first = entry.first_sample
        if first is not None and first is not sample:
            t0, p0 = first
            if p1 - p0 > 1e-6 and t1 > t0:
                rate = (p1 - p0) / (t1 - t0)
                return t1 + (1.0 - p1) / rate, 1.0 / rate
        started = entry.started_guess
        if started is None and entry.created is not None:
            # Ours, never seen queued: created, then PENDING for about the model's usual time.
            started = entry.created + self._pending.get(entry.model or "", 0.0)
        # One sample and a guessed start: only far enough in that the guess (the task may
        # have waited PENDING for a while) cannot dominate; earlier, a second sample is cheap.
        # From a measured pending time the start is no guess: any real progress will do.
        least = _ONE_SAMPLE_MIN_PROGRESS
        if entry.started_guess is None and (entry.model or "") in self._pending:
            least = _MEASURED_MIN_PROGRESS
        if started is not None and p1 >= least and t1 > started:
            duration = (t1 - started) / p1
            return t1 + (1.0 - p1) * duration, duration
        return None

    # -- early handover -----------------------------------------------------------------

    def _plan_handover(self, entry: WatchedTask) -> None:
        """(Re)time the lending of ``entry``'s slot (see the module docstring)."""
        slot = entry.slot
        if slot is None or slot.lent or slot.released or self._limiter is None:
            return
        if entry.model is None or entry.created is None:
            return
        budget = entry.poll.handover_budget
        if not budget > 0:
            return
        lead = self._create_rtt.get(entry.model, 0.0)
        estimate = self._estimate_end(entry)
        if estimate is not None:
            at = estimate[0] - lead
            slot.ends_at = estimate[0]  # the early task starts then
        else:
            estimator = self._estimators.get(entry.model)
            point = estimator.handover(budget) if estimator is not None else None
            if point is None:
                return
            at = entry.created + point - lead
            slot.ends_at = None  # the early task waits about ``budget`` (see register_created)
        old = self._handovers.pop(entry.id, None)
        if old is not None:
            old.cancel()
        now = self._clock.now()
        if at <= now:
            self._hand_over(entry)
            return
        self._handovers[entry.id] = self._clock.call_at(at, lambda: self._hand_over(entry))

    def _anchor_successor(self, entry: WatchedTask, successor: Slot) -> None:
        """Move the expected start of the task created early on ``entry``'s lent slot.

        ``entry`` was seen running with its end extrapolated (the early task starts then),
        or seen ended (it started by then at the latest). Anchoring each early task to what
        was seen of the one before keeps errors from adding up along a chain of handovers.
        """
        estimate = self._estimate_end(entry)
        ended = entry.status in _TERMINAL_KIND
        if estimate is not None:
            start = estimate[0]
            if ended and entry.lo is not None and entry.last_sent is not None:
                start = min(max(start, entry.lo), entry.last_sent)
            latest = None
        elif ended and entry.last_sent is not None:
            start, latest = None, entry.last_sent
        else:
            return
        if successor.task_id is None:  # its create is not answered yet
            if start is not None:
                successor.starts_at = start
            elif latest is not None and successor.starts_at is not None:
                successor.starts_at = min(successor.starts_at, latest)
            return
        other = self._entries.get(successor.task_id)
        if other is None or other.made is None or other.created is None:
            return
        if start is not None:
            moved = max(other.made, start)
            if other.slot is not None:
                other.slot.starts_at = start  # known now: its first poll needs no extra margin
        else:
            assert latest is not None
            moved = max(other.made, min(other.created, latest))
        if abs(moved - other.created) < 1e-9:
            return
        other.created = moved
        if other.phase is Phase.SCHEDULED and other.last_sent is None:
            self._schedule(other, self._plan(other, self._clock.now()))
        if other.slot is not None and not other.slot.lent:
            self._plan_handover(other)

    def _hand_over(self, entry: WatchedTask) -> None:
        self._handovers.pop(entry.id, None)
        slot = entry.slot
        if self._closed or self._limiter is None or slot is None:
            return
        if self._entries.get(entry.id) is entry:
            self._limiter.lend(slot)

    # -- results ------------------------------------------------------------------------

    def _status(self, task: Task) -> str:
        """Return the status the schedule acts on (a task's own; mapped for other objects)."""
        return task.status if self._status_of is None else self._status_of(task)

    def _on_task(self, entry: WatchedTask, task: Task, sent: float) -> None:
        previous = entry.status
        status = self._status(task)
        entry.last = task
        entry.status = status
        entry.errors = 0
        entry.retry_after = None
        if status in _TERMINAL_KIND:
            self._learn(entry, sent)
            self._finish(entry, task=task)
            return
        entry.lo = sent
        if status == "THROTTLED":
            entry.throttled_at = sent
            if entry.model is not None:
                self._throttled.setdefault(entry.model, {})[entry.id] = entry
                if entry.early:
                    # The freed slot went to another task (the server queues by its own
                    # order): pass the early look on to the next of ours in line.
                    self._bump_throttled(entry.model, after=entry)
            if previous != "THROTTLED":
                self._emit(entry, "throttled", None)
                if entry.slot is not None and self._limiter is not None:
                    self._limiter.mark_stale()  # our limiter let it through: limits changed?
        else:
            self._unthrottle(entry)
            if entry.started_guess is None:
                entry.started_guess = self._start_guess(entry, task, sent)
            progress = _progress(task) if status == "RUNNING" else None
            if status == "PENDING" or (progress is not None and progress <= 0.0):
                entry.started_guess = sent  # not running yet, or only just started
            if status == "RUNNING":
                if progress is not None and 0.0 <= progress < 1.0:
                    if entry.first_sample is None:
                        entry.first_sample = (sent, progress)
                    changed = entry.last_sample is None or entry.last_sample[1] != progress
                    entry.last_sample = (sent, progress)
                else:
                    changed = False
                if previous != "RUNNING" or changed:
                    self._emit(entry, "running", progress)
                if changed:
                    self._learn_pending(entry)
                    self._plan_handover(entry)
                    if entry.slot is not None and entry.slot.successor is not None:
                        self._anchor_successor(entry, entry.slot.successor)
        entry.look_used()
        self._after_poll(entry)

    def _start_guess(self, entry: WatchedTask, task: Task, sent: float) -> float | None:
        if entry.throttled_at is not None:
            return (entry.throttled_at + sent) / 2.0  # it left the queue between two polls
        if entry.created is not None:
            return None  # ours: its creation plus the model's pending time (_estimate_end)
        # A task created elsewhere: its createdAt, on our clock (skew is clamped away).
        created_at = getattr(task, "created_at", None)
        if not isinstance(created_at, datetime) or created_at.tzinfo is None:
            return None
        age = (datetime.now(timezone.utc) - created_at).total_seconds()
        if age <= 0:
            return None
        return sent - age

    def _on_error(self, entry: WatchedTask, exc: Exception) -> None:
        if not is_retryable(exc):  # a GET: connection errors, 408, 429 and 5xx are not final
            logger.info("Poll of task %s failed, ending its waits: %s", entry.id, exc)
            self._finish(entry, error=exc)
            return
        entry.errors += 1
        entry.retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
        if isinstance(exc, APIStatusError) and exc.status_code == 429 and self._limiter:
            self._limiter.mark_stale()
        logger.info("Poll of task %s failed, will poll again: %s", entry.id, exc)
        self._after_poll(entry)

    def _after_poll(self, entry: WatchedTask) -> None:
        if self._entries.get(entry.id) is not entry:
            return
        if self._interested(entry):
            self._schedule(entry, self._plan(entry, self._clock.now()))
        else:
            self._refresh_interest(entry)

    def _learn(self, entry: WatchedTask, seen: float) -> None:
        """Feed the model's estimate with how long a task took from creation to its end."""
        created, model = entry.created, entry.model
        if created is None or model is None or entry.throttled_seen:
            return  # time spent queued says nothing about how long generation takes
        estimator = self._estimators.get(model)
        if estimator is None:
            estimator = self._estimators[model] = DurationEstimator()
        budget = entry.poll.handover_budget
        warming = estimator.warming_up
        first_handover = not estimator.can_hand_over(budget)
        self._observe(entry, estimator, created, seen)
        first_handover = first_handover and estimator.can_hand_over(budget)
        if warming or first_handover:
            self._replan(model, polls=warming)

    def _replan(self, model: str, *, polls: bool) -> None:
        """Use what was just learned of ``model`` for the tasks already tracked.

        While the estimate warms up (``polls``), first polls not sent yet that were planned
        with no estimate or a lower one are aimed at the new one (the first durations seen
        are the first to end: the shortest). Held slots get their handover times.
        """
        now = self._clock.now()
        aim = self._aim(model)
        for other in list(self._entries.values()):
            if other.model != model:
                continue
            if (
                polls
                and aim is not None
                and other.phase is Phase.SCHEDULED
                and other.last_sent is None
                and (other.aim_used is None or other.aim_used < aim)
                and other.created is not None
            ):
                self._schedule(other, self._plan(other, now))
            if other.slot is not None and other.id not in self._handovers:
                self._plan_handover(other)

    def _observe(
        self, entry: WatchedTask, estimator: DurationEstimator, created: float, seen: float
    ) -> None:
        lo = entry.lo if entry.lo is not None else created
        estimate = self._estimate_end(entry)
        if estimate is not None:
            end = min(max(estimate[0], lo), seen)
            # A task whose first poll was not aimed by the estimate is a fair sample of the
            # model's spread; the rest reach here mostly because the aim missed them.
            # (Created on a lent slot, its start is a guess: not a fair sample either.)
            unbiased = entry.aim_used is None and entry.created == entry.made
            estimator.observe(duration=end - created, unbiased=unbiased)
        elif entry.lo is not None and seen - lo <= 0.1 * (seen - created):
            estimator.observe(duration=(lo + seen) / 2.0 - created)
        else:
            estimator.observe(at_most=seen - created, aim_used=entry.aim_used)
        self.learn_count += 1
        if self._on_learned is not None:
            self._loop.call_soon(self._on_learned)  # after the task's waiters are settled

    def _finish(
        self,
        entry: WatchedTask,
        *,
        task: Task | None = None,
        error: BaseException | None = None,
    ) -> None:
        """End tracking: release the slot, settle waiters and streams, remember the end."""
        self._forget(entry)
        if entry.slot is not None and self._limiter is not None:
            if task is not None and entry.slot.successor is not None:
                self._anchor_successor(entry, entry.slot.successor)
            self._limiter.release(entry.slot)
            entry.slot = None
        outcome: Task | BaseException
        if task is not None:
            outcome = task
            if self._status_of is None:
                # A task never leaves its end, so late waiters need no GET. Other objects
                # can (an avatar given a new image is PROCESSING again): always look again.
                self._ended[entry.id] = task
                if len(self._ended) > _ENDED_CACHE:
                    self._ended.popitem(last=False)
            self._emit(entry, _TERMINAL_KIND.get(self._status(task), "failed"), None)
        else:
            outcome = error if error is not None else RuntimeError("task tracking ended")
        for future in entry.waiters:
            if not future.done():
                future.set_result(outcome)
        for stream in entry.listeners:
            stream.close(error if task is None else None)
        if task is not None and entry.model is not None:
            self._bump_throttled(entry.model)

    def _bump_throttled(self, model: str, *, after: WatchedTask | None = None) -> None:
        """Poll our oldest THROTTLED task of ``model`` soon: a task of it ended, freeing a slot.

        Oldest by creation, as the server promotes THROTTLED tasks roughly in creation order;
        ``after`` skips the tasks created up to that one, which already had their look.
        """
        queue = self._throttled.get(model)
        if not queue:
            return
        ordered = sorted(queue.values(), key=_creation_order)
        if after is not None:
            ordered = ordered[ordered.index(after) + 1 :] if after in ordered else ordered
        for other in ordered:
            if other.owes_look or not self._interested(other):
                continue
            if other.phase is Phase.IN_FLIGHT:
                other.ask_look_after()
            else:
                other.ask_look()
                self._schedule(other, self._earliest(other))
            return

    # -- events -------------------------------------------------------------------------

    def _new_event(
        self, kind: TaskEventKind, entry: WatchedTask | None, progress: float | None
    ) -> TaskEvent:
        task = entry.last if entry is not None else None
        return TaskEvent(
            kind=kind,
            task_id=entry.id if entry is not None else "",
            model=entry.model if entry is not None else None,
            progress=progress,
            task=task,
            at=datetime.now(timezone.utc),
        )

    def _event_for(self, task: Task, entry: WatchedTask | None) -> TaskEvent:
        kind: TaskEventKind
        progress: float | None = None
        status = self._status(task)
        if status in _TERMINAL_KIND:
            kind = _TERMINAL_KIND[status]
            progress = 1.0 if kind == "succeeded" else None
        elif status == "THROTTLED":
            kind = "throttled"
        elif status == "RUNNING":
            kind = "running"
            progress = _progress(task)
        else:
            kind = "submitted"
        return TaskEvent(
            kind=kind,
            task_id=task.id,
            model=entry.model if entry is not None else None,
            progress=progress,
            task=task,
            at=datetime.now(timezone.utc),
        )

    def _emit(self, entry: WatchedTask, kind: TaskEventKind, progress: float | None) -> None:
        if self._on_event is None and not self._global and not entry.listeners:
            return
        if kind == "succeeded":
            progress = 1.0
        event = self._new_event(kind, entry, progress)
        for stream in entry.listeners:
            stream.put(event)
        for stream in self._global:
            stream.put(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # a user's callback must not break polling
                logger.exception("on_event callback failed for %s", event)


def _time_out(
    future: asyncio.Future[Task | BaseException], entry: WatchedTask, timeout: float
) -> None:
    """End one wait at its deadline with ``TaskTimeoutError`` carrying the last task seen."""
    if future.done():
        return
    last = entry.last
    status = last.status if last is not None else "unknown"
    future.set_result(
        TaskTimeoutError(
            f"Task {entry.id} did not end within {timeout} s (last status: {status}).", last
        )
    )


def _progress(task: object) -> float | None:
    """Return the fraction done a fetched object reports (``progress``), if a number."""
    progress = getattr(task, "progress", None)
    if isinstance(progress, (int, float)) and not isinstance(progress, bool):
        return float(progress)
    return None


def _creation_order(entry: WatchedTask) -> float:
    """Sort key: tasks we created by creation time, tasks created elsewhere last."""
    return entry.created if entry.created is not None else float("inf")
