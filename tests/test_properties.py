"""Property-based tests (issue 12): the request validators and the reply converter.

Strategies are built from the spec (``runway_async._spec``: ``TypeSpec``/``FieldSpec``), so
every task endpoint variant and every plain endpoint is covered by the same rules: generated
valid parameters are never rejected; one generated defect (a wrong type, an out-of-enum
value, a missing required field, an out-of-range number or length) always raises
``InvalidRequestError`` naming the field. The converter, given generated replies with
unknown statuses, missing optional fields, extra fields and wrong types, returns a model or
raises ``ResponseValidationError``, never anything else. Derandomized, so CI is deterministic.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runway_async._resources  # noqa: F401 - registers the resource unions with the converter
from runway_async import InvalidRequestError, ResponseValidationError
from runway_async._convert import structure, structure_task
from runway_async._models.avatars import Avatar
from runway_async._models.voices import Voice
from runway_async._models.workflows import WorkflowInvocation
from runway_async._spec import ENDPOINTS, PLAIN_ENDPOINTS, TypeSpec, to_wire
from runway_async._spec._plain import to_request

from .test_plain_spec import CALLS

# Runs once per CI run (the default Python, aiohttp 3.13): see noxfile.py.
pytestmark = pytest.mark.heavy

# Examples per parametrized case: every endpoint (and, drawn, each of its variants) and every
# plain endpoint gets a few, the converter many; the file stays under 15 s.
PER_CASE = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MEDIA = {
    "image": "https://example.com/frame.png",
    "video": "https://example.com/clip.mp4",
    "audio": "https://example.com/voice.mp3",
}
PATTERNS = {
    "^(?:wss|https)://": st.sampled_from(["https://example.com/hook", "wss://example.com/ws"]),
    "^[A-Za-z][A-Za-z0-9_]*$": st.from_regex(r"[A-Za-z][A-Za-z0-9_]{2,8}", fullmatch=True),
    "^[A-Za-z_][A-Za-z0-9_]*$": st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{2,8}", fullmatch=True),
}
TEXT = string.ascii_letters + string.digits + " "
DATES = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 1, 1)).map(
    lambda d: d.replace(microsecond=0).isoformat() + "Z"
)
NOT_IN_ENUM = "__not_a_value__"


# -- strategies of valid values, from the spec ---------------------------------------------


def valid(node: TypeSpec) -> st.SearchStrategy[Any]:
    """Return a strategy of valid values of ``node`` (Python keys in objects)."""
    if node.enum:
        return st.sampled_from(node.enum)
    kind = node.kind
    if kind == "union":
        return st.one_of([valid(member) for member in node.any_of])
    if kind == "string":
        return valid_string(node)
    if kind in ("integer", "number"):
        low = node.minimum if node.minimum is not None else -1000
        high = node.maximum if node.maximum is not None else 1000
        if node.exclusive_minimum is not None:
            low = node.exclusive_minimum + (1 if kind == "integer" else 0.001)
        if kind == "integer":
            return st.integers(int(low), int(high))
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        assert node.items is not None
        least = node.min_items or 0
        most = max(least, min(node.max_items if node.max_items is not None else 3, 3))
        return st.lists(valid(node.items), min_size=least, max_size=most)
    if kind == "object":
        return valid_object(node)
    if kind == "map":
        assert node.values is not None
        return st.dictionaries(
            st.from_regex(r"[a-z]{1,6}", fullmatch=True), valid(node.values), max_size=2
        )
    return st.sampled_from(["x", 1, True])  # "any"


def valid_string(node: TypeSpec) -> st.SearchStrategy[str]:
    if node.media is not None:
        return st.just(MEDIA[node.media])
    if node.format is not None:
        return DATES
    least = node.min_length or 1
    most = max(least, min(node.max_length if node.max_length is not None else 20, 20))
    if node.pattern is not None:
        return PATTERNS[node.pattern].filter(lambda s: least <= len(s) <= most)
    return st.text(TEXT, min_size=least, max_size=most).filter(lambda s: s.strip() != "")


def valid_object(node: TypeSpec, *, skip: frozenset[str] = frozenset()) -> st.SearchStrategy[Any]:
    required = {m.python_name: valid(m.type) for m in node.fields.values() if m.required}
    optional = {
        m.python_name: valid(m.type)
        for m in node.fields.values()
        if not m.required and m.python_name not in skip
    }
    return st.fixed_dictionaries(required, optional=optional)


# -- task endpoints -------------------------------------------------------------------------

TASK_ENDPOINTS = sorted(ENDPOINTS)


def variant_values(name: str) -> st.SearchStrategy[str | None]:
    return st.sampled_from([variant.value for variant in ENDPOINTS[name].variants])


def task_params(name: str, value: str | None) -> st.SearchStrategy[dict[str, Any]]:
    spec = ENDPOINTS[name]
    body = valid_object(spec.variant_for(value).body)
    if spec.discriminator is None:
        return body
    discriminator = spec.discriminator
    return body.map(lambda params: {discriminator: value, **params})


@pytest.mark.parametrize("name", TASK_ENDPOINTS)
@PER_CASE
@given(data=st.data())
def test_valid_task_parameters_are_accepted(name: str, data: Any) -> None:
    """Parameters generated from a variant's spec are never rejected."""
    value = data.draw(variant_values(name))
    params = data.draw(task_params(name, value))
    body = to_wire(name, params)
    assert isinstance(body, dict)


def defects(node: TypeSpec, value: Any) -> list[tuple[str, Any]]:
    """Return the ways to make ``value`` (a valid value of ``node``) invalid, by name."""
    found: list[tuple[str, Any]] = []
    kind = node.kind
    wrong = {"string": 12345, "integer": "abc", "number": "abc", "boolean": "yes"}
    if node.enum:
        found.append(("enum", NOT_IN_ENUM if isinstance(node.enum[0], str) else 10**9 + 7))
    if kind in wrong and not node.unconfirmed:
        found.append(("type", wrong[kind]))
    elif kind in ("array", "object", "map", "union"):
        found.append(("type", 12345 if kind != "union" else 12345.5))
    if node.unconfirmed or node.enum:
        return found
    if kind in ("integer", "number"):
        if node.maximum is not None:
            found.append(("range", node.maximum + 1))
        if node.minimum is not None:
            found.append(("range", node.minimum - 1))
        if node.exclusive_minimum is not None:
            found.append(("range", node.exclusive_minimum))
    plain_text = node.media is None and node.format is None and node.pattern is None
    if kind == "string" and plain_text and node.max_length is not None:
        found.append(("range", "x" * (node.max_length + 1)))
    if kind == "array" and node.max_items is not None and isinstance(value, list) and value:
        found.append(("range", [value[0]] * (node.max_items + 1)))
    return found


def must_give(member: Any) -> bool:
    """Whether leaving the member out is a defect (a one-value enum is filled in for you)."""
    return bool(member.required) and not (member.type.enum and len(member.type.enum) == 1)


def rejected(call: Any, field: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        call()
    named = info.value.field
    assert named is not None, info.value
    assert named == field or named.startswith((f"{field}.", f"{field}[")), (named, field)
    return info.value


@pytest.mark.parametrize("name", TASK_ENDPOINTS)
@PER_CASE
@given(data=st.data())
def test_invalid_task_parameters_name_the_field(name: str, data: Any) -> None:
    """One defect in valid parameters raises InvalidRequestError naming that field."""
    value = data.draw(variant_values(name))
    spec = ENDPOINTS[name]
    params = data.draw(task_params(name, value))
    fields = {m.python_name: m for m in spec.variant_for(value).body.fields.values()}
    choices: list[tuple[str, str, Any]] = [
        (field, "missing", None) for field, member in fields.items() if must_give(member)
    ]
    for field, member in fields.items():
        if field in params:
            choices += [(field, what, bad) for what, bad in defects(member.type, params[field])]
    if spec.variant_for(value).legacy:
        # Legacy variants are checked lightly, by design: JSON types only (see _validate).
        choices = [choice for choice in choices if choice[1] == "type"]
    if spec.discriminator is not None:
        # A model name the spec does not know is sent (with a warning): only a non-name is a
        # defect there (tests/test_forward_compat.py).
        bad_value = 10**9 + 7 if spec.discriminator == "model" else NOT_IN_ENUM
        choices.append((spec.discriminator, "enum", bad_value))
    field, what, bad = data.draw(st.sampled_from(choices))
    broken = dict(params)
    if what == "missing":
        del broken[field]
    else:
        broken[field] = bad
    error = rejected(lambda: to_wire(name, broken), field)
    assert error.endpoint == name


# -- plain endpoints ------------------------------------------------------------------------


def plain_members(name: str) -> dict[str, Any]:
    """Return the plain endpoint's members by Python name: path, query and body fields."""
    spec = PLAIN_ENDPOINTS[name]
    members = {}
    for node in (spec.path_params, spec.query, spec.body):
        if node is not None:
            members.update({m.python_name: m for m in node.fields.values()})
    return members


def plain_params(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Known-good parameters (test_plain_spec's) with generated optional members added.

    Members of a date range are left as given: their allowed values depend on each other.
    """
    spec = PLAIN_ENDPOINTS[name]
    base = dict(CALLS[name][0])
    skip = set(base)
    if spec.date_range is not None:
        skip |= {
            m.python_name
            for m in spec.query.fields.values()
            if m.wire_name in (spec.date_range.start, spec.date_range.end)
        }
        if spec.body is not None:
            skip |= {
                m.python_name
                for m in spec.body.fields.values()
                if m.wire_name in (spec.date_range.start, spec.date_range.end)
            }
    extra = {
        field: valid(member.type)
        for field, member in plain_members(name).items()
        if field not in skip and not member.required
    }
    return st.fixed_dictionaries({}, optional=extra).map(lambda more: {**base, **more})


PLAIN = sorted(PLAIN_ENDPOINTS)


@pytest.mark.parametrize("name", PLAIN)
@PER_CASE
@given(data=st.data())
def test_valid_plain_parameters_are_accepted(name: str, data: Any) -> None:
    """Generated valid parameters of every plain endpoint are never rejected."""
    params = data.draw(plain_params(name))
    request = to_request(name, params)
    assert request.path.startswith("/v1/")


@pytest.mark.parametrize("name", PLAIN)
@PER_CASE
@given(data=st.data())
def test_invalid_plain_parameters_name_the_field(name: str, data: Any) -> None:
    """One defect in valid plain parameters raises InvalidRequestError naming that field."""
    params = data.draw(plain_params(name))
    members = plain_members(name)
    choices: list[tuple[str, str, Any]] = [
        (field, "missing", None) for field, member in members.items() if must_give(member)
    ]
    for field, member in members.items():
        if field in params:
            choices += [
                (field, what, bad)
                for what, bad in defects(member.type, params[field])
                # A new model's name is sent with a warning (tests/test_forward_compat.py).
                if not (field == "model" and what == "enum")
            ]
    if not choices:
        return
    field, what, bad = data.draw(st.sampled_from(choices))
    broken = dict(params)
    if what == "missing":
        del broken[field]
    else:
        broken[field] = bad
    error = rejected(lambda: to_request(name, broken), field)
    assert error.endpoint == name


# -- the converter --------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return a field's values: a plausible one, or anything at all (a wrong type)."""
    return st.one_of(value, JSON)


def payloads(statuses: list[str], fields: dict[str, st.SearchStrategy[Any]]) -> Any:
    """Return replies with a known or unknown status, fields present, missing or wrong."""
    status = st.one_of(
        st.sampled_from(statuses), st.text(string.ascii_uppercase, min_size=1, max_size=10)
    )
    members = {
        "id": maybe(st.uuids().map(str)),
        "status": maybe(status),
        "createdAt": maybe(DATES),
        **{name: maybe(value) for name, value in fields.items()},
    }
    extra = st.dictionaries(st.from_regex(r"x[A-Za-z]{1,6}", fullmatch=True), JSON, max_size=2)
    objects = st.tuples(st.fixed_dictionaries({}, optional=members), extra).map(
        lambda pair: {**pair[0], **pair[1]}
    )
    return st.one_of(objects, JSON)


OUTPUTS = st.lists(st.just("https://example.com/out.png"), max_size=2)
TASKS = payloads(
    ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"],
    {
        "progress": st.floats(0, 1),
        "output": OUTPUTS,
        "failure": st.text(max_size=10),
        "failureCode": st.sampled_from(["SAFETY.INPUT.TEXT", "INTERNAL"]),
        "cost": st.fixed_dictionaries({"credits": st.integers(0, 100)}),
        "estimatedCost": st.fixed_dictionaries({"credits": st.integers(0, 100)}),
    },
)
RESOURCE_FIELDS = {
    "name": st.text(max_size=8),
    "updatedAt": DATES,
    "failureReason": st.text(max_size=8),
    "processedImageUri": st.just("https://example.com/a.png"),
    "referenceImageUri": st.just("https://example.com/a.png"),
    "voice": st.fixed_dictionaries(
        {"type": st.just("runway-live-preset"), "presetId": st.just("adrian")}
    ),
    "personality": st.text(max_size=8),
    "documentIds": st.lists(st.uuids().map(str), max_size=2),
    "description": st.text(max_size=8),
    "previewUrl": st.just("https://example.com/p.wav"),
}
INVOCATION_FIELDS = {
    "progress": st.floats(0, 1),
    "output": st.dictionaries(st.text(max_size=4), OUTPUTS, max_size=2),
    "nodeErrors": st.dictionaries(st.text(max_size=4), JSON, max_size=2),
    "failure": st.text(max_size=8),
    "failureCode": st.just("INTERNAL"),
    "cost": st.fixed_dictionaries({"credits": st.integers(0, 100)}),
}


def parses_or_refuses(parse: Any, data: Any) -> None:
    error: ResponseValidationError | None = None
    try:
        parse(data)
    except ResponseValidationError as exc:
        error = exc
    if error is not None:
        assert error.body == data


@SETTINGS
@given(data=TASKS)
def test_task_replies_parse_or_raise_our_error(data: Any) -> None:
    """A task reply of any shape parses (an unknown status too) or raises our error."""
    parses_or_refuses(structure_task, data)


@pytest.mark.parametrize(
    ("cls", "statuses", "fields"),
    [
        (Avatar, ["PROCESSING", "READY", "FAILED"], RESOURCE_FIELDS),
        (Voice, ["PROCESSING", "READY", "FAILED"], RESOURCE_FIELDS),
        (
            WorkflowInvocation,
            ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"],
            INVOCATION_FIELDS,
        ),
    ],
    ids=["Avatar", "Voice", "WorkflowInvocation"],
)
@SETTINGS
@given(data=st.data())
def test_resource_replies_parse_or_raise_our_error(
    cls: Any, statuses: list[str], fields: dict[str, Any], data: Any
) -> None:
    """Avatar, Voice and WorkflowInvocation replies parse or raise ResponseValidationError."""
    parses_or_refuses(lambda reply: structure(reply, cls), data.draw(payloads(statuses, fields)))


def test_an_unknown_status_is_a_tolerant_parse() -> None:
    """A well-formed task with a status from the future parses as an unknown task."""
    task = structure_task(
        {"id": "t-1", "status": "TELEPORTING", "createdAt": "2025-01-01T00:00:00Z", "xNew": 1}
    )
    assert task.status == "TELEPORTING"
    assert task.id == "t-1"
