"""The async client, ``AsyncRunway``."""

from __future__ import annotations

import asyncio
import logging
import os
import urllib.parse
import warnings
from collections.abc import AsyncIterable, Callable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import Any, Final

import attrs

from ._batch import (
    DEFAULT_GRACE_PERIOD,
    Batch,
    BatchJournal,
    BatchResult,
    Job,
    mark_create_sent,
    run_batch,
)
from ._config import (
    DEFAULT_RUNWAY_VERSION,
    PollConfig,
    RetryConfig,
    Timeout,
    check_seconds,
    is_loopback_host,
    resolve_api_key,
    resolve_base_url,
    setup_logging_from_env,
)
from ._convert import structure
from ._download import DEFAULT_DOWNLOAD_TIMEOUT, DownloadedFile, download_outputs
from ._events import TaskEvent
from ._exceptions import (
    AmbiguousSubmissionError,
    APIConnectionError,
    APIStatusError,
    RateLimitError,
    ResponseValidationError,
)
from ._limits import (
    AUTO,
    InProcessLimiter,
    Limiter,
    MaxConcurrency,
    ModelLimit,
    Slot,
    check_max_concurrency,
)
from ._loops import LoopLocal
from ._models import RoutedTaskCreated, Task, TaskCreated
from ._resources.generation import (
    AvatarVideos,
    CharacterPerformance,
    Generate,
    ImageToVideo,
    ImageUpscale,
    Recipes,
    SoundEffect,
    SpeechToSpeech,
    TextToImage,
    TextToSpeech,
    TextToVideo,
    VideoToAudio,
    VideoToHdr,
    VideoToVideo,
    VideoUpscale,
    VoiceDubbing,
    VoiceIsolation,
)
from ._resources.organization import Organization
from ._resources.tasks import Tasks
from ._spec import EndpointSpec, get_endpoint, to_wire
from ._tasks import TaskHandle, TaskWatcher
from ._transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    Response,
    Secret,
    Transport,
    check_max_response_bytes,
)

__all__ = ["AsyncRunway", "AsyncRunwayML"]

logger = logging.getLogger("runway_async")


class _NotGiven:
    """The default of ``with_options`` arguments for which ``None`` means something."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven()


class _LoopTasks:
    """One event loop's part of a client: its task watcher and its background work."""

    def __init__(self, watcher: TaskWatcher) -> None:
        self.watcher = watcher
        self.background: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        tasks = list(self.background)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.watcher.aclose()


class _Shared:
    """What a client and its ``with_options`` copies share: the watchers, limiter and tasks.

    One watcher per event loop the client is used in, created lazily inside that loop like
    the HTTP session, and closed when that loop shuts down or the client is closed. The
    limiter is shared by every loop (and by other clients with the same key).
    """

    def __init__(
        self,
        *,
        transport: Transport,
        poll: PollConfig,
        limiter: Limiter,
        on_event: Callable[[TaskEvent], object] | None,
    ) -> None:
        # Polls are retried by the watcher's own schedule, never in quick succession.
        self.poll_transport = transport.copy(retry=attrs.evolve(transport.retry, max_retries=0))
        self.poll = poll
        self.limiter = limiter
        self.on_event = on_event
        self._by_loop: LoopLocal[_LoopTasks] = LoopLocal(_LoopTasks.close)
        self.closed = False

    def _state(self, client: AsyncRunway) -> _LoopTasks:
        if self.closed:
            raise RuntimeError("This client is closed; create a new one.")
        return self._by_loop.get(
            lambda: _LoopTasks(
                TaskWatcher(
                    client=client,
                    transport=self.poll_transport,
                    poll=self.poll,
                    limiter=self.limiter,
                    on_event=self.on_event,
                )
            )
        )

    def get_watcher(self, client: AsyncRunway) -> TaskWatcher:
        """Return the running loop's watcher, creating it on first use in that loop."""
        return self._state(client).watcher

    def current_watcher(self) -> TaskWatcher | None:
        """Return the running loop's watcher if it has one."""
        state = self._by_loop.current()
        return state.watcher if state is not None else None

    def spawn(self, client: AsyncRunway, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background of the running loop; closing cancels it."""
        background = self._state(client).background
        task = asyncio.get_running_loop().create_task(coro)
        background.add(task)
        task.add_done_callback(background.discard)

    async def close(self) -> None:
        self.closed = True
        await self._by_loop.aclose()


class AsyncRunway:
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
        timeout: Per-request deadline in seconds, or a ``Timeout``.
        max_retries: Retries after a failed attempt (see the retry policy in the README).
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

    """

    tasks: Tasks
    organization: Organization
    image_to_video: ImageToVideo
    text_to_video: TextToVideo
    video_to_video: VideoToVideo
    text_to_image: TextToImage
    character_performance: CharacterPerformance
    image_upscale: ImageUpscale
    video_upscale: VideoUpscale
    video_to_hdr: VideoToHdr
    video_to_audio: VideoToAudio
    sound_effect: SoundEffect
    text_to_speech: TextToSpeech
    speech_to_speech: SpeechToSpeech
    voice_dubbing: VoiceDubbing
    voice_isolation: VoiceIsolation
    avatar_videos: AvatarVideos
    recipes: Recipes
    generate: Generate

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        runway_version: str = DEFAULT_RUNWAY_VERSION,
        timeout: float | Timeout = 60.0,
        max_retries: int | None = None,
        session: object | None = None,
        retry: RetryConfig | None = None,
        poll: PollConfig | None = None,
        default_headers: Mapping[str, str] | None = None,
        limiter: Limiter | None = None,
        max_concurrency: MaxConcurrency = AUTO,
        slot_timeout: float | None = None,
        on_event: Callable[[TaskEvent], object] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        # From here on the key lives only inside a Secret, so no frame of this constructor
        # shows it among its locals in a traceback (capture_locals, Sentry, pytest -l).
        key = Secret(resolve_api_key(api_key))
        del api_key
        setup_logging_from_env()
        check_max_concurrency(max_concurrency)
        check_seconds("slot_timeout", slot_timeout, allow_none=True)
        check_max_response_bytes(max_response_bytes)
        retry = retry or RetryConfig()
        if max_retries is not None:
            retry = _evolve_retry(retry, max_retries)
        resolved_url = resolve_base_url(base_url)
        transport = Transport(
            base_url=resolved_url,
            api_key=key,
            runway_version=runway_version,
            timeout=Timeout.coerce(timeout),
            retry=retry,
            session=session,
            default_headers=default_headers,
            max_response_bytes=max_response_bytes,
        )
        poll = poll or PollConfig()
        shared = _Shared(
            transport=transport,
            poll=poll,
            limiter=limiter or InProcessLimiter.shared(key.reveal(), resolved_url),
            on_event=on_event,
        )
        self._init(
            transport,
            poll,
            owner=True,
            shared=shared,
            max_concurrency=max_concurrency,
            slot_timeout=slot_timeout,
        )

    def _init(
        self,
        transport: Transport,
        poll: PollConfig,
        *,
        owner: bool,
        shared: _Shared,
        max_concurrency: MaxConcurrency,
        slot_timeout: float | None,
    ) -> None:
        self._transport = transport
        self._poll = poll
        self._owner = owner
        self._shared = shared
        self._max_concurrency = max_concurrency
        self._slot_timeout = slot_timeout
        self._allow_loopback_http = is_loopback_host(
            urllib.parse.urlsplit(transport.base_url).hostname
        )
        self.tasks = Tasks(self)
        self.organization = Organization(self)
        self.image_to_video = ImageToVideo(self)
        self.text_to_video = TextToVideo(self)
        self.video_to_video = VideoToVideo(self)
        self.text_to_image = TextToImage(self)
        self.character_performance = CharacterPerformance(self)
        self.image_upscale = ImageUpscale(self)
        self.video_upscale = VideoUpscale(self)
        self.video_to_hdr = VideoToHdr(self)
        self.video_to_audio = VideoToAudio(self)
        self.sound_effect = SoundEffect(self)
        self.text_to_speech = TextToSpeech(self)
        self.speech_to_speech = SpeechToSpeech(self)
        self.voice_dubbing = VoiceDubbing(self)
        self.voice_isolation = VoiceIsolation(self)
        self.avatar_videos = AvatarVideos(self)
        self.recipes = Recipes(self)
        self.generate = Generate(self)

    @property
    def base_url(self) -> str:
        """The API base URL."""
        return self._transport.base_url

    @property
    def timeout(self) -> Timeout:
        """The per-request timeouts."""
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        """Retries after a failed attempt."""
        return self._transport.retry.max_retries

    @property
    def poll(self) -> PollConfig:
        """How this client's tasks are polled."""
        return self._poll

    @property
    def limiter(self) -> Limiter:
        """The per-model concurrency limiter (shared with same-key clients by default)."""
        return self._shared.limiter

    @property
    def max_concurrency(self) -> MaxConcurrency:
        """Most tasks per model at once (``"auto"``: the organization's limit)."""
        return self._max_concurrency

    @property
    def slot_timeout(self) -> float | None:
        """Seconds a create may wait for a concurrency slot."""
        return self._slot_timeout

    def __repr__(self) -> str:
        transport = getattr(self, "_transport", None)  # a half-built client, in a traceback
        return f"<AsyncRunway base_url={transport.base_url if transport else None!r}>"

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryConfig | None = None,
        poll: PollConfig | None = None,
        max_concurrency: MaxConcurrency | _NotGiven = NOT_GIVEN,
        slot_timeout: float | _NotGiven | None = NOT_GIVEN,
        max_response_bytes: int | None = None,
    ) -> AsyncRunway:
        """Return a copy with other settings that shares this client's connection pool.

        The copy also shares the task watcher and the limiter. It does not own them:
        closing it is a no-op; close the original.

        Args:
            timeout: Per-request deadline in seconds, or a ``Timeout``.
            max_retries: Retries after a failed attempt.
            retry: Full retry settings.
            poll: Polling settings for the tasks the copy creates or waits for (the
                watcher-wide ``max_in_flight`` and ``requests_per_second`` stay the
                original's).
            max_concurrency: Per-model caps for the copy's creates (see ``AsyncRunway``).
            slot_timeout: Seconds the copy's creates may wait for a slot.
            max_response_bytes: Largest API reply the copy reads (the shared watcher's
                polls keep the original's).

        """
        if max_response_bytes is not None:
            check_max_response_bytes(max_response_bytes)
        new_retry = retry or self._transport.retry
        if max_retries is not None:
            new_retry = _evolve_retry(new_retry, max_retries)
        transport = self._transport.copy(
            timeout=Timeout.coerce(timeout) if timeout is not None else None,
            retry=new_retry,
            max_response_bytes=max_response_bytes,
        )
        if not isinstance(max_concurrency, _NotGiven):
            check_max_concurrency(max_concurrency)
        if not isinstance(slot_timeout, _NotGiven):
            check_seconds("slot_timeout", slot_timeout, allow_none=True)
        clone = object.__new__(type(self))
        clone._init(
            transport,
            poll or self._poll,
            owner=False,
            shared=self._shared,
            max_concurrency=(
                self._max_concurrency if isinstance(max_concurrency, _NotGiven) else max_concurrency
            ),
            slot_timeout=(
                self._slot_timeout if isinstance(slot_timeout, _NotGiven) else slot_timeout
            ),
        )
        return clone

    async def download(
        self,
        task_or_url: Task | TaskHandle | str,
        directory: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
        max_retries: int | None = None,
        max_bytes: int | None = None,
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
            max_bytes: Refuse files larger than this.

        Returns:
            One ``DownloadedFile`` per output.

        """
        return await download_outputs(
            self,
            task_or_url,
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
        journal: BatchJournal | None = None,
        grace_period: float = DEFAULT_GRACE_PERIOD,
    ) -> Batch:
        """Start running many jobs and return the ``Batch`` (call it inside the event loop).

        ``async for result in batch`` yields each job's ``BatchResult`` as it finishes;
        ``await batch.gather()`` returns them all in input order. A job that fails is a
        result with its error, never an exception. When the batch stops (``cancel()``, its
        ``deadline``), creates already sent and downloads under way get ``grace_period``
        seconds to finish, and a task that already ended is never cancelled (nor deleted).
        See ``run_batch`` for the details.
        """
        return run_batch(
            self,
            jobs,
            max_in_flight=max_in_flight,
            deadline=deadline,
            download_to=download_to,
            cancel_server_tasks_on_cancel=cancel_server_tasks_on_cancel,
            on_result=on_result,
            journal=journal,
            grace_period=grace_period,
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
        response = await self._transport.request(method, path, json=json, params=params)
        return response.data

    def _watcher(self) -> TaskWatcher:
        """Return the task watcher, creating it in the running loop on first use."""
        return self._shared.get_watcher(self)

    def _limit_for(self, model: str) -> ModelLimit:
        setting = self._max_concurrency
        if isinstance(setting, Mapping):
            return setting.get(model, AUTO)
        return setting

    async def _create_task(self, endpoint: str, params: Mapping[str, Any]) -> TaskHandle:
        """Validate, wait for a concurrency slot, send one create and return its handle.

        The single create path: the slot is taken before the POST and handed to the
        watcher with the task, which releases it when it sees the task end.
        """
        spec = get_endpoint(endpoint)
        given = {k: v for k, v in params.items() if v is not None}
        body = to_wire(endpoint, given, allow_loopback_http=self._allow_loopback_http)
        model = body.get(spec.discriminator) if spec.discriminator else None
        counted = _counted_model(endpoint, spec, body)
        watcher = self._watcher()
        limiter = self._shared.limiter
        limited = counted is not None and self._max_concurrency is not None
        slot: Slot | None = None
        if limited and counted is not None:
            slot = await limiter.acquire(
                counted,
                limit=self._limit_for(counted),
                timeout=self._slot_timeout,
                on_wait=lambda: self._on_slot_wait(counted),
            )
        try:
            mark_create_sent()  # a batch learns the request went out (see _batch.CREATE_SENT)
            response = await self._transport.request(spec.method, spec.path, json=body)
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
            poll=self._poll,
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
                url=self._transport.url(spec.path),
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
        )

    def _release_after_failed_create(
        self, slot: Slot, exc: BaseException, watcher: TaskWatcher
    ) -> None:
        limiter = self._shared.limiter
        certain = isinstance(exc, APIStatusError) or (
            isinstance(exc, APIConnectionError) and not exc.sent
        )
        if certain:
            limiter.release(slot, created=False)
            return
        # Ambiguous (or cancelled mid-POST, or an unreadable reply): the task may be running
        # unseen, so its slot stays taken for as long as such a task takes.
        after = watcher.expected_duration(slot.model, self._poll)
        logger.info(
            "Create of a %s task may have been accepted; its slot frees in %.1f s",
            slot.model,
            after,
        )
        limiter.release(slot, after=after)

    def _on_slot_wait(self, model: str) -> None:
        """While a create waits for a slot: refresh the limits, adopt orphaned slots."""
        self._refresh_organization_soon()
        orphans = getattr(self._shared.limiter, "orphans", None)
        if orphans is None or self._shared.closed:
            return
        watcher = self._watcher()
        for slot in orphans(model):
            watcher.adopt(slot)

    def _refresh_organization_soon(self) -> None:
        """Read the organization's limits in the background, if the limiter wants them."""
        if not self._shared.closed and self._shared.limiter.claim_refresh():
            self._shared.spawn(self, self._refresh_organization())

    async def _refresh_organization(self) -> None:
        """Read ``GET /v1/organization`` for the limiter (after it granted the claim)."""
        limiter = self._shared.limiter
        try:
            organization = await self.organization.retrieve()
        except asyncio.CancelledError:
            limiter.refresh_failed(abandoned=True)
            raise
        except Exception as exc:  # any failure: the limiter fails open and retries later
            logger.info("Could not read the organization's limits: %s", exc)
            limiter.refresh_failed()
        else:
            limiter.update_organization(organization)

    async def aclose(self) -> None:
        """Close the watcher and the HTTP session this client created; idempotent.

        Pending waits fail; slots of tasks still running are released at their expected
        end. Copies close nothing.
        """
        if self._owner:
            try:
                await self._shared.close()
            finally:
                await self._transport.aclose()

    async def close(self) -> None:
        """Close the client (same as ``aclose``, the official SDK's name)."""
        await self.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether ``aclose()`` has been called."""
        return self._transport.closed

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
        transport = getattr(self, "_transport", None)
        if getattr(self, "_owner", False) and transport is not None and transport.owns_open_session:
            _warn(
                f"Unclosed {self!r}: use 'async with AsyncRunway()' or 'await client.aclose()'.",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )


def _evolve_retry(retry: RetryConfig, max_retries: int) -> RetryConfig:
    return attrs.evolve(retry, max_retries=max_retries)


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


AsyncRunwayML = AsyncRunway
"""The official SDK's name for the async client, kept for migration."""
