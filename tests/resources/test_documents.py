"""``client.documents`` through our async client.

Against the stateful emulator (CRUD, avatars using a document, sorted pagination) and a
scripted loopback server for the wire shape and unknown fields.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import runwayml

from runway_async import (
    AsyncRunway,
    Document,
    DocumentSummary,
    DocumentUser,
    InvalidRequestError,
    NotFoundError,
)
from runway_async.emulator import Emulator, EmulatorConfig

from ..conftest import API_KEY, ScriptedServer, json_reply

STAMP = "2025-01-01T00:00:00Z"


class TestCrud:
    """Create, retrieve, update, list and delete on the emulator."""

    async def test_create_retrieve_update_delete(self, client: AsyncRunway) -> None:
        """update() returns nothing; retrieve shows the change; delete makes it 404."""
        created = await client.documents.create(content="# Hours\n9 to 5.", name="Hours")
        assert isinstance(created, Document)
        assert (created.name, created.content, created.used_by) == ("Hours", "# Hours\n9 to 5.", ())
        assert await client.documents.retrieve(created.id) == created
        updated = await client.documents.update(created.id, content="8 to 6.")  # type: ignore[func-returns-value]
        assert updated is None
        changed = await client.documents.retrieve(created.id)
        assert (changed.name, changed.content) == ("Hours", "8 to 6.")
        assert changed.updated_at >= created.updated_at
        await client.documents.delete(created.id)
        with pytest.raises(NotFoundError):
            await client.documents.retrieve(created.id)
        with pytest.raises(NotFoundError):
            await client.documents.update(created.id, name="Ghost")

    async def test_used_by_lists_the_avatars(self, client: AsyncRunway) -> None:
        """A document attached to an avatar names it in used_by, in lists too."""
        document = await client.documents.create(content="FAQ", name="FAQ")
        avatar = await client.avatars.create(
            name="Ada",
            personality="Helpful.",
            reference_image="https://example.com/face.png",
            voice={"type": "runway-live-preset", "preset_id": "clara"},
            document_ids=[document.id],
        )
        got = await client.documents.retrieve(document.id)
        assert [(user.id, user.name) for user in got.used_by] == [(avatar.id, "Ada")]
        listed = await client.documents.list(limit=5, order="desc", sort="createdAt")
        assert [(user.id, user.name) for user in listed.data[0].used_by] == [(avatar.id, "Ada")]

    async def test_sorted_pages(self, client: AsyncRunway) -> None:
        """Five documents in three pages, in the order asked for; items have no content."""
        made = [(await client.documents.create(content="x", name=f"D{n}")).id for n in range(5)]
        first = await client.documents.list(limit=2, order="asc", sort="createdAt")
        second = await first.get_next_page()
        third = await second.get_next_page()
        assert not third.has_next_page()
        assert all(isinstance(d, DocumentSummary) for d in first.data)
        assert not hasattr(first.data[0], "content")
        assert [d.id for page in (first, second, third) for d in page.data] == made
        newest_first = client.documents.list(limit=2, order="desc", sort="createdAt")
        assert [d.id async for d in newest_first] == made[::-1]

    async def test_sort_by_update(self) -> None:
        """sort="updatedAt" puts the last changed document first (desc)."""
        ticks = itertools.count()

        def wall_clock() -> dt.datetime:  # a second passes between any two readings
            return dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
                seconds=next(ticks)
            )

        emulator = Emulator.from_config(EmulatorConfig(time_scale=0.002), wall_clock=wall_clock)
        async with emulator, AsyncRunway(API_KEY, base_url=emulator.url) as client:
            older = await client.documents.create(content="a", name="A")
            await client.documents.create(content="b", name="B")
            await client.documents.update(older.id, name="A2")
            by_update = await client.documents.list(limit=1, order="desc", sort="updatedAt")
            by_creation = await client.documents.list(limit=1, order="desc", sort="createdAt")
        assert [d.name for d in by_update.data] == ["A2"]
        assert [d.name for d in by_creation.data] == ["B"]


class TestValidation:
    """Invalid parameters are refused before anything is sent."""

    @pytest.mark.parametrize(
        ("params", "field"),
        [({"order": "up"}, "order"), ({"sort": "name"}, "sort"), ({"limit": "ten"}, "limit")],
    )
    async def test_bad_list(
        self, server: ScriptedServer, params: dict[str, Any], field: str
    ) -> None:
        """The error names the field; nothing is sent, even when iterating."""
        server.reply(json_reply({"data": []}))
        call: dict[str, Any] = {"limit": 2, "order": "asc", "sort": "createdAt", **params}
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(InvalidRequestError) as info:
                async for _ in client.documents.list(**call):
                    pass
        assert info.value.field == field
        assert server.requests == []

    async def test_update_needs_a_field(self, server: ScriptedServer) -> None:
        """An update that changes nothing is refused before sending."""
        server.reply(json_reply({}))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(InvalidRequestError):
                await client.documents.update("d1")
        assert server.requests == []


class TestWire:
    """What the scripted server says, and what was sent."""

    async def test_request_shape_and_unknown_fields(self, server: ScriptedServer) -> None:
        """The list query carries limit/order/sort and the cursor; new keys land in extra."""
        item = {
            "id": "d1",
            "name": "FAQ",
            "type": "pdf",
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "usedBy": [{"id": "av1", "name": "Ada", "imageUrl": None, "role": "primary"}],
            "tokens": 120,
        }
        server.reply(
            json_reply({"data": [item], "nextCursor": "c2"}),
            json_reply({"data": [], "nextCursor": None}),
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            items = [d async for d in client.documents.list(limit=1, order="asc", sort="updatedAt")]
        assert len(items) == 1
        assert items[0].type == "pdf"
        assert items[0].extra == {"tokens": 120}
        assert items[0].used_by == (DocumentUser(id="av1", name="Ada", extra={"role": "primary"}),)
        queries = [r.path.partition("?")[2] for r in server.requests]
        assert "cursor" not in queries[0]
        assert "cursor=c2" in queries[1]
        assert all("order=asc" in q and "sort=updatedAt" in q for q in queries)


class TestOfficialSdk:
    """The official SDK reads what ours writes."""

    async def test_our_create_official_update(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """A document we create, the official SDK updates; we read the change."""
        created = await client.documents.create(content="v1", name="Notes")
        async with runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emulator.url) as official:
            await official.documents.update(created.id, content="v2")
        assert (await client.documents.retrieve(created.id)).content == "v2"
