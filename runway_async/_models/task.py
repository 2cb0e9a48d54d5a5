"""Tasks as ``GET /v1/tasks/{id}`` reports them, one class per status."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Final, Literal, Protocol, TypeVar

import attrs

from ._serial import WireModel
from .cost import Cost

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "CancelledTask",
    "FailedTask",
    "PendingTask",
    "RunningTask",
    "SucceededTask",
    "Task",
    "TaskWaiter",
    "ThrottledTask",
    "UnknownTask",
    "bind_client",
    "bind_fresh",
    "bound_client",
    "check_task_id",
    "task_path",
]

DEFAULT_WAIT_TIMEOUT: Final = 600.0
"""Seconds a wait for a task's output lasts unless told otherwise (as in the official SDK)."""


class TaskWaiter(Protocol):
    """What a bound task waits through: the client's core, or ``client.tasks``."""

    async def wait(self, id: str, /, *, timeout: float | None) -> SucceededTask:
        """Wait until task ``id`` ends; return it if it succeeded, else raise its outcome."""
        ...


def _require_aware(
    _instance: object, attribute: attrs.Attribute[datetime], value: datetime
) -> None:
    # Naive datetimes compare unequal to aware ones, so one naive value would break equality
    # with every parsed task; the API's timestamps are UTC.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware, got {value!r}")


class _TaskBehaviour(WireModel):
    """What every task class can do; each class declares its own fields."""

    __slots__ = ()

    _TERMINAL: ClassVar[bool] = False

    id: str
    # What the task waits through (see ``bind_client``). The attrs fields below are typed
    # ``Any``: a sync twin of a task binds its sync client there instead.
    _client: TaskWaiter | None

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended: ``SUCCEEDED``, ``FAILED`` or ``CANCELLED``.

        An ``UnknownTask`` counts as not ended, so waiters keep polling it until their
        deadline rather than guessing what a new status means.
        """
        return self._TERMINAL

    async def wait_for_task_output(
        self, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededTask:
        """Wait until the task ends and return it when it succeeded.

        Works on tasks returned by ``client.tasks.retrieve(id)``, which binds the client;
        the same as ``client.tasks.wait(task.id, timeout=timeout)``.

        Args:
            timeout: Seconds to wait in all (``None``: no deadline).

        Returns:
            The SUCCEEDED task, with its ``output`` URLs.

        Raises:
            RuntimeError: The task is not bound to a client (it was built or parsed directly).
            TaskFailedError: The task FAILED.
            TaskCancelledError: The task was cancelled or deleted.
            TaskTimeoutError: The deadline passed.

        """
        if self._client is None:
            raise RuntimeError(
                f"Task {self.id} is not bound to a client, so it cannot wait; get it from "
                "client.tasks.retrieve(id) or call client.tasks.wait(id) instead."
            )
        return await self._client.wait(self.id, timeout=timeout)


@attrs.frozen(kw_only=True)
class PendingTask(_TaskBehaviour):
    """A task accepted and waiting to be scheduled (``PENDING``).

    Attributes:
        id: The task id.
        status: Always ``"PENDING"``.
        created_at: When the task was submitted (timezone-aware).
        estimated_cost: The most the task may charge; ``None`` when the server did not say.
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    id: str
    status: Literal["PENDING"] = "PENDING"
    created_at: datetime = attrs.field(validator=_require_aware)
    estimated_cost: Cost | None = None
    # `extra` is part of equality (tasks differing in a field we do not model differ) but not
    # of the hash, since a dict cannot be hashed. `_client` is neither, and never on the wire.
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True, alias="client")


@attrs.frozen(kw_only=True)
class ThrottledTask(_TaskBehaviour):
    """A task over the organization's per-model concurrency limit, queued server-side.

    It will move to ``PENDING`` when capacity frees, roughly in submission order.

    Attributes:
        id: The task id.
        status: Always ``"THROTTLED"``.
        created_at: When the task was submitted (timezone-aware).
        estimated_cost: The most the task may charge; ``None`` when the server did not say.
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    id: str
    status: Literal["THROTTLED"] = "THROTTLED"
    created_at: datetime = attrs.field(validator=_require_aware)
    estimated_cost: Cost | None = None
    # `extra` is part of equality (tasks differing in a field we do not model differ) but not
    # of the hash, since a dict cannot be hashed. `_client` is neither, and never on the wire.
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True, alias="client")


@attrs.frozen(kw_only=True)
class RunningTask(_TaskBehaviour):
    """A task that is generating (``RUNNING``).

    Attributes:
        id: The task id.
        status: Always ``"RUNNING"``.
        created_at: When the task was submitted (timezone-aware).
        estimated_cost: The most the task may charge; ``None`` when the server did not say.
        progress: The fraction done, from 0 to 1, when the server reports it.
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    id: str
    status: Literal["RUNNING"] = "RUNNING"
    created_at: datetime = attrs.field(validator=_require_aware)
    estimated_cost: Cost | None = None
    progress: float | None = None
    # `extra` is part of equality (tasks differing in a field we do not model differ) but not
    # of the hash, since a dict cannot be hashed. `_client` is neither, and never on the wire.
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True, alias="client")


@attrs.frozen(kw_only=True)
class SucceededTask(_TaskBehaviour):
    """A task that finished and produced output (``SUCCEEDED``).

    Attributes:
        id: The task id.
        status: Always ``"SUCCEEDED"``.
        created_at: When the task was submitted (timezone-aware).
        cost: What the task charged; ``None`` when the server did not say.
        output: Signed URLs of the results, which expire within 24 to 48 hours; fetch the
            task again for fresh ones. Several for multi-image or multi-file outputs.
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    _TERMINAL: ClassVar[bool] = True

    id: str
    status: Literal["SUCCEEDED"] = "SUCCEEDED"
    created_at: datetime = attrs.field(validator=_require_aware)
    cost: Cost | None = None
    output: tuple[str, ...]
    # `extra` is part of equality (tasks differing in a field we do not model differ) but not
    # of the hash, since a dict cannot be hashed. `_client` is neither, and never on the wire.
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True, alias="client")


@attrs.frozen(kw_only=True)
class FailedTask(_TaskBehaviour):
    """A task that ended without output (``FAILED``), content moderation included.

    Attributes:
        id: The task id.
        status: Always ``"FAILED"``.
        created_at: When the task was submitted (timezone-aware).
        cost: What the task charged (moderated tasks are charged); ``None`` when the server
            did not say.
        failure: The server's human-readable reason, for logs rather than end users.
        failure_code: A machine-readable code such as ``SAFETY.INPUT.TEXT``, when given.
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    _TERMINAL: ClassVar[bool] = True

    id: str
    status: Literal["FAILED"] = "FAILED"
    created_at: datetime = attrs.field(validator=_require_aware)
    cost: Cost | None = None
    failure: str
    failure_code: str | None = None
    # `extra` is part of equality (tasks differing in a field we do not model differ) but not
    # of the hash, since a dict cannot be hashed. `_client` is neither, and never on the wire.
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True, alias="client")


@attrs.frozen(kw_only=True)
class CancelledTask(_TaskBehaviour):
    """A task that was cancelled or deleted (``CANCELLED``).

    Attributes:
        id: The task id.
        status: Always ``"CANCELLED"``.
        created_at: When the task was submitted (timezone-aware).
        cost: What stayed charged; ``None`` when the server did not say.
        extra: Wire keys this SDK does not know, kept verbatim (part of equality, not of the
            hash).

    """

    _TERMINAL: ClassVar[bool] = True

    id: str
    status: Literal["CANCELLED"] = "CANCELLED"
    created_at: datetime = attrs.field(validator=_require_aware)
    cost: Cost | None = None
    # `extra` is part of equality (tasks differing in a field we do not model differ) but not
    # of the hash, since a dict cannot be hashed. `_client` is neither, and never on the wire.
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True, alias="client")


@attrs.frozen(kw_only=True)
class UnknownTask(_TaskBehaviour):
    """A task whose status this SDK does not know, kept instead of failing to parse.

    Its ``is_terminal`` is ``False``: waiters keep polling it until their deadline.

    Attributes:
        id: The task id.
        status: The status string exactly as the server sent it.
        created_at: When the task was submitted (timezone-aware).
        extra: Every other wire key, verbatim (part of equality, not of the hash).

    """

    id: str
    status: str
    created_at: datetime = attrs.field(validator=_require_aware)
    # `extra` is part of equality (tasks differing in a field we do not model differ) but not
    # of the hash, since a dict cannot be hashed. `_client` is neither, and never on the wire.
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True, alias="client")


Task = (
    PendingTask
    | ThrottledTask
    | RunningTask
    | SucceededTask
    | FailedTask
    | CancelledTask
    | UnknownTask
)
"""Any task, typed by its wire ``status``; check with ``isinstance`` or ``task.status``."""

_TaskT = TypeVar("_TaskT", bound=Task)
# The characters quote() never escapes (RFC 3986's unreserved set).
_UNRESERVED: Final = re.compile(r"[A-Za-z0-9_.~-]+")


def bind_client(task: _TaskT, client: TaskWaiter | None) -> _TaskT:
    """Return a copy of ``task`` whose ``wait_for_task_output()`` waits through ``client``."""
    return attrs.evolve(task, client=client)


def bind_fresh(task: _TaskT, client: TaskWaiter | None) -> _TaskT:
    """Bind ``client`` to a task just built from a reply, in place, and return it.

    Only for a task no one else holds yet (straight from ``task_from_reply``): it saves
    the copy ``bind_client`` makes, on every poll. The client is no part of equality or
    hashing, so nothing that depends on those changes.
    """
    object.__setattr__(task, "_client", client)
    return task


def bound_client(task: Task) -> Any:
    """Return what ``task`` is bound to (``None`` if unbound): a waiter, or a sync client."""
    return task._client


def check_task_id(task_id: object) -> str:
    """Return ``task_id`` after checking it is a non-empty string.

    Raises:
        ValueError: ``task_id`` is not a string, or is empty.

    """
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("task id must be a non-empty string")
    return task_id


def task_path(task_id: str) -> str:
    """Return the API path of a task, its id escaped.

    Raises:
        ValueError: ``task_id`` is not a non-empty string.

    """
    check_task_id(task_id)
    if _UNRESERVED.fullmatch(task_id):
        return "/v1/tasks/" + task_id  # what quote() returns for it (every task id: a UUID)
    return "/v1/tasks/" + urllib.parse.quote(task_id, safe="")
