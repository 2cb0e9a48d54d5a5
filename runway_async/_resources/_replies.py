"""Reading the replies of plain endpoints: one object (checked to be the one asked for), pages.

Shared by the hand-written resources of plain endpoints (avatars, voices, documents, ...):

* ``parse_object`` builds a model from a reply and checks its ``id`` is the one in the path
  (a confused proxy or cache answering for another object is an error, as for tasks);
* ``paginate`` returns the ``AsyncPaginator`` of a cursor-paginated ``list`` call, whose
  replies ``{"data": [...], "nextCursor": ...}`` ``parse_page`` reads (every paginated list
  of the API uses it).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from .._convert import json_type, structure
from .._core import Core
from .._exceptions import ResponseValidationError
from .._options import CallOptions
from ._pagination import AsyncPaginator, CursorPage, PageFetcher

__all__ = ["object_path", "paginate", "parse_object", "parse_page"]


def object_path(prefix: str, object_id: str) -> str:
    """Return the API path of one object: ``prefix`` and the id, escaped.

    Args:
        prefix: The collection's path with its trailing slash (``/v1/avatars/``).
        object_id: The object's id.

    """
    return prefix + urllib.parse.quote(object_id, safe="")


def parse_object(data: object, cls: Any, *, object_id: str, path: str) -> Any:
    """Build a ``cls`` (a model or a tagged union) from a reply about ``object_id``.

    Args:
        data: The parsed reply.
        cls: The model class or union to build.
        object_id: The id that was asked for.
        path: The request's path, for the error message.

    Returns:
        The model.

    Raises:
        ResponseValidationError: The reply does not have the shape of ``cls``, or is about
            another object (its ``id`` differs); ``body`` is the reply.

    """
    obj = structure(data, cls)
    got = getattr(obj, "id", None)
    if got != object_id:
        shown = got[:100] if isinstance(got, str) else got
        raise ResponseValidationError(
            f"{path} answered about another object, {shown!r}.", url=path, body=data
        )
    return obj


def parse_page(data: object, item_type: Any, fetch: PageFetcher[Any]) -> CursorPage[Any]:
    """Return the ``CursorPage`` of a list reply ``{"data": [...], "nextCursor": ...}``.

    A missing, null or empty ``nextCursor`` makes it the last page.

    Args:
        data: The parsed reply.
        item_type: The model class (or tagged union) of the items.
        fetch: Fetches the page at a cursor (for ``get_next_page``).

    Returns:
        The page.

    Raises:
        ResponseValidationError: The reply is not such a page, or an item is not an
            ``item_type``; ``body`` is the whole reply.

    """
    if not isinstance(data, Mapping) or "data" not in data:
        raise ResponseValidationError(
            "The reply is not a page: expected an object with a data array.", body=data
        )
    cursor = data.get("nextCursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ResponseValidationError(
            "The reply is not a valid page: expected a string or null, got "
            f"{json_type(cursor)} @ $.nextCursor",
            body=data,
        )
    try:
        items = structure(data["data"], tuple[item_type, ...])
    except ResponseValidationError as exc:
        problems = str(exc).partition(": ")[2] or str(exc)
        raise ResponseValidationError(
            "The reply is not a valid page: " + problems.replace(" @ $", " @ $.data"),
            body=data,
        ) from exc.__cause__
    return CursorPage(items, cursor, fetch)


def paginate(
    core: Core,
    endpoint: str,
    params: Mapping[str, Any],
    item_type: Any,
    *,
    options: CallOptions | None = None,
) -> AsyncPaginator[Any]:
    """Return the paginator of a cursor-paginated ``list`` call.

    Each page sends ``params`` (the path parameters, filters, ``limit`` and the first
    page's ``cursor``) with the page's cursor, and its reply is read by ``parse_page``.

    Args:
        core: The client's core.
        endpoint: The plain endpoint (``voices.list``).
        params: The call's keyword arguments by Python name; ``cursor`` (if given) is where
            the first page starts.
        item_type: The model class (or tagged union) of the items.
        options: The call's ``extra_*`` and ``timeout``, used for every page.

    Returns:
        The paginator; nothing is sent until it is awaited or iterated.

    """
    first_cursor = params.get("cursor")

    async def fetch(cursor: str | None) -> CursorPage[Any]:
        query = {**params, "cursor": first_cursor if cursor is None else cursor}
        response = await core.call(endpoint, query, options=options)
        return parse_page(response.data, item_type, fetch)

    return AsyncPaginator(fetch)
