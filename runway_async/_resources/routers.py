"""``client.routers``: Model Router configurations and their routing history."""

from __future__ import annotations

from typing import Any

from .._config import NOT_GIVEN, NotGiven
from .._convert import register_tagged_union, structure
from .._models import (
    CapacityStep,
    FilterStep,
    RankStep,
    Router,
    RoutingRequest,
    RoutingStep,
    UnknownRoutingStep,
)
from .._options import Body, Headers, Query, RequestTimeout, call_options
from .._spec._plain import NULL
from ..types import RouterSettings, RouterSettingsUpdate
from ._base import Resource
from ._pagination import AsyncPaginator
from ._replies import paginate

__all__ = ["Routers"]

register_tagged_union(
    RoutingStep,
    {"filter": FilterStep, "capacity": CapacityStep, "rank": RankStep},
    unknown=UnknownRoutingStep,
    tag="type",
)


class Routers(Resource):
    """Model Router configurations (``/v1/routers``), used by ``generate.*`` as ``config_id``."""

    async def create(
        self,
        *,
        slug: str,
        description: str | None = None,
        name: str | None = None,
        settings: RouterSettings | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Router:
        """Create a Model Router configuration.

        Args:
            slug: The immutable slug that ``generate.*`` requests name as ``config_id``
                (unique in the project).
            description: A description.
            name: A display name; defaults to the slug.
            settings: Routing preferences (snake_case keys, as in the official SDK):
                ``optimize_for`` (``cost``, ``latency``, ``quality``), ``models`` (``{"ids":
                [...], "mode": "allow_new_except" | "allowlist_only"}``),
                ``max_credits_per_generation`` (``{"audio"|"image"|"video": int}``),
                ``fallback`` (``{"on_capacity": bool}``). Default: cost-optimised, every
                model.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The new router (``version`` 1).

        Raises:
            InvalidRequestError: A parameter is invalid; nothing was sent.
            BadRequestError: The server refused it (a slug in use, an unknown model id).

        """
        response = await self._core.call(
            "routers.create",
            {"slug": slug, "description": description, "name": name, "settings": settings},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, Router)

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Router:
        """Fetch a router by its id.

        Args:
            id: The router's id (a UUID, not its slug).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The router.

        Raises:
            NotFoundError: No such router (or it was deleted).

        """
        response = await self._core.call(
            "routers.retrieve",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, Router)

    async def update(
        self,
        id: str,
        *,
        description: str | NotGiven | None = NOT_GIVEN,
        name: str | None = None,
        settings: RouterSettingsUpdate | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Router:
        """Change a router's name, description or settings.

        ``settings`` are merged into the current ones: fields left out keep their values
        (also inside ``models``); a ``max_credits_per_generation`` of ``None`` (or one
        modality set to ``None``) removes those caps. A settings change makes a new
        ``version``; a change of name or description does not.

        Args:
            id: The router's id.
            description: The new description; ``None`` clears it (left out: unchanged).
            name: The new display name (the slug cannot change).
            settings: The settings to change (see ``create``).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The router as updated.

        Raises:
            InvalidRequestError: A parameter is invalid; nothing was sent.
            NotFoundError: No such router.

        """
        params: dict[str, Any] = {"id": id, "name": name, "settings": settings}
        if not isinstance(description, NotGiven):
            # None clears the description: sent as JSON null (a None value is left out).
            params["description"] = NULL if description is None else description
        response = await self._core.call(
            "routers.update",
            params,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, Router)

    def list(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AsyncPaginator[Router]:
        """List the routers, a page at a time.

        Await the result for the first page (``.data``, ``.next_cursor``,
        ``.has_next_page()``, ``await .get_next_page()``), or ``async for`` over every
        router of every page.

        Args:
            limit: Routers per page.
            cursor: Where to start (a ``next_cursor`` of an earlier page).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The paginator; nothing is sent until it is awaited or iterated.

        Raises:
            InvalidRequestError: (when awaited) ``limit`` is invalid; nothing was sent.

        """
        return paginate(
            self._core,
            "routers.list",
            {"limit": limit, "cursor": cursor},
            Router,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
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
        """Delete a router; generation requests naming it fail afterwards.

        Args:
            id: The router's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Raises:
            NotFoundError: No such router.

        """
        await self._core.call(
            "routers.delete",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )

    def list_requests(
        self,
        id: str,
        *,
        limit: int,
        cursor: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AsyncPaginator[RoutingRequest]:
        """List a router's routing history (live requests, newest first), a page at a time.

        Args:
            id: The router's id.
            limit: Records per page.
            cursor: Where to start (a ``next_cursor`` of an earlier page).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The paginator of ``RoutingRequest`` records (await it, or ``async for``).

        Raises:
            InvalidRequestError: (when awaited) a parameter is invalid; nothing was sent.
            NotFoundError: (when awaited) no such router.

        """
        return paginate(
            self._core,
            "routers.list_requests",
            {"id": id, "limit": limit, "cursor": cursor},
            RoutingRequest,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
