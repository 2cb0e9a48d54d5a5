"""Conversion of Python keyword parameters into a validated wire (camelCase) body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._exceptions import InvalidRequestError
from ._forward import checked_extra, send_anyway, warn_unknown_model, without_extra
from ._model import FieldSpec, TypeSpec, get_endpoint, python_name, union_body
from ._validate import (
    format_path,
    is_mapping,
    is_sequence,
    is_unknown_model,
    sendable_issues,
    validate_body,
)

__all__ = ["convert_members", "plain_data", "to_wire", "union_fields"]


def to_wire(
    endpoint: str,
    params: Mapping[str, Any],
    *,
    allow_loopback_http: bool = False,
    extra_body: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Return the JSON body for a call, converted to wire names and validated.

    Args:
        endpoint: The endpoint name (``image_to_video``, ``recipes.product_ad``, ...).
        params: The keyword arguments as passed to ``client.<endpoint>.create(...)``: Python
            names; ``None`` values mean omitted. Nested objects take the snake_case keys of the
            official SDK's TypedDicts, or the wire names of known fields; keys of user-keyed
            maps are left alone. Any sequence (not a string) is an array, any mapping an
            object.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts (the client sets
            it when its base URL is loopback, so a local emulator's outputs can be chained).
        extra_body: Members merged into the body after conversion, by wire name, each
            overriding a converted one (``None`` is sent as JSON ``null``). They are not
            checked against the spec, only for being JSON; a ``model`` here picks the
            variant the rest is converted and checked by.
        validate: ``False`` skips every check against the spec (keys are still converted;
            values must still be JSON data).

    Returns:
        Plain JSON data (dicts, lists, scalars) ready to send.

    Raises:
        InvalidRequestError: The first problem found, naming the field (``field``), the
            allowed values (``allowed``) and the endpoint; for a value the spec may lag
            behind on (an enum, a range, an unknown field), the message says how to send it
            anyway. Nothing has been sent.
        TypeError: ``extra_body`` is not a mapping.

    A model name the spec does not know (on endpoints told apart by ``model``) is not
    refused: the body is converted and checked by every variant's members at once, for the
    checks that do not depend on the model (JSON types, media URIs), and an
    ``UnknownModelWarning`` is issued once per model per process.

    """
    spec = get_endpoint(endpoint)
    if not is_mapping(params):
        raise InvalidRequestError(
            f"The parameters of {endpoint} must be a mapping, got {type(params).__name__}.",
            endpoint=endpoint,
        )
    extra = checked_extra("extra_body", extra_body)
    given = {key: value for key, value in params.items() if value is not None}
    disc = spec.discriminator
    node: TypeSpec | None = None
    unknown: str | None = None
    if disc is None:
        node = spec.variants[0].body
    else:
        choice = extra[disc] if extra is not None and disc in extra else given.get(disc)
        variant = spec.find_variant(choice) if choice is not None else None
        if variant is not None:
            node = variant.body
        elif is_unknown_model(spec, choice):
            node, unknown = union_body(spec), choice
        elif not validate or (extra is not None and disc in extra):
            node = union_body(spec)  # converted by every variant's members; nothing checked
    if node is None:
        # Missing or unknown discriminator: the validator words the error.
        body: dict[str, Any] = plain_data(given)
    else:
        body = _Converter(endpoint).convert_object(node.keys, node.fields, given, (), ())
    if extra is not None:
        for key, value in extra.items():
            body[key] = plain_data(value)
    if not validate:
        issues = sendable_issues(spec, body)
    else:
        issues = without_extra(
            validate_body(spec, body, allow_loopback_http=allow_loopback_http, open_models=True),
            extra,
        )
        if extra is not None:
            issues = sendable_issues(spec, extra) + issues  # what no option can send, first
    if issues:
        hint = send_anyway(issues[0], body) if validate else None
        raise issues[0].to_error(endpoint, hint=hint)
    if unknown is not None and validate:
        warn_unknown_model(endpoint, unknown)
    return body


def convert_members(endpoint: str, node: TypeSpec, value: Mapping[Any, Any]) -> dict[str, Any]:
    """Return the members of an object with wire names, nested values converted too.

    Keys are Python or wire names of ``node``'s members; unknown keys are kept as they are
    (the validator reports them). Nothing is validated here.

    Raises:
        InvalidRequestError: A key is not a string, or a member is given under both names.

    """
    return _Converter(endpoint).convert_object(node.keys, node.fields, value, (), ())


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


class _Converter:
    """Renames keys from Python to wire names, following the spec through nested values."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def convert(
        self,
        node: TypeSpec,
        value: Any,
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> Any:
        kind = node.kind
        if is_mapping(value):
            if kind == "object":
                return self.convert_object(node.keys, node.fields, value, path, ppath)
            if kind == "union" and node.keys:
                return self.convert_object(node.keys, union_fields(node, value), value, path, ppath)
            if kind == "map" and node.values is not None:
                values = node.values
                return {
                    key: self.convert(values, item, (*path, key), (*ppath, key))
                    for key, item in value.items()
                }
            return plain_data(value)
        if is_sequence(value):
            items = node.items
            if kind == "union":
                items = next((b.items for b in node.any_of if b.kind == "array"), None)
            if items is None:
                return plain_data(value)
            return [
                self.convert(items, item, (*path, index), (*ppath, index))
                for index, item in enumerate(value)
            ]
        return value

    def convert_object(
        self,
        keys: Mapping[str, str],
        fields: Mapping[str, FieldSpec],
        value: Mapping[Any, Any],
        path: tuple[str | int, ...],
        ppath: tuple[str | int, ...],
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        given_as: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                where = format_path(ppath) or "the parameters"
                raise InvalidRequestError(
                    f"{where} has a key that is not a string: {key!r}.",
                    field=format_path(ppath) or None,
                    endpoint=self.endpoint,
                )
            wire = keys.get(key, key)
            member = fields.get(wire)
            if wire in out:
                subp = (*ppath, member.python_name if member else python_name(key))
                raise InvalidRequestError(
                    f"{format_path(subp)} is given twice, as {given_as[wire]!r} and {key!r}.",
                    field=format_path(subp),
                    endpoint=self.endpoint,
                )
            given_as[wire] = key
            if type(item) in _SCALARS:
                out[wire] = item  # nothing to rename inside (most members of every call)
            elif member is None:
                out[wire] = plain_data(item)
            else:
                sub, subp = (*path, wire), (*ppath, member.python_name)
                out[wire] = self.convert(member.type, item, sub, subp)
        return out


def union_fields(node: TypeSpec, value: Mapping[Any, Any]) -> Mapping[str, FieldSpec]:
    """Return the members to convert a mapping by, for a union of object types.

    The branch named by the tag when there is one; otherwise every branch's members (the
    first branch having a member wins).
    """
    branches = [b for b in node.any_of if b.kind == "object"]
    if node.tag is not None:
        for branch in branches:
            member = branch.fields.get(node.tag)
            if member is not None and member.type.enum and value.get(node.tag) in member.type.enum:
                return branch.fields
    merged: dict[str, FieldSpec] = {}
    for branch in branches:
        for wire, member in branch.fields.items():
            merged.setdefault(wire, member)
    return merged


def plain_data(value: Any) -> Any:
    """Return ``value`` as plain JSON data: mappings as dicts, sequences as lists."""
    if is_mapping(value):
        return {key: plain_data(item) for key, item in value.items()}
    if is_sequence(value):
        return [plain_data(item) for item in value]
    return value
