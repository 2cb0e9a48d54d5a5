"""Emulator routes of uploads, avatars, conversations, realtime sessions, documents, voices.

Everything is in memory and belongs to the API key (the bearer token) that created it: another
key gets 404 for it and does not see it in lists. Lifecycles run on the simulation's clock in
API seconds, like tasks (so ``time_scale`` and an injected clock make them fast):

* an avatar is ``PROCESSING`` for ``avatar_seconds`` after a create (or a change of its image),
  then ``READY``; a ``referenceImage`` containing ``fail`` makes it ``FAILED``;
* a voice is ``PROCESSING`` for ``voice_seconds``, then ``READY`` with a ``previewUrl`` (a
  real WAV served by the emulator); a ``from.audio`` containing ``fail`` makes it ``FAILED``;
* a realtime session is ``NOT_READY`` for ``session_ready_seconds`` (``queued`` for the first
  half), then ``READY`` with a ``sessionKey`` for ``_KEY_LIFETIME`` API seconds. Consuming it
  (``POST /_emulator/realtime_sessions/{id}/consume`` with the session key as bearer, standing
  in for the WebRTC exchange) makes it ``RUNNING`` for ``session_seconds`` (at most its
  ``maxDuration``), then ``COMPLETED``; an unconsumed key expires into ``COMPLETED`` with
  duration 0. ``DELETE`` cancels it. Each session is also an avatar conversation
  (``in_progress`` / ``ended`` / ``failed``) with a synthetic transcript once consumed.

Lists are cursor pages (``{"data": [...], "nextCursor": str | null}``), newest first unless a
sort says otherwise, ``limit`` 1..100, opaque cursors bound to the list and its filters.
In spec-mock mode every route answers a valid example for any id, and referential checks
(documents, voices, avatars, uploads) are skipped.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, Protocol, TypeVar

import attrs
from aiohttp import web

from .._convert import json_type
from .._spec import ValidationIssue, validate_plain_wire
from .._spec._media import media_problem
from ._common import (
    MAX_PAGE,
    account_of,
    decode_cursor,
    encode_cursor,
    iso,
    json_object,
    origin_of,
    page_reply,
)
from ._config import EmulatorConfig
from ._media import MEDIA, build_wav
from ._state import Simulation
from ._uploads import (
    STORAGE_PREFIX,
    StorageRefused,
    UploadStore,
    check_headers,
    receive,
    storage_error,
    walk_runway_uris,
)

__all__ = ["ResourcesA", "register"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_T = TypeVar("_T")
_R = TypeVar("_R", bound="_Record")

LIVE_VOICES: Final = (
    "victoria", "vincent", "clara", "drew", "skye", "max", "morgan", "felix", "mia", "marcus",
    "summer", "ruby", "aurora", "jasper", "leo", "adrian", "nina", "emma", "blake", "david",
    "maya", "nathan", "sam", "georgia", "petra", "adam", "zach", "violet", "roman", "luna",
)  # fmt: skip
AVATAR_PRESETS: Final = (
    "game-character", "music-superstar", "game-character-man", "cat-character", "influencer",
    "tennis-coach", "human-resource", "fashion-designer", "cooking-teacher",
)  # fmt: skip
VOICE_MODELS: Final = ("eleven_ttv_v3", "eleven_multilingual_ttv_v2")
_VOICE_STYLES: Final = (
    "Warm and friendly, with a relaxed pace.",
    "Clear and confident, suited to explanations.",
    "Bright and energetic, with an upbeat tone.",
    "Calm and measured, with a low register.",
)
_TOOL_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM_TYPES: Final = ("string", "integer", "number", "boolean", "array", "object")
_MAX_USAGE_DAYS: Final = 90
_KEY_LIFETIME: Final = 300.0  # API seconds a READY session's key stays valid
_DEFAULT_MAX_DURATION: Final = 300  # seconds; the guide's 5-minute session cap
_PREVIEW_LIFETIME: Final = 86_400.0  # API seconds a voice preview URL works
_MIN_PROMPT: Final = 20
_FAIL_MARKER: Final = "fail"
_PREVIEW_SECONDS: Final = 1.0
PREVIEW_WAV: Final = build_wav(seconds=_PREVIEW_SECONDS, tone=330.0)
"""The audio every voice preview and voice sample serves: 1 s of a quiet 330 Hz tone."""


class Host(Protocol):
    """What the routes need from the emulator's application (``EmulatorApp``)."""

    config: EmulatorConfig
    simulation: Simulation
    lock: threading.Lock


class AddRoute(Protocol):
    """``EmulatorApp``'s route registrar."""

    def __call__(
        self,
        method: str,
        path: str,
        handler: Handler,
        endpoint: str | None,
        *,
        creates_task: bool = False,
    ) -> None: ...


# -- errors and request parsing ---------------------------------------------------------


class _Invalid(Exception):
    """A 400: ``field`` (a wire path) is wrong."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _SpecInvalid(Exception):
    """A 400 from the spec's checks of a plain endpoint's request (every issue found)."""

    def __init__(self, issues: list[ValidationIssue]) -> None:
        super().__init__(issues[0].message)
        self.issues = issues


class _NotFound(Exception):
    """A 404 for ``what``."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _invalid_reply(exc: _Invalid) -> web.Response:
    if exc.field is None:
        return _error(400, exc.message)
    message = f"Invalid parameter '{exc.field}': {exc.message}"
    path: list[str | int] = [
        int(p) if p.isdigit() else p for p in re.split(r"\.|\[|\]\.?", exc.field) if p
    ]
    return _error(400, message, issues=[{"code": "invalid", "path": path, "message": exc.message}])


def _spec_reply(exc: _SpecInvalid) -> web.Response:
    first = exc.issues[0]
    field = "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" if i else str(p)
        for i, p in enumerate(first.path)
    )
    message = f"Invalid parameter '{field}': {first.message}" if field else first.message
    issues = [{"code": i.code, "path": list(i.path), "message": i.message} for i in exc.issues]
    return _error(400, message, issues=issues)


def _guard(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except _SpecInvalid as exc:
            return _spec_reply(exc)
        except _Invalid as exc:
            return _invalid_reply(exc)
        except _NotFound as exc:
            return _error(404, f"{exc.what} not found.")

    return guarded


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _only(body: Mapping[str, Any], allowed: Iterable[str], where: str = "") -> None:
    allowed = set(allowed)
    for key in body:
        if key not in allowed:
            raise _Invalid(_join(where, key), "unrecognized key")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(where, "must be an object")
    return value


def _string(
    body: Mapping[str, Any],
    key: str,
    where: str = "",
    *,
    required: bool = False,
    nullable: bool = False,
    min_length: int = 1,
) -> str | None:
    field = _join(where, key)
    if key not in body:
        if required:
            raise _Invalid(field, "is required")
        return None
    value = body[key]
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise _Invalid(field, f"must be a string, got {json_type(value, article=True)}")
    if len(value) < min_length:
        raise _Invalid(field, f"must be at least {min_length} characters long")
    return value


def _required(body: Mapping[str, Any], key: str, where: str = "", *, min_length: int = 1) -> str:
    value = _string(body, key, where, required=True, min_length=min_length)
    if value is None:  # only for a nullable field, which a required one is not
        raise _Invalid(_join(where, key), "is required")
    return value


def _enum(
    body: Mapping[str, Any], key: str, values: Iterable[str], where: str = "", *, required: bool
) -> str | None:
    field = _join(where, key)
    if key not in body:
        if required:
            raise _Invalid(field, "is required")
        return None
    value = body[key]
    allowed = tuple(values)
    if value not in allowed:
        shown = ", ".join(f"'{v}'" for v in allowed)
        raise _Invalid(field, f"must be one of {shown}, got {json.dumps(value)}")
    return str(value)


def _integer(
    body: Mapping[str, Any], key: str, where: str = "", *, minimum: int | None = None
) -> int | None:
    field = _join(where, key)
    if key not in body:
        return None
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(field, f"must be an integer, got {json_type(value, article=True)}")
    if minimum is not None and value < minimum:
        raise _Invalid(field, f"must be at least {minimum}")
    return value


def _tagged(value: Any, where: str, tags: Iterable[str]) -> tuple[str, dict[str, Any]]:
    obj = _object(value, where)
    tag = _enum(obj, "type", tags, where, required=True)
    return str(tag), obj


def _parse_moment(value: str, field: str) -> datetime:
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _Invalid(field, f"must be an ISO-8601 date-time, got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _title(identifier: str) -> str:
    return " ".join(part.capitalize() for part in identifier.replace("_", "-").split("-"))


# -- cursor pages ---------------------------------------------------------------------------


def _limit(request: web.Request, *, lenient: bool) -> int:
    raw = request.query.get("limit")
    if raw is None:
        if lenient:
            return 10
        raise _Invalid("limit", "is required")
    try:
        limit = int(raw)
    except ValueError:
        raise _Invalid("limit", f"must be an integer, got {raw!r}") from None
    if not 1 <= limit <= MAX_PAGE:
        if lenient:
            return min(max(limit, 1), MAX_PAGE)
        raise _Invalid("limit", f"must be from 1 to {MAX_PAGE}, got {limit}")
    return limit


def _encode_cursor(scope: str, key: tuple[float, int]) -> str:
    return encode_cursor({"s": scope, "k": list(key)})


def _decode_cursor(cursor: str, scope: str) -> tuple[float, int]:
    try:
        data: Any = decode_cursor(cursor)
        key = data["k"]
        if data["s"] != scope or len(key) != 2:
            raise ValueError("another list")
        return float(key[0]), int(key[1])
    except (ValueError, KeyError, TypeError):
        raise _Invalid(
            "cursor",
            "is not a cursor of this list (pass nextCursor from the previous page with the "
            "same filters)",
        ) from None


def _page(
    items: Iterable[_T],
    key: Callable[[_T], tuple[float, int]],
    *,
    descending: bool,
    limit: int,
    cursor: str | None,
    scope: str,
    lenient: bool,
) -> tuple[list[_T], str | None]:
    ordered = sorted(items, key=key, reverse=descending)
    if cursor:
        try:
            after = _decode_cursor(cursor, scope)
        except _Invalid:
            if not lenient:
                raise
            after = None
        if after is not None:
            ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    page = ordered[:limit]
    more = len(ordered) > limit
    return page, _encode_cursor(scope, key(page[-1])) if more and page else None


# -- records ----------------------------------------------------------------------------


@attrs.define(kw_only=True)
class _Record:
    id: str
    account: str
    seq: int
    created: float  # API seconds
    created_at: datetime

    def order_key(self) -> tuple[float, int]:
        return (self.created_at.timestamp(), self.seq)

    def wall(self, at: float) -> datetime:
        """Return the calendar time of simulated instant ``at`` (one API second = one second)."""
        return self.created_at + timedelta(seconds=max(at - self.created, 0.0))


@attrs.define(kw_only=True)
class _Document(_Record):
    name: str
    content: str
    updated_at: datetime

    def updated_key(self) -> tuple[float, int]:
        return (self.updated_at.timestamp(), self.seq)


@attrs.define(kw_only=True)
class _Voice(_Record):
    name: str
    description: str | None
    source: dict[str, Any]
    fails: bool

    def status(self, now: float, config: EmulatorConfig) -> str:
        if now < self.created + config.voice_seconds:
            return "PROCESSING"
        return "FAILED" if self.fails else "READY"


@attrs.define(kw_only=True)
class _Avatar(_Record):
    name: str
    personality: str
    reference_image: str
    voice: dict[str, Any]
    document_ids: list[str]
    image_processing: str | None
    start_script: str | None
    updated_at: datetime
    processing_from: float
    fails: bool

    def status(self, now: float, config: EmulatorConfig) -> str:
        if now < self.processing_from + config.avatar_seconds:
            return "PROCESSING"
        return "FAILED" if self.fails else "READY"


@attrs.define(kw_only=True)
class _Session(_Record):
    avatar: dict[str, Any]  # the request's avatar object
    avatar_name: str | None
    max_duration: int | None
    personality: str | None
    start_script: str | None
    tools: list[dict[str, Any]]
    session_key: str
    ready_at: float
    consumed: float | None = None
    cancelled: float | None = None
    conversation_deleted: bool = False

    def expires(self) -> float:
        return self.ready_at + _KEY_LIFETIME

    def run_seconds(self, config: EmulatorConfig) -> float:
        cap = self.max_duration if self.max_duration is not None else _DEFAULT_MAX_DURATION
        return min(config.session_seconds, float(cap))

    def ended(self, config: EmulatorConfig) -> float | None:
        """When the session ended or will end, if it is bound to."""
        natural: float | None
        if self.consumed is not None:
            natural = self.consumed + self.run_seconds(config)
        else:
            natural = self.expires()
        if self.cancelled is not None and self.cancelled < natural:
            return self.cancelled
        return natural

    def status(self, now: float, config: EmulatorConfig) -> str:
        end = self.ended(config)
        if self.cancelled is not None and end == self.cancelled and now >= end:
            return "CANCELLED"
        if end is not None and now >= end:
            return "COMPLETED"
        if self.consumed is not None:
            return "RUNNING"
        return "NOT_READY" if now < self.ready_at else "READY"

    def duration(self, now: float, config: EmulatorConfig) -> int | None:
        """Seconds of conversation once over (``None`` while running or never started)."""
        if self.consumed is None:
            return None
        end = self.ended(config)
        if end is None or now < end:
            return None
        return int(end - self.consumed)


class ResourcesA:
    """The state and handlers of the plain resources of brief A (see the module docstring).

    Args:
        host: The emulator application: its config, simulation (the clocks) and lock.

    """

    def __init__(self, host: Host) -> None:
        self._host = host
        self._config = host.config
        self._sim = host.simulation
        self.uploads = UploadStore(
            lifetime=self._config.upload_lifetime,
            max_bytes=self._config.upload_max_bytes,
            wall_clock=self._sim.wall_now,
        )
        self._seq = 0
        self._avatars: dict[str, _Avatar] = {}
        self._sessions: dict[str, _Session] = {}
        self._documents: dict[str, _Document] = {}
        self._voices: dict[str, _Voice] = {}
        self._previews: dict[str, float] = {}  # token -> expiry (API seconds)

    def reset(self) -> None:
        """Forget every upload, avatar, session, document, voice and preview (lock held)."""
        self.uploads.reset()
        self._avatars.clear()
        self._sessions.clear()
        self._documents.clear()
        self._voices.clear()
        self._previews.clear()

    # -- assembly -----------------------------------------------------------------------

    def routes(self, add: AddRoute) -> None:
        """Register every route on the application."""
        g = _guard
        add("POST", "/v1/uploads", g(self._create_upload), "uploads.create")
        add("POST", STORAGE_PREFIX + "{token}", self._storage, "uploads.storage")
        add("GET", "/_emulator/uploads", self._list_uploads, None)
        add("POST", "/v1/avatars", g(self._create_avatar), "avatars.create")
        add("GET", "/v1/avatars", g(self._list_avatars), "avatars.list")
        add("GET", "/v1/avatars/{id}", g(self._get_avatar), "avatars.retrieve")
        add("PATCH", "/v1/avatars/{id}", g(self._update_avatar), "avatars.update")
        add("DELETE", "/v1/avatars/{id}", g(self._delete_avatar), "avatars.delete")
        add("GET", "/v1/avatar_usage", g(self._avatar_usage), "avatars.get_usage")
        add(
            "GET",
            "/v1/avatar_conversations",
            g(self._list_conversations),
            "avatar_conversations.list",
        )
        add(
            "GET",
            "/v1/avatar_conversations/{id}",
            g(self._get_conversation),
            "avatar_conversations.retrieve",
        )
        add(
            "DELETE",
            "/v1/avatar_conversations/{id}",
            g(self._delete_conversation),
            "avatar_conversations.delete",
        )
        add("POST", "/v1/realtime_sessions", g(self._create_session), "realtime_sessions.create")
        add("GET", "/v1/realtime_sessions/{id}", g(self._get_session), "realtime_sessions.retrieve")
        add(
            "DELETE",
            "/v1/realtime_sessions/{id}",
            g(self._delete_session),
            "realtime_sessions.delete",
        )
        add(
            "POST",
            "/_emulator/realtime_sessions/{id}/consume",
            g(self._consume_session),
            None,
        )
        add("POST", "/v1/documents", g(self._create_document), "documents.create")
        add("GET", "/v1/documents", g(self._list_documents), "documents.list")
        add("GET", "/v1/documents/{id}", g(self._get_document), "documents.retrieve")
        add("PATCH", "/v1/documents/{id}", g(self._update_document), "documents.update")
        add("DELETE", "/v1/documents/{id}", g(self._delete_document), "documents.delete")
        add("POST", "/v1/voices/preview", g(self._preview_voice), "voices.preview")
        add("POST", "/v1/voices", g(self._create_voice), "voices.create")
        add("GET", "/v1/voices", g(self._list_voices), "voices.list")
        add("GET", "/v1/voices/{id}", g(self._get_voice), "voices.retrieve")
        add("PATCH", "/v1/voices/{id}", g(self._update_voice), "voices.update")
        add("DELETE", "/v1/voices/{id}", g(self._delete_voice), "voices.delete")
        for method in ("GET", "HEAD"):
            add(method, "/_emulator/avatars/{id}/{name}", self._avatar_image, None)
        for method in ("GET", "HEAD"):
            add(method, "/_emulator/voices/{id}/sample.wav", self._voice_sample, None)
        for method in ("GET", "HEAD"):
            add(method, "/_emulator/voice_previews/{token}", self._preview_audio, None)
        for method in ("GET", "HEAD"):
            add(method, "/_emulator/recordings/{id}", self._recording, None)

    # -- shared -------------------------------------------------------------------------

    @property
    def _mock(self) -> bool:
        return self._config.spec_mock

    def _next(self) -> tuple[str, int, float, datetime]:
        self._seq += 1
        return str(_uuid4()), self._seq, self._sim.now(), self._sim.wall_now()

    def media_error(self, request: web.Request, body: object) -> web.Response | None:
        """Return the 400 for a body using a ``runway://`` URI it may not use, else ``None``.

        The task-creating handler calls it once a body passed the spec's checks.

        Args:
            request: The request (its API key owns the uploads it may use).
            body: The parsed JSON body.

        Returns:
            The error reply naming the field, or ``None``.

        """
        if self._mock:
            return None
        account = account_of(request)
        with self._host.lock:
            now = self._sim.now()
            for field, uri in walk_runway_uris(body):
                problem = self.uploads.problem(account, uri, now)
                if problem is not None:
                    return _invalid_reply(_Invalid(field, problem))
        return None

    def _check_media(self, value: str, field: str, kind: str, account: str) -> None:
        problem = media_problem(value, kind, allow_loopback_http=True)
        if problem is not None:
            raise _Invalid(field, problem)
        if value.startswith("runway://") and not self._mock:
            problem = self.uploads.problem(account, value, self._sim.now())
            if problem is not None:
                raise _Invalid(field, problem)

    def _check_spec(
        self, endpoint: str, request: web.Request, body: Mapping[str, Any] | None = None
    ) -> None:
        """Apply the spec's checks of ``endpoint`` (the client's own) to a received request.

        Spec-mock mode skips them: the official suite sends bodies a stateless mock accepts
        (an empty update, say). The handlers' own checks (references, markers) follow.
        """
        if self._mock:
            return
        issues = validate_plain_wire(endpoint, body, dict(request.query), allow_loopback_http=True)
        if issues:
            raise _SpecInvalid(issues)

    def _owned(self, table: Mapping[str, _T], request: web.Request, what: str) -> _T | None:
        """Return the record of the path's id owned by the request's key; raise 404 if none.

        Returns ``None`` (spec-mock mode) when a synthetic reply should be made instead.
        """
        item_id = request.match_info["id"]
        record = table.get(item_id)
        if record is None or getattr(record, "account", None) != account_of(request):
            if self._mock:
                return None
            raise _NotFound(f"{what} {item_id!r}")
        return record

    def _one_reply(
        self,
        request: web.Request,
        table: Mapping[str, _R],
        what: str,
        render: Callable[[_R], dict[str, Any]],
        example: Callable[[str], dict[str, Any]],
    ) -> web.Response:
        """Reply with the path's record (``_owned``); in spec-mock mode an ``example(id)``."""
        with self._host.lock:
            record = self._owned(table, request, what)
            data = example(request.match_info["id"]) if record is None else render(record)
        return web.json_response(data)

    def _delete_owned(self, request: web.Request, table: dict[str, _R], what: str) -> _R | None:
        """Delete the path's record (``_owned``) from ``table``; return it (lock held)."""
        record = self._owned(table, request, what)
        if record is not None:
            del table[record.id]
        return record

    def _list_reply(
        self,
        request: web.Request,
        table: Mapping[str, _R],
        render: Callable[[_R], dict[str, Any]],
        example: Callable[[], dict[str, Any]],
        *,
        limit: int,
        scope: str,
        select: Callable[[_R], bool] = lambda _: True,
        key: Callable[[_R], tuple[float, int]] = _Record.order_key,
        descending: bool = True,
    ) -> web.Response:
        """Reply with a page of the request key's records of ``table`` that ``select`` keeps.

        Newest first unless ``key`` and ``descending`` say otherwise; the cursor is bound to
        ``scope`` (the list and its filters). In spec-mock mode a malformed cursor is
        ignored and an empty page holds one ``example()``.
        """
        account = account_of(request)
        with self._host.lock:
            mine = [r for r in table.values() if r.account == account and select(r)]
            page, cursor = _page(
                mine,
                key,
                descending=descending,
                limit=limit,
                cursor=request.query.get("cursor"),
                scope=scope,
                lenient=self._mock,
            )
            data = [render(r) for r in page]
        if self._mock and not data:
            data = [example()]
        return page_reply(data, cursor)

    # -- uploads ------------------------------------------------------------------------

    async def _create_upload(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid)
        self._check_spec("uploads.create", request, body)
        _only(body, ("filename", "type"))
        filename = _required(body, "filename")
        if "/" in filename or "\\" in filename or len(filename) > 255:
            raise _Invalid("filename", "must be a file name (no path), at most 255 characters")
        _enum(body, "type", ("ephemeral",), required=True)
        with self._host.lock:
            reply = self.uploads.issue(
                account_of(request), filename, origin_of(request), self._sim.now()
            )
        return web.json_response(reply)

    async def _storage(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        with self._host.lock:
            upload = self.uploads.by_token(token)
            now = self._sim.now()
        if upload is None:
            return storage_error(403, "AccessDenied", "Access Denied")
        if now >= upload.expires:
            return storage_error(
                403, "AccessDenied", "Invalid according to Policy: Policy expired."
            )
        refused = check_headers(request.headers, self.uploads.max_bytes)
        if refused is not None:
            return refused
        try:
            received = await receive(request, upload, self.uploads.max_bytes)
        except StorageRefused as exc:
            return exc.response
        with self._host.lock:
            upload.uploaded = True
            upload.size = received.size
            upload.sha256 = received.sha256
            upload.content_type = received.content_type
            upload.received_filename = received.filename
        return web.Response(status=204)

    async def _list_uploads(self, request: web.Request) -> web.StreamResponse:
        with self._host.lock:
            now = self._sim.now()
            data = [upload.describe(now) for upload in self.uploads]
        return web.json_response({"uploads": data})

    # -- documents ----------------------------------------------------------------------

    def _used_by(self, document_id: str, account: str, origin: str) -> list[dict[str, Any]]:
        now = self._sim.now()
        return [
            {"id": a.id, "name": a.name, "imageUrl": self._image_url(a, origin, now)}
            for a in sorted(self._avatars.values(), key=_Record.order_key)
            if a.account == account and document_id in a.document_ids
        ]

    def _render_document(
        self, doc: _Document, origin: str, *, content: bool = True
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": doc.id,
            "name": doc.name,
            "type": "text",
            "createdAt": iso(doc.created_at),
            "updatedAt": iso(doc.updated_at),
            "usedBy": self._used_by(doc.id, doc.account, origin),
        }
        if content:
            data["content"] = doc.content
        return data

    def _mock_document(self, doc_id: str, *, content: bool = True) -> dict[str, Any]:
        now = iso(self._sim.wall_now())
        data: dict[str, Any] = {
            "id": doc_id,
            "name": "Product FAQ",
            "type": "text",
            "createdAt": now,
            "updatedAt": now,
            "usedBy": [{"id": str(_uuid4()), "name": "Support agent", "imageUrl": None}],
        }
        if content:
            data["content"] = "# Product FAQ\n\nAnswers to common questions."
        return data

    async def _create_document(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid)
        self._check_spec("documents.create", request, body)
        _only(body, ("name", "content"))
        name = _required(body, "name")
        content = _required(body, "content")
        with self._host.lock:
            doc_id, seq, now, wall = self._next()
            doc = _Document(
                id=doc_id,
                account=account_of(request),
                seq=seq,
                created=now,
                created_at=wall,
                updated_at=wall,
                name=name,
                content=content,
            )
            self._documents[doc_id] = doc
            data = self._render_document(doc, origin_of(request))
        return web.json_response(data)

    async def _get_document(self, request: web.Request) -> web.StreamResponse:
        origin = origin_of(request)
        return self._one_reply(
            request,
            self._documents,
            "Document",
            lambda doc: self._render_document(doc, origin),
            self._mock_document,
        )

    async def _update_document(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid, optional=True)
        self._check_spec("documents.update", request, body)
        _only(body, ("name", "content"))
        name = _string(body, "name")
        content = _string(body, "content")
        if name is None and content is None and not self._mock:
            raise _Invalid(None, "Provide at least one of 'name' and 'content'.")
        with self._host.lock:
            doc = self._owned(self._documents, request, "Document")
            if doc is not None:
                if name is not None:
                    doc.name = name
                if content is not None:
                    doc.content = content
                doc.updated_at = self._sim.wall_now()
        return web.Response(status=204)

    async def _delete_document(self, request: web.Request) -> web.StreamResponse:
        with self._host.lock:
            doc = self._delete_owned(request, self._documents, "Document")
            if doc is not None:
                for avatar in self._avatars.values():
                    if doc.id in avatar.document_ids:
                        avatar.document_ids.remove(doc.id)
        return web.Response(status=204)

    async def _list_documents(self, request: web.Request) -> web.StreamResponse:
        self._check_spec("documents.list", request)
        q = request.query
        mock = self._mock
        limit = _limit(request, lenient=mock)
        sort = _enum(q, "sort", ("createdAt", "updatedAt"), required=not mock) or "createdAt"
        order = _enum(q, "order", ("asc", "desc"), required=not mock) or "desc"
        origin = origin_of(request)
        return self._list_reply(
            request,
            self._documents,
            lambda doc: self._render_document(doc, origin, content=False),
            lambda: self._mock_document(str(_uuid4()), content=False),
            limit=limit,
            scope=f"documents:{sort}:{order}",
            key=_Record.order_key if sort == "createdAt" else _Document.updated_key,
            descending=order == "desc",
        )

    # -- voices -------------------------------------------------------------------------

    def _render_voice(self, voice: _Voice, origin: str) -> dict[str, Any]:
        status = voice.status(self._sim.now(), self._config)
        data: dict[str, Any] = {
            "id": voice.id,
            "status": status,
            "name": voice.name,
            "description": voice.description,
            "createdAt": iso(voice.created_at),
        }
        if status == "READY":
            data["previewUrl"] = f"{origin}/_emulator/voices/{voice.id}/sample.wav"
        elif status == "FAILED":
            data["failureReason"] = "The reference audio could not be used to clone a voice."
        return data

    def _mock_voice(self, voice_id: str, origin: str) -> dict[str, Any]:
        return {
            "id": voice_id,
            "status": "READY",
            "name": "Narrator",
            "description": "A calm narrator voice.",
            "createdAt": iso(self._sim.wall_now()),
            "previewUrl": f"{origin}/_emulator/voices/{voice_id}/sample.wav",
        }

    def _check_voice_source(self, body: Mapping[str, Any], account: str) -> dict[str, Any]:
        if "from" not in body:
            raise _Invalid("from", "is required")
        kind, source = _tagged(body["from"], "from", ("audio", "text"))
        if kind == "audio":
            _only(source, ("type", "audio"), "from")
            audio = _required(source, "audio", "from")
            self._check_media(audio, "from.audio", "audio", account)
        else:
            _only(source, ("type", "model", "prompt"), "from")
            _enum(source, "model", VOICE_MODELS, "from", required=True)
            _required(source, "prompt", "from", min_length=_MIN_PROMPT)
        return dict(source)

    async def _create_voice(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid)
        self._check_spec("voices.create", request, body)
        _only(body, ("from", "name", "description"))
        account = account_of(request)
        name = _required(body, "name")
        description = _string(body, "description", nullable=True, min_length=0)
        with self._host.lock:
            source = self._check_voice_source(body, account)
            audio = source.get("audio")
            voice_id, seq, now, wall = self._next()
            self._voices[voice_id] = _Voice(
                id=voice_id,
                account=account,
                seq=seq,
                created=now,
                created_at=wall,
                name=name,
                description=description,
                source=source,
                fails=isinstance(audio, str) and _FAIL_MARKER in audio.lower(),
            )
        return web.json_response({"id": voice_id})

    async def _get_voice(self, request: web.Request) -> web.StreamResponse:
        origin = origin_of(request)
        return self._one_reply(
            request,
            self._voices,
            "Voice",
            lambda voice: self._render_voice(voice, origin),
            lambda voice_id: self._mock_voice(voice_id, origin),
        )

    async def _update_voice(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid, optional=True)
        self._check_spec("voices.update", request, body)
        _only(body, ("name", "description"))
        name = _string(body, "name")
        description = _string(body, "description", nullable=True, min_length=0)
        with self._host.lock:
            voice = self._owned(self._voices, request, "Voice")
            if voice is None:
                data = self._mock_voice(request.match_info["id"], origin_of(request))
                data.update({k: v for k, v in body.items() if k in ("name", "description")})
                return web.json_response(data)
            if name is not None:
                voice.name = name
            if "description" in body:
                voice.description = description
            data = self._render_voice(voice, origin_of(request))
        return web.json_response(data)

    async def _delete_voice(self, request: web.Request) -> web.StreamResponse:
        with self._host.lock:
            self._delete_owned(request, self._voices, "Voice")
        return web.Response(status=204)

    async def _list_voices(self, request: web.Request) -> web.StreamResponse:
        self._check_spec("voices.list", request)
        origin = origin_of(request)
        return self._list_reply(
            request,
            self._voices,
            lambda voice: self._render_voice(voice, origin),
            lambda: self._mock_voice(str(_uuid4()), origin),
            limit=_limit(request, lenient=self._mock),
            scope="voices",
        )

    async def _preview_voice(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid)
        self._check_spec("voices.preview", request, body)
        _only(body, ("model", "prompt"))
        _enum(body, "model", VOICE_MODELS, required=True)
        _required(body, "prompt", min_length=_MIN_PROMPT)
        token = secrets.token_urlsafe(18)
        with self._host.lock:
            self._previews[token] = self._sim.now() + _PREVIEW_LIFETIME
        return web.json_response(
            {
                "url": f"{origin_of(request)}/_emulator/voice_previews/{token}.wav",
                "durationSecs": _PREVIEW_SECONDS,
            }
        )

    async def _voice_sample(self, request: web.Request) -> web.StreamResponse:
        with self._host.lock:
            voice = self._voices.get(request.match_info["id"])
            ready = voice is not None and voice.status(self._sim.now(), self._config) == "READY"
        if not ready and not self._mock:
            return _error(404, "No such voice sample.")
        return _audio()

    async def _preview_audio(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["token"]
        token = name.removesuffix(".wav")
        with self._host.lock:
            expires = self._previews.get(token)
            live = expires is not None and self._sim.now() < expires and name.endswith(".wav")
        if not live:
            return _error(404, "No such preview (or it has expired).")
        return _audio()

    # -- avatars ------------------------------------------------------------------------

    def _check_avatar_voice(self, value: Any, account: str) -> dict[str, Any]:
        kind, voice = _tagged(value, "voice", ("runway-live-preset", "custom"))
        if kind == "runway-live-preset":
            _only(voice, ("type", "presetId"), "voice")
            _enum(voice, "presetId", LIVE_VOICES, "voice", required=True)
        else:
            _only(voice, ("type", "id"), "voice")
            voice_id = _required(voice, "id", "voice")
            if not self._mock:
                found = self._voices.get(voice_id or "")
                if found is None or found.account != account:
                    raise _Invalid("voice.id", f"no custom voice has the id {voice_id!r}")
        return dict(voice)

    def _check_document_ids(self, value: Any, account: str) -> list[str]:
        if not isinstance(value, list):
            raise _Invalid("documentIds", f"must be an array, got {json_type(value, article=True)}")
        ids: list[str] = []
        for index, item in enumerate(value):
            field = f"documentIds[{index}]"
            if not isinstance(item, str):
                raise _Invalid(field, f"must be a string, got {json_type(item, article=True)}")
            if not self._mock:
                doc = self._documents.get(item)
                if doc is None or doc.account != account:
                    raise _Invalid(field, f"no document has the id {item!r}")
            if item not in ids:
                ids.append(item)
        return ids

    def _render_voice_ref(self, voice: Mapping[str, Any]) -> dict[str, Any]:
        if voice["type"] == "runway-live-preset":
            preset = voice["presetId"]
            style = _VOICE_STYLES[LIVE_VOICES.index(preset) % len(_VOICE_STYLES)]
            return {
                "type": "runway-live-preset",
                "presetId": preset,
                "name": _title(preset),
                "description": style,
            }
        found = self._voices.get(voice["id"])
        if found is None:
            return {"type": "custom", "id": voice["id"], "deleted": True}
        return {
            "type": "custom",
            "id": found.id,
            "deleted": False,
            "name": found.name,
            "description": found.description,
        }

    def _image_url(self, avatar: _Avatar, origin: str, now: float) -> str | None:
        if avatar.status(now, self._config) != "READY":
            return None
        return f"{origin}/_emulator/avatars/{avatar.id}/processed.png"

    def _render_avatar(self, avatar: _Avatar, origin: str) -> dict[str, Any]:
        now = self._sim.now()
        status = avatar.status(now, self._config)
        data: dict[str, Any] = {
            "id": avatar.id,
            "status": status,
            "name": avatar.name,
            "personality": avatar.personality,
            "startScript": avatar.start_script,
            "voice": self._render_voice_ref(avatar.voice),
            "documentIds": list(avatar.document_ids),
            "referenceImageUri": f"{origin}/_emulator/avatars/{avatar.id}/reference.png",
            "processedImageUri": self._image_url(avatar, origin, now),
            "createdAt": iso(avatar.created_at),
            "updatedAt": iso(avatar.updated_at),
        }
        if status == "FAILED":
            data["failureReason"] = "No face could be found in the reference image."
        return data

    def _mock_avatar(self, avatar_id: str, origin: str) -> dict[str, Any]:
        now = iso(self._sim.wall_now())
        return {
            "id": avatar_id,
            "status": "READY",
            "name": "Support agent",
            "personality": "You are a helpful support agent.",
            "startScript": "Hello! How can I help you today?",
            "voice": self._render_voice_ref({"type": "runway-live-preset", "presetId": "adrian"}),
            "documentIds": [],
            "referenceImageUri": f"{origin}/_emulator/avatars/{avatar_id}/reference.png",
            "processedImageUri": f"{origin}/_emulator/avatars/{avatar_id}/processed.png",
            "createdAt": now,
            "updatedAt": now,
        }

    async def _create_avatar(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid)
        self._check_spec("avatars.create", request, body)
        _only(
            body,
            (
                "name",
                "personality",
                "referenceImage",
                "voice",
                "documentIds",
                "imageProcessing",
                "startScript",
            ),
        )
        account = account_of(request)
        name = _required(body, "name")
        personality = _required(body, "personality")
        image = _required(body, "referenceImage")
        processing = _enum(body, "imageProcessing", ("optimize", "none"), required=False)
        start_script = _string(body, "startScript", min_length=0)
        if "voice" not in body:
            raise _Invalid("voice", "is required")
        with self._host.lock:
            self._check_media(image, "referenceImage", "image", account)
            voice = self._check_avatar_voice(body["voice"], account)
            documents = self._check_document_ids(body.get("documentIds", []), account)
            avatar_id, seq, now, wall = self._next()
            avatar = _Avatar(
                id=avatar_id,
                account=account,
                seq=seq,
                created=now,
                created_at=wall,
                updated_at=wall,
                name=name,
                personality=personality,
                reference_image=image,
                voice=voice,
                document_ids=documents,
                image_processing=processing,
                start_script=start_script,
                processing_from=now,
                fails=_FAIL_MARKER in image.lower(),
            )
            self._avatars[avatar_id] = avatar
            data = self._render_avatar(avatar, origin_of(request))
        return web.json_response(data)

    async def _get_avatar(self, request: web.Request) -> web.StreamResponse:
        origin = origin_of(request)
        return self._one_reply(
            request,
            self._avatars,
            "Avatar",
            lambda avatar: self._render_avatar(avatar, origin),
            lambda avatar_id: self._mock_avatar(avatar_id, origin),
        )

    async def _update_avatar(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid, optional=True)
        self._check_spec("avatars.update", request, body)
        fields = (
            "name",
            "personality",
            "referenceImage",
            "voice",
            "documentIds",
            "imageProcessing",
            "startScript",
        )
        _only(body, fields)
        if not body and not self._mock:
            raise _Invalid(None, "Provide at least one field to update.")
        account = account_of(request)
        name = _string(body, "name")
        personality = _string(body, "personality")
        image = _string(body, "referenceImage")
        processing = _enum(body, "imageProcessing", ("optimize", "none"), required=False)
        start_script = _string(body, "startScript", nullable=True, min_length=0)
        with self._host.lock:
            if image is not None:
                self._check_media(image, "referenceImage", "image", account)
            voice = self._check_avatar_voice(body["voice"], account) if "voice" in body else None
            documents = (
                self._check_document_ids(body["documentIds"], account)
                if "documentIds" in body
                else None
            )
            avatar = self._owned(self._avatars, request, "Avatar")
            if avatar is None:
                return web.json_response(
                    self._mock_avatar(request.match_info["id"], origin_of(request))
                )
            now = self._sim.now()
            if name is not None:
                avatar.name = name
            if personality is not None:
                avatar.personality = personality
            if "startScript" in body:
                avatar.start_script = start_script
            if voice is not None:
                avatar.voice = voice
            if documents is not None:
                avatar.document_ids = documents
            if image is not None or processing is not None:
                # A new image (or a different treatment of it) is processed again.
                if image is not None:
                    avatar.reference_image = image
                    avatar.fails = _FAIL_MARKER in image.lower()
                if processing is not None:
                    avatar.image_processing = processing
                avatar.processing_from = now
            avatar.updated_at = self._sim.wall_now()
            data = self._render_avatar(avatar, origin_of(request))
        return web.json_response(data)

    async def _delete_avatar(self, request: web.Request) -> web.StreamResponse:
        with self._host.lock:
            self._delete_owned(request, self._avatars, "Avatar")
        return web.Response(status=204)

    async def _list_avatars(self, request: web.Request) -> web.StreamResponse:
        self._check_spec("avatars.list", request)
        origin = origin_of(request)
        return self._list_reply(
            request,
            self._avatars,
            lambda avatar: self._render_avatar(avatar, origin),
            lambda: self._mock_avatar(str(_uuid4()), origin),
            limit=_limit(request, lenient=self._mock),
            scope="avatars",
        )

    async def _avatar_image(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        with self._host.lock:
            avatar = self._avatars.get(request.match_info["id"])
            if avatar is None:
                available = self._mock and name in ("reference.png", "processed.png")
            elif name == "reference.png":
                available = True
            elif name == "processed.png":
                available = avatar.status(self._sim.now(), self._config) == "READY"
            else:
                available = False
        if not available:
            return _error(404, "No such image.")
        media = MEDIA["image"]
        return web.Response(body=media.data, content_type=media.content_type)

    async def _avatar_usage(self, request: web.Request) -> web.StreamResponse:
        self._check_spec("avatars.get_usage", request)
        q = request.query
        mock = self._mock
        start_text = _required(q, "startDate")
        end_text = _required(q, "endDate")
        start = _parse_moment(start_text, "startDate")
        end = _parse_moment(end_text, "endDate")
        if not mock:
            if end <= start:
                raise _Invalid("endDate", "must be after startDate")
            if end - start > timedelta(days=_MAX_USAGE_DAYS):
                raise _Invalid("endDate", f"must be at most {_MAX_USAGE_DAYS} days after startDate")
        account = account_of(request)
        with self._host.lock:
            now = self._sim.now()
            sessions = [
                s
                for s in self._sessions.values()
                if s.account == account and start <= s.created_at < end
            ]
            per_day: dict[date, list[int]] = {}
            measured: list[int] = []
            for session in sessions:
                counts = per_day.setdefault(session.created_at.date(), [0, 0])
                counts[0] += 1
                duration = session.duration(now, self._config)
                if duration is not None:
                    counts[1] += duration
                    measured.append(duration)
        by_day = []
        current = start.date()
        last = (end - timedelta(microseconds=1)).date() if end > start else start.date()
        while current <= last:
            sessions_seconds = per_day.get(current, [0, 0])
            by_day.append(
                {
                    "date": current.isoformat(),
                    "sessions": sessions_seconds[0],
                    "seconds": sessions_seconds[1],
                }
            )
            current += timedelta(days=1)
        total = sum(measured)
        return web.json_response(
            {
                "totalSessions": len(sessions),
                "totalSeconds": total,
                "avgDurationSeconds": round(total / len(measured)) if measured else 0,
                "byDay": by_day,
            }
        )

    # -- realtime sessions and conversations ----------------------------------------------

    def _check_session_avatar(self, value: Any, account: str) -> tuple[dict[str, Any], str | None]:
        kind, avatar = _tagged(value, "avatar", ("runway-preset", "custom"))
        if kind == "runway-preset":
            _only(avatar, ("type", "presetId"), "avatar")
            preset = _enum(avatar, "presetId", AVATAR_PRESETS, "avatar", required=True)
            return dict(avatar), _title(preset or "")
        _only(avatar, ("type", "avatarId"), "avatar")
        avatar_id = _required(avatar, "avatarId", "avatar")
        if self._mock:
            return dict(avatar), None
        found = self._avatars.get(avatar_id or "")
        if found is None or found.account != account:
            raise _Invalid("avatar.avatarId", f"no avatar has the id {avatar_id!r}")
        status = found.status(self._sim.now(), self._config)
        if status != "READY":
            raise _Invalid("avatar.avatarId", f"the avatar is not READY (it is {status})")
        return dict(avatar), found.name

    @staticmethod
    def _check_public_url(obj: Mapping[str, Any], key: str, where: str) -> None:
        value = _required(obj, key, where)
        if value is not None and not value.startswith(("wss://", "https://")):
            raise _Invalid(_join(where, key), "must be a wss:// or https:// URL")

    def _check_livekit(self, obj: Mapping[str, Any], where: str, *, tagged: bool) -> None:
        allowed = ("token", "roomName", "url", "agentIdentity") + (("type",) if tagged else ())
        _only(obj, allowed, where)
        _required(obj, "token", where)
        _required(obj, "roomName", where)
        self._check_public_url(obj, "url", where)
        _string(obj, "agentIdentity", where)

    def _check_tools(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise _Invalid("tools", f"must be an array, got {json_type(value, article=True)}")
        tools = []
        for index, item in enumerate(value):
            where = f"tools[{index}]"
            kind, tool = _tagged(item, where, ("client_event", "backend_rpc"))
            extra = ("timeoutSeconds",) if kind == "backend_rpc" else ()
            _only(tool, ("type", "name", "description", "parameters", *extra), where)
            name = _required(tool, "name", where)
            if name is not None and not _TOOL_NAME.match(name):
                raise _Invalid(f"{where}.name", "must match ^[A-Za-z_][A-Za-z0-9_]*$")
            description = _required(tool, "description", where, min_length=0)
            params = tool.get("parameters", [])
            if not isinstance(params, list):
                raise _Invalid(f"{where}.parameters", "must be an array")
            for p_index, param in enumerate(params):
                p_where = f"{where}.parameters[{p_index}]"
                p = _object(param, p_where)
                _required(p, "name", p_where)
                _required(p, "description", p_where, min_length=0)
                _enum(p, "type", _PARAM_TYPES, p_where, required=True)
            if "timeoutSeconds" in tool:
                seconds = tool["timeoutSeconds"]
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                    raise _Invalid(f"{where}.timeoutSeconds", "must be a number")
            tools.append({"type": kind, "name": name, "description": description})
        return tools

    async def _create_session(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request, _Invalid)
        self._check_spec("realtime_sessions.create", request, body)
        _only(
            body,
            (
                "avatar",
                "model",
                "integration",
                "livekit",
                "maxDuration",
                "personality",
                "startScript",
                "tools",
            ),
        )
        account = account_of(request)
        _enum(body, "model", ("gwm1_avatars",), required=True)
        if "avatar" not in body:
            raise _Invalid("avatar", "is required")
        if "integration" in body:
            kind, integration = _tagged(
                body["integration"], "integration", ("elevenlabs", "livekit")
            )
            if kind == "elevenlabs":
                _only(integration, ("type", "signedUrl"), "integration")
                self._check_public_url(integration, "signedUrl", "integration")
            else:
                self._check_livekit(integration, "integration", tagged=True)
        if "livekit" in body:
            self._check_livekit(_object(body["livekit"], "livekit"), "livekit", tagged=False)
        max_duration = _integer(body, "maxDuration", minimum=1)
        personality = _string(body, "personality", min_length=0)
        start_script = _string(body, "startScript", min_length=0)
        tools = self._check_tools(body["tools"]) if "tools" in body else []
        with self._host.lock:
            avatar, avatar_name = self._check_session_avatar(body["avatar"], account)
            session_id, seq, now, wall = self._next()
            self._sessions[session_id] = _Session(
                id=session_id,
                account=account,
                seq=seq,
                created=now,
                created_at=wall,
                avatar=avatar,
                avatar_name=avatar_name,
                max_duration=max_duration,
                personality=personality,
                start_script=start_script,
                tools=tools,
                session_key="sk_" + secrets.token_hex(24),
                ready_at=now + self._config.session_ready_seconds,
            )
        return web.json_response({"id": session_id})

    def _render_session(self, session: _Session) -> dict[str, Any]:
        now = self._sim.now()
        status = session.status(now, self._config)
        data: dict[str, Any] = {
            "id": session.id,
            "status": status,
            "createdAt": iso(session.created_at),
        }
        if status == "NOT_READY":
            data["queued"] = now < session.created + self._config.session_ready_seconds / 2
        elif status == "READY":
            data["sessionKey"] = session.session_key
            data["expiresAt"] = iso(session.wall(session.expires()))
        elif status == "COMPLETED":
            data["duration"] = session.duration(now, self._config) or 0
        return data

    def _mock_session(self, session_id: str) -> dict[str, Any]:
        wall = self._sim.wall_now()
        return {
            "id": session_id,
            "status": "READY",
            "createdAt": iso(wall),
            "sessionKey": "sk_" + "0" * 48,
            "expiresAt": iso(wall + timedelta(seconds=_KEY_LIFETIME)),
        }

    async def _get_session(self, request: web.Request) -> web.StreamResponse:
        return self._one_reply(
            request, self._sessions, "Realtime session", self._render_session, self._mock_session
        )

    async def _delete_session(self, request: web.Request) -> web.StreamResponse:
        with self._host.lock:
            session = self._owned(self._sessions, request, "Realtime session")
            if session is not None:
                now = self._sim.now()
                end = session.ended(self._config)
                if session.cancelled is None and (end is None or now < end):
                    session.cancelled = now
        return web.Response(status=204)

    async def _consume_session(self, request: web.Request) -> web.StreamResponse:
        session_id = request.match_info["id"]
        key = account_of(request)
        with self._host.lock:
            session = self._sessions.get(session_id)
            if session is None or not secrets.compare_digest(key, session.session_key):
                return _error(401, "Invalid or missing session key.")
            status = session.status(self._sim.now(), self._config)
            if status != "READY":
                return _error(
                    409, f"The session is {status}; only a READY session can be consumed."
                )
            session.consumed = self._sim.now()
        return web.json_response(
            {
                "url": "wss://emulator.invalid/livekit",
                "token": secrets.token_hex(16),
                "roomName": f"session-{session_id}",
            }
        )

    def _conversation_status(self, session: _Session, now: float) -> str:
        status = session.status(now, self._config)
        if status in ("COMPLETED", "CANCELLED"):
            return "ended"
        return "failed" if status == "FAILED" else "in_progress"

    def _conversation_avatar(
        self, session: _Session, origin: str, *, listed: bool
    ) -> dict[str, Any]:
        avatar = session.avatar
        if avatar["type"] == "runway-preset":
            data = {"type": "runway-preset", "presetId": avatar["presetId"]}
            if listed:
                data["name"] = session.avatar_name or _title(avatar["presetId"])
            return data
        found = self._avatars.get(avatar["avatarId"])
        data = {
            "type": "custom",
            "id": avatar["avatarId"],
            "name": found.name if found is not None else session.avatar_name,
        }
        if not listed:
            data["imageUrl"] = (
                self._image_url(found, origin, self._sim.now()) if found is not None else None
            )
        return data

    def _transcript(self, session: _Session, now: float) -> list[dict[str, Any]]:
        if session.consumed is None:
            return []
        end = session.ended(self._config)
        until = now if end is None else min(now, end)
        opening = session.start_script or "Hello! How can I help you today?"
        turns = [
            (0.0, "assistant", opening),
            (2.0, "user", "Hi! Can you tell me what you can do?"),
            (4.0, "assistant", "I can answer questions and walk you through anything you need."),
        ]
        return [
            {
                "role": role,
                "content": content,
                "timestamp": iso(session.wall(session.consumed + offset)),
            }
            for offset, role, content in turns
            if session.consumed + offset <= until
        ]

    def _render_conversation(
        self, session: _Session, origin: str, *, listed: bool
    ) -> dict[str, Any]:
        now = self._sim.now()
        status = self._conversation_status(session, now)
        name = f"Conversation with {session.avatar_name or 'avatar'}"
        data: dict[str, Any] = {
            "id": session.id,
            "name": name,
            "status": status,
            "createdAt": iso(session.created_at),
            "duration": session.duration(now, self._config),
            "avatar": self._conversation_avatar(session, origin, listed=listed),
        }
        if listed:
            data["hasTools"] = bool(session.tools)
            return data
        end = session.ended(self._config)
        started = session.consumed
        data.update(
            {
                "maxDuration": session.max_duration,
                "startedAt": iso(session.wall(started)) if started is not None else None,
                "recordingUrl": (
                    f"{origin}/_emulator/recordings/{session.id}.mp4"
                    if status == "ended" and started is not None
                    else None
                ),
                "tools": [dict(tool) for tool in session.tools],
                "transcript": self._transcript(session, now),
            }
        )
        if status != "in_progress" and end is not None:
            data["endedAt"] = iso(session.wall(end))
        return data

    def _mock_conversation(self, conv_id: str, *, listed: bool) -> dict[str, Any]:
        wall = self._sim.wall_now()
        data: dict[str, Any] = {
            "id": conv_id,
            "name": "Conversation with Influencer",
            "status": "ended",
            "createdAt": iso(wall),
            "duration": 42,
            "avatar": {"type": "runway-preset", "presetId": "influencer"},
        }
        if listed:
            data["avatar"]["name"] = "Influencer"
            data["hasTools"] = False
            return data
        data.update(
            {
                "maxDuration": _DEFAULT_MAX_DURATION,
                "startedAt": iso(wall),
                "endedAt": iso(wall + timedelta(seconds=42)),
                "recordingUrl": None,
                "tools": [],
                "transcript": [{"role": "assistant", "content": "Hello!", "timestamp": iso(wall)}],
            }
        )
        return data

    def _conversation(self, request: web.Request) -> _Session | None:
        session = self._owned(self._sessions, request, "Conversation")
        if session is not None and session.conversation_deleted:
            raise _NotFound(f"Conversation {session.id!r}")
        return session

    async def _get_conversation(self, request: web.Request) -> web.StreamResponse:
        with self._host.lock:
            session = self._conversation(request)
            if session is None:
                return web.json_response(
                    self._mock_conversation(request.match_info["id"], listed=False)
                )
            data = self._render_conversation(session, origin_of(request), listed=False)
        return web.json_response(data)

    async def _delete_conversation(self, request: web.Request) -> web.StreamResponse:
        with self._host.lock:
            session = self._conversation(request)
            if session is not None:
                session.conversation_deleted = True
        return web.Response(status=204)

    async def _list_conversations(self, request: web.Request) -> web.StreamResponse:
        self._check_spec("avatar_conversations.list", request)
        q = request.query
        mock = self._mock
        limit = _limit(request, lenient=mock)
        avatar = q.get("avatar")
        start = _parse_moment(q["startDate"], "startDate") if "startDate" in q else None
        end = _parse_moment(q["endDate"], "endDate") if "endDate" in q else None

        def selected(s: _Session) -> bool:
            return (
                not s.conversation_deleted
                and (avatar is None or s.avatar.get("avatarId") == avatar)
                and (start is None or s.created_at >= start)
                and (end is None or s.created_at < end)
            )

        origin = origin_of(request)
        return self._list_reply(
            request,
            self._sessions,
            lambda s: self._render_conversation(s, origin, listed=True),
            lambda: self._mock_conversation(str(_uuid4()), listed=True),
            limit=limit,
            scope="conversations:" + json.dumps([avatar, q.get("startDate"), q.get("endDate")]),
            select=selected,
        )

    async def _recording(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["id"]
        session_id = name.removesuffix(".mp4")
        with self._host.lock:
            session = self._sessions.get(session_id)
            ok = (
                name.endswith(".mp4")
                and session is not None
                and not session.conversation_deleted
                and session.consumed is not None
                and self._conversation_status(session, self._sim.now()) == "ended"
            )
        if not ok and not self._mock:
            return _error(404, "No such recording.")
        media = MEDIA["video"]
        return web.Response(body=media.data, content_type=media.content_type)


def _audio() -> web.Response:
    return web.Response(
        body=PREVIEW_WAV, content_type="audio/wav", headers={"Cache-Control": "private"}
    )


def _uuid4() -> str:
    return str(uuid.uuid4())


def register(app: web.Application, add: AddRoute, server: Host) -> ResourcesA:
    """Add the routes of uploads, avatars, conversations, sessions, documents and voices.

    Args:
        app: The emulator's aiohttp application (unused beyond ``add``; kept for symmetry
            with the other route modules).
        add: ``EmulatorApp``'s registrar (records route info for metrics and faults).
        server: The emulator application (config, simulation, lock).

    Returns:
        The resources' state, for ``reset()`` and the media check of task creates.

    """
    del app
    resources = ResourcesA(server)
    resources.routes(add)
    return resources
