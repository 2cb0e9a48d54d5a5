"""The spec's data model (endpoints, variants, fields, type nodes) and its loading from JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

import attrs

from .._exceptions import InvalidRequestError

__all__ = [
    "ENDPOINTS",
    "PLAIN_ENDPOINTS",
    "DateRange",
    "EndpointSpec",
    "FieldSpec",
    "MediaKind",
    "NodeKind",
    "PlainEndpointSpec",
    "ResponseKind",
    "TypeSpec",
    "VariantSpec",
    "get_endpoint",
    "get_plain_endpoint",
    "load_endpoints",
    "load_plain_endpoints",
    "python_name",
    "quote_values",
    "union_body",
]

ResponseKind = Literal["task_created", "id_only", "routed"]
MediaKind = Literal["image", "video", "audio"]
NodeKind = Literal[
    "string", "integer", "number", "boolean", "array", "object", "map", "union", "any"
]

_NODE_KINDS = frozenset(
    ("string", "integer", "number", "boolean", "array", "object", "map", "union", "any")
)
_PACKAGE = __name__.rpartition(".")[0]
_RESPONSES = frozenset(("task_created", "id_only", "routed"))
_MEDIA = frozenset(("image", "video", "audio"))
_FORMATS = frozenset(("date-time", "date-time-or-date"))


def python_name(wire: str) -> str:
    """Return the Python name of a wire name: ``_`` before each capital, then lower-case.

    ``promptImage`` -> ``prompt_image``; names already snake on the wire (``start_seconds``)
    stay as they are.
    """
    return re.sub(r"([A-Z])", r"_\1", wire).lower()


def quote_values(values: tuple[Any, ...], limit: int = 24) -> str:
    """Return values for a message: ``'a', 'b', 4`` (at most ``limit``, then a count)."""
    shown = ", ".join(repr(v) for v in values[:limit])
    if len(values) > limit:
        shown += f", ... ({len(values)} values in all)"
    return shown


@attrs.frozen(kw_only=True)
class TypeSpec:
    """The shape of one JSON value, with the constraints the client enforces.

    Attributes:
        kind: ``string``, ``integer``, ``number``, ``boolean``, ``array``, ``object``, ``map``
            (an object with keys of the user's choosing), ``union`` or ``any`` (not typed).
        enum: The allowed values, when closed.
        enum_name: The shared name of the enum (``ElevenVoiceId``), when it has one.
        minimum: Smallest allowed number (inclusive).
        maximum: Largest allowed number (inclusive).
        exclusive_minimum: The number must be greater than this.
        min_length: Shortest allowed string.
        max_length: Longest allowed string.
        utf16: Whether string lengths count UTF-16 code units rather than characters.
        pattern: Regular expression a string must match.
        min_items: Fewest allowed array items.
        max_items: Most allowed array items.
        media: For media-URI strings, the kind of media (``image``, ``video``, ``audio``).
        unconfirmed: The numeric, length and count constraints here are unconfirmed by the
            reference: recorded for the docs, not enforced.
        nullable: ``null`` is a valid value too (it clears the member, on updates).
        format: For strings, ``date-time`` (an ISO-8601 datetime; a date is read as midnight
            UTC) or ``date-time-or-date`` (an ISO-8601 datetime or date).
        csv: For arrays in a query: sent as one comma-separated string.
        items: The type of array items.
        fields: The members of an object, by wire name.
        values: The type of a map's values.
        any_of: The branches of a union.
        tag: The member whose constant value tells a union's object branches apart.
        title: The schema's name for an object type.
        keys: For objects and unions of objects: every accepted key (Python or wire name) ->
            the wire name.

    """

    kind: NodeKind
    enum: tuple[Any, ...] | None = None
    enum_name: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    utf16: bool = False
    pattern: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    media: MediaKind | None = None
    unconfirmed: bool = False
    nullable: bool = False
    format: str | None = None
    csv: bool = False
    items: TypeSpec | None = None
    fields: Mapping[str, FieldSpec] = attrs.field(factory=dict, repr=False)
    values: TypeSpec | None = None
    any_of: tuple[TypeSpec, ...] = ()
    tag: str | None = None
    title: str | None = None
    keys: Mapping[str, str] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def is_scalar(self) -> bool:
        """Whether values of this type are JSON scalars."""
        return self.kind in ("string", "integer", "number", "boolean")


@attrs.frozen(kw_only=True)
class FieldSpec:
    """One member of an object (or of a request body).

    Attributes:
        wire_name: The name in the JSON body (``promptImage``).
        python_name: The keyword name in Python (``prompt_image``).
        required: Whether the member must be present.
        description: What the member means.
        notes: Model-specific facts from the reference, when there are any.
        type: The member's type and constraints.

    """

    wire_name: str
    python_name: str
    required: bool
    description: str
    notes: str | None
    type: TypeSpec


@attrs.frozen(kw_only=True)
class VariantSpec:
    """The body of one model (or mode) of an endpoint.

    Attributes:
        value: The discriminator value (``gen4.5``), or ``None`` for endpoints without one.
        title: The schema's name for the variant.
        legacy: Whether the model is legacy (dropped from the newest SDK; acceptance by the
            API unconfirmed). Legacy bodies are let through with light checks.
        legacy_source: The SDK release the legacy shape comes from.
        body: The body as an object type; its fields exclude the discriminator.

    """

    value: str | None
    title: str
    legacy: bool
    legacy_source: str | None
    body: TypeSpec

    @property
    def fields(self) -> Mapping[str, FieldSpec]:
        """The body's members by wire name (the discriminator excluded)."""
        return self.body.fields

    @property
    def required(self) -> tuple[str, ...]:
        """Wire names of the required members (the discriminator excluded)."""
        return tuple(name for name, f in self.fields.items() if f.required)

    def field(self, name: str) -> FieldSpec | None:
        """Return the member with this Python or wire name, if the variant has it."""
        wire = self.body.keys.get(name)
        return None if wire is None else self.fields[wire]


@attrs.frozen(kw_only=True)
class EndpointSpec:
    """One task-creating endpoint.

    Attributes:
        name: The client resource path (``image_to_video``, ``recipes.product_ad``,
            ``generate.video``).
        method: The HTTP method (``POST``).
        path: The HTTP path (``/v1/image_to_video``).
        discriminator: The member selecting the variant (``model``, ``mode``), or ``None``.
        discriminator_description: What the discriminator means.
        response: ``task_created`` (``{id, estimatedCost}``), ``id_only`` (``{id}``) or
            ``routed`` (``{id, routing}``).
        summary: One imperative line saying what the endpoint does.
        notes: Endpoint-wide facts from the reference.
        variants: The variants in the schema's order.
        models: The discriminator values, legacy ones included (empty without one).

    """

    name: str
    method: str
    path: str
    discriminator: str | None
    discriminator_description: str | None
    response: ResponseKind
    summary: str
    notes: str | None
    variants: tuple[VariantSpec, ...]
    models: tuple[str, ...]
    _by_value: Mapping[str, VariantSpec] = attrs.field(init=False, repr=False, eq=False, hash=False)

    @_by_value.default
    def _index_variants(self) -> Mapping[str, VariantSpec]:
        index: dict[str, VariantSpec] = {}
        for variant in self.variants:
            if variant.value is not None:
                index.setdefault(variant.value, variant)
        return index

    def find_variant(self, value: object) -> VariantSpec | None:
        """Return the first variant whose discriminator value equals ``value``, if any."""
        if type(value) is str:
            return self._by_value.get(value)  # the values are strings: equal means the same
        for variant in self.variants:
            if variant.value == value:
                return variant
        return None

    @property
    def legacy_models(self) -> tuple[str, ...]:
        """The discriminator values of the legacy variants."""
        return tuple(v.value for v in self.variants if v.legacy and v.value is not None)

    def variant_for(self, value: str | None) -> VariantSpec:
        """Return the variant for a discriminator value.

        Endpoints without a discriminator have a single variant, returned for any value.

        Raises:
            InvalidRequestError: No variant has this value; the error lists the allowed ones.

        """
        if self.discriminator is None:
            return self.variants[0]
        for variant in self.variants:
            if variant.value == value:
                return variant
        raise InvalidRequestError(
            f"{self.discriminator} must be one of {quote_values(self.models, limit=100)} "
            f"for {self.name} (got {value!r}).",
            field=self.discriminator,
            allowed=self.models,
            endpoint=self.name,
        )


# Built on first use, per endpoint name: only calls with an unknown model need one.
_UNION_BODIES: dict[str, TypeSpec] = {}


def union_body(endpoint: EndpointSpec) -> TypeSpec:
    """Return the body of a model the spec does not know: every variant's members at once.

    Each member keeps the Python name and description of the first variant naming it. Its
    type accepts what any current (not legacy) variant gives it, or any legacy one for
    members only legacy variants have, stripped of the constraints that depend on the model
    (enums, ranges, lengths, counts, patterns; a tagged union keeps its tags). No member is
    required. Keys convert by this body, and the light checks of an unknown model (JSON
    types, media URIs) run against it.
    """
    found = _UNION_BODIES.get(endpoint.name)
    if found is not None:
        return found
    first: dict[str, FieldSpec] = {}
    current: dict[str, list[TypeSpec]] = {}
    legacy: dict[str, list[TypeSpec]] = {}
    for variant in endpoint.variants:
        for wire, member in variant.fields.items():
            first.setdefault(wire, member)
            (legacy if variant.legacy else current).setdefault(wire, []).append(member.type)
    fields = {
        wire: attrs.evolve(
            member, required=False, type=_merge_types(current.get(wire) or legacy[wire])
        )
        for wire, member in first.items()
    }
    body = TypeSpec(kind="object", fields=fields, keys=_keys_of(fields.values()))
    _UNION_BODIES[endpoint.name] = body
    return body


def _keys_of(members: Iterable[FieldSpec]) -> dict[str, str]:
    """Return every accepted key (wire or Python name) of ``members``, to the wire name."""
    keys: dict[str, str] = {}
    for member in members:
        keys.setdefault(member.wire_name, member.wire_name)
        keys.setdefault(member.python_name, member.wire_name)
    return keys


def _merge_types(types: list[TypeSpec]) -> TypeSpec:
    """Return one type accepting what any of ``types`` accepts, up to model constraints."""
    branches: list[TypeSpec] = []
    for node in types:
        relaxed = _relaxed(node)
        for branch in relaxed.any_of if relaxed.kind == "union" and relaxed.tag is None else ():
            if branch not in branches:
                branches.append(branch)
        if not (relaxed.kind == "union" and relaxed.tag is None) and relaxed not in branches:
            branches.append(relaxed)
    nullable = any(b.nullable for b in branches) or any(n.nullable for n in types)
    if len(branches) == 1:
        return attrs.evolve(branches[0], nullable=nullable)
    branches = [attrs.evolve(b, nullable=False) for b in branches]
    keys = _keys_of(member for branch in branches for member in branch.fields.values())
    return TypeSpec(kind="union", any_of=tuple(branches), nullable=nullable, keys=keys)


def _relaxed(node: TypeSpec, *, keep_enum: bool = False, tag: str | None = None) -> TypeSpec:
    """Return ``node`` without the constraints that depend on the model, all the way down.

    Titles, nested descriptions and required flags go too (light checks ignore them), so
    shapes that differ only in those compare equal. ``keep_enum`` keeps the node's enum;
    ``tag`` (for a branch of a tagged union) names the member whose enum is kept, since it
    tells the branches apart.
    """
    fields = {
        wire: attrs.evolve(
            member,
            required=False,
            description="",
            notes=None,
            type=_relaxed(member.type, keep_enum=wire == tag),
        )
        for wire, member in node.fields.items()
    }
    any_of: list[TypeSpec] = []
    for branch in node.any_of:
        relaxed = _relaxed(branch, tag=node.tag)
        if relaxed not in any_of:
            any_of.append(relaxed)
    return attrs.evolve(
        node,
        enum=node.enum if keep_enum else None,
        enum_name=None,
        minimum=None,
        maximum=None,
        exclusive_minimum=None,
        min_length=None,
        max_length=None,
        utf16=False,
        pattern=None,
        min_items=None,
        max_items=None,
        unconfirmed=False,
        title=None,
        items=None if node.items is None else _relaxed(node.items),
        values=None if node.values is None else _relaxed(node.values),
        fields=fields,
        any_of=tuple(any_of),
    )


@attrs.frozen(kw_only=True)
class DateRange:
    """A rule between two date parameters of one endpoint.

    Attributes:
        start: Wire name of the parameter opening the window (inclusive).
        end: Wire name of the parameter closing it (exclusive); it must come after ``start``.
        max_days: Longest allowed window in days, when limited.

    """

    start: str
    end: str
    max_days: int | None = None


@attrs.frozen(kw_only=True)
class PlainEndpointSpec:
    """One plain (not task-creating) endpoint: a resource call.

    Attributes:
        name: The client method path (``avatars.update``, ``organization.webapp.list_usage``).
        method: The HTTP method.
        path: The HTTP path template (``/v1/avatars/{id}``); placeholders are path parameters.
        summary: One imperative line saying what the endpoint does.
        notes: Endpoint-wide facts from the reference.
        reply: What a successful reply holds, in words (for the docs).
        paginated: Whether the reply is a cursor page (``{data, nextCursor}``).
        path_params: The path parameters, as an object type.
        query: The query parameters, as an object type.
        body: The JSON body, as an object type; ``None`` when the request has no body.
        min_body_fields: Fewest body members a call must set (updates need one).
        date_range: A rule between two date parameters, if any.
        order: Position in the docs.
        discriminator: Always ``None`` (plain endpoints have one body shape).
        variants: Always empty.

    """

    name: str
    method: str
    path: str
    summary: str
    notes: str | None
    reply: str
    paginated: bool
    path_params: TypeSpec
    query: TypeSpec
    body: TypeSpec | None
    min_body_fields: int | None
    date_range: DateRange | None
    order: int
    discriminator: None = None
    variants: tuple[VariantSpec, ...] = ()

    @property
    def idempotent(self) -> bool:
        """Whether the request may be repeated safely (GET, DELETE, PATCH; not POST)."""
        return self.method != "POST"

    def field(self, name: str) -> FieldSpec | None:
        """Return the parameter with this Python or wire name (path, query or body)."""
        for node in (self.path_params, self.query, self.body):
            if node is not None and name in node.keys:
                return node.fields[node.keys[name]]
        return None


def _node(data: Mapping[str, Any], where: str) -> TypeSpec:
    kind = data["type"]
    if kind not in _NODE_KINDS:
        raise ValueError(f"{where}: unknown type {kind!r}")
    media = data.get("media")
    if media is not None and media not in _MEDIA:
        raise ValueError(f"{where}: unknown media kind {media!r}")
    fmt = data.get("format")
    if fmt is not None and fmt not in _FORMATS:
        raise ValueError(f"{where}: unknown format {fmt!r}")
    fields: dict[str, FieldSpec] = {}
    for wire, member in data.get("fields", {}).items():
        fields[wire] = FieldSpec(
            wire_name=wire,
            python_name=member["python_name"],
            required=bool(member["required"]),
            description=member["description"],
            notes=member.get("notes"),
            type=_node(member, f"{where}.{wire}"),
        )
    any_of = tuple(_node(b, f"{where}|{i}") for i, b in enumerate(data.get("any_of", ())))
    keys: dict[str, str] = {}
    for sub in (fields, *(b.fields for b in any_of)):
        for wire, member in sub.items():
            keys.setdefault(wire, wire)
            keys.setdefault(member.python_name, wire)
    enum = data.get("enum")
    return TypeSpec(
        kind=cast(NodeKind, kind),
        enum=tuple(enum) if enum is not None else None,
        enum_name=data.get("enum_name"),
        minimum=data.get("minimum"),
        maximum=data.get("maximum"),
        exclusive_minimum=data.get("exclusive_minimum"),
        min_length=data.get("min_length"),
        max_length=data.get("max_length"),
        utf16=data.get("length_unit") == "utf16",
        pattern=data.get("pattern"),
        min_items=data.get("min_items"),
        max_items=data.get("max_items"),
        media=cast("MediaKind | None", media),
        unconfirmed=bool(data.get("unconfirmed", False)),
        nullable=bool(data.get("nullable", False)),
        format=fmt,
        csv=bool(data.get("csv", False)),
        items=_node(data["items"], f"{where}[]") if "items" in data else None,
        fields=fields,
        values=_node(data["values"], f"{where}{{}}") if "values" in data else None,
        any_of=any_of,
        tag=data.get("tag"),
        title=data.get("title"),
        keys=keys,
    )


def load_endpoints(data: Mapping[str, Any]) -> dict[str, EndpointSpec]:
    """Build the endpoint specs from the parsed ``api.json``."""
    return {name: _endpoint_spec(name, raw) for name, raw in data["endpoints"].items()}


def _endpoint_spec(name: str, raw: Mapping[str, Any]) -> EndpointSpec:
    if raw["response"] not in _RESPONSES:
        raise ValueError(f"{name}: unknown response kind {raw['response']!r}")
    variants = tuple(
        VariantSpec(
            value=raw_variant.get("value"),
            title=raw_variant["title"],
            legacy="legacy" in raw_variant,
            legacy_source=raw_variant.get("legacy"),
            body=_node(
                {"type": "object", "fields": raw_variant["fields"]},
                f"{name}:{raw_variant.get('value')}",
            ),
        )
        for raw_variant in raw["variants"]
    )
    return EndpointSpec(
        name=name,
        method=raw["method"],
        path=raw["path"],
        discriminator=raw["discriminator"],
        discriminator_description=raw.get("discriminator_description"),
        response=raw["response"],
        summary=raw["summary"],
        notes=raw.get("notes"),
        variants=variants,
        models=tuple(v.value for v in variants if v.value is not None),
    )


def _object(fields: Mapping[str, Any], where: str) -> TypeSpec:
    return _node({"type": "object", "fields": fields}, where)


def load_plain_endpoints(data: Mapping[str, Any]) -> dict[str, PlainEndpointSpec]:
    """Build the plain endpoint specs from the parsed ``api.json`` (its ``plain`` section)."""
    endpoints: dict[str, PlainEndpointSpec] = {}
    for name, raw in data.get("plain", {}).items():
        placeholders = re.findall(r"{(\w+)}", raw["path"])
        if sorted(placeholders) != sorted(raw["path_params"]):
            raise ValueError(f"{name}: path parameters {placeholders} != {raw['path_params']}")
        rule = raw.get("date_range")
        body = raw.get("body")
        endpoints[name] = PlainEndpointSpec(
            name=name,
            method=raw["method"],
            path=raw["path"],
            summary=raw["summary"],
            notes=raw.get("notes"),
            reply=raw["reply"],
            paginated=bool(raw.get("paginated", False)),
            path_params=_object(raw["path_params"], f"{name}:path"),
            query=_object(raw["query"], f"{name}:query"),
            body=None if body is None else _object(body, f"{name}:body"),
            min_body_fields=raw.get("min_body_fields"),
            date_range=None if rule is None else DateRange(**rule),
            order=raw["order"],
        )
    return endpoints


@cache
def _data() -> Mapping[str, Any]:
    text = resources.files(_PACKAGE).joinpath("api.json").read_text(encoding="utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


# Each endpoint's spec is built on first use: a client typically calls one or two of the
# fifty-odd, and building them all is most of the cost of the first create.
_BUILT: dict[str, EndpointSpec] = {}


def _endpoint(name: str) -> EndpointSpec:
    spec = _BUILT.get(name)
    if spec is None:
        spec = _BUILT[name] = _endpoint_spec(name, _data()["endpoints"][name])
    return spec


def _names() -> Mapping[str, Any]:
    endpoints: Mapping[str, Any] = _data()["endpoints"]
    return endpoints


@cache
def _load() -> dict[str, EndpointSpec]:
    return {name: _endpoint(name) for name in _names()}


@cache
def _load_plain() -> dict[str, PlainEndpointSpec]:
    return load_plain_endpoints(_data())


class _Endpoints(Mapping[str, EndpointSpec]):
    """The endpoint specs by name, read from ``api.json`` on first use."""

    def __getitem__(self, name: str) -> EndpointSpec:
        if not isinstance(name, str) or name not in _names():
            raise KeyError(name)
        return _endpoint(name)

    def __iter__(self) -> Iterator[str]:
        return iter(_names())

    def __len__(self) -> int:
        return len(_names())

    def __repr__(self) -> str:
        return f"<ENDPOINTS {sorted(_names())}>"


ENDPOINTS: Mapping[str, EndpointSpec] = _Endpoints()
"""Every task-creating endpoint's spec, by name (``image_to_video``, ``generate.video``, ...)."""


def get_endpoint(name: str) -> EndpointSpec:
    """Return the spec of an endpoint.

    Raises:
        InvalidRequestError: No such endpoint; the error lists the known names.

    """
    spec = _BUILT.get(name) if isinstance(name, str) else None
    if spec is not None:
        return spec
    if not isinstance(name, str) or name not in _names():
        known = tuple(sorted(_names()))
        raise InvalidRequestError(
            f"Unknown endpoint {name!r}; known endpoints: {', '.join(known)}.",
            allowed=known,
            endpoint=name if isinstance(name, str) else None,
        )
    return _endpoint(name)


class _PlainEndpoints(Mapping[str, PlainEndpointSpec]):
    """The plain endpoint specs by name, read from ``api.json`` on first use."""

    def __getitem__(self, name: str) -> PlainEndpointSpec:
        return _load_plain()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_load_plain())

    def __len__(self) -> int:
        return len(_load_plain())

    def __repr__(self) -> str:
        return f"<PLAIN_ENDPOINTS {sorted(_load_plain())}>"


PLAIN_ENDPOINTS: Mapping[str, PlainEndpointSpec] = _PlainEndpoints()
"""Every plain endpoint's spec, by client method path (``avatars.create``, ...)."""


def get_plain_endpoint(name: str) -> PlainEndpointSpec:
    """Return the spec of a plain endpoint.

    Raises:
        InvalidRequestError: No such endpoint; the error lists the known names.

    """
    try:
        return _load_plain()[name]
    except (KeyError, TypeError):
        known = tuple(sorted(_load_plain()))
        raise InvalidRequestError(
            f"Unknown endpoint {name!r}; known endpoints: {', '.join(known)}.",
            allowed=known,
            endpoint=name if isinstance(name, str) else None,
        ) from None
