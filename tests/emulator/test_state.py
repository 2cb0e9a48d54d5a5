"""The simulation alone, driven by a hand-stepped clock: no HTTP, no real time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from runway_async.emulator import EmulatorConfig
from runway_async.emulator._state import DailyLimitExceeded, Simulation, TaskRecord

START = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """A monotonic clock and a wall clock that move only when told."""

    def __init__(self) -> None:
        self.seconds = 100.0
        self.wall = START

    def __call__(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return self.wall

    def tick(self, seconds: float) -> None:
        self.seconds += seconds
        self.wall += timedelta(seconds=seconds)


def make(clock: FakeClock, **settings: Any) -> Simulation:
    settings.setdefault("jitter", 0.0)
    settings.setdefault("seed", 1)
    settings.setdefault("durations", {"video": 10.0, "image": 2.0})
    settings.setdefault("pending_seconds", 1.0)
    return Simulation(EmulatorConfig(**settings), clock=clock, wall_clock=clock.now)


def create(sim: Simulation, model: str = "gen4.5", body: object = None, **kw: Any) -> TaskRecord:
    return sim.create(
        endpoint=kw.pop("endpoint", "image_to_video"),
        model=model,
        kind=kw.pop("kind", "video"),
        body=body if body is not None else {"model": model, "n": id(object())},
        estimated_credits=kw.pop("estimated_credits", 50),
        **kw,
    )


def status(sim: Simulation, task: TaskRecord) -> str:
    got = sim.get(task.id)
    assert got is not None
    return got.status


class TestLifecycle:
    def test_pending_then_running_then_succeeded(self) -> None:
        """A task is PENDING, then RUNNING with rising progress, then SUCCEEDED at cost."""
        clock = FakeClock()
        sim = make(clock)
        task = create(sim)
        assert status(sim, task) == "PENDING"
        clock.tick(1.0)
        assert status(sim, task) == "RUNNING"
        assert task.progress(sim.now()) == 0.0
        clock.tick(5.0)
        assert task.progress(sim.now()) == pytest.approx(0.5)
        clock.tick(5.0)
        assert status(sim, task) == "SUCCEEDED"
        assert task.cost == 50
        assert task.ended == pytest.approx(11.0)

    def test_time_scale_converts_real_to_api_seconds(self) -> None:
        """With time_scale 0.001, 12 ms of real time is 12 API seconds (past the 11 needed)."""
        clock = FakeClock()
        sim = make(clock, time_scale=0.001)
        task = create(sim)
        clock.tick(0.0105)
        assert status(sim, task) == "RUNNING"
        clock.tick(0.0015)
        assert status(sim, task) == "SUCCEEDED"

    def test_failure_rate_one_fails_every_task_with_a_code(self) -> None:
        """failure_rate=1 ends every task FAILED with a failureCode and text."""
        clock = FakeClock()
        sim = make(clock, failure_rate=1.0)
        tasks = [create(sim) for _ in range(10)]
        clock.tick(1000)
        for task in tasks:
            assert status(sim, task) == "FAILED"
            assert task.failure is not None
            code, text = task.failure
            assert code
            assert text
            assert task.cost == (50 if code.startswith("SAFETY.") else 0)

    def test_jitter_varies_durations_within_bounds(self) -> None:
        """Durations vary by at most the jitter fraction either way."""
        clock = FakeClock()
        sim = make(clock, jitter=0.2, concurrency=None)
        durations = [create(sim).duration for _ in range(50)]
        assert all(8.0 <= d <= 12.0 for d in durations)
        assert len(set(durations)) > 1

    def test_same_seed_same_outcomes(self) -> None:
        """Two simulations with one seed give the same ids, durations and failures."""
        runs = []
        for _ in range(2):
            clock = FakeClock()
            sim = make(clock, jitter=0.3, failure_rate=0.5, seed=42)
            runs.append([(t.id, t.duration, t.failure) for t in (create(sim) for _ in range(8))])
        assert runs[0] == runs[1]

    def test_durations_by_model_override_media_kind(self) -> None:
        """A duration set for a model wins over the one set for its media kind."""
        clock = FakeClock()
        sim = make(clock, durations={"video": 10.0, "veo3.1": 30.0})
        assert create(sim, "veo3.1").duration == 30.0
        assert create(sim, "gen4.5").duration == 10.0


class TestConcurrency:
    def test_over_the_limit_is_throttled_and_promoted_fifo_at_the_exact_time(self) -> None:
        """Tasks over the limit are THROTTLED and get the slot, in order, the instant it frees."""
        clock = FakeClock()
        sim = make(clock, concurrency=1)
        first, second, third = create(sim), create(sim), create(sim)
        assert [status(sim, t) for t in (first, second, third)] == [
            "PENDING",
            "THROTTLED",
            "THROTTLED",
        ]
        # Nobody asks for a long while: the promotions still happen at the right instants.
        clock.tick(100)
        sim.advance()
        assert first.ended == pytest.approx(11.0)
        assert second.admitted == pytest.approx(11.0)
        assert second.ended == pytest.approx(22.0)
        assert third.admitted == pytest.approx(22.0)
        assert third.ended == pytest.approx(33.0)

    def test_limits_are_per_model(self) -> None:
        """A busy model does not throttle another model."""
        clock = FakeClock()
        sim = make(clock, concurrency=1)
        create(sim, "gen4.5")
        other = create(sim, "veo3.1")
        assert status(sim, other) == "PENDING"

    def test_per_model_mapping_and_unlimited(self) -> None:
        """A mapping sets limits per model; None means unlimited; others get 5."""
        clock = FakeClock()
        sim = make(clock, concurrency={"gen4.5": 2, "veo3.1": None})
        assert [status(sim, create(sim, "gen4.5")) for _ in range(3)][-1] == "THROTTLED"
        assert all(status(sim, create(sim, "veo3.1")) == "PENDING" for _ in range(20))
        assert [status(sim, create(sim, "kling_4")) for _ in range(6)][-1] == "THROTTLED"

    def test_max_running_never_exceeds_the_limit(self) -> None:
        """Most simultaneous RUNNING equals the limit, and THROTTLED time is accounted."""
        clock = FakeClock()
        sim = make(clock, concurrency=2, pending_seconds=0.0)
        for _ in range(6):
            create(sim)
        clock.tick(1000)
        metrics = sim.metrics()
        assert metrics["max_running"] == {"gen4.5": 2}
        assert metrics["tasks_by_status"] == {"SUCCEEDED": 6}
        # Two wait 10 s, two wait 20 s.
        assert metrics["throttled_seconds"] == {"total": 60.0, "models": {"gen4.5": 60.0}}

    def test_back_to_back_tasks_do_not_overlap_in_the_count(self) -> None:
        """A slot freed at t and reused at t does not count two tasks RUNNING at once."""
        clock = FakeClock()
        sim = make(clock, concurrency=1, pending_seconds=0.0)
        create(sim)
        create(sim)
        clock.tick(100)
        assert sim.metrics()["max_running"] == {"gen4.5": 1}


class TestCancelAndDelete:
    def test_cancel_throttled_refunds_and_keeps_order(self) -> None:
        """Cancelling a THROTTLED task refunds it and the next one keeps its place."""
        clock = FakeClock()
        sim = make(clock, concurrency=1)
        first, second, third = create(sim), create(sim), create(sim)
        assert sim.delete(second.id) == "cancelled"
        assert second.status == "CANCELLED"
        assert second.cost == 0
        clock.tick(11.5)
        assert status(sim, third) == "PENDING"
        assert third.admitted == pytest.approx(11.0)
        assert first.status == "SUCCEEDED"

    def test_cancel_running_charges_and_frees_the_slot(self) -> None:
        """Cancelling a RUNNING task keeps the charge and promotes the next one at once."""
        clock = FakeClock()
        sim = make(clock, concurrency=1)
        first, second = create(sim), create(sim)
        clock.tick(3)
        assert status(sim, first) == "RUNNING"
        assert sim.delete(first.id) == "cancelled"
        assert first.cost == 50
        assert status(sim, second) == "PENDING"
        assert second.admitted == pytest.approx(3.0)

    def test_cancel_pending_refunds(self) -> None:
        """Cancelling before the task ran refunds it to 0."""
        clock = FakeClock()
        sim = make(clock)
        task = create(sim)
        sim.delete(task.id)
        assert task.cost == 0

    def test_delete_terminal_removes_it_but_keeps_usage(self) -> None:
        """Deleting an ended task makes it unknown; its charge stays in the usage report."""
        clock = FakeClock()
        sim = make(clock)
        task = create(sim)
        clock.tick(100)
        assert sim.delete(task.id) == "deleted"
        assert sim.get(task.id) is None
        assert sim.delete(task.id) is None
        report = sim.usage(START.date(), START.date() + timedelta(days=1))
        assert report["results"] == [
            {"date": "2025-03-01", "usedCredits": [{"model": "gen4.5", "amount": 50}]}
        ]


class TestDailyLimit:
    def test_creates_beyond_the_daily_limit_are_refused(self) -> None:
        """The create after maxDailyGenerations raises and creates nothing."""
        clock = FakeClock()
        sim = make(clock, daily_limit={"gen4.5": 2})
        create(sim)
        create(sim)
        with pytest.raises(DailyLimitExceeded, match=r"gen4\.5"):
            create(sim)
        assert sim.metrics()["tasks_created_total"] == 2
        create(sim, "veo3.1")  # other models keep their own budget

    def test_the_window_is_a_rolling_24_hours_of_wall_time(self) -> None:
        """A day after the first create, its slot in the daily budget is free again."""
        clock = FakeClock()
        sim = make(clock, daily_limit=1)
        create(sim)
        clock.tick(23 * 3600)
        with pytest.raises(DailyLimitExceeded):
            create(sim)
        clock.tick(3600)
        create(sim)
        assert sim.daily_generations("gen4.5") == 1


class TestReports:
    def test_organization_lists_limits_and_live_usage(self) -> None:
        """The organization body has limits for every model given and today's count."""
        clock = FakeClock()
        sim = make(clock, concurrency={"gen4.5": 3}, daily_limit=None)
        create(sim)
        org = sim.organization(["gen4.5", "veo3.1"])
        assert org["tier"]["models"]["gen4.5"] == {
            "maxConcurrentGenerations": 3,
            "maxDailyGenerations": None,
        }
        assert org["tier"]["models"]["veo3.1"]["maxConcurrentGenerations"] == 5
        assert org["usage"]["models"] == {
            "gen4.5": {"dailyGenerations": 1},
            "veo3.1": {"dailyGenerations": 0},
        }
        assert org["creditBalance"] == 1_000_000 - 50

    def test_usage_groups_credits_by_day_and_model(self) -> None:
        """Charges are reported on their creation day, one entry per day of the range."""
        clock = FakeClock()
        sim = make(clock)
        create(sim, "gen4.5", estimated_credits=60)
        clock.tick(86400)
        create(sim, "veo3.1", estimated_credits=40)
        create(sim, "veo3.1", estimated_credits=40)
        clock.tick(100)
        report = sim.usage(date(2025, 2, 28), date(2025, 3, 3))
        assert report["models"] == ["gen4.5", "veo3.1"]
        assert report["results"] == [
            {"date": "2025-02-28", "usedCredits": []},
            {"date": "2025-03-01", "usedCredits": [{"model": "gen4.5", "amount": 60}]},
            {"date": "2025-03-02", "usedCredits": [{"model": "veo3.1", "amount": 80}]},
        ]

    def test_detection_lag_is_recorded_on_the_first_terminal_get(self) -> None:
        """The lag is from the terminal instant to the first GET that saw it, once."""
        clock = FakeClock()
        sim = make(clock, time_scale=0.5)
        task = create(sim)
        clock.tick(5.5)  # 11 API seconds: ended exactly at 11
        clock.tick(2.0)  # 4 API seconds late
        sim.get(task.id)
        clock.tick(10)
        sim.get(task.id)  # a later GET does not move it
        metrics = sim.metrics()
        assert metrics["detection_lag"][task.id] == {
            "model": "gen4.5",
            "status": "SUCCEEDED",
            "api_seconds": 4.0,
            "real_seconds": 2.0,
        }
        summary = metrics["detection_lag_summary"]
        assert summary["count"] == 1
        assert summary["p50_api_seconds"] == summary["p95_api_seconds"] == 4.0

    def test_duplicate_bodies_are_counted(self) -> None:
        """Bodies created more than once are counted, with the extra creates."""
        clock = FakeClock()
        sim = make(clock)
        for body in ({"a": 1}, {"a": 1}, {"a": 1}, {"b": 2}, {"b": 2}, {"c": 3}):
            create(sim, body=body)
        metrics = sim.metrics()
        assert metrics["duplicate_bodies"] == 2
        assert metrics["duplicate_creates"] == 3

    def test_reset_forgets_everything(self) -> None:
        """After reset there are no tasks, usage or metrics, and time restarts at 0."""
        clock = FakeClock()
        sim = make(clock)
        task = create(sim)
        clock.tick(50)
        sim.get(task.id)
        sim.reset()
        assert sim.get(task.id) is None
        assert sim.now() == 0.0
        metrics = sim.metrics()
        assert metrics["tasks_created_total"] == 0
        assert metrics["detection_lag"] == {}
        assert sim.daily_generations("gen4.5") == 0


class TestSpecMock:
    def test_no_limits_apply(self) -> None:
        """In spec-mock mode nothing is throttled or refused and limits report null."""
        clock = FakeClock()
        sim = make(clock, spec_mock=True, concurrency=1, daily_limit=1)
        tasks = [create(sim) for _ in range(5)]
        assert all(status(sim, t) == "PENDING" for t in tasks)
        org = sim.organization(["gen4.5"])
        assert org["tier"]["models"]["gen4.5"] == {
            "maxConcurrentGenerations": None,
            "maxDailyGenerations": None,
        }
