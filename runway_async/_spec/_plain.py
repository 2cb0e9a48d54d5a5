"""Requests of the plain (not task-creating) endpoints, built and validated from the spec.

``to_request(endpoint, params)`` turns a call's keyword arguments (Python names, path
parameters included) into the HTTP method, path, query and JSON body, validated before
anything is sent: types, required members, enums, ranges, lengths, patterns, media URIs, ISO
dates and the endpoint's rules between parameters. ``validate_plain_wire`` checks what a
server received (wire names, query values as strings) with the same rules, and returns every
issue at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import urllib.parse
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

import attrs

from .._config import NotGiven
from .._exceptions import InvalidRequestError
from ._dates import format_iso, parse_iso
from ._forward import checked_extra, send_anyway, warn_unknown_model, without_extra
from ._model import PlainEndpointSpec, TypeSpec, get_plain_endpoint
from ._validate import (
    INVALID_TYPE,
    REQUIRED,
    TOO_BIG,
    TOO_SMALL,
    ValidationIssue,
    is_mapping,
    is_sequence,
    make_issue,
    sendable_issues,
    show,
    validate_object,
)
from ._wire import convert_members, plain_data

__all__ = ["NULL", "PlainRequest", "merge_query", "to_request", "validate_plain_wire"]

_PLACEHOLDER = re.compile(r"{(\w+)}")
_INTEGER = re.compile(r"[+-]?\d+")


class _Null:
    """The type of ``NULL``."""

    _instance: _Null | None = None

    def __new__(cls) -> _Null:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL"

    def __reduce__(self) -> str:
        return "NULL"


NULL: Final = _Null()
"""A parameter value sent as JSON ``null`` (``None`` means left out): clears a nullable
member on updates, such as ``avatars.update(start_script=...)``."""


@attrs.frozen
class PlainRequest:
    """One validated request of a plain endpoint, ready to send.

    Attributes:
        method: The HTTP method.
        path: The path, parameters filled in and percent-encoded.
        query: The query parameters as strings, or ``None`` when there are none.
        body: The JSON body (wire names), or ``None`` for requests without one.
        idempotent: Whether the request may be repeated safely (all but POST).

    """

    method: str
    path: str
    query: dict[str, str] | None
    body: Any
    idempotent: bool


def to_request(
    endpoint: str,
    params: Mapping[str, Any],
    *,
    allow_loopback_http: bool = False,
    extra_body: Mapping[str, Any] | None = None,
    extra_query: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> PlainRequest:
    """Return the request of a plain endpoint call, validated.

    Args:
        endpoint: The client method path (``avatars.update``,
            ``organization.webapp.audit_logs.list``).
        params: The call's keyword arguments by Python name, path parameters (``id``,
            ``event_id``) included. ``None`` (and ``NOT_GIVEN``) values are left out;
            ``NULL`` is sent as JSON ``null``. Nested objects take the snake_case keys of
            the official SDK's TypedDicts, or wire names; keys of user-keyed maps
            (``node_outputs`` node ids) are left alone. Query dates may be ``datetime`` or
            ``date`` objects or ISO-8601 strings; comma-separated query lists may be a
            string or a list of strings.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.
        extra_body: Members merged into the JSON body after conversion, by wire name, each
            overriding a converted one (``None`` is sent as ``null``); on an endpoint without
            a body they make one. Not checked against the spec, only for being JSON.
        extra_query: Query parameters merged after conversion, by wire name, each
            overriding a converted one, written as the official SDK writes them: ``True`` as
            ``true``, lists comma-separated, ``{"a": 1}`` under ``key[a]``; ``None`` or an
            empty string leaves the parameter out. Not checked against the spec.
        validate: ``False`` skips every check of the query and body against the spec (keys
            are still converted; the body must still be JSON data). Path parameters are
            always checked: they are ids, never new.

    Returns:
        The method, path, query (strings) and body (wire names) to send.

    Raises:
        InvalidRequestError: A parameter is invalid (``field`` names it, ``allowed`` lists
            the allowed values when known, ``endpoint`` is set); for a value the spec may
            lag behind on, the message says how to send it anyway. Nothing has been sent.
        TypeError: ``extra_body`` or ``extra_query`` is not a mapping.

    A member named ``model`` given a name outside its enum (a model released after this
    spec: ``voices.preview(model=...)``) is not refused; an ``UnknownModelWarning`` is issued
    once per model per process instead.

    """
    spec = get_plain_endpoint(endpoint)
    if not isinstance(params, Mapping):
        raise InvalidRequestError(
            f"The parameters of {endpoint} must be a mapping, got {type(params).__name__}.",
            endpoint=endpoint,
        )
    extra_b = checked_extra("extra_body", extra_body)
    extra_q = checked_extra("extra_query", extra_query)
    parts = _split(spec, params)
    path_values, query_values, body_values = parts
    issues = validate_object(spec, spec.path_params, path_values)
    if issues:
        raise issues[0].to_error(endpoint)
    query = {
        wire: _query_value(spec.query.fields[wire].type, value)
        for wire, value in query_values.items()
    }
    body: dict[str, Any] | None = None
    if spec.body is not None:
        body = convert_members(endpoint, spec.body, body_values)
    if extra_b is not None:
        body = {} if body is None else body
        for key, value in extra_b.items():
            body[key] = plain_data(value)
    models: list[str] = []
    issues = []
    if validate:
        issues = _checked(spec, query, extra_q, allow_loopback_http)
        if spec.body is not None and body is not None:
            found = validate_object(
                spec,
                spec.body,
                body,
                allow_loopback_http=allow_loopback_http,
                unknown_models=models,
            )
            issues += without_extra(found, extra_b)
        if not issues:
            vouched = (
                () if extra_q is None and extra_b is None else {*(extra_q or ()), *(extra_b or ())}
            )
            issues = _rules(spec, query, body, vouched)
        if extra_b is not None:
            issues = sendable_issues(spec, extra_b) + issues  # what no option can send, first
    elif body is not None:
        issues = sendable_issues(spec, body)
    if issues:
        raise _error(spec, issues[0], query, body) if validate else issues[0].to_error(endpoint)
    if models:
        for model in dict.fromkeys(models):
            warn_unknown_model(endpoint, model)
    texts = {wire: _query_text(value) for wire, value in query.items()}
    if extra_q is not None:
        texts = merge_query(texts, extra_q)
    return PlainRequest(
        spec.method,
        _fill_path(spec, path_values),
        texts or None,
        body,
        idempotent=spec.idempotent,
    )


def _checked(
    spec: PlainEndpointSpec,
    query: Mapping[str, Any],
    extra: Mapping[str, Any] | None,
    allow_loopback_http: bool,
) -> list[ValidationIssue]:
    """Return the issues of the query; members given in ``extra`` count as present, unchecked."""
    if not extra:
        return validate_object(spec, spec.query, query, allow_loopback_http=allow_loopback_http)
    # Present for the required-member check; the stand-in's own issues are dropped.
    query = {**query, **dict.fromkeys(extra)}
    issues = validate_object(spec, spec.query, query, allow_loopback_http=allow_loopback_http)
    return without_extra(issues, extra)


def _error(
    spec: PlainEndpointSpec,
    issue: ValidationIssue,
    query: Mapping[str, Any],
    body: Mapping[str, Any] | None,
) -> InvalidRequestError:
    """Return the error of an issue, saying how to send the value anyway where that fits."""
    top = issue.path[0] if issue.path else None
    if isinstance(top, str) and top in query and (body is None or top not in body):
        texts = {top: _query_text(query[top])}
        return issue.to_error(spec.name, hint=send_anyway(issue, texts, option="extra_query"))
    return issue.to_error(spec.name, hint=send_anyway(issue, body))


def merge_query(texts: Mapping[str, str] | None, extra: Mapping[str, Any]) -> dict[str, str]:
    """Return query ``texts`` with ``extra`` (wire names, any JSON values) merged in.

    Written as the official SDK writes query options: ``true``/``false``, lists
    comma-joined, ``{"a": {"b": 1}}`` as ``a[b]=1``; a key in ``extra`` replaces the same key
    of ``texts``, and ``None`` (or an empty value) leaves it out. Every query option of a
    call goes through here: the client's ``default_query``, a call's ``extra_query``.
    """
    merged = dict(texts or {})
    for key, value in extra.items():
        merged.pop(key, None)  # overridden, or removed by None
        merged.update(_extra_query_items(str(key), value))
    return merged


def _extra_query_items(key: str, value: Any) -> dict[str, str]:
    """Return one ``extra_query`` entry as query text, as the official SDK writes it."""
    if is_mapping(value):
        items: dict[str, str] = {}
        for sub, item in value.items():
            items.update(_extra_query_items(f"{key}[{sub}]", item))
        return items
    if is_sequence(value):
        text = ",".join(_primitive_text(item) for item in value if item is not None)
    else:
        text = _primitive_text(value)
    return {key: text} if text else {}


def _primitive_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def validate_plain_wire(
    endpoint: str,
    body: object,
    query: Mapping[str, str] | None = None,
    *,
    allow_loopback_http: bool = False,
) -> list[ValidationIssue]:
    """Return every issue of a received plain request; empty means valid.

    Meant for servers such as the local emulator. Path parameters are not checked (the route
    matched them).

    Args:
        endpoint: The client method path (``voices.create``).
        body: The parsed JSON body (``None`` when there was none: an empty object for
            endpoints whose body is optional).
        query: The query parameters as received (strings); comma-separated lists are split.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.

    Raises:
        InvalidRequestError: ``endpoint`` is not a known plain endpoint.

    """
    spec = get_plain_endpoint(endpoint)
    typed: dict[str, Any] = {}
    for key, text in (query or {}).items():
        member = spec.query.fields.get(key)
        typed[key] = text if member is None else _from_query(member.type, text)
    issues = validate_object(spec, spec.query, typed, allow_loopback_http=allow_loopback_http)
    wire_body: dict[str, Any] | None = None
    if spec.body is not None:
        if body is None:
            body = {}
        if not isinstance(body, Mapping):
            text = "must be a JSON object"
            got = "a list" if isinstance(body, list) else show(body)
            issues.append(make_issue(spec, INVALID_TYPE, (), (), text, got=got))
        else:
            wire_body = dict(body)
            issues += validate_object(
                spec, spec.body, wire_body, allow_loopback_http=allow_loopback_http
            )
    if not issues:
        issues = _rules(spec, typed, wire_body)
    return issues


# --------------------------------------------------------------------------------------------
# Building the parts
# --------------------------------------------------------------------------------------------


def _split(
    spec: PlainEndpointSpec, params: Mapping[Any, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Return the given parameters split into path, query and body, by wire name."""
    path: dict[str, Any] = {}
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in params.items():
        if value is None or isinstance(value, NotGiven):
            continue
        if not isinstance(key, str):
            raise InvalidRequestError(
                f"The parameters of {spec.name} have a key that is not a string: {key!r}.",
                endpoint=spec.name,
            )
        if value is NULL:
            value = None
        for part, node in (
            (path, spec.path_params),
            (query, spec.query),
            (body, spec.body),
        ):
            if node is not None and key in node.keys:
                wire = node.keys[key]
                if wire in part:
                    name = node.fields[wire].python_name
                    raise InvalidRequestError(
                        f"{name} is given twice, as {sources[wire]!r} and {key!r}, "
                        f"for {spec.name}.",
                        field=name,
                        endpoint=spec.name,
                    )
                sources[wire] = key
                part[wire] = value
                break
        else:
            raise _unknown(spec, key)
    return path, query, body


def _unknown(spec: PlainEndpointSpec, key: str) -> InvalidRequestError:
    names = tuple(
        member.python_name
        for node in (spec.path_params, spec.query, spec.body)
        if node is not None
        for member in node.fields.values()
    )
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return InvalidRequestError(
        f"{key} is not a parameter of {spec.name}{hint}; "
        f"allowed parameters: {', '.join(names) or 'none'}. To send it anyway: pass it by "
        "its wire name in extra_body (or extra_query, for a query parameter) for this call.",
        field=key,
        allowed=names,
        endpoint=spec.name,
    )


def _fill_path(spec: PlainEndpointSpec, values: Mapping[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        wire = match[1]
        value = values[wire]
        if value in (".", ".."):
            name = spec.path_params.fields[wire].python_name
            raise InvalidRequestError(
                f"{name} must be an id, not {value!r}, for {spec.name}.",
                field=name,
                endpoint=spec.name,
            )
        return urllib.parse.quote(value, safe="")

    return _PLACEHOLDER.sub(fill, spec.path)


def _query_value(node: TypeSpec, value: Any) -> Any:
    """Return a query value in the typed form the validator checks (dates as ISO text)."""
    if node.csv:
        if isinstance(value, str):
            return value.split(",")
        if is_sequence(value):
            return list(value)
        return value
    if node.format is not None and isinstance(value, dt.date):
        return format_iso(value, date_allowed=node.format == "date-time-or-date")
    return value


def _query_text(value: Any) -> str:
    """Return a validated query value as the text sent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ",".join(value)
    return str(value)


def _from_query(node: TypeSpec, text: str) -> Any:
    """Return a received query value in the typed form the validator checks."""
    if node.kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if node.kind == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if node.kind == "boolean" and text in ("true", "false"):
        return text == "true"
    if node.csv:
        return text.split(",")
    return text


# --------------------------------------------------------------------------------------------
# Rules between parameters
# --------------------------------------------------------------------------------------------


def _rules(
    spec: PlainEndpointSpec,
    query: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    vouched: Collection[str] = (),
) -> list[ValidationIssue]:
    """Return the issues of the endpoint's rules between parameters (values already valid).

    A rule involving a member in ``vouched`` (given in ``extra_query``/``extra_body``) is
    not checked.
    """
    issues: list[ValidationIssue] = []
    need = spec.min_body_fields
    if need and spec.body is not None and len(body or {}) < need:
        names = tuple(f.python_name for f in spec.body.fields.values())
        issues.append(
            attrs.evolve(
                make_issue(
                    spec,
                    REQUIRED,
                    (),
                    (),
                    f"must set at least {'one' if need == 1 else need} of {', '.join(names)}",
                ),
                allowed=names,
            )
        )
    rule = spec.date_range
    if rule is not None and rule.start not in vouched and rule.end not in vouched:
        values = {**query, **(body or {})}
        start, end = values.get(rule.start), values.get(rule.end)
        if isinstance(start, str) and isinstance(end, str):
            begin, until = parse_iso(start), parse_iso(end)
            fields = {**spec.query.fields, **(spec.body.fields if spec.body else {})}
            end_name = fields[rule.end].python_name
            start_name = fields[rule.start].python_name
            where = ((rule.end,), (end_name,))
            if begin is not None and until is not None:
                if until <= begin:
                    text = f"must be after {start_name}"
                    issues.append(make_issue(spec, TOO_SMALL, *where, text, got=show(end)))
                elif rule.max_days is not None and until - begin > dt.timedelta(rule.max_days):
                    days = (until - begin) / dt.timedelta(days=1)
                    text = f"must be at most {rule.max_days} days after {start_name}"
                    issues.append(make_issue(spec, TOO_BIG, *where, text, got=f"{days:g} days"))
    return issues
