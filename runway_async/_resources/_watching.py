"""Waiting on the objects of plain endpoints that change status (avatars, voices, sessions).

Shared by their resources:

* ``object_kind`` makes the ``WatchKind`` of a collection: the object's path, its parsing
  (checked to be the object asked for) and what its status means to the watcher's schedule;
* ``ready_or_raise`` ends a ``wait`` of an object that is READY when made or has FAILED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

from .._exceptions import ResourceFailedError
from .._watched import WatchKind
from ._replies import object_path, parse_object

__all__ = ["PROCESSING_SCHEDULE", "object_kind", "ready_or_raise"]

T = TypeVar("T")

PROCESSING_SCHEDULE: Final[Mapping[str, str]] = {
    "PROCESSING": "PENDING",
    "READY": "SUCCEEDED",
    "FAILED": "FAILED",
}
"""The schedule of objects that are PROCESSING until READY or FAILED (avatars, voices)."""


def object_kind(name: str, prefix: str, cls: Any, schedule: Mapping[str, str]) -> WatchKind:
    """Return how the watcher follows the objects of a collection (``GET prefix + id``).

    Args:
        name: What the objects are called in messages (``"avatar"``).
        prefix: The collection's path with its trailing slash (``/v1/avatars/``).
        cls: The objects' tagged union (by ``status``).
        schedule: The task status the watcher's schedule acts on, by the object's
            ``status``; any other status is polled slowly.

    Returns:
        The kind; its ``parse`` checks the reply is the object asked for.

    """

    def path(object_id: str) -> str:
        return object_path(prefix, object_id)

    def parse(data: object, object_id: str) -> Any:
        return parse_object(data, cls, object_id=object_id, path="GET " + path(object_id))

    def status(obj: Any) -> str:
        return schedule.get(obj.status, "UNKNOWN")

    return WatchKind(name=name, path=path, parse=parse, status=status)


def ready_or_raise(obj: Any, ready: type[T], failed: type[Any], name: str) -> T:
    """Return ``obj`` (an object a wait ended on) if it is a ``ready``; raise otherwise.

    Args:
        obj: The object as the wait last saw it.
        ready: The class of the object once READY.
        failed: The class of the FAILED object (its ``failure_reason`` is the failure).
        name: What the object is called in the message (``"Avatar"``).

    Returns:
        ``obj``.

    Raises:
        ResourceFailedError: ``obj`` is not ready (``failure`` is its ``failure_reason``
            when it FAILED; ``resource`` is ``obj``).

    """
    if isinstance(obj, ready):
        return obj
    reason = obj.failure_reason if isinstance(obj, failed) else None
    raise ResourceFailedError(
        f"{name} {obj.id} ended {obj.status}: {reason or 'no reason given'}",
        obj,
        failure=reason,
    )
