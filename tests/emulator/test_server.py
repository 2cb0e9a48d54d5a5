"""The emulator over loopback HTTP, driven by raw requests and by our own client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import urllib.parse
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from runway_async import (
    AmbiguousSubmissionError,
    AsyncRunway,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    PollConfig,
    RateLimitError,
    TaskFailedError,
)
from runway_async._spec import ENDPOINTS
from runway_async.emulator import Emulator, EmulatorConfig, Fault, FaultKind
from runway_async.emulator._faults import parse_fault

from ..conftest import API_KEY
from .conftest import HEADERS, IMAGE_BODY, IMAGE_PARAMS, TIME_SCALE, FakeClock

pytestmark = pytest.mark.asyncio


class Call:
    """Raw JSON requests to one emulator."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def __call__(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> tuple[int, Any, Any]:
        async with self.http.request(
            method,
            self.url + path,
            json=json,
            data=data,
            headers=HEADERS if headers is None else headers,
        ) as resp:
            body = (
                await resp.json() if resp.content_type == "application/json" else await resp.read()
            )
            return resp.status, body, resp.headers


@pytest_asyncio.fixture
async def call(emulator: Emulator, http: aiohttp.ClientSession) -> Call:
    """Return a raw caller for the shared emulator."""
    return Call(http, emulator.url)


@pytest_asyncio.fixture
async def manual(http: aiohttp.ClientSession) -> AsyncIterator[tuple[Emulator, FakeClock, Call]]:
    """Start an emulator whose simulated time only moves when the test ticks its clock."""
    clock = FakeClock()
    config = EmulatorConfig(
        concurrency=1, jitter=0.0, pending_seconds=1.0, durations={"image": 10.0}, seed=1
    )
    async with Emulator.from_config(config, clock=clock) as emu:
        yield emu, clock, Call(http, emu.url)


def make_client(emu: Emulator, **options: Any) -> AsyncRunway:
    options.setdefault("poll", PollConfig(interval=0.005))
    options.setdefault("timeout", 5.0)
    return AsyncRunway(API_KEY, base_url=emu.url, **options)


# Valid bodies per the reference, one per output media type.
MEDIA_CASES = [
    ("/v1/text_to_image", IMAGE_BODY, "image/png", b"\x89PNG"),
    (
        "/v1/text_to_speech",
        {
            "model": "eleven_multilingual_v2",
            "promptText": "Hello there.",
            "voice": {"type": "runway-preset", "presetId": "Maya"},
        },
        "audio/wav",
        b"RIFF",
    ),
    (
        "/v1/image_to_video",
        {
            "model": "gen4_turbo",
            "promptImage": "https://example.com/cat.png",
            "ratio": "1280:720",
        },
        "video/mp4",
        None,
    ),
]


class TestAuthAndVersion:
    async def test_missing_token_is_401(self, call: Call) -> None:
        """A request without a bearer token gets 401 with a JSON error."""
        status, body, _ = await call(
            "GET", "/v1/organization", headers={"X-Runway-Version": "2024-11-06"}
        )
        assert status == 401
        assert "Authorization" in body["error"]

    async def test_any_token_is_accepted_by_default(self, call: Call) -> None:
        """Without a configured key any non-empty token works."""
        headers = {**HEADERS, "Authorization": "Bearer whatever"}
        status, _, _ = await call("GET", "/v1/organization", headers=headers)
        assert status == 200

    async def test_only_the_configured_key_is_accepted(self) -> None:
        """With api_key set, other tokens get 401 and our client raises AuthenticationError."""
        async with Emulator(api_key="key_right", time_scale=TIME_SCALE) as emu:
            async with AsyncRunway("key_wrong", base_url=emu.url) as wrong:
                with pytest.raises(AuthenticationError):
                    await wrong.organization.retrieve()
            async with AsyncRunway("key_right", base_url=emu.url) as right:
                assert (await right.organization.retrieve()).credit_balance > 0

    @pytest.mark.parametrize("version", [None, "2023-01-01"])
    async def test_version_header_is_required(self, call: Call, version: str | None) -> None:
        """A missing or other X-Runway-Version gets 400 naming the header."""
        headers = {"Authorization": "Bearer k"}
        if version is not None:
            headers["X-Runway-Version"] = version
        status, body, _ = await call("GET", "/v1/organization", headers=headers)
        assert status == 400
        assert "X-Runway-Version" in body["error"]


class TestRouting:
    async def test_unknown_path_is_json_404(self, call: Call, emulator: Emulator) -> None:
        """An unknown path gets a JSON 404, counted in the metrics."""
        status, body, _ = await call("GET", "/v1/nothing_here")
        assert status == 404
        assert body == {"error": "Not Found"}
        assert emulator.metrics()["requests"] == {"GET (unmatched)": {"404": 1}}

    async def test_wrong_method_is_json_405(self, call: Call) -> None:
        """A wrong method gets a JSON 405 with the Allow header."""
        status, body, headers = await call("GET", "/v1/text_to_image")
        assert status == 405
        assert "error" in body
        assert headers["Allow"] == "POST"


class TestValidation:
    @pytest.mark.parametrize("name", sorted(ENDPOINTS))
    async def test_every_task_endpoint_is_routed_and_validated(self, call: Call, name: str) -> None:
        """Each task-creating endpoint of the spec answers an empty body with 400 issues."""
        spec = ENDPOINTS[name]
        status, reply, _ = await call(spec.method, spec.path, {})
        assert status == 400
        assert reply["issues"]

    async def test_missing_field_is_named(self, call: Call) -> None:
        """A body missing promptText gets 400 whose error and issues name the field."""
        body = {k: v for k, v in IMAGE_BODY.items() if k != "promptText"}
        status, reply, _ = await call("POST", "/v1/text_to_image", body)
        assert status == 400
        assert "promptText" in reply["error"]
        assert any(issue["path"] == ["promptText"] for issue in reply["issues"])
        assert all({"code", "path", "message"} <= set(issue) for issue in reply["issues"])

    async def test_unknown_model_is_rejected(self, call: Call, emulator: Emulator) -> None:
        """An unknown model gets 400 naming model, and no task is created."""
        status, reply, _ = await call("POST", "/v1/text_to_image", {**IMAGE_BODY, "model": "gen9"})
        assert status == 400
        assert "model" in reply["error"]
        assert emulator.metrics()["tasks_created_total"] == 0

    @pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
    async def test_non_json_object_body_is_400(self, call: Call, raw: bytes) -> None:
        """A body that is not a JSON object gets 400."""
        headers = {**HEADERS, "Content-Type": "application/json"}
        status, reply, _ = await call("POST", "/v1/text_to_image", headers=headers, data=raw)
        assert status == 400
        assert "JSON" in reply["error"]


class TestLifecycle:
    async def test_states_over_http_in_simulated_time(
        self, manual: tuple[Emulator, FakeClock, Call]
    ) -> None:
        """PENDING with estimatedCost, RUNNING with progress, SUCCEEDED with cost and output."""
        _, clock, call = manual
        status, created, _ = await call("POST", "/v1/text_to_image", IMAGE_BODY)
        assert status == 200
        assert set(created) == {"id", "estimatedCost"}
        path = f"/v1/tasks/{created['id']}"
        _, task, _ = await call("GET", path)
        assert task["status"] == "PENDING"
        assert task["estimatedCost"] == created["estimatedCost"]
        assert task["createdAt"].endswith("Z")
        clock.tick(6.0)
        _, task, _ = await call("GET", path)
        assert task["status"] == "RUNNING"
        assert task["progress"] == pytest.approx(0.5)
        clock.tick(5.0)
        _, task, _ = await call("GET", path)
        assert task["status"] == "SUCCEEDED"
        assert set(task) == {"id", "status", "createdAt", "cost", "output"}
        assert task["cost"] == {"credits": created["estimatedCost"]["credits"]}
        assert len(task["output"]) == 1

    @pytest.mark.parametrize(("path", "body", "content_type", "magic"), MEDIA_CASES)
    async def test_outputs_are_real_files_of_the_right_type(
        self,
        call: Call,
        client: AsyncRunway,
        http: aiohttp.ClientSession,
        path: str,
        body: dict[str, Any],
        content_type: str,
        magic: bytes | None,
    ) -> None:
        """A task succeeds and its output downloads (GET and HEAD, no auth) with the right type."""
        status, created, _ = await call("POST", path, body)
        assert status == 200, created
        task = await client.tasks.wait(created["id"], timeout=10)
        url = task.output[0]
        async with http.get(url) as resp:
            assert resp.status == 200
            assert resp.content_type == content_type
            data = await resp.read()
        if magic is None:  # MP4: the box type sits after the size
            assert data[4:8] == b"ftyp"
        else:
            assert data.startswith(magic)
        async with http.head(url) as resp:
            assert resp.status == 200
            assert resp.content_type == content_type
            assert int(resp.headers["Content-Length"]) == len(data)

    @pytest.mark.parametrize(
        ("path", "given", "model", "resolved"),
        [
            ("/v1/generate/video", {"promptText": "a lake"}, "gen4.5", {"duration", "ratio"}),
            ("/v1/generate/image", {"promptText": "a cup"}, "gen4_image", {"aspectRatio"}),
            (
                "/v1/generate/audio",
                {"promptText": "Hi.", "type": "speech"},
                "eleven_v3",
                {"type", "voice"},
            ),
            (
                "/v1/generate/audio",
                {"promptText": "rain", "type": "audio"},
                "eleven_text_to_sound_v2",
                {"type", "voice"},
            ),
        ],
    )
    async def test_routed_creates_name_the_model(
        self,
        call: Call,
        emulator: Emulator,
        path: str,
        given: dict[str, Any],
        model: str,
        resolved: set[str],
    ) -> None:
        """/v1/generate/* replies {id, routing} and the task counts against the routed model."""
        status, reply, _ = await call("POST", path, {"configId": "my-router", "input": given})
        assert status == 200, reply
        routing = reply["routing"]
        assert routing["configId"] == "my-router"
        assert routing["model"] == model
        assert routing["estimatedCost"]["credits"] > 0
        assert resolved <= set(routing["resolvedInput"])
        assert routing["resolvedSettings"] == {"optimizeFor": "cost", "priceCeiling": None}
        assert emulator.metrics()["tasks_created"] == {model: 1}

    async def test_client_waits_to_success(self, client: AsyncRunway) -> None:
        """Our client creates a task and waits for it to succeed, with a cost."""
        handle = await client.text_to_image.create(**IMAGE_PARAMS)
        assert handle.estimated_cost is not None
        task = await handle.wait_for_task_output(timeout=10)
        assert task.status == "SUCCEEDED"
        assert task.cost is not None
        assert task.cost.credits == handle.estimated_cost.credits

    async def test_failure_rate_one_fails_with_a_code(self) -> None:
        """With failure_rate=1 the task ends FAILED with failure and failureCode."""
        emu = Emulator(time_scale=TIME_SCALE, failure_rate=1.0, seed=3)
        async with emu, make_client(emu) as client:
            handle = await client.text_to_image.create(**IMAGE_PARAMS)
            with pytest.raises(TaskFailedError) as info:
                await handle.wait_for_task_output(timeout=10)
        assert info.value.failure_code
        assert info.value.failure

    async def test_outputs_of_unfinished_or_unknown_tasks_are_404(
        self, manual: tuple[Emulator, FakeClock, Call]
    ) -> None:
        """Outputs exist only for SUCCEEDED tasks, at their index and extension."""
        _, clock, call = manual
        _, created, _ = await call("POST", "/v1/text_to_image", IMAGE_BODY)
        base = f"/_emulator/outputs/{created['id']}"
        assert (await call("GET", f"{base}/0.png"))[0] == 404
        clock.tick(100)
        assert (await call("GET", f"{base}/0.png"))[0] == 200
        assert (await call("GET", f"{base}/1.png"))[0] == 404
        assert (await call("GET", f"{base}/0.mp4"))[0] == 404
        assert (await call("GET", "/_emulator/outputs/nope/0.png"))[0] == 404


class TestThrottling:
    async def test_over_concurrency_is_throttled_then_promoted(
        self, manual: tuple[Emulator, FakeClock, Call]
    ) -> None:
        """Over the limit a task reports THROTTLED, then runs when the slot frees."""
        emu, clock, call = manual
        ids = [(await call("POST", "/v1/text_to_image", IMAGE_BODY))[1]["id"] for _ in range(3)]
        statuses = [(await call("GET", f"/v1/tasks/{i}"))[1]["status"] for i in ids]
        assert statuses == ["PENDING", "THROTTLED", "THROTTLED"]
        clock.tick(12.0)  # the first ended at 11; the second got its slot then
        statuses = [(await call("GET", f"/v1/tasks/{i}"))[1]["status"] for i in ids]
        assert statuses == ["SUCCEEDED", "RUNNING", "THROTTLED"]
        metrics = emu.metrics()
        assert metrics["max_running"] == {"gen4_image": 1}
        assert metrics["throttled_seconds"]["models"]["gen4_image"] == pytest.approx(11 + 12)

    async def test_metrics_count_polls_and_give_timelines(
        self, manual: tuple[Emulator, FakeClock, Call]
    ) -> None:
        """Each task's GETs are counted; ``?tasks=1`` adds its timeline in API seconds."""
        emu, clock, call = manual
        ids = [(await call("POST", "/v1/text_to_image", IMAGE_BODY))[1]["id"] for _ in range(2)]
        for _ in range(3):
            await call("GET", f"/v1/tasks/{ids[0]}")
        clock.tick(30.0)
        await call("GET", f"/v1/tasks/{ids[1]}")
        assert emu.metrics()["polls"] == {"total": 4, "mean_per_task": 2.0, "max_per_task": 3}
        assert "tasks" not in emu.metrics()
        status, body, _ = await call("GET", "/_emulator/metrics?tasks=1")
        assert status == 200
        first, second = (body["tasks"][i] for i in ids)
        assert (first["polls"], second["polls"]) == (3, 1)
        assert first["status"] == second["status"] == "SUCCEEDED"
        # Concurrency 1: the second is admitted exactly when the first ends.
        assert second["admitted"] == pytest.approx(first["ended"])
        assert first["ended"] == pytest.approx(
            first["admitted"] + emu.config.pending_seconds + first["duration"]
        )
        assert body["peak_requests_per_second"]["GET /v1/tasks/{id}"] >= 1

    async def test_fifo_and_limit_hold_in_real_time(self) -> None:
        """Eight tasks at concurrency 2 start in creation order, never more than 2 at once."""
        # Long enough (50 ms each) that all eight are created before the first ends.
        emu = Emulator(time_scale=TIME_SCALE, concurrency=2, durations={"image": 25.0}, seed=5)
        # Our client's limiter would keep the extra tasks from ever reaching THROTTLED.
        async with emu, make_client(emu, max_concurrency=None) as client:
            handles = await asyncio.gather(
                *(
                    client.text_to_image.create(**{**IMAGE_PARAMS, "prompt_text": f"n{n}"})
                    for n in range(8)
                )
            )
            await asyncio.gather(*(h.wait_for_task_output(timeout=10) for h in handles))
            # The task store keeps creation order.
            records = list(emu.simulation.known_task_ids().values())
            metrics = emu.metrics()
        admitted = [r.admitted for r in records if r.admitted is not None]
        assert len(admitted) == len(records) == 8
        assert admitted == sorted(admitted)
        assert metrics["max_running"]["gen4_image"] == 2
        assert metrics["throttled_seconds"]["total"] > 0


class TestCancelAndDelete:
    async def test_cancel_then_delete_then_404(
        self, manual: tuple[Emulator, FakeClock, Call]
    ) -> None:
        """DELETE cancels a running task (204, empty), deletes it the second time, then 404."""
        _, clock, call = manual
        _, created, _ = await call("POST", "/v1/text_to_image", IMAGE_BODY)
        path = f"/v1/tasks/{created['id']}"
        clock.tick(2.0)
        status, body, _ = await call("DELETE", path)
        assert (status, body) == (204, b"")
        _, task, _ = await call("GET", path)
        assert task["status"] == "CANCELLED"
        assert task["cost"]["credits"] > 0  # it was RUNNING: no refund
        assert (await call("DELETE", path))[0] == 204
        assert (await call("GET", path))[0] == 404
        assert (await call("DELETE", path))[0] == 404

    async def test_client_cancel_and_delete(self, client: AsyncRunway) -> None:
        """Our client's delete cancels, deletes, and then the task is NotFound."""
        handle = await client.text_to_image.create(**IMAGE_PARAMS)
        await client.tasks.wait(handle.id, timeout=10)
        await client.tasks.delete(handle.id)
        with pytest.raises(NotFoundError):
            await client.tasks.retrieve(handle.id)


class TestLimitsAndOrganization:
    async def test_daily_limit_gives_429_and_usage_counts(self) -> None:
        """Creates beyond maxDailyGenerations get 429; the organization counts the day's tasks."""
        async with Emulator(time_scale=TIME_SCALE, daily_limit={"gen4_image": 2}) as emu:
            async with make_client(emu) as client:
                for _ in range(2):
                    await client.text_to_image.create(**IMAGE_PARAMS)
                with pytest.raises(RateLimitError) as info:
                    await client.text_to_image.create(**IMAGE_PARAMS)
                org = await client.organization.retrieve()
            metrics = emu.metrics()
        assert "gen4_image" in str(info.value)
        assert org.usage.models["gen4_image"].daily_generations == 2
        assert org.remaining_daily("gen4_image") == 0
        assert metrics["tasks_created_total"] == 2

    async def test_organization_reports_configured_limits(self) -> None:
        """Every known model is listed with the configured concurrency and daily limits."""
        emu = Emulator(concurrency={"gen4.5": 2}, daily_limit=100)
        async with emu, make_client(emu) as client:
            org = await client.organization.retrieve()
        assert org.max_concurrency("gen4.5") == 2
        assert org.max_concurrency("gen4_image") == 5
        assert org.tier.models["gen4_turbo"].max_daily_generations == 100
        for model in ("gen4_turbo", "eleven_multilingual_v2", "product_ad", "gwm1_avatars"):
            assert model in org.tier.models
            assert org.usage.models[model].daily_generations == 0
        assert org.tier.max_monthly_credit_spend

    async def test_usage_reports_credits_by_day_and_model(self, client: AsyncRunway) -> None:
        """A finished task's credits appear under today's date and its model."""
        handle = await client.text_to_image.create(**IMAGE_PARAMS)
        task = await handle.wait_for_task_output(timeout=10)
        today = datetime.now(timezone.utc).date()
        usage = await client.organization.retrieve_usage(
            start_date=today, before_date=today + timedelta(days=1)
        )
        assert usage.models == ("gen4_image",)
        (day,) = usage.results
        assert day.date == today
        assert [(c.model, c.amount) for c in day.used_credits] == [
            ("gen4_image", task.cost.credits if task.cost else None)
        ]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"startDate": "2025-13-01"}, "startDate"),
            ({"startDate": "01/02/2025"}, "startDate"),
            ({"startDate": "2025-01-01", "beforeDate": "2025-01-01"}, "beforeDate"),
            ({"startDate": "2025-01-01", "beforeDate": "2025-06-01"}, "beforeDate"),
        ],
    )
    async def test_usage_dates_are_validated(
        self, call: Call, body: dict[str, str], field: str
    ) -> None:
        """Malformed, inverted or over-90-day ranges get 400 naming the field."""
        status, reply, _ = await call("POST", "/v1/organization/usage", body)
        assert status == 400
        assert field in reply["error"]


class TestFaults:
    async def test_error_after_is_ambiguous_and_the_task_exists(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """A 500 after processing is an AmbiguousSubmissionError for our client; the task exists."""
        emulator.faults.inject("error_after")
        with pytest.raises(AmbiguousSubmissionError):
            await client.text_to_image.create(**IMAGE_PARAMS)
        metrics = emulator.metrics()
        assert metrics["tasks_created_total"] == 1
        assert metrics["requests"]["POST /v1/text_to_image"] == {"500": 1}

    @pytest.mark.parametrize(("kind", "status"), [("error_before", "503"), ("rate_limit", "429")])
    async def test_before_faults_are_retried_and_create_one_task(
        self, emulator: Emulator, client: AsyncRunway, kind: str, status: str
    ) -> None:
        """503 and 429 before processing are retried by our client; exactly one task results."""
        emulator.faults.inject(kind, count=2)
        await client.text_to_image.create(**IMAGE_PARAMS)
        metrics = emulator.metrics()
        assert metrics["tasks_created_total"] == 1
        assert metrics["requests"]["POST /v1/text_to_image"] == {status: 2, "200": 1}

    async def test_rate_limit_sends_retry_after(self, emulator: Emulator, call: Call) -> None:
        """An injected 429 carries Retry-After and a JSON error, and creates nothing."""
        emulator.faults.inject("rate_limit", retry_after=7)
        status, body, headers = await call("POST", "/v1/text_to_image", IMAGE_BODY)
        assert status == 429
        assert headers["Retry-After"] == "7"
        assert "error" in body
        assert emulator.metrics()["tasks_created_total"] == 0

    async def test_drop_before_creates_nothing(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """A connection dropped before processing creates no task (the client cannot know)."""
        emulator.faults.inject("drop_before")
        with pytest.raises(AmbiguousSubmissionError):
            await client.text_to_image.create(**IMAGE_PARAMS)
        metrics = emulator.metrics()
        assert metrics["tasks_created_total"] == 0
        assert metrics["requests"]["POST /v1/text_to_image"] == {"dropped": 1}

    async def test_drop_before_on_a_read_is_retried(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """A dropped GET is retried by our client and succeeds."""
        handle = await client.text_to_image.create(**IMAGE_PARAMS)
        emulator.faults.inject("drop_before", route="/v1/tasks")
        task = await client.tasks.retrieve(handle.id)
        assert task.id == handle.id
        assert emulator.metrics()["requests"]["GET /v1/tasks/{id}"] == {"dropped": 1, "200": 1}

    async def test_drop_after_is_ambiguous_and_the_task_exists(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """A connection dropped after processing is ambiguous; the task was created."""
        emulator.faults.inject("drop_after")
        with pytest.raises(AmbiguousSubmissionError):
            await client.text_to_image.create(**IMAGE_PARAMS)
        assert emulator.metrics()["tasks_created_total"] == 1

    async def test_hold_after_times_out_as_ambiguous(self, emulator: Emulator) -> None:
        """A reply held back past our client's timeout is ambiguous; the task exists."""
        emulator.faults.inject("hold_after")
        async with make_client(emulator, timeout=0.2) as client:
            with pytest.raises(AmbiguousSubmissionError):
                await client.text_to_image.create(**IMAGE_PARAMS)
        assert emulator.metrics()["tasks_created_total"] == 1

    async def test_hold_after_with_delay_replies_late(
        self, emulator: Emulator, client: AsyncRunway
    ) -> None:
        """A held reply with a delay arrives after it, carrying the created task."""
        emulator.faults.inject("hold_after", delay=0.05)
        started = time.monotonic()
        handle = await client.text_to_image.create(**IMAGE_PARAMS)
        assert time.monotonic() - started >= 0.05
        assert handle.id in emulator.simulation.known_task_ids()

    async def test_latency_delays_processing(self, emulator: Emulator, client: AsyncRunway) -> None:
        """Latency delays the request, which then succeeds normally."""
        emulator.faults.inject("latency", delay=0.05, route="organization")
        started = time.monotonic()
        await client.organization.retrieve()
        assert time.monotonic() - started >= 0.05
        assert emulator.metrics()["requests"]["GET /v1/organization"] == {"200": 1}

    async def test_faults_over_http(
        self, emulator: Emulator, client: AsyncRunway, call: Call
    ) -> None:
        """POST /_emulator/faults queues faults for another process; bad ones get 400."""
        status, body, _ = await call(
            "POST", "/_emulator/faults", {"kind": "error_before", "count": 2, "status": 502}
        )
        assert status == 200
        assert body["queued"]["count"] == 2
        _, listed, _ = await call("GET", "/_emulator/faults")
        assert [f["kind"] for f in listed["faults"]] == ["error_before"]
        await client.text_to_image.create(**IMAGE_PARAMS)
        assert emulator.metrics()["requests"]["POST /v1/text_to_image"] == {"502": 2, "200": 1}
        status, body, _ = await call("POST", "/_emulator/faults", {"kind": "meteor"})
        assert status == 400
        assert "meteor" in body["error"]

    async def test_random_fault_rates_apply(self) -> None:
        """fault_rates={'error_before': 1} fails every create with 503 until retries run out."""
        async with Emulator(fault_rates={"error_before": 1.0}, seed=1) as emu:
            async with make_client(emu) as client:
                with pytest.raises(InternalServerError):
                    await client.text_to_image.create(**IMAGE_PARAMS)
            assert emu.metrics()["tasks_created_total"] == 0


class TestReplyFaults:
    """Faults that mangle the reply itself: the request is processed, the answer is broken."""

    async def test_not_http_answers_garbage_after_creating_the_task(
        self, emulator: Emulator
    ) -> None:
        """not_http writes bytes that are no HTTP reply and closes; the task was created."""
        emulator.faults.inject("not_http")
        reply = await raw_post(emulator.url, "/v1/text_to_image", IMAGE_BODY)
        assert reply
        assert not reply.startswith(b"HTTP/")
        metrics = emulator.metrics()
        assert metrics["tasks_created_total"] == 1
        assert metrics["requests"]["POST /v1/text_to_image"] == {"dropped": 1}

    async def test_not_json_answers_html_with_the_real_status(
        self, emulator: Emulator, call: Call
    ) -> None:
        """not_json answers the request's own status (200) with an HTML page; the task exists."""
        emulator.faults.inject("not_json")
        status, body, headers = await call("POST", "/v1/text_to_image", IMAGE_BODY)
        assert status == 200
        assert headers["Content-Type"].startswith("text/html")
        assert body.startswith(b"<html>")
        assert emulator.metrics()["tasks_created_total"] == 1

    async def test_truncated_sends_less_than_its_content_length(self, emulator: Emulator) -> None:
        """A truncated reply declares its full Content-Length, sends half and closes."""
        emulator.faults.inject("truncated")
        reply = await raw_post(emulator.url, "/v1/text_to_image", IMAGE_BODY)
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        assert 0 < len(body) < length
        assert body.startswith(b'{"id"')
        assert emulator.metrics()["tasks_created_total"] == 1

    async def test_oversized_pads_the_real_reply_to_size(
        self, emulator: Emulator, call: Call
    ) -> None:
        """An oversized reply is the real one padded to exactly size bytes; the task exists."""
        emulator.faults.inject("oversized", size=50_000)
        status, body, _ = await call("POST", "/v1/text_to_image", IMAGE_BODY)
        assert status == 200
        assert len(json.dumps(body)) == 50_000
        assert body["id"] in emulator.simulation.known_task_ids()
        assert set(body["padding"]) == {"x"}

    async def test_oversized_with_a_status_is_a_rejection(
        self, emulator: Emulator, call: Call
    ) -> None:
        """An oversized fault with a status answers that error, padded, and creates no task."""
        emulator.faults.inject("oversized", size=20_000, status=400)
        status, body, _ = await call("POST", "/v1/text_to_image", IMAGE_BODY)
        assert status == 400
        assert len(json.dumps(body)) == 20_000
        assert "error" in body
        assert emulator.metrics()["tasks_created_total"] == 0

    async def test_oversized_applies_to_reads(self, emulator: Emulator, call: Call) -> None:
        """An oversized fault routed to a GET pads that GET's reply (the task itself)."""
        _, created, _ = await call("POST", "/v1/text_to_image", IMAGE_BODY)
        emulator.faults.inject("oversized", size=10_000, route="tasks")
        status, body, _ = await call("GET", f"/v1/tasks/{created['id']}")
        assert status == 200
        assert body["id"] == created["id"]
        assert len(json.dumps(body)) == 10_000

    async def test_endless_sends_headers_then_a_body_that_never_ends(
        self, emulator: Emulator, http: aiohttp.ClientSession
    ) -> None:
        """An endless reply sends 200, then a space per delay, and never ends its body."""
        emulator.faults.inject("endless", delay=0.001)
        async with http.post(
            emulator.url + "/v1/text_to_image", json=IMAGE_BODY, headers=HEADERS
        ) as resp:
            assert resp.status == 200
            assert resp.content_length is None
            received = b""
            while len(received) < 5:
                received += await resp.content.read(5 - len(received))
            assert received == b"     "
            assert not resp.content.at_eof()
        assert emulator.metrics()["tasks_created_total"] == 1

    async def test_endless_body_stops_when_the_server_stops(
        self, http: aiohttp.ClientSession
    ) -> None:
        """A server stopping ends an endless body itself instead of being cut off mid-reply."""
        async with Emulator(time_scale=TIME_SCALE) as emu:
            emu.faults.inject("endless", delay=60)
            resp = await http.post(emu.url + "/v1/text_to_image", json=IMAGE_BODY, headers=HEADERS)
            assert resp.status == 200
        resp.release()
        outcomes = emu.metrics()["requests"]["POST /v1/text_to_image"]
        assert "held" not in outcomes  # "held": the handler was cancelled by the shutdown

    async def test_reply_faults_over_http(self, emulator: Emulator, call: Call) -> None:
        """POST /_emulator/faults takes the new kinds and size; a bad size is a 400."""
        status, body, _ = await call(
            "POST", "/_emulator/faults", {"kind": "oversized", "size": 1234, "route": "tasks"}
        )
        assert status == 200
        assert body["queued"]["size"] == 1234
        _, listed, _ = await call("GET", "/_emulator/faults")
        assert listed["faults"][0]["kind"] == "oversized"
        for bad in ({"kind": "oversized", "size": -1}, {"kind": "endless", "size": "big"}):
            status, body, _ = await call("POST", "/_emulator/faults", bad)
            assert status == 400
            assert "size" in body["error"]

    async def test_which_kinds_process_the_request(self) -> None:
        """Every reply-mangling kind processes the request, except oversized with a status."""
        for kind in ("not_http", "not_json", "truncated", "oversized", "endless"):
            assert Fault(kind=kind).processes_request
            assert FaultKind(kind).processes_request
        assert not Fault(kind="oversized", status=400).processes_request
        assert parse_fault({"kind": "oversized", "size": 10, "count": 2}) == (
            Fault(kind=FaultKind.OVERSIZED, size=10),
            2,
        )


async def raw_post(url: str, path: str, body: Any) -> bytes:
    """Send one POST over a plain socket and return every byte the server sent until it closed."""
    parts = urllib.parse.urlsplit(url)
    data = json.dumps(body).encode()
    head = "".join(
        [
            f"POST {path} HTTP/1.1\r\n",
            f"Host: {parts.netloc}\r\n",
            *(f"{name}: {value}\r\n" for name, value in HEADERS.items()),
            "Content-Type: application/json\r\n",
            f"Content-Length: {len(data)}\r\n",
            "Connection: close\r\n\r\n",
        ]
    )
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head.encode() + data)
        return await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


class TestMetricsAndReset:
    async def test_duplicate_bodies_and_detection_lag(
        self, emulator: Emulator, client: AsyncRunway, call: Call
    ) -> None:
        """Identical creates are counted; the first terminal GET records the detection lag."""
        first = await client.text_to_image.create(**IMAGE_PARAMS)
        await client.text_to_image.create(**IMAGE_PARAMS)
        await client.tasks.wait(first.id, timeout=10)
        status, metrics, _ = await call("GET", "/_emulator/metrics")
        assert status == 200
        assert metrics["duplicate_bodies"] == 1
        assert metrics["duplicate_creates"] == 1
        assert metrics["tasks_created"] == {"gen4_image": 2}
        lag = metrics["detection_lag"][first.id]
        assert lag["status"] == "SUCCEEDED"
        assert lag["api_seconds"] >= 0
        assert lag["real_seconds"] == pytest.approx(lag["api_seconds"] * TIME_SCALE, abs=1e-5)
        assert metrics["detection_lag_summary"]["count"] == 1
        assert metrics["requests"]["POST /v1/text_to_image"] == {"200": 2}
        assert "GET /_emulator/metrics" not in metrics["requests"]

    async def test_reset_clears_everything(
        self, emulator: Emulator, client: AsyncRunway, call: Call
    ) -> None:
        """POST /_emulator/reset forgets tasks, usage, metrics and queued faults."""
        handle = await client.text_to_image.create(**IMAGE_PARAMS)
        emulator.faults.inject("error_after", count=5)
        status, _, _ = await call("POST", "/_emulator/reset")
        assert status == 200
        assert emulator.faults.pending() == []
        with pytest.raises(NotFoundError):
            await client.tasks.retrieve(handle.id)
        org = await client.organization.retrieve()
        assert org.usage.models["gen4_image"].daily_generations == 0
        metrics = emulator.metrics()
        assert metrics["tasks_created_total"] == 0
        assert metrics["requests"] == {
            "GET /v1/tasks/{id}": {"404": 1},
            "GET /v1/organization": {"200": 1},
        }


class TestSpecMock:
    async def test_unknown_ids_and_no_limits(self, http: aiohttp.ClientSession) -> None:
        """Unknown ids answer a complete SUCCEEDED task, deletes succeed, and nothing throttles."""
        async with Emulator(spec_mock=True, concurrency=1, daily_limit=1) as emu:
            call = Call(http, emu.url)
            status, task, _ = await call("GET", "/v1/tasks/some-example-id")
            assert status == 200
            assert set(task) == {"id", "status", "createdAt", "cost", "output"}
            assert task["status"] == "SUCCEEDED"
            async with http.get(task["output"][0]) as resp:
                assert resp.status == 200
            assert (await call("DELETE", "/v1/tasks/some-example-id"))[0] == 204
            ids = [(await call("POST", "/v1/text_to_image", IMAGE_BODY))[1]["id"] for _ in range(3)]
            statuses = {(await call("GET", f"/v1/tasks/{i}"))[1]["status"] for i in ids}
            assert "THROTTLED" not in statuses
            _, usage, _ = await call("POST", "/v1/organization/usage", {})
            assert {"models", "results", "apiKeys", "resultsByApiKey"} <= set(usage)


class TestEmulatorLifecycle:
    async def test_url_start_stop_restart(self, http: aiohttp.ClientSession) -> None:
        """The URL needs a running server; start is idempotent; a stopped emulator restarts."""
        emu = Emulator.from_config(EmulatorConfig(time_scale=TIME_SCALE))
        with pytest.raises(RuntimeError, match="not running"):
            _ = emu.url
        url = await emu.start()
        assert await emu.start() == url
        assert url.startswith("http://127.0.0.1:")
        assert emu.port == int(url.rsplit(":", 1)[1])
        await emu.stop()
        await emu.stop()
        assert not emu.running
        async with emu:
            status, _, _ = await Call(http, emu.url)("GET", "/v1/organization")
            assert status == 200
