"""Model Routers through our async client: CRUD, settings merge, pagination, routing history.

Against the stateful emulator; the wire details (unknown fields, unknown pipeline stages, the
explicit null that clears a description) against a scripted loopback server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from runway_async import (
    AsyncRunway,
    CapacityStep,
    ConflictError,
    FilterStep,
    InvalidRequestError,
    NotFoundError,
    PollConfig,
    RankStep,
    ResponseValidationError,
    Router,
    RoutingRequest,
    UnknownRoutingStep,
)
from runway_async.emulator import Emulator

from ..conftest import API_KEY, ScriptedServer, json_reply

CREATED = "2025-01-01T00:00:00Z"


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=0.002, seed=2) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncRunway]:
    poll = PollConfig(interval=0.01, requests_per_second=5000)
    async with AsyncRunway(emu.api_key, base_url=emu.url, poll=poll) as runway:
        yield runway


class TestCrud:
    async def test_create_retrieve_delete(self, client: AsyncRunway) -> None:
        created = await client.routers.create(slug="production-video", description="Main")
        assert isinstance(created, Router)
        assert (created.slug, created.name, created.description) == (
            "production-video",
            "production-video",  # the name defaults to the slug
            "Main",
        )
        assert created.version == 1
        assert created.settings.schema_version == 1
        assert await client.routers.retrieve(created.id) == created
        await client.routers.delete(created.id)
        with pytest.raises(NotFoundError):
            await client.routers.retrieve(created.id)
        with pytest.raises(NotFoundError):
            await client.routers.delete(created.id)

    async def test_settings_go_nested_and_come_back_typed(self, client: AsyncRunway) -> None:
        created = await client.routers.create(
            slug="cheap",
            name="Cheap video",
            settings={
                "optimize_for": "latency",
                "models": {"ids": ["gen4.5", "veo3.1"], "mode": "allowlist_only"},
                "max_credits_per_generation": {"video": 100, "image": 10},
                "fallback": {"on_capacity": True},
            },
        )
        settings = created.settings
        assert settings.optimize_for == "latency"
        assert settings.models is not None
        assert settings.models.ids == ("gen4.5", "veo3.1")
        assert settings.models.mode == "allowlist_only"
        assert settings.max_credits_per_generation is not None
        assert settings.max_credits_per_generation.video == 100
        assert settings.max_credits_per_generation.image == 10
        assert settings.fallback is not None
        assert settings.fallback.on_capacity is True

    async def test_update_merges_settings_and_versions_only_settings(
        self, client: AsyncRunway
    ) -> None:
        router = await client.routers.create(
            slug="merge",
            description="Before",
            settings={
                "models": {"ids": ["gen4.5"], "mode": "allowlist_only"},
                "max_credits_per_generation": {"video": 100, "image": 10},
            },
        )
        renamed = await client.routers.update(router.id, name="Renamed", description="After")
        assert (renamed.name, renamed.description, renamed.version) == ("Renamed", "After", 1)
        assert renamed.slug == "merge"

        tuned = await client.routers.update(router.id, settings={"optimize_for": "quality"})
        assert tuned.version == 2
        assert tuned.settings.optimize_for == "quality"
        assert tuned.settings.models == router.settings.models  # kept by the merge
        assert tuned.settings.max_credits_per_generation == (
            router.settings.max_credits_per_generation
        )

        uncapped = await client.routers.update(
            router.id, settings={"max_credits_per_generation": {"video": None}}
        )
        assert uncapped.version == 3
        caps = uncapped.settings.max_credits_per_generation
        assert caps is not None
        assert (caps.video, caps.image) == (None, 10)

        cleared = await client.routers.update(router.id, description=None)
        assert cleared.description is None
        assert cleared.version == 3
        assert cleared.name == "Renamed"  # left out: unchanged

    async def test_unknown_ids_and_bad_settings(self, client: AsyncRunway) -> None:
        with pytest.raises(NotFoundError):
            await client.routers.retrieve("00000000-0000-0000-0000-000000000000")
        with pytest.raises(NotFoundError):
            await client.routers.update("00000000-0000-0000-0000-000000000000", name="x")
        with pytest.raises(InvalidRequestError) as caught:
            await client.routers.create(slug="bad", settings={"optimize_for": "speed"})
        assert caught.value.field is not None
        assert "optimize_for" in caught.value.field
        await client.routers.create(slug="taken")
        with pytest.raises(ConflictError):  # a slug is unique in the project
            await client.routers.create(slug="taken")


class TestLists:
    async def test_three_pages_awaited_and_iterated(self, client: AsyncRunway) -> None:
        made = [(await client.routers.create(slug=f"router-{n}")).id for n in range(7)]
        first = await client.routers.list(limit=3)
        assert len(first.data) == 3
        assert first.has_next_page()
        second = await first.get_next_page()
        assert len(second.data) == 3
        third = await second.get_next_page()
        assert len(third.data) == 1
        assert not third.has_next_page()
        paged = [r.id for page in (first, second, third) for r in page.data]
        assert sorted(paged) == sorted(made)
        iterated = [router.id async for router in client.routers.list(limit=3)]
        assert iterated == paged
        pages = [page async for page in first.iter_pages()]
        assert len(pages) == 3

    async def test_list_starts_at_a_cursor(self, client: AsyncRunway) -> None:
        for n in range(4):
            await client.routers.create(slug=f"c-{n}")
        first = await client.routers.list(limit=2)
        assert first.next_cursor is not None
        resumed = await client.routers.list(limit=2, cursor=first.next_cursor)
        assert {r.id for r in resumed.data}.isdisjoint({r.id for r in first.data})

    async def test_an_invalid_limit_is_refused_before_sending(self, client: AsyncRunway) -> None:
        with pytest.raises(InvalidRequestError) as caught:
            await client.routers.list(limit=0)
        assert caught.value.field == "limit"

    async def test_list_requests_records_generate_calls(self, client: AsyncRunway) -> None:
        router = await client.routers.create(slug="gen-router")
        handles = [
            await client.generate.video.create(
                config_id="gen-router", input={"prompt_text": f"waves {n}"}
            )
            for n in range(3)
        ]
        first = await client.routers.list_requests(router.id, limit=1)
        assert len(first.data) == 1
        records = [r async for r in client.routers.list_requests(router.id, limit=1)]
        assert len(records) == 3
        assert all(isinstance(r, RoutingRequest) for r in records)
        assert {r.task_id for r in records} == {h.id for h in handles}
        assert {r.status for r in records} == {"routed"}
        assert all(r.model for r in records)
        with pytest.raises(NotFoundError):
            await client.routers.list_requests("00000000-0000-0000-0000-000000000000", limit=5)


class TestWire:
    """What the emulator cannot be made to say, from a scripted server."""

    @staticmethod
    def router(**extra: Any) -> dict[str, Any]:
        return {
            "id": "r1",
            "slug": "s",
            "name": "s",
            "description": None,
            "createdAt": CREATED,
            "updatedAt": CREATED,
            "version": 1,
            "settings": {"schemaVersion": 1, "optimizeFor": "vibes", "newSetting": 1},
            **extra,
        }

    async def test_unknown_fields_and_enum_values_are_kept(self, server: ScriptedServer) -> None:
        server.reply(json_reply(self.router(owner="me")))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            got = await client.routers.retrieve("r1")
        assert got.extra == {"owner": "me"}
        assert got.settings.optimize_for == "vibes"
        assert got.settings.extra == {"newSetting": 1}

    async def test_description_none_is_sent_as_null(self, server: ScriptedServer) -> None:
        server.reply(json_reply(self.router()))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            await client.routers.update("r1", description=None)
            await client.routers.update("r1", name="n")
        cleared, renamed = server.requests
        assert cleared.method == "PATCH"
        assert cleared.json() == {"description": None}
        assert renamed.json() == {"name": "n"}  # a description left out is not sent

    async def test_pipeline_stages_are_typed_and_unknown_ones_kept(
        self, server: ScriptedServer
    ) -> None:
        item = {
            "id": "q1",
            "requestId": "req",
            "createdAt": CREATED,
            "status": "routed",
            "model": "gen4.5",
            "provider": "runway",
            "taskId": "t1",
            "estimatedCredits": 12.5,
            "reason": "cheapest",
            "reasonCode": "lowest_cost",
            "emptiedBy": [],
            "pipeline": [
                {"type": "filter", "filter": "price", "models": ["gen4.5"]},
                {"type": "capacity", "skipped": [], "allExhausted": False},
                {"type": "rank", "outcome": "cost"},
                {"type": "audit", "note": "new"},
            ],
        }
        server.reply(json_reply({"data": [item], "nextCursor": None}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            page = await client.routers.list_requests("r1", limit=10)
        (record,) = page.data
        assert [type(step) for step in record.pipeline] == [
            FilterStep,
            CapacityStep,
            RankStep,
            UnknownRoutingStep,
        ]
        unknown = record.pipeline[3]
        assert isinstance(unknown, UnknownRoutingStep)
        assert unknown.extra == {"note": "new"}
        assert record.estimated_credits == 12.5
        assert not page.has_next_page()
        assert server.requests[0].path == "/v1/routers/r1/requests?limit=10"

    async def test_a_reply_that_is_not_a_page_is_refused(self, server: ScriptedServer) -> None:
        server.reply(json_reply([{"id": "r1"}]))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(ResponseValidationError) as caught:
                await client.routers.list(limit=5)
        assert caught.value.body == [{"id": "r1"}]

    async def test_a_cursor_that_is_not_a_string_is_refused(self, server: ScriptedServer) -> None:
        server.reply(json_reply({"data": [], "nextCursor": 5}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(ResponseValidationError, match=r"\$\.nextCursor"):
                await client.routers.list(limit=5)

    async def test_a_bad_item_names_its_path(self, server: ScriptedServer) -> None:
        reply = {"data": [self.router(version="two")], "nextCursor": None}
        server.reply(json_reply(reply))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(ResponseValidationError, match=r"\$\.data\[0\]\.version"):
                await client.routers.list(limit=5)
