"""The fault-injection suite (issue 12): a 1,000-job batch through a faulty network.

Every task-creating POST gets one fault from a seeded plan: 5% 5xx before processing (500,
502, 503), 5% 5xx after processing (500, 504), 2% dropped connections before and 2% after,
2% 429 with ``Retry-After``, and 50 ms of added latency for the rest; task polls get the same
50 ms latency. The emulator's own seeded ``failure_rate`` makes some tasks FAILED. The test
asserts outcomes only, never timing: every job ends SUCCEEDED, FAILED with a reason, UNKNOWN
(possibly created, with its request kept) or refused for certain (nothing created); no body
is created twice; nothing raises out of the batch or the loop; the limiter hands out its
full limit again; the client's session is closed (warnings are errors). The figures are
printed (``pytest -s``) for the closing note.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import pytest

from runway_async import (
    AmbiguousSubmissionError,
    APIStatusError,
    AsyncRunway,
    InProcessLimiter,
    PollConfig,
    RetryConfig,
    TaskFailedError,
)
from runway_async._batch import BatchResult, Job
from runway_async.emulator import Emulator

from .conftest import API_KEY

# Runs once per CI run (the default Python, aiohttp 3.13): see noxfile.py.
pytestmark = pytest.mark.heavy

JOBS = 1_000
SEED = 12
TIME_SCALE = 0.001  # a 2 s image takes 2 ms
MODEL = "gen4_image"
MODEL_LIMIT = 40  # the emulator's concurrency for the model, which the limiter reads
LATENCY = 0.05  # seconds, real: the emulator does not scale fault delays by time_scale
FAILURE_RATE = 0.03
MAX_RETRIES = 6

# (probability, fault kind, statuses to pick from) per task-creating POST; the rest get latency.
PLAN: tuple[tuple[float, str, tuple[int, ...]], ...] = (
    (0.05, "error_before", (500, 502, 503)),
    (0.05, "error_after", (500, 504)),
    (0.02, "drop_before", ()),
    (0.02, "drop_after", ()),
    (0.02, "rate_limit", (429,)),
)
# Only 429, 502 and 503 prove a create was not processed, so only they are re-sent.
RESENT = frozenset({"rate_limit:429", "error_before:502", "error_before:503"})


def fault_plan(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Return ``count`` faults for successive creates, drawn from ``PLAN`` with ``rng``."""
    plan = []
    for _ in range(count):
        draw = rng.random()
        fault: dict[str, Any] = {"kind": "latency", "delay": LATENCY}
        for probability, kind, statuses in PLAN:
            if draw < probability:
                fault = {"kind": kind}
                if statuses:
                    fault["status"] = rng.choice(statuses)
                if kind == "rate_limit":
                    fault["retry_after"] = 1  # back-offs are instant under set_testing
                break
            draw -= probability
        plan.append(fault)
    return plan


def label(fault: dict[str, Any]) -> str:
    status = fault.get("status")
    return f"{fault['kind']}:{status}" if status is not None else str(fault["kind"])


def wire_body(prompt: str) -> dict[str, Any]:
    return {"model": MODEL, "promptText": prompt, "ratio": "1024:1024"}


def jobs() -> list[Job]:
    """Distinct prompts, so the emulator's duplicate counter sees any body sent twice."""
    return [
        Job(
            "text_to_image",
            {"model": MODEL, "prompt_text": f"fox number {i}", "ratio": "1024:1024"},
            key=f"job-{i}",
        )
        for i in range(JOBS)
    ]


def outcome(result: BatchResult) -> str:
    """Classify a result; fail the test for any job not accounted for."""
    error = result.error
    if result.status == "SUCCEEDED":
        assert result.task_id is not None
        assert result.task is not None
        return "SUCCEEDED"
    if result.status == "FAILED":
        assert isinstance(error, TaskFailedError), result
        assert result.task_id is not None
        assert result.error_message, result
        return "FAILED"
    if isinstance(error, AmbiguousSubmissionError):
        # UNKNOWN: possibly created. Its request is kept, exactly as it was sent.
        assert result.status in {"UNKNOWN", "ERROR"}, result
        assert result.task_id is None
        assert error.request_body == wire_body(result.job.params["prompt_text"])
        assert result.error_message
        return "UNKNOWN"
    # Refused for certain (a 502/503/429 still there after every retry): nothing created.
    assert result.status == "ERROR", result
    assert isinstance(error, APIStatusError), result
    assert error.status_code in {429, 502, 503}, result
    assert result.task_id is None
    return "REFUSED"


async def test_thousand_jobs_through_faults_are_all_accounted_for() -> None:
    """1,000 jobs under every fault kind: each ends accounted for, nothing paid twice."""
    plan = fault_plan(random.Random(SEED), JOBS * 2)  # more than enough for every attempt
    loop_errors: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    shift = [0.0]
    limiter = InProcessLimiter(clock=lambda: time.monotonic() + shift[0])
    started = time.perf_counter()
    async with Emulator(
        time_scale=TIME_SCALE,
        seed=SEED,
        concurrency={MODEL: MODEL_LIMIT},
        failure_rate=FAILURE_RATE,
    ) as emu:
        for fault in plan:
            emu.faults.inject(**fault)
        emu.faults.inject("latency", route="tasks", delay=LATENCY, count=1_000_000)
        async with AsyncRunway(
            API_KEY,
            base_url=emu.url,
            limiter=limiter,
            timeout=10.0,
            retry=RetryConfig(max_retries=MAX_RETRIES),
            poll=PollConfig(min_interval=0.01, requests_per_second=10_000),
        ) as client:
            results = await client.batch(jobs(), max_in_flight=64).gather()
        metrics = emu.metrics()
        pending = emu.faults.pending()
    wall = time.perf_counter() - started
    loop.set_exception_handler(None)

    # Every job has exactly one result, and each is one of the accounted-for outcomes.
    assert [r.index for r in results] == list(range(JOBS))
    outcomes = Counter(outcome(r) for r in results)
    assert sum(outcomes.values()) == JOBS

    # Which faults the creates met: the plan's first ones (the queue is consumed in order).
    left = sum(remaining for fault, remaining in pending if fault.route is None)
    polls_delayed = 1_000_000 - sum(n for fault, n in pending if fault.route == "tasks")
    assert polls_delayed == sum(metrics["requests"]["GET /v1/tasks/{id}"].values())
    used = plan[: len(plan) - left]
    injected = Counter(label(f) for f in used)
    create_requests = metrics["requests"]["POST /v1/text_to_image"]
    assert sum(create_requests.values()) == len(used)
    # Each create attempt met one fault; a job's attempts end at its first fault that is
    # not re-sent, so the jobs that ended UNKNOWN are exactly those faults' count, and the
    # refused ones ran out of retries on re-sent faults only.
    ambiguous = sum(n for kind, n in injected.items() if kind not in RESENT and kind != "latency")
    assert outcomes["UNKNOWN"] == ambiguous
    assert outcomes["SUCCEEDED"] + outcomes["FAILED"] == injected["latency"]
    assert outcomes["SUCCEEDED"] > 0
    assert outcomes["FAILED"] > 0
    assert outcomes["UNKNOWN"] > 0
    # The created tasks: one per job that got a reply with its id, plus the creates that
    # were processed before their reply went wrong; no body was created twice.
    processed_unknown = sum(
        n for kind, n in injected.items() if kind.startswith(("error_after", "drop_after"))
    )
    assert metrics["tasks_created_total"] == injected["latency"] + processed_unknown
    assert metrics["duplicate_bodies"] == 0
    assert metrics["duplicate_creates"] == 0
    assert loop_errors == []

    # No leaked slot: once the slots of the possibly-created tasks have expired (their
    # delayed release), the limiter hands out its full limit again.
    shift[0] = 1e6
    assert limiter.in_use(MODEL) == 0
    assert limiter.limit_for(MODEL) == MODEL_LIMIT
    slots = [limiter.try_acquire(MODEL) for _ in range(MODEL_LIMIT)]
    assert all(slot is not None for slot in slots)
    assert limiter.try_acquire(MODEL) is None
    for slot in slots:
        assert slot is not None
        limiter.release(slot, created=False)

    print(  # noqa: T201 - the figures for the closing note (pytest -s)
        f"\nfault suite: {JOBS} jobs in {wall:.1f} s; create attempts {len(used)}; "
        f"faults injected {dict(sorted(injected.items()))}; "
        f"{polls_delayed} task polls delayed {LATENCY * 1000:.0f} ms each; "
        f"outcomes {dict(sorted(outcomes.items()))}; "
        f"statuses {dict(sorted(Counter(r.status for r in results).items()))}; "
        f"tasks created {metrics['tasks_created_total']}; "
        f"duplicate creates {metrics['duplicate_creates']}"
    )
