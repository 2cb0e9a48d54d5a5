"""Batch fan-out: many jobs through a fixed pool of workers, one result per job.

``client.batch(jobs)`` (a ``Batch`` over the client's core) starts at once and returns it:
iterate it for results as jobs finish, or ``await batch.gather()`` for all of them in input
order. A fixed number of workers pull jobs from ``jobs`` (a list, a lazy iterable or an async
iterable), so a million jobs never mean a million coroutines; each worker creates its job's
task, waits for it, downloads its outputs if asked, and reports a ``BatchResult``. Whatever
happens to a job (invalid parameters, a refused create, a FAILED task) ends up in its result,
never in an exception that would lose the others.

Stopping: ``batch.cancel()``, cancelling a coroutine that consumes the batch, leaving its
``async with`` block early, or the batch's ``deadline``. Jobs that sent nothing yet (not
started, or waiting for a concurrency slot) end at once without creating a task. A create
whose request was already sent, and a download under way, get the ``grace_period`` to
finish, so the new task's id is recorded and paid-for files land on disk. Then each
interrupted task is looked at (GET) before anything is decided: one that already ended is
reported as it ended (a success stays ``SUCCEEDED``), and only one still PENDING, THROTTLED
or RUNNING is cancelled (``DELETE``), when ``cancel_server_tasks_on_cancel`` is set. An
ended task is never sent a DELETE, which would delete it and its outputs; a task that ends
between that GET and the DELETE is the one remaining race, narrowed to one round trip.

A ``BatchJournal`` hears of every created task and every result, and tells the batch which
jobs already have a task, so a batch resumed after a crash waits for those tasks instead of
paying for them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
    Sized,
)
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias

import attrs

from ._config import check_seconds
from ._convert import json_type
from ._create_signal import CREATE_SENT
from ._download import DownloadedFile, DownloadHost, download_outputs
from ._exceptions import (
    AmbiguousSubmissionError,
    InvalidRequestError,
    NotFoundError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskTimeoutError,
)
from ._http import HTTPTransport
from ._invocations import (
    INVOCATION_KIND,
    invocation_from_reply,
    raise_for_invocation,
    run_created_from_reply,
)
from ._models import (
    CancelledWorkflowInvocation,
    FailedWorkflowInvocation,
    PendingWorkflowInvocation,
    RunningWorkflowInvocation,
    SucceededTask,
    SucceededWorkflowInvocation,
    ThrottledWorkflowInvocation,
    UnknownWorkflowInvocation,
)
from ._names import NameTemplate, OutputNames
from ._options import OPTION_NAMES, CallOptions, call_options
from ._outcome import raise_for_outcome
from ._spec import get_endpoint
from ._spec._plain import to_request
from ._spend import (
    BatchCredits,
    CreditLimitError,
    Reservation,
    SpendGuard,
    is_retryable_failure,
    spend_key,
)
from ._upload import wire_body

if TYPE_CHECKING:
    from ._clock import Clock
    from ._config import RetryConfig, Timeout
    from ._core import Core
    from ._models import Task, WorkflowInvocation

__all__ = [
    "DEFAULT_GRACE_PERIOD",
    "DEFAULT_MAX_IN_FLIGHT",
    "Batch",
    "BatchJournal",
    "BatchResult",
    "BatchStatus",
    "InMemoryBatchJournal",
    "Job",
    "JournalRecord",
    "validate_job",
]

logger = logging.getLogger("runway_async")

DEFAULT_MAX_IN_FLIGHT: Final = 64
"""Jobs in flight at once when ``max_in_flight`` is not given.

Enough to keep the usual per-model limits of several models busy, so the client's limiter
rather than this pool decides how many tasks run; few enough that any batch costs little
memory.
"""

DEFAULT_GRACE_PERIOD: Final = 10.0
"""Seconds a stopped batch gives creates already sent and downloads under way to finish."""

_STOP_REQUEST_TIMEOUT: Final = 10.0
"""Seconds a stopped batch spends at most looking at (and cancelling) one interrupted task.

The GET and the DELETE of every interrupted task run side by side, after or during the
grace period, so a stop never takes longer than ``grace_period`` plus this.
"""

# The statuses a DELETE cancels. On any other status the API's DELETE deletes the task (an
# ended one) or does who knows what (a status this SDK does not know): never sent then.
_CANCELLABLE: Final = frozenset({"PENDING", "THROTTLED", "RUNNING"})

BatchStatus: TypeAlias = Literal[
    "SUCCEEDED", "FAILED", "CANCELLED", "INVALID", "TIMED_OUT", "ERROR", "UNKNOWN", "SKIPPED"
]
"""How a job ended.

* ``SUCCEEDED``: the task succeeded (and its outputs were downloaded, if asked; when the
  batch stopped first, ``BatchResult.note`` says what was not downloaded).
* ``FAILED``: the task ended FAILED.
* ``CANCELLED``: the batch was cancelled before the job ended, or its task was cancelled.
* ``INVALID``: the parameters failed validation; nothing was sent.
* ``TIMED_OUT``: the batch's deadline passed before the job ended.
* ``ERROR``: anything else: a refused create, a failed download, ...
* ``UNKNOWN``: the create was sent but its outcome is unknown (``AmbiguousSubmissionError``,
  or, in a resumed batch, a run killed between sending the create and its reply): the task
  may exist and cost money. Never created again unless ``resubmit_unknown``.
* ``SKIPPED``: not started because its create could push the batch's credits past
  ``max_credits`` (the reason is in ``error_message``); nothing was sent.
"""

NO_TASK_LIST: Final = (
    "the API offers no way to list recent tasks (only GET /v1/tasks/{id}), so the batch "
    "cannot look for a task this create may have made; the request is kept in the journal"
)
"""Said of every ``UNKNOWN`` job: why the batch cannot find out whether its task exists."""

_JOB_KEYS: Final = frozenset({"endpoint", "params", "id"})

WORKFLOW_RUN: Final = "workflows.run"
"""The job endpoint that runs a published workflow: its "task" is the workflow invocation.

``Job("workflows.run", {"id": workflow_version_id, "node_outputs": {...}})`` starts the
invocation (no per-model concurrency slot: the client cannot know the workflow's models),
waits for it through the client's watcher, and with ``download_to`` downloads the outputs of
every node, named ``<id>_<n>.<ext>`` (``<invocation_id>_<n>.<ext>`` for a job without an
id) in node order. The API cannot cancel an
invocation, so a stopped batch leaves a running one running.
"""
_WORKFLOW_RUN_KEYS: Final = frozenset({"id", "node_outputs"})
_INVOCATION_CLASSES: Final = (
    PendingWorkflowInvocation,
    ThrottledWorkflowInvocation,
    RunningWorkflowInvocation,
    SucceededWorkflowInvocation,
    FailedWorkflowInvocation,
    CancelledWorkflowInvocation,
    UnknownWorkflowInvocation,
)
_Phase: TypeAlias = Literal["creating", "waiting", "downloading"]
_Stop: TypeAlias = Literal["cancel", "deadline"]


def _params_converter(value: Any) -> Any:
    # A None params means "no parameters"; anything else is checked by the validator.
    return {} if value is None else value


def _check_params(_inst: object, _attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"params must be a mapping of keyword names, got {type(value).__name__}")


def _check_key(_inst: object, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"key must be a string or None, got {type(value).__name__}")


@attrs.frozen
class Job:
    """One generation to run in a batch: an endpoint and the keyword arguments of its call.

    ``Job("text_to_image", {"model": "gen4_image", "prompt_text": "a fox", "ratio":
    "1920:1080"}, key="fox")`` runs ``client.text_to_image.create(model=..., ...)``.

    Attributes:
        endpoint: The resource path as on the client: ``image_to_video``,
            ``recipes.product_ad``, ``generate.video`` (see ``runway_async._spec.ENDPOINTS``),
            or ``workflows.run`` (params ``id`` and ``node_outputs``; see ``WORKFLOW_RUN``).
        params: The call's keyword arguments by their Python names; nested objects take
            snake_case keys, as in the Python call. The per-call options are keyword
            arguments here too (``extra_body``: members this SDK does not know yet, by wire
            name; ``extra_headers``, ``extra_query``, ``timeout``). Part of equality, not of
            the hash.
        key: Your own name for the job (a file name, a row id), carried into its result.

    """

    endpoint: str = attrs.field(validator=attrs.validators.instance_of(str))
    params: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_params_converter, validator=_check_params, hash=False
    )
    key: str | None = attrs.field(default=None, validator=_check_key)

    @classmethod
    def from_json(cls, data: object) -> Job:
        """Return the job a parsed JSON object describes (one line of a jobs file).

        The object is ``{"endpoint": "image_to_video", "params": {...}, "id": "key"}``;
        ``params`` and ``id`` may be left out. Only the shape is checked here;
        ``validate_job`` checks the endpoint and parameters.

        Args:
            data: The parsed JSON value.

        Returns:
            The job, with ``id`` as its ``key``.

        Raises:
            InvalidRequestError: ``data`` is not such an object.

        """
        if not isinstance(data, Mapping):
            raise InvalidRequestError(
                "expected a JSON object with endpoint and params, got "
                f"{json_type(data, article=True)}"
            )
        unknown = sorted(str(k) for k in data if k not in _JOB_KEYS)
        if unknown:
            raise InvalidRequestError(
                f"unknown key {', '.join(map(repr, unknown))}; a job has endpoint, params and id",
                field=unknown[0],
            )
        endpoint = data.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise InvalidRequestError(
                "endpoint must be a string such as 'image_to_video', got "
                f"{json_type(endpoint, article=True) if 'endpoint' in data else 'nothing'}",
                field="endpoint",
            )
        params = data.get("params", {})
        if not isinstance(params, Mapping):
            raise InvalidRequestError(
                f"params must be a JSON object, got {json_type(params, article=True)}",
                field="params",
            )
        key = data.get("id")
        if key is not None and not isinstance(key, str):
            raise InvalidRequestError(
                f"id must be a string or null, got {json_type(key, article=True)}", field="id"
            )
        return cls(endpoint, dict(params), key)


@functools.cache
def _keyword_names(endpoint: str) -> frozenset[str]:
    """Return the keyword names the endpoint's Python method takes."""
    spec = get_endpoint(endpoint)
    names = {f.python_name for v in spec.variants for f in v.fields.values()}
    if spec.discriminator is not None:
        names.add(spec.discriminator)
    return frozenset(names)


def split_options(params: Mapping[str, Any]) -> tuple[dict[str, Any], CallOptions | None]:
    """Return a job's keyword arguments without its per-call options, and those options.

    A job's ``params`` may hold ``extra_headers``, ``extra_query``, ``extra_body`` and
    ``timeout`` as its call would take them (``extra_body`` is how a jobs file sends a member
    this SDK does not know yet).

    Raises:
        TypeError: An option has the wrong type.
        ValueError: A ``timeout`` is not positive.

    """
    if not any(name in params for name in OPTION_NAMES):
        return dict(params), None
    own = {k: v for k, v in params.items() if k not in OPTION_NAMES}
    given = {k: params[k] for k in OPTION_NAMES if k in params}
    return own, call_options(**given)


def validate_job(job: Job, *, allow_loopback_http: bool = False, validate: bool = True) -> None:
    """Check a job's endpoint and parameters as its call would, without sending anything.

    Args:
        job: The job.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts (a client
            whose base URL is loopback, such as a local emulator, does).
        validate: Check the parameters against the spec (``False``: as a client made with
            ``validate=False``, only what cannot be sent is refused).

    Raises:
        InvalidRequestError: An unknown endpoint, or parameters the call would refuse
            (with ``field`` and ``allowed`` as the call would raise them).
        TypeError: A per-call option (``extra_body``, ...) has the wrong type.

    """
    params, options = split_options(job.params)
    extra_body = options.extra_body if options is not None else None
    if job.endpoint == WORKFLOW_RUN:
        for name in params:
            if name not in _WORKFLOW_RUN_KEYS:
                hint = "; use 'node_outputs'" if name == "nodeOutputs" else ""
                raise InvalidRequestError(
                    f"{name!r} is not a keyword argument of {WORKFLOW_RUN}{hint} (params take "
                    "id and node_outputs).",
                    field=str(name),
                    endpoint=job.endpoint,
                )
        to_request(WORKFLOW_RUN, params, extra_body=extra_body, validate=validate)
        return
    # Local files (pathlib.Path) in media parameters are checked here, uploaded at the create.
    wire_body(
        job.endpoint,
        params,
        allow_loopback_http=allow_loopback_http,
        extra_body=extra_body,
        validate=validate,
    )
    # The spec also accepts the API's camelCase names; the Python call does not.
    names = _keyword_names(job.endpoint)
    for name in params:
        if name not in names:
            spec = get_endpoint(job.endpoint)
            wire = {f.wire_name: f.python_name for v in spec.variants for f in v.fields.values()}
            hint = f"; use {wire[name]!r}" if name in wire else ""
            raise InvalidRequestError(
                f"{name!r} is not a keyword argument of {job.endpoint}{hint} (params take the "
                "Python keyword names).",
                field=str(name),
                endpoint=job.endpoint,
            )


@attrs.frozen(kw_only=True)
class BatchResult:
    """How one job of a batch ended.

    Attributes:
        index: The job's position in ``jobs``, from 0.
        job: The job.
        status: ``SUCCEEDED``, ``FAILED``, ``CANCELLED``, ``INVALID``, ``TIMED_OUT``,
            ``ERROR``, ``UNKNOWN`` or ``SKIPPED`` (see ``BatchStatus``).
        task_id: The server task's id, once it was created (also when it later failed).
        task: The last state of the task seen: the ``SucceededTask`` with its ``output``
            URLs, the ``FailedTask``, ...; for a ``workflows.run`` job, the workflow
            invocation (``SucceededWorkflowInvocation``, ...); ``None`` when none was seen.
        files: The downloaded outputs when the batch has ``download_to``, in output order.
        error: What went wrong: ``InvalidRequestError``, ``TaskFailedError``,
            ``TaskCancelledError``, ``TaskTimeoutError`` (the deadline), an ``APIError``, an
            ``OSError`` from a download; ``None`` for a success. Not part of equality.
        error_message: A one-line description of ``error`` for logs and reports.
        note: Something to know about a result that is not an error: for a ``SUCCEEDED``
            job whose task had succeeded when the batch stopped, that (and how many of)
            its outputs were not downloaded; their URLs are in ``task.output`` and expire
            in 24-48 h. ``None`` otherwise.
        attempts: The ids of every task this run created (or waited for) for the job, in
            order: more than one when ``retry_failed`` created it again after a retryable
            failure (``task_id`` is the last).

    """

    index: int
    job: Job
    status: BatchStatus
    task_id: str | None = None
    task: Task | WorkflowInvocation | None = None
    files: tuple[DownloadedFile, ...] = ()
    error: BaseException | None = attrs.field(default=None, eq=False)
    error_message: str | None = None
    note: str | None = None
    attempts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the job succeeded."""
        return self.status == "SUCCEEDED"

    @property
    def key(self) -> str | None:
        """The job's own key (``job.key``)."""
        return self.job.key


@attrs.frozen(kw_only=True)
class JournalRecord:
    """What a journal knows of one job from earlier runs (``BatchJournal.job_record``).

    Attributes:
        task_id: The task (or workflow invocation) created for the job, if one is known.
        unknown: Whether a create was sent and its outcome never learned (killed between the
            send and the reply, or ``AmbiguousSubmissionError``): the task may exist.
        status: How the job ended last time, if it ended.
        task: The last state of its task then.
        files: The files downloaded for it, with their SHA-256.
        error_message: The last run's error message, if any.
        note: The last run's note, if any.
        request: The create's request body as last sent (JSON), if one was sent.

    """

    task_id: str | None = None
    unknown: bool = False
    status: BatchStatus | None = None
    task: Task | WorkflowInvocation | None = None
    files: tuple[DownloadedFile, ...] = ()
    error_message: str | None = None
    note: str | None = None
    request: Mapping[str, Any] | None = None


class BatchJournal(Protocol):
    """Where a batch records its progress, so a batch resumed after a crash pays nothing twice.

    The methods are synchronous on purpose: ``job_submitted`` runs right after the create's
    reply, with no await in between, so no cancellation can fall between creating a task and
    recording it. A durable journal should make each call durable before returning.

    Three methods are required. A journal may also have these, found with ``getattr``
    (``InMemoryBatchJournal`` and ``SQLiteBatchJournal`` have all of them):

    * ``job_record(index, job) -> JournalRecord | None``: used instead of ``known_task_id``;
      a finished job is then skipped (its downloads checked by SHA-256), an ``UNKNOWN`` one
      not created again. May raise to refuse a job that differs from the recorded one.
    * ``check_jobs(jobs: Sequence[Job]) -> None``: called once when ``jobs`` is a list or
      tuple, before anything runs; may raise to refuse the whole batch.
    * ``job_sending(index, job, request) -> None``: the create of the job is about to be
      sent (its slot was granted, its files uploaded); ``request`` is the JSON body.
    * ``job_unknown(index, job, reason) -> None``: the create was sent but its outcome is
      unknown; the task may exist.
    * ``file_downloaded(index, job, file) -> None``: one output file is complete on disk.
    * ``earlier_credits() -> float``: the final cost of the jobs finished in earlier runs;
      the spend guard (``max_credits``) counts it as already spent.
    * ``close() -> None``: called by the batch only for a journal it opened from a path.
    """

    def known_task_id(self, index: int, job: Job) -> str | None:
        """Return the task created earlier for this job, if any; the batch then waits for it.

        Args:
            index: The job's position in ``jobs``.
            job: The job; a journal should answer only when it matches the recorded one.

        """
        ...

    def job_submitted(self, index: int, job: Job, task_id: str) -> None:
        """Record that the job's task was created.

        Args:
            index: The job's position in ``jobs``.
            job: The job.
            task_id: The new task's id.

        """
        ...

    def job_finished(self, result: BatchResult) -> None:
        """Record how a job ended (every job ends exactly once per batch run).

        Args:
            result: The job's result.

        """
        ...


class InMemoryBatchJournal:
    """A ``BatchJournal`` kept in memory: lets a batch resume within one process, and tests.

    Attributes:
        submitted: The created tasks: job index -> (job, task id).
        finished: The results: job index -> result (the latest run's).
        sending: The creates sent: job index -> (job, request body), the latest per job.
        unknown: The jobs whose create outcome is unknown: job index -> reason.
        files: The files downloaded: job index -> files, in the order they landed.
        events: The task ids and results in order: ``("submitted", index, task_id)`` or
            ``("finished", index, status)``.

    """

    def __init__(self) -> None:
        self.submitted: dict[int, tuple[Job, str]] = {}
        self.finished: dict[int, BatchResult] = {}
        self.sending: dict[int, tuple[Job, Mapping[str, Any]]] = {}
        self.unknown: dict[int, str] = {}
        self.files: dict[int, list[DownloadedFile]] = {}
        self.events: list[tuple[str, int, str]] = []

    def known_task_id(self, index: int, job: Job) -> str | None:
        """Return the task recorded for this index when it was recorded for this same job."""
        entry = self.submitted.get(index)
        if entry is None or entry[0] != job:
            return None
        return entry[1]

    def job_record(self, index: int, job: Job) -> JournalRecord | None:
        """Return what is known of this index when it was recorded for this same job."""
        sent = self.sending.get(index)
        entry = self.submitted.get(index)
        if (sent is None or sent[0] != job) and (entry is None or entry[0] != job):
            return None
        task_id = entry[1] if entry is not None and entry[0] == job else None
        result = self.finished.get(index)
        if result is not None and result.job != job:
            result = None
        return JournalRecord(
            task_id=task_id,
            unknown=task_id is None and (index in self.unknown or result is None),
            status=result.status if result is not None else None,
            task=result.task if result is not None else None,
            files=tuple(self.files.get(index, ())),
            error_message=result.error_message if result is not None else None,
            note=result.note if result is not None else None,
            request=sent[1] if sent is not None else None,
        )

    def job_sending(self, index: int, job: Job, request: Mapping[str, Any]) -> None:
        """Record that the job's create is about to be sent."""
        self.sending[index] = (job, request)
        self.submitted.pop(index, None)
        self.finished.pop(index, None)
        self.unknown.pop(index, None)
        self.files.pop(index, None)

    def job_submitted(self, index: int, job: Job, task_id: str) -> None:
        """Record the job's new task."""
        self.submitted[index] = (job, task_id)
        self.unknown.pop(index, None)
        self.events.append(("submitted", index, task_id))

    def job_unknown(self, index: int, job: Job, reason: str) -> None:
        """Record that the job's create outcome is unknown."""
        self.unknown[index] = reason

    def file_downloaded(self, index: int, job: Job, file: DownloadedFile) -> None:
        """Record one downloaded output of the job."""
        files = self.files.setdefault(index, [])
        files[:] = [f for f in files if f.path != file.path]
        files.append(file)

    def earlier_credits(self) -> float:
        """Return the final cost of the recorded jobs' tasks (for the spend guard)."""
        return sum(_task_credits(result.task) for result in self.finished.values())

    def job_finished(self, result: BatchResult) -> None:
        """Record the job's result."""
        self.finished[result.index] = result
        if result.index not in self.unknown and result.task_id is None:
            # Finished without a task and not unknown: nothing was created (or nothing sent).
            self.sending.pop(result.index, None)
        self.events.append(("finished", result.index, result.status))


def _task_credits(task: object) -> float:
    """Return the final ``cost`` credits of an ended task or invocation, 0 when not known."""
    cost = getattr(task, "cost", None)
    credits = getattr(cost, "credits", None)
    if isinstance(credits, (int, float)) and not isinstance(credits, bool):
        return float(credits)
    return 0.0


class _JobSource:
    """Numbers the jobs of a sync or async iterable; several workers may pull at once."""

    def __init__(self, jobs: Iterable[Job] | AsyncIterable[Job]) -> None:
        self._sync: Iterator[Job] | None = None
        self._async: AsyncIterator[Job] | None = None
        if isinstance(jobs, (str, bytes, Mapping, Job)):
            raise TypeError(f"jobs must be an iterable of Job, got {type(jobs).__name__}")
        if isinstance(jobs, AsyncIterable):
            self._async = aiter(jobs)
        elif isinstance(jobs, Iterable):
            self._sync = iter(jobs)
        else:
            raise TypeError(f"jobs must be an iterable of Job, got {type(jobs).__name__}")
        # An async generator refuses a second __anext__ while one is running.
        self._lock = asyncio.Lock()
        self._count = 0
        self.exhausted = False

    def _number(self, job: object) -> tuple[int, Job]:
        if not isinstance(job, Job):
            self.exhausted = True
            raise TypeError(
                f"jobs must yield Job objects; item {self._count} is a {type(job).__name__} "
                "(Job.from_json turns a parsed JSON object into one)"
            )
        index = self._count
        self._count += 1
        return index, job

    async def next(self) -> tuple[int, Job] | None:
        """Return the next job and its index, or ``None`` when there are no more."""
        if self._sync is not None:
            if self.exhausted:
                return None
            try:
                job = next(self._sync)
            except StopIteration:
                self.exhausted = True
                return None
            except BaseException:
                self.exhausted = True
                raise
            return self._number(job)
        assert self._async is not None
        async with self._lock:
            if self.exhausted:
                return None
            try:
                ajob = await anext(self._async)
            except StopAsyncIteration:
                self.exhausted = True
                return None
            except BaseException:
                self.exhausted = True
                raise
            return self._number(ajob)


@attrs.define
class _JobState:
    """A job in flight, as far as it got.

    Attributes:
        sent: Whether its create request was sent (set by ``mark_create_sent``).
        task: The last state of its task seen.
        files: The outputs downloaded so far, each added as soon as it is on disk.
        settling: Whether the stop is looking at its task (``Batch._settle``).
        deleting: Whether that look led to a DELETE.
        attempt: 0 for the job's first create, n for its n-th retry (``retry_failed``).

    """

    index: int
    job: Job
    phase: _Phase = "creating"
    sent: bool = False
    task_id: str | None = None
    task: Task | WorkflowInvocation | None = None
    files: list[DownloadedFile] = attrs.Factory(list)
    settling: bool = False
    deleting: bool = False
    attempt: int = 0

    def mark_sent(self) -> None:
        """Record that the create request is going out now."""
        self.sent = True

    @property
    def finishing(self) -> bool:
        """Whether a stop lets the job go on for the grace period.

        A create already sent is awaited so its task id is known (and the task can be
        cancelled); a download under way is finishing what was paid for.
        """
        return (self.phase == "creating" and self.sent) or self.phase == "downloading"


class Batch:
    """A running batch: iterate it for results as jobs finish, or ``await gather()``.

    Made by ``client.batch``, which starts it. ``async for result in batch``
    yields every job's ``BatchResult`` in the order jobs finish (each new iteration starts
    from the first result); ``await batch.gather()`` returns them all in input order.
    ``batch.cancel()`` stops it; so does cancelling a coroutine awaiting ``gather()`` or
    iterating, and leaving ``async with batch:`` before it finished.

    Every result is kept until the batch is dropped (``gather()`` needs them), a few hundred
    bytes a job. Iteration and ``gather()`` raise only what iterating ``jobs`` itself raised
    (after every job taken from it has finished); a job's own failure is in its result.
    """

    def __init__(
        self,
        core: Core,
        jobs: Iterable[Job] | AsyncIterable[Job],
        *,
        max_in_flight: int | None = None,
        deadline: float | None = None,
        download_to: str | os.PathLike[str] | None = None,
        cancel_server_tasks_on_cancel: bool = False,
        on_result: Callable[[BatchResult], object] | None = None,
        journal: BatchJournal | None = None,
        grace_period: float = DEFAULT_GRACE_PERIOD,
        resubmit_unknown: bool = False,
        close_journal: bool = False,
        name: str | NameTemplate | None = None,
        max_credits: float | None = None,
        retry_failed: int = 0,
    ) -> None:
        try:
            self._setup(jobs, journal, max_in_flight, deadline, grace_period)
            _check_spend_options(max_credits, retry_failed)
            # A bad template is refused here, before anything is sent.
            template = NameTemplate(name) if isinstance(name, str) else name
            self._names = OutputNames(template)
        except BaseException:
            if close_journal:
                _close_journal(journal)
            raise
        self._resubmit_unknown = resubmit_unknown
        self._close_journal = close_journal
        loop = asyncio.get_running_loop()
        self._core = core
        self._source = _JobSource(jobs)
        pool = max_in_flight or DEFAULT_MAX_IN_FLIGHT
        if isinstance(jobs, Sized):
            pool = min(pool, len(jobs))
        self._pool_size = pool
        self._deadline = check_seconds("deadline", deadline, allow_none=True, positive=True)
        self._download_to = Path(download_to) if download_to is not None else None
        self._cancel_server_tasks = cancel_server_tasks_on_cancel
        self._on_result = on_result
        self._journal = journal
        self._journal_error: BaseException | None = None
        self._source_error: BaseException | None = None
        self._loopback = core.allow_loopback_http
        self._grace_period = check_seconds("grace_period", grace_period)
        self._spend = SpendGuard(max_credits)
        # What the jobs finished in earlier runs of this journal cost counts against
        # max_credits too: the limit is the batch's, across resumes, not one run's.
        earlier = self._journal_optional("earlier_credits") if journal is not None else None
        if isinstance(earlier, (int, float)) and not isinstance(earlier, bool) and earlier > 0:
            self._spend.count_earlier(float(earlier))
        self._counted_earlier: set[int] = set()
        self._retry_failed = retry_failed
        self._reservations: dict[int, tuple[Reservation, _JobState]] = {}
        self._attempts: dict[int, list[str]] = {}
        self._init_state(loop)

    @staticmethod
    def _setup(
        jobs: Iterable[Job] | AsyncIterable[Job],
        journal: BatchJournal | None,
        max_in_flight: int | None,
        deadline: float | None,
        grace_period: float,
    ) -> None:
        """Check the options, and the jobs against the journal's when they are a sequence."""
        if max_in_flight is not None and (
            isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int)
        ):
            raise TypeError(f"max_in_flight must be an int or None, got {max_in_flight!r}")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight!r}")
        check_seconds("deadline", deadline, allow_none=True, positive=True)
        check_seconds("grace_period", grace_period)
        asyncio.get_running_loop()  # RuntimeError outside a loop, like create_task
        check = getattr(journal, "check_jobs", None)
        if (
            check is not None
            and isinstance(jobs, (list, tuple))
            and all(isinstance(job, Job) for job in jobs)
        ):
            check(jobs)  # refuses jobs that differ from those recorded, before any is sent

    def _init_state(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stopped_by: _Stop | None = None
        self._grace_timer: asyncio.TimerHandle | None = None
        # Set when the stop could not wait (a second cancellation of the runner): nothing
        # more is sent, and what is left is reported as it stands.
        self._hard_stopped = False
        self._active: dict[asyncio.Task[None], _JobState] = {}
        # Interrupted jobs whose tasks _settle is looking at (or, after a hard stop, that
        # wait for the report as they stand).
        self._interrupted: list[_JobState] = []
        self._settling: list[asyncio.Task[None]] = []
        self._grace_ended = False
        self._unstarted: list[tuple[int, Job]] = []
        self._results: list[BatchResult] = []
        self._changed = asyncio.Event()
        self._finished = False
        self._runner = loop.create_task(self._run(), name="runway_async batch")

    # -- public surface -----------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether every job has its result."""
        return self._finished

    @property
    def credits(self) -> BatchCredits:
        """The credits of this run so far: estimated, spent, held, and jobs skipped.

        ``estimated`` sums the estimates the create replies carried, ``spent`` the final
        costs of the tasks seen ending (see ``BatchCredits``); with ``max_credits``,
        ``spent + reserved + unsettled`` never passes it (but see the spend guard's note
        on a model's first create in the README).
        """
        return self._spend.snapshot()

    def cancel(self) -> bool:
        """Stop the batch: no new tasks; jobs in flight and not started end CANCELLED.

        Jobs that sent nothing end at once. Creates already sent and downloads under way
        get the batch's ``grace_period``; then each interrupted task is looked at: one that
        ended is reported as it ended (``SUCCEEDED`` stays ``SUCCEEDED``), and one still
        running is cancelled on the server if ``cancel_server_tasks_on_cancel`` is set.
        Returns at once; iterate or ``gather()`` to see the results.

        Returns:
            ``False`` when the batch had already finished or stopped, else ``True``.

        """
        if self._finished or self._stopped_by is not None:
            return False
        self._stop("cancel")
        return True

    async def gather(self) -> list[BatchResult]:
        """Wait for every job and return the results in input order.

        Returns:
            One result per job, ``results[i].index == i``.

        Raises:
            Exception: Whatever iterating ``jobs`` raised (after the jobs taken finished).

        """
        await self._wait()
        if self._source_error is not None:
            raise self._source_error
        return sorted(self._results, key=lambda r: r.index)

    def __aiter__(self) -> AsyncIterator[BatchResult]:
        return _BatchIterator(self)

    async def __aenter__(self) -> Batch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._finished:
            self.cancel()
            await self._wait()

    def __repr__(self) -> str:
        state = "done" if self._finished else (self._stopped_by or "running")
        return f"<Batch {state}, {len(self._results)} results>"

    # -- waiting ------------------------------------------------------------------------

    async def _wait(self) -> None:
        """Wait for the runner; a consumer cancelled meanwhile cancels the batch first."""
        try:
            await asyncio.shield(self._runner)
        except asyncio.CancelledError:
            await self._abandon()
            raise

    async def _abandon(self) -> None:
        """Cancel the batch for a consumer that was cancelled, and let it wind up."""
        if self._runner.done():
            return
        self.cancel()
        # Server tasks get their DELETE before the consumer's cancellation goes on. A second
        # cancellation of the consumer ends this wait (the runner still winds up).
        await asyncio.shield(self._runner)

    # -- running ------------------------------------------------------------------------

    def _stop(self, reason: _Stop) -> None:
        """Take no more jobs; interrupt the jobs in flight, but let those finishing finish.

        Jobs that sent nothing are cancelled at once (that sends nothing). A create already
        sent and a download under way go on until the grace period ends (``_end_grace``).
        """
        if self._stopped_by is not None or self._finished:
            return
        self._stopped_by = reason
        finishing = False
        for worker, state in self._active.items():
            if state.finishing:
                finishing = True
            else:
                worker.cancel()
        if finishing:
            self._grace_timer = self._runner.get_loop().call_later(
                self._grace_period, self._end_grace
            )

    def _end_grace(self) -> None:
        """Interrupt the creates and downloads still running when the grace period ends."""
        self._grace_timer = None
        self._grace_ended = True
        for worker in self._active:
            worker.cancel()

    def _hard_stop(self) -> None:
        """Interrupt everything at once and send nothing more (the runner was cancelled twice)."""
        self._stop("cancel")
        self._hard_stopped = True
        for worker in self._active:
            worker.cancel()
        for settle in self._settling:
            settle.cancel()

    def _may_start(self) -> bool:
        return (
            self._stopped_by is None and self._journal_error is None and not self._source.exhausted
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        timer = None
        if self._deadline is not None:
            timer = loop.call_later(self._deadline, self._stop, "deadline")
        workers = [
            loop.create_task(self._worker(), name=f"runway_async batch worker {n}")
            for n in range(self._pool_size)
        ]
        try:
            try:
                await self._wind_down(workers)
            except asyncio.CancelledError:
                # The runner itself was cancelled (the loop is shutting down): stop as
                # cancel() does, within the same bounds (the grace period, then one bounded
                # look at each task); a second cancellation stops at once.
                self._stop("cancel")
                self._settle_leftovers()
                try:
                    await self._wind_down(workers)
                except asyncio.CancelledError:
                    self._hard_stop()
                    await self._wind_down(workers)
                self._collect_worker_errors(workers)
                self._report_interrupted()
                raise
            finally:
                if timer is not None:
                    timer.cancel()
                if self._grace_timer is not None:
                    self._grace_timer.cancel()
            self._collect_worker_errors(workers)
            await self._wind_up()
        finally:
            if self._close_journal:
                _close_journal(self._journal)
            self._finished = True
            self._notify()

    async def _wind_down(self, workers: list[asyncio.Task[None]]) -> None:
        """Wait for every worker, then for every interrupted task being looked at."""
        if workers:
            await asyncio.wait(workers)
        while True:
            pending = [settle for settle in self._settling if not settle.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    def _collect_worker_errors(self, workers: list[asyncio.Task[None]]) -> None:
        for task in [*workers, *self._settling]:
            if task.cancelled():
                continue
            error = task.exception()
            if error is not None and self._source_error is None:
                self._source_error = error

    async def _wind_up(self) -> None:
        """Report every job left: interrupted ones not reported yet, and those not started."""
        self._report_interrupted()
        for index, job in self._unstarted:
            self._finish(self._not_started(index, job))
        if self._stopped_by is None and self._journal_error is None:
            return  # the source ran dry or failed: nothing left that could be reported
        while True:
            try:
                item = await self._source.next()
            except Exception as exc:
                self._source_error = exc
                return
            if item is None:
                return
            self._finish(self._not_started(*item))

    # -- stopping: what became of an interrupted job's task ------------------------------

    def _interrupt(self, state: _JobState) -> None:
        """Take an interrupted job: look at its task first if it has one, else report it."""
        self._interrupted.append(state)
        if self._stopped_by is None or self._hard_stopped:
            return  # cancelled from outside: the runner decides (see _run)
        if state.phase == "waiting" and state.task_id is not None:
            self._start_settling(state)
        else:
            self._interrupted.remove(state)
            self._finish(self._interrupted_result(state))

    def _settle_leftovers(self) -> None:
        """Look at the tasks of jobs interrupted from outside before the batch stopped."""
        for state in self._interrupted:
            if state.phase == "waiting" and state.task_id is not None and not state.settling:
                self._start_settling(state)

    def _start_settling(self, state: _JobState) -> None:
        state.settling = True
        self._settling.append(
            self._runner.get_loop().create_task(
                self._settle(state), name=f"runway_async batch stop of job {state.index}"
            )
        )

    async def _settle(self, state: _JobState) -> None:
        """Look at an interrupted job's task, cancel it if it is unfinished and asked; report.

        Bounded by ``_STOP_REQUEST_TIMEOUT``; if cancelled (a hard stop), the job stays in
        ``_interrupted`` and is reported as it stands.
        """
        try:
            result = await asyncio.wait_for(self._look_and_cancel(state), _STOP_REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            doing = "cancelling" if state.deleting else "looking up"
            result = self._stopped_result(
                state,
                f"; {doing} its task {state.task_id} took longer than "
                f"{_STOP_REQUEST_TIMEOUT:g} s, so it may still be running",
            )
        self._interrupted.remove(state)
        self._finish(result)

    async def _look_and_cancel(self, state: _JobState) -> BatchResult:
        """GET the task, then DELETE it only if it is still PENDING, THROTTLED or RUNNING.

        The GET comes right before the decision, so a task that ended before the stop (even
        one the wait had already seen end) is reported as it ended and never deleted: on an
        ended task the API's DELETE deletes it with its outputs. A task ending between the
        GET and the DELETE is the one race left, narrowed to that round trip.
        """
        task_id = state.task_id
        assert task_id is not None
        if state.job.endpoint == WORKFLOW_RUN:
            return await self._look_at_invocation(state, task_id)
        try:
            task = await self._core.retrieve_task(task_id)
        except NotFoundError:
            return self._stopped_result(state, f"; its task {task_id} no longer exists")
        except Exception as exc:
            logger.warning("Could not look up task %s of a stopped batch: %s", task_id, exc)
            return self._stopped_result(
                state, f"; its task {task_id} was left running: looking it up failed ({exc})"
            )
        state.task = task
        if isinstance(task, SucceededTask):
            return self._stopped_success(state, task)
        if task.is_terminal:
            return self._ended(state, task)
        if task.status not in _CANCELLABLE:
            return self._stopped_result(
                state,
                f"; its task {task_id} was left running: its status {task.status!r} is not "
                "one a DELETE is known to cancel",
            )
        if not self._cancel_server_tasks:
            return self._stopped_result(state, f"; its task {task_id} was left running")
        state.deleting = True
        try:
            await self._core.cancel_task(task_id)
        except NotFoundError:
            return self._stopped_result(state, f"; its task {task_id} no longer exists")
        except Exception as exc:
            logger.warning("Could not cancel task %s of a stopped batch: %s", task_id, exc)
            return self._stopped_result(
                state, f"; cancelling its task {task_id} failed, so it may still be running: {exc}"
            )
        return self._stopped_result(state, f"; its task {task_id} was cancelled")

    async def _look_at_invocation(self, state: _JobState, invocation_id: str) -> BatchResult:
        """GET an interrupted job's workflow invocation and report it as it stands.

        The API has no way to cancel an invocation: one still running is left running.
        """
        try:
            response = await self._core.call("workflow_invocations.retrieve", {"id": invocation_id})
            invocation = invocation_from_reply(response.data, invocation_id)
        except NotFoundError:
            return self._stopped_result(
                state, f"; its workflow invocation {invocation_id} no longer exists"
            )
        except Exception as exc:
            logger.warning(
                "Could not look up workflow invocation %s of a stopped batch: %s",
                invocation_id,
                exc,
            )
            return self._stopped_result(
                state,
                f"; its workflow invocation {invocation_id} was left running: looking it up "
                f"failed ({exc})",
            )
        state.task = invocation
        if isinstance(invocation, SucceededWorkflowInvocation):
            return self._stopped_success(state, invocation)
        if invocation.is_terminal:
            return self._ended(state, invocation)
        return self._stopped_result(
            state,
            f"; its workflow invocation {invocation_id} was left running (the API cannot "
            "cancel workflow invocations)",
        )

    async def _worker(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        while self._may_start():
            item = await self._source.next()
            if item is None:
                return
            if not self._may_start():
                self._unstarted.append(item)
                return
            state = _JobState(*item)
            self._active[me] = state
            try:
                result = await self._run_job(state)
                while result is not None and self._retrying(state, result):
                    failed = result
                    state = _JobState(state.index, state.job, attempt=state.attempt + 1)
                    self._active[me] = state
                    result = await self._run_job(state)
                    if result is not None and result.status == "SKIPPED":
                        note = f"not created again: {result.error_message}"
                        result = attrs.evolve(failed, note=note)
            except asyncio.CancelledError:
                self._interrupt(state)
                if self._stopped_by is None:
                    raise
                return
            finally:
                del self._active[me]
            if result is None:
                self._interrupt(state)
                return
            self._finish(result)

    async def _run_job(self, state: _JobState) -> BatchResult | None:
        """Create (or re-attach to) the job's task, wait for it, download; report the end.

        Returns ``None`` for a job whose create was answered after the batch stopped: its
        task is not waited for, but looked at by the stop (``_interrupt``).
        """
        index, job = state.index, state.job
        try:
            validate_job(job, allow_loopback_http=self._loopback, validate=self._core.validate)
            params, options = split_options(job.params)
            # A retry (retry_failed) creates again whatever the journal says of the job.
            record = self._journal_record(index, job) if state.attempt == 0 else None
            if record is not None:
                done = await self._resumed_result(state, record)
                if done is not None:
                    return done
                if record.status is not None and record.task is not None:
                    # Ended in an earlier run (its cost is in earlier_credits); only its
                    # downloads are fetched again: its cost must not be counted twice.
                    self._counted_earlier.add(index)
            known = record.task_id if record is not None else None
            succeeded: SucceededTask | SucceededWorkflowInvocation
            if known is None:
                await self._reserve(state)  # raises CreditLimitError: SKIPPED
            else:
                self._spend_attach(state)
            if known is not None:
                state.task_id = known
                state.phase = "waiting"
                if job.endpoint == WORKFLOW_RUN:
                    succeeded = await self._wait_for_invocation(known)
                else:
                    succeeded = await self._core.wait(known, timeout=None)
            elif job.endpoint == WORKFLOW_RUN:
                response = await self._core.call(
                    WORKFLOW_RUN,
                    params,
                    before_send=functools.partial(self._sending, state),
                    options=options,
                )
                created = run_created_from_reply(response.data).id
                state.task_id = created
                self._spend_replied(state, None)  # a workflow run's reply has no estimate
                state.phase = "waiting"
                self._journal_call(lambda j: j.job_submitted(index, job, created))
                if self._stopped_by is not None:
                    return None  # answered within the grace period
                succeeded = await self._wait_for_invocation(created)
            else:
                token = CREATE_SENT.set(state.mark_sent)
                try:
                    handle = await self._core.create_task(
                        job.endpoint,
                        params,
                        before_send=functools.partial(self._sending, state),
                        options=options,
                    )
                finally:
                    CREATE_SENT.reset(token)
                state.task_id = handle.id
                estimate = handle.estimated_cost
                self._spend_replied(state, estimate.credits if estimate is not None else None)
                state.phase = "waiting"
                self._journal_call(lambda j: j.job_submitted(index, job, handle.id))
                if self._stopped_by is not None:
                    return None  # answered within the grace period
                succeeded = await handle.wait_for_task_output(timeout=None)
            state.task = succeeded
            if self._download_to is not None:
                if self._stopped_by is not None:
                    return self._stopped_success(state, succeeded)  # no new download
                state.phase = "downloading"
                await self._download(state, succeeded)
        except InvalidRequestError as exc:
            return self._failed(state, "INVALID", exc)
        except CreditLimitError as exc:
            return self._failed(state, "SKIPPED", exc)
        except TaskCancelledError as exc:
            return self._failed(state, "CANCELLED", exc, exc.task_details)
        except TaskFailedError as exc:
            return self._failed(state, "FAILED", exc, exc.task_details)
        except TaskTimeoutError as exc:
            return self._failed(state, "TIMED_OUT", exc, exc.task_details)
        except AmbiguousSubmissionError as exc:
            self._journal_optional("job_unknown", index, job, str(exc))
            return attrs.evolve(self._failed(state, "UNKNOWN", exc), note=NO_TASK_LIST)
        except Exception as exc:
            return self._failed(state, "ERROR", exc)
        return BatchResult(
            index=index,
            job=job,
            status="SUCCEEDED",
            task_id=state.task_id,
            task=succeeded,
            files=tuple(state.files),
        )

    async def _wait_for_invocation(self, invocation_id: str) -> SucceededWorkflowInvocation:
        """Wait for a workflow invocation through the watcher; raise for any other end."""
        ended = await self._core.wait_resource(INVOCATION_KIND, invocation_id, timeout=None)
        return raise_for_invocation(ended)

    async def _download(
        self, state: _JobState, task: SucceededTask | SucceededWorkflowInvocation
    ) -> None:
        """Download the task's outputs into ``download_to``, recording each file as it lands.

        One file at a time rather than ``download_outputs``' list at the end, so a download
        cut short by a stop still reports every file that is complete on disk. A workflow
        invocation's outputs are those of all its nodes, in node order.
        """
        assert self._download_to is not None
        host: DownloadHost = self._core
        if isinstance(task, SucceededWorkflowInvocation):
            host = _InvocationDownloads(self._core)
            task = _as_task(task)
        job_id = state.job.key
        await download_outputs(
            host,
            task,
            self._download_to,
            # Names from the task id: the only file replaced is an earlier download of this
            # same output (a resumed batch). Names from a job id or template may be another
            # batch's: such a file is kept (unless it holds the same bytes, as when a resumed
            # batch downloads again) and the new one numbered.
            overwrite=self._names.owns_names(job_id),
            reuse_identical=True,
            name_output=self._names.namer(index=state.index, job_id=job_id, task_id=task.id),
            on_file=functools.partial(self._file_landed, state),
        )

    def _journal_call(self, call: Callable[[BatchJournal], str | None]) -> str | None:
        """Call the journal; if it fails, start no more jobs (it can no longer keep track).

        The failing call raises (failing its job); after that the journal is left alone and
        the jobs already in flight finish without it.
        """
        if self._journal is None or self._journal_error is not None:
            return None
        try:
            return call(self._journal)
        except Exception as exc:
            self._journal_failed(exc)
            raise

    def _journal_optional(self, name: str, *args: Any) -> Any:
        """Call the journal's optional method ``name``, if it has one (see ``BatchJournal``)."""
        if self._journal is None or self._journal_error is not None:
            return None
        method = getattr(self._journal, name, None)
        if method is None:
            return None
        try:
            return method(*args)
        except Exception as exc:
            self._journal_failed(exc)
            raise

    def _journal_record(self, index: int, job: Job) -> JournalRecord | None:
        """Return what the journal knows of the job from earlier runs."""
        if self._journal is not None and hasattr(self._journal, "job_record"):
            record = self._journal_optional("job_record", index, job)
            if isinstance(record, JournalRecord):
                return record
        # Also for a journal whose job_record knows nothing: a subclass may answer here.
        known = self._journal_call(lambda j: j.known_task_id(index, job))
        return JournalRecord(task_id=known) if known is not None else None

    def _sending(self, state: _JobState, request: Mapping[str, Any]) -> None:
        """Before the create's POST (slot granted, files uploaded): mark it sent, journal it."""
        state.mark_sent()
        self._journal_optional("job_sending", state.index, state.job, request)

    def _file_landed(self, state: _JobState, file: DownloadedFile) -> None:
        """One output is complete on disk: add it to the job's files and to the journal."""
        state.files.append(file)
        self._journal_optional("file_downloaded", state.index, state.job, file)

    async def _resumed_result(self, state: _JobState, record: JournalRecord) -> BatchResult | None:
        """Return the result of a job that needs nothing more, from its journal record.

        ``None`` when the job still needs work: a task to wait for (or whose downloads are
        missing), or a create to send (never sent, certainly refused, or ``UNKNOWN`` with
        ``resubmit_unknown``).
        """
        if record.task_id is None:
            if not record.unknown or self._resubmit_unknown:
                return None
            message = (
                f"Job {state.index}'s create was sent in an earlier run and its outcome is "
                "unknown (the run was stopped between sending it and its reply, or the reply "
                "was ambiguous): the server may have created a task. It is not sent again "
                "unless resubmit_unknown (runway-async batch --resubmit-unknown)."
            )
            if record.error_message and record.status == "UNKNOWN":
                message = record.error_message
            error = AmbiguousSubmissionError(message, request_body=record.request)
            return BatchResult(
                index=state.index,
                job=state.job,
                status="UNKNOWN",
                error=error,
                error_message=message,
                note=NO_TASK_LIST,
            )
        task = record.task
        if (
            record.status not in ("SUCCEEDED", "FAILED", "CANCELLED")
            or task is None
            or not task.is_terminal
        ):
            return None  # the task may still be running, or its outputs were not all kept
        if record.status == "SUCCEEDED":
            if not isinstance(task, (SucceededTask, SucceededWorkflowInvocation)):
                return None
            if self._download_to is not None and not await _files_intact(task, record.files):
                return None  # downloaded again after a GET of the task
        failure: TaskError | None = None
        if record.status == "FAILED":
            failure = TaskFailedError(record.error_message or "the task failed", task)
        elif record.status == "CANCELLED":
            failure = TaskCancelledError(record.error_message or "the task was cancelled", task)
        return BatchResult(
            index=state.index,
            job=state.job,
            status=record.status,
            task_id=record.task_id,
            task=task,
            files=record.files,
            error=failure,
            error_message=record.error_message,
            note=record.note,
        )

    def _journal_failed(self, exc: Exception) -> None:
        """Note that the journal failed: no more jobs start, and it is not called again."""
        self._journal_error = exc
        logger.error("The batch journal failed; starting no more jobs: %r", exc)

    # -- results ------------------------------------------------------------------------

    def _failed(
        self,
        state: _JobState,
        status: BatchStatus,
        error: BaseException,
        task: Task | WorkflowInvocation | None = None,
    ) -> BatchResult:
        message = str(error) or type(error).__name__
        if error is self._journal_error:
            message = f"the batch journal failed: {message}"
        elif state.phase == "downloading":
            message = f"the task succeeded but downloading its outputs failed: {message}"
        return BatchResult(
            index=state.index,
            job=state.job,
            status=status,
            task_id=state.task_id,
            task=task if task is not None else state.task,
            files=tuple(state.files),
            error=error,
            error_message=message,
        )

    def _not_started(self, index: int, job: Job) -> BatchResult:
        error: TaskError
        if self._stopped_by == "deadline":
            error = TaskTimeoutError(
                f"Job {index} did not start before the batch's deadline; no task was created.",
                None,
            )
            status: BatchStatus = "TIMED_OUT"
        elif self._stopped_by == "cancel":
            error = TaskCancelledError(
                f"Job {index} was cancelled with its batch before it started; no task was created.",
                None,
            )
            status = "CANCELLED"
        else:
            error = TaskCancelledError(
                f"Job {index} was not started: the batch journal failed ({self._journal_error!r}).",
                None,
            )
            status = "CANCELLED"
        return BatchResult(
            index=index, job=job, status=status, error=error, error_message=error.message
        )

    def _stopped_result(self, state: _JobState, detail: str) -> BatchResult:
        """Return the result of a job the stop interrupted; ``detail`` says what became of it."""
        timed_out = self._stopped_by == "deadline"
        what = (
            "did not finish before the batch's deadline"
            if timed_out
            else "was cancelled with its batch"
        )
        message = f"Job {state.index} {what}{detail}."
        error: TaskError = (
            TaskTimeoutError(message, state.task)
            if timed_out
            else TaskCancelledError(message, state.task)
        )
        return BatchResult(
            index=state.index,
            job=state.job,
            status="TIMED_OUT" if timed_out else "CANCELLED",
            task_id=state.task_id,
            task=state.task,
            files=tuple(state.files),
            error=error,
            error_message=error.message,
        )

    def _stopped_success(
        self, state: _JobState, task: SucceededTask | SucceededWorkflowInvocation
    ) -> BatchResult:
        """Return the result of a job whose task had succeeded when the batch stopped."""
        note = f"its task {task.id} had already succeeded when the batch stopped"
        if self._download_to is not None:
            count = (
                len(task.outputs)
                if isinstance(task, SucceededWorkflowInvocation)
                else len(task.output)
            )
            note += (
                f", but only {len(state.files)} of its {count} outputs were "
                "downloaded; the output URLs are in task.output and expire in 24-48 h"
            )
        return BatchResult(
            index=state.index,
            job=state.job,
            status="SUCCEEDED",
            task_id=task.id,
            task=task,
            files=tuple(state.files),
            note=note,
        )

    def _ended(self, state: _JobState, task: Task | WorkflowInvocation) -> BatchResult:
        """Return the result of a job whose task had FAILED or was CANCELLED at the stop."""
        try:
            if isinstance(task, _INVOCATION_CLASSES):
                raise_for_invocation(task)
            else:
                raise_for_outcome(task)
        except TaskCancelledError as exc:
            return self._failed(state, "CANCELLED", exc, task)
        except TaskFailedError as exc:
            return self._failed(state, "FAILED", exc, task)
        raise AssertionError(f"task {task.id} has not failed (status {task.status})")

    def _interrupted_result(self, state: _JobState) -> BatchResult:
        """Return the result of an interrupted job from what the batch itself knows."""
        if state.phase == "downloading" and isinstance(
            state.task, (SucceededTask, SucceededWorkflowInvocation)
        ):
            return self._stopped_success(state, state.task)
        if state.phase == "creating" and not state.sent:
            detail = "; its create request had not been sent, so no task was created"
        elif state.phase == "creating":
            when = (
                f"within the grace period ({self._grace_period:g} s)"
                if self._grace_ended
                else "before the batch stopped"
            )
            detail = (
                f"; its create request was sent but not answered {when}; the server may have "
                "created a task"
            )
            with contextlib.suppress(Exception):  # a failing journal was noted already
                self._journal_optional("job_unknown", state.index, state.job, detail[2:])
        else:
            detail = f"; its task {state.task_id} was left running"
        return self._stopped_result(state, detail)

    def _report_interrupted(self) -> None:
        """Report the interrupted jobs nobody reported yet, as far as the batch knows."""
        for state in self._interrupted:
            self._finish(self._interrupted_result(state))
        self._interrupted.clear()

    # -- the spend guard and retries ----------------------------------------------------

    async def _reserve(self, state: _JobState) -> None:
        """Hold the credits of the job's create (waiting for room); raise if it cannot fit."""
        key = spend_key(state.job.endpoint, state.job.params)
        self._reservations[state.index] = (await self._spend.reserve(key), state)

    def _spend_attach(self, state: _JobState) -> None:
        """Count the cost of a task created in an earlier run when it ends (nothing held)."""
        key = spend_key(state.job.endpoint, state.job.params)
        self._reservations[state.index] = (self._spend.attach(key), state)

    def _spend_replied(self, state: _JobState, estimate: float | None) -> None:
        """Hold the answered create's own estimate; list its task as an attempt."""
        assert state.task_id is not None
        self._attempts.setdefault(state.index, []).append(state.task_id)
        entry = self._reservations.get(state.index)
        if entry is not None:
            self._spend.replied(entry[0], estimate)

    def _spend_settle(self, result: BatchResult) -> None:
        """Release the job's reservation, counting its task's final cost when known."""
        entry = self._reservations.pop(result.index, None)
        if entry is None:
            return
        reservation, state = entry
        task = result.task
        if result.index in self._counted_earlier:
            self._spend.settle(reservation, None, created=False)  # counted at the start
            return
        if result.task_id is not None and task is not None and task.is_terminal:
            cost = getattr(task, "cost", None)
            credits = cost.credits if cost is not None else None
            self._spend.settle(reservation, credits, created=True)
            return
        created = result.task_id is not None or result.status == "UNKNOWN"
        if result.status in ("CANCELLED", "TIMED_OUT") and state.sent:
            created = True  # sent, never answered: the task may exist
        self._spend.settle(reservation, None, created=created)

    def _retrying(self, state: _JobState, result: BatchResult) -> bool:
        """Whether to create the job again: its task FAILED with a retryable code.

        Only with ``retry_failed`` attempts left, while the batch runs; the failed attempt's
        credits are settled first, and the new create goes through the spend guard.
        """
        if (
            result.status != "FAILED"
            or state.attempt >= self._retry_failed
            or not self._may_retry()
            or not is_retryable_failure(getattr(result.task, "failure_code", None))
        ):
            return False
        self._spend_settle(result)
        logger.info(
            "Job %d: task %s failed with %s; creating it again (retry %d of %d)",
            state.index,
            result.task_id,
            getattr(result.task, "failure_code", None),
            state.attempt + 1,
            self._retry_failed,
        )
        return True

    def _may_retry(self) -> bool:
        return self._stopped_by is None and self._journal_error is None

    def _finish(self, result: BatchResult) -> None:
        self._spend_settle(result)
        attempts = self._attempts.pop(result.index, [])
        if result.task_id is not None and result.task_id not in attempts:
            attempts.append(result.task_id)
        if attempts:
            result = attrs.evolve(result, attempts=tuple(attempts))
        self._results.append(result)
        if self._journal is not None and self._journal_error is None:
            try:
                self._journal.job_finished(result)
            except Exception as exc:
                self._journal_failed(exc)
        if self._on_result is not None:
            try:
                self._on_result(result)
            except Exception:
                # A reporting callback must not take the batch down with it.
                logger.exception("on_result raised for job %d; the batch goes on", result.index)
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


def _check_spend_options(max_credits: float | None, retry_failed: int) -> None:
    """Check ``max_credits`` and ``retry_failed`` before anything is sent."""
    if max_credits is not None and (
        isinstance(max_credits, bool) or not isinstance(max_credits, (int, float))
    ):
        raise TypeError(f"max_credits must be a number or None, got {max_credits!r}")
    SpendGuard(max_credits)  # ValueError for NaN, infinite or negative
    if isinstance(retry_failed, bool) or not isinstance(retry_failed, int):
        raise TypeError(f"retry_failed must be an int, got {retry_failed!r}")
    if retry_failed < 0:
        raise ValueError(f"retry_failed must be >= 0, got {retry_failed!r}")


def _close_journal(journal: object) -> None:
    """Close a journal the batch opened (from a path); a failure to close is only logged."""
    close = getattr(journal, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:
        logger.exception("Closing the batch journal failed")


async def _files_intact(
    task: SucceededTask | SucceededWorkflowInvocation, files: Sequence[DownloadedFile]
) -> bool:
    """Return whether every output of ``task`` is on disk with its recorded SHA-256."""
    count = len(task.outputs) if isinstance(task, SucceededWorkflowInvocation) else len(task.output)
    if len(files) < count:
        return False
    return await asyncio.to_thread(_hashes_match, list(files))


def _hashes_match(files: list[DownloadedFile]) -> bool:
    for file in files:
        digest = hashlib.sha256()
        try:
            with file.path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            return False
        if digest.hexdigest() != file.sha256:
            return False
    return True


def _as_task(invocation: SucceededWorkflowInvocation) -> SucceededTask:
    """Return the outputs of every node of ``invocation`` as one task's, for the downloader."""
    return SucceededTask(
        id=invocation.id,
        created_at=invocation.created_at,
        cost=invocation.cost,
        output=invocation.outputs,
    )


class _InvocationDownloads:
    """The core as a ``DownloadHost`` whose "task" is a workflow invocation.

    An expired output URL makes the downloader fetch its task again: here that is the
    invocation (``GET /v1/workflow_invocations/{id}``), its node outputs as one task's.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    @property
    def http(self) -> HTTPTransport:
        return self._core.http

    @property
    def retry(self) -> RetryConfig:
        return self._core.retry

    @property
    def timeout(self) -> Timeout:
        return self._core.timeout

    @property
    def clock(self) -> Clock:
        return self._core.clock

    async def retrieve_task(self, task_id: str, /) -> Task:
        response = await self._core.call("workflow_invocations.retrieve", {"id": task_id})
        invocation = raise_for_invocation(invocation_from_reply(response.data, task_id))
        return _as_task(invocation)


class _BatchIterator:
    """Yields a batch's results in the order they came, waiting for more until it is done."""

    def __init__(self, batch: Batch) -> None:
        self._batch = batch
        self._next = 0

    def __aiter__(self) -> _BatchIterator:
        return self

    async def __anext__(self) -> BatchResult:
        batch = self._batch
        while self._next >= len(batch._results):
            if batch._finished:
                if batch._runner.done() and not batch._runner.cancelled():
                    batch._runner.result()  # a bug in the runner surfaces here
                if batch._source_error is not None:
                    raise batch._source_error
                raise StopAsyncIteration
            changed = batch._changed
            try:
                await changed.wait()
            except asyncio.CancelledError:
                await batch._abandon()
                raise
        result = batch._results[self._next]
        self._next += 1
        return result
