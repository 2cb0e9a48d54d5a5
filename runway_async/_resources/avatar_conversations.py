"""``client.avatar_conversations``: recorded realtime sessions (``/v1/avatar_conversations``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from .._config import NOT_GIVEN
from .._convert import converter, register_tagged_union
from .._models.conversations import (
    AvatarConversation,
    AvatarConversationSummary,
    ConversationAvatar,
    ConversationCustomAvatar,
    ConversationPresetAvatar,
    EndedConversation,
    FailedConversation,
    InProgressConversation,
    UnknownConversation,
    UnknownConversationAvatar,
)
from .._options import Body, Headers, Query, RequestTimeout, call_options
from ._base import Resource
from ._pagination import AsyncPaginator
from ._replies import object_path, paginate, parse_object

__all__ = ["AvatarConversations"]

register_tagged_union(
    ConversationAvatar,
    {"runway-preset": ConversationPresetAvatar, "custom": ConversationCustomAvatar},
    unknown=UnknownConversationAvatar,
    tag="type",
)


def _structure_optional_avatar(value: object, _: Any) -> ConversationAvatar | None:
    # A conversation's avatar may be null; the tagged-union hook takes only objects.
    if value is None:
        return None
    avatar: ConversationAvatar = converter.structure(value, ConversationAvatar)  # type: ignore[arg-type]
    return avatar


converter.register_structure_hook(ConversationAvatar | None, _structure_optional_avatar)
register_tagged_union(
    AvatarConversation,
    {
        "in_progress": InProgressConversation,
        "ended": EndedConversation,
        "failed": FailedConversation,
    },
    unknown=UnknownConversation,
)

_PREFIX: Final = "/v1/avatar_conversations/"


class AvatarConversations(Resource):
    """Recorded realtime sessions, with transcripts: ``/v1/avatar_conversations``."""

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AvatarConversation:
        """Fetch a conversation with its transcript.

        ``GET /v1/avatar_conversations/{id}``.

        Args:
            id: The conversation's id (the realtime session's id).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The conversation, typed by its status (``InProgressConversation``,
            ``EndedConversation``, ``FailedConversation``; ``UnknownConversation`` for a
            status this SDK does not know).

        Raises:
            NotFoundError: No such conversation.
            ResponseValidationError: The reply was not a conversation, or was another one.

        """
        response = await self._core.call(
            "avatar_conversations.retrieve",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        conversation: AvatarConversation = parse_object(
            response.data,
            AvatarConversation,
            object_id=id,
            path="GET " + object_path(_PREFIX, id),
        )
        return conversation

    def list(
        self,
        *,
        limit: int,
        avatar: str | None = None,
        cursor: str | None = None,
        end_date: str | datetime | None = None,
        start_date: str | datetime | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AsyncPaginator[AvatarConversationSummary]:
        """List conversations, a page at a time.

        ``GET /v1/avatar_conversations``. Nothing is sent until the result is awaited or
        iterated.

        Args:
            limit: Conversations per page.
            avatar: Only those of this custom avatar (its id).
            cursor: Where to start (a page's ``next_cursor``); the first page by default.
            end_date: Only those created before this moment (exclusive; ISO-8601 string or
                ``datetime``).
            start_date: Only those created at or after this moment (inclusive).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            A paginator: ``await`` it for the first page, or ``async for`` over every
            conversation of every page.

        Raises:
            InvalidRequestError: (when awaited or iterated) A parameter failed
                validation; nothing was sent.

        """
        return paginate(
            self._core,
            "avatar_conversations.list",
            {
                "limit": limit,
                "avatar": avatar,
                "cursor": cursor,
                "end_date": end_date,
                "start_date": start_date,
            },
            AvatarConversationSummary,
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
        """Delete a conversation's transcript and recording for good.

        ``DELETE /v1/avatar_conversations/{id}``.

        Args:
            id: The conversation's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Raises:
            NotFoundError: No such conversation.

        """
        await self._core.call(
            "avatar_conversations.delete",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
