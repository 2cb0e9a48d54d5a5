"""Workflow invocations as the client follows them: parsing, the watcher's kind, outcomes.

Shared by ``client.workflows`` / ``client.workflow_invocations`` (``_resources``) and by
batches running ``workflows.run`` jobs (``_batch``), which may not import each other: one
``WatchKind`` means one watcher per event loop, so every wait of an invocation (a resource
call's, a batch job's) shares its GETs.

Importing this module teaches the converter the ``WorkflowInvocation`` union (tagged by
``status``; an unknown status gives an ``UnknownWorkflowInvocation``).
"""

from __future__ import annotations

from typing import Final

from ._convert import register_tagged_union, structure
from ._exceptions import ResponseValidationError, TaskCancelledError, TaskFailedError, bound_message
from ._models import (
    CancelledWorkflowInvocation,
    FailedWorkflowInvocation,
    SucceededWorkflowInvocation,
    UnknownWorkflowInvocation,
    WorkflowInvocation,
    WorkflowRunCreated,
)
from ._models.workflows import INVOCATION_BY_STATUS, invocation_path
from ._watched import WatchKind

__all__ = [
    "INVOCATION_KIND",
    "invocation_from_reply",
    "raise_for_invocation",
    "run_created_from_reply",
]

_FAILURE_CHARS: Final = 800  # of a failure text quoted in a message, leaving room for the rest

register_tagged_union(
    WorkflowInvocation, INVOCATION_BY_STATUS, unknown=UnknownWorkflowInvocation, tag="status"
)


def invocation_from_reply(data: object, invocation_id: str) -> WorkflowInvocation:
    """Return the invocation of a ``GET /v1/workflow_invocations/{id}`` reply (not bound).

    Args:
        data: The parsed reply.
        invocation_id: The id that was asked for.

    Raises:
        ResponseValidationError: The reply is not an invocation, or another one than
            ``invocation_id``; ``body`` is the reply.

    """
    try:
        invocation: WorkflowInvocation = structure(data, WorkflowInvocation)  # type: ignore[arg-type]
    except ResponseValidationError as exc:
        # The union's repr is long; name the object as the API does.
        problems = str(exc).partition(": ")[2] or str(exc)
        raise ResponseValidationError(
            f"The reply is not a valid WorkflowInvocation: {problems}", body=data
        ) from exc.__cause__
    if invocation.id != invocation_id:
        path = invocation_path(invocation_id)
        raise ResponseValidationError(
            f"GET {path} answered another workflow invocation, {invocation.id[:100]!r}.",
            method="GET",
            url=path,
            body=data,
        )
    return invocation


def run_created_from_reply(data: object) -> WorkflowRunCreated:
    """Return the reply of ``POST /v1/workflows/{id}`` (the new invocation's id; not bound).

    Raises:
        ResponseValidationError: The reply has no string ``id``.

    """
    return structure(data, WorkflowRunCreated)


def _status(invocation: WorkflowInvocation) -> str:
    # The six statuses are the task statuses; an unknown one is polled slowly.
    return invocation.status


INVOCATION_KIND: Final = WatchKind(
    name="workflow invocation",
    path=invocation_path,
    parse=invocation_from_reply,
    status=_status,
)
"""How the watcher follows workflow invocations (``GET /v1/workflow_invocations/{id}``)."""


def raise_for_invocation(invocation: WorkflowInvocation) -> SucceededWorkflowInvocation:
    """Return ``invocation`` if it SUCCEEDED; raise the matching error if it FAILED or ended.

    Raises:
        TaskFailedError: It FAILED (``failure``, ``failure_code``; ``task_details`` is it).
        TaskCancelledError: It was cancelled or deleted.
        TypeError: It has not ended.

    """
    if isinstance(invocation, SucceededWorkflowInvocation):
        return invocation
    if isinstance(invocation, FailedWorkflowInvocation):
        code = f" [{invocation.failure_code}]" if invocation.failure_code else ""
        failure = bound_message(str(invocation.failure), ".failure", limit=_FAILURE_CHARS)
        raise TaskFailedError(
            f"Workflow invocation {invocation.id} failed{code}: {failure}",
            invocation,
            failure=invocation.failure,
            failure_code=invocation.failure_code,
        )
    if isinstance(invocation, CancelledWorkflowInvocation):
        raise TaskCancelledError(f"Workflow invocation {invocation.id} was cancelled.", invocation)
    raise TypeError(
        f"workflow invocation {invocation.id} has not ended (status {invocation.status})"
    )
