"""Task progress events and the bounded buffers that carry them to slow consumers."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime
from typing import Final, Literal

import attrs

from ._models import Task

__all__ = ["DEFAULT_EVENT_BUFFER", "TERMINAL_KINDS", "EventBuffer", "TaskEvent", "TaskEventKind"]

TaskEventKind = Literal["submitted", "throttled", "running", "succeeded", "failed", "cancelled"]
"""What happened to a task: created, queued by the server, progressing, or ended."""

TERMINAL_KINDS: Final[frozenset[str]] = frozenset({"succeeded", "failed", "cancelled"})

DEFAULT_EVENT_BUFFER: Final = 256
"""Events an iterator holds for a consumer that has fallen behind (see ``EventBuffer``)."""


@attrs.frozen(kw_only=True)
class TaskEvent:
    """One change in a task's life, as the client's watcher saw it.

    Attributes:
        kind: ``submitted`` (created by this client), ``throttled`` (the server queued it
            over the organization's concurrency), ``running`` (with ``progress``), or the
            terminal ``succeeded``, ``failed`` or ``cancelled``.
        task_id: The task id.
        model: The model the task counts against, when known (``None`` for tasks created
            elsewhere).
        progress: The fraction done (0-1) for ``running`` events, 1.0 for ``succeeded``.
        task: The task as last fetched; ``None`` for ``submitted``.
        at: When the watcher saw it (UTC).

    """

    kind: TaskEventKind
    task_id: str
    model: str | None = None
    progress: float | None = None
    task: Task | None = attrs.field(default=None, repr=False)
    at: datetime

    @property
    def is_terminal(self) -> bool:
        """Whether this event ends the task's stream (succeeded, failed or cancelled)."""
        return self.kind in TERMINAL_KINDS


class EventBuffer:
    """A bounded FIFO of events for one consumer, on one event loop.

    When the consumer falls behind and ``maxsize`` events are waiting, the oldest
    ``running`` (progress) event is dropped to make room, then the oldest ``submitted`` or
    ``throttled`` one; terminal events are never dropped, so a consumer that never reads
    holds at most ``maxsize`` events plus one per ended task. ``dropped`` counts the losses.

    Args:
        maxsize: Events held before dropping starts (at least 1).

    """

    def __init__(self, maxsize: int = DEFAULT_EVENT_BUFFER) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize!r}")
        self._maxsize = maxsize
        self._items: deque[TaskEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._error: BaseException | None = None
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        """Whether no more events will be put."""
        return self._closed

    def put(self, event: TaskEvent) -> None:
        """Queue ``event``, dropping an older non-terminal one when full."""
        if self._closed:
            return
        if len(self._items) >= self._maxsize and not self._drop_one() and not event.is_terminal:
            self.dropped += 1
            return
        self._items.append(event)
        self._wake()

    def _drop_one(self) -> bool:
        for kinds in (("running",), ("submitted", "throttled")):
            for index, item in enumerate(self._items):
                if item.kind in kinds:
                    del self._items[index]
                    self.dropped += 1
                    return True
        return False

    def close(self, error: BaseException | None = None) -> None:
        """End the stream after the queued events; ``error`` is raised to the consumer then."""
        if self._closed:
            return
        self._closed = True
        self._error = error
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> TaskEvent | None:
        """Return the next event; ``None`` once closed and drained.

        Raises:
            Exception: The error the stream was closed with, after the queued events.

        """
        while not self._items:
            if self._closed:
                if self._error is not None:
                    error, self._error = self._error, None
                    raise error
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._items.popleft()
