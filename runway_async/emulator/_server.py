"""The emulator's HTTP surface: aiohttp.web routes over the simulation in ``_state``.

Middlewares, outermost first: request metrics, fault injection, authentication and version.
Handlers are thin: parse, validate with ``runway_async._spec``, call the simulation, render
with ``runway_async._models`` so replies have exactly the shapes the client parses.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from aiohttp import web

from .._config import DEFAULT_RUNWAY_VERSION
from .._convert import unstructure
from .._models import (
    CancelledTask,
    Cost,
    FailedTask,
    PendingTask,
    RunningTask,
    SucceededTask,
    TaskCreated,
    ThrottledTask,
)
from .._spec import validate_wire
from . import _catalog
from ._config import KEEP, EmulatorConfig, Keep, Limit, check_extra_model, check_limit
from ._faults import (
    DEFAULT_ENDLESS_INTERVAL,
    DEFAULT_OVERSIZED_BYTES,
    Fault,
    FaultKind,
    FaultQueue,
    parse_fault,
)
from ._media import MEDIA, media_for_extension
from ._resources_a import ResourcesA
from ._resources_a import register as register_resources_a
from ._resources_b import ResourcesB
from ._resources_b import register as register_resources_b
from ._state import PSEUDO_WORKFLOW_MODEL, DailyLimitExceeded, Simulation, TaskRecord

__all__ = ["RUNWAY_VERSION", "EmulatorApp"]

RUNWAY_VERSION: Final = DEFAULT_RUNWAY_VERSION
"""The only ``X-Runway-Version`` the emulator accepts (the one the client sends)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_USAGE_DAYS: Final = 90
_DEFAULT_USAGE_DAYS: Final = 30
_OUTPUT_NAME: Final = re.compile(r"^(\d+)\.([a-z0-9]+)$")
# Control routes are for the test harness; counting them would make the metrics about
# the act of reading the metrics.
_UNCOUNTED_PREFIX: Final = "/_emulator/"
_OUTPUTS_PREFIX: Final = "/_emulator/outputs/"
# How often a held body checks whether its client is still there (real seconds).
_HOLD_CHECK_INTERVAL: Final = 0.01


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


class _RouteInfo:
    """What the middlewares need to know about a matched route."""

    __slots__ = ("creates_task", "endpoint", "path")

    def __init__(self, path: str, endpoint: str | None, *, creates_task: bool) -> None:
        self.path = path
        self.endpoint = endpoint
        self.creates_task = creates_task


class EmulatorApp:
    """The aiohttp application of one emulator: routes, middlewares and shared state.

    Args:
        config: The emulator's settings.
        simulation: The task simulation (made from ``config`` when not given).
        faults: The fault queue (made from ``config`` when not given).

    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        simulation: Simulation | None = None,
        faults: FaultQueue | None = None,
    ) -> None:
        self.config = config
        self.simulation = simulation or Simulation(config)
        self.faults = faults or FaultQueue(
            rates=config.fault_rates,
            seed=None if config.seed is None else config.seed + 2,
            random_delay=config.fault_delay,
        )
        # Serialises the simulation and counters between the loop's handlers and callers in
        # other threads (the thread mode's emu.metrics(), emu.reset()).
        self.lock = threading.Lock()
        self._requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._rate = _PeakRate()
        self._holding = 0  # replies a hold_after or hold_body fault is holding back now
        self._closing: asyncio.Event | None = None
        self._routes: dict[str, _RouteInfo] = {}
        # Models accepted beyond the spec's, by endpoint; replaced whole (copy on write), so
        # handlers read them without the lock.
        self._extra_models: dict[str, frozenset[str]] = {
            endpoint: frozenset(models) for endpoint, models in config.extra_models.items()
        }
        self.app = self._build()

    # -- assembly -----------------------------------------------------------------------

    def _build(self) -> web.Application:
        app = web.Application(
            middlewares=[self._metrics_middleware, self._fault_middleware, self._auth_middleware],
            client_max_size=64 * 1024 * 1024,  # data URIs can be large
        )
        info = self._routes
        resources: dict[str, web.Resource] = {}

        def add(
            method: str,
            path: str,
            handler: Handler,
            endpoint: str | None,
            *,
            creates_task: bool = False,
        ) -> None:
            # One resource per path, one endpoint per method of it (GET, PATCH, DELETE /{id}).
            resource = resources.get(path) or app.router.add_resource(path)
            resources[path] = resource
            resource.add_route(method, handler)
            route = _RouteInfo(path, endpoint, creates_task=creates_task)
            info.setdefault(resource.canonical, route)
            info[f"{method} {resource.canonical}"] = route

        for name, spec in _catalog.task_endpoints().items():
            add(spec.method, spec.path, self._make_create_handler(name), name, creates_task=True)
        tasks = app.router.add_resource("/v1/tasks/{id}")
        tasks.add_route("GET", self._get_task)
        tasks.add_route("DELETE", self._delete_task)
        info[tasks.canonical] = _RouteInfo(tasks.canonical, "tasks", creates_task=False)
        add("GET", "/v1/organization", self._organization, "organization")
        add("POST", "/v1/organization/usage", self._usage, "organization.usage")
        self.resources_a: ResourcesA = register_resources_a(app, add, self)
        self.resources_b: ResourcesB = register_resources_b(self, add)
        outputs = app.router.add_resource("/_emulator/outputs/{task_id}/{name}")
        outputs.add_route("GET", self._output)
        outputs.add_route("HEAD", self._output)  # clients check outputs with HEAD first
        info[outputs.canonical] = _RouteInfo(outputs.canonical, "outputs", creates_task=False)
        app.router.add_get("/_emulator/metrics", self._metrics)
        app.router.add_post("/_emulator/reset", self._reset)
        app.router.add_post("/_emulator/faults", self._inject_fault)
        app.router.add_get("/_emulator/faults", self._list_faults)
        app.router.add_delete("/_emulator/faults", self._clear_faults)
        app.router.add_post("/_emulator/models", self._accept_model)
        app.router.add_post("/_emulator/limits", self._set_limits)
        return app

    def _route_info(self, request: web.Request) -> _RouteInfo | None:
        resource = request.match_info.route.resource
        if resource is None:
            return None
        routes = self._routes
        return routes.get(f"{request.method} {resource.canonical}") or routes.get(
            resource.canonical
        )

    def closing(self) -> asyncio.Event:
        """Return the event set when the server stops (created in the serving loop)."""
        if self._closing is None:
            self._closing = asyncio.Event()
        return self._closing

    def reset_closing(self) -> None:
        """Forget the stop signal, so the server can be started again (in any loop)."""
        self._closing = None

    # -- middlewares --------------------------------------------------------------------

    @web.middleware
    async def _metrics_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if request.path.startswith(_UNCOUNTED_PREFIX) and not request.path.startswith(
            _OUTPUTS_PREFIX
        ):
            return await handler(request)
        info = self._route_info(request)
        label = f"{request.method} {info.path if info is not None else '(unmatched)'}"
        outcome = "error"
        try:
            response = await handler(request)
            # A reply on a connection already closed never reached the client: a dropped
            # connection, or a client that gave up on a held reply.
            transport = request.transport
            closed = transport is None or transport.is_closing()
            outcome = "dropped" if closed else str(response.status)
            return response
        except web.HTTPException as exc:
            # Unknown paths and methods: answer in the API's JSON error shape, not text.
            outcome = str(exc.status)
            if exc.status < 400:
                raise
            headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            return web.json_response({"error": exc.reason}, status=exc.status, headers=headers)
        except asyncio.CancelledError:
            outcome = "held"  # the server stopped while the reply was held back
            raise
        finally:
            with self.lock:
                self._requests[label][outcome] += 1
                self._rate.count(label)

    @web.middleware
    async def _fault_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        info = self._route_info(request)
        if info is None:
            return await handler(request)
        # The output files take only the faults routed to them ("outputs" or their path):
        # a fault with no route is for task-creating POSTs.
        fault = self.faults.take(request.path, info.endpoint, creates_task=info.creates_task)
        if fault is None:
            return await handler(request)
        return await self._apply_fault(fault, request, handler)

    async def _apply_fault(
        self, fault: Fault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind is FaultKind.LATENCY:
            await self._sleep(fault.delay or 0.0)
            return await handler(request)
        if kind is FaultKind.ERROR_BEFORE:
            return self._fault_reply(fault, "Service temporarily unavailable (injected).")
        if kind is FaultKind.RATE_LIMIT:
            return self._fault_reply(fault, "Too many requests (injected).")
        if kind is FaultKind.DROP_BEFORE:
            return self._drop(request)
        if not fault.processes_request:  # an oversized error reply
            error = {"error": "Request rejected (injected oversized reply)."}
            return _padded(error, fault.http_status, fault.size)
        response = await handler(request)
        if kind is FaultKind.ERROR_AFTER:
            return self._fault_reply(fault, "Internal server error after processing (injected).")
        if kind is FaultKind.DROP_AFTER:
            return self._drop(request)
        if kind is FaultKind.HOLD_AFTER:
            # The work is done; the reply comes late or never.
            with self._counting_hold():
                if fault.delay is None:
                    await self.closing().wait()
                    return self._drop(request)
                if await self._sleep(fault.delay):
                    return self._drop(request)
            return response
        if kind is FaultKind.HOLD_BODY:
            return await self._hold_body(fault, request, response)
        return await self._mangle(fault, request, response)

    async def _hold_body(
        self, fault: Fault, request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        """Send the headers and half the body of ``response``, then hold the rest back."""
        if request.method == "HEAD":
            return response  # no body to hold
        body = _body_of(response)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        stream = web.StreamResponse(status=response.status, headers=headers)
        stream.content_length = len(body)  # the whole body, as a real reply announces it
        try:
            await stream.prepare(request)
            await stream.write(body[: len(body) // 2])  # drained: on its way to the client
            with self._counting_hold():
                released = await self._wait_held(request, fault.delay)
            if not released:
                self._drop(request)  # client gone or server stopping: end mid-body
                return stream
            await stream.write(body[len(body) // 2 :])
        except ConnectionError:
            pass  # the client gave up
        return stream

    async def _wait_held(self, request: web.Request, seconds: float | None) -> bool:
        """Wait ``seconds`` (``None``: forever); ``False`` if the client or server leaves first."""
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while True:
            transport = request.transport
            if transport is None or transport.is_closing():
                return False
            step = _HOLD_CHECK_INTERVAL
            if deadline is not None:
                step = min(step, deadline - loop.time())
                if step <= 0:
                    return True
            if await self._sleep(step):
                return False

    @contextlib.contextmanager
    def _counting_hold(self) -> Iterator[None]:
        """Count a reply held back (``faults_holding`` in the metrics) while in the block."""
        with self.lock:
            self._holding += 1
        try:
            yield
        finally:
            with self.lock:
                self._holding -= 1

    async def _mangle(
        self, fault: Fault, request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        """Answer a processed request with a broken version of its ``response``."""
        kind = fault.kind
        body = _body_of(response)
        if kind is FaultKind.NOT_HTTP:
            return self._send_raw(request, _NOT_HTTP)
        if kind is FaultKind.NOT_JSON:
            # What a proxy or gateway in the way tends to answer.
            return web.Response(status=response.status, text=_NOT_JSON, content_type="text/html")
        if kind is FaultKind.TRUNCATED:
            head = (
                f"HTTP/1.1 {response.status} {response.reason}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {max(len(body), 1)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode("latin-1")
            return self._send_raw(request, head + body[: len(body) // 2])
        if kind is FaultKind.OVERSIZED:
            try:
                data = json.loads(body) if body else None
            except ValueError:
                data = body.decode("utf-8", errors="replace")
            return _padded(data, response.status, fault.size)
        # ENDLESS: headers, then a body that trickles until the client gives up.
        stream = web.StreamResponse(
            status=response.status, headers={"Content-Type": "application/json"}
        )
        interval = fault.delay if fault.delay is not None else DEFAULT_ENDLESS_INTERVAL
        try:
            await stream.prepare(request)
            while True:
                # Leading whitespace is valid JSON, so only the end of it is missing.
                await stream.write(b" ")
                if await self._sleep(interval):
                    break
        except ConnectionError:
            pass  # the client gave up: what this fault is for
        return stream

    def _send_raw(self, request: web.Request, data: bytes) -> web.StreamResponse:
        """Write ``data`` on the connection as it is and close it; no HTTP reply follows."""
        if request.transport is not None:
            request.transport.write(data)
            # close(), not abort(): the bytes must be flushed before the connection ends.
            request.transport.close()
        return web.Response(status=204)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, cut short when the server stops; return whether it is stopping."""
        try:
            await asyncio.wait_for(self.closing().wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    def _fault_reply(self, fault: Fault, message: str) -> web.Response:
        headers = {}
        retry_after = fault.retry_after
        if retry_after is None and fault.kind is FaultKind.RATE_LIMIT:
            retry_after = 1.0
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        return web.json_response({"error": message}, status=fault.http_status, headers=headers)

    def _drop(self, request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            # abort() resets at once; close() would first flush what is buffered.
            request.transport.abort()
        return web.Response(status=204)

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _error(
                401, "Missing or malformed Authorization header; expected 'Bearer <API key>'."
            )
        expected = self.config.api_key
        if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
            return _error(401, "Invalid API key.")
        version = request.headers.get("X-Runway-Version")
        if version != RUNWAY_VERSION:
            shown = "missing" if version is None else repr(version)
            return _error(
                400,
                f"X-Runway-Version header is {shown}; it must be {RUNWAY_VERSION!r}.",
            )
        return await handler(request)

    # -- task creation ------------------------------------------------------------------

    def _make_create_handler(self, endpoint: str) -> Handler:
        async def create(request: web.Request) -> web.StreamResponse:
            return await self._create(endpoint, request)

        return create

    async def _create(self, endpoint: str, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _error(400, "The request body must be valid JSON.")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        accepted = self._extra_models.get(endpoint, frozenset())
        issues = validate_wire(endpoint, body, allow_loopback_http=True, accept_models=accepted)
        if issues:
            return _error(
                400,
                _issue_text(issues[0]),
                issues=[
                    {"code": i.code, "path": list(i.path), "message": i.message} for i in issues
                ],
            )
        upload_problem = self.resources_a.media_error(request, body)  # runway:// URIs
        if upload_problem is not None:
            return upload_problem
        spec = _catalog.endpoint_spec(endpoint)
        model = _catalog.model_for(endpoint, body)
        credits = _catalog.estimate_credits(endpoint, model, body)
        try:
            with self.lock:
                task = self.simulation.create(
                    endpoint=endpoint,
                    model=model,
                    kind=_catalog.media_kind(endpoint),
                    body=body,
                    estimated_credits=credits,
                    output_count=_catalog.output_count(endpoint, body),
                )
        except DailyLimitExceeded as exc:
            return _error(429, str(exc))
        if spec.response == "id_only":
            return web.json_response({"id": task.id})
        if spec.response == "routed":
            routing = _catalog.routing(endpoint, body, credits)
            self.resources_b.record_routing(request, body, task.id, routing)
            if self.config.spec_mock:
                # Optional in the official types; spec-mock replies carry every field.
                routing["capacityFallback"] = {"skipped": [], "allExhausted": False}
            return web.json_response({"id": task.id, "routing": routing})
        created = TaskCreated(id=task.id, estimated_cost=Cost(credits))
        return web.json_response(unstructure(created))

    # -- tasks --------------------------------------------------------------------------

    async def _get_task(self, request: web.Request) -> web.StreamResponse:
        task_id = request.match_info["id"]
        with self.lock:
            task = self.simulation.get(task_id)
            now = self.simulation.now()
        if task is None or task.invocation:  # workflow invocations are not tasks
            if self.config.spec_mock:
                return web.json_response(self._synthetic_task(request, task_id))
            return _error(404, f"Task {task_id!r} not found.")
        return web.json_response(render_task(task, now, _origin(request)))

    async def _delete_task(self, request: web.Request) -> web.StreamResponse:
        task_id = request.match_info["id"]
        with self.lock:
            found = self.simulation.peek(task_id)
            invocation = found is not None and found.invocation
            outcome = None if invocation else self.simulation.delete(task_id)
        if outcome is None and not self.config.spec_mock:
            return _error(404, f"Task {task_id!r} not found.")
        return web.Response(status=204)

    def _synthetic_task(self, request: web.Request, task_id: str) -> Any:
        created = datetime.now(timezone.utc).replace(microsecond=0)
        media = MEDIA["video"]
        task = SucceededTask(
            id=task_id,
            created_at=created,
            cost=Cost(0),
            output=(f"{_origin(request)}/_emulator/outputs/{task_id}/0.{media.extension}",),
        )
        return unstructure(task)

    async def _output(self, request: web.Request) -> web.StreamResponse:
        task_id = request.match_info["task_id"]
        match = _OUTPUT_NAME.match(request.match_info["name"])
        media = media_for_extension(match.group(2)) if match else None
        if match is None or media is None:
            return _error(404, "No such output.")
        index = int(match.group(1))
        with self.lock:
            task = self.simulation.peek(task_id)
            now = self.simulation.now()
        if task is None:
            if not self.config.spec_mock:
                return _error(404, "No such output.")
        elif not task.has_output(index, now) or MEDIA[task.output_kind(index)] is not media:
            return _error(404, "No such output.")
        return web.Response(
            body=media.data,
            content_type=media.content_type,
            headers={"Cache-Control": "private, max-age=86400"},
        )

    # -- organization -------------------------------------------------------------------

    async def _organization(self, request: web.Request) -> web.StreamResponse:
        with self.lock:
            data = self.simulation.organization(
                (*_catalog.known_models(), *self.extra_model_names())
            )
        return web.json_response(data)

    async def _usage(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _error(400, "The request body must be valid JSON.")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        with self.lock:
            today = self.simulation.today()
        try:
            start = _parse_date(body, "startDate") or today - timedelta(days=_DEFAULT_USAGE_DAYS)
            before = _parse_date(body, "beforeDate") or start + timedelta(days=_DEFAULT_USAGE_DAYS)
        except _BadDate as exc:
            return _usage_error(exc.message, exc.field)
        problem = _range_problem(start, before)
        # A stateless mock checks formats only (the official SDK's tests send one example
        # date for both ends); the emulator proper enforces the API's range rules.
        if problem is not None and not self.config.spec_mock:
            return _usage_error(problem, "beforeDate")
        with self.lock:
            data = self.simulation.usage(start, before, include_reserved=self.config.spec_mock)
        return web.json_response(data)

    # -- control ------------------------------------------------------------------------

    def metrics(self, *, tasks: bool = False) -> dict[str, Any]:
        """Return the metrics document (see ``Emulator.metrics``)."""
        with self.lock:
            requests = {
                route: dict(sorted(counts.items()))
                for route, counts in sorted(self._requests.items())
            }
            peak = self._rate.peak()
            data = self.simulation.metrics(tasks=tasks)
            holding = self._holding
        return {
            "requests": requests,
            "peak_requests_per_second": peak,
            **data,
            "faults_pending": len(self.faults.pending()),
            "faults_holding": holding,
        }

    def accept_model(self, endpoint: str, model: str) -> None:
        """Accept ``model`` on ``endpoint`` from now on, though the spec does not know it."""
        check_extra_model(endpoint, model, where="accept_model")
        with self.lock:
            extra = dict(self._extra_models)
            extra[endpoint] = extra.get(endpoint, frozenset()) | {model}
            self._extra_models = extra

    def set_limits(
        self,
        model: str,
        *,
        max_concurrent_generations: Limit | Keep = KEEP,
        daily_limit: Limit | Keep = KEEP,
    ) -> None:
        """Change ``model``'s limits from now on (see ``Emulator.set_limits``)."""
        known = {*_catalog.known_models(), *self.extra_model_names(), PSEUDO_WORKFLOW_MODEL}
        if not isinstance(model, str) or model not in known:
            raise ValueError(
                f"set_limits: {model!r} is not a model this emulator knows (a model of the "
                "spec, one accepted with accept_model, or 'workflow')"
            )
        if isinstance(max_concurrent_generations, Keep) and isinstance(daily_limit, Keep):
            raise ValueError("set_limits: give max_concurrent_generations, daily_limit or both")
        for name, value in (
            ("max_concurrent_generations", max_concurrent_generations),
            ("daily_limit", daily_limit),
        ):
            if not isinstance(value, Keep):
                check_limit(f"set_limits: {name}", value)
        if self.config.spec_mock:
            raise ValueError("set_limits: a spec_mock emulator applies no limits")
        with self.lock:
            self.simulation.set_limits(
                model, concurrency=max_concurrent_generations, daily_limit=daily_limit
            )

    def extra_model_names(self) -> tuple[str, ...]:
        """Return every model accepted beyond the spec's, on any endpoint."""
        return tuple(sorted({m for models in self._extra_models.values() for m in models}))

    def reset(self) -> None:
        """Clear tasks, usage, metrics and queued faults."""
        with self.lock:
            self.simulation.reset()
            self.resources_a.reset()
            self.resources_b.reset()
            self._requests.clear()
            self._rate = _PeakRate()
        self.faults.reset()

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        tasks = request.query.get("tasks", "").lower() in {"1", "true", "yes"}
        return web.json_response(self.metrics(tasks=tasks))

    async def _reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return web.json_response({"reset": True})

    async def _inject_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            fault, count = parse_fault(json.loads(await request.read()))
            self.faults.inject(
                fault.kind,
                count=count,
                route=fault.route,
                retry_after=fault.retry_after,
                delay=fault.delay,
                status=fault.status,
                size=fault.size,
            )
        except ValueError as exc:
            return _error(400, f"Invalid fault: {exc}")
        return web.json_response({"queued": _fault_json(fault, count)})

    async def _list_faults(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"faults": [_fault_json(fault, count) for fault, count in self.faults.pending()]}
        )

    async def _clear_faults(self, request: web.Request) -> web.StreamResponse:
        self.faults.clear()
        return web.Response(status=204)

    async def _accept_model(self, request: web.Request) -> web.StreamResponse:
        """``POST /_emulator/models {"endpoint": ..., "model": ...}``: ``accept_model``."""
        try:
            data = json.loads(await request.read())
        except ValueError:
            return _error(400, "The request body must be valid JSON.")
        if not isinstance(data, dict) or set(data) != {"endpoint", "model"}:
            return _error(400, 'Expected {"endpoint": ..., "model": ...}.')
        try:
            self.accept_model(data["endpoint"], data["model"])
        except ValueError as exc:
            return _error(400, str(exc))
        accepted = sorted(self._extra_models.get(data["endpoint"], frozenset()))
        return web.json_response({"endpoint": data["endpoint"], "models": accepted})

    async def _set_limits(self, request: web.Request) -> web.StreamResponse:
        """``POST /_emulator/limits {"model": ..., "maxConcurrentGenerations": ..., ...}``."""
        try:
            data = json.loads(await request.read())
        except ValueError:
            return _error(400, "The request body must be valid JSON.")
        limits = {"maxConcurrentGenerations", "dailyLimit"}
        if not (
            isinstance(data, dict)
            and "model" in data
            and set(data) <= {"model", *limits}
            and set(data) & limits
        ):
            return _error(
                400,
                'Expected {"model": ..., "maxConcurrentGenerations": ..., "dailyLimit": ...} '
                "with either limit or both (an integer >= 0, or null for unlimited).",
            )
        model = data["model"]
        try:
            for name in sorted(limits & set(data)):
                check_limit(name, data[name])  # the wire name in the message
            self.set_limits(
                model,
                max_concurrent_generations=data.get("maxConcurrentGenerations", KEEP),
                daily_limit=data.get("dailyLimit", KEEP),
            )
        except ValueError as exc:
            return _error(400, str(exc))
        with self.lock:
            concurrency = self.simulation.concurrency_for(model)
            daily = self.simulation.daily_limit_for(model)
        return web.json_response(
            {"model": model, "maxConcurrentGenerations": concurrency, "dailyLimit": daily}
        )


def _fault_json(fault: Fault, count: int) -> dict[str, Any]:
    return {
        "kind": fault.kind.value,
        "count": count,
        "route": fault.route,
        "retry_after": fault.retry_after,
        "delay": fault.delay,
        "status": fault.status,
        "size": fault.size,
    }


# Not a status line: a client's HTTP parser must refuse it.
_NOT_HTTP: Final = b"\x00\x17\x03garbage: this is not an HTTP reply\r\n\xff\xfe\r\n\r\n"
_NOT_JSON: Final = (
    "<html><head><title>Gateway</title></head>"
    "<body><h1>Something went wrong upstream</h1><p>Injected.</p></body></html>"
)


def _body_of(response: web.StreamResponse) -> bytes:
    body = response.body if isinstance(response, web.Response) else None
    return bytes(body) if isinstance(body, (bytes, bytearray)) else b""


def _padded(data: object, status: int, size: int | None) -> web.Response:
    """Return ``data`` as a JSON reply of ``size`` bytes, padded with a ``padding`` member."""
    target = DEFAULT_OVERSIZED_BYTES if size is None else size
    obj: dict[str, Any] = dict(data) if isinstance(data, dict) else {"value": data}
    obj["padding"] = ""
    # ASCII-only JSON, so characters are bytes.
    missing = max(0, target - len(json.dumps(obj)))
    obj["padding"] = "x" * missing
    return web.Response(
        body=json.dumps(obj).encode(), status=status, content_type="application/json"
    )


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _issue_text(issue: Any) -> str:
    # Name the field in the API's own (wire) terms, as Runway's errors do.
    path = ""
    for part in issue.path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    message: str = issue.message
    if path and path not in message:
        return f"Invalid parameter '{path}': {message}"
    return message


class _BadDate(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _parse_date(body: Mapping[str, Any], key: str) -> date | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise _BadDate(key, f"{key} must be a date in YYYY-MM-DD form, got {value!r}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _BadDate(key, f"{key} is not a valid date: {value!r}.") from None


def _range_problem(start: date, before: date) -> str | None:
    span = (before - start).days
    if span <= 0:
        return "beforeDate must be after startDate."
    if span > _MAX_USAGE_DAYS:
        return f"beforeDate must be at most {_MAX_USAGE_DAYS} days after startDate."
    return None


def _usage_error(message: str, field: str) -> web.Response:
    return _error(
        400, message, issues=[{"code": "invalid_date", "path": [field], "message": message}]
    )


class _PeakRate:
    """The most API requests seen in one real second (fixed one-second windows), per route.

    Keeps two numbers per route, however long the emulator runs.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._window: dict[str, tuple[int, int]] = {}  # route -> (second, count in it)
        self._peak: Counter[str] = Counter()

    def count(self, route: str) -> None:
        second = int(self._clock())
        start, seen = self._window.get(route, (second, 0))
        seen = seen + 1 if start == second else 1
        self._window[route] = (second, seen)
        self._peak[route] = max(self._peak[route], seen)

    def peak(self) -> dict[str, int]:
        return dict(sorted(self._peak.items()))


def render_task(task: TaskRecord, now: float, origin: str) -> Any:
    """Return a task's wire JSON (``GET /v1/tasks/{id}``) as of simulated time ``now``.

    Args:
        task: The task.
        now: The simulated time, for ``progress``.
        origin: The emulator's ``scheme://host:port``, for output URLs.

    Returns:
        The JSON object, with exactly the fields the API declares for the task's status.

    """
    estimate = Cost(task.estimated_credits)
    cost = Cost(task.cost if task.cost is not None else 0)
    created_at = task.created_at
    rendered: Any
    if task.status == "PENDING":
        rendered = PendingTask(id=task.id, created_at=created_at, estimated_cost=estimate)
    elif task.status == "THROTTLED":
        rendered = ThrottledTask(id=task.id, created_at=created_at, estimated_cost=estimate)
    elif task.status == "RUNNING":
        rendered = RunningTask(
            id=task.id, created_at=created_at, estimated_cost=estimate, progress=task.progress(now)
        )
    elif task.status == "SUCCEEDED":
        extension = MEDIA[task.kind].extension
        rendered = SucceededTask(
            id=task.id,
            created_at=created_at,
            cost=cost,
            output=tuple(
                f"{origin}/_emulator/outputs/{task.id}/{n}.{extension}"
                for n in range(task.output_count)
            ),
        )
    elif task.status == "FAILED":
        code, text = task.failure or ("INTERNAL", "An internal error occurred.")
        rendered = FailedTask(
            id=task.id, created_at=created_at, cost=cost, failure=text, failure_code=code
        )
    else:
        rendered = CancelledTask(id=task.id, created_at=created_at, cost=cost)
    return unstructure(rendered)
