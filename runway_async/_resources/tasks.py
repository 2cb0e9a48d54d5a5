"""``client.tasks``: read, wait for, follow and cancel tasks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from .._config import NOT_GIVEN
from .._events import DEFAULT_EVENT_BUFFER, TaskEvent
from .._models import SucceededTask, Task
from .._models.task import DEFAULT_WAIT_TIMEOUT
from .._options import Body, Headers, Query, RequestTimeout, call_options
from ._base import Resource

__all__ = ["Tasks"]


class Tasks(Resource):
    """Read, wait for, follow and cancel tasks (``GET``/``DELETE /v1/tasks/{id}``)."""

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Task:
        """Fetch a task's current state.

        Args:
            id: The task id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The task, typed by its status (``SucceededTask``, ``RunningTask``, ...); an unknown
            status gives an ``UnknownTask`` rather than an error. The task offers
            ``wait_for_task_output()``.

        Raises:
            NotFoundError: No such task (deleted tasks answer 404).
            ResponseValidationError: The reply was not a task, or was another task (its
                ``id`` is not ``id``).

        """
        return await self._core.retrieve_task(
            id, options=call_options(extra_headers, extra_query, extra_body, timeout)
        )

    async def delete(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> None:
        """Cancel a task that has not ended, or delete one that has.

        A running task becomes CANCELLED (refunds depend on the state the server sees at that
        moment); an ended task is deleted and later answers 404. A task the client is
        watching is polled again at the earliest allowed moment, so its waiters (and its
        concurrency slot) learn of the cancellation quickly.

        Args:
            id: The task id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Raises:
            NotFoundError: No such task.

        """
        await self._core.cancel_task(
            id, options=call_options(extra_headers, extra_query, extra_body, timeout)
        )

    async def wait(self, id: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT) -> SucceededTask:
        """Wait for any task (also one created elsewhere) to end; return it if it succeeded.

        The client's watcher polls the task; any number of concurrent waits share each GET.

        Args:
            id: The task id.
            timeout: Seconds to wait in all (``None``: no deadline). Separate from the
                per-request timeout; retryable poll errors do not end the wait.

        Returns:
            The SUCCEEDED task.

        Raises:
            TaskFailedError: The task FAILED.
            TaskCancelledError: The task was cancelled or deleted.
            TaskTimeoutError: The deadline passed; ``task_details`` holds the last task seen.
            NotFoundError: No such task (any more).

        """
        return await self._core.wait(id, timeout=timeout)

    async def events(
        self, id: str | None = None, *, buffer: int = DEFAULT_EVENT_BUFFER
    ) -> AsyncGenerator[TaskEvent, None]:
        """Yield progress events of one task, or of every task of this client.

        With ``id``, the stream starts with the task's current state and ends after its
        terminal event (it works for tasks created elsewhere too). Without, it yields events
        of every task the client (and its copies) created or waits for, until the client
        closes; while it is open the watcher polls every such task, also those nobody waits
        for. A consumer that falls behind by ``buffer`` events loses the oldest ``running``
        events first, then ``submitted``/``throttled`` ones; terminal events are never
        dropped.

        Args:
            id: The task id, or ``None`` for every task.
            buffer: Events held for a slow consumer before dropping starts.

        Yields:
            ``TaskEvent`` objects, in the order the watcher saw them.

        Raises:
            NotFoundError: (with ``id``) the task does not exist (any more).

        """
        stream = self._core.task_events(id, buffer=buffer)
        async with contextlib.aclosing(stream):
            async for event in stream:
                yield event
