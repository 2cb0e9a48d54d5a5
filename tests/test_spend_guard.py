"""The spend guard (max_credits), retrying failures on purpose (retry_failed) and --dry-run."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from click.testing import CliRunner

from runway_async import (
    AsyncRunway,
    CreditLimitError,
    InMemoryBatchJournal,
    Job,
    PollConfig,
    SQLiteBatchJournal,
    cli,
)
from runway_async._spend import SpendGuard, is_retryable_failure, spend_key
from runway_async.emulator import Emulator
from runway_async.emulator._config import EmulatorConfig

TIME_SCALE = 0.002
DURATIONS = {"image": 0.5, "audio": 0.5, "video": 0.5}
POLL = PollConfig(interval=0.01, requests_per_second=5000)
IMAGE_PRICE = 8  # the emulator's estimate for one gen4_image image
KEY = ("text_to_image", "gen4_image")
_T = TypeVar("_T")


def image(n: int) -> Job:
    return Job(
        "text_to_image",
        {"model": "gen4_image", "prompt_text": f"fox {n}", "ratio": "1024:1024"},
        key=f"fox-{n}",
    )


async def settle_loop() -> None:
    """Let every ready callback run (no timing: a bounded number of loop iterations)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def pending(awaitable: Awaitable[_T]) -> asyncio.Task[_T]:
    """Start ``awaitable`` and return its task once it had every chance to run."""
    task: asyncio.Task[_T] = asyncio.ensure_future(awaitable)
    await settle_loop()
    return task


# -- the guard on its own -------------------------------------------------------------------


class TestGuard:
    async def test_first_create_of_a_kind_goes_alone_until_its_price_is_known(self) -> None:
        guard = SpendGuard(100)
        probe = await guard.reserve(KEY)
        assert probe.probe
        assert probe.amount == 0
        second = await pending(guard.reserve(KEY))
        other_kind = await guard.reserve(("text_to_video", "gen4.5"))  # its own probe
        assert not second.done()
        assert other_kind.probe
        guard.replied(probe, 8)
        await settle_loop()
        assert second.done()
        assert second.result().amount == 8
        assert not second.result().probe
        assert guard.reserved == 16
        assert guard.estimated == 8

    async def test_the_reply_refunds_the_difference_and_the_end_counts_the_cost(self) -> None:
        guard = SpendGuard(100)
        first = await guard.reserve(KEY)
        guard.replied(first, 10)
        second = await guard.reserve(KEY)
        assert second.amount == 10  # the largest price seen
        guard.replied(second, 6)
        assert guard.reserved == 16  # 10 + 6: the 4 held too many were refunded
        guard.settle(first, 10, created=True)
        guard.settle(second, 0, created=True)  # a failure that refunded
        assert (guard.spent, guard.reserved, guard.unsettled) == (10, 0, 0)
        assert guard.price(KEY) == 10
        assert guard.snapshot().estimated == 16

    async def test_never_past_the_limit_waits_for_refunds_then_refuses(self) -> None:
        guard = SpendGuard(20)
        first = await guard.reserve(KEY)
        guard.replied(first, 8)
        second = await guard.reserve(KEY)
        assert guard.committed == 16
        third = await pending(guard.reserve(KEY))
        assert not third.done()  # 16 + 8 > 20, but a refund could make room
        guard.settle(first, 8, created=True)
        await settle_loop()
        assert not third.done()  # spent 8 + held 8 + 8 > 20
        guard.settle(second, 0, created=True)  # refunded: room for one more
        await settle_loop()
        assert third.done()
        granted = third.result()
        assert guard.committed == 16 <= 20
        fourth = await pending(guard.reserve(KEY))
        assert not fourth.done()
        guard.settle(granted, 8, created=True)  # spent 16: 16 + 8 can never fit
        await settle_loop()
        with pytest.raises(CreditLimitError, match=r"up to 8 credits and only 4"):
            fourth.result()
        assert guard.skipped == 1
        assert guard.spent == 16

    async def test_an_unknown_outcome_keeps_its_credits_for_good(self) -> None:
        guard = SpendGuard(20)
        first = await guard.reserve(KEY)
        guard.replied(first, 8)
        second = await guard.reserve(KEY)
        guard.settle(second, None, created=True)  # sent, never answered
        guard.settle(first, None, created=False)  # nothing was created: released
        assert (guard.reserved, guard.unsettled, guard.committed) == (0, 8, 8)
        third = await guard.reserve(KEY)
        assert third.amount == 8
        fourth = await pending(guard.reserve(KEY))
        assert not fourth.done()  # 8 held for good + 8 held + 8 > 20; the 8 may come back
        guard.settle(third, 8, created=True)
        await settle_loop()
        with pytest.raises(CreditLimitError):
            fourth.result()  # 8 held for good + 8 spent + 8 > 20: never fits
        assert guard.committed == 16

    async def test_without_a_limit_it_only_counts(self) -> None:
        guard = SpendGuard(None)
        first = await guard.reserve(KEY)
        second = await guard.reserve(KEY)  # no probe: nothing to protect
        assert not first.probe
        assert not second.probe
        guard.replied(first, 8)
        guard.settle(first, 8, created=True)
        guard.settle(second, None, created=False)
        assert guard.snapshot().spent == 8
        assert guard.snapshot().limit is None

    async def test_a_cancelled_wait_holds_nothing(self) -> None:
        guard = SpendGuard(10)
        probe = await guard.reserve(KEY)
        waiting = await pending(guard.reserve(KEY))
        waiting.cancel()
        await settle_loop()
        assert waiting.cancelled()
        guard.replied(probe, 8)
        assert guard.reserved == 8

    async def test_many_jobs_at_once_never_commit_past_the_limit(self) -> None:
        guard = SpendGuard(100)
        rng = random.Random(5)
        outcomes: list[str] = []
        peak = 0.0

        async def job(n: int) -> None:
            nonlocal peak
            try:
                reservation = await guard.reserve(KEY)
            except CreditLimitError:
                outcomes.append("skipped")
                return
            peak = max(peak, guard.committed)
            for _ in range(rng.randrange(3)):
                await asyncio.sleep(0)
            guard.replied(reservation, rng.choice([5, 8]))
            peak = max(peak, guard.committed)
            for _ in range(rng.randrange(3)):
                await asyncio.sleep(0)
            guard.settle(reservation, rng.choice([0, 5, 8]), created=True)
            outcomes.append("done")

        await asyncio.gather(*(job(n) for n in range(200)))
        assert len(outcomes) == 200
        assert peak <= 100
        assert guard.spent <= 100
        assert outcomes.count("skipped") == guard.skipped > 0
        assert guard.reserved == 0

    def test_bad_limits_are_refused(self) -> None:
        for bad in (-1, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="max_credits"):
                SpendGuard(bad)


def test_retryable_codes_follow_the_reference() -> None:
    for code in ("INTERNAL", "INTERNAL.BAD_OUTPUT.CODE01", "INPUT_PREPROCESSING.INTERNAL"):
        assert is_retryable_failure(code), code
    for code in (
        None,
        "",
        "SAFETY.INPUT.TEXT",
        "SAFETY.OUTPUT.VIDEO",
        "INPUT_PREPROCESSING.SAFETY.TEXT",
        "ASSET.INVALID",
        "INTERNALX",
    ):
        assert not is_retryable_failure(code), code


def test_kinds_are_endpoint_and_model() -> None:
    assert spend_key("text_to_image", {"model": "gen4_image"}) == KEY
    assert spend_key("generate.video", {"config_id": "r1", "input": {}}) == (
        "generate.video",
        "r1",
    )
    assert spend_key("workflows.run", {"id": "wf-1"}) == ("workflows.run", "wf-1")


# -- batches against the emulator -------------------------------------------------------------


def emulator(**settings: Any) -> Emulator:
    config = EmulatorConfig(time_scale=TIME_SCALE, durations=DURATIONS, seed=4, **settings)
    return Emulator.from_config(config)


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with emulator() as running:
        yield running


async def charged(client: AsyncRunway, emu: Emulator) -> int:
    """Return the credits the emulator holds or charged (its balance taken from the start)."""
    organization = await client.organization.retrieve()
    return int(emu.config.credit_balance - organization.credit_balance)


class TestBatch:
    async def test_max_credits_stops_with_skipped_rows(self, emu: Emulator) -> None:
        async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
            batch = client.batch([image(n) for n in range(12)], max_credits=44)
            results = await batch.gather()
            statuses = [r.status for r in results]
            assert statuses.count("SUCCEEDED") == 5  # 5 x 8 = 40; a sixth would be 48 > 44
            assert statuses.count("SKIPPED") == 7
            skipped = next(r for r in results if r.status == "SKIPPED")
            assert isinstance(skipped.error, CreditLimitError)
            assert "max_credits (44)" in (skipped.error_message or "")
            assert skipped.task_id is None
            assert skipped.attempts == ()
            assert emu.metrics()["tasks_created_total"] == 5
            assert await charged(client, emu) == 40 <= 44
            credits = batch.credits
            assert (credits.estimated, credits.spent, credits.reserved) == (40, 40, 0)
            assert credits.limit == 44
            assert credits.skipped == 7

    async def test_the_limit_holds_across_a_resume(self, emu: Emulator, tmp_path: Path) -> None:
        """A resumed journal's finished jobs count as spent: the limit is the batch's."""
        journal = tmp_path / "batch.db"
        jobs = [image(n) for n in range(6)]
        async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
            first = await client.batch(jobs[:3], journal=journal).gather()  # 3 x 8 = 24
            assert [r.status for r in first] == ["SUCCEEDED"] * 3
        with SQLiteBatchJournal(journal) as recorded:
            assert recorded.earlier_credits() == 24
        # The same journal, all six jobs, a limit of 40: 24 are spent, so only 2 more fit.
        journal.unlink()  # the jobs list differs: start a journal holding the first run's
        async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
            memory = InMemoryBatchJournal()
            for result in first:
                assert result.task_id is not None
                memory.job_submitted(result.index, result.job, result.task_id)
                memory.job_finished(result)
            assert memory.earlier_credits() == 24
            batch = client.batch(jobs, journal=memory, max_credits=40)
            results = await batch.gather()
        statuses = [r.status for r in results]
        assert statuses[:3] == ["SUCCEEDED"] * 3  # finished before: skipped, not paid again
        assert statuses[3:].count("SUCCEEDED") == 2
        assert statuses[3:].count("SKIPPED") == 1
        assert emu.metrics()["tasks_created_total"] == 5
        assert batch.credits.spent == 40

    async def test_a_limit_below_one_price_creates_only_the_probe(self, emu: Emulator) -> None:
        async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
            results = await client.batch([image(n) for n in range(4)], max_credits=8).gather()
            assert [r.status for r in results].count("SUCCEEDED") == 1
            assert emu.metrics()["tasks_created_total"] == 1
            assert await charged(client, emu) == 8

    async def test_retry_failed_creates_retryable_failures_again(self) -> None:
        async with emulator(failure_rate=1.0, failure_codes=["INTERNAL"]) as emu:
            async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
                journal = InMemoryBatchJournal()
                jobs = [image(n) for n in range(3)]
                results = await client.batch(jobs, retry_failed=2, journal=journal).gather()
            assert [r.status for r in results] == ["FAILED"] * 3
            for result in results:
                assert len(result.attempts) == 3
                assert len(set(result.attempts)) == 3
                assert result.task_id == result.attempts[-1]
                submitted = [t for kind, i, t in journal.events if kind == "submitted"]
                assert set(result.attempts) <= set(submitted)
            assert emu.metrics()["tasks_created_total"] == 9

    async def test_retry_failed_never_retries_safety_failures(self) -> None:
        async with emulator(failure_rate=1.0, failure_codes=["SAFETY.INPUT.TEXT"]) as emu:
            async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
                results = await client.batch([image(0), image(1)], retry_failed=3).gather()
            assert [len(r.attempts) for r in results] == [1, 1]
            assert emu.metrics()["tasks_created_total"] == 2

    async def test_retries_stay_within_the_spend_guard(self) -> None:
        # Retryable failures refund (cost 0) in the emulator, so only moderated ones cost.
        # Each attempt holds 8 of the 8 allowed; the refund of a failure makes room again.
        emu = emulator(failure_rate=1.0, failure_codes=["INTERNAL.BAD_OUTPUT.X"])
        async with emu, AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
            batch = client.batch([image(0)], retry_failed=5, max_credits=8)
            (result,) = await batch.gather()
            assert result.status == "FAILED"
            assert len(result.attempts) == 6
            assert batch.credits.spent == 0
            assert batch.credits.estimated == 48
            assert await charged(client, emu) == 0

    async def test_off_by_default(self) -> None:
        async with emulator(failure_rate=1.0, failure_codes=["INTERNAL"]) as emu:
            async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
                (result,) = await client.batch([image(0)]).gather()
            assert result.status == "FAILED"
            assert len(result.attempts) == 1

    async def test_options_are_checked_before_anything_is_sent(self, emu: Emulator) -> None:
        async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as client:
            with pytest.raises(ValueError, match="retry_failed"):
                client.batch([image(0)], retry_failed=-1)
            with pytest.raises(ValueError, match="max_credits"):
                client.batch([image(0)], max_credits=-5)
            with pytest.raises(TypeError, match="max_credits"):
                client.batch([image(0)], max_credits="10")  # type: ignore[arg-type]
        assert emu.metrics()["requests"] == {}


# -- the command line -------------------------------------------------------------------------


def write_jobs(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def line(n: int) -> dict[str, Any]:
    return {"endpoint": image(n).endpoint, "params": dict(image(n).params), "id": f"fox-{n}"}


class TestCommandLine:
    def test_dry_run_prints_kinds_and_sends_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        speech = {
            "endpoint": "text_to_speech",
            "params": {
                "model": "eleven_multilingual_v2",
                "prompt_text": "Hello",
                "voice": {"type": "runway-preset", "preset_id": "Leslie"},
            },
        }
        jobs = write_jobs(tmp_path / "jobs.jsonl", line(0), line(1), speech)
        with emulator().in_thread() as emu:
            monkeypatch.setenv("RUNWAYML_BASE_URL", emu.url)  # no key: none is needed
            result = CliRunner().invoke(
                cli.build_cli(),
                ["batch", str(jobs), "--dry-run", "--out", str(tmp_path / "out")],
            )
            assert result.exit_code == 0, result.output
            assert emu.metrics()["requests"] == {}
        assert "gen4_image" in result.output
        assert "eleven_multilingual_v2" in result.output
        assert "unknown before sending" in result.output
        assert not (tmp_path / "out").exists()

    def test_dry_run_with_an_invalid_line_exits_1(self, tmp_path: Path) -> None:
        bad = {"endpoint": "text_to_image", "params": {"model": "gen4_image", "ratio": "1:1"}}
        jobs = write_jobs(tmp_path / "jobs.jsonl", line(0), bad)
        result = CliRunner().invoke(cli.build_cli(), ["batch", str(jobs), "--dry-run"])
        assert result.exit_code == 1, result.output
        assert "INVALID" in result.output

    def test_max_credits_and_retry_failed(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cli, "_batch_emulator", emulator)
        jobs = write_jobs(tmp_path / "jobs.jsonl", *(line(n) for n in range(4)))
        out = tmp_path / "out"
        result = CliRunner().invoke(
            cli.build_cli(),
            ["batch", str(jobs), "--emulator", "--out", str(out), "--max-credits", "20"],
        )
        assert result.exit_code == 1, result.output  # SKIPPED jobs did not succeed
        rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
        assert [r["status"] for r in rows].count("SUCCEEDED") == 2
        skipped = [r for r in rows if r["status"] == "SKIPPED"]
        assert len(skipped) == 2
        assert "max_credits (20)" in skipped[0]["error"]
        assert all("attempts" not in r for r in rows)  # listed only for a job created again
        assert "Credits: 16 estimated, 16 spent (--max-credits 20; 2 creates not started)" in (
            result.output
        )

    def test_retry_failed_lists_the_attempts_in_the_row(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def failing() -> Emulator:
            return emulator(failure_rate=1.0, failure_codes=["INPUT_PREPROCESSING.INTERNAL"])

        monkeypatch.setattr(cli, "_batch_emulator", failing)
        jobs = write_jobs(tmp_path / "jobs.jsonl", line(0))
        out = tmp_path / "out"
        args = ["batch", str(jobs), "--emulator", "--out", str(out), "--retry-failed", "1"]
        result = CliRunner().invoke(cli.build_cli(), args)
        assert result.exit_code == 1, result.output
        (row,) = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
        assert row["status"] == "FAILED"
        assert len(row["attempts"]) == 2
        assert row["task_id"] == row["attempts"][-1]
