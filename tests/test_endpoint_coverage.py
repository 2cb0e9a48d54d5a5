"""Every endpoint of the API reference has its method on the async and on the sync client.

The list is the reference's endpoint index (66 endpoints), copied here so the suite never
needs the reference at run time: an endpoint dropped or renamed fails this test.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from runway_async import AsyncRunway, Runway

# (number in the reference's index, method and path, the official SDK's call, kind:
# T = creates a task, W = creates a workflow invocation, R = a plain call)
ENDPOINTS: list[tuple[int, str, str, str]] = [
    (1, "GET /v1/tasks/{id}", "tasks.retrieve", "R"),
    (2, "DELETE /v1/tasks/{id}", "tasks.delete", "R"),
    (3, "POST /v1/uploads", "uploads.create_ephemeral", "R"),
    (4, "POST /v1/image_to_video", "image_to_video.create", "T"),
    (5, "POST /v1/text_to_video", "text_to_video.create", "T"),
    (6, "POST /v1/video_to_video", "video_to_video.create", "T"),
    (7, "POST /v1/text_to_image", "text_to_image.create", "T"),
    (8, "POST /v1/character_performance", "character_performance.create", "T"),
    (9, "POST /v1/image_upscale", "image_upscale.create", "T"),
    (10, "POST /v1/video_upscale", "video_upscale.create", "T"),
    (11, "POST /v1/video_to_hdr", "video_to_hdr.create", "T"),
    (12, "POST /v1/video_to_audio", "video_to_audio.create", "T"),
    (13, "POST /v1/sound_effect", "sound_effect.create", "T"),
    (14, "POST /v1/text_to_speech", "text_to_speech.create", "T"),
    (15, "POST /v1/speech_to_speech", "speech_to_speech.create", "T"),
    (16, "POST /v1/voice_dubbing", "voice_dubbing.create", "T"),
    (17, "POST /v1/voice_isolation", "voice_isolation.create", "T"),
    (18, "POST /v1/avatar_videos", "avatar_videos.create", "T"),
    (19, "POST /v1/recipes/ad_localization", "recipes.ad_localization", "T"),
    (20, "POST /v1/recipes/marketing_stock_image", "recipes.marketing_stock_image", "T"),
    (21, "POST /v1/recipes/multi_shot_video", "recipes.multi_shot_video", "T"),
    (22, "POST /v1/recipes/product_ad", "recipes.product_ad", "T"),
    (23, "POST /v1/recipes/product_campaign_image", "recipes.product_campaign_image", "T"),
    (24, "POST /v1/recipes/product_swap", "recipes.product_swap", "T"),
    (25, "POST /v1/recipes/product_ugc", "recipes.product_ugc", "T"),
    (26, "POST /v1/generate/video", "generate.video.create", "T"),
    (27, "POST /v1/generate/image", "generate.image.create", "T"),
    (28, "POST /v1/generate/audio", "generate.audio.create", "T"),
    (29, "GET /v1/workflows", "workflows.list", "R"),
    (30, "GET /v1/workflows/{id}", "workflows.retrieve", "R"),
    (31, "POST /v1/workflows/{id}", "workflows.run", "W"),
    (32, "GET /v1/workflow_invocations/{id}", "workflow_invocations.retrieve", "R"),
    (33, "GET /v1/organization", "organization.retrieve", "R"),
    (34, "POST /v1/organization/usage", "organization.retrieve_usage", "R"),
    (35, "GET /v1/organization/webapp/usage", "organization.webapp.list_usage", "R"),
    (36, "GET /v1/organization/webapp/audit_logs", "organization.webapp.audit_logs.list", "R"),
    (
        37,
        "GET /v1/organization/webapp/audit_logs/{event_id}",
        "organization.webapp.audit_logs.retrieve",
        "R",
    ),
    (38, "POST /v1/avatars", "avatars.create", "R"),
    (39, "GET /v1/avatars/{id}", "avatars.retrieve", "R"),
    (40, "PATCH /v1/avatars/{id}", "avatars.update", "R"),
    (41, "GET /v1/avatars", "avatars.list", "R"),
    (42, "DELETE /v1/avatars/{id}", "avatars.delete", "R"),
    (43, "GET /v1/avatar_usage", "avatars.get_usage", "R"),
    (44, "GET /v1/avatar_conversations", "avatar_conversations.list", "R"),
    (45, "GET /v1/avatar_conversations/{id}", "avatar_conversations.retrieve", "R"),
    (46, "DELETE /v1/avatar_conversations/{id}", "avatar_conversations.delete", "R"),
    (47, "POST /v1/realtime_sessions", "realtime_sessions.create", "R"),
    (48, "GET /v1/realtime_sessions/{id}", "realtime_sessions.retrieve", "R"),
    (49, "DELETE /v1/realtime_sessions/{id}", "realtime_sessions.delete", "R"),
    (50, "POST /v1/documents", "documents.create", "R"),
    (51, "GET /v1/documents/{id}", "documents.retrieve", "R"),
    (52, "PATCH /v1/documents/{id}", "documents.update", "R"),
    (53, "GET /v1/documents", "documents.list", "R"),
    (54, "DELETE /v1/documents/{id}", "documents.delete", "R"),
    (55, "POST /v1/voices", "voices.create", "R"),
    (56, "GET /v1/voices/{id}", "voices.retrieve", "R"),
    (57, "PATCH /v1/voices/{id}", "voices.update", "R"),
    (58, "GET /v1/voices", "voices.list", "R"),
    (59, "DELETE /v1/voices/{id}", "voices.delete", "R"),
    (60, "POST /v1/voices/preview", "voices.preview", "R"),
    (61, "POST /v1/routers", "routers.create", "R"),
    (62, "GET /v1/routers/{id}", "routers.retrieve", "R"),
    (63, "PATCH /v1/routers/{id}", "routers.update", "R"),
    (64, "GET /v1/routers", "routers.list", "R"),
    (65, "DELETE /v1/routers/{id}", "routers.delete", "R"),
    (66, "GET /v1/routers/{id}/requests", "routers.list_requests", "R"),
]


def test_the_list_is_the_whole_index() -> None:
    assert [number for number, *_ in ENDPOINTS] == list(range(1, 67))
    assert len({route for _, route, _, _ in ENDPOINTS}) == 66


def _resolve(root: Any, call: str) -> Any:
    target = root
    for name in call.split("."):
        target = getattr(target, name)
    return target


@pytest.fixture(scope="module")
def clients() -> Any:
    async_client = AsyncRunway("key_coverage", base_url="http://127.0.0.1:9")
    sync_client = Runway("key_coverage", base_url="http://127.0.0.1:9")
    yield async_client, sync_client
    sync_client.close()
    # Never used, so nothing was opened: the async client owns no session to close.


@pytest.mark.parametrize(
    ("number", "route", "call", "kind"), ENDPOINTS, ids=[e[2] for e in ENDPOINTS]
)
def test_each_endpoint_has_its_method_on_both_clients(
    clients: Any, number: int, route: str, call: str, kind: str
) -> None:
    async_client, sync_client = clients
    async_method = _resolve(async_client, call)
    sync_method = _resolve(sync_client, call)
    assert callable(async_method), f"{route}: AsyncRunway has no {call}"
    assert callable(sync_method), f"{route}: Runway has no {call}"
    assert not inspect.iscoroutinefunction(sync_method), f"{call} of the sync client is async"
    if kind in ("T", "W"):
        # Creates take keyword arguments only, as in the official SDK.
        params = inspect.signature(async_method).parameters.values()
        assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params if p.name != "id"), (
            call
        )
