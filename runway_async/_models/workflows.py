"""Published workflows (``/v1/workflows``) and their invocations (``/v1/workflow_invocations``).

Node ids are user data: the keys of ``output`` and ``node_errors`` are exactly the ids of the
workflow graph's nodes, never renamed. A workflow invocation has the six statuses of a task
and is typed by its status the same way (``SucceededWorkflowInvocation``, ...); a status this
SDK does not know gives an ``UnknownWorkflowInvocation``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, TypeVar

import attrs

from ._serial import WireModel
from .cost import Cost
from .task import DEFAULT_WAIT_TIMEOUT

__all__ = [
    "CancelledWorkflowInvocation",
    "FailedWorkflowInvocation",
    "PendingWorkflowInvocation",
    "RunningWorkflowInvocation",
    "SucceededWorkflowInvocation",
    "ThrottledWorkflowInvocation",
    "UnknownWorkflowInvocation",
    "Workflow",
    "WorkflowGraph",
    "WorkflowInvocation",
    "WorkflowList",
    "WorkflowListItem",
    "WorkflowNodeError",
    "WorkflowRunCreated",
    "WorkflowVersion",
]


class InvocationWaiter(Protocol):
    """What a bound invocation waits through: ``client.workflow_invocations``."""

    async def wait(self, id: str, /, *, timeout: float | None) -> SucceededWorkflowInvocation:
        """Wait until invocation ``id`` ends; return it if it succeeded, else raise."""
        ...


# --- published workflows --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WorkflowVersion(WireModel):
    """One published version of a workflow.

    Attributes:
        id: The id of this published version: pass it to ``workflows.retrieve`` and
            ``workflows.run``.
        created_at: When the version was published.
        version: The version number, increasing with each publication.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    created_at: datetime
    version: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class WorkflowListItem(WireModel):
    """A published workflow with its versions, as ``workflows.list()`` groups them.

    Attributes:
        name: The workflow's name.
        versions: Its published versions, newest first.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    name: str
    versions: tuple[WorkflowVersion, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class WorkflowList(WireModel):
    """The reply of ``GET /v1/workflows``: every published workflow (not paginated).

    Attributes:
        data: The workflows, grouped by source workflow.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    data: tuple[WorkflowListItem, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class WorkflowGraph(WireModel):
    """The graph of a published workflow, as the server describes it.

    Attributes:
        version: The schema version of the graph format.
        nodes: The nodes, as sent (JSON objects whose keys are kept verbatim).
        edges: The edges between nodes, as sent.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    version: int
    nodes: tuple[Any, ...] = attrs.field(default=(), hash=False)
    edges: tuple[Any, ...] = attrs.field(default=(), hash=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class Workflow(WireModel):
    """One published workflow version (``GET /v1/workflows/{id}``).

    Attributes:
        id: The id of this published version.
        name: The workflow's name.
        description: Its description, or ``None``.
        created_at: When this version was published.
        updated_at: When it was last updated.
        version: The version number.
        graph: The workflow's graph.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    name: str
    description: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int
    graph: WorkflowGraph
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


# --- invocations ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WorkflowNodeError(WireModel):
    """What went wrong in one node of a workflow invocation.

    Attributes:
        message: A human-readable description.
        failure_code: A machine-readable code (see the task failure codes); ``None`` for
            nodes that failed before generating, such as on invalid input.
        node_name: The node's human-readable name, when given.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    message: str
    failure_code: str | None = None
    node_name: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


class _InvocationBehaviour(WireModel):
    """What every invocation class can do; each class declares its own fields."""

    __slots__ = ()

    _TERMINAL: ClassVar[bool] = False

    id: str
    # What the invocation waits through (see ``bind_invocation``); typed ``Any`` in the
    # fields so a sync twin can bind its sync client there instead.
    _client: InvocationWaiter | None

    @property
    def is_terminal(self) -> bool:
        """Whether the invocation has ended: ``SUCCEEDED``, ``FAILED`` or ``CANCELLED``.

        An ``UnknownWorkflowInvocation`` counts as not ended: waiters keep polling it.
        """
        return self._TERMINAL

    async def wait_for_task_output(
        self, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededWorkflowInvocation:
        """Wait until the invocation ends and return it when it succeeded.

        Works on invocations returned by ``client.workflow_invocations.retrieve(id)``, which
        binds the client; the same as ``client.workflow_invocations.wait(id)``. The
        client's watcher polls it (shared with every other wait of it, never more often
        than the poll settings allow).

        Args:
            timeout: Seconds to wait in all (``None``: no deadline).

        Returns:
            The SUCCEEDED invocation, with its ``output`` per node. A succeeded invocation
            may still hold failed nodes: check ``node_errors``.

        Raises:
            RuntimeError: The invocation is not bound to a client (built or parsed
                directly).
            TaskFailedError: The invocation FAILED.
            TaskCancelledError: It was cancelled or deleted.
            TaskTimeoutError: The deadline passed; ``task_details`` is the last state seen.

        """
        if self._client is None:
            raise RuntimeError(
                f"Workflow invocation {self.id} is not bound to a client, so it cannot wait; "
                "get it from client.workflow_invocations.retrieve(id) or call "
                "client.workflow_invocations.wait(id) instead."
            )
        return await self._client.wait(self.id, timeout=timeout)


# `extra` is part of equality (objects differing in a field we do not model differ) but not
# of the hash, since a dict cannot be hashed. `_client` is neither, and never on the wire.


@attrs.frozen(kw_only=True)
class PendingWorkflowInvocation(_InvocationBehaviour):
    """An invocation accepted and waiting to start (``PENDING``).

    Attributes:
        id: The invocation id.
        status: Always ``"PENDING"``.
        created_at: When the invocation was submitted.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    status: Literal["PENDING"] = "PENDING"
    created_at: datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, alias="client")


@attrs.frozen(kw_only=True)
class ThrottledWorkflowInvocation(_InvocationBehaviour):
    """An invocation queued server-side over the organization's limits (``THROTTLED``).

    Attributes:
        id: The invocation id.
        status: Always ``"THROTTLED"``.
        created_at: When the invocation was submitted.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    status: Literal["THROTTLED"] = "THROTTLED"
    created_at: datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, alias="client")


@attrs.frozen(kw_only=True)
class RunningWorkflowInvocation(_InvocationBehaviour):
    """An invocation whose nodes are running (``RUNNING``).

    Attributes:
        id: The invocation id.
        status: Always ``"RUNNING"``.
        created_at: When the invocation was submitted.
        progress: The fraction done, from 0 to 1, when the server reports it.
        output: Output URLs of the nodes that already finished, by node id (verbatim).
        node_errors: Errors of nodes that failed so far, by node id; ``None`` when none.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    status: Literal["RUNNING"] = "RUNNING"
    created_at: datetime
    progress: float | None = None
    output: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    node_errors: Mapping[str, WorkflowNodeError] | None = attrs.field(default=None, hash=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, alias="client")


@attrs.frozen(kw_only=True)
class SucceededWorkflowInvocation(_InvocationBehaviour):
    """An invocation that finished (``SUCCEEDED``); some nodes may still have failed.

    Attributes:
        id: The invocation id.
        status: Always ``"SUCCEEDED"``.
        created_at: When the invocation was submitted.
        output: Output URLs by node id (verbatim). The URLs expire within 24 to 48 hours;
            fetch the invocation again for fresh ones.
        cost: What the invocation charged; ``None`` until every task it started has ended.
        node_errors: Errors of nodes that failed, by node id; ``None`` when none did.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    _TERMINAL: ClassVar[bool] = True

    id: str
    status: Literal["SUCCEEDED"] = "SUCCEEDED"
    created_at: datetime
    output: Mapping[str, tuple[str, ...]] = attrs.field(hash=False)
    cost: Cost | None = None
    node_errors: Mapping[str, WorkflowNodeError] | None = attrs.field(default=None, hash=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, alias="client")

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every output URL of every node, in node order, then output order."""
        return tuple(url for urls in self.output.values() for url in urls)


@attrs.frozen(kw_only=True)
class FailedWorkflowInvocation(_InvocationBehaviour):
    """An invocation that failed (``FAILED``).

    Attributes:
        id: The invocation id.
        status: Always ``"FAILED"``.
        created_at: When the invocation was submitted.
        failure: The server's human-readable reason, for logs rather than end users.
        failure_code: A machine-readable code, when given.
        node_errors: Errors by node id; ``None`` when the server gave none.
        cost: What the invocation charged; ``None`` until every task it started has ended.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    _TERMINAL: ClassVar[bool] = True

    id: str
    status: Literal["FAILED"] = "FAILED"
    created_at: datetime
    failure: str
    failure_code: str | None = None
    node_errors: Mapping[str, WorkflowNodeError] | None = attrs.field(default=None, hash=False)
    cost: Cost | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, alias="client")


@attrs.frozen(kw_only=True)
class CancelledWorkflowInvocation(_InvocationBehaviour):
    """An invocation that was cancelled or deleted (``CANCELLED``).

    Attributes:
        id: The invocation id.
        status: Always ``"CANCELLED"``.
        created_at: When the invocation was submitted.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    _TERMINAL: ClassVar[bool] = True

    id: str
    status: Literal["CANCELLED"] = "CANCELLED"
    created_at: datetime
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, alias="client")


@attrs.frozen(kw_only=True)
class UnknownWorkflowInvocation(_InvocationBehaviour):
    """An invocation whose status this SDK does not know, kept instead of failing to parse.

    Its ``is_terminal`` is ``False``: waiters keep polling it until their deadline.

    Attributes:
        id: The invocation id.
        status: The status exactly as the server sent it.
        created_at: When the invocation was submitted, if the server said.
        extra: Every other wire key, verbatim (not part of the hash).

    """

    id: str
    status: str
    created_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, alias="client")


WorkflowInvocation = (
    PendingWorkflowInvocation
    | ThrottledWorkflowInvocation
    | RunningWorkflowInvocation
    | SucceededWorkflowInvocation
    | FailedWorkflowInvocation
    | CancelledWorkflowInvocation
    | UnknownWorkflowInvocation
)
"""Any workflow invocation, typed by its wire ``status``."""

INVOCATION_BY_STATUS: Mapping[str, type[WorkflowInvocation]] = {
    "PENDING": PendingWorkflowInvocation,
    "THROTTLED": ThrottledWorkflowInvocation,
    "RUNNING": RunningWorkflowInvocation,
    "SUCCEEDED": SucceededWorkflowInvocation,
    "FAILED": FailedWorkflowInvocation,
    "CANCELLED": CancelledWorkflowInvocation,
}
"""The invocation class of each known status."""

_InvocationT = TypeVar("_InvocationT", bound="WorkflowInvocation | WorkflowRunCreated")


def bind_invocation(invocation: _InvocationT, client: InvocationWaiter | None) -> _InvocationT:
    """Return a copy of ``invocation`` whose ``wait_for_task_output()`` waits through ``client``."""
    return attrs.evolve(invocation, client=client)


def bound_invocation_client(invocation: WorkflowInvocation | WorkflowRunCreated) -> Any:
    """Return what ``invocation`` is bound to (``None`` if unbound)."""
    return invocation._client


def invocation_path(invocation_id: str) -> str:
    """Return the API path of a workflow invocation, its id escaped."""
    return "/v1/workflow_invocations/" + urllib.parse.quote(invocation_id, safe="")


# --- running a workflow ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WorkflowRunCreated(WireModel):
    """The reply of ``workflows.run``: the id of the new workflow invocation.

    Attributes:
        id: The invocation id (for ``workflow_invocations.retrieve``, not ``tasks``).
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    _client: Any = attrs.field(default=None, repr=False, eq=False, alias="client")

    async def wait_for_task_output(
        self, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededWorkflowInvocation:
        """Wait until the invocation ends and return it when it succeeded.

        The same as ``client.workflow_invocations.wait(run.id, timeout=timeout)``.

        Args:
            timeout: Seconds to wait in all (``None``: no deadline).

        Returns:
            The SUCCEEDED invocation, with its ``output`` per node.

        Raises:
            RuntimeError: The reply is not bound to a client (built or parsed directly).
            TaskFailedError: The invocation FAILED.
            TaskCancelledError: It was cancelled or deleted.
            TaskTimeoutError: The deadline passed; ``task_details`` is the last state seen.

        """
        waiter: InvocationWaiter | None = self._client
        if waiter is None:
            raise RuntimeError(
                f"Workflow invocation {self.id} is not bound to a client, so it cannot wait; "
                "call client.workflow_invocations.wait(id) instead."
            )
        return await waiter.wait(self.id, timeout=timeout)
