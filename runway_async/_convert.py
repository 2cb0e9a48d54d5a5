"""The one cattrs converter between the wire format (camelCase JSON) and ``_models``.

Rules, applied to every attrs class in ``runway_async._models``:

* Wire keys are the camelCase form of the attribute names (``failure_code`` is
  ``failureCode``); keys of mappings (model names, ``resolvedInput``) are left verbatim.
* Unknown keys never fail: task classes keep them in ``extra``, other classes ignore them.
* ``Task`` is tagged by ``status``; a status this SDK does not know gives an ``UnknownTask``.
* Scalars are checked, not coerced: ``"5"`` is not an int and ``"abc"`` is not a list of
  strings. Timestamps are ISO-8601 (``Z`` accepted) and always come out timezone-aware.
* Unstructuring leaves out optional fields that are ``None`` (older API versions omit them),
  except keys the API sends as an explicit ``null``.

Parse errors become ``ResponseValidationError`` with the raw reply in ``body`` and cattrs'
``transform_error`` lines as the message, with paths in wire names (``$.createdAt``).

A plain ``cattrs.Converter`` rather than ``cattrs.preconf.json``: the preconfigured one adds
nothing used here except datetime hooks that need replacing (Python 3.10's ``fromisoformat``
rejects ``Z``), and its union passthrough would accept ``true`` as an int.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any, Final, TypeVar

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
    CancelledTask,
    FailedTask,
    ModelLimits,
    PendingTask,
    ResolvedSettings,
    RunningTask,
    SucceededTask,
    Task,
    ThrottledTask,
    UnknownTask,
    task_path,
)

__all__ = [
    "converter",
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

# Nullable keys the API sends as an explicit null (null means "no limit"), so unstructuring
# keeps them instead of leaving them out like other optional fields.
_KEEP_NULL: Final[frozenset[tuple[type, str]]] = frozenset(
    {
        (ResolvedSettings, "price_ceiling"),
        (ModelLimits, "max_concurrent_generations"),
        (ModelLimits, "max_daily_generations"),
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
    return isinstance(tp, type) and attrs.has(tp) and tp.__module__.startswith(_MODELS_PACKAGE)


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
        if keeps_extra:
            extra = {k: v for k, v in value.items() if k not in known}
            if extra:
                obj = attrs.evolve(obj, extra=extra)
        return obj

    return structure_model


def _model_unstructure_factory(cls: type, conv: cattrs.Converter) -> Callable[[Any], Any]:
    overrides: dict[str, Any] = {}
    for a in attrs.fields(cls):
        if a.name in _NOT_ON_WIRE:
            overrides[a.name] = override(omit=True)
        else:
            omit_none = a.default is None and (cls, a.name) not in _KEEP_NULL
            overrides[a.name] = override(rename=_camel(a.name), omit_if_default=omit_none)
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
