"""Base classes shared by every resource namespace: each holds the client's ``Core``."""

from __future__ import annotations

from typing import Any

from .._core import Core
from .._handles import TaskCreation
from .._options import CallOptions, wrap_public_methods
from .._raw import RawResponses, StreamingResponses

__all__ = ["Resource", "TaskCreatingResource"]


class Resource:
    """A namespace of API calls (``client.tasks``, ``client.image_to_video``, ...).

    It reaches the API only through the public methods of the ``Core`` it is given, never
    through the client.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # An unknown keyword argument's TypeError names extra_body, the way to send it.
        wrap_public_methods(cls)

    def __init__(self, core: Core) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    @property
    def with_raw_response(self) -> RawResponses:
        """Return the raw-response view of this namespace's API calls (``AsyncAPIResponse``).

        ``await client.image_to_video.with_raw_response.create(...)`` gives the HTTP reply
        (``status_code``, ``headers``, ``request_id``, ``elapsed``) and ``await
        response.parse()`` what the call returns. Nested namespaces are there too.
        """
        return RawResponses(self)

    @property
    def with_streaming_response(self) -> StreamingResponses:
        """Return this namespace's API calls as ``async with`` contexts reading the body on demand.

        ``async with client.tasks.with_streaming_response.retrieve(id) as response:`` gives
        the reply once its headers are in; the body of a GET, PATCH or DELETE reply is read
        only by ``read()``, ``parse()``, ``iter_bytes()``...; a create's is read at once.
        """
        return StreamingResponses(self)


class TaskCreatingResource(Resource):
    """A namespace whose calls create a task and return a ``TaskHandle``."""

    def _create(
        self, endpoint: str, params: dict[str, Any], options: CallOptions | None = None
    ) -> TaskCreation:
        """Return the awaitable create: validate ``params`` (``None`` omitted), POST, a handle.

        Args:
            endpoint: The endpoint's resource path as on the client (``image_to_video``,
                ``recipes.product_ad``, ``generate.video``).
            params: The keyword arguments of the call; ``None`` values are dropped.
            options: The call's ``extra_*`` and ``timeout``.

        """
        core = self._core
        return TaskCreation(lambda: core.create_task(endpoint, params, options=options))
