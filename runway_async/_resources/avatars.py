"""``client.avatars``: custom avatars for realtime sessions (``/v1/avatars``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Literal

from .._config import NOT_GIVEN, NotGiven
from .._convert import register_tagged_union, structure
from .._models.avatars import (
    Avatar,
    AvatarCustomVoice,
    AvatarPresetVoice,
    AvatarUsage,
    AvatarVoice,
    FailedAvatar,
    ProcessingAvatar,
    ReadyAvatar,
    UnknownAvatar,
    UnknownAvatarVoice,
)
from .._models.task import DEFAULT_WAIT_TIMEOUT
from .._options import Body, Headers, Query, RequestTimeout, call_options
from .._spec import NULL
from ..types import CustomVoice, RunwayLivePresetVoice
from ._base import Resource
from ._pagination import AsyncPaginator
from ._replies import paginate
from ._watching import PROCESSING_SCHEDULE, object_kind, ready_or_raise

__all__ = ["AVATAR_KIND", "Avatars"]

register_tagged_union(
    AvatarVoice,
    {"runway-live-preset": AvatarPresetVoice, "custom": AvatarCustomVoice},
    unknown=UnknownAvatarVoice,
    tag="type",
)
register_tagged_union(
    Avatar,
    {"PROCESSING": ProcessingAvatar, "READY": ReadyAvatar, "FAILED": FailedAvatar},
    unknown=UnknownAvatar,
)

AVATAR_KIND: Final = object_kind("avatar", "/v1/avatars/", Avatar, PROCESSING_SCHEDULE)
"""How the watcher follows an avatar until it is READY or FAILED."""


def _parse_avatar(data: object, avatar_id: str) -> Avatar:
    avatar: Avatar = AVATAR_KIND.parse(data, avatar_id)
    return avatar


class Avatars(Resource):
    """Custom avatars for realtime sessions: ``/v1/avatars`` and ``/v1/avatar_usage``."""

    async def create(
        self,
        *,
        name: str,
        personality: str,
        reference_image: str | os.PathLike[str],
        voice: RunwayLivePresetVoice | CustomVoice,
        document_ids: Sequence[str] | None = None,
        image_processing: Literal["optimize", "none"] | None = None,
        start_script: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Avatar:
        """Create a custom avatar; it is ``PROCESSING`` until its image is processed.

        ``POST /v1/avatars``. Wait for it with ``wait(avatar.id)``.

        Args:
            name: The character's name.
            personality: The system prompt that sets how the avatar behaves in
                conversations.
            reference_image: The avatar's image: an HTTPS URL, a ``runway://`` upload URI, a
                ``data:`` URI, or a local file (``pathlib.Path``), uploaded before the
                avatar is created.
            voice: The voice: ``{"type": "runway-live-preset", "preset_id": "victoria"}``
                or a custom voice, ``{"type": "custom", "id": voice_id}``.
            document_ids: Knowledge documents to attach.
            image_processing: ``optimize`` to improve the image for the avatar, or ``none``
                to use it as is.
            start_script: The opening line said when a session starts.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The new avatar (usually a ``ProcessingAvatar``).

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            BadRequestError: The API rejected the parameters.
            APIStatusError: Any other error status.
            APIConnectionError: The API could not be reached.

        """
        response = await self._core.call(
            "avatars.create",
            {
                "name": name,
                "personality": personality,
                "reference_image": reference_image,
                "voice": voice,
                "document_ids": document_ids,
                "image_processing": image_processing,
                "start_script": start_script,
            },
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        avatar: Avatar = structure(response.data, Avatar)  # type: ignore[arg-type]  # a union
        return avatar

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Avatar:
        """Fetch an avatar.

        ``GET /v1/avatars/{id}``.

        Args:
            id: The avatar's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The avatar, typed by its status (``ReadyAvatar``, ...; ``UnknownAvatar`` for a
            status this SDK does not know).

        Raises:
            NotFoundError: No such avatar.
            ResponseValidationError: The reply was not an avatar, or was another one.

        """
        response = await self._core.call(
            "avatars.retrieve",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return _parse_avatar(response.data, id)

    async def update(
        self,
        id: str,
        *,
        document_ids: Sequence[str] | None = None,
        image_processing: Literal["optimize", "none"] | None = None,
        name: str | None = None,
        personality: str | None = None,
        reference_image: str | os.PathLike[str] | None = None,
        start_script: str | NotGiven | None = NOT_GIVEN,
        voice: RunwayLivePresetVoice | CustomVoice | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Avatar:
        """Change an avatar; give at least one field.

        ``PATCH /v1/avatars/{id}``.

        Args:
            id: The avatar's id.
            document_ids: Knowledge documents to attach, replacing the current list.
            image_processing: ``optimize`` or ``none`` (see ``create``).
            name: The character's name.
            personality: The system prompt.
            reference_image: A new image (HTTPS URL, ``runway://`` or ``data:`` URI, or a
                local ``pathlib.Path``, uploaded first).
            start_script: The opening line; ``None`` removes it (leave it out to keep it).
            voice: The voice (see ``create``).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The changed avatar.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            NotFoundError: No such avatar.
            BadRequestError: The API rejected the parameters.

        """
        params: dict[str, Any] = {
            "id": id,
            "document_ids": document_ids,
            "image_processing": image_processing,
            "name": name,
            "personality": personality,
            "reference_image": reference_image,
            "voice": voice,
        }
        if not isinstance(start_script, NotGiven):
            params["start_script"] = NULL if start_script is None else start_script
        response = await self._core.call(
            "avatars.update",
            params,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return _parse_avatar(response.data, id)

    def list(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AsyncPaginator[Avatar]:
        """List your avatars, a page at a time.

        ``GET /v1/avatars``. Nothing is sent until the result is awaited or iterated.

        Args:
            limit: Avatars per page.
            cursor: Where to start (a page's ``next_cursor``); the first page by default.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            A paginator: ``await`` it for the first page (``.data``, ``.has_next_page()``,
            ``await .get_next_page()``), or ``async for`` over every avatar of every page.

        Raises:
            InvalidRequestError: (when awaited or iterated) A parameter failed
                validation; nothing was sent.

        """
        return paginate(
            self._core,
            "avatars.list",
            {"limit": limit, "cursor": cursor},
            Avatar,
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
        """Delete an avatar.

        ``DELETE /v1/avatars/{id}``.

        Args:
            id: The avatar's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Raises:
            NotFoundError: No such avatar.

        """
        await self._core.call(
            "avatars.delete",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )

    async def get_usage(
        self,
        *,
        end_date: str | datetime,
        start_date: str | datetime,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AvatarUsage:
        """Report realtime-session usage per day over a date range of at most 90 days.

        ``GET /v1/avatar_usage``.

        Args:
            end_date: The end of the range, exclusive (ISO-8601 string or ``datetime``; UTC).
            start_date: The start of the range, inclusive.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            Totals and one entry per day (days without sessions included).

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            BadRequestError: The API rejected the range.

        """
        response = await self._core.call(
            "avatars.get_usage",
            {"end_date": end_date, "start_date": start_date},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, AvatarUsage)

    async def wait(self, id: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT) -> ReadyAvatar:
        """Wait until an avatar is ready for sessions; return it.

        The client's watcher polls the avatar (any number of concurrent waits share each
        GET, at the task schedule's pace).

        Args:
            id: The avatar's id.
            timeout: Seconds to wait in all (``None``: no deadline).

        Returns:
            The READY avatar.

        Raises:
            ResourceFailedError: The avatar's processing FAILED (``failure`` is its
                ``failure_reason``; ``resource`` the ``FailedAvatar``).
            TaskTimeoutError: The deadline passed; ``task_details`` holds the last avatar
                seen.
            NotFoundError: No such avatar (any more).

        """
        avatar = await self._core.wait_resource(AVATAR_KIND, id, timeout=timeout)
        return ready_or_raise(avatar, ReadyAvatar, FailedAvatar, "Avatar")
