"""The emulator's workflows, invocations, routers and web-app reports, driven by the official SDK.

Lifecycle tests step simulated time by hand (``FakeClock``), so what a poll sees is exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from runway_async.emulator import Emulator, EmulatorConfig

from ..conftest import API_KEY
from .conftest import HEADERS, FakeClock

runwayml = pytest.importorskip("runwayml")

OTHER_KEY = "key_" + "cd" * 64
PROMPT = {"prompt": {"text": {"type": "primitive", "value": "a red fox"}}}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _config(**changes: Any) -> EmulatorConfig:
    settings: dict[str, Any] = {"jitter": 0.0, "pending_seconds": 1.0, "seed": 11}
    return EmulatorConfig(**{**settings, **changes})


@pytest_asyncio.fixture
async def emu(clock: FakeClock) -> AsyncIterator[Emulator]:
    """Start a stateful emulator whose simulated time moves only when the test ticks."""
    async with Emulator.from_config(_config(), clock=clock) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def sdk(emu: Emulator) -> AsyncIterator[Any]:
    async with runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as c:
        yield c


@pytest_asyncio.fixture
async def other(emu: Emulator) -> AsyncIterator[Any]:
    """Return the official client with another API key."""
    async with runwayml.AsyncRunwayML(api_key=OTHER_KEY, base_url=emu.url, max_retries=0) as c:
        yield c


async def _download(http: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    async with http.get(url) as response:
        return response.status, response.content_type, await response.read()


class TestWorkflows:
    async def test_publish_list_and_retrieve(self, emu: Emulator, sdk: Any) -> None:
        """Versions group under their name, newest first; retrieve answers one version."""
        first = emu.add_workflow("poster", description="v1", inputs=PROMPT)
        second = emu.add_workflow("poster", description="v2", nodes={"a": "video"})
        other = emu.add_workflow("jingle", nodes={"song": "audio"})
        listed = await sdk.workflows.list()
        assert [w.name for w in listed.data] == ["jingle", "poster"]
        poster = listed.data[1]
        assert [(v.id, v.version) for v in poster.versions] == [(second, 2), (first, 1)]
        assert listed.data[0].versions[0].id == other
        got = await sdk.workflows.retrieve(first)
        assert (got.id, got.name, got.version, got.description) == (first, "poster", 1, "v1")
        ids = {node["id"] for node in got.graph.nodes}
        assert ids == {"prompt", "output"}
        assert got.graph.edges == [{"id": "prompt->output", "source": "prompt", "target": "output"}]

    async def test_custom_graph_is_served(self, emu: Emulator, sdk: Any) -> None:
        graph = {"version": 3, "nodes": [{"id": "n1", "name": "Upscale"}], "edges": []}
        wid = emu.add_workflow("custom", nodes={"n1": "image"}, graph=graph)
        got = await sdk.workflows.retrieve(wid)
        assert (got.graph.version, got.graph.nodes, got.graph.edges) == (3, graph["nodes"], [])

    async def test_run_to_success_with_partial_then_full_outputs(
        self, emu: Emulator, sdk: Any, clock: FakeClock, http: aiohttp.ClientSession
    ) -> None:
        """PENDING, RUNNING with the finished node's files, then SUCCEEDED with every file."""
        wid = emu.add_workflow(
            "trailer",
            nodes={"still": "image", "clip": ["video", "audio"]},
            inputs=PROMPT,
            duration=10.0,
            credits=42,
        )
        run = await sdk.workflows.run(
            wid, node_outputs={"prompt": {"text": {"type": "primitive", "value": "an owl"}}}
        )
        pending = await sdk.workflow_invocations.retrieve(run.id)
        assert pending.status == "PENDING"
        clock.tick(1.0 + 3.0)  # pending, then 30 % of the run
        running = await sdk.workflow_invocations.retrieve(run.id)
        assert running.status == "RUNNING"
        assert running.progress == pytest.approx(0.3)
        assert running.output == {}
        clock.tick(3.0)  # 60 %: the first of two nodes is done
        running = await sdk.workflow_invocations.retrieve(run.id)
        assert list(running.output) == ["still"]
        status, kind, data = await _download(http, running.output["still"][0])
        assert (status, kind, data[:8]) == (200, "image/png", b"\x89PNG\r\n\x1a\n")
        not_yet = running.output["still"][0].replace("/0.png", "/1.mp4")
        assert (await _download(http, not_yet))[0] == 404
        clock.tick(4.0)
        done = await sdk.workflow_invocations.retrieve(run.id)
        assert done.status == "SUCCEEDED"
        assert done.cost is not None
        assert done.cost.credits == 42
        assert done.node_errors is None
        assert set(done.output) == {"still", "clip"}
        clip = done.output["clip"]
        assert [u.rsplit(".", 1)[1] for u in clip] == ["mp4", "wav"]
        for url, media in zip(clip, ("video/mp4", "audio/wav"), strict=True):
            status, kind, _ = await _download(http, url)
            assert (status, kind) == (200, media)

    async def test_failing_workflow(self, emu: Emulator, sdk: Any, clock: FakeClock) -> None:
        wid = emu.add_workflow(
            "doomed",
            nodes={"first": "image", "last": "video"},
            fail="SAFETY.OUTPUT.VIDEO",
            duration=2.0,
        )
        run = await sdk.workflows.run(wid)
        clock.tick(10.0)
        failed = await sdk.workflow_invocations.retrieve(run.id)
        assert failed.status == "FAILED"
        assert failed.failure_code == "SAFETY.OUTPUT.VIDEO"
        assert failed.failure
        assert set(failed.node_errors) == {"last"}
        assert failed.node_errors["last"].failure_code == "SAFETY.OUTPUT.VIDEO"
        assert failed.node_errors["last"].node_name == "Node last"
        assert failed.cost is not None  # moderated: charged like a success
        assert failed.cost.credits == 10

    async def test_node_errors_on_a_succeeded_invocation(
        self, emu: Emulator, sdk: Any, clock: FakeClock
    ) -> None:
        wid = emu.add_workflow(
            "partial",
            nodes={"ok": "image", "broken": "image"},
            node_errors={"broken": "INTERNAL.BAD_OUTPUT.CODE01"},
            duration=2.0,
        )
        run = await sdk.workflows.run(wid)
        clock.tick(10.0)
        done = await sdk.workflow_invocations.retrieve(run.id)
        assert done.status == "SUCCEEDED"
        assert list(done.output) == ["ok"]
        assert done.node_errors["broken"].failure_code == "INTERNAL.BAD_OUTPUT.CODE01"

    async def test_throttled_over_the_workflow_limit(self, clock: FakeClock) -> None:
        """Invocations share the pseudo-model "workflow" lane: one runs, the next waits."""
        emu = Emulator.from_config(_config(concurrency={"workflow": 1}), clock=clock)
        async with (
            emu,
            runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as sdk,
        ):
            wid = emu.add_workflow("queue", duration=5.0)
            first = await sdk.workflows.run(wid)
            second = await sdk.workflows.run(wid)
            statuses = [
                (await sdk.workflow_invocations.retrieve(i)).status for i in (first.id, second.id)
            ]
            assert statuses == ["PENDING", "THROTTLED"]
            clock.tick(6.0)  # the first ends at 6 s; the second is admitted then
            statuses = [
                (await sdk.workflow_invocations.retrieve(i)).status for i in (first.id, second.id)
            ]
            assert statuses == ["SUCCEEDED", "PENDING"]
            clock.tick(6.0)
            assert (await sdk.workflow_invocations.retrieve(second.id)).status == "SUCCEEDED"
            assert emu.metrics()["throttled_seconds"]["models"]["workflow"] == 6.0

    async def test_daily_limit_answers_429(self, clock: FakeClock) -> None:
        emu = Emulator.from_config(_config(daily_limit={"workflow": 1}), clock=clock)
        async with (
            emu,
            runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as sdk,
        ):
            wid = emu.add_workflow("once")
            await sdk.workflows.run(wid)
            with pytest.raises(runwayml.RateLimitError):
                await sdk.workflows.run(wid)

    async def test_injected_fault_hits_the_run(self, emu: Emulator, sdk: Any) -> None:
        wid = emu.add_workflow("flaky")
        emu.faults.inject("error_before", route="workflows.run")
        with pytest.raises(runwayml.InternalServerError):
            await sdk.workflows.run(wid)
        assert (await sdk.workflows.run(wid)).id

    @pytest.mark.parametrize(
        ("node_outputs", "field"),
        [
            ({"prompt": {"text": {"type": "number", "value": 1}}}, "nodeOutputs.prompt.text.type"),
            ({"prompt": {"text": {"type": "image"}}}, "nodeOutputs.prompt.text.uri"),
            (
                {"prompt": {"text": {"type": "video", "uri": "ftp://x"}}},
                "nodeOutputs.prompt.text.uri",
            ),
            (
                {"prompt": {"text": {"type": "primitive", "value": [1]}}},
                "nodeOutputs.prompt.text.value",
            ),
            ({"prompt": {"text": "a fox"}}, "nodeOutputs.prompt.text"),
            ({"nowhere": {"text": {"type": "primitive", "value": "x"}}}, "nodeOutputs.nowhere"),
        ],
    )
    async def test_bad_node_outputs_are_400_naming_the_field(
        self, emu: Emulator, sdk: Any, node_outputs: Any, field: str
    ) -> None:
        wid = emu.add_workflow("strict", inputs=PROMPT)
        with pytest.raises(runwayml.BadRequestError) as caught:
            await sdk.workflows.run(wid, node_outputs=node_outputs)
        assert field in caught.value.body["error"]
        assert emu.metrics()["tasks_created_total"] == 0

    async def test_media_node_output_accepted(self, emu: Emulator, sdk: Any) -> None:
        wid = emu.add_workflow("media", inputs={"ref": {}})
        image = {"type": "image", "uri": "https://example.com/a.png"}
        assert (await sdk.workflows.run(wid, node_outputs={"ref": {"img": image}})).id

    async def test_unknown_and_foreign_ids_are_404(
        self, emu: Emulator, sdk: Any, other: Any, http: aiohttp.ClientSession
    ) -> None:
        mine = emu.add_workflow("private", api_key=API_KEY)
        shared = emu.add_workflow("shared")
        assert [w.name for w in (await other.workflows.list()).data] == ["shared"]
        for call in (other.workflows.retrieve, other.workflows.run):
            with pytest.raises(runwayml.NotFoundError):
                await call(mine)
        with pytest.raises(runwayml.NotFoundError):
            await sdk.workflows.retrieve("no-such-workflow")
        run = await sdk.workflows.run(shared)
        with pytest.raises(runwayml.NotFoundError):
            await other.workflow_invocations.retrieve(run.id)
        with pytest.raises(runwayml.NotFoundError):
            await sdk.workflow_invocations.retrieve("no-such-invocation")
        # An invocation is not a task.
        with pytest.raises(runwayml.NotFoundError):
            await sdk.tasks.retrieve(run.id)
        async with http.delete(f"{emu.url}/v1/tasks/{run.id}", headers=HEADERS) as response:
            assert response.status == 404
        assert (await sdk.workflow_invocations.retrieve(run.id)).status == "PENDING"

    async def test_reset_forgets_workflows_and_routers(self, emu: Emulator, sdk: Any) -> None:
        emu.add_workflow("gone")
        await sdk.routers.create(slug="gone")
        emu.reset()
        assert (await sdk.workflows.list()).data == []
        assert (await sdk.routers.list(limit=10)).data == []

    def test_add_workflow_rejects_bad_arguments(self) -> None:
        emu = Emulator()
        with pytest.raises(ValueError, match="node_errors"):
            emu.add_workflow("x", nodes={"a": "image"}, node_errors={"b": "INTERNAL"})
        with pytest.raises(ValueError, match="not one of"):
            emu.add_workflow("x", nodes={"a": "gif"})  # type: ignore[dict-item]
        with pytest.raises(ValueError, match="duration"):
            emu.add_workflow("x", duration=0)
        with pytest.raises(ValueError, match="name"):
            emu.add_workflow("")

    def test_thread_mode(self) -> None:
        """A test in another thread publishes while the server runs; the sync SDK runs it."""
        with Emulator(time_scale=0.001).in_thread() as emu:
            wid = emu.add_workflow("threaded", duration=1.0)
            client = runwayml.RunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0)
            with client:
                run = client.workflows.run(wid)
                assert client.workflow_invocations.retrieve(run.id).id == run.id


class TestRouters:
    async def test_crud(self, sdk: Any) -> None:
        created = await sdk.routers.create(slug="prod-video", description="Main")
        assert (created.slug, created.name, created.version) == ("prod-video", "prod-video", 1)
        assert created.settings.schema_version == 1
        assert created.settings.optimize_for == "cost"
        got = await sdk.routers.retrieve(created.id)
        assert got.to_dict() == created.to_dict()
        renamed = await sdk.routers.update(created.id, name="Production", description=None)
        assert (renamed.name, renamed.description, renamed.version) == ("Production", None, 1)
        assert await sdk.routers.delete(created.id) is None
        for call in (sdk.routers.retrieve, sdk.routers.delete):
            with pytest.raises(runwayml.NotFoundError):
                await call(created.id)

    async def test_settings_deep_merge_and_version(self, sdk: Any) -> None:
        router = await sdk.routers.create(
            slug="merge",
            settings={
                "models": {"ids": ["gen4.5"], "mode": "allowlist_only"},
                "max_credits_per_generation": {"image": 10, "video": 100},
            },
        )
        updated = await sdk.routers.update(
            router.id,
            settings={
                "optimize_for": "quality",
                "fallback": {"on_capacity": True},
                "max_credits_per_generation": {"image": None},
            },
        )
        settings = updated.settings
        assert updated.version == 2
        assert settings.optimize_for == "quality"
        assert settings.fallback.on_capacity is True
        assert (settings.models.ids, settings.models.mode) == (["gen4.5"], "allowlist_only")
        caps = settings.max_credits_per_generation
        assert (caps.image, caps.video) == (None, 100)
        partial = await sdk.routers.update(
            router.id,
            settings={"models": {"ids": ["gen4.5", "veo3.1"]}},  # type: ignore[typeddict-item]
        )
        assert partial.version == 3
        assert partial.settings.models.mode == "allowlist_only"
        same = await sdk.routers.update(router.id, settings={"optimize_for": "quality"})
        assert same.version == 3  # no change, no new version
        cleared = await sdk.routers.update(router.id, settings={"max_credits_per_generation": None})
        assert cleared.settings.max_credits_per_generation is None
        assert cleared.version == 4

    async def test_bad_bodies_are_400_naming_the_field(self, sdk: Any) -> None:
        cases = [
            (
                {"slug": "a", "settings": {"models": {"ids": ["nope"], "mode": "allowlist_only"}}},
                "settings.models.ids.0",
            ),
            ({"slug": "a", "settings": {"optimizeFor": "speed"}}, "settings.optimizeFor"),
            ({"slug": "a", "settings": {"models": {"ids": []}}}, "settings.models.mode"),
            (
                {"slug": "a", "settings": {"maxCreditsPerGeneration": {"video": -1}}},
                "settings.maxCreditsPerGeneration.video",
            ),
            ({"slug": "has space"}, "slug"),
            ({"name": "no slug"}, "slug"),
            ({"slug": "a", "colour": "red"}, "colour"),
        ]
        for body, field in cases:
            with pytest.raises(runwayml.BadRequestError) as caught:
                await sdk.post("/v1/routers", body=body, cast_to=object)
            assert field in caught.value.body["error"], body
        assert (await sdk.routers.list(limit=5)).data == []

    async def test_duplicate_slug_conflicts(self, sdk: Any, other: Any) -> None:
        await sdk.routers.create(slug="dup")
        with pytest.raises(runwayml.ConflictError):
            await sdk.routers.create(slug="dup")
        assert (await other.routers.create(slug="dup")).slug == "dup"  # another project

    async def test_list_across_three_pages(self, sdk: Any, other: Any) -> None:
        made = [(await sdk.routers.create(slug=f"r{n}")).id for n in range(7)]
        await other.routers.create(slug="foreign")
        first = await sdk.routers.list(limit=3)
        pages = [first]
        while pages[-1].has_next_page():
            pages.append(await pages[-1].get_next_page())
        assert [len(p.data) for p in pages] == [3, 3, 1]
        assert [r.id for p in pages for r in p.data] == made[::-1]  # newest first
        assert [r.id async for r in sdk.routers.list(limit=2)] == made[::-1]

    async def test_list_limits_and_cursor(self, sdk: Any) -> None:
        for limit in (0, 101):
            with pytest.raises(runwayml.BadRequestError, match="limit"):
                await sdk.routers.list(limit=limit)
        with pytest.raises(runwayml.BadRequestError, match="cursor"):
            await sdk.routers.list(limit=1, cursor="not-a-cursor")
        with pytest.raises(runwayml.BadRequestError, match="limit"):
            await sdk.get("/v1/routers", cast_to=object)

    async def test_list_requests_records_generate_calls(self, sdk: Any, other: Any) -> None:
        router = await sdk.routers.create(slug="gen", settings={"optimize_for": "latency"})
        created = [
            await sdk.generate.video.create(config_id="gen", input={"prompt_text": f"take {n}"})
            for n in range(3)
        ]
        await sdk.generate.image.create(config_id="unknown-slug", input={"prompt_text": "x"})
        await other.generate.video.create(config_id="gen", input={"prompt_text": "not mine"})
        page = await sdk.routers.list_requests(router.id, limit=2)
        items = [page.data]
        while page.has_next_page():
            page = await page.get_next_page()
            items.append(page.data)
        flat = [item for data in items for item in data]
        assert [len(data) for data in items] == [2, 1]
        assert [item.task_id for item in flat] == [c.id for c in created][::-1]
        first = flat[0]
        assert (first.status, first.model) == ("routed", created[-1].routing.model)
        assert first.estimated_credits == created[-1].routing.estimated_cost.credits
        assert [step.type for step in first.pipeline] == ["filter", "rank"]
        with pytest.raises(runwayml.NotFoundError):
            await other.routers.list_requests(router.id, limit=5)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class TestWebapp:
    async def test_usage_pages_newest_first_within_the_window(self, sdk: Any) -> None:
        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        start, end = today - timedelta(days=5), today - timedelta(days=2)
        rows = []
        page = await sdk.organization.webapp.list_usage(from_=start, to=end, limit=4)
        pages = 1
        rows += page.data
        while page.has_next_page():
            page = await page.get_next_page()
            rows += page.data
            pages += 1
        assert len(rows) == 12  # one row per 6 hours over 3 days
        assert pages == 3
        stamps = [row.timestamp for row in rows]
        assert stamps == sorted(stamps, reverse=True)
        assert len(set(stamps)) == 12
        assert all(start <= s < end for s in stamps)
        assert {row.type for row in rows} == {"charge", "refund"}
        assert all((row.credits < 0) == (row.type == "refund") for row in rows)
        only = await sdk.organization.webapp.list_usage(
            from_=start, to=end, limit=100, workspace_ids="202"
        )
        assert {row.workspace_id for row in only.data} == {202}
        assert 0 < len(only.data) < 12

    async def test_usage_bad_queries(self, sdk: Any) -> None:
        day = datetime(2025, 1, 2, tzinfo=timezone.utc)
        with pytest.raises(runwayml.BadRequestError, match="'to'"):
            await sdk.organization.webapp.list_usage(from_=day, to=day, limit=1)
        with pytest.raises(runwayml.BadRequestError, match="from"):
            await sdk.get(
                "/v1/organization/webapp/usage",
                options={"params": {"to": "2025-01-01", "limit": 1}},
                cast_to=object,
            )
        with pytest.raises(runwayml.BadRequestError, match="workspaceIds"):
            await sdk.organization.webapp.list_usage(
                from_="2025-01-01", to="2025-02-01", limit=1, workspace_ids="design"
            )
        with pytest.raises(runwayml.BadRequestError, match="limit"):
            await sdk.organization.webapp.list_usage(from_="2025-01-01", to="2025-02-01", limit=101)

    async def test_audit_logs_filters_and_retrieve(self, sdk: Any) -> None:
        every = [e async for e in sdk.organization.webapp.audit_logs.list(limit=100)]
        assert len(every) == 150
        assert len({e.event_id for e in every}) == 150
        logins = [
            e
            async for e in sdk.organization.webapp.audit_logs.list(
                limit=5, actions="UserLogin,SSOLogin"
            )
        ]
        assert {e.action for e in logins} == {"UserLogin", "SSOLogin"}
        assert len(logins) == sum(e.action in {"UserLogin", "SSOLogin"} for e in every)
        by_grace = await sdk.organization.webapp.audit_logs.list(
            limit=100, actor_emails="GRACE@example.com", workspace_ids="101"
        )
        assert by_grace.data
        assert all(
            (e.actor_email, e.workspace_id) == ("grace@example.com", 101) for e in by_grace.data
        )
        newest = every[0].timestamp
        window = await sdk.organization.webapp.audit_logs.list(
            limit=100, from_=newest - timedelta(hours=8), to=newest
        )
        assert [e.event_id for e in window.data] == [e.event_id for e in every[1:3]]
        detail = await sdk.organization.webapp.audit_logs.retrieve(every[0].event_id)
        assert (detail.event_id, detail.action) == (every[0].event_id, every[0].action)
        assert detail.client_ip_address
        assert detail.metadata.workspace_id == float(detail.workspace_id)
        with pytest.raises(runwayml.NotFoundError):
            await sdk.organization.webapp.audit_logs.retrieve("no-such-event")

    async def test_audit_log_bad_queries(self, sdk: Any) -> None:
        with pytest.raises(runwayml.BadRequestError, match="actions"):
            await sdk.organization.webapp.audit_logs.list(limit=1, actions="Dancing")
        too_many = ",".join(f"u{n}@example.com" for n in range(51))
        with pytest.raises(runwayml.BadRequestError, match="actorEmails"):
            await sdk.organization.webapp.audit_logs.list(limit=1, actor_emails=too_many)
        with pytest.raises(runwayml.BadRequestError, match="from"):
            await sdk.organization.webapp.audit_logs.list(limit=1, from_="yesterday")
        with pytest.raises(runwayml.BadRequestError, match="cursor"):
            await sdk.organization.webapp.audit_logs.list(limit=1, cursor="WyJ1c2FnZSIsMV0")


class TestSpecMock:
    async def test_unknown_ids_answer_examples(self) -> None:
        async with (
            Emulator(spec_mock=True) as emu,
            runwayml.AsyncRunwayML(api_key=API_KEY, base_url=emu.url, max_retries=0) as sdk,
        ):
            assert (await sdk.workflows.retrieve("wf")).id == "wf"
            run = await sdk.workflows.run("wf")
            assert (await sdk.workflow_invocations.retrieve(run.id)).id == run.id
            invocation = await sdk.workflow_invocations.retrieve("inv")
            assert invocation.status == "SUCCEEDED"
            assert (await sdk.routers.retrieve("r")).id == "r"
            assert (await sdk.routers.list_requests("r", limit=1, cursor="x")).data
            entry = await sdk.organization.webapp.audit_logs.retrieve("e")
            assert entry.event_id == "e"
