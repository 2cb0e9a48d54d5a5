"""``to_dict``, ``to_json`` and ``construct`` for every model, as the official SDK names them.

The models sit below the converter (``_convert`` imports them), so this mixin cannot import
it: ``_convert`` installs itself here when it is imported (``install_codec``), which happens
whenever ``runway_async`` is. The mixin holds no wire rules of its own; every method
forwards to the installed codec.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol, TypeVar

__all__ = ["WireCodec", "WireModel", "install_codec"]

_M = TypeVar("_M", bound="WireModel")


class WireCodec(Protocol):
    """What the mixin needs of the converter (``_convert`` provides it)."""

    def dump(
        self,
        obj: object,
        *,
        mode: Literal["json", "python"],
        use_api_names: bool,
        exclude_unset: bool,
        exclude_defaults: bool,
        exclude_none: bool,
        warnings: bool,
    ) -> dict[str, Any]:
        """Return ``obj`` as a dict, with the options of ``WireModel.to_dict``."""
        ...

    def construct(self, cls: type[_M], data: Mapping[str, Any]) -> _M:
        """Build a ``cls`` from wire data, leniently (see ``WireModel.construct``)."""
        ...


_codec: WireCodec | None = None


def install_codec(codec: WireCodec) -> None:
    """Make ``codec`` the one every model serialises through (called by ``_convert``)."""
    global _codec
    _codec = codec


def _installed() -> WireCodec:
    if _codec is None:  # pragma: no cover - importing runway_async installs it
        raise RuntimeError("runway_async._convert was not imported; import runway_async")
    return _codec


class WireModel:
    """What every response model can do: turn into a dict or JSON, and be built from one.

    The keys and values are those of the API's reply (camelCase keys, ISO-8601 timestamps),
    unknown keys kept on parse included; the bound client of a task never is.
    """

    __slots__ = ()

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, Any]:
        """Return the model as a dict, nested models as dicts, by default as the API sent it.

        An optional field counts as unset when it holds ``None`` and the API leaves the key
        out rather than sending ``null`` (fields the API sends as an explicit ``null``, such
        as a tier's unlimited ``maxConcurrentGenerations``, count as set); every other field
        counts as set.

        Args:
            mode: ``"python"`` keeps ``datetime`` and ``date`` objects; ``"json"`` gives only
                JSON types (timestamps as ISO-8601 strings, as the API writes them).
            use_api_names: Use the API's keys (``createdAt``) rather than the attribute
                names (``created_at``). Keys of mappings (model names, node ids) and
                unknown keys are kept verbatim either way.
            exclude_unset: Leave out optional fields that are unset (see above).
            exclude_defaults: Leave out fields equal to their default, except a class's tag
                (``status``, ``type``), which says what the dict is.
            exclude_none: Leave out every key whose value is ``None``.
            warnings: Warn (``UserWarning``) when a value does not have its field's type
                (a model built with ``construct`` from odd data); it is written as is.

        Returns:
            A new dict; changing it does not change the model.

        """
        return _installed().dump(
            self,
            mode=mode,
            use_api_names=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            warnings=warnings,
        )

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """Return the model as JSON text, by default as the API sent it (but indented).

        Args:
            indent: Spaces per level; ``None`` for one compact line.
            use_api_names: Use the API's keys rather than the attribute names.
            exclude_unset: Leave out optional fields that are unset (see ``to_dict``).
            exclude_defaults: Leave out fields equal to their default (tags excepted).
            exclude_none: Leave out every key whose value is ``None``.
            warnings: Warn when a value does not have its field's type.

        Returns:
            The JSON text (non-ASCII characters as they are, not escaped).

        """
        data = self.to_dict(
            mode="json",
            use_api_names=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            warnings=warnings,
        )
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(data, indent=indent, separators=separators, ensure_ascii=False)

    @classmethod
    def construct(cls: type[_M], /, **data: Any) -> _M:
        """Build the model from the API's data (``Model.construct(**reply)``), validating nothing.

        Keys are the API's (``createdAt``), as ``to_dict()`` gives them. Values are parsed
        as replies are (timestamps become ``datetime``, nested objects models, tagged
        unions the class their tag names); ``datetime`` values are taken as they are, and
        unknown keys are kept, like a reply's. Data that does not fit never raises: a value
        that cannot be parsed is kept as given, a missing field is ``None`` (or its
        default), and a tag that contradicts the class (``status``) is kept.
        ``Model.construct(**m.to_dict()) == m`` for every model ``m``.

        The model is not bound to a client: a task built here cannot
        ``wait_for_task_output()``.

        Args:
            **data: The model's fields, by wire name.

        Returns:
            The model.

        """
        return _installed().construct(cls, data)

    model_construct = construct
