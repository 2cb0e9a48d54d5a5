"""Base classes shared by every resource namespace: each holds the client's ``Core``."""

from __future__ import annotations

from typing import Any

from .._core import Core
from .._handles import TaskCreation

__all__ = ["Resource", "TaskCreatingResource"]


class Resource:
    """A namespace of API calls (``client.tasks``, ``client.image_to_video``, ...).

    It reaches the API only through the public methods of the ``Core`` it is given, never
    through the client.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

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
        core = self._core
        return TaskCreation(lambda: core.create_task(endpoint, params))
