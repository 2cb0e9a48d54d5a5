"""Validation of wire (camelCase) request bodies against the spec.

One pass collects every issue; the client raises the first, the emulator reports them all.
Order: the discriminator first (nothing else can be checked without it), then per object its
unknown members, its missing required members, and the values of its members in body order.

Legacy variants (dropped from the newest SDK, acceptance by the API unconfirmed) are let
through: only the JSON types of the members we know are checked, no required or unknown
members, enums, ranges, lengths, counts or media rules. Constraints marked unconfirmed are
never enforced. A model name the spec does not know gets the same light checks, against the
members of every variant at once (``union_body``), plus media URIs, when the caller opens
the endpoint to unknown models (the client always does; the emulator for the models it is
told to accept).

Whatever the spec says of a member, every string in the body (keys included, also inside
members typed ``any`` and in legacy variants) must be encodable text, and every value must be
JSON data: a lone surrogate or a NaN cannot be sent, so it is refused here, naming the field,
rather than failing in the JSON encoder with the request half made.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final, TypeGuard

import attrs

from .._exceptions import InvalidRequestError
from ._dates import parse_iso
from ._media import media_problem
from ._model import (
    EndpointSpec,
    MediaKind,
    PlainEndpointSpec,
    TypeSpec,
    VariantSpec,
    python_name,
    quote_values,
    union_body,
)

__all__ = [
    "INVALID_ENUM",
    "INVALID_FORMAT",
    "INVALID_MEDIA",
    "INVALID_TYPE",
    "REQUIRED",
    "TOO_BIG",
    "TOO_SMALL",
    "UNKNOWN_FIELD",
    "ValidationIssue",
    "describe",
    "format_path",
    "is_mapping",
    "is_sequence",
    "is_unknown_model",
    "make_issue",
    "sendable_issues",
    "show",
    "validate_body",
    "validate_object",
]

REQUIRED: Final = "required"
UNKNOWN_FIELD: Final = "unknown_field"
INVALID_TYPE: Final = "invalid_type"
INVALID_ENUM: Final = "invalid_enum"
TOO_SMALL: Final = "too_small"
TOO_BIG: Final = "too_big"
INVALID_FORMAT: Final = "invalid_format"
INVALID_MEDIA: Final = "invalid_media"

_ENUM_LIMIT = 30  # enum values named in a message; ``allowed`` always has them all
_STRING_SHOWN = 48  # characters of a string value quoted in a message
# Code points that only exist as halves of a UTF-16 pair: alone in a Python str they cannot
# be encoded as UTF-8 (or UTF-16), so such a string is not text the API could receive.
_SURROGATE = re.compile("[\ud800-\udfff]")


@attrs.frozen(kw_only=True)
class ValidationIssue:
    """One problem found in a request body.

    Attributes:
        path: Where, as wire names and list indexes (``("promptImage", 1, "position")``).
        python_path: Where, as dotted Python names (``prompt_image[1].position``); empty for
            the body itself.
        message: A short sentence naming the field and what is allowed.
        code: ``required``, ``unknown_field``, ``invalid_type``, ``invalid_enum``,
            ``too_small``, ``too_big``, ``invalid_format`` or ``invalid_media``.
        allowed: The allowed values (for ``unknown_field``: the object's wire names), or
            ``None``.
        python_allowed: Like ``allowed``, with Python names for ``unknown_field``.
        unsendable: The value cannot be sent at all (not JSON data, not encodable text), so
            no option lets it through.

    """

    path: tuple[str | int, ...]
    python_path: str
    message: str
    code: str
    allowed: tuple[Any, ...] | None = None
    python_allowed: tuple[Any, ...] | None = attrs.field(default=None, eq=False, repr=False)
    unsendable: bool = attrs.field(default=False, eq=False, repr=False)

    def to_error(self, endpoint: str, *, hint: str | None = None) -> InvalidRequestError:
        """Return the ``InvalidRequestError`` the client raises for this issue.

        Args:
            endpoint: The endpoint the parameters were meant for.
            hint: A sentence appended to the message (how to send the value anyway).

        """
        allowed = self.python_allowed if self.python_allowed is not None else self.allowed
        message = self.message if hint is None else f"{self.message} {hint}"
        return InvalidRequestError(
            message, field=self.python_path or None, allowed=allowed, endpoint=endpoint
        )


# The types parameters almost always have, answered without an ABC check (a few hundred
# nanoseconds each, several per field of every create).
_ARRAYS: Final = frozenset({list, tuple})
_NOT_ARRAYS: Final = frozenset({str, int, float, bool, type(None), dict, bytes, bytearray})


def is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """Return whether ``value`` is taken as a JSON object (any mapping)."""
    kind = type(value)
    if kind is dict:
        return True
    if kind in _NOT_ARRAYS or kind in _ARRAYS:
        return False
    return isinstance(value, Mapping)


def is_sequence(value: object) -> bool:
    """Return whether ``value`` is taken as a JSON array (any sequence but a string)."""
    kind = type(value)
    if kind in _ARRAYS:
        return True
    if kind in _NOT_ARRAYS:
        return False
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def format_path(path: Sequence[str | int]) -> str:
    """Return a path as text: ``prompt_image[1].position``."""
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else segment
    return text


def describe(node: TypeSpec) -> str:
    """Return what a type accepts, for messages and docs (``an integer from 2 to 10``)."""
    if node.nullable:
        return _describe(node) + " or null"
    return _describe(node)


def _describe(node: TypeSpec) -> str:
    if node.enum is not None:
        if len(node.enum) == 1:
            return repr(node.enum[0])
        return f"one of {quote_values(node.enum, _ENUM_LIMIT)}"
    kind = node.kind
    if kind == "union":
        parts = list(dict.fromkeys(describe(b) for b in node.any_of))
        return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else parts[0]
    if kind in ("integer", "number"):
        noun = "an integer" if kind == "integer" else "a number"
        return noun + ("" if node.unconfirmed else _range_text(node))
    return {
        "string": "a string",
        "boolean": "true or false",
        "array": "a list",
        "object": "an object",
        "map": "an object",
    }.get(kind, "any value")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _range_text(node: TypeSpec) -> str:
    lo, hi = node.minimum, node.maximum
    if lo is not None and hi is not None:
        return f" from {_number(lo)} to {_number(hi)}"
    if lo is not None:
        return f" of at least {_number(lo)}"
    if hi is not None:
        return f" of at most {_number(hi)}"
    if node.exclusive_minimum is not None:
        return f" greater than {_number(node.exclusive_minimum)}"
    return ""


def _kind_of(value: object) -> str:
    """Name the type of a caller's argument, in Python's words (``an integer``, ``a list``).

    Not ``_convert.json_type``, which names decoded JSON in JSON's words (``a number``, ``an
    array``): the checks here speak of Python arguments, tell integers from other numbers
    (``must be an integer ... (got a number)``), take any non-string sequence as a list, and
    put an article before every other type (``a set``).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if is_sequence(value):
        return "a list"
    return f"a {type(value).__name__}"


def _show(value: object) -> str:
    """Return a value for a message, never dumping a long one whole."""
    if isinstance(value, str):
        if len(value) > _STRING_SHOWN:
            return f"{value[:_STRING_SHOWN]!r}... ({len(value)} characters)"
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return _kind_of(value)


def _matches(node: TypeSpec, value: object) -> bool:
    """Return whether ``value`` has the JSON type of ``node`` (bool is not a number)."""
    kind = node.kind
    if kind == "any":
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return kind == "union" and any(_matches(b, value) for b in node.any_of)
    if kind == "integer":
        # JSON has one number type: 5.0 and 5 parse to the same value in JavaScript.
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    if kind == "array":
        return is_sequence(value)
    if kind in ("object", "map"):
        return is_mapping(value)
    if kind == "union":
        return any(_matches(b, value) for b in node.any_of)
    return False


def _utf16_length(text: str) -> int:
    if text.isascii():  # one code unit per character (and isascii() reads a flag)
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _escaped(text: str) -> str:
    """Return ``text`` with each lone surrogate written as an escape, safe to print."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


class _Checker:
    """Checks values of one variant's body, collecting issues."""

    def __init__(
        self,
        endpoint: EndpointSpec | PlainEndpointSpec,
        variant: VariantSpec | None,
        *,
        allow_loopback_http: bool,
        unknown_model: str | None = None,
        open_models: list[str] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.variant = variant
        # Legacy variants and unknown models: JSON types only (unknown models: media too).
        self.light = (variant is not None and variant.legacy) or unknown_model is not None
        self.light_media = unknown_model is not None
        self.allow_loopback_http = allow_loopback_http
        # Where a member named "model" may take a name outside its enum, the names seen.
        self.open_models = open_models
        if variant is not None and variant.value is not None and endpoint.discriminator:
            self.context = f" for {endpoint.discriminator} {variant.value!r}"
        elif unknown_model is not None and endpoint.discriminator:
            self.context = f" for {endpoint.discriminator} {unknown_model!r}"
        else:
            self.context = f" for {endpoint.name}"

    def issue(
        self,
        code: str,
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
        text: str,
        *,
        got: str | None = None,
        aside: str | None = None,
        tail: str | None = None,
        allowed: tuple[Any, ...] | None = None,
        python_allowed: tuple[Any, ...] | None = None,
        unsendable: bool = False,
    ) -> ValidationIssue:
        python, wire = format_path(ppath), format_path(path)
        label = python if python == wire else f"{python} ({wire})"
        message = f"{label or 'The request body'} {text}{self.context}"
        if got is not None:
            message += f" (got {got})"
        if aside is not None:
            message += f" ({aside})"
        if tail:
            message += f"; {tail}"
        return ValidationIssue(
            path=path,
            python_path=python,
            message=message + ("" if message.endswith((".", "?")) else "."),
            code=code,
            allowed=allowed,
            python_allowed=python_allowed,
            unsendable=unsendable,
        )

    def check(
        self,
        node: TypeSpec,
        value: object,
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> list[ValidationIssue]:
        if isinstance(value, str):
            found = self.check_text(value, path, ppath)
            if found is not None:
                return [found]
        if value is None and node.nullable:
            return []
        kind = node.kind
        if kind == "any":
            return self.check_data(value, path, ppath)
        if kind == "union":
            return self.check_union(node, value, path, ppath)
        if not _matches(node, value):
            return [
                self.issue(
                    INVALID_TYPE,
                    path,
                    ppath,
                    f"must be {describe(node)}",
                    got=_kind_of(value),
                    allowed=node.enum,
                )
            ]
        if node.enum is not None:
            if self.light or value in node.enum:
                return []
            if self.open_models is not None and _is_model_name(path, value):
                self.open_models.append(value)  # type: ignore[arg-type]  # a str: checked
                return []
            text = (
                f"must be {node.enum[0]!r}"
                if len(node.enum) == 1
                else f"must be one of {quote_values(node.enum, _ENUM_LIMIT)}"
            )
            return [
                self.issue(INVALID_ENUM, path, ppath, text, got=_show(value), allowed=node.enum)
            ]
        # _matches() has checked the JSON type; the isinstance tests only narrow for mypy.
        if isinstance(value, str):
            return self.check_string(node, value, path, ppath)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.check_number(node, value, path, ppath)
        if is_mapping(value):
            if kind == "map" and node.values is not None:
                issues: list[ValidationIssue] = []
                for key, item in value.items():
                    key_issue = self.check_key(key, path, ppath)
                    if key_issue is not None:
                        issues.append(key_issue)
                        continue
                    issues += self.check(node.values, item, (*path, key), (*ppath, key))
                return issues
            return self.check_object(node, value, path, ppath)
        if isinstance(value, Sequence):
            return self.check_array(node, value, path, ppath)
        return []

    def check_text(
        self, value: str, path: tuple[str | int, ...], ppath: tuple[str | int, ...]
    ) -> ValidationIssue | None:
        """Return the issue of a string that is not encodable text, if it is not."""
        if value.isascii():
            return None  # no surrogate in it: isascii() reads a flag, the search scans
        found = _SURROGATE.search(value)
        if found is None:
            return None
        tail = (
            f"it contains a lone surrogate (U+{ord(found[0]):04X}) at index {found.start()}, "
            "which cannot be encoded; fix how the text was decoded"
        )
        return self.issue(
            INVALID_FORMAT,
            path,
            ppath,
            "is not valid Unicode text",
            got=_show(value),
            tail=tail,
            unsendable=True,
        )

    def check_key(
        self, key: object, path: tuple[str | int, ...], ppath: tuple[str | int, ...]
    ) -> ValidationIssue | None:
        """Return the issue of a key of a user-keyed object, if it cannot be sent."""
        if not isinstance(key, str):
            text = f"has a key that is not a string: {key!r}"
            return self.issue(INVALID_TYPE, path, ppath, text, unsendable=True)
        found = None if key.isascii() else _SURROGATE.search(key)
        if found is None:
            return None
        sub, subp = (*path, _escaped(key)), (*ppath, _escaped(key))
        tail = f"it contains a lone surrogate (U+{ord(found[0]):04X}), which cannot be encoded"
        return self.issue(
            INVALID_FORMAT, sub, subp, "is not a valid Unicode key", tail=tail, unsendable=True
        )

    def check_data(
        self, value: object, path: tuple[str | int, ...], ppath: tuple[str | int, ...]
    ) -> list[ValidationIssue]:
        """Check a value the spec leaves open: it only has to be sendable JSON."""
        if value is None or isinstance(value, (bool, int)):
            return []
        if isinstance(value, str):
            found = self.check_text(value, path, ppath)
            return [] if found is None else [found]
        if isinstance(value, float):
            if math.isfinite(value):
                return []
            text = "must be a finite number (JSON has no NaN or infinity)"
            return [self.issue(INVALID_TYPE, path, ppath, text, got=_show(value), unsendable=True)]
        if isinstance(value, Mapping):
            issues: list[ValidationIssue] = []
            for key, item in value.items():
                key_issue = self.check_key(key, path, ppath)
                if key_issue is not None:
                    issues.append(key_issue)
                elif isinstance(key, str):
                    issues += self.check_data(item, (*path, key), (*ppath, key))
            return issues
        if is_sequence(value) and isinstance(value, Sequence):
            issues = []
            for index, item in enumerate(value):
                issues += self.check_data(item, (*path, index), (*ppath, index))
            return issues
        text = "must be JSON data (a string, number, boolean, null, list or object)"
        return [self.issue(INVALID_TYPE, path, ppath, text, got=_kind_of(value), unsendable=True)]

    def check_string(
        self,
        node: TypeSpec,
        value: str,
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> list[ValidationIssue]:
        if self.light:
            if self.light_media and node.media is not None:
                return self.check_media(node.media, value, path, ppath)
            return []
        issues = []
        if not node.unconfirmed:
            length = _utf16_length(value) if node.utf16 else len(value)
            unit = "UTF-16 code units" if node.utf16 else "characters"
            if node.min_length is not None and length < node.min_length:
                if node.min_length == 1:
                    issues.append(self.issue(TOO_SMALL, path, ppath, "must not be empty"))
                else:
                    text = f"must be at least {node.min_length} {unit} long"
                    issues.append(self.issue(TOO_SMALL, path, ppath, text, got=str(length)))
            if node.max_length is not None and length > node.max_length:
                text = f"must be at most {node.max_length} {unit} long"
                issues.append(self.issue(TOO_BIG, path, ppath, text, got=f"{length} {unit}"))
            if node.pattern is not None and re.search(node.pattern, value) is None:
                text = f"must match the pattern {node.pattern}"
                issues.append(self.issue(INVALID_FORMAT, path, ppath, text, got=_show(value)))
        if node.format is not None and parse_iso(value) is None:
            what = "datetime" if node.format == "date-time" else "datetime or date"
            text = f"must be an ISO-8601 {what} (like 2025-01-31T12:00:00Z)"
            issues.append(self.issue(INVALID_FORMAT, path, ppath, text, got=_show(value)))
        if node.media is not None:
            issues += self.check_media(node.media, value, path, ppath)
        return issues

    def check_media(
        self,
        media: MediaKind,
        value: str,
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> list[ValidationIssue]:
        problem = media_problem(value, media, allow_loopback_http=self.allow_loopback_http)
        if problem is None:
            return []
        text = f"is not a usable {media} URI"
        return [self.issue(INVALID_MEDIA, path, ppath, text, got=_show(value), tail=problem)]

    def check_number(
        self,
        node: TypeSpec,
        value: float,
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> list[ValidationIssue]:
        if self.light or node.unconfirmed:
            return []
        lo, hi = node.minimum, node.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            code = TOO_SMALL if lo is not None and value < lo else TOO_BIG
            if lo is not None and hi is not None:
                text = f"must be between {_number(lo)} and {_number(hi)}"
            elif lo is not None:
                text = f"must be at least {_number(lo)}"
            else:
                text = f"must be at most {_number(hi or 0)}"
            return [self.issue(code, path, ppath, text, got=_show(value))]
        low = node.exclusive_minimum
        if low is not None and value <= low:
            text = f"must be greater than {_number(low)}"
            return [self.issue(TOO_SMALL, path, ppath, text, got=_show(value))]
        return []

    def check_array(
        self,
        node: TypeSpec,
        value: Sequence[object],
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> list[ValidationIssue]:
        issues = []
        if not self.light and not node.unconfirmed:
            count = len(value)
            if node.min_items is not None and count < node.min_items:
                text = f"must have at least {node.min_items} item{_s(node.min_items)}"
                issues.append(self.issue(TOO_SMALL, path, ppath, text, got=str(count)))
            if node.max_items is not None and count > node.max_items:
                text = f"must have at most {node.max_items} item{_s(node.max_items)}"
                issues.append(self.issue(TOO_BIG, path, ppath, text, got=str(count)))
        if node.items is not None:
            for index, item in enumerate(value):
                issues += self.check(node.items, item, (*path, index), (*ppath, index))
        return issues

    def check_object(
        self,
        node: TypeSpec,
        value: Mapping[Any, object],
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
        *,
        skip: str | None = None,
    ) -> list[ValidationIssue]:
        fields = node.fields
        issues = []
        if not self.light:
            for key in value:
                if key != skip and (not isinstance(key, str) or key not in fields):
                    issues.append(self.check_unknown(node, key, path, ppath))
            for wire, member in fields.items():
                if member.required and wire not in value:
                    sub, subp = (*path, wire), (*ppath, member.python_name)
                    enum = member.type.enum
                    tail = f"allowed: {quote_values(enum, _ENUM_LIMIT)}" if enum else None
                    issues.append(
                        self.issue(REQUIRED, sub, subp, "is required", tail=tail, allowed=enum)
                    )
        for key, item in value.items():
            known = fields.get(key) if isinstance(key, str) else None
            if known is not None:
                sub, subp = (*path, key), (*ppath, known.python_name)
                issues += self.check(known.type, item, sub, subp)
            elif self.light and key != skip:
                # Let through unchecked, but it must still be sendable.
                key_issue = self.check_key(key, path, ppath)
                if key_issue is not None:
                    issues.append(key_issue)
                elif isinstance(key, str):
                    issues += self.check_data(item, (*path, key), (*ppath, python_name(key)))
        return issues

    def check_unknown(
        self,
        node: TypeSpec,
        key: object,
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> ValidationIssue:
        name = _escaped(key) if isinstance(key, str) else repr(key)
        py_name = python_name(name)
        allowed = tuple(node.fields)
        python_allowed = tuple(f.python_name for f in node.fields.values())
        accepting: list[str] = []
        if not path and self.endpoint.discriminator:
            accepting = [
                v.value
                for v in self.endpoint.variants
                if v is not self.variant and name in v.body.keys and v.value is not None
            ]
        close = difflib.get_close_matches(py_name, python_allowed, n=1, cutoff=0.6)
        if accepting:
            shown = ", ".join(accepting[:6]) + (", ..." if len(accepting) > 6 else "")
            aside = f"only {self.endpoint.discriminator}s {shown} accept it"
        elif close:
            aside = f"did you mean {close[0]}?"
        else:
            aside = None
        return self.issue(
            UNKNOWN_FIELD,
            (*path, name),
            (*ppath, py_name),
            "is not a field",
            aside=aside,
            tail=f"allowed fields: {', '.join(python_allowed) or 'none'}",
            allowed=allowed,
            python_allowed=python_allowed,
        )

    def check_union(
        self,
        node: TypeSpec,
        value: object,
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> list[ValidationIssue]:
        branches = node.any_of
        if node.tag is not None and isinstance(value, Mapping):
            return self.check_tagged(node, value, path, ppath)
        candidates = [b for b in branches if _matches(b, value)]
        if not candidates:
            text = f"must be {describe(node)}"
            enums = _union_enum(node)
            return [self.issue(INVALID_TYPE, path, ppath, text, got=_kind_of(value), allowed=enums)]
        results = []
        for branch in candidates:
            found = self.check(branch, value, path, ppath)
            if not found:
                return []
            results.append(found)
        if all(b.is_scalar for b in branches):
            # One sentence for "an integer from 3 to 10 or 'auto'" reads better than either
            # branch's own complaint.
            text = f"must be {describe(node)}"
            code = results[0][0].code
            return [
                self.issue(code, path, ppath, text, got=_show(value), allowed=_union_enum(node))
            ]
        return min(results, key=len)

    def check_tagged(
        self,
        node: TypeSpec,
        value: Mapping[Any, object],
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> list[ValidationIssue]:
        tag = node.tag or "type"
        tags = tuple(_tag_value(b, tag) for b in node.any_of)
        sub, subp = (*path, tag), (*ppath, python_name(tag))
        if tag not in value:
            if self.light:
                return []
            tail = f"one of {quote_values(tags)}"
            return [self.issue(REQUIRED, sub, subp, "is required", tail=tail, allowed=tags)]
        for branch, tag_value in zip(node.any_of, tags, strict=True):
            if value[tag] == tag_value:
                return self.check(branch, value, path, ppath)
        if self.light:
            return []
        text = f"must be one of {quote_values(tags)}"
        return [self.issue(INVALID_ENUM, sub, subp, text, got=_show(value[tag]), allowed=tags)]


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _is_model_name(path: tuple[str | int, ...], value: object) -> bool:
    """Return whether ``value``, outside its enum, names a model the spec may not know yet."""
    return bool(path) and path[-1] == "model" and type(value) is str and value.strip() != ""


def is_unknown_model(endpoint: EndpointSpec, value: object) -> bool:
    """Return whether ``value`` is a model name ``endpoint``'s spec does not know.

    Only endpoints told apart by ``model`` take one (a recipe's ``mode`` stays closed); the
    name must be a non-blank string.
    """
    return (
        endpoint.discriminator == "model"
        and type(value) is str
        and value.strip() != ""
        and endpoint.find_variant(value) is None
    )


def _tag_value(branch: TypeSpec, tag: str) -> Any:
    member = branch.fields.get(tag)
    return member.type.enum[0] if member is not None and member.type.enum else None


def _union_enum(node: TypeSpec) -> tuple[Any, ...] | None:
    values = tuple(v for b in node.any_of if b.enum is not None for v in b.enum)
    return values or None


def validate_body(
    endpoint: EndpointSpec,
    body: object,
    *,
    allow_loopback_http: bool = False,
    open_models: bool | Collection[str] = False,
) -> list[ValidationIssue]:
    """Return every issue of a wire body for ``endpoint`` (empty when it is valid).

    Args:
        endpoint: The endpoint's spec.
        body: The wire body.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.
        open_models: Model names the spec does not know that are checked lightly (JSON types
            of known members, media URIs) rather than refused: ``True`` for every such name
            (the client), or a collection of names (the emulator's accepted models).

    """
    disc = endpoint.discriminator
    if not is_mapping(body):
        checker = _Checker(endpoint, None, allow_loopback_http=allow_loopback_http)
        return [checker.issue(INVALID_TYPE, (), (), "must be an object", got=_kind_of(body))]
    if disc is None:
        variant = endpoint.variants[0]
    else:
        found = endpoint.find_variant(body[disc]) if disc in body else None
        model = body.get(disc)
        if (
            found is None
            and open_models
            and is_unknown_model(endpoint, model)
            and (open_models is True or model in open_models)
        ):
            checker = _Checker(
                endpoint, None, allow_loopback_http=allow_loopback_http, unknown_model=model
            )
            return checker.check_object(union_body(endpoint), body, (), (), skip=disc)
        if found is None:
            checker = _Checker(endpoint, None, allow_loopback_http=allow_loopback_http)
            models = endpoint.models
            if disc not in body:
                tail = f"allowed: {quote_values(models, limit=len(models))}"
                return [
                    checker.issue(
                        REQUIRED, (disc,), (disc,), "is required", tail=tail, allowed=models
                    )
                ]
            text = f"must be one of {quote_values(models, limit=len(models))}"
            got = _show(body[disc])
            return [checker.issue(INVALID_ENUM, (disc,), (disc,), text, got=got, allowed=models)]
        variant = found
    checker = _Checker(endpoint, variant, allow_loopback_http=allow_loopback_http)
    return checker.check_object(variant.body, body, (), (), skip=disc)


def validate_object(
    endpoint: PlainEndpointSpec,
    node: TypeSpec,
    value: Mapping[str, object],
    *,
    allow_loopback_http: bool = False,
    unknown_models: list[str] | None = None,
) -> list[ValidationIssue]:
    """Return every issue of the wire-named members of one part of a plain request.

    ``node`` is the endpoint's path parameters, query or body, as an object type. With
    ``unknown_models``, a member named ``model`` may hold a name outside its enum (a model
    released after this spec): no issue, the name is appended to the list instead.
    """
    checker = _Checker(
        endpoint, None, allow_loopback_http=allow_loopback_http, open_models=unknown_models
    )
    return checker.check_object(node, value, (), ())


def sendable_issues(
    endpoint: EndpointSpec | PlainEndpointSpec, value: Mapping[Any, object]
) -> list[ValidationIssue]:
    """Return the issues of members that cannot be sent at all, whatever the spec says.

    Every value must be JSON data and every string (keys too) encodable text; nothing else
    is checked. Used where the spec's checks are off (``validate=False``, ``extra_body``).
    """
    checker = _Checker(endpoint, None, allow_loopback_http=True)
    issues: list[ValidationIssue] = []
    for key, item in value.items():
        key_issue = checker.check_key(key, (), ())
        if key_issue is not None:
            issues.append(key_issue)
        elif isinstance(key, str):
            issues += checker.check_data(item, (key,), (python_name(key),))
    return issues


def make_issue(
    endpoint: PlainEndpointSpec,
    code: str,
    path: tuple[str | int, ...],
    ppath: tuple[str | int, ...],
    text: str,
    *,
    got: str | None = None,
) -> ValidationIssue:
    """Return an issue worded like the validator's (``<field> <text> for <endpoint>.``)."""
    return _Checker(endpoint, None, allow_loopback_http=False).issue(
        code, path, ppath, text, got=got
    )


def show(value: object) -> str:
    """Return a value for a message, never dumping a long one whole."""
    return _show(value)
