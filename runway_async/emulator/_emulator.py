"""``Emulator``: start, stop and script a local Runway API server, in a loop or a thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from aiohttp import web

from .._config import is_loopback_host
from ._config import KEEP, EmulatorConfig, Keep, Limit, LimitSetting
from ._faults import FaultKind, FaultQueue
from ._media import MediaKind
from ._server import EmulatorApp
from ._state import Simulation

__all__ = ["Emulator", "EmulatorThread"]

_THREAD_START_TIMEOUT = 30.0


class Emulator:
    """A stateful local Runway API server, for demos, tests and benchmarks.

    Use ``async with Emulator() as emu:`` (or ``await emu.start()`` / ``await emu.stop()``)
    inside an event loop, or ``with Emulator().in_thread() as emu:`` from sync code. Point a
    client at ``emu.url`` with any API key. The arguments are those of ``EmulatorConfig``.

    Args:
        concurrency: Tasks per model running at once (int, per-model mapping, ``None``).
        daily_limit: Tasks per model created per 24 h (int, per-model mapping, ``None``).
        time_scale: Real seconds per API second (``0.001``: a 30 s task takes 30 ms).
        durations: Generation time in API seconds by model name or media kind.
        jitter: Fraction by which each task's duration varies either way.
        failure_rate: Probability that a task ends FAILED.
        seed: Seed of every random choice.
        api_key: The only token accepted; ``None`` accepts any non-empty one.
        host: Interface to listen on: loopback (``127.0.0.1``) by default; any other host
            warns (``UserWarning``), since the emulator has no real security.
        port: Port to listen on; 0 picks a free one.
        spec_mock: Stateless-mock compatibility for the official SDK's test suite.
        fault_rates: Probability of each fault kind per task-creating POST.
        fault_delay: Seconds of a random ``latency`` or ``hold_after`` fault.
        pending_seconds: API seconds a task stays PENDING before it runs.
        credit_balance: Credits the organization starts with.
        upload_max_bytes: The largest file an upload's storage POST accepts.
        upload_lifetime: API seconds an upload's ``runway://`` URI stays usable.
        avatar_seconds: API seconds an avatar stays PROCESSING.
        voice_seconds: API seconds a custom voice stays PROCESSING.
        session_ready_seconds: API seconds a realtime session stays NOT_READY.
        session_seconds: API seconds a consumed realtime session runs.
        extra_models: Model names the spec does not know, accepted anyway, by task endpoint
            (``{"image_to_video": ["gen5"]}``); see ``accept_model``.

    A create naming a model the spec does not know gets 400 (the API refuses a model it
    does not have), unless the model was accepted with ``extra_models`` or
    ``accept_model``: then it is checked as the client checks an unknown model (JSON types
    of the members any model of the endpoint has, media URIs), runs the normal lifecycle
    with the limits of ``concurrency`` and ``daily_limit`` (their defaults for models not
    named there), and is listed in ``GET /v1/organization``'s tier. That is how to test the
    day Runway ships a model this package's spec lacks.

    """

    def __init__(
        self,
        *,
        concurrency: LimitSetting = 5,
        daily_limit: LimitSetting = 10_000,
        time_scale: float = 1.0,
        durations: Mapping[str, float] | None = None,
        jitter: float = 0.1,
        failure_rate: float = 0.0,
        seed: int | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        spec_mock: bool = False,
        fault_rates: Mapping[FaultKind | str, float] | None = None,
        fault_delay: float = 1.0,
        pending_seconds: float = 0.5,
        credit_balance: int = 1_000_000,
        upload_max_bytes: int = 200 * 1024 * 1024,
        upload_lifetime: float = 86_400.0,
        avatar_seconds: float = 5.0,
        voice_seconds: float = 3.0,
        session_ready_seconds: float = 2.0,
        session_seconds: float = 30.0,
        extra_models: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        config = EmulatorConfig(
            concurrency=concurrency,
            daily_limit=daily_limit,
            time_scale=time_scale,
            durations=durations,
            jitter=jitter,
            failure_rate=failure_rate,
            seed=seed,
            api_key=api_key,
            host=host,
            port=port,
            spec_mock=spec_mock,
            fault_rates=fault_rates or {},
            fault_delay=fault_delay,
            pending_seconds=pending_seconds,
            credit_balance=credit_balance,
            upload_max_bytes=upload_max_bytes,
            upload_lifetime=upload_lifetime,
            avatar_seconds=avatar_seconds,
            voice_seconds=voice_seconds,
            session_ready_seconds=session_ready_seconds,
            session_seconds=session_seconds,
            extra_models=extra_models or {},
        )
        self._setup(config)

    @classmethod
    def from_config(
        cls,
        config: EmulatorConfig,
        *,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> Emulator:
        """Return an emulator (not started) with the settings of ``config``.

        Args:
            config: The settings.
            clock: Real monotonic seconds driving simulated time; inject a fake one to
                step time by hand in tests (default ``time.monotonic``).
            wall_clock: The current UTC time, for ``createdAt`` and daily accounting.

        Returns:
            The emulator.

        """
        emulator = cls.__new__(cls)
        emulator._setup(config, clock=clock, wall_clock=wall_clock)
        return emulator

    def _setup(
        self,
        config: EmulatorConfig,
        *,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not is_loopback_host(config.host):
            # __init__ or from_config -> _setup -> here: the warning names the caller's line.
            warnings.warn(
                f"The emulator will listen on {config.host or 'every interface'!r}, beyond "
                "this machine: it has no real security, and anyone who can reach it can use "
                "it and fetch every output. Keep the default host 127.0.0.1 unless other "
                "machines must reach it.",
                UserWarning,
                stacklevel=3,
            )
        self._config = config
        simulation = Simulation(config, clock=clock or time.monotonic, wall_clock=wall_clock)
        self._server = EmulatorApp(config, simulation=simulation)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # -- properties ---------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        """The emulator's settings."""
        return self._config

    @property
    def url(self) -> str:
        """The base URL to give clients (``http://127.0.0.1:PORT``), once started.

        Raises:
            RuntimeError: The emulator is not running.

        """
        if self._url is None:
            raise RuntimeError("The emulator is not running; start it first.")
        return self._url

    @property
    def port(self) -> int:
        """The port it listens on, once started."""
        return int(self.url.rsplit(":", 1)[1])

    @property
    def api_key(self) -> str:
        """An API key the emulator accepts: the configured one, else a well-formed dummy."""
        return self._config.api_key or "key_" + "0" * 128

    @property
    def faults(self) -> FaultQueue:
        """The fault queue: ``emu.faults.inject("error_after", count=2)``."""
        return self._server.faults

    @property
    def simulation(self) -> Simulation:
        """The task simulation, for inspecting tasks directly in tests."""
        return self._server.simulation

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._url is not None

    def env(self) -> dict[str, str]:
        """Return the environment variables that point SDKs at this emulator.

        Returns:
            ``RUNWAYML_BASE_URL`` and ``RUNWAYML_API_SECRET``.

        """
        return {"RUNWAYML_BASE_URL": self.url, "RUNWAYML_API_SECRET": self.api_key}

    def __repr__(self) -> str:
        where = self._url or "not running"
        return f"<Emulator {where}>"

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> str:
        """Start listening; idempotent.

        Returns:
            The base URL.

        """
        if self._runner is not None:
            return self.url
        runner = web.AppRunner(self._server.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._config.host, self._config.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        self._url = f"http://{shown}:{port}"
        return self._url

    async def stop(self) -> None:
        """Stop listening and release held replies; idempotent. State is kept."""
        runner, self._runner = self._runner, None
        self._url = None
        if runner is None:
            return
        self._server.closing().set()
        try:
            await runner.cleanup()
        finally:
            self._server.reset_closing()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def in_thread(self) -> EmulatorThread:
        """Return a context manager that runs the emulator in a daemon thread, for sync code.

        Returns:
            ``with emu.in_thread() as emu:`` gives the started emulator; leaving the block
            stops it and its thread.

        """
        return EmulatorThread(self)

    # -- control ------------------------------------------------------------------------

    def metrics(self, *, tasks: bool = False) -> dict[str, Any]:
        """Return the metrics document, as ``GET /_emulator/metrics`` does.

        Args:
            tasks: Also include every task's timeline, as ``?tasks=1`` does.

        Returns:
            A JSON-ready dict with:

            * ``requests``: ``{"POST /v1/text_to_image": {"200": 3, "503": 1}, ...}``
              (``dropped`` for dropped connections, ``held`` for replies never sent);
            * ``tasks_created`` (per model) and ``tasks_created_total``;
            * ``tasks_by_status``, ``running`` and ``max_running`` (most simultaneous
              RUNNING) per model;
            * ``throttled_seconds``: API seconds spent THROTTLED, ``total`` and ``models``;
            * ``duplicate_bodies`` (bodies created more than once) and ``duplicate_creates``
              (the extra creates they account for);
            * ``detection_lag``: per task id, the delay between reaching a terminal status
              and the first GET that saw it, in ``api_seconds`` and ``real_seconds``;
            * ``detection_lag_summary``: ``count`` and p50/p95 of those delays;
            * ``polls``: GETs of created tasks, ``total``, ``mean_per_task`` and
              ``max_per_task``;
            * ``peak_requests_per_second``: per route, the most requests in one real second;
            * ``tasks`` (only when asked): per task id, ``model``, ``status``, ``created``,
              ``admitted``, ``started``, ``ended``, ``seen`` (when a GET first returned
              its end; ``None`` until one did) and ``duration`` in API seconds, and
              ``polls``;
            * ``now`` (simulated seconds since the reset) and ``faults_pending``.

        """
        return self._server.metrics(tasks=tasks)

    def reset(self) -> None:
        """Clear every task, usage record, metric and queued fault (accepted models stay).

        Limits changed with ``set_limits`` go back to the configured ones.
        """
        self._server.reset()

    def accept_model(self, endpoint: str, model: str) -> None:
        """Accept a model the spec does not know on a task endpoint, from now on; thread-safe.

        As if Runway had just shipped it: creates naming it are checked as the client checks
        an unknown model (JSON types, media URIs) and run like any other model's, limited by
        ``concurrency`` and ``daily_limit``; the organization's tier lists it. Accepting a
        model twice, or one the spec knows, changes nothing. Over HTTP (an emulator in
        another process): ``POST /_emulator/models {"endpoint": ..., "model": ...}``.

        Args:
            endpoint: A task endpoint told apart by ``model`` (``image_to_video``).
            model: The model name (``gen5``).

        Raises:
            ValueError: ``endpoint`` takes no model, or ``model`` is not a non-blank string.

        """
        self._server.accept_model(endpoint, model)

    def set_limits(
        self,
        model: str,
        *,
        max_concurrent_generations: Limit | Keep = KEEP,
        daily_limit: Limit | Keep = KEEP,
    ) -> None:
        """Change one model's limits while the emulator runs, as Runway may; thread-safe.

        ``GET /v1/organization`` reports the new limits at once. A lower concurrency cap
        lets the tasks already RUNNING (or PENDING) run on, and makes new ones wait
        THROTTLED until fewer than the cap hold a slot; a higher cap starts THROTTLED tasks
        at once, oldest first. A daily limit at or below the creates of the past 24 hours
        makes further creates 429. A limit left out stays as it is; ``reset()`` restores
        the configured ones. Over HTTP (an emulator in another process): ``POST
        /_emulator/limits {"model": ..., "maxConcurrentGenerations": ..., "dailyLimit":
        ...}`` (either limit may be left out; ``null`` means unlimited).

        Args:
            model: A model the emulator knows (the spec's, one accepted with
                ``accept_model``, or ``"workflow"`` for workflow invocations).
            max_concurrent_generations: Tasks of ``model`` that may run at once, or
                ``None`` for unlimited.
            daily_limit: Tasks of ``model`` that may be created per 24 hours, or ``None``
                for unlimited.

        Raises:
            ValueError: ``model`` is unknown, no limit is given, a limit is not an integer
                >= 0 or ``None``, or the emulator is in ``spec_mock`` mode (no limits).

        """
        self._server.set_limits(
            model, max_concurrent_generations=max_concurrent_generations, daily_limit=daily_limit
        )

    def add_workflow(
        self,
        name: str,
        *,
        nodes: Mapping[str, MediaKind | Sequence[MediaKind]] | None = None,
        inputs: Mapping[str, Mapping[str, Any]] | None = None,
        duration: float | None = None,
        fail: bool | str = False,
        node_errors: Mapping[str, str] | None = None,
        credits: int | None = None,
        description: str | None = None,
        graph: Mapping[str, Any] | None = None,
        api_key: str | None = None,
    ) -> str:
        """Publish a workflow version that ``workflows.run`` can invoke; thread-safe.

        Publishing again under the same ``name`` adds a version (numbered 1, 2, ...). An
        invocation goes through the task lifecycle (PENDING, RUNNING with ``progress`` and
        the outputs of finished nodes, then SUCCEEDED or FAILED), counts against the
        concurrency and daily limits of the pseudo-model ``"workflow"``
        (``concurrency={"workflow": 1}``) and can be hit by the configured random failures
        and faults. Output node ``n`` of ``N`` finishes at ``(n + 1) / N`` of the run; its
        files are served like task outputs.

        Args:
            name: The workflow's name.
            nodes: Output nodes: node id to the media kind of each file it produces
                (``{"poster": "image", "clips": ["video", "video"]}``); default
                ``{"output": "image"}``.
            inputs: Input nodes whose values ``nodeOutputs`` may override: node id to
                ``{output key: typed value}`` (``{"prompt": {"text": {"type": "primitive",
                "value": "a fox"}}}``). A run naming a node the workflow lacks gets a 400.
            duration: How long an invocation runs, in API seconds (exactly; default: the
                configured duration of ``"workflow"`` or of its first output's kind).
            fail: ``True`` or a ``failureCode``: every invocation ends FAILED, its last
                output node erroring (the nodes before it deliver their files).
            node_errors: Output nodes that error (node id to ``failureCode``) while the
                invocation still SUCCEEDS: they appear in ``nodeErrors``, not ``output``.
            credits: The cost of a successful invocation (default 5 per output file).
            description: The workflow's description.
            graph: The ``graph`` that ``workflows.retrieve`` answers (``{version, nodes,
                edges}``); default: one built from ``inputs`` and ``nodes``.
            api_key: The only API key that sees the workflow; ``None``: every key.

        Returns:
            The published version's id (what ``workflows.run`` takes).

        Raises:
            ValueError: An argument is not valid.

        """
        return self._server.resources_b.add_workflow(
            name,
            nodes=nodes,
            inputs=inputs,
            duration=duration,
            fail=fail,
            node_errors=node_errors,
            credits=credits,
            description=description,
            graph=graph,
            api_key=api_key,
        )


class EmulatorThread:
    """Runs an ``Emulator`` on its own event loop in a daemon thread.

    Args:
        emulator: The emulator to run.

    """

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Emulator:
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._emulator.start())
            except BaseException as exc:  # reported to the starting thread
                ready.set_exception(exc)
                loop.close()
                return
            ready.set_result(None)
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=serve, name="runway-emulator", daemon=True)
        thread.start()
        ready.result(timeout=_THREAD_START_TIMEOUT)
        self._loop, self._thread = loop, thread
        return self._emulator

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._emulator.stop(), loop).result(
                timeout=_THREAD_START_TIMEOUT
            )
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=_THREAD_START_TIMEOUT)
