"""``client.tasks``: read, wait for and cancel tasks."""

from __future__ import annotations

import urllib.parse

from .._convert import structure_task
from .._models import SucceededTask, Task, bind_client
from .._tasks import DEFAULT_WAIT_TIMEOUT, wait_for_task
from ._base import Resource

__all__ = ["Tasks"]


def _task_path(task_id: str) -> str:
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("task id must be a non-empty string")
    return "/v1/tasks/" + urllib.parse.quote(task_id, safe="")


class Tasks(Resource):
    """Read, wait for and cancel tasks (``GET``/``DELETE /v1/tasks/{id}``)."""

    async def retrieve(self, id: str) -> Task:
        """Fetch a task's current state.

        Args:
            id: The task id.

        Returns:
            The task, typed by its status (``SucceededTask``, ``RunningTask``, ...); an unknown
            status gives an ``UnknownTask`` rather than an error. The task offers
            ``wait_for_task_output()``.

        Raises:
            NotFoundError: No such task (deleted tasks answer 404).
            ResponseValidationError: The reply was not a task.

        """
        response = await self._client._transport.request("GET", _task_path(id))
        return bind_client(structure_task(response.data), self._client)

    async def delete(self, id: str) -> None:
        """Cancel a task that has not ended, or delete one that has.

        A running task becomes CANCELLED (refunds depend on the state the server sees at that
        moment); an ended task is deleted and later answers 404.

        Args:
            id: The task id.

        Raises:
            NotFoundError: No such task.

        """
        await self._client._transport.request("DELETE", _task_path(id))

    async def wait(self, id: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT) -> SucceededTask:
        """Wait for any task (also one created elsewhere) to end; return it if it succeeded.

        Args:
            id: The task id.
            timeout: Seconds to wait in all (``None``: no deadline). Retryable poll errors
                do not end the wait.

        Returns:
            The SUCCEEDED task.

        Raises:
            TaskFailedError: The task FAILED.
            TaskCancelledError: The task was cancelled or deleted.
            TaskTimeoutError: The deadline passed; ``task_details`` holds the last task seen.

        """
        task = await wait_for_task(
            self._client, id, timeout=timeout, interval=self._client._poll.delay()
        )
        return task
