"""Forward compatibility: what lets a call through that this spec does not know yet.

Runway ships models and options between client releases, so client-side validation must
never block a call the server would take:

- ``extra_body`` / ``extra_query`` (wire names, merged after conversion) are not checked
  against the spec, only for being sendable JSON (``checked_extra``, ``merge_extra``).
- A model name the spec does not know is sent with light checks and one
  ``UnknownModelWarning`` per model per process (``warn_unknown_model``).
- A value the spec refuses raises ``InvalidRequestError`` whose message says how to send it
  anyway (``send_anyway``): ``extra_body`` for one call, or ``validate=False``.
"""

from __future__ import annotations

import inspect
import threading
import warnings
from collections.abc import Mapping
from types import FrameType
from typing import Any, Final

from .._exceptions import UnknownModelWarning
from ._validate import (
    INVALID_ENUM,
    INVALID_FORMAT,
    TOO_BIG,
    TOO_SMALL,
    UNKNOWN_FIELD,
    ValidationIssue,
    is_mapping,
)

__all__ = [
    "VALIDATE_FALSE",
    "checked_extra",
    "forget_warned_models",
    "send_anyway",
    "warn_unknown_model",
    "without_extra",
]

VALIDATE_FALSE: Final = (
    "AsyncRunway(validate=False) / client.with_options(validate=False) to leave checking to "
    "the server"
)
"""How to turn client-side validation off, as the hints word it."""

# The issues where the spec may lag behind the API (a new ratio, a longer prompt, a new
# field): sending anyway can make sense. Not types (a list where a string goes is a bug,
# and extra_body still sends it), missing members, media URIs or unsendable values.
_FORCEABLE: Final = frozenset({INVALID_ENUM, TOO_SMALL, TOO_BIG, INVALID_FORMAT, UNKNOWN_FIELD})
_SHOWN_CHARS: Final = 60  # longest repr of a value put in a hint; longer ones become ...
_PACKAGE: Final = __name__.partition(".")[0]

_warned: set[str] = set()
_warned_lock = threading.Lock()


def checked_extra(name: str, value: object) -> Mapping[str, Any] | None:
    """Return ``extra_body``/``extra_query`` as given, ``None`` when absent or empty.

    Raises:
        TypeError: ``value`` is not a mapping (the message names ``name``).

    """
    if value is None:
        return None
    if not is_mapping(value):
        raise TypeError(
            f"{name} must be a mapping of wire names to values, got {type(value).__name__}"
        )
    return value or None


def without_extra(
    issues: list[ValidationIssue], extra: Mapping[str, Any] | None
) -> list[ValidationIssue]:
    """Return the issues not about a member given in ``extra`` (which the caller vouches for)."""
    if not extra:
        return issues
    return [issue for issue in issues if not (issue.path and issue.path[0] in extra)]


def send_anyway(
    issue: ValidationIssue, sent: Mapping[str, Any] | None, *, option: str = "extra_body"
) -> str | None:
    """Return the sentence telling how to send a refused value anyway, if that can make sense.

    Args:
        issue: The issue about to be raised.
        sent: The part the issue is about, to quote the value: the wire body, or for
            ``extra_query`` the query as sent (text, so a list item's issue quotes the whole
            comma-separated value); ``None`` when no per-call option can carry it.
        option: ``extra_body`` or ``extra_query``.

    Returns:
        ``To send it anyway: extra_body={'ratio': '999:999'} for this call, or ...``, or
        ``None`` for issues no option fixes (a missing member, a wrong type, bad text).

    """
    if issue.code not in _FORCEABLE or issue.unsendable:
        return None
    if sent is None or not issue.path or not isinstance(issue.path[0], str):
        return f"To send it anyway: {VALIDATE_FALSE}."
    key = issue.path[0]
    whole = len(issue.path) == 1 or option == "extra_query"
    shown = "..."
    if whole and key in sent:
        value = sent[key]
        if value is None or isinstance(value, (str, int, float, bool)):
            text = repr(value)
            shown = text if len(text) <= _SHOWN_CHARS else "..."
    member = "" if whole else " (the whole member, with wire names)"
    return (
        f"To send it anyway: {option}={{{key!r}: {shown}}}{member} for this call, "
        f"or {VALIDATE_FALSE}."
    )


def warn_unknown_model(endpoint: str, model: str) -> None:
    """Warn once per process that ``model`` is not in this client's spec (the first time).

    The warning points at the first frame outside this package: the caller's line when it
    calls in the same thread (the sync client's calls run on its loop thread, so there it
    points at that loop).
    """
    with _warned_lock:
        if model in _warned:
            return
        _warned.add(model)
    warnings.warn(
        UnknownModelWarning(
            f"Model {model!r} is not known to this version of runway_async; it is sent to "
            f"{endpoint} with the checks that do not depend on the model (types of known "
            "fields, media URIs), and the API decides. Upgrading runway_async brings the full "
            "checks. To silence: warnings.filterwarnings('ignore', "
            "category=runway_async.UnknownModelWarning).",
            model=model,
            endpoint=endpoint,
        ),
        stacklevel=_caller_level(),
    )


def forget_warned_models() -> None:
    """Forget which unknown models were warned about, so each warns again (for tests)."""
    with _warned_lock:
        _warned.clear()


def _caller_level() -> int:
    """Return the ``stacklevel`` of the first frame outside this package, for ``warn``."""
    # Level 1 is warn_unknown_model's frame (it calls warnings.warn), our caller.
    here = inspect.currentframe()
    frame: FrameType | None = here.f_back if here is not None else None
    level = 1
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not isinstance(name, str) or not (name == _PACKAGE or name.startswith(_PACKAGE + ".")):
            return level
        frame = frame.f_back
        level += 1
    return 1
