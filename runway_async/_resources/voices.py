"""``client.voices``: custom voices (``/v1/voices``)."""

from __future__ import annotations

from typing import Any, Final, Literal

from .._config import NOT_GIVEN, NotGiven
from .._convert import register_tagged_union, structure
from .._models.task import DEFAULT_WAIT_TIMEOUT
from .._models.voices import (
    FailedVoice,
    ProcessingVoice,
    ReadyVoice,
    UnknownVoice,
    Voice,
    VoiceCreated,
    VoicePreview,
)
from .._options import Body, Headers, Query, RequestTimeout, call_options
from .._spec import NULL
from ..types import AudioVoiceSource, TextVoiceSource
from ._base import Resource
from ._pagination import AsyncPaginator
from ._replies import paginate
from ._watching import PROCESSING_SCHEDULE, object_kind, ready_or_raise

__all__ = ["VOICE_KIND", "Voices"]

register_tagged_union(
    Voice,
    {"PROCESSING": ProcessingVoice, "READY": ReadyVoice, "FAILED": FailedVoice},
    unknown=UnknownVoice,
)

VOICE_KIND: Final = object_kind("voice", "/v1/voices/", Voice, PROCESSING_SCHEDULE)
"""How the watcher follows a voice until it is READY or FAILED."""


def _parse_voice(data: object, voice_id: str) -> Voice:
    voice: Voice = VOICE_KIND.parse(data, voice_id)
    return voice


class Voices(Resource):
    """Custom voices, made from a recording or a description: ``/v1/voices``."""

    async def create(
        self,
        *,
        from_: AudioVoiceSource | TextVoiceSource,
        name: str,
        description: str | NotGiven | None = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> VoiceCreated:
        """Create a custom voice; it is ``PROCESSING`` until made.

        ``POST /v1/voices``. Wait for it with ``wait(created.id)``.

        Args:
            from_: What to make it from (sent as ``from``): a recording, ``{"type": "audio",
                "audio": uri}`` (an HTTPS URL, a ``runway://`` or ``data:`` URI, or a local
                ``pathlib.Path``, uploaded before the voice is created), or a description,
                ``{"type": "text", "model": "eleven_ttv_v3", "prompt": "..."}`` (at least 20
                characters).
            name: The voice's name.
            description: A description of the voice, or ``None``.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The new voice's id.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            BadRequestError: The API rejected the parameters.

        """
        params: dict[str, Any] = {"from_": from_, "name": name}
        if not isinstance(description, NotGiven):
            params["description"] = NULL if description is None else description
        response = await self._core.call(
            "voices.create",
            params,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, VoiceCreated)

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Voice:
        """Fetch a custom voice.

        ``GET /v1/voices/{id}``.

        Args:
            id: The voice's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The voice, typed by its status (``ReadyVoice``, ...; ``UnknownVoice`` for a
            status this SDK does not know).

        Raises:
            NotFoundError: No such voice.
            ResponseValidationError: The reply was not a voice, or was another one.

        """
        response = await self._core.call(
            "voices.retrieve",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return _parse_voice(response.data, id)

    async def update(
        self,
        id: str,
        *,
        description: str | NotGiven | None = NOT_GIVEN,
        name: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Voice:
        """Rename a voice or change its description.

        ``PATCH /v1/voices/{id}``.

        Args:
            id: The voice's id.
            description: The new description; ``None`` removes it (leave it out to keep it).
            name: The new name.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The changed voice.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            NotFoundError: No such voice.

        """
        params: dict[str, Any] = {"id": id, "name": name}
        if not isinstance(description, NotGiven):
            params["description"] = NULL if description is None else description
        response = await self._core.call(
            "voices.update",
            params,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return _parse_voice(response.data, id)

    def list(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AsyncPaginator[Voice]:
        """List your custom voices, a page at a time.

        ``GET /v1/voices``. Nothing is sent until the result is awaited or iterated.

        Args:
            limit: Voices per page.
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
            ``await .get_next_page()``), or ``async for`` over every voice of every page.

        Raises:
            InvalidRequestError: (when awaited or iterated) A parameter failed
                validation; nothing was sent.

        """
        return paginate(
            self._core,
            "voices.list",
            {"limit": limit, "cursor": cursor},
            Voice,
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
        """Delete a custom voice.

        ``DELETE /v1/voices/{id}``.

        Args:
            id: The voice's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Raises:
            NotFoundError: No such voice.

        """
        await self._core.call(
            "voices.delete",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )

    async def preview(
        self,
        *,
        model: Literal["eleven_ttv_v3", "eleven_multilingual_ttv_v2"],
        prompt: str,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> VoicePreview:
        """Hear a voice described in words before creating it.

        ``POST /v1/voices/preview``.

        Args:
            model: The voice-design model (``eleven_ttv_v3`` is the newest).
            prompt: The voice's description, at least 20 characters.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The URL of an audio sample (expires in 24 hours) and its length.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            BadRequestError: The API rejected the parameters.

        """
        response = await self._core.call(
            "voices.preview",
            {"model": model, "prompt": prompt},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, VoicePreview)

    async def wait(self, id: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT) -> ReadyVoice:
        """Wait until a custom voice is ready for use; return it.

        The client's watcher polls the voice (any number of concurrent waits share each
        GET, at the task schedule's pace).

        Args:
            id: The voice's id.
            timeout: Seconds to wait in all (``None``: no deadline).

        Returns:
            The READY voice.

        Raises:
            ResourceFailedError: The voice FAILED (``failure`` is its ``failure_reason``;
                ``resource`` the ``FailedVoice``).
            TaskTimeoutError: The deadline passed; ``task_details`` holds the last voice
                seen.
            NotFoundError: No such voice (any more).

        """
        voice = await self._core.wait_resource(VOICE_KIND, id, timeout=timeout)
        return ready_or_raise(voice, ReadyVoice, FailedVoice, "Voice")
