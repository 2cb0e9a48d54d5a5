"""Conversion of Python keyword parameters into a validated wire (camelCase) body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._exceptions import InvalidRequestError
from ._model import FieldSpec, TypeSpec, get_endpoint, python_name
from ._validate import format_path, is_mapping, is_sequence, validate_body

__all__ = ["convert_members", "to_wire", "union_fields"]


def to_wire(
    endpoint: str, params: Mapping[str, Any], *, allow_loopback_http: bool = False
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

    Returns:
        Plain JSON data (dicts, lists, scalars) ready to send.

    Raises:
        InvalidRequestError: The first problem found, naming the field (``field``), the
            allowed values (``allowed``) and the endpoint. Nothing has been sent.

    """
    spec = get_endpoint(endpoint)
    if not is_mapping(params):
        raise InvalidRequestError(
            f"The parameters of {endpoint} must be a mapping, got {type(params).__name__}.",
            endpoint=endpoint,
        )
    given = {key: value for key, value in params.items() if value is not None}
    disc = spec.discriminator
    variant = None
    if disc is None:
        variant = spec.variants[0]
    elif disc in given:
        variant = spec.find_variant(given[disc])
    if variant is None:
        # Missing or unknown discriminator: the validator words the error.
        body: dict[str, Any] = _plain(given)
    else:
        body = _Converter(endpoint).convert_object(variant.body.keys, variant.fields, given, (), ())
    issues = validate_body(spec, body, allow_loopback_http=allow_loopback_http)
    if issues:
        raise issues[0].to_error(endpoint)
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
            return _plain(value)
        if is_sequence(value):
            items = node.items
            if kind == "union":
                items = next((b.items for b in node.any_of if b.kind == "array"), None)
            if items is None:
                return _plain(value)
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
                out[wire] = _plain(item)
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


def _plain(value: Any) -> Any:
    """Return ``value`` as plain JSON data: mappings as dicts, sequences as lists."""
    if is_mapping(value):
        return {key: _plain(item) for key, item in value.items()}
    if is_sequence(value):
        return [_plain(item) for item in value]
    return value
