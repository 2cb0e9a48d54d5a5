"""The async client, ``AsyncRunway``: a thin shell over one ``Core``.

The client builds the HTTP transport, the requester and the shared state, makes one
``Core`` (see ``_core``) and hangs the resource namespaces on it. Everything it does beyond
that forwards to the core, the resources, ``download_outputs`` or ``Batch``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import attrs

from ._batch import DEFAULT_GRACE_PERIOD, Batch, BatchJournal, BatchResult, Job
from ._clock import SYSTEM_CLOCK, Clock
from ._config import (
    DEFAULT_RUNWAY_VERSION,
    NOT_GIVEN,
    NotGiven,
    PollConfig,
    RetryConfig,
    Timeout,
    TimeoutLike,
    check_seconds,
    resolve_api_key,
    resolve_base_url,
    setup_logging_from_env,
)
from ._core import Core, CoreState
from ._download import (
    DEFAULT_DOWNLOAD_TIMEOUT,
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DownloadedFile,
    download_outputs,
)
from ._events import TaskEvent
from ._handles import TaskHandle
from ._http import HTTPTransport, Secret
from ._journal import SQLiteBatchJournal
from ._limits import AUTO, InProcessLimiter, Limiter, MaxConcurrency, check_max_concurrency
from ._models import Task
from ._names import NameTemplate
from ._options import check_http_client, checked_mapping
from ._raw import RawResponses, StreamingResponses
from ._requester import DEFAULT_MAX_RESPONSE_BYTES, APIRequester, check_max_response_bytes
from ._resources.avatar_conversations import AvatarConversations
from ._resources.avatars import Avatars
from ._resources.documents import Documents
from ._resources.generation import TASK_RESOURCES, TaskResources
from ._resources.organization import Organization
from ._resources.realtime_sessions import RealtimeSessions
from ._resources.routers import Routers
from ._resources.tasks import Tasks
from ._resources.uploads import Uploads
from ._resources.voices import Voices
from ._resources.workflow_invocations import WorkflowInvocations
from ._resources.workflows import Workflows
from ._transport import AiohttpTransport
from ._upload import check_inline_max_bytes

__all__ = ["NOT_GIVEN", "AsyncRunway", "AsyncRunwayML", "NotGiven"]


class AsyncRunway(TaskResources):
    """Async client for the Runway API.

    Use it as ``async with AsyncRunway() as client: ...`` or call ``await client.aclose()``.
    The HTTP session is created lazily inside the running event loop on the first request.
    The client works from any event loop (successive ``asyncio.run()`` calls, loops in
    several threads): each loop gets its own session and task watcher, closed when that
    loop shuts down; the limiter is shared.

    Args:
        api_key: Your API key; defaults to ``$RUNWAYML_API_SECRET``.
        base_url: API base URL; defaults to ``$RUNWAYML_BASE_URL``, else
            ``https://api.dev.runwayml.com``. Plain ``http`` is accepted only for loopback hosts.
        runway_version: The ``X-Runway-Version`` header.
        timeout: Per-request deadline in seconds, a ``Timeout``, an ``httpx.Timeout``-like
            object (``read`` is the request's deadline, ``connect`` the connection's), or
            ``None`` for no per-request deadline (the retry budget, ``RetryConfig.max_total``,
            still bounds every call).
        max_retries: Retries after a failed attempt (see the retry policy in the README).
        default_query: Query parameters added to every API request (wire names).
        http_client: Only ``DefaultAioHttpClient()`` (the official SDK's aiohttp option),
            accepted because it is what this client does anyway; any other client (an httpx
            one) is refused with a ``TypeError`` naming what to use instead (``session=``).
        session: An ``aiohttp.ClientSession`` to use; it is yours to close.
        retry: Full retry settings; ``max_retries`` overrides its ``max_retries``.
        poll: How the client's task watcher polls (``min_interval`` and the GET budget).
        default_headers: Extra headers sent with every request.
        limiter: The per-model concurrency limiter; by default the one shared by every
            client in this process with the same API key and base URL.
        max_concurrency: Most tasks per model at once: ``"auto"`` (the organization's
            ``maxConcurrentGenerations``, read from ``GET /v1/organization``), one count for
            every model, a mapping of model to count (others stay ``"auto"``; a ``None``
            value means unlimited), or ``None`` to turn limiting (and the daily-quota check)
            off. A create waits for a slot before it is sent.
        slot_timeout: Seconds a create may wait for a slot (``None``: no deadline); then
            ``SlotTimeoutError``, and nothing is sent.
        on_event: Called with every ``TaskEvent`` (submitted, throttled, running, ended) of
            the client's tasks, in the event loop; setting it makes the watcher poll every
            task the client creates.
        max_response_bytes: Largest API reply read, in bytes (default 8 MiB; downloads have
            their own ``max_bytes``). A longer reply stops being read there and raises
            ``ResponseValidationError`` (``AmbiguousSubmissionError`` for a create), with its
            first bytes in ``.body``.
        transport: The HTTP transport (an ``HTTPTransport``); by default one on aiohttp
            (with ``session`` if given). Plug another to instrument or replace the HTTP
            layer; it serves API requests and downloads alike.
        clock: The clock of retries and the task watcher (``SYSTEM_CLOCK`` by default);
            tests pass a ``VirtualClock`` to run the schedule on virtual time.
        inline_max_bytes: A local file (``pathlib.Path``) given to a create's media
            parameter is uploaded (``uploads.create_ephemeral``) before the create; one of at
            most this many bytes goes inline as a base64 data URI instead, when it fits the
            data URI limit of its kind (5 MB encoded for images, 16 MB for video and audio).
            0 (the default): always upload.
        validate: Check every call's parameters against the spec before sending (the
            default): a wrong value fails with ``InvalidRequestError`` naming the field and
            the allowed values, before any request. ``False`` leaves every check to the
            server (keywords are still converted to wire names). A model the spec does not
            know is never refused: it is sent with light checks and one
            ``UnknownModelWarning``.

    """

    tasks: Tasks
    organization: Organization
    uploads: Uploads
    avatars: Avatars
    avatar_conversations: AvatarConversations
    realtime_sessions: RealtimeSessions
    documents: Documents
    voices: Voices
    workflows: Workflows
    workflow_invocations: WorkflowInvocations
    routers: Routers

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        runway_version: str = DEFAULT_RUNWAY_VERSION,
        timeout: float | Timeout | TimeoutLike | None = 60.0,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: object | None = None,
        session: object | None = None,
        retry: RetryConfig | None = None,
        poll: PollConfig | None = None,
        limiter: Limiter | None = None,
        max_concurrency: MaxConcurrency = AUTO,
        slot_timeout: float | None = None,
        on_event: Callable[[TaskEvent], object] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: HTTPTransport | None = None,
        clock: Clock = SYSTEM_CLOCK,
        inline_max_bytes: int = 0,
        validate: bool = True,
    ) -> None:
        # From here on the key lives only inside a Secret, so no frame of this constructor
        # shows it among its locals in a traceback (capture_locals, Sentry, pytest -l).
        key = Secret(resolve_api_key(api_key))
        del api_key
        setup_logging_from_env()
        check_max_concurrency(max_concurrency)
        check_seconds("slot_timeout", slot_timeout, allow_none=True)
        check_max_response_bytes(max_response_bytes)
        check_inline_max_bytes(inline_max_bytes)
        check_http_client(http_client)
        _check_bool("validate", validate)
        checked_mapping("default_headers", default_headers, text_values=True)
        checked_mapping("default_query", default_query)
        if session is not None and transport is not None:
            raise TypeError("pass session or transport, not both (a session is for the default)")
        retry = retry or RetryConfig()
        if max_retries is not None:
            retry = attrs.evolve(retry, max_retries=max_retries)
        resolved_url = resolve_base_url(base_url)
        # Built last among the checks: an aiohttp transport refuses a session of another kind.
        own_http = AiohttpTransport(session) if transport is None else None
        http: HTTPTransport = own_http if own_http is not None else transport  # type: ignore[assignment]
        requester = APIRequester(
            transport=http,
            base_url=resolved_url,
            api_key=key,
            runway_version=runway_version,
            timeout=Timeout.coerce(timeout),
            retry=retry,
            default_headers=default_headers,
            default_query=default_query,
            max_response_bytes=max_response_bytes,
            clock=clock,
        )
        poll = poll or PollConfig()
        state = CoreState(
            http=http,
            # Polls are retried by the watcher's own schedule, never in quick succession.
            poll_requester=requester.copy(retry=attrs.evolve(retry, max_retries=0)),
            poll=poll,
            limiter=limiter or InProcessLimiter.shared(key.reveal(), resolved_url),
            on_event=on_event,
            clock=clock,
        )
        core = Core(
            requester=requester,
            state=state,
            poll=poll,
            max_concurrency=max_concurrency,
            slot_timeout=slot_timeout,
            inline_max_bytes=inline_max_bytes,
            validate=validate,
        )
        self._own_http = own_http
        self._attach(core, owner=True)

    def _attach(self, core: Core, *, owner: bool) -> None:
        """Hang the resource namespaces on ``core``."""
        self._core = core
        self._owner = owner
        self.tasks = Tasks(core)
        self.organization = Organization(core)
        self.uploads = Uploads(core)
        self.avatars = Avatars(core)
        self.avatar_conversations = AvatarConversations(core)
        self.realtime_sessions = RealtimeSessions(core)
        self.documents = Documents(core)
        self.voices = Voices(core)
        self.workflows = Workflows(core)
        self.workflow_invocations = WorkflowInvocations(core)
        self.routers = Routers(core)
        for name, resource in TASK_RESOURCES.items():
            setattr(self, name, resource(core))

    @property
    def base_url(self) -> str:
        """The API base URL."""
        return self._core.base_url

    @property
    def timeout(self) -> Timeout:
        """The per-request timeouts."""
        return self._core.timeout

    @property
    def max_retries(self) -> int:
        """Retries after a failed attempt."""
        return self._core.retry.max_retries

    @property
    def max_response_bytes(self) -> int:
        """Largest API reply read, in bytes."""
        return self._core.requester.max_response_bytes

    @property
    def poll(self) -> PollConfig:
        """How this client's tasks are polled."""
        return self._core.poll

    @property
    def limiter(self) -> Limiter:
        """The per-model concurrency limiter (shared with same-key clients by default)."""
        return self._core.limiter

    @property
    def max_concurrency(self) -> MaxConcurrency:
        """Most tasks per model at once (``"auto"``: the organization's limit)."""
        return self._core.max_concurrency

    @property
    def slot_timeout(self) -> float | None:
        """Seconds a create may wait for a concurrency slot."""
        return self._core.slot_timeout

    @property
    def inline_max_bytes(self) -> int:
        """Largest local file a create sends inline as a data URI (0: always upload)."""
        return self._core.inline_max_bytes

    @property
    def validate(self) -> bool:
        """Whether calls are checked against the spec before sending."""
        return self._core.validate

    @property
    def default_headers(self) -> Mapping[str, str]:
        """The extra headers sent with every request (without the client's own)."""
        return self._core.requester.default_headers

    @property
    def default_query(self) -> Mapping[str, str]:
        """The query parameters added to every request."""
        return self._core.requester.default_query

    @property
    def with_raw_response(self) -> RawResponses:
        """Every API call, returning its raw response (``AsyncAPIResponse``).

        ``await client.with_raw_response.tasks.retrieve(id)`` (or
        ``client.tasks.with_raw_response.retrieve(id)``) gives the HTTP reply
        (``status_code``, ``headers``, ``request_id``, ``elapsed``, ``http_request``), and
        ``await response.parse()`` what the call returns (a create's ``TaskHandle``, watched
        as usual). Helpers that are not one API call (``wait``, ``events``, ``download``,
        ``batch``) are not offered there.
        """
        return RawResponses(self)

    @property
    def with_streaming_response(self) -> StreamingResponses:
        """Every API call as an ``async with`` context whose body is read on demand.

        ``async with client.with_streaming_response.voices.retrieve(id) as response:``; the
        body of a GET, PATCH or DELETE reply is read only by ``read()``, ``parse()``,
        ``iter_bytes()``...; a create's reply is read at once.
        """
        return StreamingResponses(self)

    def __repr__(self) -> str:
        core = getattr(self, "_core", None)  # a half-built client, in a traceback
        return f"<AsyncRunway base_url={core.base_url if core else None!r}>"

    def with_options(
        self,
        *,
        timeout: float | Timeout | TimeoutLike | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, object] | NotGiven = NOT_GIVEN,
        validate: bool | NotGiven = NOT_GIVEN,
        http_client: object | None = None,
        retry: RetryConfig | NotGiven = NOT_GIVEN,
        poll: PollConfig | NotGiven = NOT_GIVEN,
        max_concurrency: MaxConcurrency | NotGiven = NOT_GIVEN,
        slot_timeout: float | NotGiven | None = NOT_GIVEN,
        max_response_bytes: int | NotGiven = NOT_GIVEN,
        inline_max_bytes: int | NotGiven = NOT_GIVEN,
    ) -> AsyncRunway:
        """Return a copy with other settings that shares this client's connection pool.

        The copy also shares the task watcher and the limiter. It does not own them:
        closing it is a no-op; close the original. An argument left out (``NOT_GIVEN``)
        keeps this client's setting; ``None`` means "no limit" for ``max_concurrency`` and
        ``slot_timeout`` and is refused for the others.

        Args:
            timeout: Per-request deadline (see ``AsyncRunway``; ``None``: none).
            max_retries: Retries after a failed attempt.
            default_headers: Headers added to the client's default headers.
            default_query: Query parameters added to the client's default query.
            validate: Whether the copy checks parameters before sending (see
                ``AsyncRunway``).
            http_client: Only ``DefaultAioHttpClient()`` and the like (see ``AsyncRunway``);
                the copy shares this client's connections.
            retry: Full retry settings (``max_retries``, if given too, overrides its own).
            poll: Polling settings for the tasks the copy creates or waits for (the
                watcher-wide ``max_in_flight`` and ``requests_per_second`` stay the
                original's).
            max_concurrency: Per-model caps for the copy's creates (see ``AsyncRunway``).
            slot_timeout: Seconds the copy's creates may wait for a slot.
            max_response_bytes: Largest API reply the copy reads (the shared watcher's
                polls keep the original's).
            inline_max_bytes: Largest local file the copy's creates send inline (see
                ``AsyncRunway``); the copy shares the original's cache of uploaded files.

        """
        check_http_client(http_client)
        core = self._core
        requester = core.requester
        for name, value in (
            ("max_retries", max_retries),
            ("default_headers", default_headers),
            ("default_query", default_query),
            ("validate", validate),
            ("retry", retry),
            ("poll", poll),
            ("max_response_bytes", max_response_bytes),
            ("inline_max_bytes", inline_max_bytes),
        ):
            if value is None:
                raise TypeError(
                    f"with_options({name}=None) has no meaning; leave {name} out to keep "
                    "the client's setting"
                )
        if not isinstance(max_response_bytes, NotGiven):
            check_max_response_bytes(max_response_bytes)
        if not isinstance(inline_max_bytes, NotGiven):
            check_inline_max_bytes(inline_max_bytes)
        if not isinstance(validate, NotGiven):
            _check_bool("validate", validate)
        if not isinstance(default_headers, NotGiven):
            checked_mapping("default_headers", default_headers, text_values=True)
        if not isinstance(default_query, NotGiven):
            checked_mapping("default_query", default_query)
        new_retry = requester.retry if isinstance(retry, NotGiven) else retry
        if not isinstance(max_retries, NotGiven):
            new_retry = attrs.evolve(new_retry, max_retries=max_retries)
        if not isinstance(max_concurrency, NotGiven):
            check_max_concurrency(max_concurrency)
        if not isinstance(slot_timeout, NotGiven):
            check_seconds("slot_timeout", slot_timeout, allow_none=True)
        configured = core.configured(
            requester=requester.copy(
                timeout=None if isinstance(timeout, NotGiven) else Timeout.coerce(timeout),
                retry=new_retry,
                max_response_bytes=(
                    None if isinstance(max_response_bytes, NotGiven) else max_response_bytes
                ),
                default_headers=None if isinstance(default_headers, NotGiven) else default_headers,
                default_query=None if isinstance(default_query, NotGiven) else default_query,
            ),
            poll=core.poll if isinstance(poll, NotGiven) else poll,
            max_concurrency=(
                core.max_concurrency if isinstance(max_concurrency, NotGiven) else max_concurrency
            ),
            slot_timeout=core.slot_timeout if isinstance(slot_timeout, NotGiven) else slot_timeout,
            inline_max_bytes=None if isinstance(inline_max_bytes, NotGiven) else inline_max_bytes,
            validate=None if isinstance(validate, NotGiven) else validate,
        )
        clone = object.__new__(type(self))
        clone._own_http = None
        clone._attach(configured, owner=False)
        return clone

    async def download(
        self,
        task_or_url: Task | TaskHandle | str,
        directory: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
        max_retries: int | None = None,
        max_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
    ) -> list[DownloadedFile]:
        """Download the outputs of a succeeded task (or a task id, or one URL) into a directory.

        Each file streams to a temporary file, is fsynced and atomically renamed, and its
        SHA-256 recorded. No API key or other credential is ever sent to the output host.

        Args:
            task_or_url: A ``SucceededTask``, a ``TaskHandle`` or task id, or an output URL.
            directory: Target directory (created if missing); files never land outside it.
            overwrite: Replace existing files instead of numbering the new ones.
            timeout: Deadline of each file's download.
            max_retries: Retries per file (default: the client's).
            max_bytes: Refuse files larger than this many bytes (default 10 GiB;
                ``None``: no cap).

        Returns:
            One ``DownloadedFile`` per output.

        """
        source = task_or_url.id if isinstance(task_or_url, TaskHandle) else task_or_url
        return await download_outputs(
            self._core,
            source,
            directory,
            overwrite=overwrite,
            timeout=timeout,
            max_retries=max_retries,
            max_bytes=max_bytes,
        )

    def batch(
        self,
        jobs: Iterable[Job] | AsyncIterable[Job],
        *,
        max_in_flight: int | None = None,
        deadline: float | None = None,
        download_to: str | os.PathLike[str] | None = None,
        cancel_server_tasks_on_cancel: bool = False,
        on_result: Callable[[BatchResult], object] | None = None,
        journal: BatchJournal | str | os.PathLike[str] | None = None,
        grace_period: float = DEFAULT_GRACE_PERIOD,
        name: str | NameTemplate | None = None,
        resubmit_unknown: bool = False,
        max_credits: float | None = None,
        retry_failed: int = 0,
    ) -> Batch:
        """Start running ``jobs`` and return the ``Batch`` (call it inside the event loop).

        A fixed pool of ``max_in_flight`` workers pulls jobs one at a time, so ``jobs`` may be a
        lazy or async iterable of any length; each job's task is created, waited for and, with
        ``download_to``, its outputs downloaded as soon as it succeeds (they expire in 24-48 h).
        The client's limiter still decides how many tasks of each model run at once.

        Args:
            jobs: ``Job`` objects: a list, a lazy iterable or an async iterable.
            max_in_flight: Most jobs in flight at once (creating, waiting or downloading);
                default ``DEFAULT_MAX_IN_FLIGHT`` (64).
            deadline: Seconds from now for the whole batch. When it passes, the batch stops
                as ``batch.cancel()`` stops it, and unfinished jobs end ``TIMED_OUT``.
            download_to: Download each succeeded task's outputs into this directory, as
                ``<id>_<n>.<ext>`` after the job's ``key`` (its ``id`` in a jobs file), or
                ``<task_id>_<n>.<ext>`` for a job without one (``BatchResult.files``). Names
                are made safe on every filesystem and unique in the batch (``fox_0 (1).png``
                for a second job ``fox``); an existing file is never replaced by another
                output. A failed download makes the job ``ERROR``, keeping ``task_id`` and
                ``task``.
            cancel_server_tasks_on_cancel: When the batch stops, also cancel (``DELETE``) the
                tasks of the interrupted jobs that are still PENDING, THROTTLED or RUNNING. Each
                task is fetched first: one that already ended is reported as it ended and never
                sent a DELETE (which would delete it and its outputs); only a task ending
                between that GET and the DELETE can still be caught. Without this option those
                tasks keep running on the server (and are paid for).
            on_result: Called with each result as it comes (exceptions are logged, not raised).
            journal: Where the batch records its progress, so a batch run again after a
                crash (SIGKILL included) pays for nothing twice: a path (``"batch.db"``)
                opens an ``SQLiteBatchJournal`` there, closed when the batch ends; or any
                ``BatchJournal``. On resume, jobs with a task id are waited for, finished
                jobs are skipped (their downloads checked by SHA-256 and fetched again if
                missing), jobs never sent are sent, and a job whose create was sent but
                never answered ends ``UNKNOWN`` (the API cannot list recent tasks to look
                for it). A list of jobs is checked against the recorded jobs first.
            grace_period: Seconds, counted from the stop (``cancel()``, the deadline, a
                cancelled consumer), that creates already sent and downloads under way get to
                finish: a create answered in time has its task id recorded (and its task
                cancelled as above); one still unanswered is reported as possibly created. A
                job whose task had succeeded stays ``SUCCEEDED``, with a ``note`` when its
                outputs were not all downloaded. Jobs that sent nothing end at once. Looking
                at (and cancelling) the interrupted tasks takes at most 10 s more.
            name: A template for the names of downloaded outputs instead of
                ``<id>_<n>.<ext>``, such as ``"{index:04d}-{id}_{n}.{ext}"``. Fields: ``id``
                (the job's key, else the task id), ``index`` (the job's position), ``task_id``,
                ``n`` (the output's position) and ``ext`` (no dot); ``line`` exists only on
                the command line. It must hold ``{n}``, ``{ext}`` and one of ``{id}``,
                ``{index}`` or ``{task_id}``, and no path separator; values are made safe.
            resubmit_unknown: Send again the creates of jobs left ``UNKNOWN`` by an earlier
                run. The task may exist already, so this may pay twice for one job.
            max_credits: The most credits this run may commit. Before each create the batch
                reserves the largest price seen for its endpoint and model (one create of a
                kind at a time until a price is known), holds the create's own estimate once
                it replies, and counts the final cost when the task ends; a create that
                would push spent plus reserved past ``max_credits`` is not started: it waits
                while held credits may be refunded, else its job ends ``SKIPPED``.
                ``batch.credits`` shows what was estimated and spent. ``None``: no limit.
            retry_failed: Create a job again, up to this many times, when its task FAILED
                with a code the API marks retryable (``INTERNAL.BAD_OUTPUT.*``,
                ``INPUT_PREPROCESSING.INTERNAL``, ``INTERNAL``; never ``SAFETY.*``). Each
                attempt is paid, goes through ``max_credits`` and the journal, and its task id
                is listed in ``BatchResult.attempts``. Default 0: no retries.

        Returns:
            The running batch.

        Raises:
            RuntimeError: No event loop is running.
            JournalMismatchError: ``jobs`` (a list or tuple) differ from those the journal
                recorded, naming the first job and field that differ; nothing was sent.
            JournalError: ``journal`` names a file that is not a batch journal.
            TypeError: ``jobs`` is not an iterable, or an option has the wrong type.
            ValueError: ``max_in_flight`` < 1, ``deadline`` <= 0, ``grace_period`` < 0,
                ``max_credits`` < 0, ``retry_failed`` < 0, a
                duration that is NaN or infinite, or a ``name`` template that is refused
                (an unknown field, ``{n}`` or ``{ext}`` missing, a separator): raised before
                anything is sent.

        """
        opened: BatchJournal | None = (
            SQLiteBatchJournal(journal) if isinstance(journal, (str, os.PathLike)) else journal
        )
        return Batch(
            self._core,
            jobs,
            max_in_flight=max_in_flight,
            deadline=deadline,
            download_to=download_to,
            cancel_server_tasks_on_cancel=cancel_server_tasks_on_cancel,
            on_result=on_result,
            journal=opened,
            grace_period=grace_period,
            name=name,
            resubmit_unknown=resubmit_unknown,
            close_journal=opened is not journal,
            max_credits=max_credits,
            retry_failed=retry_failed,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Send any API request and return its JSON reply: the escape hatch for new endpoints.

        Same headers, retries and errors as every other call (a POST is never re-sent after
        an ambiguous failure).

        Args:
            method: HTTP method.
            path: API path such as ``/v1/tasks/abc``.
            json: JSON body.
            params: Query parameters.

        Returns:
            The parsed JSON reply (text if it was not JSON, ``None`` if empty).

        """
        response = await self._core.request(method, path, json=json, params=params)
        return response.data

    async def aclose(self) -> None:
        """Close the watcher and the HTTP session this client created; idempotent.

        Pending waits fail; slots of tasks still running are released at their expected
        end. Copies close nothing.
        """
        if self._owner:
            await self._core.state.aclose()

    async def close(self) -> None:
        """Close the client (same as ``aclose``, the official SDK's name)."""
        await self.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether ``aclose()`` has been called."""
        return self._core.closed

    async def __aenter__(self) -> AsyncRunway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        http = getattr(self, "_own_http", None)
        if getattr(self, "_owner", False) and http is not None and http.owns_open_session:
            _warn(
                f"Unclosed {self!r}: use 'async with AsyncRunway()' or 'await client.aclose()'.",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def core_of(client: AsyncRunway) -> Core:
    """Return the core under ``client`` (for the sync facade and tests)."""
    return client._core


AsyncRunwayML = AsyncRunway
"""The official SDK's name for the async client, kept for migration."""
