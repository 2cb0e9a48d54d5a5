"""``client.realtime_sessions``: live conversations with an avatar (``/v1/realtime_sessions``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from .._config import NOT_GIVEN
from .._convert import register_tagged_union, structure
from .._exceptions import ResourceFailedError
from .._models.realtime import (
    CancelledRealtimeSession,
    CompletedRealtimeSession,
    FailedRealtimeSession,
    NotReadyRealtimeSession,
    ReadyRealtimeSession,
    RealtimeSession,
    RealtimeSessionCreated,
    RunningRealtimeSession,
    UnknownRealtimeSession,
)
from .._models.task import DEFAULT_WAIT_TIMEOUT
from .._options import Body, Headers, Query, RequestTimeout, call_options
from ..types import (
    BackendRpcTool,
    ClientEventTool,
    CustomAvatar,
    DeprecatedLivekit,
    ElevenlabsIntegration,
    LivekitIntegration,
    RunwayPresetAvatar,
)
from ._base import Resource
from ._watching import object_kind

__all__ = ["REALTIME_SESSION_KIND", "RealtimeSessions"]

register_tagged_union(
    RealtimeSession,
    {
        "NOT_READY": NotReadyRealtimeSession,
        "READY": ReadyRealtimeSession,
        "RUNNING": RunningRealtimeSession,
        "COMPLETED": CompletedRealtimeSession,
        "FAILED": FailedRealtimeSession,
        "CANCELLED": CancelledRealtimeSession,
    },
    unknown=UnknownRealtimeSession,
)

REALTIME_SESSION_KIND: Final = object_kind(
    "realtime session",
    "/v1/realtime_sessions/",
    RealtimeSession,
    # A wait ends once the session is no longer NOT_READY.
    {
        "NOT_READY": "PENDING",
        "READY": "SUCCEEDED",
        "RUNNING": "SUCCEEDED",
        "COMPLETED": "SUCCEEDED",
        "FAILED": "FAILED",
        "CANCELLED": "CANCELLED",
    },
)
"""How the watcher follows a realtime session until it is READY (or later) or has ended."""


def _parse_session(data: object, session_id: str) -> RealtimeSession:
    session: RealtimeSession = REALTIME_SESSION_KIND.parse(data, session_id)
    return session


class RealtimeSessions(Resource):
    """Live conversations with an avatar: ``/v1/realtime_sessions``."""

    async def create(
        self,
        *,
        avatar: RunwayPresetAvatar | CustomAvatar,
        model: Literal["gwm1_avatars"],
        integration: ElevenlabsIntegration | LivekitIntegration | None = None,
        livekit: DeprecatedLivekit | None = None,
        max_duration: int | None = None,
        personality: str | None = None,
        start_script: str | None = None,
        tools: Iterable[ClientEventTool | BackendRpcTool] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> RealtimeSessionCreated:
        """Start a realtime session with an avatar; it is ``NOT_READY`` at first.

        ``POST /v1/realtime_sessions``. Wait for its session key with ``wait(session.id)``.

        Args:
            avatar: A preset, ``{"type": "runway-preset", "preset_id": "influencer"}``, or
                one of your avatars, ``{"type": "custom", "avatar_id": avatar_id}``.
            model: The model (``gwm1_avatars``).
            integration: A voice-agent integration: ``{"type": "elevenlabs", "signed_url":
                ...}`` or ``{"type": "livekit", "token": ..., "room_name": ..., "url": ...}``.
            livekit: Deprecated: use ``integration`` with ``type="livekit"``.
            max_duration: The session's time limit, in seconds.
            personality: A system prompt for this session (overrides the avatar's).
            start_script: An opening line for this session (overrides the avatar's).
            tools: Tools the avatar may call: ``client_event`` (sent to your front end) or
                ``backend_rpc`` (a round trip to your server) definitions.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The new session's id.

        Raises:
            InvalidRequestError: A parameter failed validation; nothing was sent.
            BadRequestError: The API rejected the parameters.
            APIStatusError: Any other error status.

        """
        response = await self._core.call(
            "realtime_sessions.create",
            {
                "avatar": avatar,
                "model": model,
                "integration": integration,
                "livekit": livekit,
                "max_duration": max_duration,
                "personality": personality,
                "start_script": start_script,
                "tools": None if tools is None else [*tools],
            },
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, RealtimeSessionCreated)

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> RealtimeSession:
        """Fetch a realtime session.

        ``GET /v1/realtime_sessions/{id}``.

        Args:
            id: The session's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The session, typed by its status (``ReadyRealtimeSession`` holds the
            ``session_key``; ``UnknownRealtimeSession`` for a status this SDK does not know).

        Raises:
            NotFoundError: No such session.
            ResponseValidationError: The reply was not a session, or was another one.

        """
        response = await self._core.call(
            "realtime_sessions.retrieve",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return _parse_session(response.data, id)

    async def delete(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> None:
        """Cancel a realtime session.

        ``DELETE /v1/realtime_sessions/{id}``; the session becomes ``CANCELLED``.

        Args:
            id: The session's id.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Raises:
            NotFoundError: No such session.

        """
        await self._core.call(
            "realtime_sessions.delete",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )

    async def wait(
        self, id: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> ReadyRealtimeSession:
        """Wait until a realtime session is READY; return it, with its ``session_key``.

        The client's watcher polls the session (any number of concurrent waits share each
        GET, at the task schedule's pace).

        Args:
            id: The session's id.
            timeout: Seconds to wait in all (``None``: no deadline).

        Returns:
            The READY session; its ``session_key`` is the one-time credential of the
            session's consume step, valid until ``expires_at``.

        Raises:
            ResourceFailedError: The session cannot be joined any more: it FAILED
                (``failure`` and ``failure_code`` set), was CANCELLED, or had already
                moved past READY (RUNNING or COMPLETED: its key was handed out before)
                when the wait saw it. ``resource`` is the session as seen.
            TaskTimeoutError: The deadline passed; ``task_details`` holds the last session
                seen.
            NotFoundError: No such session (any more).

        """
        session = await self._core.wait_resource(REALTIME_SESSION_KIND, id, timeout=timeout)
        if isinstance(session, ReadyRealtimeSession):
            return session
        if isinstance(session, FailedRealtimeSession):
            raise ResourceFailedError(
                f"Realtime session {id} FAILED: {session.failure}",
                session,
                failure=session.failure,
                failure_code=session.failure_code,
            )
        if isinstance(session, CancelledRealtimeSession):
            message = f"Realtime session {id} was CANCELLED before it was ready."
        else:
            message = (
                f"Realtime session {id} is already {session.status}: its session key is no "
                "longer available."
            )
        raise ResourceFailedError(message, session)
