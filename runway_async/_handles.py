"""What a create call gives back: the awaitable ``TaskCreation`` and the ``TaskHandle``.

A handle knows its task's id and what the create's reply said about it; everything it does
(wait, follow, read, cancel, download) goes through ``TaskOps``, the few operations of the
engine under the client (the client's ``Core`` implements them).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Generator
from typing import Any, Literal, Protocol

import attrs

from ._config import check_seconds
from ._download import (
    DEFAULT_DOWNLOAD_TIMEOUT,
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DownloadedFile,
    DownloadHost,
    download_outputs,
)
from ._events import DEFAULT_EVENT_BUFFER, TaskEvent
from ._models import Cost, RoutedTaskCreated, Routing, SucceededTask, Task, TaskCreated
from ._models.task import DEFAULT_WAIT_TIMEOUT  # where the sync generator looks for it

__all__ = ["TaskCreation", "TaskHandle", "TaskOps"]


class TaskOps(DownloadHost, Protocol):
    """What a ``TaskHandle`` needs from the engine under it (the client's ``Core``).

    What ``download_outputs`` needs (``DownloadHost``: the transport, settings, clock and
    ``retrieve_task``), and waiting, following and cancelling a task. The handle's task id
    is passed positionally; implementations may name it as they like.
    """

    async def wait(self, task_id: str, /, *, timeout: float | None) -> SucceededTask:
        """Wait until the task ends; return it if it succeeded, else raise its outcome."""
        ...

    def task_events(self, task_id: str, /, *, buffer: int) -> AsyncGenerator[TaskEvent, None]:
        """Return the task's event stream, from its current state to its terminal event."""
        ...

    async def cancel_task(self, task_id: str, /) -> None:
        """Cancel the task (or delete it if it has ended)."""
        ...


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
    _client: TaskOps = attrs.field(repr=False, eq=False, alias="client")
    _reply: TaskCreated | RoutedTaskCreated | None = attrs.field(
        default=None, repr=False, eq=False, alias="reply"
    )

    def _created(self) -> TaskCreated | RoutedTaskCreated:
        """Return the create's reply as parsed (or, without one, as the handle holds it)."""
        if self._reply is not None:
            return self._reply
        if self.routing is not None:
            return RoutedTaskCreated(id=self.id, routing=self.routing)
        return TaskCreated(id=self.id, estimated_cost=self.estimated_cost)

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, Any]:
        """Return the create's reply as a dict (``{"id": ..., "estimatedCost": ...}``).

        The official SDK's create responses serialise the same way: the API's keys, unknown
        ones included. See ``Task.to_dict`` for the options.

        Args:
            mode: ``"json"`` for JSON-safe values, ``"python"`` to keep Python objects.
            use_api_names: The API's (camelCase) keys, else the Python attribute names.
            exclude_unset: Leave out optional fields the reply did not hold.
            exclude_defaults: Leave out fields equal to their default.
            exclude_none: Leave out ``None`` values.
            warnings: Warn about values that do not fit their field.

        """
        return self._created().to_dict(
            mode=mode,
            use_api_names=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            warnings=warnings,
        )

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """Return the create's reply as JSON text (see ``to_dict``).

        Args:
            indent: Spaces per indentation level (``None``: one line).
            use_api_names: The API's (camelCase) keys, else the Python attribute names.
            exclude_unset: Leave out optional fields the reply did not hold.
            exclude_defaults: Leave out fields equal to their default.
            exclude_none: Leave out ``None`` values.
            warnings: Warn about values that do not fit their field.

        """
        return self._created().to_json(
            indent=indent,
            use_api_names=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            warnings=warnings,
        )

    async def wait_for_task_output(
        self, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededTask:
        """Wait until the task ends and return it when it succeeded.

        The client's watcher polls the task; any number of waiters share each GET.

        Args:
            timeout: Seconds to wait in all (``None``: no deadline). Separate from the
                per-request timeout; retryable poll errors do not end the wait.

        Returns:
            The SUCCEEDED task, with its ``output`` URLs.

        Raises:
            TaskFailedError: The task FAILED (``failure``, ``failure_code``).
            TaskCancelledError: The task was cancelled or deleted.
            TaskTimeoutError: The deadline passed; ``task_details`` is the last task seen.
            NotFoundError: The task does not exist (any more).
            TypeError: ``timeout`` is not a number or ``None``.
            ValueError: ``timeout`` is negative, NaN or infinite.

        """
        # (timeout is checked by the watcher's wait, where every wait ends up)
        return await self._client.wait(self.id, timeout=timeout)

    async def events(
        self, *, buffer: int = DEFAULT_EVENT_BUFFER
    ) -> AsyncGenerator[TaskEvent, None]:
        """Yield the task's progress events until its terminal one.

        The first event is the task's current state (``submitted`` if it was not polled
        yet). A consumer that falls behind loses old ``running`` events first, never the
        terminal one.

        Args:
            buffer: Events held for a slow consumer before old progress events are dropped.

        Yields:
            ``TaskEvent`` objects; the last is ``succeeded``, ``failed`` or ``cancelled``.

        Raises:
            NotFoundError: The task does not exist (any more).

        """
        async with contextlib.aclosing(self._client.task_events(self.id, buffer=buffer)) as stream:
            async for event in stream:
                yield event

    async def retrieve(self) -> Task:
        """Fetch the task's current state."""
        return await self._client.retrieve_task(self.id)

    async def cancel(self) -> None:
        """Cancel the task if it is still running (or delete it if it has ended)."""
        await self._client.cancel_task(self.id)

    async def download(
        self,
        directory: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        wait_timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
        max_retries: int | None = None,
        max_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
    ) -> list[DownloadedFile]:
        """Wait for the task to succeed, then download every output into ``directory``.

        Args:
            directory: Target directory (created if missing); files never land outside it.
            overwrite: Replace existing files instead of numbering the new ones.
            wait_timeout: Deadline of the wait for the task, as in ``wait_for_task_output``.
            timeout: Deadline of each file's download.
            max_retries: Retries per file (default: the client's).
            max_bytes: Refuse files larger than this many bytes (default 10 GiB;
                ``None``: no cap).

        Returns:
            One ``DownloadedFile`` (path, url, sha256, bytes, content_type) per output.

        Raises:
            TaskFailedError: The task failed (or was cancelled).
            TaskTimeoutError: The wait's deadline passed.

        """
        task = await self.wait_for_task_output(timeout=wait_timeout)
        return await download_outputs(
            self._client,
            task,
            directory,
            overwrite=overwrite,
            timeout=timeout,
            max_retries=max_retries,
            max_bytes=max_bytes,
        )


class TaskCreation(Awaitable[TaskHandle]):
    """What a create call returns: await it for the ``TaskHandle``, or chain a wait.

    ``await client.image_to_video.create(...)`` sends the create and returns the handle;
    ``await client.image_to_video.create(...).wait_for_task_output()`` sends it and waits for
    the output in one expression, as with the official SDK. Nothing is sent until it is
    awaited (like a coroutine), and it can be awaited once.
    """

    __slots__ = ("_factory", "_used")

    def __init__(self, factory: Callable[[], Coroutine[Any, Any, TaskHandle]]) -> None:
        """Wrap the coroutine factory that sends the create (called on first await)."""
        self._factory = factory
        self._used = False

    def __repr__(self) -> str:
        state = "awaited" if self._used else "not sent"
        return f"<TaskCreation {state}>"

    def _start(self) -> Coroutine[Any, Any, TaskHandle]:
        if self._used:
            raise RuntimeError("this create call was already awaited; call create() again")
        self._used = True
        return self._factory()

    def __await__(self) -> Generator[Any, None, TaskHandle]:
        """Send the create and return the task's handle."""
        return self._start().__await__()

    async def wait_for_task_output(
        self, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> SucceededTask:
        """Send the create, then wait until the task ends; see ``TaskHandle.wait_for_task_output``.

        Args:
            timeout: Seconds to wait for the task once created (``None``: no deadline). Time
                spent waiting for a concurrency slot is bounded by the client's
                ``slot_timeout``.

        Returns:
            The SUCCEEDED task, with its ``output`` URLs.

        """
        # Checked before the create is sent: a typo must not cost a task nobody waits for.
        timeout = check_seconds("timeout", timeout, allow_none=True)
        handle = await self._start()
        return await handle.wait_for_task_output(timeout=timeout)
