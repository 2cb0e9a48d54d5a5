"""Reading the replies of plain endpoints: one object (checked to be the one asked for), pages.

Shared by the hand-written resources of plain endpoints (avatars, voices, documents, ...):

* ``parse_object`` builds a model from a reply and checks its ``id`` is the one in the path
  (a confused proxy or cache answering for another object is an error, as for tasks);
* ``paginate`` returns the ``AsyncPaginator`` of a cursor-paginated ``list`` call, whose
  pages are parsed with a page model ``{data: (...), next_cursor}``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any, TypeVar

from .._convert import structure
from .._core import Core
from .._exceptions import ResponseValidationError
from ._pagination import AsyncPaginator, CursorPage

__all__ = ["object_path", "paginate", "parse_object"]

T = TypeVar("T")


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


def paginate(
    core: Core, endpoint: str, params: Mapping[str, Any], page_cls: type[Any]
) -> AsyncPaginator[Any]:
    """Return the paginator of a cursor-paginated ``list`` call.

    Each page sends ``params`` (the filters, ``limit`` and the first page's ``cursor``) with
    the page's cursor, and is parsed as ``page_cls`` (``data`` and ``next_cursor``).

    Args:
        core: The client's core.
        endpoint: The plain endpoint (``voices.list``).
        params: The call's keyword arguments by Python name; ``cursor`` (if given) is where
            the first page starts.
        page_cls: The page model.

    """
    first_cursor = params.get("cursor")

    async def fetch(cursor: str | None) -> CursorPage[Any]:
        query = {**params, "cursor": first_cursor if cursor is None else cursor}
        response = await core.call(endpoint, query)
        page = structure(response.data, page_cls)
        return CursorPage(page.data, page.next_cursor, fetch)

    return AsyncPaginator(fetch)
