"""Every endpoint beyond the task creates, through four clients, on the stateful emulator.

One scenario (uploads, documents, voices, avatars, realtime sessions and their
conversations, routers, workflows and their invocations, the web-app reports) is written
once as a list of calls with the official SDK's names and keywords, and run by our async
client, our sync client, the official async client and the official sync client, each on an
emulator of its own. Afterwards the emulator's request counts must show a successful reply
on every one of the 37 plain routes and the upload's storage POST: a route no client reached
fails the test, so coverage cannot silently shrink.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import runwayml

from runway_async import AsyncRunway, PollConfig, Runway
from runway_async._spec import PLAIN_ENDPOINTS
from runway_async.emulator import Emulator

from .conftest import TIME_SCALE

# A 1x1 PNG, uploaded and used as an avatar's image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)
PROMPT = "A warm, calm narrator with a slight rasp and an even pace."

Context = dict[str, Any]
# (the call as on the client, its keyword arguments from what earlier steps returned, where
# to keep its result)
Step = tuple[str, Callable[[Context], dict[str, Any]], str | None]


def _first(page: Any) -> Any:
    return page.data[0]


STEPS: list[Step] = [
    ("uploads.create_ephemeral", lambda c: {"file": c["png"]}, "upload"),
    ("documents.create", lambda c: {"name": "Menu", "content": "Soup of the day."}, "doc"),
    ("documents.retrieve", lambda c: {"id": c["doc"].id}, None),
    ("documents.update", lambda c: {"id": c["doc"].id, "name": "Lunch menu"}, None),
    ("documents.list", lambda c: {"limit": 5, "sort": "createdAt", "order": "asc"}, "docs"),
    ("voices.preview", lambda c: {"model": "eleven_ttv_v3", "prompt": PROMPT}, None),
    (
        "voices.create",
        lambda c: {
            "name": "Narrator",
            "from_": {"type": "text", "model": "eleven_ttv_v3", "prompt": PROMPT},
        },
        "voice",
    ),
    ("voices.retrieve", lambda c: {"id": c["voice"].id}, None),
    ("voices.update", lambda c: {"id": c["voice"].id, "name": "Storyteller"}, None),
    ("voices.list", lambda c: {"limit": 5}, None),
    (
        "avatars.create",
        lambda c: {
            "name": "Guide",
            "personality": "Friendly and brief.",
            "reference_image": c["upload"].uri,
            "voice": {"type": "runway-live-preset", "preset_id": "victoria"},
            "document_ids": [c["doc"].id],
        },
        "avatar",
    ),
    ("avatars.retrieve", lambda c: {"id": c["avatar"].id}, None),
    ("avatars.update", lambda c: {"id": c["avatar"].id, "name": "Tour guide"}, None),
    ("avatars.list", lambda c: {"limit": 5}, None),
    (
        "avatars.get_usage",
        lambda c: {"start_date": "2026-11-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"},
        None,
    ),
    (
        "realtime_sessions.create",
        lambda c: {
            "model": "gwm1_avatars",
            "avatar": {"type": "runway-preset", "preset_id": "cooking-teacher"},
        },
        "session",
    ),
    ("realtime_sessions.retrieve", lambda c: {"id": c["session"].id}, None),
    ("avatar_conversations.list", lambda c: {"limit": 5}, None),
    ("avatar_conversations.retrieve", lambda c: {"id": c["session"].id}, None),
    ("realtime_sessions.delete", lambda c: {"id": c["session"].id}, None),
    ("avatar_conversations.delete", lambda c: {"id": c["session"].id}, None),
    ("routers.create", lambda c: {"slug": "cheap-video", "name": "Cheap video"}, "router"),
    ("routers.retrieve", lambda c: {"id": c["router"].id}, None),
    (
        "routers.update",
        lambda c: {"id": c["router"].id, "settings": {"optimize_for": "latency"}},
        None,
    ),
    ("routers.list", lambda c: {"limit": 5}, None),
    ("routers.list_requests", lambda c: {"id": c["router"].id, "limit": 5}, None),
    ("workflows.list", lambda c: {}, None),
    ("workflows.retrieve", lambda c: {"id": c["workflow_id"]}, None),
    ("workflows.run", lambda c: {"id": c["workflow_id"]}, "run"),
    ("workflow_invocations.retrieve", lambda c: {"id": c["run"].id}, None),
    (
        "organization.webapp.list_usage",
        lambda c: {"from_": "2026-11-01", "to": "2026-12-01", "limit": 5},
        None,
    ),
    ("organization.webapp.audit_logs.list", lambda c: {"limit": 5}, "logs"),
    (
        "organization.webapp.audit_logs.retrieve",
        lambda c: {"event_id": _first(c["logs"]).event_id},
        None,
    ),
    ("avatars.delete", lambda c: {"id": c["avatar"].id}, None),
    ("voices.delete", lambda c: {"id": c["voice"].id}, None),
    ("documents.delete", lambda c: {"id": c["doc"].id}, None),
    ("routers.delete", lambda c: {"id": c["router"].id}, None),
]


def _method(client: Any, call: str) -> Any:
    target = client
    for name in call.split("."):
        target = getattr(target, name)
    return target


def _context(emu: Emulator, key: str, tmp_path: Path) -> Context:
    png = tmp_path / "guide.png"
    png.write_bytes(PNG)
    return {"png": png, "workflow_id": emu.add_workflow("menu", api_key=key)}


def _check_every_route_answered(emu: Emulator) -> None:
    requests = emu.metrics()["requests"]
    ok = {route for route, statuses in requests.items() if any(s < "300" for s in statuses)}
    expected = {f"{spec.method} {spec.path}" for spec in PLAIN_ENDPOINTS.values()}
    assert len(expected) == 37
    missing = sorted(expected - ok)
    assert not missing, f"never answered with success: {missing}"
    # The storage POST (not counted among API requests): the file arrived whole.
    with urllib.request.urlopen(f"{emu.url}/_emulator/uploads") as reply:  # noqa: S310 - loopback
        [upload] = json.load(reply)["uploads"]
    assert upload["uploaded"]
    assert upload["sha256"] == hashlib.sha256(PNG).hexdigest()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(time_scale=TIME_SCALE, seed=8).in_thread() as emulator:
        yield emulator


def run_sync(client: Any, context: Context) -> None:
    for call, arguments, keep in STEPS:
        result = _method(client, call)(**arguments(context))
        if keep is not None:
            context[keep] = result


async def run_async(client: Any, context: Context) -> None:
    for call, arguments, keep in STEPS:
        result = _method(client, call)(**arguments(context))
        if inspect.isawaitable(result):  # a list() gives a paginator: await its first page
            result = await result
        if keep is not None:
            context[keep] = result


def test_our_sync_client(emu: Emulator, tmp_path: Path) -> None:
    key = "key_sync_everything"
    with Runway(key, base_url=emu.url, poll=PollConfig(interval=0.005)) as client:
        run_sync(client, _context(emu, key, tmp_path))
    _check_every_route_answered(emu)


def test_the_official_sync_client(emu: Emulator, tmp_path: Path) -> None:
    key = "key_official_sync_everything"
    with runwayml.RunwayML(api_key=key, base_url=emu.url) as client:
        run_sync(client, _context(emu, key, tmp_path))
    _check_every_route_answered(emu)


async def test_our_async_client(emu: Emulator, tmp_path: Path) -> None:
    key = "key_async_everything"
    async with AsyncRunway(key, base_url=emu.url, poll=PollConfig(interval=0.005)) as client:
        await run_async(client, _context(emu, key, tmp_path))
    _check_every_route_answered(emu)


async def test_the_official_async_client(emu: Emulator, tmp_path: Path) -> None:
    key = "key_official_async_everything"
    async with runwayml.AsyncRunwayML(api_key=key, base_url=emu.url) as client:
        await run_async(client, _context(emu, key, tmp_path))
    _check_every_route_answered(emu)
