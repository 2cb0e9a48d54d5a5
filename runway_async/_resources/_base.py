"""Base classes shared by every resource namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._tasks import TaskCreation

if TYPE_CHECKING:
    from .._client import AsyncRunway

__all__ = ["Resource", "TaskCreatingResource"]


class Resource:
    """A namespace of API calls (``client.tasks``, ``client.image_to_video``, ...)."""

    def __init__(self, client: AsyncRunway) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class TaskCreatingResource(Resource):
    """A namespace whose calls create a task and return a ``TaskHandle``."""

    def _create(self, endpoint: str, params: dict[str, Any]) -> TaskCreation:
        """Return the awaitable create: validate ``params`` (``None`` omitted), POST, a handle.

        Args:
            endpoint: The endpoint's resource path as on the client (``image_to_video``,
                ``recipes.product_ad``, ``generate.video``).
            params: The keyword arguments of the call; ``None`` values are dropped.

        """
        client = self._client
        return TaskCreation(lambda: client._create_task(endpoint, params))
