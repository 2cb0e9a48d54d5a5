"""``client.workflow_invocations``: read, wait for and follow runs of published workflows."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from .._config import NOT_GIVEN
from .._events import DEFAULT_EVENT_BUFFER, TaskEvent
from .._invocations import INVOCATION_KIND, invocation_from_reply, raise_for_invocation
from .._models import SucceededWorkflowInvocation, WorkflowInvocation
from .._models.task import DEFAULT_WAIT_TIMEOUT
from .._models.workflows import bind_invocation
from .._options import Body, Headers, Query, RequestTimeout, call_options
from ._base import Resource

__all__ = ["WorkflowInvocations"]


class WorkflowInvocations(Resource):
    """Runs of published workflows (``GET /v1/workflow_invocations/{id}``).

    An invocation has the six statuses of a task and is waited for the same way, by the
    client's watcher (shared GETs, never closer than the poll settings allow). Workflow
    runs hold no slot of the per-model concurrency limiter: the client cannot know which
    models a workflow uses.
    """

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> WorkflowInvocation:
        """Fetch an invocation's current state.

        Args:
            id: The invocation id (what ``workflows.run`` returned).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The invocation, typed by its status (``SucceededWorkflowInvocation``,
            ``RunningWorkflowInvocation``, ...; an unknown status gives an
            ``UnknownWorkflowInvocation``). It offers ``wait_for_task_output()``. A
            SUCCEEDED invocation may still hold failed nodes: check ``node_errors``.

        Raises:
            NotFoundError: No such invocation.
            ResponseValidationError: The reply was not an invocation, or another one.

        """
        response = await self._core.call(
            "workflow_invocations.retrieve",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return bind_invocation(invocation_from_reply(response.data, id), self)

    async def wait(
        self, id: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededWorkflowInvocation:
        """Wait for an invocation (also one started elsewhere) to end; return it if it succeeded.

        Args:
            id: The invocation id.
            timeout: Seconds to wait in all (``None``: no deadline). Retryable poll errors
                do not end the wait.

        Returns:
            The SUCCEEDED invocation, with its ``output`` URLs per node.

        Raises:
            TaskFailedError: The invocation FAILED (``failure``, ``failure_code``;
                ``task_details`` is the ``FailedWorkflowInvocation``).
            TaskCancelledError: It was cancelled or deleted.
            TaskTimeoutError: The deadline passed; ``task_details`` holds the last state seen.
            NotFoundError: No such invocation.

        """
        ended: Any = await self._core.wait_resource(INVOCATION_KIND, id, timeout=timeout)
        return bind_invocation(raise_for_invocation(ended), self)

    async def events(
        self, id: str, *, buffer: int = DEFAULT_EVENT_BUFFER
    ) -> AsyncGenerator[TaskEvent, None]:
        """Yield the progress events of one invocation, ending after its terminal event.

        The stream starts with the invocation's current state: ``submitted`` (PENDING),
        ``throttled``, ``running`` (with ``progress``), then ``succeeded``, ``failed`` or
        ``cancelled``. Each event's ``task`` is the invocation as fetched, its ``task_id``
        the invocation id. A consumer that falls behind by ``buffer`` events loses the
        oldest ``running`` events first; the terminal event is never dropped.

        Args:
            id: The invocation id.
            buffer: Events held for a slow consumer before dropping starts.

        Yields:
            ``TaskEvent`` objects, in the order the watcher saw them.

        Raises:
            NotFoundError: The invocation does not exist.

        """
        stream = self._core.resource_events(INVOCATION_KIND, id, buffer=buffer)
        async with contextlib.aclosing(stream):
            async for event in stream:
                yield event
