"""``client.documents``: knowledge documents for avatars (``/v1/documents``)."""

from __future__ import annotations

from typing import Final, Literal

from .._convert import structure
from .._models.documents import Document, DocumentSummary
from ._base import Resource
from ._pagination import AsyncPaginator
from ._replies import object_path, paginate, parse_object

__all__ = ["Documents"]

_PREFIX: Final = "/v1/documents/"


class Documents(Resource):
    """Knowledge documents that avatars draw on in conversations: ``/v1/documents``."""

    async def create(self, *, content: str, name: str) -> Document:
        """Create a knowledge document.

        ``POST /v1/documents``. Attach it to avatars with their ``document_ids``.

        Args:
            content: The text, markdown or plain.
            name: The document's name.

        Returns:
            The new document.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            BadRequestError: The API rejected the parameters.

        """
        response = await self._core.call("documents.create", {"content": content, "name": name})
        return structure(response.data, Document)

    async def retrieve(self, id: str) -> Document:
        """Fetch a document with its content.

        ``GET /v1/documents/{id}``.

        Args:
            id: The document's id.

        Returns:
            The document.

        Raises:
            NotFoundError: No such document.
            ResponseValidationError: The reply was not a document, or was another one.

        """
        response = await self._core.call("documents.retrieve", {"id": id})
        document: Document = parse_object(
            response.data, Document, object_id=id, path="GET " + object_path(_PREFIX, id)
        )
        return document

    async def update(self, id: str, *, content: str | None = None, name: str | None = None) -> None:
        """Change a document's content or name; give at least one.

        ``PATCH /v1/documents/{id}``; the API answers with no body, so nothing is returned
        (``retrieve`` the document to see it).

        Args:
            id: The document's id.
            content: The new text.
            name: The new name.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            NotFoundError: No such document.

        """
        await self._core.call("documents.update", {"id": id, "content": content, "name": name})

    def list(
        self,
        *,
        limit: int,
        order: Literal["asc", "desc"],
        sort: Literal["createdAt", "updatedAt"],
        cursor: str | None = None,
    ) -> AsyncPaginator[DocumentSummary]:
        """List documents (without their content), a page at a time.

        ``GET /v1/documents``. Nothing is sent until the result is awaited or iterated.

        Args:
            limit: Documents per page.
            order: ``asc`` or ``desc``.
            sort: The timestamp to sort by: ``createdAt`` or ``updatedAt``.
            cursor: Where to start (a page's ``next_cursor``); the first page by default.

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
        )

    async def delete(self, id: str) -> None:
        """Delete a document (it is detached from every avatar).

        ``DELETE /v1/documents/{id}``.

        Args:
            id: The document's id.

        Raises:
            NotFoundError: No such document.

        """
        await self._core.call("documents.delete", {"id": id})
