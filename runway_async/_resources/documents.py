"""``client.documents``: knowledge documents for avatars (``/v1/documents``)."""

from __future__ import annotations

from typing import Final, Literal

from .._config import NOT_GIVEN
from .._convert import structure
from .._models.documents import Document, DocumentSummary
from .._options import Body, Headers, Query, RequestTimeout, call_options
from ._base import Resource
from ._pagination import AsyncPaginator
from ._replies import object_path, paginate, parse_object

__all__ = ["Documents"]

_PREFIX: Final = "/v1/documents/"


class Documents(Resource):
    """Knowledge documents that avatars draw on in conversations: ``/v1/documents``."""

    async def create(
        self,
        *,
        content: str,
        name: str,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Document:
        """Create a knowledge document.

        ``POST /v1/documents``. Attach it to avatars with their ``document_ids``.

        Args:
            content: The text, markdown or plain.
            name: The document's name.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The new document.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            BadRequestError: The API rejected the parameters.

        """
        response = await self._core.call(
            "documents.create",
            {"content": content, "name": name},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, Document)

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Document:
        """Fetch a document with its content.

        ``GET /v1/documents/{id}``.

        Args:
            id: The document's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The document.

        Raises:
            NotFoundError: No such document.
            ResponseValidationError: The reply was not a document, or was another one.

        """
        response = await self._core.call(
            "documents.retrieve",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        document: Document = parse_object(
            response.data, Document, object_id=id, path="GET " + object_path(_PREFIX, id)
        )
        return document

    async def update(
        self,
        id: str,
        *,
        content: str | None = None,
        name: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> None:
        """Change a document's content or name; give at least one.

        ``PATCH /v1/documents/{id}``; the API answers with no body, so nothing is returned
        (``retrieve`` the document to see it).

        Args:
            id: The document's id.
            content: The new text.
            name: The new name.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            NotFoundError: No such document.

        """
        await self._core.call(
            "documents.update",
            {"id": id, "content": content, "name": name},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )

    def list(
        self,
        *,
        limit: int,
        order: Literal["asc", "desc"],
        sort: Literal["createdAt", "updatedAt"],
        cursor: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AsyncPaginator[DocumentSummary]:
        """List documents (without their content), a page at a time.

        ``GET /v1/documents``. Nothing is sent until the result is awaited or iterated.

        Args:
            limit: Documents per page.
            order: ``asc`` or ``desc``.
            sort: The timestamp to sort by: ``createdAt`` or ``updatedAt``.
            cursor: Where to start (a page's ``next_cursor``); the first page by default.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            A paginator: ``await`` it for the first page, or ``async for`` over every
            document of every page.

        Raises:
            InvalidRequestError: (when awaited or iterated) A parameter failed
                validation; nothing was sent.

        """
        return paginate(
            self._core,
            "documents.list",
            {"limit": limit, "order": order, "sort": sort, "cursor": cursor},
            DocumentSummary,
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
        """Delete a document (it is detached from every avatar).

        ``DELETE /v1/documents/{id}``.

        Args:
            id: The document's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Raises:
            NotFoundError: No such document.

        """
        await self._core.call(
            "documents.delete",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
