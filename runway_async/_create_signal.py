"""The signal that a create's request is going out, for the batch job that made it.

A batch must know, when it stops, whether each job's create request was already sent (its
task may exist and cost money) or not (cancelling it sends nothing). The create path calls
``mark_create_sent()`` synchronously right before the POST; a batch worker sets
``CREATE_SENT`` around each job's create call. A context variable, so each worker task, and
so each job, has its own. It lives below both the core (which signals) and the batch (which
listens), so neither imports the other for it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

__all__ = ["CREATE_SENT", "mark_create_sent"]

CREATE_SENT: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "runway_async_create_sent", default=None
)
"""Called by the create path right before it sends a create's POST, when set."""


def mark_create_sent() -> None:
    """Tell the batch job running in this context, if any, that its create is being sent.

    Called synchronously right before the POST: as nothing else runs in between, a job not
    marked when its batch stops is suspended before the send, and cancelling it sends
    nothing.
    """
    hook = CREATE_SENT.get()
    if hook is not None:
        hook()
