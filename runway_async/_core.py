"""The narrow core under the client: requests, the create path, the watcher and the limiter.

Resources (``client.tasks``, ``client.image_to_video``, ...), task handles, downloads and
batches use only the public methods of a ``Core``, never the client: the client is a thin
shell on top that builds one core and hangs the resources on it.

One ``Core`` per configured client: each ``with_options`` copy has its own (its own
requester with its timeout and retries, its poll settings, its concurrency caps and slot
timeout), and all of them point to one ``CoreState``: the HTTP transport, the per-event-loop
task watchers and background work, and the limiter shared by every client of the same
organization in the process.

The path of one create: ``Core.create_task`` validates the parameters against the spec
(``_spec.to_wire``), waits for a slot of the model (``Limiter.acquire``), sends the POST
(``APIRequester.request``, which retries only what the server certainly did not accept),
parses the reply into a ``TaskHandle`` and registers the task with the loop's
``TaskWatcher``, which polls it when someone waits (or needs its slot) and releases the
slot when it sees the task end.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping
from typing import Any, Final, Protocol, runtime_checkable

from ._clock import Clock
from ._config import PollConfig, RetryConfig, Timeout, is_loopback_url
from ._convert import structure, task_from_reply
from ._create_signal import mark_create_sent
from ._duration_cache import DurationCache, EstimatorState
from ._events import TaskEvent
from ._exceptions import (
    CLIENT_CLOSED,
    AmbiguousSubmissionError,
    APIConnectionError,
    APIStatusError,
    RateLimitError,
    ResponseValidationError,
)
from ._handles import TaskHandle
from ._http import HTTPTransport, Response
from ._limits import AUTO, Limiter, MaxConcurrency, ModelLimit, Slot
from ._loops import LoopLocal
from ._models import (
    Organization,
    RoutedTaskCreated,
    SucceededTask,
    Task,
    TaskCreated,
    TaskWaiter,
    bind_fresh,
    check_task_id,
    task_path,
)
from ._options import CallOptions
from ._outcome import raise_for_outcome
from ._requester import APIRequester
from ._spec import EndpointSpec, get_endpoint
from ._upload import UploadCache, plain_request_with_files, wire_body
from ._watched import WatchKind
from ._watcher import TaskWatcher

__all__ = ["Core", "CoreState"]

logger = logging.getLogger("runway_async")

SAVE_EVERY: Final = 60.0
"""Fewest seconds (on the watcher's clock) between two saves of learned durations."""
SHARE_EVERY: Final = 10.0
"""Fewest seconds between two shares of learned durations through the limiter."""


@runtime_checkable
class SharesDurations(Protocol):
    """A limiter shared by processes that also shares what their watchers learn.

    ``RedisLimiter`` is one: a new worker's watcher starts from the durations the fleet
    measured, so it polls well from its first task.
    """

    async def load_durations(self) -> dict[str, EstimatorState]:
        """Return the durations the fleet shared, by model."""
        ...

    async def save_durations(self, states: Mapping[str, EstimatorState]) -> None:
        """Share ``states`` (by model) with the fleet."""
        ...


class _SharedDurations:
    """One watcher's link to the durations its limiter shares between processes.

    Loads them once when the watcher is made (the watcher takes those of models it has not
    measured), shares what changed at most every ``SHARE_EVERY`` seconds as it learns, and
    once more when it closes. Never raises: sharing is only an optimisation.
    """

    def __init__(self, sharing: SharesDurations, watcher: TaskWatcher, clock: Clock) -> None:
        self.sharing = sharing
        self.watcher = watcher
        self.clock = clock
        self.shared: dict[str, EstimatorState] = {}
        self.shared_count = 0
        self.last_share = -math.inf
        self.sharing_now: asyncio.Task[None] | None = None

    async def load(self) -> None:
        try:
            states = await self.sharing.load_durations()
        except Exception as exc:  # never into the client
            logger.info("Could not load the fleet's task durations: %s", exc)
            return
        self.shared.update(states)
        self.watcher.seed(states)

    def on_learned(self) -> None:
        busy = self.sharing_now is not None and not self.sharing_now.done()
        if not busy and self.clock.now() - self.last_share >= SHARE_EVERY:
            self.last_share = self.clock.now()
            self.sharing_now = asyncio.get_running_loop().create_task(self.share())

    async def share(self) -> None:
        watcher = self.watcher
        if watcher.learn_count == self.shared_count:
            return
        count = watcher.learn_count
        changed = {
            model: state
            for model, state in watcher.learned().items()
            if self.shared.get(model) != state
        }
        try:
            if changed:
                await self.sharing.save_durations(changed)
        except Exception as exc:  # never into the client
            logger.info("Could not share learned task durations: %s", exc)
            return
        self.shared.update(changed)
        self.shared_count = count

    async def close(self) -> None:
        task = self.sharing_now
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.share()


class _SavedDurations:
    """One watcher's link to the duration cache: what it was seeded with, what it saved.

    Saves what changed when the watcher learns (at most every ``SAVE_EVERY`` seconds) and
    when it closes. Never raises: the cache itself logs its failures.
    """

    def __init__(self, cache: DurationCache, base_url: str, clock: Clock) -> None:
        self.cache = cache
        self.base_url = base_url
        self.clock = clock
        self.saved: dict[str, EstimatorState] = cache.load(base_url)
        self.watcher: TaskWatcher | None = None
        self.saved_count = 0
        self.last_save = -math.inf

    def on_learned(self) -> None:
        """Save if the last save is ``SAVE_EVERY`` seconds old (the watcher learned)."""
        if self.clock.now() - self.last_save >= SAVE_EVERY:
            self.save()

    def save(self) -> None:
        """Write the models whose estimates changed since they were loaded or last saved."""
        watcher = self.watcher
        if watcher is None or watcher.learn_count == self.saved_count:
            return
        try:
            count = watcher.learn_count
            changed = {
                model: state
                for model, state in watcher.learned().items()
                if self.saved.get(model) != state
            }
            self.last_save = self.clock.now()
            if not changed or self.cache.save(self.base_url, changed):
                self.saved.update(changed)
                self.saved_count = count
        except Exception:  # never into the client: the durations are only an optimisation
            logger.warning("Could not save learned task durations", exc_info=True)


class _LoopTasks:
    """One event loop's part of a client: its task watcher and its background work."""

    def __init__(
        self,
        watcher: TaskWatcher,
        durations: _SavedDurations | None = None,
        shared: _SharedDurations | None = None,
    ) -> None:
        self.watcher = watcher
        self.durations = durations
        self.shared = shared
        self.kinds: dict[WatchKind, TaskWatcher] = {}
        self.background: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        tasks = list(self.background)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for watcher in list(self.kinds.values()):
            await watcher.aclose()
        await self.watcher.aclose()
        if self.durations is not None:
            self.durations.save()
        if self.shared is not None:
            await self.shared.close()


class CoreState:
    """What a client and its ``with_options`` copies share.

    The HTTP transport (its connection pools), one task watcher per event loop the client
    is used in (created lazily inside that loop, closed when the loop shuts down or the
    client closes), the background work of each loop, and the limiter (shared by every loop,
    and by other clients of the same organization).

    Args:
        http: The HTTP transport.
        poll_requester: Sends the watcher's GETs; it does not retry (the watcher's schedule
            does).
        poll: The watcher-wide poll settings.
        limiter: The per-model concurrency limiter.
        on_event: Called with every ``TaskEvent``, in the loop.
        clock: The clock of the watchers and of download retries (the limiter, shared
            across clients, keeps its own).

    """

    def __init__(
        self,
        *,
        http: HTTPTransport,
        poll_requester: APIRequester,
        poll: PollConfig,
        limiter: Limiter,
        on_event: Callable[[TaskEvent], object] | None,
        clock: Clock,
    ) -> None:
        self.http = http
        self.poll_requester = poll_requester
        self.poll = poll
        self.limiter = limiter
        self.on_event = on_event
        self.clock = clock
        self._by_loop: LoopLocal[_LoopTasks] = LoopLocal(_LoopTasks.close)
        self.closed = False
        self.uploads = UploadCache()
        """The local files the client uploaded for creates (by content), and their URIs."""
        self.binding: TaskWaiter | None = None
        """What the tasks the watchers poll are bound to: the client's own core (set by the
        first ``Core`` made on this state), so ``task.wait_for_task_output()`` works."""

    def loop_count(self) -> int:
        """How many event loops have a watcher now (for diagnostics and tests)."""
        return len(self._by_loop.values())

    async def poll_task(self, task_id: str) -> Task:
        """One GET of a task for a watcher: no retries (its schedule retries), bound."""
        response = await self.poll_requester.request("GET", task_path(task_id))
        return bind_fresh(task_from_reply(response.data, task_id), self.binding)

    def _loop_tasks(self) -> _LoopTasks:
        if self.closed:
            raise RuntimeError(CLIENT_CLOSED)
        return self._by_loop.get(self._new_loop_tasks)

    def _new_loop_tasks(self) -> _LoopTasks:
        """Return a loop's watcher, seeded from the duration cache (if on), and its work."""
        path = self.poll.duration_cache_in_force
        durations = None
        if path is not None:
            durations = _SavedDurations(
                DurationCache(path), self.poll_requester.base_url, self.clock
            )
        hooks: list[Callable[[], None]] = []
        sharing = self.limiter if isinstance(self.limiter, SharesDurations) else None

        def learned() -> None:
            for hook in hooks:
                hook()

        watcher = TaskWatcher(
            fetch=self.poll_task,
            poll=self.poll,
            limiter=self.limiter,
            on_event=self.on_event,
            clock=self.clock,
            durations=durations.saved if durations is not None else None,
            on_learned=learned if durations is not None or sharing is not None else None,
        )
        if durations is not None:
            durations.watcher = watcher
            hooks.append(durations.on_learned)
        shared = None
        if sharing is not None:
            shared = _SharedDurations(sharing, watcher, self.clock)
            hooks.append(shared.on_learned)
        tasks = _LoopTasks(watcher, durations, shared)
        if shared is not None:
            load = asyncio.get_running_loop().create_task(shared.load())
            tasks.background.add(load)
            load.add_done_callback(tasks.background.discard)
        return tasks

    def watcher(self) -> TaskWatcher:
        """Return the running loop's watcher, creating it on first use in that loop."""
        return self._loop_tasks().watcher

    def kind_watcher(self, kind: WatchKind) -> TaskWatcher:
        """Return the running loop's watcher of ``kind``, creating it on first use."""
        tasks = self._loop_tasks()
        watcher = tasks.kinds.get(kind)
        if watcher is None:
            watcher = tasks.kinds[kind] = TaskWatcher(
                fetch=lambda object_id: self._poll_object(kind, object_id),
                poll=self.poll,
                clock=self.clock,
                status_of=kind.status,
            )
        return watcher

    async def _poll_object(self, kind: WatchKind, object_id: str) -> Any:
        response = await self.poll_requester.request("GET", kind.path(object_id))
        return kind.parse(response.data, object_id)

    def current_watcher(self) -> TaskWatcher | None:
        """Return the running loop's watcher if it has one (and the state is open)."""
        if self.closed:
            return None
        tasks = self._by_loop.current()
        return tasks.watcher if tasks is not None else None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background of the running loop; closing cancels it."""
        background = self._loop_tasks().background
        task = asyncio.get_running_loop().create_task(coro)
        background.add(task)
        task.add_done_callback(background.discard)

    async def aclose(self) -> None:
        """Close every loop's watcher and background work, then the transport; idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            await self._by_loop.aclose()
        finally:
            await self.http.aclose()


class Core:
    """The engine of one configured client: what resources, handles and batches call.

    Args:
        requester: Sends API requests with this client's timeout and retries.
        state: What the client and its copies share.
        poll: How this client's tasks are polled.
        max_concurrency: Most tasks per model at once (see ``AsyncRunway``).
        slot_timeout: Seconds a create may wait for a slot.
        inline_max_bytes: Largest local file a create sends inline (0: always upload).
        validate: Check parameters against the spec before sending (``False``: leave
            everything to the server; keys are still converted to wire names).

    """

    def __init__(
        self,
        *,
        requester: APIRequester,
        state: CoreState,
        poll: PollConfig,
        max_concurrency: MaxConcurrency,
        slot_timeout: float | None,
        inline_max_bytes: int = 0,
        validate: bool = True,
    ) -> None:
        self.requester = requester
        self.state = state
        self.poll = poll
        self.max_concurrency = max_concurrency
        self.slot_timeout = slot_timeout
        self.inline_max_bytes = inline_max_bytes
        self.validate = validate
        self.allow_loopback_http = is_loopback_url(requester.base_url)
        if state.binding is None:
            state.binding = self  # the client's own core; with_options copies come later

    def __repr__(self) -> str:
        return f"<Core {self.requester.base_url}>"

    # -- settings (what downloads and batches read) --------------------------------------

    @property
    def http(self) -> HTTPTransport:
        """The HTTP transport."""
        return self.state.http

    @property
    def base_url(self) -> str:
        """The API base URL."""
        return self.requester.base_url

    @property
    def timeout(self) -> Timeout:
        """The per-request timeouts."""
        return self.requester.timeout

    @property
    def retry(self) -> RetryConfig:
        """The retry settings."""
        return self.requester.retry

    @property
    def clock(self) -> Clock:
        """The clock of the watchers and of download retries (not the limiter's)."""
        return self.state.clock

    @property
    def limiter(self) -> Limiter:
        """The per-model concurrency limiter."""
        return self.state.limiter

    @property
    def closed(self) -> bool:
        """Whether the shared state was closed."""
        return self.state.closed

    def configured(
        self,
        *,
        requester: APIRequester,
        poll: PollConfig,
        max_concurrency: MaxConcurrency,
        slot_timeout: float | None,
        inline_max_bytes: int | None = None,
        validate: bool | None = None,
    ) -> Core:
        """Return a core with other settings over the same shared state (``with_options``)."""
        return Core(
            requester=requester,
            state=self.state,
            poll=poll,
            max_concurrency=max_concurrency,
            slot_timeout=slot_timeout,
            inline_max_bytes=(
                self.inline_max_bytes if inline_max_bytes is None else inline_max_bytes
            ),
            validate=self.validate if validate is None else validate,
        )

    # -- requests -----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        options: CallOptions | None = None,
    ) -> Response:
        """Send one API request (retried by the policy) and return the successful reply.

        ``options.extra_body`` (if any) is merged into a mapping ``json`` (its keys win).
        """
        if options is not None and options.extra_body:
            json = {**(json if isinstance(json, Mapping) else {}), **options.extra_body}
        return await self.requester.request(
            method, path, json=json, params=params, idempotent=idempotent, options=options
        )

    async def call(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        *,
        before_send: Callable[[Mapping[str, Any]], None] | None = None,
        options: CallOptions | None = None,
    ) -> Response:
        """Validate and send one call of a plain (not task-creating) endpoint.

        Args:
            endpoint: The endpoint as on the client (``avatars.update``,
                ``organization.webapp.audit_logs.list``).
            params: The call's keyword arguments by their Python names, path parameters
                (``id``) included; ``None`` values are left out. A local file
                (``os.PathLike``) in a media member is checked with the rest, then uploaded
                (or inlined, per ``inline_max_bytes``) before the request is sent.
            before_send: Called synchronously with the JSON body after the uploads,
                immediately before the request is sent (a batch journals the job there).
            options: The call's ``extra_*`` and ``timeout`` (``extra_body`` and
                ``extra_query`` are merged in by wire name, and left unchecked).

        Returns:
            The successful reply (``data`` is the parsed JSON, ``None`` when empty).

        Raises:
            InvalidRequestError: A parameter is invalid, or a local file is given outside a
                media member or is unusable there; nothing was sent.

        """
        call, files = plain_request_with_files(
            endpoint,
            params,
            allow_loopback_http=self.allow_loopback_http,
            extra_body=options.extra_body if options is not None else None,
            extra_query=options.extra_query if options is not None else None,
            validate=self.validate,
        )
        body = call.body
        if files:
            body = await self.state.uploads.resolve(
                self, body, files, inline_max_bytes=self.inline_max_bytes
            )
        if before_send is not None:
            before_send(body)
        return await self.requester.request(
            call.method,
            call.path,
            json=body,
            params=call.query,
            idempotent=call.idempotent,
            options=options,
        )

    async def retrieve_organization(self, options: CallOptions | None = None) -> Organization:
        """Fetch ``GET /v1/organization``."""
        response = await self.request("GET", "/v1/organization", options=options)
        return structure(response.data, Organization)

    # -- tasks --------------------------------------------------------------------------

    def watcher(self) -> TaskWatcher:
        """Return the running loop's task watcher, creating it on first use in that loop."""
        return self.state.watcher()

    async def retrieve_task(self, task_id: str, options: CallOptions | None = None) -> Task:
        """Fetch a task's current state, bound to this core (it can wait)."""
        response = await self.request("GET", task_path(task_id), options=options)
        return bind_fresh(task_from_reply(response.data, task_id), self)

    async def cancel_task(self, task_id: str, options: CallOptions | None = None) -> None:
        """Cancel (or delete) a task; a watched one is polled again at once."""
        await self.request("DELETE", task_path(task_id), options=options)
        watcher = self.state.current_watcher()
        if watcher is not None:
            watcher.poke(task_id)

    async def wait_for_end(self, task_id: str, *, timeout: float | None) -> Task:
        """Wait until a task ends and return it, whatever its outcome."""
        task_path(task_id)
        return await self.watcher().wait(task_id, timeout=timeout, poll=self.poll)

    async def wait(self, task_id: str, *, timeout: float | None) -> SucceededTask:
        """Wait until a task ends; return it if it succeeded, else raise its outcome."""
        return raise_for_outcome(await self.wait_for_end(task_id, timeout=timeout))

    async def wait_resource(self, kind: WatchKind, object_id: str, *, timeout: float | None) -> Any:
        """Wait until an object of ``kind`` reaches a state that ends waits; return it.

        The object is polled by the loop's watcher of ``kind`` (shared GETs, the task
        schedule's floor and rate budget). It is returned whatever that state is (READY or
        FAILED, say): the caller decides what a failure raises.

        Raises:
            TaskTimeoutError: The deadline passed; ``task_details`` is the last object seen.
            APIStatusError: A non-retryable poll error (404, 401, ...).

        """
        check_task_id(object_id)
        return await self.state.kind_watcher(kind).wait(object_id, timeout=timeout, poll=self.poll)

    def resource_events(
        self, kind: WatchKind, object_id: str, *, buffer: int
    ) -> AsyncGenerator[TaskEvent, None]:
        """Return the event stream of one object of ``kind`` (its ``task`` is the object)."""
        check_task_id(object_id)
        return self.state.kind_watcher(kind).events(object_id, buffer=buffer)

    def task_events(self, task_id: str | None, *, buffer: int) -> AsyncGenerator[TaskEvent, None]:
        """Return the watcher's event stream of one task, or of every task (``None``)."""
        if task_id is not None:
            task_path(task_id)
        return self.watcher().events(task_id, buffer=buffer)

    # -- the create path ----------------------------------------------------------------

    def _limit_for(self, model: str) -> ModelLimit:
        setting = self.max_concurrency
        if isinstance(setting, Mapping):
            return setting.get(model, AUTO)
        return setting

    async def create_task(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        *,
        before_send: Callable[[Mapping[str, Any]], None] | None = None,
        options: CallOptions | None = None,
    ) -> TaskHandle:
        """Validate, wait for a concurrency slot, send one create and return its handle.

        The single create path: the slot is taken before the POST and handed to the
        watcher with the task, which releases it when it sees the task end. Local files
        (``os.PathLike``) in media parameters are checked with the rest, then uploaded (or
        inlined, per ``inline_max_bytes``) before the slot is taken; a failed upload raises
        before anything is created.

        Args:
            endpoint: The endpoint's resource path as on the client (``image_to_video``,
                ``recipes.product_ad``, ``generate.video``).
            params: The call's keyword arguments by their Python names; ``None`` values are
                left out.
            before_send: Called synchronously with the JSON body once the slot is granted
                and the files uploaded, immediately before the POST (a batch journals the
                job there). If it raises, nothing is sent and the slot is given back.
            options: The call's ``extra_*`` and ``timeout``: ``extra_body`` is merged into
                the body (the limiter counts the model of the body as sent), ``timeout``
                bounds the POST only (not the wait for a slot).

        """
        spec = get_endpoint(endpoint)
        given = {k: v for k, v in params.items() if v is not None}
        body, files = wire_body(
            endpoint,
            given,
            allow_loopback_http=self.allow_loopback_http,
            extra_body=options.extra_body if options is not None else None,
            validate=self.validate,
        )
        if files:
            body = await self.state.uploads.resolve(
                self, body, files, inline_max_bytes=self.inline_max_bytes
            )
        model = body.get(spec.discriminator) if spec.discriminator else None
        counted = _counted_model(endpoint, spec, body)
        watcher = self.watcher()
        limiter = self.limiter
        limited = counted is not None and self.max_concurrency is not None
        slot: Slot | None = None
        if limited and counted is not None:
            slot = await limiter.acquire(
                counted,
                limit=self._limit_for(counted),
                timeout=self.slot_timeout,
                on_wait=lambda: self._on_slot_wait(counted),
            )
        if before_send is not None:
            try:
                before_send(body)
            except BaseException:
                if slot is not None:
                    limiter.release(slot, created=False)
                raise
        try:
            mark_create_sent()  # a batch learns the request went out (see _create_signal)
            sent = self.clock.now()
            response = await self.requester.request(
                spec.method, spec.path, json=body, options=options
            )
            handle = self._handle_for(endpoint, spec, response, model, body)
        except BaseException as exc:
            if slot is not None:
                self._release_after_failed_create(slot, exc, watcher)
            if limited and isinstance(exc, RateLimitError):
                limiter.mark_stale()
                self._refresh_organization_soon()
            raise
        watcher.register_created(
            handle.id,
            model=counted if counted is not None else _routed_model(handle),
            slot=slot,
            poll=self.poll,
            sent=sent,
        )
        if limited and limiter.claim_refresh():
            # The first create of a process reads the organization's limits after its own
            # POST (one slot per model is always safe), so it never waits for them.
            await self._refresh_organization()
        return handle

    def _handle_for(
        self,
        endpoint: str,
        spec: EndpointSpec,
        response: Response,
        model: object,
        request_body: Mapping[str, Any],
    ) -> TaskHandle:
        """Return the handle of the task a create's successful reply names.

        Raises:
            AmbiguousSubmissionError: The reply is not a created task (not JSON, no task id,
                another shape): the server answered success, so the task may exist; nothing
                is re-sent. ``body`` is the reply, ``request_body`` what was sent.

        """
        try:
            return self._parse_created(endpoint, spec, response.data, model)
        except ResponseValidationError as exc:
            raise AmbiguousSubmissionError(
                f"{spec.method} {spec.path} was answered {response.status} with a reply that "
                "is not a created task, so the task may exist; it was not re-sent. Check your "
                f"tasks before submitting again. {exc.message}",
                method=spec.method,
                url=self.requester.url(spec.path),
                request_body=request_body,
                status_code=response.status,
                body=response.data,
            ) from exc

    def _parse_created(
        self, endpoint: str, spec: EndpointSpec, data: Any, model: object
    ) -> TaskHandle:
        if spec.response == "routed":
            routed = structure(data, RoutedTaskCreated)
            return TaskHandle(
                id=routed.id,
                endpoint=endpoint,
                model=routed.routing.model if routed.routing else None,
                estimated_cost=routed.routing.estimated_cost if routed.routing else None,
                routing=routed.routing,
                client=self,
                reply=routed,
            )
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not data["id"]:
            raise ResponseValidationError(
                f"{spec.path} replied without a task id.", method="POST", url=spec.path, body=data
            )
        created = structure(data, TaskCreated)
        return TaskHandle(
            id=created.id,
            endpoint=endpoint,
            model=model if isinstance(model, str) else None,
            estimated_cost=created.estimated_cost,
            client=self,
            reply=created,
        )

    def _release_after_failed_create(
        self, slot: Slot, exc: BaseException, watcher: TaskWatcher
    ) -> None:
        certain = isinstance(exc, APIStatusError) or (
            isinstance(exc, APIConnectionError) and not exc.sent
        )
        if certain:
            self.limiter.release(slot, created=False)
            return
        # Ambiguous (or cancelled mid-POST, or an unreadable reply): the task may be running
        # unseen, so its slot stays taken for as long as such a task takes.
        after = watcher.expected_duration(slot.model, self.poll)
        logger.info(
            "Create of a %s task may have been accepted; its slot frees in %.1f s",
            slot.model,
            after,
        )
        self.limiter.release(slot, after=after)

    def _on_slot_wait(self, model: str) -> None:
        """While a create waits for a slot: refresh the limits, adopt orphaned slots."""
        self._refresh_organization_soon()
        if self.state.closed:
            return
        watcher = self.watcher()
        for slot in self.limiter.orphans(model):
            watcher.adopt(slot)

    def _refresh_organization_soon(self) -> None:
        """Read the organization's limits in the background, if the limiter wants them."""
        if not self.state.closed and self.limiter.claim_refresh():
            self.state.spawn(self._refresh_organization())

    async def _refresh_organization(self) -> None:
        """Read ``GET /v1/organization`` for the limiter (after it granted the claim)."""
        limiter = self.limiter
        try:
            organization = await self.retrieve_organization()
        except asyncio.CancelledError:
            limiter.refresh_failed(abandoned=True)
            raise
        except Exception as exc:  # any failure: the limiter fails open and retries later
            logger.info("Could not read the organization's limits: %s", exc)
            limiter.refresh_failed()
        else:
            limiter.update_organization(organization)


def _counted_model(endpoint: str, spec: EndpointSpec, body: Mapping[str, Any]) -> str | None:
    """Return the model a create counts against for limits (``None``: not known before)."""
    if endpoint.startswith("recipes."):
        return endpoint.partition(".")[2]  # the API bills and limits recipes by name
    if spec.response == "routed":
        return None  # the router picks the model after the request
    model = body.get("model") if spec.discriminator == "model" else None
    return model if isinstance(model, str) else None


def _routed_model(handle: TaskHandle) -> str | None:
    return handle.routing.model if handle.routing is not None else handle.model
