"""What a task's end means to a caller: its ``SucceededTask``, or the matching error.

Next to the models (which cannot import the exceptions: ``TaskError`` carries a task) and
below everything that waits for tasks: the core, handles, downloads and batches.
"""

from __future__ import annotations

from typing import Final

from ._exceptions import TaskCancelledError, TaskFailedError, bound_message
from ._models import CancelledTask, FailedTask, SucceededTask, Task

__all__ = ["raise_for_outcome"]

_FAILURE_CHARS: Final = 800  # of a failure text quoted in a message, leaving room for the rest


def raise_for_outcome(task: Task) -> SucceededTask:
    """Return ``task`` if it SUCCEEDED; raise the matching error if it FAILED or was CANCELLED.

    Raises:
        TaskFailedError: The task FAILED (``failure``, ``failure_code``).
        TaskCancelledError: The task was cancelled or deleted.
        TypeError: The task has not ended.

    """
    if isinstance(task, SucceededTask):
        return task
    if isinstance(task, FailedTask):
        code = f" [{task.failure_code}]" if task.failure_code else ""
        # A failure text can be any length; the message quotes its start, .failure has it all.
        failure = bound_message(str(task.failure), ".failure", limit=_FAILURE_CHARS)
        raise TaskFailedError(
            f"Task {task.id} failed{code}: {failure}",
            task,
            failure=task.failure,
            failure_code=task.failure_code,
        )
    if isinstance(task, CancelledTask):
        raise TaskCancelledError(f"Task {task.id} was cancelled.", task)
    raise TypeError(f"task {task.id} has not ended (status {task.status})")
