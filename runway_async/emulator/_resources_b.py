"""Emulator routes of workflows, workflow invocations, routers and the web-app reports.

Everything here is stateful per API key (the bearer token): a key sees its own routers and
invocations, and the workflows published for it or for every key (``Emulator.add_workflow``).
Another key's ids answer 404, as unknown ones do.

* Workflows are published by the test harness (``Emulator.add_workflow``); running one
  creates a *workflow invocation*, a ``TaskRecord`` of the pseudo-model ``WORKFLOW_MODEL`` in
  the task simulation, so the time scale, the concurrency limit (THROTTLED queueing, its own
  lane: ``concurrency={"workflow": 2}``), the daily limit (429), random failures and fault
  injection apply as they do to tasks. Its outputs are served by the task output route; the
  files of a node exist from the moment the node finishes, so a RUNNING invocation's partial
  ``output`` can be downloaded.
* Routers: CRUD with the settings deep-merge and version rules of the reference (section 9),
  and the routing history of ``POST /v1/generate/*`` calls that name a router's slug.
* Web-app usage and audit logs: a deterministic seeded history (the same rows for every key),
  paged newest first.

In spec-mock mode every route answers a valid example for any id, uniqueness and model-name
checks are off, and a malformed cursor or filter is ignored rather than refused.
"""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Final, Protocol

import attrs
from aiohttp import web

from .._convert import json_type
from .._spec import get_plain_endpoint
from .._spec._media import media_problem
from . import _catalog
from ._common import (
    MAX_PAGE,
    account_of,
    decode_cursor,
    encode_cursor,
    iso,
    json_object,
    origin_of,
)
from ._config import EmulatorConfig
from ._media import MEDIA, MediaKind
from ._state import (
    FAILURE_CODES,
    PSEUDO_WORKFLOW_MODEL,
    DailyLimitExceeded,
    Simulation,
    TaskRecord,
)

__all__ = [
    "AUDIT_ACTIONS",
    "WORKFLOW_ENDPOINT",
    "WORKFLOW_MODEL",
    "ResourcesB",
    "register",
]

WORKFLOW_MODEL: Final = PSEUDO_WORKFLOW_MODEL
"""The pseudo-model workflow invocations count against (their own concurrency lane)."""

WORKFLOW_ENDPOINT: Final = "workflows.run"
"""The endpoint name of ``POST /v1/workflows/{id}`` (fault routes, metrics)."""

_EVERY_KEY: Final = ""  # the account of workflows published for every API key
_MEDIA_KINDS: Final = ("image", "video", "audio")
_NODE_OUTPUT_TYPES: Final = ("primitive", "image", "video", "audio")
# The model a workflow's charges are reported under in usage, by its first output's kind.
_USAGE_MODEL: Final[Mapping[str, str]] = {
    "image": "gen4_image",
    "video": "gen4.5",
    "audio": "eleven_multilingual_v2",
}
_CREDITS_PER_FILE: Final = 5
_OPTIMIZE_FOR: Final = ("cost", "latency", "quality")
_MODEL_MODES: Final = ("allow_new_except", "allowlist_only")
_MODALITIES: Final = ("audio", "image", "video")
_SETTINGS_KEYS: Final = (
    "fallback",
    "maxCreditsPerGeneration",
    "models",
    "optimizeFor",
    "schemaVersion",
)
_SLUG: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_MAX_NAME: Final = 200
_MAX_DESCRIPTION: Final = 2000
_MAX_FILTER_ITEMS: Final = 50
_REASON_CODE: Final[Mapping[str, str]] = {
    "cost": "lowest_cost",
    "latency": "best_latency",
    "quality": "best_quality",
}


def _audit_actions() -> tuple[str, ...]:
    """Return the reference's AuditAction values, from the spec (``actions``' items)."""
    spec = get_plain_endpoint("organization.webapp.audit_logs.list")
    items = spec.query.fields["actions"].type.items
    values = items.enum if items is not None else None
    if not values:
        raise RuntimeError("the spec lists no audit actions for the actions query")
    return tuple(str(value) for value in values)


AUDIT_ACTIONS: Final[tuple[str, ...]] = _audit_actions()
"""Every ``AuditAction`` of the reference (section 12.5), the ``actions`` filter's values."""

# The seeded web-app history: who, where, what (deterministic; the same for every key).
_WORKSPACES: Final = ((101, "Design Studio"), (202, "Marketing"))
_MEMBERS: Final = (
    ("ada@example.com", "ada"),
    ("grace@example.com", "grace"),
    ("linus@example.com", "linus"),
)
_TOOLS: Final = ("Gen-4.5", "Gen-4 Image", "Act-Two", "Aleph", "Frames", "Upscale")
_USAGE_ROWS: Final = 120  # one every 6 hours: 30 days
_USAGE_STEP: Final = timedelta(hours=6)
_AUDIT_ROWS: Final = 150  # one every 4 hours: 25 days
_AUDIT_STEP: Final = timedelta(hours=4)
# (action, resourceType, metadata) of the seeded audit entries, in turn.
_AUDIT_SCRIPT: Final[tuple[tuple[str, str | None, Mapping[str, Any]], ...]] = (
    ("UserLogin", "session", {"Login method": "password", "Application": "Web"}),
    ("GenerationCreated", "generation", {"Model": "gen4.5", "Via public API": False}),
    ("AssetCreated", "asset", {"Asset name": "storyboard.png"}),
    ("AssetDownloaded", "asset", {"Asset name": "final-cut.mp4"}),
    ("MemberInvited", "membership", {"Invited member": "new.hire@example.com", "Role": "editor"}),
    (
        "MemberRoleChanged",
        "membership",
        {"Target member": "linus@example.com", "Previous role": "viewer", "New role": "editor"},
    ),
    (
        "TeamSettingsUpdated",
        "team_settings",
        {
            "Setting": "Default project discoverability",
            "Previous value": "private",
            "New value": "workspace",
        },
    ),
    ("WorkspaceTagCreated", "workspace_tag", {"Tag name": "campaign", "Tag color": "#ff8800"}),
    ("CreditsTransferred", "workspace", {"Amount": 500.0, "Direction": "in"}),
    ("SSOLogin", "session", {"Login method": "sso"}),
    ("CommentCreated", "asset", {"Comment text": "Looks great", "Mentions": 1.0}),
    ("PermissionGranted", "permission", {"Role": "viewer"}),
)


# --- small helpers --------------------------------------------------------------------------


class AddRoute(Protocol):
    """The route registration function of ``EmulatorApp._build``."""

    def __call__(
        self,
        method: str,
        path: str,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        endpoint: str | None,
        *,
        creates_task: bool = False,
    ) -> None:
        """Add one route."""


class _Uploads(Protocol):
    def media_error(self, request: web.Request, body: object) -> web.Response | None:
        """Return the 400 for a body using a ``runway://`` URI it may not use."""


class Host(Protocol):
    """What this module needs of the emulator application (``EmulatorApp``)."""

    @property
    def config(self) -> EmulatorConfig:
        """The emulator's settings."""

    @property
    def simulation(self) -> Simulation:
        """The task simulation."""

    @property
    def lock(self) -> threading.Lock:
        """The lock serialising the state between the loop and other threads."""

    @property
    def resources_a(self) -> _Uploads:
        """The uploads' owner, which checks ``runway://`` URIs."""


class _BadRequest(Exception):
    """A request problem, answered as a 400 naming the field."""

    def __init__(self, field: str | None, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code

    def response(self) -> web.Response:
        text = self.message
        if self.field and self.field not in text:
            text = f"Invalid parameter '{self.field}': {text}"
        path = self.field.split(".") if self.field else []
        issue = {"code": self.code, "path": path, "message": self.message}
        return web.json_response({"error": text, "issues": [issue]}, status=400)


def _not_found(what: str, ident: str) -> web.Response:
    return web.json_response({"error": f"{what} {ident!r} not found."}, status=404)


def _no_other_keys(body: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    known = set(allowed)
    for key in body:
        if key not in known:
            name = f"{prefix}{key}"
            raise _BadRequest(name, f"Unrecognized key '{name}'.", "unrecognized_keys")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expect(value: object, kind: type | tuple[type, ...], field: str, what: str) -> None:
    # JSON's true and false are not numbers, though Python's bools are ints.
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise _BadRequest(field, f"Expected {what}, received {json_type(value)}.", "invalid_type")


# --- cursors and pages ------------------------------------------------------------------


def _decode_cursor(text: str, tag: str) -> int:
    value = decode_cursor(text)
    if isinstance(value, list) and len(value) == 2 and value[0] == tag and _is_int(value[1]):
        return int(value[1])
    raise _BadRequest("cursor", "Invalid cursor: pass the nextCursor of a previous page.")


@attrs.frozen
class _PageQuery:
    limit: int
    after: int | None  # the key of the previous page's last item


def _page_query(query: Mapping[str, str], tag: str, *, lenient: bool) -> _PageQuery:
    text = query.get("limit")
    if text is None:
        if lenient:
            return _PageQuery(MAX_PAGE, None)
        raise _BadRequest("limit", "Required.", "invalid_type")
    try:
        limit = int(text)
    except ValueError:
        raise _BadRequest("limit", f"Expected an integer, received {text!r}.") from None
    if not 1 <= limit <= MAX_PAGE:
        raise _BadRequest("limit", f"Must be from 1 to {MAX_PAGE}, received {limit}.", "too_big")
    cursor = query.get("cursor")
    after = None
    if cursor:
        try:
            after = _decode_cursor(cursor, tag)
        except _BadRequest:
            if not lenient:
                raise
    return _PageQuery(limit, after)


def _page(items: Sequence[tuple[int, Any]], page: _PageQuery, tag: str) -> dict[str, Any]:
    """Return the page after ``page.after`` of ``(key, item)`` pairs in order of rising key.

    The cursor is the key of the page's last item, so items added while a client pages
    (keys below the cursor) never shift or repeat what the later pages show.
    """
    rest = [(key, item) for key, item in items if page.after is None or key > page.after]
    chosen = rest[: page.limit]
    more = len(rest) > page.limit
    return {
        "data": [item for _, item in chosen],
        "nextCursor": encode_cursor([tag, chosen[-1][0]]) if more and chosen else None,
    }


def _parse_moment(value: str, field: str) -> datetime:
    """Parse an ISO-8601 datetime or date (midnight UTC); a missing offset means UTC."""
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes only 3 or 6 fraction digits.
    text = re.sub(r"\.(\d+)", lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(0), tzinfo=timezone.utc)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _BadRequest(
            field, f"Expected an ISO-8601 datetime or date, received {value!r}.", "invalid_string"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _split_list(value: str, field: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise _BadRequest(field, "Expected a comma-separated list, received an empty one.")
    if len(items) > _MAX_FILTER_ITEMS:
        raise _BadRequest(field, f"At most {_MAX_FILTER_ITEMS} values, received {len(items)}.")
    return items


def _workspace_ids(value: str) -> set[int]:
    ids = set()
    for item in _split_list(value, "workspaceIds"):
        if not item.isdigit():
            raise _BadRequest("workspaceIds", f"Expected workspace IDs (integers), got {item!r}.")
        ids.add(int(item))
    return ids


# --- workflows ------------------------------------------------------------------------------


@attrs.frozen
class _OutputNode:
    id: str
    name: str
    kinds: tuple[MediaKind, ...]
    error: str | None  # failureCode when the node errors (the invocation may still succeed)


@attrs.frozen
class _WorkflowVersion:
    id: str
    name: str
    description: str | None
    version: int
    created_at: datetime
    graph: Mapping[str, Any]
    node_ids: frozenset[str]
    outputs: tuple[_OutputNode, ...]
    duration: float | None
    failure: tuple[str, str] | None
    credits: int

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.created_at),
            "version": self.version,
            "graph": json.loads(json.dumps(self.graph)),
        }


@attrs.frozen
class _Invocation:
    id: str
    workflow: _WorkflowVersion
    # For each output node: the index of its first file and the fraction of the run at which
    # it finishes (its files exist, or its error shows).
    first_file: tuple[int, ...]
    finishes_at: tuple[float, ...]


def _failure_text(code: str) -> str:
    for known, text in FAILURE_CODES:
        if known == code:
            return text
    return "The workflow failed."


def _kinds(node: str, value: object) -> tuple[MediaKind, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValueError(f"nodes[{node!r}] must be a media kind or a sequence of them")
    kinds: list[MediaKind] = []
    for item in items:
        if item == "image" or item == "video" or item == "audio":
            kinds.append(item)
        else:
            raise ValueError(f"nodes[{node!r}]: {item!r} is not one of {_MEDIA_KINDS}")
    return tuple(kinds)


def _default_graph(
    inputs: Mapping[str, Mapping[str, Any]], outputs: Sequence[_OutputNode]
) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": node, "type": "input", "name": f"Input {node}", "outputs": dict(values)}
        for node, values in inputs.items()
    ]
    nodes += [
        {"id": node.id, "type": "generation", "name": node.name, "outputs": list(node.kinds)}
        for node in outputs
    ]
    edges = [
        {"id": f"{source}->{node.id}", "source": source, "target": node.id}
        for source in inputs
        for node in outputs
    ]
    return {"version": 1, "nodes": nodes, "edges": edges}


def _check_node_outputs(value: object, node_ids: frozenset[str] | None) -> None:
    """Check a ``nodeOutputs`` value: nodeId -> {key -> typed value} (reference section 6)."""
    _expect(value, dict, "nodeOutputs", "object")
    assert isinstance(value, dict)
    for node, outputs in value.items():
        where = f"nodeOutputs.{node}"
        if node_ids is not None and node not in node_ids:
            raise _BadRequest(where, f"The workflow has no node {node!r}.")
        _expect(outputs, dict, where, "object")
        for key, item in outputs.items():
            field = f"{where}.{key}"
            _expect(item, dict, field, "object")
            kind = item.get("type")
            if kind not in _NODE_OUTPUT_TYPES:
                raise _BadRequest(
                    f"{field}.type",
                    f"Expected one of {', '.join(_NODE_OUTPUT_TYPES)}, received {kind!r}.",
                    "invalid_union_discriminator",
                )
            if kind == "primitive":
                _no_other_keys(item, ("type", "value"), f"{field}.")
                if "value" not in item:
                    raise _BadRequest(f"{field}.value", "Required.", "invalid_type")
                _expect(
                    item["value"],
                    (str, int, float, bool),
                    f"{field}.value",
                    "string, number or boolean",
                )
            else:
                _no_other_keys(item, ("type", "uri"), f"{field}.")
                uri = item.get("uri")
                if uri is None:
                    raise _BadRequest(f"{field}.uri", "Required.", "invalid_type")
                _expect(uri, str, f"{field}.uri", "string")
                problem = media_problem(uri, kind, allow_loopback_http=True)
                if problem is not None:
                    raise _BadRequest(f"{field}.uri", problem, "invalid_string")


# --- routers --------------------------------------------------------------------------------


@attrs.define
class _Router:
    id: str
    slug: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    settings: dict[str, Any]
    position: int
    requests: list[tuple[int, dict[str, Any]]] = attrs.Factory(list)

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "version": self.version,
            "settings": json.loads(json.dumps(self.settings)),
        }


def _check_settings(
    value: object, *, update: bool, known_models: frozenset[str] | None
) -> dict[str, Any]:
    """Check router ``settings`` and return a copy (``None`` inside keeps its meaning)."""
    _expect(value, dict, "settings", "object")
    assert isinstance(value, dict)
    _no_other_keys(value, _SETTINGS_KEYS, "settings.")
    settings: dict[str, Any] = json.loads(json.dumps(value))
    if "fallback" in settings:
        fallback = settings["fallback"]
        _expect(fallback, dict, "settings.fallback", "object")
        _no_other_keys(fallback, ("onCapacity",), "settings.fallback.")
        if "onCapacity" in fallback:
            _expect(fallback["onCapacity"], bool, "settings.fallback.onCapacity", "boolean")
    if "maxCreditsPerGeneration" in settings:
        caps = settings["maxCreditsPerGeneration"]
        field = "settings.maxCreditsPerGeneration"
        if caps is None and update:
            pass
        else:
            _expect(caps, dict, field, "object")
            _no_other_keys(caps, _MODALITIES, f"{field}.")
            for modality, cap in caps.items():
                if cap is None and update:
                    continue
                if not _is_int(cap) or cap < 0:
                    raise _BadRequest(
                        f"{field}.{modality}", f"Expected an integer >= 0, received {cap!r}."
                    )
    if "models" in settings:
        models = settings["models"]
        field = "settings.models"
        _expect(models, dict, field, "object")
        _no_other_keys(models, ("ids", "mode"), f"{field}.")
        for key in ("ids", "mode"):
            if key not in models and not update:
                raise _BadRequest(f"{field}.{key}", "Required.", "invalid_type")
        if "mode" in models and models["mode"] not in _MODEL_MODES:
            raise _BadRequest(
                f"{field}.mode",
                f"Expected one of {', '.join(_MODEL_MODES)}, received {models['mode']!r}.",
                "invalid_enum_value",
            )
        if "ids" in models:
            ids = models["ids"]
            _expect(ids, list, f"{field}.ids", "array")
            for n, model in enumerate(ids):
                _expect(model, str, f"{field}.ids.{n}", "string")
                if known_models is not None and model not in known_models:
                    raise _BadRequest(
                        f"{field}.ids.{n}",
                        f"Unknown model {model!r}: use a public video or image model name.",
                    )
    if "optimizeFor" in settings and settings["optimizeFor"] not in _OPTIMIZE_FOR:
        raise _BadRequest(
            "settings.optimizeFor",
            f"Expected one of {', '.join(_OPTIMIZE_FOR)}, received {settings['optimizeFor']!r}.",
            "invalid_enum_value",
        )
    if "schemaVersion" in settings and settings["schemaVersion"] != 1:
        raise _BadRequest(
            "settings.schemaVersion",
            f"Expected 1, received {settings['schemaVersion']!r}.",
            "invalid_literal",
        )
    return settings


def _merge(current: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``change`` into ``current``: objects merge, ``None`` removes a key."""
    merged = dict(current)
    for key, value in change.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check_text(body: Mapping[str, Any], key: str, limit: int, *, nullable: bool) -> None:
    if key not in body:
        return
    value = body[key]
    if value is None and nullable:
        return
    _expect(value, str, key, "string")
    if key == "name" and not value:
        raise _BadRequest(key, "Must not be empty.", "too_small")
    if len(value) > limit:
        raise _BadRequest(key, f"At most {limit} characters.", "too_big")


# --- the state and the handlers -------------------------------------------------------------


@attrs.define
class _Account:
    """One API key's routers and workflow invocations (and the workflows published for it)."""

    workflows: dict[str, _WorkflowVersion] = attrs.Factory(dict)  # by version id
    invocations: dict[str, _Invocation] = attrs.Factory(dict)
    routers: dict[str, _Router] = attrs.Factory(dict)


class ResourcesB:
    """The state and routes of workflows, invocations, routers and the web-app reports.

    All state is read and changed under the server's lock, which ``add_workflow`` takes too
    (so a test in another thread may publish while the server runs).

    Args:
        server: The emulator application (its config, simulation and lock).

    """

    def __init__(self, server: Host) -> None:
        self._server = server
        self._resets = -1
        self._reset_locked()

    @property
    def _lock(self) -> threading.Lock:
        return self._server.lock

    @property
    def _spec_mock(self) -> bool:
        return self._server.config.spec_mock

    # -- state --------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every workflow, invocation and router (call with the server's lock held)."""
        self._reset_locked()

    def _reset_locked(self) -> None:
        seed = self._server.config.seed
        self._resets += 1
        self._ids = random.Random(  # noqa: S311 - ids, not secrets
            None if seed is None else f"resources_b:{seed}:{self._resets}"
        )
        self._accounts: dict[str, _Account] = {}
        self._versions: dict[str, int] = {}  # latest version number per workflow name
        self._position = 0
        midnight = datetime.combine(self._server.simulation.today(), time(0), tzinfo=timezone.utc)
        self._usage_rows = _seed_usage(midnight)
        self._audit_rows = _seed_audit(midnight)
        self._audit_by_id = {row["eventId"]: n for n, row in enumerate(self._audit_rows)}

    def _new_id(self) -> str:
        if self._server.config.seed is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _next_position(self) -> int:
        self._position += 1
        return self._position

    def _of(self, account: str) -> _Account:
        found = self._accounts.get(account)
        if found is None:
            found = self._accounts[account] = _Account()
        return found

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
        """Publish a version of a workflow; see ``Emulator.add_workflow``.

        Returns:
            The new version's id.

        Raises:
            ValueError: An argument is not valid.

        """
        if not isinstance(name, str) or not name:
            raise ValueError("name must be a non-empty string")
        outputs_spec = {"output": ("image",)} if nodes is None else dict(nodes)
        inputs = {} if inputs is None else {k: dict(v) for k, v in inputs.items()}
        errors = {} if node_errors is None else dict(node_errors)
        for node in [*outputs_spec, *inputs]:
            if not isinstance(node, str) or not node:
                raise ValueError(f"node ids must be non-empty strings, got {node!r}")
        if set(outputs_spec) & set(inputs):
            raise ValueError("a node id is both an input and an output node")
        for node, code in errors.items():
            if node not in outputs_spec:
                raise ValueError(f"node_errors names {node!r}, which is not in nodes")
            if not isinstance(code, str) or not code:
                raise ValueError(f"node_errors[{node!r}] must be a failure code")
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0
        ):
            raise ValueError(f"duration must be a number of API seconds > 0, got {duration!r}")
        if credits is not None and (not _is_int(credits) or credits < 0):
            raise ValueError(f"credits must be an integer >= 0, got {credits!r}")
        if not isinstance(fail, (bool, str)) or fail == "":
            raise ValueError("fail must be a bool or a failure code")
        if description is not None and not isinstance(description, str):
            raise ValueError("description must be a string or None")
        if isinstance(fail, str) or fail:
            code = fail if isinstance(fail, str) else "INTERNAL"
            failure: tuple[str, str] | None = (code, _failure_text(code))
            if not outputs_spec:
                raise ValueError("a failing workflow needs an output node to fail")
        else:
            failure = None
        outputs = tuple(
            _OutputNode(node, f"Node {node}", _kinds(node, kinds), errors.get(node))
            for node, kinds in outputs_spec.items()
        )
        if graph is None:
            served: Mapping[str, Any] = _default_graph(inputs, outputs)
            node_ids = frozenset([*inputs, *outputs_spec])
        else:
            try:
                given: dict[str, Any] = json.loads(json.dumps(dict(graph)))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"graph must be JSON: {exc}") from None
            served = given
            listed = given.get("nodes")
            node_ids = frozenset(
                [
                    *(n["id"] for n in listed or () if isinstance(n, dict) and "id" in n),
                    *inputs,
                    *outputs_spec,
                ]
            )
            given.setdefault("version", 1)
            given.setdefault("nodes", [])
            given.setdefault("edges", [])
            if not isinstance(given["nodes"], list) or not isinstance(given["edges"], list):
                raise ValueError("graph must have lists of 'nodes' and 'edges'")
            named = {
                n["id"]: n["name"]
                for n in given["nodes"]
                if isinstance(n, dict) and isinstance(n.get("name"), str) and "id" in n
            }
            outputs = tuple(attrs.evolve(o, name=named.get(o.id, o.name)) for o in outputs)
        files = sum(len(o.kinds) for o in outputs if o.error is None)
        with self._lock:
            number = self._versions.get(name, 0) + 1
            self._versions[name] = number
            version = _WorkflowVersion(
                id=self._new_id(),
                name=name,
                description=description,
                version=number,
                created_at=self._server.simulation.wall_now(),
                graph=served,
                node_ids=node_ids,
                outputs=outputs,
                duration=None if duration is None else float(duration),
                failure=failure,
                credits=_CREDITS_PER_FILE * max(files, 1) if credits is None else credits,
            )
            owner = _EVERY_KEY if api_key is None else api_key
            self._of(owner).workflows[version.id] = version
        return version.id

    def _workflows(self, account: str) -> list[_WorkflowVersion]:
        found = list(self._of(account).workflows.values())
        if account != _EVERY_KEY:
            found += self._of(_EVERY_KEY).workflows.values()
        return found

    def _workflow(self, account: str, ident: str) -> _WorkflowVersion | None:
        found = self._of(account).workflows.get(ident)
        return found if found is not None else self._of(_EVERY_KEY).workflows.get(ident)

    def _example_workflow(self, ident: str) -> _WorkflowVersion:
        output = _OutputNode("output", "Image output", ("image",), None)
        return _WorkflowVersion(
            id=ident,
            name="Example workflow",
            description="A published workflow (spec-mock example).",
            version=1,
            created_at=self._server.simulation.wall_now(),
            graph=_default_graph(
                {"prompt": {"text": {"type": "primitive", "value": "a fox"}}}, [output]
            ),
            node_ids=frozenset({"prompt", "output"}),
            outputs=(output,),
            duration=None,
            failure=None,
            credits=_CREDITS_PER_FILE,
        )

    # -- routes -------------------------------------------------------------------------

    def add_routes(self, add: AddRoute) -> None:
        """Register every route of this module."""
        add("GET", "/v1/workflows", self._list_workflows, "workflows.list")
        add("GET", "/v1/workflows/{id}", self._get_workflow, "workflows.retrieve")
        add("POST", "/v1/workflows/{id}", self._run_workflow, WORKFLOW_ENDPOINT, creates_task=True)
        add(
            "GET",
            "/v1/workflow_invocations/{id}",
            self._get_invocation,
            "workflow_invocations.retrieve",
        )
        add("POST", "/v1/routers", self._create_router, "routers.create")
        add("GET", "/v1/routers", self._list_routers, "routers.list")
        add("GET", "/v1/routers/{id}", self._get_router, "routers.retrieve")
        add("PATCH", "/v1/routers/{id}", self._update_router, "routers.update")
        add("DELETE", "/v1/routers/{id}", self._delete_router, "routers.delete")
        add("GET", "/v1/routers/{id}/requests", self._list_requests, "routers.list_requests")
        add(
            "GET",
            "/v1/organization/webapp/usage",
            self._webapp_usage,
            "organization.webapp.list_usage",
        )
        add(
            "GET",
            "/v1/organization/webapp/audit_logs",
            self._audit_logs,
            "organization.webapp.audit_logs.list",
        )
        add(
            "GET",
            "/v1/organization/webapp/audit_logs/{event_id}",
            self._audit_log,
            "organization.webapp.audit_logs.retrieve",
        )

    # -- workflows ----------------------------------------------------------------------

    async def _list_workflows(self, request: web.Request) -> web.StreamResponse:
        account = account_of(request)
        with self._lock:
            versions = self._workflows(account)
            if not versions and self._spec_mock:
                versions = [self._example_workflow(str(uuid.uuid4()))]
        by_name: dict[str, list[_WorkflowVersion]] = {}
        for version in versions:
            by_name.setdefault(version.name, []).append(version)
        data = [
            {
                "name": name,
                "versions": [
                    {"id": v.id, "createdAt": iso(v.created_at), "version": v.version}
                    for v in sorted(found, key=lambda v: v.version, reverse=True)
                ],
            }
            for name, found in sorted(by_name.items())
        ]
        return web.json_response({"data": data})

    async def _get_workflow(self, request: web.Request) -> web.StreamResponse:
        ident = request.match_info["id"]
        with self._lock:
            version = self._workflow(account_of(request), ident)
            if version is None and self._spec_mock:
                version = self._example_workflow(ident)
        if version is None:
            return _not_found("Workflow", ident)
        return web.json_response(version.render())

    async def _run_workflow(self, request: web.Request) -> web.StreamResponse:
        ident = request.match_info["id"]
        account = account_of(request)
        with self._lock:
            version = self._workflow(account, ident)
        if version is None and not self._spec_mock:
            return _not_found("Workflow", ident)
        if version is None:
            version = self._example_workflow(ident)
            node_ids: frozenset[str] | None = None  # any node id is fine for an example
        else:
            node_ids = version.node_ids
        try:
            body = await json_object(request, _BadRequest, optional=True)
            _no_other_keys(body, ("nodeOutputs",))
            if "nodeOutputs" in body:
                _check_node_outputs(body["nodeOutputs"], node_ids)
        except _BadRequest as exc:
            return exc.response()
        upload_problem = self._server.resources_a.media_error(request, body)  # runway:// URIs
        if upload_problem is not None:
            return upload_problem
        try:
            with self._lock:
                invocation = self._start(account, version, body)
        except DailyLimitExceeded as exc:
            return web.json_response({"error": str(exc)}, status=429)
        return web.json_response({"id": invocation.id})

    def _start(self, account: str, version: _WorkflowVersion, body: object) -> _Invocation:
        first_kind: MediaKind = next(
            (kind for node in version.outputs for kind in node.kinds), "image"
        )
        task = self._server.simulation.create(
            endpoint=WORKFLOW_ENDPOINT,
            model=WORKFLOW_MODEL,
            kind=first_kind,
            body={"workflow": version.id, "body": body},
            estimated_credits=version.credits,
            output_count=0,
            duration=version.duration,
            failure=version.failure,
            usage_model=_USAGE_MODEL[first_kind],
        )
        # Node n of N finishes at (n + 1) / N of the run; a failing workflow fails at its
        # last node, so the nodes before it still deliver their files while it runs.
        count = len(version.outputs)
        finishes = tuple((n + 1) / count for n in range(count))
        first: list[int] = []
        kinds: list[MediaKind] = []
        ready: list[float] = []
        for n, (node, at) in enumerate(zip(version.outputs, finishes, strict=True)):
            first.append(len(kinds))
            failing = version.failure is not None and n == count - 1
            if node.error is None and not failing:
                kinds += node.kinds
                ready += [at] * len(node.kinds)
        task.output_count = len(kinds)
        task.output_kinds = tuple(kinds)
        task.output_ready = tuple(ready)
        task.invocation = True
        invocation = _Invocation(task.id, version, tuple(first), finishes)
        self._of(account).invocations[task.id] = invocation
        return invocation

    async def _get_invocation(self, request: web.Request) -> web.StreamResponse:
        ident = request.match_info["id"]
        with self._lock:
            invocation = self._of(account_of(request)).invocations.get(ident)
            task = self._server.simulation.get(ident) if invocation is not None else None
            now = self._server.simulation.now()
        if invocation is None or task is None:
            if self._spec_mock:
                return web.json_response(self._example_invocation(request, ident))
            return _not_found("Workflow invocation", ident)
        return web.json_response(_render_invocation(invocation, task, now, origin_of(request)))

    def _example_invocation(self, request: web.Request, ident: str) -> dict[str, Any]:
        created = self._server.simulation.wall_now()
        url = f"{origin_of(request)}/_emulator/outputs/{ident}/0.{MEDIA['image'].extension}"
        return {
            "id": ident,
            "createdAt": iso(created),
            "status": "SUCCEEDED",
            "output": {"output": [url]},
            "cost": {"credits": 0},
        }

    # -- routers ------------------------------------------------------------------------

    def _known_models(self) -> frozenset[str] | None:
        if self._spec_mock:
            return None
        names: set[str] = set()
        for name, spec in _catalog.task_endpoints().items():
            if spec.discriminator == "model" and _catalog.media_kind(name) != "audio":
                names.update(str(model) for model in spec.models)
        return frozenset(names)

    async def _create_router(self, request: web.Request) -> web.StreamResponse:
        account = account_of(request)
        try:
            body = await json_object(request, _BadRequest)
            _no_other_keys(body, ("slug", "name", "description", "settings"))
            slug = body.get("slug")
            if slug is None:
                raise _BadRequest("slug", "Required.", "invalid_type")
            _expect(slug, str, "slug", "string")
            if not _SLUG.match(slug):
                raise _BadRequest(
                    "slug",
                    "Use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or "
                    "digit.",
                    "invalid_string",
                )
            _check_text(body, "name", _MAX_NAME, nullable=False)
            _check_text(body, "description", _MAX_DESCRIPTION, nullable=False)
            settings: dict[str, Any] = {}
            if "settings" in body:
                settings = _check_settings(
                    body["settings"], update=False, known_models=self._known_models()
                )
        except _BadRequest as exc:
            return exc.response()
        with self._lock:
            routers = self._of(account).routers
            if not self._spec_mock and any(r.slug == slug for r in routers.values()):
                return web.json_response(
                    {"error": f"A router with slug {slug!r} already exists."}, status=409
                )
            now = self._server.simulation.wall_now()
            router = _Router(
                id=self._new_id(),
                slug=slug,
                name=body.get("name") or slug,
                description=body.get("description"),
                created_at=now,
                updated_at=now,
                version=1,
                settings={"schemaVersion": 1, "optimizeFor": "cost", **settings},
                position=self._next_position(),
            )
            routers[router.id] = router
            return web.json_response(router.render())

    def _example_router(self, ident: str) -> _Router:
        now = self._server.simulation.wall_now()
        return _Router(
            id=ident,
            slug="production-video",
            name="Production video",
            description=None,
            created_at=now,
            updated_at=now,
            version=1,
            settings={
                "schemaVersion": 1,
                "optimizeFor": "cost",
                "fallback": {"onCapacity": False},
                "maxCreditsPerGeneration": {"audio": 100, "image": 100, "video": 1000},
                "models": {"ids": ["gen4.5"], "mode": "allow_new_except"},
            },
            position=0,
        )

    def _router(self, request: web.Request) -> _Router | None:
        ident = request.match_info["id"]
        found = self._of(account_of(request)).routers.get(ident)
        if found is None and self._spec_mock:
            found = self._example_router(ident)
        return found

    async def _list_routers(self, request: web.Request) -> web.StreamResponse:
        try:
            page = _page_query(request.query, "routers", lenient=self._spec_mock)
        except _BadRequest as exc:
            return exc.response()
        with self._lock:
            routers = sorted(
                self._of(account_of(request)).routers.values(), key=lambda r: -r.position
            )
            items = [(-r.position, r.render()) for r in routers]  # newest first
        return web.json_response(_page(items, page, "routers"))

    async def _get_router(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            router = self._router(request)
            rendered = None if router is None else router.render()
        if rendered is None:
            return _not_found("Router", request.match_info["id"])
        return web.json_response(rendered)

    async def _update_router(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await json_object(request, _BadRequest, optional=True)
            _no_other_keys(body, ("name", "description", "settings"))
            _check_text(body, "name", _MAX_NAME, nullable=False)
            _check_text(body, "description", _MAX_DESCRIPTION, nullable=True)
            change = None
            if "settings" in body:
                change = _check_settings(
                    body["settings"], update=True, known_models=self._known_models()
                )
        except _BadRequest as exc:
            return exc.response()
        with self._lock:
            router = self._router(request)
            if router is None:
                return _not_found("Router", request.match_info["id"])
            if change is not None:
                merged = _merge(router.settings, change)
                merged["schemaVersion"] = 1
                models = merged.get("models")
                if isinstance(models, dict) and set(models) != {"ids", "mode"}:
                    return _BadRequest(
                        "settings.models",
                        "The router has no model list yet: give both 'ids' and 'mode'.",
                    ).response()
                if merged != router.settings:
                    router.settings = merged
                    router.version += 1
            if "name" in body:
                router.name = body["name"]
            if "description" in body:
                router.description = body["description"]
            router.updated_at = self._server.simulation.wall_now()
            return web.json_response(router.render())

    async def _delete_router(self, request: web.Request) -> web.StreamResponse:
        ident = request.match_info["id"]
        with self._lock:
            removed = self._of(account_of(request)).routers.pop(ident, None)
        if removed is None and not self._spec_mock:
            return _not_found("Router", ident)
        return web.Response(status=204)

    async def _list_requests(self, request: web.Request) -> web.StreamResponse:
        try:
            page = _page_query(request.query, "requests", lenient=self._spec_mock)
        except _BadRequest as exc:
            return exc.response()
        ident = request.match_info["id"]
        with self._lock:
            router = self._of(account_of(request)).routers.get(ident)
            if router is not None:
                entries = list(router.requests)
            elif self._spec_mock:
                example = self._example_router(ident)
                entries = [(1, _routing_request(self._example_request_fields(example)))]
            else:
                return _not_found("Router", ident)
        items = sorted(((-pos, item) for pos, item in entries), key=lambda p: p[0])  # newest first
        return web.json_response(_page(items, page, "requests"))

    def _example_request_fields(self, router: _Router) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "requestId": str(uuid.uuid4()),
            "createdAt": iso(self._server.simulation.wall_now()),
            "model": "gen4.5",
            "provider": "runway",
            "taskId": str(uuid.uuid4()),
            "credits": 60,
            "optimizeFor": router.settings.get("optimizeFor", "cost"),
        }

    def record_routing(
        self,
        request: web.Request,
        body: Mapping[str, Any],
        task_id: str,
        routing: Mapping[str, Any],
    ) -> None:
        """Record a ``POST /v1/generate/*`` call in the history of the router it names.

        Args:
            request: The generate request (for its API key).
            body: Its validated body (``configId`` is the router's slug).
            task_id: The task it created.
            routing: The ``routing`` object of its reply.

        """
        slug = body.get("configId")
        account = account_of(request)
        with self._lock:
            router = next((r for r in self._of(account).routers.values() if r.slug == slug), None)
            if router is None:
                return
            cost = routing.get("estimatedCost")
            credits = cost.get("credits", 0) if isinstance(cost, Mapping) else 0
            fields = {
                "id": self._new_id(),
                "requestId": self._new_id(),
                "createdAt": iso(self._server.simulation.wall_now()),
                "model": routing.get("model"),
                "provider": routing.get("provider"),
                "taskId": task_id,
                "credits": credits,
                "optimizeFor": router.settings.get("optimizeFor", "cost"),
            }
            router.requests.append((self._next_position(), _routing_request(fields)))

    # -- web-app reports ----------------------------------------------------------------

    async def _webapp_usage(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        lenient = self._spec_mock
        try:
            page = _page_query(query, "usage", lenient=lenient)
            start = end = None
            for key in ("from", "to"):
                if key not in query:
                    if not lenient:
                        raise _BadRequest(key, "Required.", "invalid_type")
                    continue
                try:
                    moment = _parse_moment(query[key], key)
                except _BadRequest:
                    if not lenient:
                        raise
                    continue
                if key == "from":
                    start = moment
                else:
                    end = moment
            if start is not None and end is not None and start >= end:
                if not lenient:
                    raise _BadRequest("to", "'to' must be after 'from'.")
                start = end = None  # a stateless example: show the rows
            workspaces = self._lenient(lenient, _workspace_ids, query.get("workspaceIds"))
        except _BadRequest as exc:
            return exc.response()
        with self._lock:
            rows = self._usage_rows
        items = [
            (n, _public(row))
            for n, row in enumerate(rows)
            if (start is None or row["_at"] >= start)
            and (end is None or row["_at"] < end)
            and (workspaces is None or row["workspaceId"] in workspaces)
        ]
        return web.json_response(_page(items, page, "usage"))

    @staticmethod
    def _lenient(lenient: bool, parse: Callable[[str], Any], value: str | None) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except _BadRequest:
            if lenient:
                return None
            raise

    async def _audit_logs(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        lenient = self._spec_mock
        try:
            page = _page_query(query, "audit", lenient=lenient)
            actions = self._lenient(lenient, _actions, query.get("actions"))
            emails = self._lenient(
                lenient,
                lambda v: {e.lower() for e in _split_list(v, "actorEmails")},
                query.get("actorEmails"),
            )
            workspaces = self._lenient(lenient, _workspace_ids, query.get("workspaceIds"))
            start = self._lenient(lenient, lambda v: _parse_moment(v, "from"), query.get("from"))
            end = self._lenient(lenient, lambda v: _parse_moment(v, "to"), query.get("to"))
            if start is not None and end is not None and start >= end and not lenient:
                raise _BadRequest("to", "'to' must be after 'from'.")
        except _BadRequest as exc:
            return exc.response()
        with self._lock:
            rows = self._audit_rows
        items = [
            (n, _public(row, _AUDIT_LIST_KEYS))
            for n, row in enumerate(rows)
            if (actions is None or row["action"] in actions)
            and (emails is None or (row["actorEmail"] or "").lower() in emails)
            and (workspaces is None or row["workspaceId"] in workspaces)
            and (start is None or row["_at"] >= start)
            and (end is None or row["_at"] < end)
        ]
        return web.json_response(_page(items, page, "audit"))

    async def _audit_log(self, request: web.Request) -> web.StreamResponse:
        ident = request.match_info["event_id"]
        with self._lock:
            index = self._audit_by_id.get(ident)
            row = None if index is None else self._audit_rows[index]
        if row is None:
            if not self._spec_mock:
                return _not_found("Audit log entry", ident)
            row = {**self._audit_rows[0], "eventId": ident}
        return web.json_response(_public(row))


_AUDIT_LIST_KEYS: Final = (
    "eventId",
    "action",
    "timestamp",
    "actorEmail",
    "actorUsername",
    "actorDeleted",
    "workspaceId",
    "workspaceName",
)


def _actions(value: str) -> set[str]:
    names = _split_list(value, "actions")
    for name in names:
        if name not in AUDIT_ACTIONS:
            raise _BadRequest("actions", f"Unknown audit action {name!r}.", "invalid_enum_value")
    return set(names)


def _public(row: Mapping[str, Any], keys: Iterable[str] | None = None) -> dict[str, Any]:
    """Return a seeded row without its private (``_``) keys, or only ``keys`` of it."""
    if keys is not None:
        return {key: row[key] for key in keys}
    return {key: value for key, value in row.items() if not key.startswith("_")}


def _seed_usage(midnight: datetime) -> list[dict[str, Any]]:
    """Return the seeded web-app usage rows, newest first (a charge or refund per 6 hours)."""
    rows = []
    for n in range(_USAGE_ROWS):
        at = midnight - n * _USAGE_STEP - timedelta(minutes=30)
        workspace_id, workspace_name = _WORKSPACES[n % len(_WORKSPACES)]
        refund = n % 7 == 3
        credits = float(5 * (n % 5 + 1))
        rows.append(
            {
                "_at": at,
                "timestamp": iso(at),
                "credits": -credits if refund else credits,
                "type": "refund" if refund else "charge",
                "tool": _TOOLS[n % len(_TOOLS)],
                "email": _MEMBERS[n % len(_MEMBERS)][0],
                "workspaceId": workspace_id,
                "workspaceName": workspace_name,
            }
        )
    return rows


def _seed_audit(midnight: datetime) -> list[dict[str, Any]]:
    """Return the seeded audit log, newest first (an entry per 4 hours)."""
    rows = []
    for n in range(_AUDIT_ROWS):
        at = midnight - n * _AUDIT_STEP - timedelta(minutes=17)
        action, resource_type, metadata = _AUDIT_SCRIPT[n % len(_AUDIT_SCRIPT)]
        workspace_id, workspace_name = _WORKSPACES[(n // 3) % len(_WORKSPACES)]
        deleted = n % 11 == 10  # now and then an actor who has since left
        email, username = _MEMBERS[n % len(_MEMBERS)]
        ident = uuid.uuid5(uuid.NAMESPACE_URL, f"runway-emulator:audit:{n}")
        rows.append(
            {
                "_at": at,
                "eventId": str(ident),
                "action": action,
                "timestamp": iso(at),
                "actorEmail": None if deleted else email,
                "actorUsername": None if deleted else username,
                "actorDeleted": deleted,
                "workspaceId": workspace_id,
                "workspaceName": workspace_name,
                "clientIpAddress": f"203.0.113.{n % 250 + 1}",
                "userAgent": None if n % 5 == 4 else "Mozilla/5.0 (emulator)",
                "requestId": str(uuid.uuid5(ident, "request")),
                "resourceId": None if resource_type is None else str(uuid.uuid5(ident, "res")),
                "resourceType": resource_type,
                "metadata": {
                    "Workspace ID": float(workspace_id),
                    "Workspace name": workspace_name,
                    **metadata,
                },
            }
        )
    return rows


def _routing_request(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return a ``routed`` routing-history item (reference section 9.2)."""
    model = fields["model"]
    optimize = fields["optimizeFor"]
    return {
        "id": fields["id"],
        "requestId": fields["requestId"],
        "createdAt": fields["createdAt"],
        "status": "routed",
        "model": model,
        "provider": fields["provider"],
        "taskId": fields["taskId"],
        "estimatedCredits": float(fields["credits"]),
        "reason": f"{model} was the only eligible model (optimizing for {optimize}).",
        "reasonCode": "only_eligible_model",
        "emptiedBy": [],
        "pipeline": [
            {"type": "filter", "filter": "capability", "models": [model]},
            {"type": "rank", "outcome": "single_candidate"},
        ],
    }


def _render_invocation(
    invocation: _Invocation, task: TaskRecord, now: float, origin: str
) -> dict[str, Any]:
    """Return a workflow invocation's wire JSON as of simulated time ``now`` (section 6)."""
    rendered: dict[str, Any] = {
        "id": invocation.id,
        "createdAt": iso(task.created_at),
        "status": task.status,
    }
    if task.status in ("PENDING", "THROTTLED", "CANCELLED"):
        return rendered
    progress = task.progress(now)
    version = invocation.workflow
    output: dict[str, list[str]] = {}
    errors: dict[str, dict[str, Any]] = {}
    for n, node in enumerate(version.outputs):
        done = task.status != "RUNNING" or progress >= invocation.finishes_at[n]
        failing = version.failure is not None and n == len(version.outputs) - 1
        if failing:
            if task.status == "FAILED" and task.failure is not None:
                code, text = task.failure
                errors[node.id] = {"message": text, "failureCode": code, "nodeName": node.name}
            continue
        if node.error is not None:
            if done:
                errors[node.id] = {
                    "message": _failure_text(node.error),
                    "failureCode": node.error,
                    "nodeName": node.name,
                }
            continue
        first = invocation.first_file[n]
        if done:
            output[node.id] = [
                f"{origin}/_emulator/outputs/{task.id}/{first + k}.{MEDIA[kind].extension}"
                for k, kind in enumerate(node.kinds)
            ]
    if task.status == "RUNNING":
        rendered.update(progress=progress, output=output)
    elif task.status == "SUCCEEDED":
        rendered.update(output=output, cost={"credits": task.charge()})
    else:  # FAILED
        code, text = task.failure or ("INTERNAL", "An internal error occurred.")
        rendered.update(failure=text, failureCode=code, cost={"credits": task.charge()})
        if not errors and version.outputs:  # a random failure: blame the last node
            last = version.outputs[-1]
            errors[last.id] = {"message": text, "failureCode": code, "nodeName": last.name}
    if errors:
        rendered["nodeErrors"] = errors
    return rendered


def register(server: Host, add: AddRoute) -> ResourcesB:
    """Create this module's state for ``server`` and add its routes.

    Args:
        server: The emulator application.
        add: Its route registration function.

    Returns:
        The state, kept by the server (``reset``, ``record_routing``, ``add_workflow``).

    """
    resources = ResourcesB(server)
    resources.add_routes(add)
    return resources
