"""The async client, ``AsyncRunway``."""

from __future__ import annotations

import urllib.parse
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import attrs

from ._config import (
    DEFAULT_RUNWAY_VERSION,
    PollConfig,
    RetryConfig,
    Timeout,
    is_loopback_host,
    resolve_api_key,
    resolve_base_url,
    setup_logging_from_env,
)
from ._convert import structure
from ._exceptions import ResponseValidationError
from ._models import RoutedTaskCreated, TaskCreated
from ._resources.generation import (
    AvatarVideos,
    CharacterPerformance,
    Generate,
    ImageToVideo,
    ImageUpscale,
    Recipes,
    SoundEffect,
    SpeechToSpeech,
    TextToImage,
    TextToSpeech,
    TextToVideo,
    VideoToAudio,
    VideoToHdr,
    VideoToVideo,
    VideoUpscale,
    VoiceDubbing,
    VoiceIsolation,
)
from ._resources.organization import Organization
from ._resources.tasks import Tasks
from ._spec import get_endpoint, to_wire
from ._tasks import TaskHandle
from ._transport import Transport

__all__ = ["AsyncRunway", "AsyncRunwayML"]


class AsyncRunway:
    """Async client for the Runway API.

    Use it as ``async with AsyncRunway() as client: ...`` or call ``await client.aclose()``.
    The HTTP session is created lazily inside the running event loop on the first request.

    Args:
        api_key: Your API key; defaults to ``$RUNWAYML_API_SECRET``.
        base_url: API base URL; defaults to ``$RUNWAYML_BASE_URL``, else
            ``https://api.dev.runwayml.com``. Plain ``http`` is accepted only for loopback hosts.
        runway_version: The ``X-Runway-Version`` header.
        timeout: Per-request deadline in seconds, or a ``Timeout``.
        max_retries: Retries after a failed attempt (see the retry policy in the README).
        session: An ``aiohttp.ClientSession`` to use; it is yours to close.
        retry: Full retry settings; ``max_retries`` overrides its ``max_retries``.
        poll: How ``wait_for_task_output`` polls.
        default_headers: Extra headers sent with every request.

    """

    tasks: Tasks
    organization: Organization
    image_to_video: ImageToVideo
    text_to_video: TextToVideo
    video_to_video: VideoToVideo
    text_to_image: TextToImage
    character_performance: CharacterPerformance
    image_upscale: ImageUpscale
    video_upscale: VideoUpscale
    video_to_hdr: VideoToHdr
    video_to_audio: VideoToAudio
    sound_effect: SoundEffect
    text_to_speech: TextToSpeech
    speech_to_speech: SpeechToSpeech
    voice_dubbing: VoiceDubbing
    voice_isolation: VoiceIsolation
    avatar_videos: AvatarVideos
    recipes: Recipes
    generate: Generate

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        runway_version: str = DEFAULT_RUNWAY_VERSION,
        timeout: float | Timeout = 60.0,
        max_retries: int | None = None,
        session: object | None = None,
        retry: RetryConfig | None = None,
        poll: PollConfig | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        setup_logging_from_env()
        retry = retry or RetryConfig()
        if max_retries is not None:
            retry = _evolve_retry(retry, max_retries)
        transport = Transport(
            base_url=resolve_base_url(base_url),
            api_key=resolve_api_key(api_key),
            runway_version=runway_version,
            timeout=Timeout.coerce(timeout),
            retry=retry,
            session=session,
            default_headers=default_headers,
        )
        self._init(transport, poll or PollConfig(), owner=True)

    def _init(self, transport: Transport, poll: PollConfig, *, owner: bool) -> None:
        self._transport = transport
        self._poll = poll
        self._owner = owner
        self._allow_loopback_http = is_loopback_host(
            urllib.parse.urlsplit(transport.base_url).hostname
        )
        self.tasks = Tasks(self)
        self.organization = Organization(self)
        self.image_to_video = ImageToVideo(self)
        self.text_to_video = TextToVideo(self)
        self.video_to_video = VideoToVideo(self)
        self.text_to_image = TextToImage(self)
        self.character_performance = CharacterPerformance(self)
        self.image_upscale = ImageUpscale(self)
        self.video_upscale = VideoUpscale(self)
        self.video_to_hdr = VideoToHdr(self)
        self.video_to_audio = VideoToAudio(self)
        self.sound_effect = SoundEffect(self)
        self.text_to_speech = TextToSpeech(self)
        self.speech_to_speech = SpeechToSpeech(self)
        self.voice_dubbing = VoiceDubbing(self)
        self.voice_isolation = VoiceIsolation(self)
        self.avatar_videos = AvatarVideos(self)
        self.recipes = Recipes(self)
        self.generate = Generate(self)

    @property
    def base_url(self) -> str:
        """The API base URL."""
        return self._transport.base_url

    @property
    def timeout(self) -> Timeout:
        """The per-request timeouts."""
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        """Retries after a failed attempt."""
        return self._transport.retry.max_retries

    def __repr__(self) -> str:
        return f"<AsyncRunway base_url={self.base_url!r}>"

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryConfig | None = None,
        poll: PollConfig | None = None,
    ) -> AsyncRunway:
        """Return a copy with other settings that shares this client's connection pool.

        The copy does not own the pool: closing it is a no-op; close the original.

        Args:
            timeout: Per-request deadline in seconds, or a ``Timeout``.
            max_retries: Retries after a failed attempt.
            retry: Full retry settings.
            poll: Polling settings for waits.

        """
        new_retry = retry or self._transport.retry
        if max_retries is not None:
            new_retry = _evolve_retry(new_retry, max_retries)
        transport = self._transport.copy(
            timeout=Timeout.coerce(timeout) if timeout is not None else None, retry=new_retry
        )
        clone = object.__new__(type(self))
        clone._init(transport, poll or self._poll, owner=False)
        return clone

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Send any API request and return its JSON reply: the escape hatch for new endpoints.

        Same headers, retries and errors as every other call (a POST is never re-sent after
        an ambiguous failure).

        Args:
            method: HTTP method.
            path: API path such as ``/v1/tasks/abc``.
            json: JSON body.
            params: Query parameters.

        Returns:
            The parsed JSON reply (text if it was not JSON, ``None`` if empty).

        """
        response = await self._transport.request(method, path, json=json, params=params)
        return response.data

    async def _create_task(self, endpoint: str, params: Mapping[str, Any]) -> TaskHandle:
        """Validate, send one task-creating request and return its handle."""
        spec = get_endpoint(endpoint)
        given = {k: v for k, v in params.items() if v is not None}
        body = to_wire(endpoint, given, allow_loopback_http=self._allow_loopback_http)
        response = await self._transport.request(spec.method, spec.path, json=body)
        model = body.get(spec.discriminator) if spec.discriminator else None
        data = response.data
        if spec.response == "routed":
            routed = structure(data, RoutedTaskCreated)
            return TaskHandle(
                id=routed.id,
                endpoint=endpoint,
                model=routed.routing.model if routed.routing else None,
                estimated_cost=routed.routing.estimated_cost if routed.routing else None,
                routing=routed.routing,
                client=self,
            )
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
            raise ResponseValidationError(
                f"{spec.path} replied without a task id.", method="POST", url=spec.path, body=data
            )
        created = structure(data, TaskCreated)
        return TaskHandle(
            id=created.id,
            endpoint=endpoint,
            model=model if isinstance(model, str) else None,
            estimated_cost=created.estimated_cost,
            client=self,
        )

    async def aclose(self) -> None:
        """Close the HTTP session this client created; idempotent. Copies close nothing."""
        if self._owner:
            await self._transport.aclose()

    async def close(self) -> None:
        """Close the client (same as ``aclose``, the official SDK's name)."""
        await self.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether ``aclose()`` has been called."""
        return self._transport.closed

    async def __aenter__(self) -> AsyncRunway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        transport = getattr(self, "_transport", None)
        if getattr(self, "_owner", False) and transport is not None and transport.owns_open_session:
            _warn(
                f"Unclosed {self!r}: use 'async with AsyncRunway()' or 'await client.aclose()'.",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )


def _evolve_retry(retry: RetryConfig, max_retries: int) -> RetryConfig:
    return attrs.evolve(retry, max_retries=max_retries)


AsyncRunwayML = AsyncRunway
"""The official SDK's name for the async client, kept for migration."""
