"""The one cattrs converter between the wire format (camelCase JSON) and ``_models``.

Rules, applied to every attrs class in ``runway_async._models``:

* Wire keys are the camelCase form of the attribute names (``failure_code`` is
  ``failureCode``); keys of mappings (model names, ``resolvedInput``) are left verbatim.
* Unknown keys never fail: classes with an ``extra`` field (every response model) keep them
  there and write them back; others ignore them.
* ``Task`` is tagged by ``status``; a status this SDK does not know gives an ``UnknownTask``.
* Scalars are checked, not coerced: ``"5"`` is not an int and ``"abc"`` is not a list of
  strings. Timestamps are ISO-8601 (``Z`` accepted) and always come out timezone-aware.
* Unstructuring leaves out optional fields that are ``None`` (older API versions omit them),
  except keys the API sends as an explicit ``null``.

``dump_model`` and ``construct_model`` are what every model's ``to_dict``/``to_json`` and
``construct`` run (``_models._serial.WireModel``): the converter's wire data, reshaped by the
official SDK's options; and a lenient build from wire data.

Parse errors become ``ResponseValidationError`` with the raw reply in ``body`` and cattrs'
``transform_error`` lines as the message, with paths in wire names (``$.createdAt``).

A plain ``cattrs.Converter`` rather than ``cattrs.preconf.json``: the preconfigured one adds
nothing used here except datetime hooks that need replacing (Python 3.10's ``fromisoformat``
rejects ``Z``), and its union passthrough would accept ``true`` as an int.
"""

from __future__ import annotations

import contextlib
import re
import sys
import types
import typing
import warnings as _warnings
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any, Final, Literal, TypeVar

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    StructureHandlerNotFoundError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception

from ._exceptions import ResponseValidationError
from ._models import (
    AvatarConversationSummary,
    CancelledTask,
    ConversationCustomAvatar,
    EndedConversation,
    FailedAvatar,
    FailedConversation,
    FailedTask,
    FailedVoice,
    InProgressConversation,
    ModelLimits,
    PendingTask,
    ProcessingAvatar,
    ProcessingVoice,
    ReadyAvatar,
    ReadyVoice,
    ResolvedSettings,
    Router,
    RunningTask,
    SucceededTask,
    Task,
    ThrottledTask,
    UnknownTask,
    Workflow,
    install_codec,
    task_path,
)

__all__ = [
    "construct_model",
    "converter",
    "dump_model",
    "json_type",
    "register_tagged_union",
    "structure",
    "structure_task",
    "task_from_reply",
    "unstructure",
]

T = TypeVar("T")

_MODELS_PACKAGE: Final = "runway_async._models"

_TASK_BY_STATUS: Final[Mapping[str, type[Task]]] = {
    "PENDING": PendingTask,
    "THROTTLED": ThrottledTask,
    "RUNNING": RunningTask,
    "SUCCEEDED": SucceededTask,
    "FAILED": FailedTask,
    "CANCELLED": CancelledTask,
}

# Nullable keys the API sends as an explicit null (null means "no limit", "not set", "not
# yet"), so unstructuring keeps them instead of leaving them out like other optional fields,
# and to_dict() gives the reply back key for key.
_KEEP_NULL: Final[frozenset[tuple[type, str]]] = frozenset(
    {
        (ResolvedSettings, "price_ceiling"),
        (ModelLimits, "max_concurrent_generations"),
        (ModelLimits, "max_daily_generations"),
        *((cls, "description") for cls in (ProcessingVoice, ReadyVoice, FailedVoice)),
        *(
            (cls, name)
            for cls in (ProcessingAvatar, ReadyAvatar, FailedAvatar)
            for name in ("start_script", "processed_image_uri")
        ),
        (AvatarConversationSummary, "duration"),
        *(
            (cls, name)
            for cls in (InProgressConversation, EndedConversation, FailedConversation)
            for name in ("duration", "max_duration", "started_at", "recording_url")
        ),
        (ConversationCustomAvatar, "name"),
        (Router, "description"),
        (Workflow, "description"),
    }
)

# Attributes the wire never sees: `extra` holds unknown keys; `_client` is a runtime binding.
_EXTRA: Final = "extra"
_NOT_ON_WIRE: Final = frozenset({_EXTRA, "_client"})

# Wire name of each attribute, per class, to report error paths in the reply's own terms.
_WIRE_NAMES: dict[type, dict[str, str]] = {}


class _WireTypeError(TypeError):
    """A wire value of the wrong JSON type; its message is shown as is."""


class _WireValueError(ValueError):
    """A wire value of the right JSON type that could not be parsed; shown as is."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def json_type(value: object, *, article: bool = False) -> str:
    """Return the JSON type of a decoded value, for messages (``number``, ``an object``).

    Args:
        value: A value as ``json.loads`` returns it (other types are named as such).
        article: Put ``a``/``an`` before the type (``a string``); never before ``null``
            or the name of a type JSON does not have.

    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        noun = "boolean"
    elif isinstance(value, (int, float)):
        noun = "number"
    elif isinstance(value, str):
        noun = "string"
    elif isinstance(value, Mapping):
        noun = "object"
    elif isinstance(value, (list, tuple)):
        noun = "array"
    else:
        return type(value).__name__
    if not article:
        return noun
    return ("an " if noun[0] in "aeiou" else "a ") + noun


# --- scalars --------------------------------------------------------------------------------


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    raise _WireTypeError(f"expected a string, got {json_type(value)}")


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _WireTypeError(f"expected a boolean, got {json_type(value)}")


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    # JSON has one number type; some encoders write whole numbers as 5.0.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _WireTypeError(f"expected an integer, got {json_type(value)} {value!r}")


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _WireTypeError(f"expected a number, got {json_type(value)}")


def _number_union_args(tp: Any) -> frozenset[Any]:
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return frozenset()
    return frozenset(typing.get_args(tp))


def _is_number_union(tp: Any) -> bool:
    # ``int | float`` and ``int | float | None``, which cattrs has no hook for.
    return _number_union_args(tp) - {type(None)} == {int, float}


def _number_union_factory(tp: Any) -> Callable[[object, Any], int | float | None]:
    nullable = type(None) in _number_union_args(tp)

    def structure_number(value: object, _: Any) -> int | float | None:
        # Credits keep the value as sent: an int stays an int.
        if value is None and nullable:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        expected = "a number or null" if nullable else "a number"
        raise _WireTypeError(f"expected {expected}, got {json_type(value)}")

    return structure_number


# --- timestamps -----------------------------------------------------------------------------

# Python 3.10's fromisoformat only takes 3 or 6 fraction digits; servers may send others.
_FRACTION = re.compile(r"\.(\d+)")


# The API's own form, 2025-01-31T12:00:00.123Z, which fromisoformat reads as is from 3.11 on.
_FAST_ISO: Final = sys.version_info >= (3, 11)


def _structure_datetime(value: object, _: object) -> datetime:
    if not isinstance(value, str):
        raise _WireTypeError(f"expected an ISO-8601 timestamp string, got {json_type(value)}")
    if _FAST_ISO and len(value) == 24 and value[19] == "." and value[23] == "Z":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass  # the general path words the error
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _WireValueError(f"invalid ISO-8601 timestamp {value!r}") from None
    # The API's timestamps are UTC; a missing offset means UTC, never local time.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    # The shortest exact form, ending in Z as the API writes it (JavaScript's millisecond
    # precision when that is exact).
    if not value.microsecond:
        timespec = "seconds"
    elif not value.microsecond % 1000:
        timespec = "milliseconds"
    else:
        timespec = "microseconds"
    return value.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _structure_date(value: object, _: object) -> date:
    if not isinstance(value, str):
        raise _WireTypeError(f"expected an ISO-8601 date string, got {json_type(value)}")
    text = value.strip()
    # Tolerate a full timestamp where a day is expected.
    if len(text) > 10 and text[10] in "Tt ":
        text = text[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _WireValueError(f"invalid ISO-8601 date {value!r}") from None


def _unstructure_date(value: date) -> str:
    return value.isoformat()


# --- collections ----------------------------------------------------------------------------


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _strict_tuple_factory(tp: Any, conv: cattrs.Converter) -> Callable[[object, Any], Any]:
    inner = homogenous_tuple_structure_factory(tp, conv)

    def structure_array(value: object, tp: Any) -> Any:
        # A string is iterable, but "abc" is not a list of three strings.
        if not isinstance(value, (list, tuple)):
            raise _WireTypeError(f"expected an array, got {json_type(value)}")
        return inner(value, tp)

    return structure_array


# --- attrs classes --------------------------------------------------------------------------


def _is_model(tp: Any) -> bool:
    # A subclass that adds no fields (the sync facade's task twins) is its model's kind too.
    if not (isinstance(tp, type) and attrs.has(tp)):
        return False
    owner = next(c for c in tp.__mro__ if "__attrs_attrs__" in c.__dict__)
    return owner.__module__.startswith(_MODELS_PACKAGE)


def _wire_fields(cls: type) -> list[attrs.Attribute[Any]]:
    return [a for a in attrs.fields(cls) if a.name not in _NOT_ON_WIRE]


def _model_structure_factory(cls: type, conv: cattrs.Converter) -> Callable[[object, Any], Any]:
    fields = _wire_fields(cls)
    renames = {a.name: _camel(a.name) for a in fields}
    _WIRE_NAMES[cls] = renames
    overrides: dict[str, Any] = {name: override(rename=wire) for name, wire in renames.items()}
    present = attrs.fields_dict(cls)
    overrides.update({name: override(omit=True) for name in _NOT_ON_WIRE if name in present})
    inner: Callable[[Mapping[str, Any], Any], Any] = make_dict_structure_fn(cls, conv, **overrides)
    keeps_extra = _EXTRA in present
    known = frozenset(renames.values())

    def structure_model(value: object, _: Any) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise _WireTypeError(f"expected an object, got {json_type(value)}")
        obj = inner(value, cls)
        # issuperset runs in C: a reply without unknown keys (the usual one) costs no loop.
        if keeps_extra and not known.issuperset(value):
            extra = {k: v for k, v in value.items() if k not in known}
            obj = attrs.evolve(obj, extra=extra)
        return obj

    return structure_model


def _left_out_when_none(cls: type, a: attrs.Attribute[Any]) -> bool:
    # An optional field holding None is left out (the API omits it), unless the API sends it
    # as an explicit null; to_dict's exclude_unset counts the left-out ones as unset.
    return a.default is None and (cls, a.name) not in _KEEP_NULL


def _model_unstructure_factory(cls: type, conv: cattrs.Converter) -> Callable[[Any], Any]:
    overrides: dict[str, Any] = {}
    for a in attrs.fields(cls):
        if a.name in _NOT_ON_WIRE:
            overrides[a.name] = override(omit=True)
        else:
            overrides[a.name] = override(
                rename=_camel(a.name), omit_if_default=_left_out_when_none(cls, a)
            )
    inner: Callable[[Any], Any] = make_dict_unstructure_fn(cls, conv, **overrides)
    if _EXTRA not in attrs.fields_dict(cls):
        return inner

    def unstructure_model(obj: Any) -> Any:
        data: dict[str, Any] = inner(obj)
        for key, value in obj.extra.items():
            data.setdefault(key, value)  # a modelled field wins over a stray duplicate
        return data

    return unstructure_model


# --- the task union -------------------------------------------------------------------------


def _bad_status(cause: Exception) -> ClassValidationError:
    # The note gives the problem its path ($.status), the way cattrs' own hooks do it.
    cause.__notes__ = [  # type: ignore[attr-defined]  # not in the stubs before 3.11
        *getattr(cause, "__notes__", []),
        AttributeValidationNote("Structuring Task @ attribute status", "status", str),
    ]
    return ClassValidationError("While structuring Task", [cause], UnknownTask)


def _structure_task_union(value: object, _: Any) -> Task:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _WireTypeError(f"expected a task object, got {json_type(value)}")
    if "status" not in value:
        raise _bad_status(KeyError("status"))
    status = value["status"]
    if not isinstance(status, str):
        raise _bad_status(_WireTypeError(f"expected a string, got {json_type(status)}"))
    cls = _TASK_BY_STATUS.get(status, UnknownTask)
    task: Task = converter.structure(value, cls)
    return task


# --- the converter --------------------------------------------------------------------------


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook_factory(_is_number_union, _number_union_factory)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook(date, _unstructure_date)
    conv.register_structure_hook_factory(_is_homogeneous_tuple, _strict_tuple_factory)
    conv.register_structure_hook_factory(_is_model, _model_structure_factory)
    conv.register_unstructure_hook_factory(_is_model, _model_unstructure_factory)
    conv.register_structure_hook(Task, _structure_task_union)
    return conv


converter: Final[cattrs.Converter] = _make_converter()
"""The converter; use ``structure``, ``structure_task`` and ``unstructure`` rather than it."""


def register_tagged_union(
    union: Any,
    by_tag: Mapping[str, type],
    *,
    unknown: type | None = None,
    tag: str = "status",
) -> None:
    """Teach the converter a union of models told apart by the wire key ``tag``.

    Args:
        union: The union type (``Avatar = ProcessingAvatar | ReadyAvatar | ...``).
        by_tag: Each known tag value and its class.
        unknown: The class for a tag value this SDK does not know (it must take the tag as a
            plain ``str`` and keep other keys in ``extra``); ``None`` makes it an error.
        tag: The discriminating wire key.

    """
    name = getattr(union, "__name__", None) or str(union)

    def bad(cause: Exception) -> ClassValidationError:
        cause.__notes__ = [  # type: ignore[attr-defined]  # not in the stubs before 3.11
            *getattr(cause, "__notes__", []),
            AttributeValidationNote(f"Structuring {name} @ attribute {tag}", tag, str),
        ]
        return ClassValidationError(f"While structuring {name}", [cause], object)

    def structure_union(value: object, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise _WireTypeError(f"expected an object, got {json_type(value)}")
        if tag not in value:
            raise bad(KeyError(tag))
        key = value[tag]
        if not isinstance(key, str):
            raise bad(_WireTypeError(f"expected a string, got {json_type(key)}"))
        cls = by_tag.get(key, unknown)
        if cls is None:
            allowed = ", ".join(repr(k) for k in by_tag)
            raise bad(_WireTypeError(f"unknown value {key!r} (known: {allowed})"))
        return converter.structure(value, cls)

    converter.register_structure_hook(union, structure_union)


# --- errors ---------------------------------------------------------------------------------


def _describe(exc: BaseException, tp: Any) -> str:
    if isinstance(exc, (_WireTypeError, _WireValueError)):
        return str(exc)
    return format_exception(exc, tp)


def _error_lines(exc: BaseException, path: str) -> list[str]:
    # cattrs' transform_error, with attribute names translated to wire names.
    if isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        lines: list[str] = []
        for sub, note in with_notes:
            sub_path = f"{path}[{note.index!r}]"
            if isinstance(sub, (ClassValidationError, IterableValidationError)):
                lines.extend(_error_lines(sub, sub_path))
            else:
                lines.append(f"{_describe(sub, note.type)} @ {sub_path}")
        lines.extend(f"{_describe(sub, None)} @ {path}" for sub in without)
        return lines
    if isinstance(exc, ClassValidationError):
        names = _WIRE_NAMES.get(exc.cl, {})
        attr_notes, without = exc.group_exceptions()
        lines = []
        for sub, attr_note in attr_notes:
            sub_path = f"{path}.{names.get(attr_note.name, attr_note.name)}"
            if isinstance(sub, (ClassValidationError, IterableValidationError)):
                lines.extend(_error_lines(sub, sub_path))
            else:
                lines.append(f"{_describe(sub, attr_note.type)} @ {sub_path}")
        lines.extend(f"{_describe(sub, None)} @ {path}" for sub in without)
        return lines
    return [f"{_describe(exc, None)} @ {path}"]


def _type_name(tp: Any) -> str:
    return "Task" if tp is Task else getattr(tp, "__name__", repr(tp))


def structure(data: object, cls: type[T]) -> T:
    """Build a ``cls`` from parsed JSON.

    Args:
        data: The parsed JSON reply.
        cls: The model class (or ``Task``) to build.

    Returns:
        The model.

    Raises:
        ResponseValidationError: ``data`` does not have the shape of ``cls``; ``body`` is
            ``data`` and the message lists each problem with its path (``@ $.createdAt``).

    """
    try:
        result: T = converter.structure(data, cls)
    except StructureHandlerNotFoundError:
        raise  # a programming error (no hook for cls), not a bad reply
    except Exception as exc:
        problems = "; ".join(_error_lines(exc, "$"))
        raise ResponseValidationError(
            f"The reply is not a valid {_type_name(cls)}: {problems}", body=data
        ) from exc
    return result


def structure_task(data: object) -> Task:
    """Build the task class matching ``data["status"]`` (``UnknownTask`` for a new status).

    Args:
        data: The parsed JSON reply of ``GET /v1/tasks/{id}``.

    Returns:
        A ``PendingTask``, ``ThrottledTask``, ``RunningTask``, ``SucceededTask``,
        ``FailedTask``, ``CancelledTask`` or ``UnknownTask``, not bound to a client.

    Raises:
        ResponseValidationError: ``data`` is not a task (no ``id``, no string ``status``, a
            SUCCEEDED task without an ``output`` list, ...); ``body`` is ``data``.

    """
    return structure(data, Task)  # type: ignore[arg-type]  # a union is not a type[T]


def task_from_reply(data: object, task_id: str) -> Task:
    """Return the task of a ``GET /v1/tasks/{task_id}`` reply, checking it is that task.

    Args:
        data: The parsed reply.
        task_id: The id that was asked for.

    Returns:
        The task (not bound to a client).

    Raises:
        ResponseValidationError: The reply is not a task, or is another task than
            ``task_id`` (a confused proxy or cache); ``body`` is the reply.

    """
    task = structure_task(data)
    if task.id != task_id:
        path = task_path(task_id)
        raise ResponseValidationError(
            f"GET {path} answered another task, {task.id[:100]!r}.",
            method="GET",
            url=path,
            body=data,
        )
    return task


def unstructure(obj: object) -> Any:
    """Turn a model into wire JSON data: camelCase keys, ISO-8601 timestamps, lists.

    Unknown keys kept in a task's ``extra`` are written back; the bound client is not.

    Args:
        obj: A model (or a container of models).

    Returns:
        Data ready for ``json.dumps``.

    """
    return converter.unstructure(obj)


# --- to_dict, to_json and construct ---------------------------------------------------------


@attrs.frozen
class _DumpOptions:
    python: bool
    api_names: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool


def _resolved_fields(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    # Annotations are strings (``from __future__ import annotations``) until resolved once.
    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(attrs.resolve_types(cls))
    return fields


def _is_tag(a: attrs.Attribute[Any]) -> bool:
    # A one-value Literal (``status: Literal["PENDING"]``) says which class a dict is.
    return typing.get_origin(a.type) is Literal


def _default_of(a: attrs.Attribute[Any]) -> Any:
    default: Any = a.default
    # attrs.Factory is a class, typed as an overloaded function in its stubs.
    factory: Any = attrs.Factory
    return default.factory() if isinstance(default, factory) else default


def _equals_default(a: attrs.Attribute[Any], value: object) -> bool:
    if a.default is attrs.NOTHING or _is_tag(a):
        return False
    return bool(value == _default_of(a))


class _Reshaper:
    """Apply ``to_dict``'s options to the converter's wire form of a model.

    Walks the model and its wire data together, so each key's field (and type) is known;
    rebuilds every container, so the result shares nothing mutable with the model. With
    ``check``, it notes each value that does not have its field's type (``problems``).
    """

    def __init__(self, options: _DumpOptions, *, check: bool) -> None:
        self.options = options
        self.check = check
        self.problems: list[str] = []

    def reshape(self, value: Any, data: Any, tp: Any, path: str) -> Any:
        if self.check and not _fits(value, tp):
            self.problems.append(f"{path} holds {json_type(value, article=True)}, not {_name(tp)}")
            tp = Any
        if isinstance(data, dict) and _is_model(type(value)):
            return self._model(value, data, path)
        if typing.get_origin(tp) in (typing.Union, types.UnionType):  # the arm of value
            tp = next((arm for arm in typing.get_args(tp) if _fits(value, arm)), Any)
        args = typing.get_args(tp)
        if isinstance(data, dict):
            source = value if isinstance(value, Mapping) else data
            inner = args[1] if len(args) == 2 else Any
            return {
                k: self.reshape(source.get(k, v), v, inner, f"{path}[{k!r}]")
                for k, v in data.items()
            }
        if isinstance(data, (list, tuple)):
            same = isinstance(value, (list, tuple)) and len(value) == len(data)
            inner = args[0] if _is_homogeneous_tuple(tp) else Any
            return [
                self.reshape(v, d, inner, f"{path}[{i}]")
                for i, (v, d) in enumerate(zip(value if same else data, data, strict=True))
            ]
        if self.options.python and isinstance(value, (datetime, date)):
            return value
        return data

    def _model(self, value: Any, data: dict[str, Any], path: str) -> dict[str, Any]:
        options = self.options
        out: dict[str, Any] = {}
        wire_names = set()
        for a in _resolved_fields(type(value)):
            if a.name in _NOT_ON_WIRE:
                continue
            wire = _camel(a.name)
            wire_names.add(wire)
            item = getattr(value, a.name)
            if wire not in data:  # left out by the converter: an unset optional field
                if options.exclude_unset or options.exclude_none or options.exclude_defaults:
                    continue
                shaped = None
            elif (options.exclude_none and item is None) or (
                options.exclude_defaults and _equals_default(a, item)
            ):
                continue
            else:
                shaped = self.reshape(item, data[wire], a.type, f"{path}.{wire}")
            out[wire if options.api_names else a.name] = shaped
        for key, raw in data.items():  # unknown keys, verbatim
            if key not in wire_names and not (options.exclude_none and raw is None):
                out.setdefault(key, self.reshape(raw, raw, Any, f"{path}.{key}"))
        return out


def _name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")


def _fits(value: object, tp: Any) -> bool:
    """Whether ``value`` has type ``tp`` at its top level (a lenient build may not)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(tp))
    if origin is Literal:
        return value in typing.get_args(tp)
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float))
    runtime = origin if isinstance(origin, type) else tp
    return isinstance(runtime, type) and isinstance(value, runtime)


def _unstructure_loosely(value: Any) -> Any:
    """Unstructure what a lenient build made: each value by its own type, not its field's."""
    if _is_model(type(value)):
        data: dict[str, Any] = {}
        for a in _resolved_fields(type(value)):
            item = getattr(value, a.name)
            if a.name in _NOT_ON_WIRE or (item is None and _left_out_when_none(type(value), a)):
                continue
            data[_camel(a.name)] = _unstructure_loosely(item)
        for key, raw in getattr(value, _EXTRA, {}).items():
            data.setdefault(key, raw)
        return data
    if isinstance(value, Mapping):
        return {k: _unstructure_loosely(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_unstructure_loosely(v) for v in value]
    return converter.unstructure(value)  # a datetime still becomes text


def dump_model(
    obj: object,
    *,
    mode: Literal["json", "python"] = "python",
    use_api_names: bool = True,
    exclude_unset: bool = True,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    warnings: bool = True,
) -> dict[str, Any]:
    """Return a model as a dict: ``WireModel.to_dict``, whose docstring gives the options.

    The converter's wire form (``unstructure``) reshaped: attribute names for wire names,
    ``datetime`` objects back for ISO strings, unset, default or ``None`` fields left out.

    Raises:
        ValueError: ``mode`` is neither ``"json"`` nor ``"python"``.

    """
    if mode not in ("json", "python"):
        raise ValueError(f"mode must be 'json' or 'python', got {mode!r}")
    try:
        data = converter.unstructure(obj)
    except Exception:
        data = _unstructure_loosely(obj)
    options = _DumpOptions(
        python=mode == "python",
        api_names=use_api_names,
        exclude_unset=exclude_unset,
        exclude_defaults=exclude_defaults,
        exclude_none=exclude_none,
    )
    reshaper = _Reshaper(options, check=warnings)
    result: dict[str, Any] = reshaper.reshape(obj, data, Any, "$")
    if reshaper.problems:
        _warnings.warn(
            f"{type(obj).__name__} holds values that do not have their fields' types, "
            f"written as they are: {'; '.join(reshaper.problems)}",
            UserWarning,
            stacklevel=3,
        )
    return result


def _tag_matches(cls: type, data: Mapping[str, Any]) -> bool:
    tags = [a for a in _resolved_fields(cls) if _is_tag(a)]
    return bool(tags) and all(data.get(_camel(a.name)) in typing.get_args(a.type) for a in tags)


def _structure_loosely(value: Any, tp: Any) -> Any:
    with contextlib.suppress(Exception):  # not of the type: build what can be, keep the rest
        return converter.structure(value, tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        arms = [arm for arm in typing.get_args(tp) if arm is not type(None)]
        models = [arm for arm in arms if _is_model(arm)]
        if len(arms) == 1:
            return _structure_loosely(value, arms[0])
        if models and isinstance(value, Mapping):  # a tagged union: the arm its tag names
            matching = [arm for arm in models if _tag_matches(arm, value)]
            return _construct_loosely(matching[0] if matching else models[-1], value)
        return value
    if isinstance(value, Mapping):
        if _is_model(tp):
            return _construct_loosely(tp, value)
        if typing.get_origin(tp) in (Mapping, dict) and len(typing.get_args(tp)) == 2:
            inner = typing.get_args(tp)[1]
            return {k: _structure_loosely(v, inner) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and _is_homogeneous_tuple(tp):
        inner = typing.get_args(tp)[0]
        return tuple(_structure_loosely(v, inner) for v in value)
    return value


def _construct_loosely(cls: type[T], data: Mapping[str, Any]) -> T:
    # As the official SDK's construct: no validators run, nothing raises.
    obj = object.__new__(cls)
    known: set[str] = set()
    fields = _resolved_fields(cls)
    for a in fields:
        if a.name in _NOT_ON_WIRE:
            continue
        wire = _camel(a.name)
        known.add(wire)
        if wire in data:
            value = _structure_loosely(data[wire], a.type)
        else:
            value = None if a.default is attrs.NOTHING else _default_of(a)
        object.__setattr__(obj, a.name, value)
    names = {a.name for a in fields}
    if _EXTRA in names:
        object.__setattr__(obj, _EXTRA, {k: v for k, v in data.items() if k not in known})
    if "_client" in names:
        object.__setattr__(obj, "_client", None)
    return obj


def construct_model(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build a ``cls`` from wire data without raising: ``WireModel.construct``.

    Data the converter parses gives exactly what a reply would; other data gives a model
    holding what could be parsed, raw values elsewhere, ``None`` for missing fields.

    Raises:
        StructureHandlerNotFoundError: ``cls`` is not a model (a programming error).

    """
    data = _as_json(data)
    try:
        result: T = converter.structure(data, cls)
    except StructureHandlerNotFoundError:
        raise
    except Exception:
        return _construct_loosely(cls, data)
    return result


def _as_json(value: Any) -> Any:
    # to_dict()'s python mode holds datetime and date objects: back to the wire's text, so
    # construct(**m.to_dict()) parses exactly as the reply did.
    if isinstance(value, (datetime, date)):
        return converter.unstructure(value)
    if isinstance(value, Mapping):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    return value


class _Codec:
    """The converter as ``WireModel`` sees it."""

    dump = staticmethod(dump_model)

    @staticmethod
    def construct(cls: type[T], data: Mapping[str, Any]) -> T:
        return construct_model(cls, data)


install_codec(_Codec())
