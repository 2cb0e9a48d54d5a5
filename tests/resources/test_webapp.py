"""``client.organization.webapp``: usage rows and audit logs, paged and filtered.

Against the emulator's seeded web-app history (a usage row every 6 hours and an audit
entry every 4 hours back from today's midnight, UTC); unknown fields and values against a
scripted loopback server.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from runway_async import (
    AsyncRunway,
    AuditLogEntry,
    AuditLogItem,
    BadRequestError,
    InvalidRequestError,
    NotFoundError,
    WebappUsageRow,
)
from runway_async.emulator import Emulator

from ..conftest import API_KEY, ScriptedServer, json_reply

UTC = dt.timezone.utc


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=3) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncRunway]:
    async with AsyncRunway(emu.api_key, base_url=emu.url) as runway:
        yield runway


def today() -> dt.date:
    return dt.datetime.now(UTC).date()


def newest_first(times: list[dt.datetime]) -> bool:
    return all(a > b for a, b in itertools.pairwise(times))


class TestUsage:
    async def test_three_pages_of_a_window(self, client: AsyncRunway) -> None:
        """Two days hold 8 rows (one per 6 hours): pages of 3, 3 and 2, newest first."""
        start = today() - dt.timedelta(days=2)
        usage = client.organization.webapp.list_usage(from_=start, to=today(), limit=3)
        first = await usage
        assert len(first.data) == 3
        second = await first.get_next_page()
        third = await second.get_next_page()
        assert [len(p.data) for p in (second, third)] == [3, 2]
        assert not third.has_next_page()
        rows = [row async for row in usage]
        assert rows == [*first.data, *second.data, *third.data]
        assert all(isinstance(row, WebappUsageRow) for row in rows)
        assert newest_first([row.timestamp for row in rows])
        window_start = dt.datetime.combine(start, dt.time(0), tzinfo=UTC)
        window_end = dt.datetime.combine(today(), dt.time(0), tzinfo=UTC)
        assert all(window_start <= row.timestamp < window_end for row in rows)

    async def test_datetimes_and_iso_strings_give_the_same_window(
        self, client: AsyncRunway
    ) -> None:
        end = dt.datetime.combine(today(), dt.time(0), tzinfo=UTC)
        start = end - dt.timedelta(days=1)
        webapp = client.organization.webapp
        by_objects = [r async for r in webapp.list_usage(from_=start, to=end, limit=100)]
        by_text = [
            r
            async for r in webapp.list_usage(
                from_=start.isoformat(), to=end.isoformat().replace("+00:00", "Z"), limit=100
            )
        ]
        assert by_objects == by_text
        assert len(by_objects) == 4

    async def test_workspace_filter_and_refunds(self, client: AsyncRunway) -> None:
        start = today() - dt.timedelta(days=10)
        webapp = client.organization.webapp
        rows = [
            r
            async for r in webapp.list_usage(
                from_=start, to=today(), limit=50, workspace_ids=["101"]
            )
        ]
        assert rows
        assert {r.workspace_id for r in rows} == {101}
        refunds = [r for r in rows if r.type == "refund"]
        assert refunds
        assert all(r.credits < 0 for r in refunds)
        assert all(r.credits > 0 for r in rows if r.type == "charge")

    async def test_an_inverted_window_is_refused(self, client: AsyncRunway) -> None:
        """Refused before sending or by the server's 400, naming ``to``; never an empty list."""
        with pytest.raises((InvalidRequestError, BadRequestError), match="to"):
            await client.organization.webapp.list_usage(
                from_=today(), to=today() - dt.timedelta(days=1), limit=5
            )


class TestAuditLogs:
    async def test_pages_and_action_filter(self, client: AsyncRunway) -> None:
        logs = client.organization.webapp.audit_logs
        logins = logs.list(limit=5, actions=["UserLogin"])
        first = await logins
        assert len(first.data) == 5
        entries = [e async for e in logins]
        assert len(entries) == 13  # one in 12 of the 150 seeded entries
        assert {e.action for e in entries} == {"UserLogin"}
        assert all(isinstance(e, AuditLogItem) for e in entries)
        assert newest_first([e.timestamp for e in entries])
        pages = [page async for page in first.iter_pages()]
        assert [len(p.data) for p in pages] == [5, 5, 3]

    async def test_actor_workspace_and_time_filters(self, client: AsyncRunway) -> None:
        logs = client.organization.webapp.audit_logs
        end = dt.datetime.combine(today(), dt.time(0), tzinfo=UTC)
        start = end - dt.timedelta(days=3)
        entries = [
            e
            async for e in logs.list(
                limit=100,
                actor_emails="ada@example.com",
                workspace_ids="202",
                from_=start,
                to=end,
            )
        ]
        assert entries
        assert {e.actor_email for e in entries} == {"ada@example.com"}
        assert {e.workspace_id for e in entries} == {202}
        assert all(start <= e.timestamp < end for e in entries)

    async def test_retrieve_has_details_and_verbatim_metadata(self, client: AsyncRunway) -> None:
        logs = client.organization.webapp.audit_logs
        (listed,) = (await logs.list(limit=1)).data
        entry = await logs.retrieve(listed.event_id)
        assert isinstance(entry, AuditLogEntry)
        assert (entry.event_id, entry.action, entry.timestamp, entry.workspace_id) == (
            listed.event_id,
            listed.action,
            listed.timestamp,
            listed.workspace_id,
        )
        assert entry.client_ip_address is not None
        assert entry.metadata["Workspace ID"] == listed.workspace_id
        assert entry.metadata["Workspace name"] == listed.workspace_name

    async def test_unknown_entries_and_bad_filters(self, client: AsyncRunway) -> None:
        logs = client.organization.webapp.audit_logs
        with pytest.raises(NotFoundError):
            await logs.retrieve("00000000-0000-0000-0000-000000000000")
        with pytest.raises(InvalidRequestError) as caught:
            await logs.list(limit=5, actions="NotAnAction")
        assert caught.value.field is not None
        assert caught.value.field.startswith("actions")


class TestWire:
    async def test_unknown_fields_and_values_are_kept(self, server: ScriptedServer) -> None:
        entry = {
            "eventId": "e1",
            "action": "BrandNewAction",
            "timestamp": "2025-01-01T00:00:00Z",
            "actorEmail": None,
            "actorUsername": None,
            "actorDeleted": True,
            "workspaceId": 7,
            "workspaceName": "W",
            "clientIpAddress": "203.0.113.9",
            "resourceType": "hologram",
            "metadata": {"Previous value": {"a": True}, "New value": None},
            "geo": "EU",
        }
        server.reply(json_reply(entry))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            got = await client.organization.webapp.audit_logs.retrieve(
                "e1", organization_id="org_1"
            )
        assert got.action == "BrandNewAction"
        assert got.resource_type == "hologram"
        assert got.metadata == {"Previous value": {"a": True}, "New value": None}
        assert got.extra == {"geo": "EU"}
        assert server.requests[0].path == (
            "/v1/organization/webapp/audit_logs/e1?organizationId=org_1"
        )

    async def test_the_filters_follow_the_cursor(self, server: ScriptedServer) -> None:
        row = {
            "timestamp": "2025-01-01T00:00:00Z",
            "credits": 5,
            "type": "charge",
            "tool": "Gen-4.5",
            "email": "a@example.com",
            "workspaceId": 1,
            "workspaceName": "W",
        }
        server.reply(
            json_reply({"data": [row], "nextCursor": "c2"}),
            json_reply({"data": [row], "nextCursor": ""}),
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            rows = [
                r
                async for r in client.organization.webapp.list_usage(
                    from_="2025-01-01", to="2025-02-01", limit=1, workspace_ids=["1", "2"]
                )
            ]
        assert len(rows) == 2  # an empty nextCursor ends the listing
        first, second = (r.path for r in server.requests)
        query = "from=2025-01-01&limit=1&to=2025-02-01&workspaceIds=1,2"
        assert first == "/v1/organization/webapp/usage?" + query
        assert second == first + "&cursor=c2"
