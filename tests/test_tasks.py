"""Tasks, waiting for output, and organization calls against a loopback server."""

from __future__ import annotations

import datetime as dt

import pytest

from runway_async import (
    AsyncRunway,
    FailedTask,
    InvalidRequestError,
    NotFoundError,
    RunningTask,
    SucceededTask,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    UnknownTask,
)

from .conftest import API_KEY, ScriptedServer, drop_connection, json_reply

CREATED = "2025-01-01T00:00:00Z"


def task(status: str, **fields: object) -> dict[str, object]:
    return {"id": "t1", "status": status, "createdAt": CREATED, **fields}


RUNNING = task("RUNNING", estimatedCost={"credits": 50}, progress=0.5)
SUCCEEDED = task("SUCCEEDED", cost={"credits": 50}, output=["https://cdn.example/out.mp4"])
FAILED = task(
    "FAILED", cost={"credits": 0}, failure="Input rejected", failureCode="SAFETY.INPUT.TEXT"
)


class TestRetrieveDelete:
    """GET and DELETE /v1/tasks/{id}."""

    async def test_retrieve_parses_by_status(self, server: ScriptedServer) -> None:
        """Retrieve returns the class of the task's status."""
        server.reply(json_reply(RUNNING))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            got = await client.tasks.retrieve("t1")
        assert isinstance(got, RunningTask)
        assert got.progress == 0.5
        assert server.requests[0].path == "/v1/tasks/t1"

    async def test_task_ids_are_escaped(self, server: ScriptedServer) -> None:
        """An id cannot smuggle a path or query into the URL."""
        server.reply(json_reply({}, status=404))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(NotFoundError):
                await client.tasks.retrieve("../organization?x=1")
        path = server.requests[0].path
        assert path.startswith("/v1/tasks/..%2Forganization%3Fx")
        assert "?" not in path

    async def test_delete_sends_delete(self, server: ScriptedServer) -> None:
        """Delete sends DELETE and returns None on an empty reply."""
        from aiohttp import web

        async def no_content(_request: web.Request) -> web.StreamResponse:
            return web.Response(status=204)

        server.reply(no_content)
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            assert await client.tasks.delete("t1") is None
        assert server.requests[0].method == "DELETE"

    async def test_unknown_status_is_tolerated(self, server: ScriptedServer) -> None:
        """A status the SDK does not know yet parses as UnknownTask."""
        server.reply(json_reply(task("ARCHIVED", somethingNew=1)))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            got = await client.tasks.retrieve("t1")
        assert isinstance(got, UnknownTask)
        assert got.status == "ARCHIVED"


class TestWait:
    """wait_for_task_output and tasks.wait."""

    async def test_waits_until_succeeded(self, server: ScriptedServer) -> None:
        """Polling continues through non-terminal states and returns the SUCCEEDED task."""
        server.reply(json_reply(task("PENDING")), json_reply(RUNNING), json_reply(SUCCEEDED))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            done = await client.tasks.wait("t1", timeout=30)
        assert isinstance(done, SucceededTask)
        assert done.output == ("https://cdn.example/out.mp4",)
        assert len(server.requests) == 3

    async def test_retrieved_task_can_wait(self, server: ScriptedServer) -> None:
        """A task from tasks.retrieve offers wait_for_task_output, like the official SDK."""
        server.reply(json_reply(RUNNING), json_reply(SUCCEEDED))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            running = await client.tasks.retrieve("t1")
            done = await running.wait_for_task_output(timeout=30)
        assert isinstance(done, SucceededTask)

    async def test_failed_task_raises(self, server: ScriptedServer) -> None:
        """A FAILED task raises TaskFailedError with failure, code and task details."""
        server.reply(json_reply(FAILED))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(TaskFailedError) as info:
                await client.tasks.wait("t1")
        assert info.value.failure_code == "SAFETY.INPUT.TEXT"
        assert info.value.failure == "Input rejected"
        assert isinstance(info.value.task_details, FailedTask)
        assert "SAFETY.INPUT.TEXT" in str(info.value)

    async def test_cancelled_task_raises(self, server: ScriptedServer) -> None:
        """A CANCELLED task raises TaskCancelledError, which is also a TaskFailedError."""
        server.reply(json_reply(task("CANCELLED", cost={"credits": 0})))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(TaskCancelledError) as info:
                await client.tasks.wait("t1")
        assert isinstance(info.value, TaskFailedError)

    async def test_timeout_carries_last_task(self, server: ScriptedServer) -> None:
        """Past the deadline, TaskTimeoutError carries the last task seen."""
        server.reply(json_reply(RUNNING))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(TaskTimeoutError) as info:
                await client.tasks.wait("t1", timeout=0.05)
        assert isinstance(info.value.task_details, RunningTask)
        assert isinstance(info.value, TimeoutError)

    async def test_retryable_poll_errors_do_not_end_the_wait(self, server: ScriptedServer) -> None:
        """Dropped connections and 5xx during polling are ridden out."""
        server.reply(
            drop_connection(),
            drop_connection(),
            drop_connection(),
            json_reply({"error": "x"}, status=503),
            json_reply({"error": "x"}, status=503),
            json_reply({"error": "x"}, status=503),
            json_reply(SUCCEEDED),
        )
        async with AsyncRunway(API_KEY, base_url=server.url, max_retries=0) as client:
            done = await client.tasks.wait("t1", timeout=30)
        assert isinstance(done, SucceededTask)
        assert len(server.requests) == 7

    async def test_not_found_ends_the_wait(self, server: ScriptedServer) -> None:
        """A 404 (deleted task) ends the wait with NotFoundError."""
        server.reply(json_reply({"error": "not found"}, status=404))
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            with pytest.raises(NotFoundError):
                await client.tasks.wait("t1", timeout=30)


class TestOrganization:
    """GET /v1/organization and POST /v1/organization/usage."""

    async def test_retrieve(self, server: ScriptedServer) -> None:
        """Limits parse with None meaning unlimited."""
        server.reply(
            json_reply(
                {
                    "creditBalance": 1000,
                    "tier": {
                        "maxMonthlyCreditSpend": 20000,
                        "models": {
                            "gen4.5": {"maxConcurrentGenerations": 5, "maxDailyGenerations": 50},
                            "veo3.1": {"maxConcurrentGenerations": None},
                        },
                    },
                    "usage": {"models": {"gen4.5": {"dailyGenerations": 3}}},
                }
            )
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            org = await client.organization.retrieve()
        assert org.credit_balance == 1000
        assert org.tier.models["gen4.5"].max_concurrent_generations == 5
        assert org.tier.models["veo3.1"].max_concurrent_generations is None
        assert org.usage.models["gen4.5"].daily_generations == 3

    async def test_retrieve_usage_sends_dates(self, server: ScriptedServer) -> None:
        """Dates are sent as YYYY-MM-DD camelCase keys and the report parses."""
        server.reply(
            json_reply(
                {
                    "models": ["gen4.5"],
                    "results": [
                        {"date": "2025-01-01", "usedCredits": [{"model": "gen4.5", "amount": 40}]}
                    ],
                }
            )
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            usage = await client.organization.retrieve_usage(
                start_date=dt.date(2025, 1, 1), before_date="2025-01-31"
            )
        assert server.requests[0].json() == {"startDate": "2025-01-01", "beforeDate": "2025-01-31"}
        assert usage.results[0].used_credits[0].amount == 40

    @pytest.mark.parametrize(
        ("start", "before"),
        [("2025-13-01", None), ("2025-01-01", "2025-06-01"), ("2025-02-01", "2025-01-01")],
    )
    async def test_retrieve_usage_validates_dates(self, start: str, before: str | None) -> None:
        """Bad dates and ranges over 90 days fail before sending."""
        async with AsyncRunway(API_KEY, base_url="http://127.0.0.1:9") as client:
            with pytest.raises(InvalidRequestError):
                await client.organization.retrieve_usage(start_date=start, before_date=before)

    async def test_usage_report_is_retried(self, server: ScriptedServer) -> None:
        """The usage report is a read, so it is retried even though it is a POST."""
        server.reply(
            json_reply({"error": "x"}, status=500), json_reply({"models": [], "results": []})
        )
        async with AsyncRunway(API_KEY, base_url=server.url) as client:
            usage = await client.organization.retrieve_usage()
        assert usage.results == ()
        assert len(server.requests) == 2
