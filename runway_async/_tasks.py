"""Task handles and the client's central task watcher.

One ``TaskWatcher`` per client (shared by its ``with_options`` copies) tracks every task the
client created and every task someone waits for. A single scheduler coroutine keeps a heap
of next-poll times and starts each GET when it falls due, at most ``max_in_flight`` at once
and within a token-bucket budget of ``requests_per_second``; however many coroutines wait
for one task, each poll is one GET.

When a task is polled follows from what is known about it:

* Right after creation, at the model's learned duration: an online estimate of the
  97th percentile of creation-to-end times of this client's earlier tasks of that model
  (before any were seen, at ``min_interval``). A task that was still running then was
  underestimated, and one that had ended was not; each outcome nudges the estimate (a
  stochastic quantile tracker), so about 97 % of tasks need exactly one GET.
* While RUNNING, the ``progress`` trend (two samples, or one and the start time) is
  extrapolated and the next poll aims just after the estimated end.
* While THROTTLED, slowly (``max_interval``), and again at the earliest allowed moment when
  one of the client's tasks of the same model ends (a slot freed up).
* After a retryable error, after a back-off doubling from ``min_interval``.

Never two GETs of one task less than ``min_interval`` apart, never more than
``max_interval`` apart while watched. Random jitter (at most ``jitter`` times the task's
duration) is added only after the estimated end, so a fleet does not synchronise and no
lag is added before the task can have ended.

Tasks nobody waits for, listens to, or needs the slot of are not polled at all; a task
holding a concurrency slot starts being polled as soon as another create of its model
queues for a slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import os
import random
import urllib.parse
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Generator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._config import PollConfig, check_seconds, is_testing
from ._convert import structure_task
from ._download import DEFAULT_DOWNLOAD_TIMEOUT, DownloadedFile, download_outputs
from ._events import DEFAULT_EVENT_BUFFER, EventBuffer, TaskEvent, TaskEventKind
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    ResponseValidationError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    bound_message,
)
from ._limits import Limiter, Slot
from ._models import (
    CancelledTask,
    Cost,
    FailedTask,
    Routing,
    RunningTask,
    SucceededTask,
    Task,
    bind_client,
)

if TYPE_CHECKING:
    from ._client import AsyncRunway
    from ._download import DownloadedFile
    from ._transport import Transport

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "TaskCreation",
    "TaskHandle",
    "TaskWatcher",
    "is_retryable_poll_error",
    "raise_for_outcome",
    "task_from_reply",
    "task_path",
]

logger = logging.getLogger("runway_async")

DEFAULT_WAIT_TIMEOUT = 600.0

_QUANTILE: Final = 0.97  # share of tasks the first poll should find ended
_STEP: Final = 0.05  # tracker step, as a fraction of the estimate
_EXPLORE_STEP: Final = 0.1  # shrink per hit while only upper bounds are known
_WARMUP: Final = 5  # exact durations whose maximum starts the estimate
_MARGIN: Final = 0.005  # aim this fraction of the duration after an extrapolated end
_ONE_SAMPLE_MIN_PROGRESS: Final = 0.25  # below this, take a second sample, do not guess
_ENDED_CACHE: Final = 4096  # ended tasks kept for late waiters (no GET needed)
_DORMANT_CAP: Final = 65536  # registered tasks nobody watches, kept for their creation time

_TERMINAL_KIND: Final[dict[str, TaskEventKind]] = {
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
}


def task_path(task_id: str) -> str:
    """Return the API path of a task, its id escaped."""
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("task id must be a non-empty string")
    return "/v1/tasks/" + urllib.parse.quote(task_id, safe="")


@attrs.frozen(kw_only=True)
class TaskHandle:
    """A task this client created: its id, its estimated cost, and ways to wait for it.

    Attributes:
        id: The task id, for ``client.tasks.retrieve(id)``.
        endpoint: The endpoint that created it (``image_to_video``, ``generate.video``, ...).
        model: The model (or recipe mode) asked for, when the endpoint takes one.
        estimated_cost: The most the task may charge, when the server said.
        routing: For ``generate.*``: which model the router picked and why.

    """

    id: str
    endpoint: str
    model: str | None = None
    estimated_cost: Cost | None = None
    routing: Routing | None = None
    _client: AsyncRunway = attrs.field(repr=False, eq=False, alias="client")

    async def wait_for_task_output(
        self, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededTask:
        """Wait until the task ends and return it when it succeeded.

        The client's watcher polls the task; any number of waiters share each GET.

        Args:
            timeout: Seconds to wait in all (``None``: no deadline). Separate from the
                per-request timeout; retryable poll errors do not end the wait.

        Returns:
            The SUCCEEDED task, with its ``output`` URLs.

        Raises:
            TaskFailedError: The task FAILED (``failure``, ``failure_code``).
            TaskCancelledError: The task was cancelled or deleted.
            TaskTimeoutError: The deadline passed; ``task_details`` is the last task seen.
            NotFoundError: The task does not exist (any more).
            TypeError: ``timeout`` is not a number or ``None``.
            ValueError: ``timeout`` is negative, NaN or infinite.

        """
        # (timeout is checked by the watcher's wait, where every wait ends up)
        return await self._client.tasks.wait(self.id, timeout=timeout)

    async def events(
        self, *, buffer: int = DEFAULT_EVENT_BUFFER
    ) -> AsyncGenerator[TaskEvent, None]:
        """Yield the task's progress events until its terminal one.

        The first event is the task's current state (``submitted`` if it was not polled
        yet). A consumer that falls behind loses old ``running`` events first, never the
        terminal one.

        Args:
            buffer: Events held for a slow consumer before old progress events are dropped.

        Yields:
            ``TaskEvent`` objects; the last is ``succeeded``, ``failed`` or ``cancelled``.

        Raises:
            NotFoundError: The task does not exist (any more).

        """
        async with contextlib.aclosing(self._client.tasks.events(self.id, buffer=buffer)) as stream:
            async for event in stream:
                yield event

    async def retrieve(self) -> Task:
        """Fetch the task's current state."""
        return await self._client.tasks.retrieve(self.id)

    async def cancel(self) -> None:
        """Cancel the task if it is still running (or delete it if it has ended)."""
        await self._client.tasks.delete(self.id)

    async def download(
        self,
        directory: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        wait_timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
        max_retries: int | None = None,
        max_bytes: int | None = None,
    ) -> list[DownloadedFile]:
        """Wait for the task to succeed, then download every output into ``directory``.

        Args:
            directory: Target directory (created if missing); files never land outside it.
            overwrite: Replace existing files instead of numbering the new ones.
            wait_timeout: Deadline of the wait for the task, as in ``wait_for_task_output``.
            timeout: Deadline of each file's download.
            max_retries: Retries per file (default: the client's).
            max_bytes: Refuse files larger than this.

        Returns:
            One ``DownloadedFile`` (path, url, sha256, bytes, content_type) per output.

        Raises:
            TaskFailedError: The task failed (or was cancelled).
            TaskTimeoutError: The wait's deadline passed.

        """
        task = await self.wait_for_task_output(timeout=wait_timeout)
        return await download_outputs(
            self._client,
            task,
            directory,
            overwrite=overwrite,
            timeout=timeout,
            max_retries=max_retries,
            max_bytes=max_bytes,
        )


class TaskCreation(Awaitable[TaskHandle]):
    """What a create call returns: await it for the ``TaskHandle``, or chain a wait.

    ``await client.image_to_video.create(...)`` sends the create and returns the handle;
    ``await client.image_to_video.create(...).wait_for_task_output()`` sends it and waits for
    the output in one expression, as with the official SDK. Nothing is sent until it is
    awaited (like a coroutine), and it can be awaited once.
    """

    __slots__ = ("_factory", "_used")

    def __init__(self, factory: Callable[[], Coroutine[Any, Any, TaskHandle]]) -> None:
        """Wrap the coroutine factory that sends the create (called on first await)."""
        self._factory = factory
        self._used = False

    def __repr__(self) -> str:
        state = "awaited" if self._used else "not sent"
        return f"<TaskCreation {state}>"

    def _start(self) -> Coroutine[Any, Any, TaskHandle]:
        if self._used:
            raise RuntimeError("this create call was already awaited; call create() again")
        self._used = True
        return self._factory()

    def __await__(self) -> Generator[Any, None, TaskHandle]:
        """Send the create and return the task's handle."""
        return self._start().__await__()

    async def wait_for_task_output(
        self, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededTask:
        """Send the create, then wait until the task ends; see ``TaskHandle.wait_for_task_output``.

        Args:
            timeout: Seconds to wait for the task once created (``None``: no deadline). Time
                spent waiting for a concurrency slot is bounded by the client's
                ``slot_timeout``.

        Returns:
            The SUCCEEDED task, with its ``output`` URLs.

        """
        # Checked before the create is sent: a typo must not cost a task nobody waits for.
        timeout = check_seconds("timeout", timeout, allow_none=True)
        handle = await self._start()
        return await handle.wait_for_task_output(timeout=timeout)


def is_retryable_poll_error(exc: BaseException) -> bool:
    """Return whether a failed GET of a task should not end a wait."""
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, APIStatusError):
        return exc.status_code in (408, 429) or exc.status_code >= 500
    return False


_FAILURE_CHARS: Final = 800  # of a failure text quoted in a message, leaving room for the rest


def raise_for_outcome(task: Task) -> SucceededTask:
    """Return ``task`` if it SUCCEEDED; raise the matching error if it FAILED or was CANCELLED."""
    if isinstance(task, SucceededTask):
        return task
    if isinstance(task, FailedTask):
        code = f" [{task.failure_code}]" if task.failure_code else ""
        # A failure text can be any length; the message quotes its start, .failure has it all.
        failure = bound_message(str(task.failure), ".failure", limit=_FAILURE_CHARS)
        raise TaskFailedError(
            f"Task {task.id} failed{code}: {failure}",
            task,
            failure=task.failure,
            failure_code=task.failure_code,
        )
    if isinstance(task, CancelledTask):
        raise TaskCancelledError(f"Task {task.id} was cancelled.", task)
    raise TypeError(f"task {task.id} has not ended (status {task.status})")


def task_from_reply(data: object, task_id: str) -> Task:
    """Return the task of a ``GET /v1/tasks/{task_id}`` reply, checking it is that task.

    Args:
        data: The parsed reply.
        task_id: The id that was asked for.

    Returns:
        The task (not bound to a client).

    Raises:
        ResponseValidationError: The reply is not a task, or is another task than
            ``task_id`` (a confused proxy or cache); ``body`` is the reply.

    """
    task = structure_task(data)
    if task.id != task_id:
        path = task_path(task_id)
        raise ResponseValidationError(
            f"GET {path} answered another task, {task.id[:100]!r}.",
            method="GET",
            url=path,
            body=data,
        )
    return task


class _Prior:
    """What one model's tasks have taken: the time at which a first poll finds most ended.

    ``aim`` estimates the 97th percentile of creation-to-end seconds. It starts from the
    first exact durations seen (the slowest of the first few), or, with only
    upper bounds, from the first bound, shrinking 10 % per first poll that found the task
    ended until an exact duration comes in. From then on a stochastic quantile tracker
    steps it down a little for each task that had ended by then and up more for one that
    had not, so at equilibrium 97 % of tasks are found ended by their first poll.
    """

    __slots__ = ("aim", "exact", "observed")

    def __init__(self) -> None:
        self.aim: float | None = None
        self.exact = 0  # exact durations seen
        self.observed = 0

    def observe(
        self,
        *,
        duration: float | None = None,
        at_most: float | None = None,
        aim_used: float | None = None,
    ) -> None:
        """Learn from one ended task: its ``duration``, or only that it took ``at_most``."""
        self.observed += 1
        aim = self.aim
        if duration is not None:
            duration = max(duration, 0.0)
            self.exact += 1
            if aim is None or self.exact == 1:
                self.aim = duration
                return
            if self.exact <= _WARMUP:
                self.aim = max(aim, duration)
                return
            hit = duration <= aim
        elif aim is None:
            if at_most is not None:
                self.aim = max(at_most, 0.0)
            return
        elif aim_used is not None and aim_used <= aim * (1 + 1e-9):
            hit = True  # ended by a first poll aimed no later than the current estimate
        elif at_most is not None and at_most <= aim:
            hit = True
        else:
            return  # only an upper bound above the estimate: says nothing
        if hit:
            step = _EXPLORE_STEP if self.exact == 0 else _STEP * (1 - _QUANTILE)
            self.aim = aim * (1.0 - step)
        else:
            self.aim = aim * (1.0 + _STEP * _QUANTILE)


class _Entry:
    """One tracked task: its schedule, the little history the estimates need, its waiters."""

    __slots__ = (
        "aim_used",
        "bump_after",
        "bumped",
        "created",
        "errors",
        "first_sample",
        "id",
        "in_flight",
        "last",
        "last_sample",
        "last_sent",
        "listeners",
        "lo",
        "model",
        "poll",
        "retry_after",
        "scheduled",
        "slot",
        "started_guess",
        "status",
        "throttled_at",
        "throttled_seen",
        "version",
        "waiters",
        "wanted",
    )

    def __init__(
        self,
        task_id: str,
        *,
        model: str | None,
        created: float | None,
        poll: PollConfig,
        slot: Slot | None,
    ) -> None:
        self.id = task_id
        self.model = model
        self.created = created  # loop time of creation, for tasks this client created
        self.poll = poll
        self.slot = slot
        self.status: str | None = None
        self.last: Task | None = None
        self.last_sent: float | None = None  # when the last GET was sent
        self.lo: float | None = None  # when the last non-terminal GET was sent
        self.first_sample: tuple[float, float] | None = None  # (time, progress) while RUNNING
        self.last_sample: tuple[float, float] | None = None
        self.started_guess: float | None = None  # when it (probably) left the queue
        self.throttled_seen = False
        self.throttled_at: float | None = None
        self.aim_used: float | None = None
        self.errors = 0
        self.retry_after: float | None = None
        self.version = 0
        self.scheduled = False
        self.in_flight = False
        self.bumped = False
        # A sibling ended while this task's GET was in flight: that GET may predate the freed
        # slot, so the poll after it must come at the earliest allowed moment too.
        self.bump_after = False
        self.wanted = False
        self.waiters: set[asyncio.Future[Task | BaseException]] = set()
        self.listeners: list[EventBuffer] = []


class _TokenBucket:
    """``rate`` tokens per second, holding at most ``burst``."""

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._stamp = now

    def wait_time(self, now: float) -> float:
        """Return seconds until a token is available (0 when one is)."""
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate

    def take(self) -> None:
        """Spend one token (after ``wait_time`` said one is there)."""
        self._tokens -= 1.0


class TaskWatcher:
    """Polls the tasks of one client (and its copies) from one scheduler coroutine.

    Created by the client inside the running event loop; not thread-safe (the loop is its
    lock), and closed by ``client.aclose()``. See the module docstring for the schedule.

    Args:
        client: The client tasks are bound to (so they offer ``wait_for_task_output``).
        transport: Sends the GETs; retries are the watcher's own business, so it should
            not retry (``max_retries=0``).
        poll: The watcher-wide settings (``max_in_flight``, ``requests_per_second``) and the
            default per-task settings.
        limiter: Released slots go back to it; told when tasks are THROTTLED or polls get 429.
        on_event: Called with every event, in the loop; exceptions are logged.

    """

    def __init__(
        self,
        *,
        client: AsyncRunway,
        transport: Transport,
        poll: PollConfig,
        limiter: Limiter | None = None,
        on_event: Callable[[TaskEvent], object] | None = None,
        rand: random.Random | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = client
        self._transport = transport
        self._poll = poll
        self._limiter = limiter
        self._on_event = on_event
        self._rand = rand or random.Random()  # noqa: S311 - jitter, not cryptography
        self._entries: dict[str, _Entry] = {}
        self._dormant: OrderedDict[str, None] = OrderedDict()
        self._ended: OrderedDict[str, Task] = OrderedDict()
        self._throttled: dict[str, dict[str, _Entry]] = {}
        self._priors: dict[str, _Prior] = {}
        self._heap: list[tuple[float, int, int, _Entry]] = []
        self._seq = itertools.count()
        self._bucket = _TokenBucket(
            poll.requests_per_second, max(1.0, poll.requests_per_second), self._loop.time()
        )
        self._in_flight: set[asyncio.Task[None]] = set()
        self._global: set[EventBuffer] = set()
        self._runner: asyncio.Task[None] | None = None
        self._sleeper: asyncio.Future[None] | None = None
        self._sleep_until: float | None = None
        self._closed = False
        self.polls_sent = 0
        """GETs sent so far (for diagnostics and tests)."""

    def __repr__(self) -> str:
        return f"<TaskWatcher tracking={len(self._entries)} in_flight={len(self._in_flight)}>"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the watcher belongs to."""
        return self._loop

    @property
    def tracked(self) -> int:
        """How many tasks are tracked (not yet seen to end)."""
        return len(self._entries)

    def expected_duration(self, model: str | None, poll: PollConfig | None = None) -> float:
        """Return the seconds a task of ``model`` is expected to take, creation to end.

        The learned estimate (a high percentile) once a task of the model was seen, else
        ``poll.assumed_duration``.
        """
        prior = self._priors.get(model) if model is not None else None
        if prior is not None and prior.aim is not None:
            return prior.aim
        return (poll or self._poll).assumed_duration

    # -- registering --------------------------------------------------------------------

    def register_created(
        self,
        task_id: str,
        *,
        model: str | None,
        slot: Slot | None,
        poll: PollConfig | None = None,
    ) -> None:
        """Track a task this client just created (its slot is released when it ends)."""
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
        entry = _Entry(
            task_id, model=model, created=self._loop.time(), poll=poll or self._poll, slot=slot
        )
        self._entries[task_id] = entry
        if slot is not None:
            slot.notify_when_wanted(lambda: self._wanted_threadsafe(task_id))
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
        if entry is not None and not entry.in_flight and self._interested(entry):
            entry.bumped = True
            self._schedule(entry, self._earliest(entry))

    # -- waiting ------------------------------------------------------------------------

    async def wait(self, task_id: str, *, timeout: float | None, poll: PollConfig) -> Task:
        """Wait until the task ends and return it, whatever its outcome.

        Args:
            task_id: The task id (also one created elsewhere).
            timeout: Seconds to wait (``None``: no deadline).
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
        try:
            if timeout is None:
                outcome = await future
            else:
                outcome = await asyncio.wait_for(future, timeout)
        except (TimeoutError, asyncio.TimeoutError):
            last = entry.last
            status = last.status if last is not None else "unknown"
            raise TaskTimeoutError(
                f"Task {task_id} did not end within {timeout} s (last status: {status}).", last
            ) from None
        finally:
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
        now = self._loop.time()
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
        self._entries.clear()
        self._dormant.clear()
        self._throttled.clear()
        self._heap.clear()

    # -- interest -----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("This client is closed; create a new one.")

    def _track_foreign(self, task_id: str, poll: PollConfig) -> _Entry:
        task_path(task_id)  # validates the id before anything is tracked
        entry = _Entry(task_id, model=None, created=None, poll=poll, slot=None)
        self._entries[task_id] = entry
        return entry

    def _interested(self, entry: _Entry) -> bool:
        return bool(
            entry.waiters
            or entry.listeners
            or entry.wanted
            or self._global
            or self._on_event is not None
        )

    def _refresh_interest(self, entry: _Entry) -> None:
        """Schedule a task someone cares about; park (or forget) one nobody does."""
        if self._closed:
            return
        if self._interested(entry):
            self._dormant.pop(entry.id, None)
            if not entry.scheduled and not entry.in_flight:
                self._schedule(entry, self._plan(entry, self._loop.time()))
            return
        if entry.scheduled:
            entry.version += 1
            entry.scheduled = False
        if entry.in_flight:
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
            self._loop.call_soon_threadsafe(self._on_wanted, task_id)

    def _on_wanted(self, task_id: str) -> None:
        entry = self._entries.get(task_id)
        if entry is not None and not entry.wanted:
            entry.wanted = True
            self._refresh_interest(entry)

    def _forget(self, entry: _Entry) -> None:
        if self._entries.get(entry.id) is entry:
            del self._entries[entry.id]
        self._dormant.pop(entry.id, None)
        self._unthrottle(entry)
        entry.version += 1
        entry.scheduled = False

    def _unthrottle(self, entry: _Entry) -> None:
        if entry.model is not None:
            queue = self._throttled.get(entry.model)
            if queue is not None:
                queue.pop(entry.id, None)
                if not queue:
                    del self._throttled[entry.model]

    # -- scheduling ---------------------------------------------------------------------

    def _schedule(self, entry: _Entry, at: float) -> None:
        entry.version += 1
        entry.scheduled = True
        heapq.heappush(self._heap, (at, next(self._seq), entry.version, entry))
        if len(self._heap) > 2 * len(self._entries) + 64:
            self._heap = [item for item in self._heap if item[2] == item[3].version]
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
        loop = self._loop
        max_in_flight = self._poll.max_in_flight
        while not self._closed:
            now = loop.time()
            wake_at: float | None = None
            while self._heap:
                at, _seq, version, entry = self._heap[0]
                if version != entry.version or not entry.scheduled:
                    heapq.heappop(self._heap)
                    continue
                if at > now:
                    wake_at = at
                    break
                if len(self._in_flight) >= max_in_flight:
                    break  # a finishing GET wakes us
                wait = self._bucket.wait_time(now)
                if wait > 0:
                    wake_at = now + wait
                    break
                heapq.heappop(self._heap)
                self._bucket.take()
                entry.scheduled = False
                self._start_poll(entry)
            await self._sleep(wake_at)

    async def _sleep(self, until: float | None) -> None:
        future: asyncio.Future[None] = self._loop.create_future()
        self._sleeper = future
        self._sleep_until = until
        handle = None
        if until is not None:
            handle = self._loop.call_at(until, _resolve, future)
        try:
            await future
        finally:
            if handle is not None:
                handle.cancel()
            self._sleeper = None
            self._sleep_until = None

    def _start_poll(self, entry: _Entry) -> None:
        entry.in_flight = True
        entry.last_sent = self._loop.time()
        self.polls_sent += 1
        task = self._loop.create_task(self._poll_once(entry))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _poll_once(self, entry: _Entry) -> None:
        # The GET goes out now, maybe a little after it was started: the floor counts from
        # here, so two GETs of one task are never closer than min_interval on the wire.
        sent = entry.last_sent = self._loop.time()
        outcome: Task | Exception
        try:
            outcome = await self._fetch(entry.id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure is judged below: retryable or final
            outcome = exc
        finally:
            entry.in_flight = False
            self._wake()
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

    async def _fetch(self, task_id: str) -> Task:
        response = await self._transport.request("GET", task_path(task_id))
        return bind_client(task_from_reply(response.data, task_id), self._client)

    def _earliest(self, entry: _Entry) -> float:
        now = self._loop.time()
        if entry.last_sent is None:
            return now
        return max(now, entry.last_sent + entry.poll.shortest_interval)

    def _jitter(self, poll: PollConfig) -> float:
        return poll.jitter * self._rand.random()

    def _plan(self, entry: _Entry, now: float) -> float:
        """Return when to poll ``entry`` next (see the module docstring)."""
        poll = entry.poll
        shortest = poll.shortest_interval
        longest = poll.slowest_interval
        last = entry.last_sent
        if last is None:
            if entry.created is None:
                return now  # a task created elsewhere: look at it at once
            aim = self._aim(entry.model)
            entry.aim_used = aim
            if aim is None:
                target = entry.created + shortest
            else:
                target = entry.created + min(aim * (1.0 + self._jitter(poll)), longest)
            return max(now, target)
        if entry.errors:
            if is_testing():
                backoff = shortest
            else:
                backoff = min(longest, shortest * 2.0 ** (entry.errors - 1))
                if entry.retry_after is not None:
                    backoff = max(backoff, min(entry.retry_after, longest))
            return max(now, last + backoff)
        status = entry.status
        if status == "THROTTLED":
            target = last if entry.bumped else last + longest
        elif status == "PENDING":
            aim = self._aim(entry.model)
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

    def _aim(self, model: str | None) -> float | None:
        prior = self._priors.get(model) if model is not None else None
        return prior.aim if prior is not None else None

    def _estimate_end(self, entry: _Entry) -> tuple[float, float] | None:
        """Return the extrapolated end (loop time) and running duration, if progress allows."""
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
        # One sample and a guessed start: only far enough in that the guess (the task may
        # have waited PENDING for a while) cannot dominate; earlier, a second sample is cheap.
        if started is not None and p1 >= _ONE_SAMPLE_MIN_PROGRESS and t1 > started:
            duration = (t1 - started) / p1
            return t1 + (1.0 - p1) * duration, duration
        return None

    # -- results ------------------------------------------------------------------------

    def _on_task(self, entry: _Entry, task: Task, sent: float) -> None:
        previous = entry.status
        entry.last = task
        entry.status = task.status
        entry.errors = 0
        entry.retry_after = None
        if task.is_terminal:
            self._learn(entry, sent)
            self._finish(entry, task=task)
            return
        entry.lo = sent
        if task.status == "THROTTLED":
            entry.throttled_seen = True
            entry.throttled_at = sent
            if entry.model is not None:
                self._throttled.setdefault(entry.model, {})[entry.id] = entry
                if entry.bumped:
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
            progress = task.progress if isinstance(task, RunningTask) else None
            if task.status == "PENDING" or (progress is not None and progress <= 0.0):
                entry.started_guess = sent  # not running yet, or only just started
            if isinstance(task, RunningTask):
                if progress is not None and 0.0 <= progress < 1.0:
                    if entry.first_sample is None:
                        entry.first_sample = (sent, progress)
                    changed = entry.last_sample is None or entry.last_sample[1] != progress
                    entry.last_sample = (sent, progress)
                else:
                    changed = False
                if previous != "RUNNING" or changed:
                    self._emit(entry, "running", progress)
        entry.bumped = entry.bump_after
        entry.bump_after = False
        self._after_poll(entry)

    def _start_guess(self, entry: _Entry, task: Task, sent: float) -> float | None:
        if entry.throttled_seen and entry.throttled_at is not None:
            return (entry.throttled_at + sent) / 2.0  # it left the queue between two polls
        if entry.created is not None:
            return entry.created
        # A task created elsewhere: its createdAt, on our clock (skew is clamped away).
        age = (datetime.now(timezone.utc) - task.created_at).total_seconds()
        if age <= 0:
            return None
        return sent - age

    def _on_error(self, entry: _Entry, exc: Exception) -> None:
        if not is_retryable_poll_error(exc):
            logger.info("Poll of task %s failed, ending its waits: %s", entry.id, exc)
            self._finish(entry, error=exc)
            return
        entry.errors += 1
        entry.retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
        if isinstance(exc, APIStatusError) and exc.status_code == 429 and self._limiter:
            self._limiter.mark_stale()
        logger.info("Poll of task %s failed, will poll again: %s", entry.id, exc)
        self._after_poll(entry)

    def _after_poll(self, entry: _Entry) -> None:
        if self._entries.get(entry.id) is not entry:
            return
        if self._interested(entry):
            self._schedule(entry, self._plan(entry, self._loop.time()))
        else:
            self._refresh_interest(entry)

    def _learn(self, entry: _Entry, seen: float) -> None:
        """Feed the model's estimate with how long a task took from creation to its end."""
        created, model = entry.created, entry.model
        if created is None or model is None or entry.throttled_seen:
            return  # time spent queued says nothing about how long generation takes
        prior = self._priors.get(model)
        if prior is None:
            prior = self._priors[model] = _Prior()
        lo = entry.lo if entry.lo is not None else created
        estimate = self._estimate_end(entry)
        if estimate is not None:
            end = min(max(estimate[0], lo), seen)
            prior.observe(duration=end - created)
        elif entry.lo is not None and seen - lo <= 0.1 * (seen - created):
            prior.observe(duration=(lo + seen) / 2.0 - created)
        else:
            prior.observe(at_most=seen - created, aim_used=entry.aim_used)

    def _finish(
        self, entry: _Entry, *, task: Task | None = None, error: BaseException | None = None
    ) -> None:
        """End tracking: release the slot, settle waiters and streams, remember the end."""
        self._forget(entry)
        if entry.slot is not None and self._limiter is not None:
            self._limiter.release(entry.slot)
            entry.slot = None
        outcome: Task | BaseException
        if task is not None:
            outcome = task
            self._ended[entry.id] = task
            if len(self._ended) > _ENDED_CACHE:
                self._ended.popitem(last=False)
            self._emit(entry, _TERMINAL_KIND.get(task.status, "failed"), None)
        else:
            outcome = error if error is not None else RuntimeError("task tracking ended")
        for future in entry.waiters:
            if not future.done():
                future.set_result(outcome)
        for stream in entry.listeners:
            stream.close(error if task is None else None)
        if task is not None and entry.model is not None:
            self._bump_throttled(entry.model)

    def _bump_throttled(self, model: str, *, after: _Entry | None = None) -> None:
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
            if other.bumped or other.bump_after or not self._interested(other):
                continue
            if other.in_flight:
                other.bump_after = True
            else:
                other.bumped = True
                self._schedule(other, self._earliest(other))
            return

    # -- events -------------------------------------------------------------------------

    def _new_event(
        self, kind: TaskEventKind, entry: _Entry | None, progress: float | None
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

    def _event_for(self, task: Task, entry: _Entry | None) -> TaskEvent:
        kind: TaskEventKind
        progress: float | None = None
        if task.status in _TERMINAL_KIND:
            kind = _TERMINAL_KIND[task.status]
            progress = 1.0 if kind == "succeeded" else None
        elif task.status == "THROTTLED":
            kind = "throttled"
        elif isinstance(task, RunningTask):
            kind = "running"
            progress = task.progress
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

    def _emit(self, entry: _Entry, kind: TaskEventKind, progress: float | None) -> None:
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


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _creation_order(entry: _Entry) -> float:
    """Sort key: tasks we created by creation time, tasks created elsewhere last."""
    return entry.created if entry.created is not None else float("inf")
