"""Task handles and waiting for tasks to end.

This is the simple poller of the async core: each waiter polls its own task at the configured
interval. The task-engine work replaces its internals with one central watcher; the public
surface here (``TaskHandle``, ``wait_for_task``) stays.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import attrs

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
)
from ._models import CancelledTask, Cost, FailedTask, Routing, SucceededTask, Task

if TYPE_CHECKING:
    from ._client import AsyncRunway

__all__ = ["TaskHandle", "is_retryable_poll_error", "wait_for_task"]

logger = logging.getLogger("runway_async")

DEFAULT_WAIT_TIMEOUT = 600.0


@attrs.frozen(kw_only=True)
class TaskHandle:
    """A task this client created: its id, its estimated cost, and ways to wait for it.

    Attributes:
        id: The task id, for ``client.tasks.retrieve(id)``.
        endpoint: The endpoint that created it (``image_to_video``, ``generate.video``, ...).
        model: The model (or recipe mode) asked for, when the endpoint takes one.
        estimated_cost: The most the task may charge, when the server said.
        routing: For ``generate.*``: which model the router picked and why.

    """

    id: str
    endpoint: str
    model: str | None = None
    estimated_cost: Cost | None = None
    routing: Routing | None = None
    _client: AsyncRunway = attrs.field(repr=False, eq=False, alias="client")

    async def wait_for_task_output(
        self, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededTask:
        """Wait until the task ends and return it when it succeeded.

        Args:
            timeout: Seconds to wait in all (``None``: no deadline). Separate from the
                per-request timeout; retryable poll errors do not end the wait.

        Returns:
            The SUCCEEDED task, with its ``output`` URLs.

        Raises:
            TaskFailedError: The task FAILED (``failure``, ``failure_code``).
            TaskCancelledError: The task was cancelled or deleted.
            TaskTimeoutError: The deadline passed; ``task_details`` is the last task seen.

        """
        return await self._client.tasks.wait(self.id, timeout=timeout)

    async def retrieve(self) -> Task:
        """Fetch the task's current state."""
        return await self._client.tasks.retrieve(self.id)

    async def cancel(self) -> None:
        """Cancel the task if it is still running (or delete it if it has ended)."""
        await self._client.tasks.delete(self.id)


def is_retryable_poll_error(exc: BaseException) -> bool:
    """Return whether a failed GET of a task should not end a wait."""
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, APIStatusError):
        return exc.status_code in (408, 429) or exc.status_code >= 500
    return False


def raise_for_outcome(task: Task) -> SucceededTask:
    """Return ``task`` if it SUCCEEDED; raise the matching error if it FAILED or was CANCELLED."""
    if isinstance(task, SucceededTask):
        return task
    if isinstance(task, FailedTask):
        code = f" [{task.failure_code}]" if task.failure_code else ""
        raise TaskFailedError(
            f"Task {task.id} failed{code}: {task.failure}",
            task,
            failure=task.failure,
            failure_code=task.failure_code,
        )
    if isinstance(task, CancelledTask):
        raise TaskCancelledError(f"Task {task.id} was cancelled.", task)
    raise TypeError(f"task {task.id} has not ended (status {task.status})")


async def wait_for_task(
    client: AsyncRunway, task_id: str, *, timeout: float | None, interval: float
) -> SucceededTask:
    """Poll ``task_id`` every ``interval`` seconds until it ends or ``timeout`` passes.

    See ``TaskHandle.wait_for_task_output`` for the outcome and errors.
    """
    if timeout is not None and timeout < 0:
        raise ValueError("timeout must be >= 0 or None")
    deadline = None if timeout is None else time.monotonic() + timeout
    last: Task | None = None
    while True:
        try:
            last = await _retrieve_within(client, task_id, deadline)
        except (TimeoutError, asyncio.TimeoutError):
            pass  # this GET ran into the wait's deadline; the check below reports it
        except Exception as exc:
            if not is_retryable_poll_error(exc):
                raise
            logger.info("Poll of task %s failed, will poll again: %s", task_id, exc)
        else:
            if last.is_terminal:
                return raise_for_outcome(last)
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            status = last.status if last is not None else "unknown"
            raise TaskTimeoutError(
                f"Task {task_id} did not end within {timeout} s (last status: {status}).", last
            )
        delay = interval if deadline is None else min(interval, max(0.0, deadline - now))
        await asyncio.sleep(delay)


async def _retrieve_within(client: AsyncRunway, task_id: str, deadline: float | None) -> Any:
    if deadline is None:
        return await client.tasks.retrieve(task_id)
    remaining = max(0.0, deadline - time.monotonic())
    return await asyncio.wait_for(client.tasks.retrieve(task_id), remaining)
