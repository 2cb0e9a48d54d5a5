"""Workflows and workflow invocations through our async client.

Against the stateful emulator (a published workflow run to completion, failures, events,
batches) and, for what the emulator cannot be made to say (unknown fields and statuses,
the wire shape, deadlines), a scripted transport on virtual time.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from runway_async import (
    AmbiguousSubmissionError,
    AsyncRunway,
    FailedWorkflowInvocation,
    NotFoundError,
    PendingWorkflowInvocation,
    PollConfig,
    ResponseValidationError,
    RunningWorkflowInvocation,
    SucceededWorkflowInvocation,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    UnknownWorkflowInvocation,
    VirtualClock,
    Workflow,
    WorkflowList,
    WorkflowRunCreated,
)
from runway_async._batch import InMemoryBatchJournal, Job
from runway_async._http import DownloadStream, Request, Response
from runway_async.emulator import Emulator

CREATED = "2025-01-01T00:00:00Z"
BASE = "https://api.example"

# --- a scripted API on virtual time ---------------------------------------------------------


class ScriptedAPI:
    """Answers each path from a script of (virtual second, status, body) steps."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.start = clock.now()
        self.sent: list[Request] = []
        self.times: list[float] = []  # virtual seconds since the start, per request
        self.script: dict[str, list[tuple[float, int, Any]]] = {}

    def at(self, path: str, *steps: tuple[float, int, Any]) -> None:
        self.script[path] = list(steps)

    async def send(self, request: Request) -> Response:
        self.sent.append(request)
        self.times.append(self.clock.now() - self.start)
        path = "/" + request.url.split("://", 1)[1].partition("/")[2]
        steps = self.script.get(path)
        if steps is None:
            return Response(404, {}, {"error": "Not found"})
        status, body = 404, None
        for when, step_status, step_body in steps:
            if self.clock.now() - self.start >= when:
                status, body = step_status, step_body
        return Response(status, {}, body)

    def stream(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        connect_timeout: float,
        read_timeout: float,
    ) -> AbstractAsyncContextManager[DownloadStream]:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


def invocation(status: str, invocation_id: str = "inv1", **fields: Any) -> dict[str, Any]:
    return {"id": invocation_id, "status": status, "createdAt": CREATED, **fields}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1000.0)


@pytest_asyncio.fixture
async def scripted(clock: VirtualClock) -> AsyncIterator[tuple[AsyncRunway, ScriptedAPI]]:
    api = ScriptedAPI(clock)
    client = AsyncRunway(
        "key_workflows",
        base_url=BASE,
        transport=api,  # type: ignore[arg-type]  # downloads are not scripted
        clock=clock,
        poll=PollConfig(min_interval=5.0),
    )
    yield client, api
    await client.aclose()


class TestWire:
    async def test_run_sends_node_outputs_verbatim(
        self, scripted: tuple[AsyncRunway, ScriptedAPI]
    ) -> None:
        """Node ids and output keys are user data: sent exactly as given, under nodeOutputs."""
        client, api = scripted
        api.at("/v1/workflows/wf%2F1", (0, 200, {"id": "inv1"}))
        node_outputs = {
            "node_prompt_1": {"prompt_text": {"type": "primitive", "value": "a fox"}},
            "Image Node": {"image": {"type": "image", "uri": "https://example.com/a.png"}},
        }
        run = await client.workflows.run("wf/1", node_outputs=node_outputs)
        assert isinstance(run, WorkflowRunCreated)
        assert run.id == "inv1"
        sent = api.sent[-1]
        assert sent.method == "POST"
        assert sent.url == BASE + "/v1/workflows/wf%2F1"
        assert sent.json == {"nodeOutputs": node_outputs}

    async def test_run_without_node_outputs_sends_an_empty_body(
        self, scripted: tuple[AsyncRunway, ScriptedAPI]
    ) -> None:
        client, api = scripted
        api.at("/v1/workflows/wf1", (0, 200, {"id": "inv1"}))
        await client.workflows.run("wf1")
        assert not api.sent[-1].json

    async def test_a_run_is_never_sent_twice(
        self, scripted: tuple[AsyncRunway, ScriptedAPI]
    ) -> None:
        """A run starts paid work: a 500 is not retried (the server may have started it)."""
        client, api = scripted
        api.at("/v1/workflows/wf1", (0, 500, {"error": "boom"}))
        with pytest.raises(AmbiguousSubmissionError):
            await client.workflows.run("wf1")
        assert len([r for r in api.sent if r.method == "POST"]) == 1

    async def test_unknown_fields_are_kept(self, scripted: tuple[AsyncRunway, ScriptedAPI]) -> None:
        client, api = scripted
        api.at(
            "/v1/workflow_invocations/inv1",
            (
                0,
                200,
                invocation(
                    "SUCCEEDED",
                    output={"node_a": ["https://cdn.example/a.png"]},
                    nodeErrors={"node b": {"message": "bad", "newKey": 1}},
                    futureField={"x": 1},
                ),
            ),
        )
        got = await client.workflow_invocations.retrieve("inv1")
        assert isinstance(got, SucceededWorkflowInvocation)
        assert got.extra == {"futureField": {"x": 1}}
        assert got.output == {"node_a": ("https://cdn.example/a.png",)}
        assert got.node_errors is not None
        assert got.node_errors["node b"].extra == {"newKey": 1}
        assert got.cost is None

    async def test_an_unknown_status_gives_the_unknown_class(
        self, scripted: tuple[AsyncRunway, ScriptedAPI]
    ) -> None:
        client, api = scripted
        api.at("/v1/workflow_invocations/inv1", (0, 200, invocation("PAUSED", hint=2)))
        got = await client.workflow_invocations.retrieve("inv1")
        assert isinstance(got, UnknownWorkflowInvocation)
        assert got.status == "PAUSED"
        assert got.extra == {"hint": 2}
        assert not got.is_terminal

    async def test_another_invocation_in_the_reply_is_refused(
        self, scripted: tuple[AsyncRunway, ScriptedAPI]
    ) -> None:
        client, api = scripted
        api.at("/v1/workflow_invocations/inv1", (0, 200, invocation("PENDING", "other")))
        with pytest.raises(ResponseValidationError, match="another workflow invocation"):
            await client.workflow_invocations.retrieve("inv1")

    async def test_a_malformed_invocation_names_the_field(
        self, scripted: tuple[AsyncRunway, ScriptedAPI]
    ) -> None:
        client, api = scripted
        bad = invocation("SUCCEEDED", output={"n1": "https://not-a-list"})
        api.at("/v1/workflow_invocations/inv1", (0, 200, bad))
        with pytest.raises(ResponseValidationError, match=r"WorkflowInvocation.*output") as e:
            await client.workflow_invocations.retrieve("inv1")
        assert e.value.body == bad

    async def test_list_is_one_object_not_a_paginator(
        self, scripted: tuple[AsyncRunway, ScriptedAPI]
    ) -> None:
        client, api = scripted
        api.at(
            "/v1/workflows",
            (
                0,
                200,
                {
                    "data": [
                        {
                            "name": "Poster",
                            "versions": [
                                {"id": "v2", "createdAt": CREATED, "version": 2},
                                {"id": "v1", "createdAt": CREATED, "version": 1},
                            ],
                        }
                    ]
                },
            ),
        )
        listed = await client.workflows.list()
        assert isinstance(listed, WorkflowList)
        assert [v.version for v in listed.data[0].versions] == [2, 1]
        assert api.sent[-1].params is None


class TestWaitOnVirtualTime:
    async def test_a_deadline_raises_with_the_last_invocation(
        self, scripted: tuple[AsyncRunway, ScriptedAPI], clock: VirtualClock
    ) -> None:
        client, api = scripted
        running = invocation("RUNNING", progress=0.1, output={})
        api.at("/v1/workflow_invocations/inv1", (0, 200, running))
        waiting = asyncio.ensure_future(client.workflow_invocations.wait("inv1", timeout=12))
        await clock.run_until_done(waiting, limit=60)
        with pytest.raises(TaskTimeoutError) as caught:
            waiting.result()
        last = caught.value.task_details
        assert isinstance(last, RunningWorkflowInvocation)
        assert last.progress == 0.1
        assert clock.now() - 1000.0 == pytest.approx(12.0)

    async def test_cancelled_raises_task_cancelled(
        self, scripted: tuple[AsyncRunway, ScriptedAPI], clock: VirtualClock
    ) -> None:
        client, api = scripted
        api.at(
            "/v1/workflow_invocations/inv1",
            (0, 200, invocation("PENDING")),
            (7, 200, invocation("CANCELLED")),
        )
        waiting = asyncio.ensure_future(client.workflow_invocations.wait("inv1"))
        await clock.run_until_done(waiting, limit=60)
        with pytest.raises(TaskCancelledError):
            waiting.result()

    async def test_polls_keep_the_floor_and_share_gets(
        self, scripted: tuple[AsyncRunway, ScriptedAPI], clock: VirtualClock
    ) -> None:
        """Three waits of one invocation share each GET, never closer than min_interval."""
        client, api = scripted
        done = invocation("SUCCEEDED", output={"n": ["https://cdn.example/n.png"]})
        api.at(
            "/v1/workflow_invocations/inv1",
            (0, 200, invocation("PENDING")),
            (12, 200, done),
        )
        run = WorkflowRunCreated(id="inv1", client=client.workflow_invocations)
        retrieved = await client.workflow_invocations.retrieve("inv1")
        waits = asyncio.gather(
            run.wait_for_task_output(),
            retrieved.wait_for_task_output(),
            client.workflow_invocations.wait("inv1"),
        )
        await clock.run_until_done(waits, limit=60)
        assert {w.status for w in waits.result()} == {"SUCCEEDED"}
        polled = [t for r, t in zip(api.sent, api.times, strict=True) if r.method == "GET"]
        polled = polled[1:]  # the retrieve's own GET came first, outside the watcher
        assert all(b - a >= 5.0 for a, b in itertools.pairwise(polled))
        assert polled[-1] >= 12.0
        assert len(polled) <= 4  # 0, 5, 10, 15: one GET per poll for the three waits

    async def test_an_unbound_invocation_cannot_wait(self) -> None:
        with pytest.raises(RuntimeError, match="not bound"):
            await WorkflowRunCreated(id="inv1").wait_for_task_output()


# --- against the emulator -------------------------------------------------------------------

TIME_SCALE = 0.002  # 1 API second is 2 ms
POLL = PollConfig(interval=0.01, requests_per_second=5000)
PROMPT = {"prompt": {"text": {"type": "primitive", "value": "a fox"}}}


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=TIME_SCALE, seed=1) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncRunway]:
    async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as runway:
        yield runway


class TestPublishedWorkflows:
    async def test_list_groups_versions_newest_first(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        first = emu.add_workflow("Poster", description="Makes a poster")
        second = emu.add_workflow("Poster")
        other = emu.add_workflow("Trailer", nodes={"clip": "video"})
        listed = await client.workflows.list()
        by_name = {item.name: item for item in listed.data}
        assert [(v.id, v.version) for v in by_name["Poster"].versions] == [
            (second, 2),
            (first, 1),
        ]
        assert [v.id for v in by_name["Trailer"].versions] == [other]

    async def test_retrieve_has_the_graph(self, emu: Emulator, client: AsyncRunway) -> None:
        workflow_id = emu.add_workflow(
            "Poster", nodes={"poster_node": "image"}, inputs=PROMPT, description="Posters"
        )
        got = await client.workflows.retrieve(workflow_id)
        assert isinstance(got, Workflow)
        assert (got.id, got.name, got.version, got.description) == (
            workflow_id,
            "Poster",
            1,
            "Posters",
        )
        node_ids = {node["id"] for node in got.graph.nodes}
        assert {"poster_node", "prompt"} <= node_ids  # node ids verbatim

    async def test_unknown_ids_are_not_found(self, client: AsyncRunway) -> None:
        with pytest.raises(NotFoundError):
            await client.workflows.retrieve("00000000-0000-0000-0000-000000000000")
        with pytest.raises(NotFoundError):
            await client.workflows.run("00000000-0000-0000-0000-000000000000")
        with pytest.raises(NotFoundError):
            await client.workflow_invocations.retrieve("00000000-0000-0000-0000-000000000000")
        with pytest.raises(NotFoundError):
            await client.workflow_invocations.wait("00000000-0000-0000-0000-000000000000")


class TestRuns:
    async def test_run_to_completion_gives_outputs_per_node(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        workflow_id = emu.add_workflow(
            "Campaign",
            nodes={"poster": "image", "clip_1": ["video", "video"]},
            inputs=PROMPT,
            duration=5,
            credits=12,
        )
        run = await client.workflows.run(workflow_id, node_outputs=PROMPT)
        done = await run.wait_for_task_output(timeout=30)
        assert isinstance(done, SucceededWorkflowInvocation)
        assert done.id == run.id
        assert set(done.output) == {"poster", "clip_1"}
        assert len(done.output["poster"]) == 1
        assert len(done.output["clip_1"]) == 2
        assert done.cost is not None
        assert done.cost.credits == 12
        assert done.node_errors is None
        again = await client.workflow_invocations.retrieve(run.id)
        assert isinstance(again, SucceededWorkflowInvocation)
        assert await again.wait_for_task_output() == done  # ended: no new wait
        # The emulator runs invocations as a pseudo-model the real tier never lists.
        organization = await client.organization.retrieve()
        assert "workflow" not in organization.tier.models

    async def test_a_failing_workflow_raises_task_failed(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        workflow_id = emu.add_workflow(
            "Broken", nodes={"first": "image", "last": "image"}, fail="SAFETY.OUTPUT.IMAGE"
        )
        run = await client.workflows.run(workflow_id)
        with pytest.raises(TaskFailedError) as caught:
            await client.workflow_invocations.wait(run.id, timeout=30)
        assert not isinstance(caught.value, TaskCancelledError)
        assert caught.value.failure_code == "SAFETY.OUTPUT.IMAGE"
        failed = caught.value.task_details
        assert isinstance(failed, FailedWorkflowInvocation)
        assert failed.node_errors is not None
        assert set(failed.node_errors) == {"last"}
        assert failed.node_errors["last"].failure_code == "SAFETY.OUTPUT.IMAGE"

    async def test_a_success_can_hold_failed_nodes(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        workflow_id = emu.add_workflow(
            "Partial", nodes={"good": "image", "bad": "image"}, node_errors={"bad": "INTERNAL"}
        )
        done = await (await client.workflows.run(workflow_id)).wait_for_task_output(timeout=30)
        assert set(done.output) == {"good"}
        assert done.node_errors is not None
        assert done.node_errors["bad"].failure_code == "INTERNAL"

    async def test_events_run_with_progress_then_succeed(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        workflow_id = emu.add_workflow(
            "Slow", nodes={"a": "image", "b": "image", "c": "image"}, duration=150
        )
        run = await client.workflows.run(workflow_id)
        events = [event async for event in client.workflow_invocations.events(run.id)]
        running = [e for e in events if e.kind == "running"]
        assert running, [e.kind for e in events]
        assert any(e.progress is not None and 0.0 < e.progress < 1.0 for e in running)
        assert events[-1].kind == "succeeded"
        assert events[-1].task_id == run.id
        assert isinstance(events[-1].task, SucceededWorkflowInvocation)
        assert sum(e.is_terminal for e in events) == 1

    async def test_runs_take_no_slot_of_the_limiter(self) -> None:
        """Three runs start at once with a limit of one and no slot wait (server throttles)."""
        async with (
            Emulator(time_scale=TIME_SCALE, concurrency={"workflow": 1}) as emu,
            AsyncRunway(
                emu.api_key,
                base_url=emu.url,
                poll=POLL,
                max_concurrency=1,
                slot_timeout=0.001,
            ) as client,
        ):
            workflow_id = emu.add_workflow("Queued", duration=60)
            runs = await asyncio.gather(*(client.workflows.run(workflow_id) for _ in range(3)))
            statuses = [(await client.workflow_invocations.retrieve(r.id)).status for r in runs]
            done = await asyncio.gather(*(r.wait_for_task_output(timeout=30) for r in runs))
        assert len({r.id for r in runs}) == 3
        assert "THROTTLED" in statuses  # the emulator's lane for workflows is 1 wide
        assert all(isinstance(d, SucceededWorkflowInvocation) for d in done)


class Submitted(InMemoryBatchJournal):
    """A journal that sets ``reached`` once a job's invocation was created."""

    def __init__(self) -> None:
        super().__init__()
        self.reached = asyncio.Event()

    def job_submitted(self, index: int, job: Job, task_id: str) -> None:
        super().job_submitted(index, job, task_id)
        self.reached.set()


class TestBatch:
    async def test_a_batch_runs_workflow_jobs(
        self, emu: Emulator, client: AsyncRunway, tmp_path: Path
    ) -> None:
        good = emu.add_workflow("Good", nodes={"poster": "image", "clips": ["video", "video"]})
        bad = emu.add_workflow("Bad", fail=True)
        jobs = [
            Job("workflows.run", {"id": good, "node_outputs": None}, key="good"),
            Job("workflows.run", {"id": bad}, key="bad"),
            Job("workflows.run", {"id": good, "nodeOutputs": {}}, key="camel"),
            Job(
                "text_to_image",
                {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1920:1080"},
                key="image",
            ),
        ]
        results = await client.batch(jobs, download_to=tmp_path).gather()
        by_key = {r.key: r for r in results}
        ok = by_key["good"]
        assert ok.status == "SUCCEEDED", ok.error_message
        assert isinstance(ok.task, SucceededWorkflowInvocation)
        assert ok.task_id == ok.task.id
        assert len(ok.files) == 3 == len(ok.task.outputs)
        # Named after the job's id (the invocation id for a job without one).
        assert [f.path.name for f in ok.files] == ["good_0.png", "good_1.mp4", "good_2.mp4"]
        assert all(f.path.is_file() for f in ok.files)
        failed = by_key["bad"]
        assert failed.status == "FAILED"
        assert isinstance(failed.error, TaskFailedError)
        assert isinstance(failed.task, FailedWorkflowInvocation)
        invalid = by_key["camel"]
        assert invalid.status == "INVALID"
        assert invalid.error_message is not None
        assert "node_outputs" in invalid.error_message
        assert invalid.task_id is None
        assert by_key["image"].status == "SUCCEEDED"
        assert len(by_key["image"].files) == 1

    async def test_a_stopped_batch_reports_a_running_invocation(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        """The API cannot cancel an invocation: a stop reports it left running."""
        workflow_id = emu.add_workflow("Endless", duration=1e6)
        journal = Submitted()
        batch = client.batch(
            [Job("workflows.run", {"id": workflow_id})], journal=journal, grace_period=5
        )
        await journal.reached.wait()
        batch.cancel()
        (result,) = await batch.gather()
        assert result.status == "CANCELLED"
        assert result.task_id == journal.submitted[0][1]
        # Not ended: RUNNING, or still PENDING when the stop came early on a loaded machine.
        assert isinstance(result.task, (PendingWorkflowInvocation, RunningWorkflowInvocation))
        assert result.error_message is not None
        assert "left running" in result.error_message

    async def test_a_resumed_batch_waits_for_the_known_invocation(
        self, emu: Emulator, client: AsyncRunway
    ) -> None:
        workflow_id = emu.add_workflow("Once")
        first = await client.workflows.run(workflow_id)

        class Known(InMemoryBatchJournal):
            def known_task_id(self, index: int, job: Job) -> str | None:
                return first.id

        (result,) = await client.batch(
            [Job("workflows.run", {"id": workflow_id})], journal=Known()
        ).gather()
        assert result.status == "SUCCEEDED"
        assert result.task_id == first.id
        assert emu.metrics()["tasks_created"] == {"workflow": 1}  # no second run
