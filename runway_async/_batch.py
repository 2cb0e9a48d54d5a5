"""Batch fan-out: many jobs through a fixed pool of workers, one result per job.

``run_batch(client, jobs)`` (``client.batch(jobs)``) starts at once and returns a ``Batch``:
iterate it for results as jobs finish, or ``await batch.gather()`` for all of them in input
order. A fixed number of workers pull jobs from ``jobs`` (a list, a lazy iterable or an async
iterable), so a million jobs never mean a million coroutines; each worker creates its job's
task, waits for it, downloads its outputs if asked, and reports a ``BatchResult``. Whatever
happens to a job (invalid parameters, a refused create, a FAILED task) ends up in its result,
never in an exception that would lose the others.

Stopping: ``batch.cancel()``, cancelling a coroutine that consumes the batch, leaving its
``async with`` block early, or the batch's ``deadline``. Jobs not started yet are reported
without creating their tasks; jobs in flight are interrupted, and their server tasks are
cancelled too when ``cancel_server_tasks_on_cancel`` is set.

A ``BatchJournal`` hears of every created task and every result, and tells the batch which
jobs already have a task, so a batch resumed after a crash waits for those tasks instead of
paying for them again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import urllib.parse
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sized,
)
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias

import attrs

from ._config import is_loopback_host
from ._download import DownloadedFile, download_outputs
from ._exceptions import (
    InvalidRequestError,
    NotFoundError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskTimeoutError,
)
from ._spec import get_endpoint, to_wire

if TYPE_CHECKING:
    from ._client import AsyncRunway
    from ._models import SucceededTask, Task
    from ._tasks import TaskHandle

__all__ = [
    "DEFAULT_MAX_IN_FLIGHT",
    "Batch",
    "BatchJournal",
    "BatchResult",
    "BatchStatus",
    "InMemoryBatchJournal",
    "Job",
    "run_batch",
    "validate_job",
]

logger = logging.getLogger("runway_async")

DEFAULT_MAX_IN_FLIGHT: Final = 64
"""Jobs in flight at once when ``max_in_flight`` is not given.

Enough to keep the usual per-model limits of several models busy, so the client's limiter
rather than this pool decides how many tasks run; few enough that any batch costs little
memory.
"""

BatchStatus: TypeAlias = Literal[
    "SUCCEEDED", "FAILED", "CANCELLED", "INVALID", "TIMED_OUT", "ERROR"
]
"""How a job ended.

* ``SUCCEEDED``: the task succeeded (and its outputs were downloaded, if asked).
* ``FAILED``: the task ended FAILED.
* ``CANCELLED``: the batch was cancelled before the job ended, or its task was cancelled.
* ``INVALID``: the parameters failed validation; nothing was sent.
* ``TIMED_OUT``: the batch's deadline passed before the job ended.
* ``ERROR``: anything else: a refused or ambiguous create, a failed download, ...
"""

_JOB_KEYS: Final = frozenset({"endpoint", "params", "id"})
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
            ``recipes.product_ad``, ``generate.video`` (see ``runway_async._spec.ENDPOINTS``).
        params: The call's keyword arguments by their Python names; nested objects take
            snake_case keys, as in the Python call. Part of equality, not of the hash.
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
                f"expected a JSON object with endpoint and params, got {_json_type(data)}"
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
                f"{_json_type(endpoint) if 'endpoint' in data else 'nothing'}",
                field="endpoint",
            )
        params = data.get("params", {})
        if not isinstance(params, Mapping):
            raise InvalidRequestError(
                f"params must be a JSON object, got {_json_type(params)}", field="params"
            )
        key = data.get("id")
        if key is not None and not isinstance(key, str):
            raise InvalidRequestError(
                f"id must be a string or null, got {_json_type(key)}", field="id"
            )
        return cls(endpoint, dict(params), key)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


@functools.cache
def _keyword_names(endpoint: str) -> frozenset[str]:
    """Return the keyword names the endpoint's Python method takes."""
    spec = get_endpoint(endpoint)
    names = {f.python_name for v in spec.variants for f in v.fields.values()}
    if spec.discriminator is not None:
        names.add(spec.discriminator)
    return frozenset(names)


def validate_job(job: Job, *, allow_loopback_http: bool = False) -> None:
    """Check a job's endpoint and parameters as its call would, without sending anything.

    Args:
        job: The job.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts (a client
            whose base URL is loopback, such as a local emulator, does).

    Raises:
        InvalidRequestError: An unknown endpoint, or parameters the call would refuse
            (with ``field`` and ``allowed`` as the call would raise them).

    """
    to_wire(job.endpoint, job.params, allow_loopback_http=allow_loopback_http)
    # The spec also accepts the API's camelCase names; the Python call does not.
    names = _keyword_names(job.endpoint)
    for name in job.params:
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


def _endpoint_method(client: AsyncRunway, endpoint: str) -> Callable[..., Awaitable[TaskHandle]]:
    """Return the bound method that creates a task of ``endpoint`` (``client.recipes.x``)."""
    target: Any = client
    for part in endpoint.split("."):
        target = getattr(target, part)
    if not callable(target):  # a namespace such as client.image_to_video
        target = target.create
    return target  # type: ignore[no-any-return]  # resolved from a validated endpoint name


@attrs.frozen(kw_only=True)
class BatchResult:
    """How one job of a batch ended.

    Attributes:
        index: The job's position in ``jobs``, from 0.
        job: The job.
        status: ``SUCCEEDED``, ``FAILED``, ``CANCELLED``, ``INVALID``, ``TIMED_OUT`` or
            ``ERROR`` (see ``BatchStatus``).
        task_id: The server task's id, once it was created (also when it later failed).
        task: The last state of the task seen: the ``SucceededTask`` with its ``output``
            URLs, the ``FailedTask``, ...; ``None`` when none was seen.
        files: The downloaded outputs when the batch has ``download_to``, in output order.
        error: What went wrong: ``InvalidRequestError``, ``TaskFailedError``,
            ``TaskCancelledError``, ``TaskTimeoutError`` (the deadline), an ``APIError``, an
            ``OSError`` from a download; ``None`` for a success. Not part of equality.
        error_message: A one-line description of ``error`` for logs and reports.

    """

    index: int
    job: Job
    status: BatchStatus
    task_id: str | None = None
    task: Task | None = None
    files: tuple[DownloadedFile, ...] = ()
    error: BaseException | None = attrs.field(default=None, eq=False)
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the job succeeded."""
        return self.status == "SUCCEEDED"

    @property
    def key(self) -> str | None:
        """The job's own key (``job.key``)."""
        return self.job.key


class BatchJournal(Protocol):
    """Where a batch records its progress, so a batch resumed after a crash pays nothing twice.

    The methods are synchronous on purpose: ``job_submitted`` runs right after the create's
    reply, with no await in between, so no cancellation can fall between creating a task and
    recording it. A durable journal should make each call durable before returning.
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
        events: Every call in order: ``("submitted", index, task_id)`` or
            ``("finished", index, status)``.

    """

    def __init__(self) -> None:
        self.submitted: dict[int, tuple[Job, str]] = {}
        self.finished: dict[int, BatchResult] = {}
        self.events: list[tuple[str, int, str]] = []

    def known_task_id(self, index: int, job: Job) -> str | None:
        """Return the task recorded for this index when it was recorded for this same job."""
        entry = self.submitted.get(index)
        if entry is None or entry[0] != job:
            return None
        return entry[1]

    def job_submitted(self, index: int, job: Job, task_id: str) -> None:
        """Record the job's new task."""
        self.submitted[index] = (job, task_id)
        self.events.append(("submitted", index, task_id))

    def job_finished(self, result: BatchResult) -> None:
        """Record the job's result."""
        self.finished[result.index] = result
        self.events.append(("finished", result.index, result.status))


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
    """A job in flight, as far as it got."""

    index: int
    job: Job
    phase: _Phase = "creating"
    task_id: str | None = None
    task: SucceededTask | None = None


class Batch:
    """A running batch: iterate it for results as jobs finish, or ``await gather()``.

    Made by ``run_batch`` (``client.batch``), which starts it. ``async for result in batch``
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
        client: AsyncRunway,
        jobs: Iterable[Job] | AsyncIterable[Job],
        *,
        max_in_flight: int | None = None,
        deadline: float | None = None,
        download_to: str | os.PathLike[str] | None = None,
        cancel_server_tasks_on_cancel: bool = False,
        on_result: Callable[[BatchResult], object] | None = None,
        journal: BatchJournal | None = None,
    ) -> None:
        if max_in_flight is not None and (
            isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int)
        ):
            raise TypeError(f"max_in_flight must be an int or None, got {max_in_flight!r}")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight!r}")
        if deadline is not None and (
            isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or deadline <= 0
        ):
            raise ValueError(f"deadline must be a number of seconds > 0 or None, got {deadline!r}")
        loop = asyncio.get_running_loop()  # RuntimeError outside a loop, like create_task
        self._client = client
        self._source = _JobSource(jobs)
        pool = max_in_flight or DEFAULT_MAX_IN_FLIGHT
        if isinstance(jobs, Sized):
            pool = min(pool, len(jobs))
        self._pool_size = pool
        self._deadline = deadline
        self._download_to = Path(download_to) if download_to is not None else None
        self._cancel_server_tasks = cancel_server_tasks_on_cancel
        self._on_result = on_result
        self._journal = journal
        self._journal_error: BaseException | None = None
        self._source_error: BaseException | None = None
        self._loopback = is_loopback_host(urllib.parse.urlsplit(client.base_url).hostname)
        self._stopped_by: _Stop | None = None
        self._active: dict[asyncio.Task[None], _JobState] = {}
        self._interrupted: list[_JobState] = []
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

    def cancel(self) -> bool:
        """Stop the batch: no new tasks; jobs in flight and not started end CANCELLED.

        With ``cancel_server_tasks_on_cancel``, the server tasks of the jobs in flight are
        cancelled too. Returns at once; iterate or ``gather()`` to see the results.

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
        if self._stopped_by is not None or self._finished:
            return
        self._stopped_by = reason
        for worker in self._active:
            worker.cancel()

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
                if workers:
                    await asyncio.wait(workers)
            except asyncio.CancelledError:
                # The runner itself was cancelled (the loop is shutting down): stop the
                # workers, report what we can, and end.
                self._stop("cancel")
                await asyncio.wait(workers)
                self._collect_worker_errors(workers)
                self._report_interrupted({})
                raise
            finally:
                if timer is not None:
                    timer.cancel()
            self._collect_worker_errors(workers)
            await self._wind_up()
        finally:
            self._finished = True
            self._notify()

    def _collect_worker_errors(self, workers: list[asyncio.Task[None]]) -> None:
        for worker in workers:
            if worker.cancelled():
                continue
            error = worker.exception()
            if error is not None and self._source_error is None:
                self._source_error = error

    async def _wind_up(self) -> None:
        """Cancel the interrupted jobs' server tasks if asked; report every job left."""
        delete_errors: dict[str, BaseException | None] = {}
        if self._cancel_server_tasks:
            ids = [s.task_id for s in self._interrupted if s.phase == "waiting" and s.task_id]
            outcomes = await asyncio.gather(*(self._cancel_server_task(i) for i in ids))
            delete_errors = dict(zip(ids, outcomes, strict=True))
        self._report_interrupted(delete_errors)
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

    async def _cancel_server_task(self, task_id: str) -> BaseException | None:
        try:
            await self._client.tasks.delete(task_id)
        except NotFoundError:
            return None  # gone already
        except Exception as exc:
            logger.warning("Could not cancel task %s of a stopped batch: %s", task_id, exc)
            return exc
        return None

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
            except asyncio.CancelledError:
                if self._stopped_by is None:
                    raise
                self._interrupted.append(state)
                return
            finally:
                del self._active[me]
            self._finish(result)

    async def _run_job(self, state: _JobState) -> BatchResult:
        """Create (or re-attach to) the job's task, wait for it, download; report the end."""
        index, job = state.index, state.job
        try:
            validate_job(job, allow_loopback_http=self._loopback)
            known = self._journal_call(lambda j: j.known_task_id(index, job))
            if known is not None:
                state.task_id = known
                state.phase = "waiting"
                succeeded = await self._client.tasks.wait(known, timeout=None)
            else:
                create = _endpoint_method(self._client, job.endpoint)
                handle = await create(**job.params)
                state.task_id = handle.id
                state.phase = "waiting"
                self._journal_call(lambda j: j.job_submitted(index, job, handle.id))
                succeeded = await handle.wait_for_task_output(timeout=None)
            state.task = succeeded
            files: tuple[DownloadedFile, ...] = ()
            if self._download_to is not None:
                state.phase = "downloading"
                files = tuple(
                    await download_outputs(
                        self._client,
                        succeeded,
                        self._download_to,
                        # Names come from the task id, so the only file replaced is an
                        # earlier download of this same output (a resumed batch).
                        overwrite=True,
                    )
                )
        except InvalidRequestError as exc:
            return self._failed(state, "INVALID", exc)
        except TaskCancelledError as exc:
            return self._failed(state, "CANCELLED", exc, exc.task_details)
        except TaskFailedError as exc:
            return self._failed(state, "FAILED", exc, exc.task_details)
        except TaskTimeoutError as exc:
            return self._failed(state, "TIMED_OUT", exc, exc.task_details)
        except Exception as exc:
            return self._failed(state, "ERROR", exc)
        return BatchResult(
            index=index,
            job=job,
            status="SUCCEEDED",
            task_id=state.task_id,
            task=succeeded,
            files=files,
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
            self._journal_error = exc
            logger.error("The batch journal failed; starting no more jobs: %r", exc)
            raise

    # -- results ------------------------------------------------------------------------

    def _failed(
        self,
        state: _JobState,
        status: BatchStatus,
        error: BaseException,
        task: Task | None = None,
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
                f"Job {index} was cancelled with its batch before its task was created.", None
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

    def _report_interrupted(self, delete_errors: Mapping[str, BaseException | None]) -> None:
        timed_out = self._stopped_by == "deadline"
        for state in self._interrupted:
            if timed_out:
                what = "did not finish before the batch's deadline"
            else:
                what = "was cancelled with its batch"
            if state.phase == "creating":
                detail = " while its task was being created (the server may have created one)"
            elif state.phase == "downloading":
                detail = f" while downloading the outputs of task {state.task_id}"
            elif state.task_id is not None and state.task_id in delete_errors:
                failed = delete_errors[state.task_id]
                if failed is None:
                    detail = f"; its task {state.task_id} was cancelled"
                else:
                    detail = f"; cancelling its task {state.task_id} failed: {failed}"
            else:
                detail = f"; its task {state.task_id} was left running"
            message = f"Job {state.index} {what}{detail}."
            error: TaskError = (
                TaskTimeoutError(message, state.task)
                if timed_out
                else TaskCancelledError(message, state.task)
            )
            self._finish(
                BatchResult(
                    index=state.index,
                    job=state.job,
                    status="TIMED_OUT" if timed_out else "CANCELLED",
                    task_id=state.task_id,
                    task=state.task,
                    error=error,
                    error_message=message,
                )
            )
        self._interrupted.clear()

    def _finish(self, result: BatchResult) -> None:
        self._results.append(result)
        if self._journal is not None and self._journal_error is None:
            try:
                self._journal.job_finished(result)
            except Exception as exc:
                self._journal_error = exc
                logger.error("The batch journal failed; starting no more jobs: %r", exc)
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


def run_batch(
    client: AsyncRunway,
    jobs: Iterable[Job] | AsyncIterable[Job],
    *,
    max_in_flight: int | None = None,
    deadline: float | None = None,
    download_to: str | os.PathLike[str] | None = None,
    cancel_server_tasks_on_cancel: bool = False,
    on_result: Callable[[BatchResult], object] | None = None,
    journal: BatchJournal | None = None,
) -> Batch:
    """Start running ``jobs`` and return the ``Batch`` (call it inside the event loop).

    A fixed pool of ``max_in_flight`` workers pulls jobs one at a time, so ``jobs`` may be a
    lazy or async iterable of any length; each job's task is created, waited for and, with
    ``download_to``, its outputs downloaded as soon as it succeeds (they expire in 24-48 h).
    The client's limiter still decides how many tasks of each model run at once.

    Args:
        client: The client to create tasks with.
        jobs: ``Job`` objects: a list, a lazy iterable or an async iterable.
        max_in_flight: Most jobs in flight at once (creating, waiting or downloading);
            default ``DEFAULT_MAX_IN_FLIGHT`` (64).
        deadline: Seconds from now for the whole batch. When it passes, no more tasks are
            created, and every unfinished job ends ``TIMED_OUT`` (its server task cancelled
            if ``cancel_server_tasks_on_cancel``).
        download_to: Download each succeeded task's outputs into this directory, as
            ``<task_id>_<n>.<ext>`` (``BatchResult.files``). A failed download makes the
            job ``ERROR``, keeping ``task_id`` and ``task``.
        cancel_server_tasks_on_cancel: When the batch is cancelled or its deadline passes,
            also cancel (``client.tasks.delete``) the tasks of the jobs still waiting.
            Otherwise those tasks keep running on the server (and are paid for).
        on_result: Called with each result as it comes (exceptions are logged, not raised).
        journal: Told of every created task and every result; asked for a job's earlier
            task, which is then waited for instead of creating a new one.

    Returns:
        The running batch.

    Raises:
        RuntimeError: No event loop is running.
        TypeError: ``jobs`` is not an iterable, or an option has the wrong type.
        ValueError: ``max_in_flight`` < 1 or ``deadline`` <= 0.

    """
    return Batch(
        client,
        jobs,
        max_in_flight=max_in_flight,
        deadline=deadline,
        download_to=download_to,
        cancel_server_tasks_on_cancel=cancel_server_tasks_on_cancel,
        on_result=on_result,
        journal=journal,
    )
