"""The models and the wire converter: parsing, tolerance, errors, round trips, client binding."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from runway_async._convert import structure, structure_task, unstructure
from runway_async._exceptions import ResponseValidationError
from runway_async._models import (
    ApiKeyUsageDay,
    ApiKeyUsedCredit,
    CancelledTask,
    CapacityFallback,
    Cost,
    FailedTask,
    ModelLimits,
    ModelUsage,
    Organization,
    OrganizationUsage,
    PendingTask,
    ResolvedSettings,
    RoutedTaskCreated,
    Routing,
    RunningTask,
    SucceededTask,
    Task,
    TaskCreated,
    ThrottledTask,
    Tier,
    UnknownTask,
    Usage,
    UsageDay,
    UsedCredit,
    bind_client,
)

CREATED = "2025-01-01T00:00:00Z"
CREATED_AT = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
URL = "https://dnznrvs05pmza.cloudfront.net/output.mp4?_jwt=abc"

# The reference's minimal task bodies (§5.2), plus THROTTLED and CANCELLED in the same style.
PENDING = {"id": "t-1", "status": "PENDING", "createdAt": CREATED, "estimatedCost": {"credits": 50}}
THROTTLED = {
    "id": "t-1",
    "status": "THROTTLED",
    "createdAt": CREATED,
    "estimatedCost": {"credits": 50},
}
RUNNING = {
    "id": "t-1",
    "status": "RUNNING",
    "createdAt": CREATED,
    "estimatedCost": {"credits": 50},
    "progress": 0.42,
}
SUCCEEDED = {
    "id": "t-1",
    "status": "SUCCEEDED",
    "createdAt": CREATED,
    "cost": {"credits": 50},
    "output": [URL],
}
FAILED = {
    "id": "t-1",
    "status": "FAILED",
    "createdAt": CREATED,
    "cost": {"credits": 0},
    "failure": "The prompt was rejected.",
    "failureCode": "SAFETY.INPUT.TEXT",
}
CANCELLED = {"id": "t-1", "status": "CANCELLED", "createdAt": CREATED, "cost": {"credits": 0}}

ORGANIZATION: dict[str, Any] = {
    "creditBalance": 12345,
    "tier": {
        "maxMonthlyCreditSpend": 200000,
        "models": {
            "gen4.5": {"maxConcurrentGenerations": 5, "maxDailyGenerations": 1000},
            "veo3.1_fast": {"maxConcurrentGenerations": None, "maxDailyGenerations": None},
            "gemini_2.5_flash": {},
        },
    },
    "usage": {
        "models": {"gen4.5": {"dailyGenerations": 998}, "veo3.1_fast": {"dailyGenerations": 7}}
    },
}

USAGE_REPORT: dict[str, Any] = {
    "models": ["gen4.5", "veo3.1_fast"],
    "results": [
        {
            "date": "2025-01-01",
            "usedCredits": [
                {"model": "gen4.5", "amount": 120},
                {"model": "veo3.1_fast", "amount": -40},
            ],
        },
        {"date": "2025-01-02", "usedCredits": []},
    ],
}

ROUTED: dict[str, Any] = {
    "id": "t-9",
    "routing": {
        "configId": "my-router",
        "model": "gen4.5",
        "provider": "runway",
        "estimatedCost": {"credits": 62.5},
        "resolvedInput": {"duration": 5, "ratio": "1280:720", "resolution": "720p"},
        "resolvedSettings": {"optimizeFor": "cost", "priceCeiling": None},
        "capacityFallback": {"skipped": ["veo3.1"], "allExhausted": False},
    },
}


def _wire_names(cls: type) -> set[str]:
    return {a.name for a in attrs.fields(cls) if a.name not in ("extra", "_client")}


class _FakeWaiter:
    """Records ``wait`` calls the way a task's waiter (the core, ``client.tasks``) gets them."""

    def __init__(self, result: object) -> None:
        self.result = result
        self.calls: list[tuple[str, float | None]] = []

    async def wait(self, id: str, /, *, timeout: float | None) -> object:
        self.calls.append((id, timeout))
        return self.result


class TestTaskStatuses:
    """Each wire status parses into its own class with exactly its fields."""

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (
                PENDING,
                PendingTask(id="t-1", created_at=CREATED_AT, estimated_cost=Cost(credits=50)),
            ),
            (
                THROTTLED,
                ThrottledTask(id="t-1", created_at=CREATED_AT, estimated_cost=Cost(credits=50)),
            ),
            (
                RUNNING,
                RunningTask(
                    id="t-1", created_at=CREATED_AT, estimated_cost=Cost(credits=50), progress=0.42
                ),
            ),
            (
                SUCCEEDED,
                SucceededTask(
                    id="t-1", created_at=CREATED_AT, cost=Cost(credits=50), output=(URL,)
                ),
            ),
            (
                FAILED,
                FailedTask(
                    id="t-1",
                    created_at=CREATED_AT,
                    cost=Cost(credits=0),
                    failure="The prompt was rejected.",
                    failure_code="SAFETY.INPUT.TEXT",
                ),
            ),
            (CANCELLED, CancelledTask(id="t-1", created_at=CREATED_AT, cost=Cost(credits=0))),
        ],
        ids=lambda v: v["status"] if isinstance(v, dict) else "",
    )
    def test_status_parses_into_its_class(self, body: dict[str, Any], expected: Task) -> None:
        """A reference task body becomes the class of its status with every field set."""
        task = structure_task(body)
        assert type(task) is type(expected)
        assert task == expected
        assert task.extra == {}

    @pytest.mark.parametrize(
        ("cls", "fields"),
        [
            (PendingTask, {"id", "status", "created_at", "estimated_cost"}),
            (ThrottledTask, {"id", "status", "created_at", "estimated_cost"}),
            (RunningTask, {"id", "status", "created_at", "estimated_cost", "progress"}),
            (SucceededTask, {"id", "status", "created_at", "cost", "output"}),
            (FailedTask, {"id", "status", "created_at", "cost", "failure", "failure_code"}),
            (CancelledTask, {"id", "status", "created_at", "cost"}),
            (UnknownTask, {"id", "status", "created_at"}),
        ],
    )
    def test_each_class_has_exactly_its_fields(self, cls: type, fields: set[str]) -> None:
        """Each task class models the fields of its state and no others."""
        assert _wire_names(cls) == fields

    @pytest.mark.parametrize(
        ("body", "terminal"),
        [
            (PENDING, False),
            (THROTTLED, False),
            (RUNNING, False),
            (SUCCEEDED, True),
            (FAILED, True),
            (CANCELLED, True),
            ({**PENDING, "status": "ARCHIVED"}, False),
        ],
        ids=lambda v: v["status"] if isinstance(v, dict) else str(v),
    )
    def test_is_terminal(self, body: dict[str, Any], terminal: bool) -> None:
        """SUCCEEDED, FAILED and CANCELLED have ended; other statuses, unknown too, have not."""
        assert structure_task(body).is_terminal is terminal

    def test_structure_with_the_union_type(self) -> None:
        """structure(data, Task) dispatches on status like structure_task."""
        assert structure(RUNNING, Task) == structure_task(RUNNING)  # type: ignore[arg-type]

    def test_created_at_is_timezone_aware_utc(self) -> None:
        """A createdAt with a Z suffix parses into an aware UTC datetime."""
        task = structure_task(PENDING)
        assert task.created_at == CREATED_AT
        assert task.created_at.utcoffset() == dt.timedelta(0)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2025-01-01T00:00:00.123Z", CREATED_AT.replace(microsecond=123000)),
            ("2025-01-01T00:00:00.5Z", CREATED_AT.replace(microsecond=500000)),
            ("2025-01-01T00:00:00.123456789Z", CREATED_AT.replace(microsecond=123456)),
            ("2025-01-01T02:00:00+02:00", CREATED_AT),
            ("2025-01-01T00:00:00", CREATED_AT),
        ],
    )
    def test_timestamp_variants(self, text: str, expected: dt.datetime) -> None:
        """ISO-8601 timestamps with any fraction length or offset parse; no offset means UTC."""
        task = structure_task({**PENDING, "createdAt": text})
        assert task.created_at == expected
        assert task.created_at.tzinfo is not None

    def test_integer_progress_is_accepted(self) -> None:
        """A progress of 0 or 1 sent as a JSON integer parses."""
        task = structure_task({**RUNNING, "progress": 1})
        assert isinstance(task, RunningTask)
        assert task.progress == 1

    def test_credits_keep_their_number_type(self) -> None:
        """Integer credits stay int and fractional estimates stay float."""
        assert structure({"credits": 50}, Cost).credits.__class__ is int
        assert structure({"credits": 12.5}, Cost) == Cost(credits=12.5)

    def test_naive_created_at_is_rejected_at_construction(self) -> None:
        """Building a task with a naive datetime fails, so every task has an aware timestamp."""
        with pytest.raises(ValueError, match="timezone-aware"):
            PendingTask(id="t-1", created_at=dt.datetime(2025, 1, 1))


class TestTolerance:
    """New server fields and statuses are kept, never a crash."""

    def test_unknown_status_becomes_unknown_task(self) -> None:
        """An unknown status gives an UnknownTask with the raw status and other keys in extra."""
        body = {
            "id": "t-2",
            "status": "ARCHIVED",
            "createdAt": CREATED,
            "archivedAt": "2025-02-01T00:00:00Z",
            "cost": {"credits": 3},
        }
        task = structure_task(body)
        assert isinstance(task, UnknownTask)
        assert task.status == "ARCHIVED"
        assert task.id == "t-2"
        assert task.created_at == CREATED_AT
        assert task.extra == {"archivedAt": "2025-02-01T00:00:00Z", "cost": {"credits": 3}}

    def test_lowercase_known_status_is_unknown(self) -> None:
        """Status matching is exact: "succeeded" is not SUCCEEDED and is kept as unknown."""
        task = structure_task({**PENDING, "status": "succeeded"})
        assert isinstance(task, UnknownTask)
        assert task.status == "succeeded"

    def test_unknown_fields_are_kept_in_extra(self) -> None:
        """Wire keys the SDK does not model land in extra, and the modelled ones still parse."""
        body = {**SUCCEEDED, "outputMetadata": {"fps": 24}, "seed": 7}
        task = structure_task(body)
        assert isinstance(task, SucceededTask)
        assert task.output == (URL,)
        assert task.extra == {"outputMetadata": {"fps": 24}, "seed": 7}

    @pytest.mark.parametrize(
        ("body", "attribute"),
        [
            (PENDING, "estimated_cost"),
            (THROTTLED, "estimated_cost"),
            (RUNNING, "estimated_cost"),
            (SUCCEEDED, "cost"),
            (FAILED, "cost"),
            (CANCELLED, "cost"),
        ],
        ids=lambda v: v["status"] if isinstance(v, dict) else v,
    )
    def test_cost_fields_are_optional(self, body: dict[str, Any], attribute: str) -> None:
        """Bodies from API versions without estimatedCost or cost parse with None."""
        wire = {"estimated_cost": "estimatedCost", "cost": "cost"}[attribute]
        stripped = {k: v for k, v in body.items() if k != wire}
        assert getattr(structure_task(stripped), attribute) is None

    def test_optional_failure_code_and_progress(self) -> None:
        """A FAILED task without failureCode and a RUNNING one without progress parse."""
        failed = structure_task({k: v for k, v in FAILED.items() if k != "failureCode"})
        running = structure_task({k: v for k, v in RUNNING.items() if k != "progress"})
        assert isinstance(failed, FailedTask)
        assert failed.failure_code is None
        assert isinstance(running, RunningTask)
        assert running.progress is None

    def test_null_optional_fields(self) -> None:
        """Optional fields sent as null parse as None."""
        task = structure_task({**FAILED, "cost": None, "failureCode": None})
        assert isinstance(task, FailedTask)
        assert (task.cost, task.failure_code) == (None, None)

    def test_unknown_keys_elsewhere_are_kept(self) -> None:
        """Non-task replies with new keys parse, the new keys kept in ``extra`` at each level."""
        body = {"id": "t-3", "estimatedCost": {"credits": 5, "currency": "credits"}, "queue": 2}
        assert structure(body, TaskCreated) == TaskCreated(
            id="t-3", estimated_cost=Cost(5, extra={"currency": "credits"}), extra={"queue": 2}
        )


class TestMalformed:
    """Replies of the wrong shape raise ResponseValidationError with the body attached."""

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            ({k: v for k, v in PENDING.items() if k != "id"}, "required field missing @ $.id"),
            (
                {k: v for k, v in PENDING.items() if k != "status"},
                "required field missing @ $.status",
            ),
            ({**PENDING, "status": 3}, "expected a string, got number @ $.status"),
            ({**PENDING, "status": None}, "expected a string, got null @ $.status"),
            (
                {k: v for k, v in SUCCEEDED.items() if k != "output"},
                "required field missing @ $.output",
            ),
            ({**SUCCEEDED, "output": URL}, "expected an array, got string @ $.output"),
            ({**SUCCEEDED, "output": [URL, 5]}, "expected a string, got number @ $.output[1]"),
            ({**PENDING, "createdAt": "yesterday"}, "invalid ISO-8601 timestamp"),
            ({**PENDING, "createdAt": 1735689600}, "@ $.createdAt"),
            ({**PENDING, "id": 17}, "expected a string, got number @ $.id"),
            ({**PENDING, "estimatedCost": 50}, "expected an object, got number @ $.estimatedCost"),
            (
                {**PENDING, "estimatedCost": {"credits": "50"}},
                "expected a number, got string @ $.estimatedCost.credits",
            ),
            ({**RUNNING, "progress": True}, "expected a number, got boolean @ $.progress"),
            ({k: v for k, v in FAILED.items() if k != "failure"}, "@ $.failure"),
            ({"status": "ARCHIVED"}, "required field missing @ $.id"),
            ([PENDING], "expected a task object, got array @ $"),
            ("<html>Bad Gateway</html>", "expected a task object, got string @ $"),
            (None, "expected a task object, got null @ $"),
        ],
    )
    def test_malformed_task(self, body: object, problem: str) -> None:
        """A malformed task raises ResponseValidationError naming the problem and its path."""
        with pytest.raises(ResponseValidationError) as info:
            structure_task(body)
        assert problem in info.value.message
        assert info.value.message.startswith("The reply is not a valid Task: ")
        assert info.value.body is body

    def test_every_problem_is_reported(self) -> None:
        """All problems of one body are listed in one message."""
        body = {"status": "SUCCEEDED", "createdAt": "nope", "output": "x"}
        with pytest.raises(ResponseValidationError) as info:
            structure_task(body)
        message = info.value.message
        for part in ("@ $.id", "@ $.createdAt", "@ $.output"):
            assert part in message

    def test_wrong_literal_status_for_a_concrete_class(self) -> None:
        """Structuring a body into the wrong task class is a validation error, not a crash."""
        with pytest.raises(ResponseValidationError, match=r"@ \$\.status"):
            structure(RUNNING, SucceededTask)

    @pytest.mark.parametrize(
        ("body", "cls", "problem"),
        [
            ({}, Organization, "required field missing @ $.creditBalance"),
            (
                {**ORGANIZATION, "creditBalance": True},
                Organization,
                "expected a number, got boolean @ $.creditBalance",
            ),
            (
                {
                    **ORGANIZATION,
                    "tier": {"models": {"gen4.5": {"maxDailyGenerations": "many"}}},
                },
                Organization,
                "@ $.tier.models['gen4.5'].maxDailyGenerations",
            ),
            ({**ORGANIZATION, "usage": {"models": []}}, Organization, "@ $.usage.models"),
            (
                {**USAGE_REPORT, "results": [{"date": "01/02/2025", "usedCredits": []}]},
                OrganizationUsage,
                "invalid ISO-8601 date '01/02/2025' @ $.results[0].date",
            ),
            ({"id": None}, TaskCreated, "expected a string, got null @ $.id"),
            ({"id": "t", "routing": {"model": "gen4.5"}}, RoutedTaskCreated, "$.routing.configId"),
        ],
    )
    def test_malformed_other_replies(self, body: object, cls: type, problem: str) -> None:
        """Non-task replies report problems with wire-name paths and keep the body."""
        with pytest.raises(ResponseValidationError) as info:
            structure(body, cls)
        assert problem in info.value.message
        assert info.value.body is body

    def test_cause_is_chained(self) -> None:
        """The cattrs error is kept as the cause for debugging."""
        with pytest.raises(ResponseValidationError) as info:
            structure_task({"status": "PENDING"})
        assert info.value.__cause__ is not None


class TestOrganization:
    """GET /v1/organization: limits, usage and model-name keys."""

    def test_parses(self) -> None:
        """The organization reply parses into nested models."""
        org = structure(ORGANIZATION, Organization)
        assert org.credit_balance == 12345
        assert org.tier.max_monthly_credit_spend == 200000
        assert org.tier.models["gen4.5"] == ModelLimits(
            max_concurrent_generations=5, max_daily_generations=1000
        )
        assert org.usage.models["gen4.5"] == ModelUsage(daily_generations=998)

    def test_null_and_absent_limits_are_none(self) -> None:
        """A null limit and a missing limit both mean unlimited (None)."""
        org = structure(ORGANIZATION, Organization)
        assert org.tier.models["veo3.1_fast"] == ModelLimits()
        assert org.tier.models["gemini_2.5_flash"] == ModelLimits()
        assert org.max_concurrency("veo3.1_fast") is None
        assert org.remaining_daily("gemini_2.5_flash") is None

    def test_model_names_are_untouched(self) -> None:
        """Model-name keys stay exactly as on the wire, dots and underscores included."""
        org = structure(ORGANIZATION, Organization)
        assert list(org.tier.models) == ["gen4.5", "veo3.1_fast", "gemini_2.5_flash"]
        assert list(org.usage.models) == ["gen4.5", "veo3.1_fast"]
        wire = unstructure(org)
        assert list(wire["tier"]["models"]) == ["gen4.5", "veo3.1_fast", "gemini_2.5_flash"]

    def test_max_concurrency(self) -> None:
        """max_concurrency reads the tier limit and is None for models the tier does not list."""
        org = structure(ORGANIZATION, Organization)
        assert org.max_concurrency("gen4.5") == 5
        assert org.max_concurrency("gen3a_turbo") is None

    def test_remaining_daily(self) -> None:
        """remaining_daily subtracts the past day's generations and never goes below zero."""
        org = structure(ORGANIZATION, Organization)
        assert org.remaining_daily("gen4.5") == 2
        over = attrs.evolve(org, usage=Usage(models={"gen4.5": ModelUsage(daily_generations=1005)}))
        assert over.remaining_daily("gen4.5") == 0
        unused = attrs.evolve(org, usage=Usage())
        assert unused.remaining_daily("gen4.5") == 1000

    def test_missing_maps_default_to_empty(self) -> None:
        """A tier or usage without a models map parses with an empty one."""
        org = structure({"creditBalance": 0, "tier": {}, "usage": {}}, Organization)
        assert org.tier == Tier()
        assert org.usage == Usage()
        assert org.remaining_daily("gen4.5") is None

    def test_unlimited_limits_are_written_as_null(self) -> None:
        """Unstructuring keeps unlimited limits as explicit nulls, as the API sends them."""
        wire = unstructure(ModelLimits())
        assert wire == {"maxConcurrentGenerations": None, "maxDailyGenerations": None}


class TestUsageReport:
    """POST /v1/organization/usage."""

    def test_parses(self) -> None:
        """The usage report parses days, models and net amounts, refunds included."""
        report = structure(USAGE_REPORT, OrganizationUsage)
        assert report.models == ("gen4.5", "veo3.1_fast")
        assert report.results[0] == UsageDay(
            date=dt.date(2025, 1, 1),
            used_credits=(
                UsedCredit(model="gen4.5", amount=120),
                UsedCredit(model="veo3.1_fast", amount=-40),
            ),
        )
        assert report.results[1].used_credits == ()
        assert report.api_keys is None
        assert report.results_by_api_key is None

    def test_per_api_key_results(self) -> None:
        """The reserved per-API-key fields parse when present."""
        body = {
            **USAGE_REPORT,
            "apiKeys": ["key-a"],
            "resultsByApiKey": [
                {"date": "2025-01-01", "usedCredits": [{"apiKeyId": "key-a", "amount": 80}]}
            ],
        }
        report = structure(body, OrganizationUsage)
        assert report.api_keys == ("key-a",)
        assert report.results_by_api_key == (
            ApiKeyUsageDay(
                date=dt.date(2025, 1, 1),
                used_credits=(ApiKeyUsedCredit(api_key_id="key-a", amount=80),),
            ),
        )

    def test_models_newer_than_the_sdk(self) -> None:
        """A model name this SDK has never seen is kept as a plain string."""
        body = {
            "models": ["gen9"],
            "results": [{"date": "2025-01-01", "usedCredits": [{"model": "gen9", "amount": 1}]}],
        }
        assert structure(body, OrganizationUsage).results[0].used_credits[0].model == "gen9"

    def test_date_given_as_timestamp(self) -> None:
        """A day sent as a full timestamp is read as its date."""
        body = {"models": [], "results": [{"date": "2025-01-01T00:00:00Z", "usedCredits": []}]}
        assert structure(body, OrganizationUsage).results[0].date == dt.date(2025, 1, 1)


class TestRouting:
    """Task creation replies, plain and routed."""

    def test_task_created(self) -> None:
        """A creation reply gives the id and the estimated cost."""
        body = {"id": "t-1", "estimatedCost": {"credits": 40}}
        assert structure(body, TaskCreated) == TaskCreated(id="t-1", estimated_cost=Cost(40))

    def test_task_created_without_estimate(self) -> None:
        """A creation reply with only an id (older versions, avatar videos) parses."""
        assert structure({"id": "t-1"}, TaskCreated) == TaskCreated(id="t-1")

    def test_routed_task_created(self) -> None:
        """A /v1/generate reply parses the router's choice, settings and fallback."""
        created = structure(ROUTED, RoutedTaskCreated)
        assert created == RoutedTaskCreated(
            id="t-9",
            routing=Routing(
                config_id="my-router",
                model="gen4.5",
                provider="runway",
                estimated_cost=Cost(credits=62.5),
                resolved_input={"duration": 5, "ratio": "1280:720", "resolution": "720p"},
                resolved_settings=ResolvedSettings(optimize_for="cost", price_ceiling=None),
                capacity_fallback=CapacityFallback(skipped=("veo3.1",), all_exhausted=False),
            ),
        )

    def test_resolved_input_keys_are_verbatim(self) -> None:
        """The resolvedInput map keeps its wire keys, since its shape depends on the modality."""
        body = {
            **ROUTED,
            "routing": {**ROUTED["routing"], "resolvedInput": {"aspectRatio": "16:9"}},
        }
        routing = structure(body, RoutedTaskCreated).routing
        assert routing is not None
        assert routing.resolved_input == {"aspectRatio": "16:9"}

    def test_optional_routing_parts(self) -> None:
        """Routing without capacityFallback, settings or estimate parses with None."""
        body = {"id": "t-9", "routing": {"configId": "r", "model": "m", "provider": "p"}}
        routing = structure(body, RoutedTaskCreated).routing
        assert routing == Routing(config_id="r", model="m", provider="p")

    def test_missing_routing(self) -> None:
        """A routed reply without routing still yields the created task's id."""
        assert structure({"id": "t-9"}, RoutedTaskCreated) == RoutedTaskCreated(id="t-9")

    def test_price_ceiling_number(self) -> None:
        """A numeric price ceiling is kept."""
        body = {"optimizeFor": "quality", "priceCeiling": 100}
        assert structure(body, ResolvedSettings).price_ceiling == 100


MODELS: list[object] = [
    Cost(credits=5),
    Cost(credits=2.5),
    PendingTask(id="a", created_at=CREATED_AT),
    PendingTask(
        id="a", created_at=CREATED_AT, estimated_cost=Cost(3), extra={"x": [1, {"y": None}]}
    ),
    ThrottledTask(id="a", created_at=CREATED_AT, estimated_cost=Cost(3)),
    RunningTask(id="a", created_at=CREATED_AT.replace(microsecond=123456), progress=0.5),
    SucceededTask(id="a", created_at=CREATED_AT, cost=Cost(1), output=(URL, URL + "2")),
    SucceededTask(id="a", created_at=CREATED_AT, output=()),
    FailedTask(id="a", created_at=CREATED_AT, failure="x", failure_code="INTERNAL"),
    CancelledTask(id="a", created_at=CREATED_AT, cost=Cost(0), extra={"deleted": True}),
    UnknownTask(id="a", status="ARCHIVED", created_at=CREATED_AT, extra={"progress": 1}),
    TaskCreated(id="a"),
    TaskCreated(id="a", estimated_cost=Cost(12.5)),
    Routing(config_id="c", model="m", provider="p"),
    RoutedTaskCreated(
        id="a",
        routing=Routing(
            config_id="c",
            model="m",
            provider="p",
            estimated_cost=Cost(2),
            resolved_input={"type": "speech", "voice": "preset"},
            resolved_settings=ResolvedSettings(optimize_for="latency", price_ceiling=7.5),
            capacity_fallback=CapacityFallback(skipped=("x", "y"), all_exhausted=True),
        ),
    ),
    RoutedTaskCreated(id="a"),
    Organization(
        credit_balance=10,
        tier=Tier(
            max_monthly_credit_spend=100,
            models={"gen4.5": ModelLimits(max_concurrent_generations=1), "veo3.1": ModelLimits()},
        ),
        usage=Usage(models={"gen4.5": ModelUsage(daily_generations=2)}),
    ),
    Organization(credit_balance=0.5, tier=Tier(), usage=Usage()),
    OrganizationUsage(models=(), results=()),
    OrganizationUsage(
        models=("gen4.5",),
        results=(
            UsageDay(
                date=dt.date(2025, 3, 1), used_credits=(UsedCredit(model="gen4.5", amount=-3),)
            ),
        ),
        api_keys=("k",),
        results_by_api_key=(
            ApiKeyUsageDay(
                date=dt.date(2025, 3, 1), used_credits=(ApiKeyUsedCredit(api_key_id="k", amount=4),)
            ),
        ),
    ),
]


class TestRoundTrip:
    """unstructure and structure are inverses."""

    @pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
    def test_model_round_trip(self, model: object) -> None:
        """structure(unstructure(x), type(x)) == x for every model."""
        assert structure(unstructure(model), type(model)) == model

    @pytest.mark.parametrize(
        "body",
        [PENDING, THROTTLED, RUNNING, SUCCEEDED, FAILED, CANCELLED],
        ids=lambda body: body["status"],
    )
    def test_task_wire_round_trip(self, body: dict[str, Any]) -> None:
        """The reference task bodies come back unchanged after parsing and unstructuring."""
        assert unstructure(structure_task(body)) == body

    def test_usage_wire_round_trip(self) -> None:
        """The usage report comes back unchanged after parsing and unstructuring."""
        assert unstructure(structure(USAGE_REPORT, OrganizationUsage)) == USAGE_REPORT

    def test_organization_wire_round_trip(self) -> None:
        """The organization comes back unchanged, except absent limits become explicit nulls."""
        expected = {
            **ORGANIZATION,
            "tier": {
                **ORGANIZATION["tier"],
                "models": {
                    **ORGANIZATION["tier"]["models"],
                    "gemini_2.5_flash": {
                        "maxConcurrentGenerations": None,
                        "maxDailyGenerations": None,
                    },
                },
            },
        }
        assert unstructure(structure(ORGANIZATION, Organization)) == expected

    def test_routed_wire_round_trip(self) -> None:
        """A routed creation reply comes back unchanged, priceCeiling null included."""
        assert unstructure(structure(ROUTED, RoutedTaskCreated)) == ROUTED

    def test_unstructure_writes_camel_case_and_omits_absent_optionals(self) -> None:
        """Wire data uses camelCase keys and leaves out optional fields that are None."""
        task = FailedTask(id="a", created_at=CREATED_AT, failure="x")
        assert unstructure(task) == {
            "id": "a",
            "status": "FAILED",
            "createdAt": "2025-01-01T00:00:00Z",
            "failure": "x",
        }

    def test_timestamps_are_written_in_utc_with_z(self) -> None:
        """Aware timestamps in any zone are written as UTC with a Z suffix."""
        zone = dt.timezone(dt.timedelta(hours=-5))
        task = PendingTask(id="a", created_at=dt.datetime(2024, 12, 31, 19, tzinfo=zone))
        assert unstructure(task)["createdAt"] == CREATED
        millis = PendingTask(id="a", created_at=CREATED_AT.replace(microsecond=250000))
        assert unstructure(millis)["createdAt"] == "2025-01-01T00:00:00.250Z"

    def test_modelled_fields_win_over_extra(self) -> None:
        """An extra key that collides with a modelled field does not overwrite it."""
        task = PendingTask(id="a", created_at=CREATED_AT, extra={"id": "other", "new": 1})
        wire = unstructure(task)
        assert wire["id"] == "a"
        assert wire["new"] == 1


class TestEquality:
    """Equality, hashing and repr of the frozen models."""

    def test_extra_takes_part_in_equality(self) -> None:
        """Two tasks that differ only in an unmodelled field are not equal."""
        assert structure_task({**PENDING, "new": 1}) != structure_task({**PENDING, "new": 2})

    def test_tasks_are_hashable(self) -> None:
        """Tasks can be hashed even with extra data, and equal tasks hash equal."""
        first = structure_task({**SUCCEEDED, "meta": {"a": 1}})
        second = structure_task({**SUCCEEDED, "meta": {"a": 1}})
        assert hash(first) == hash(second)
        assert len({first, second}) == 1

    def test_models_are_frozen(self) -> None:
        """Assigning to a model attribute fails."""
        task = structure_task(PENDING)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            task.id = "other"  # type: ignore[misc]

    def test_client_is_not_part_of_equality_or_repr(self) -> None:
        """A bound task equals the unbound one and does not show the client in its repr."""
        task = structure_task(PENDING)
        bound = bind_client(task, _FakeWaiter(None))
        assert bound == task
        assert "client" not in repr(bound)


class TestClientBinding:
    """wait_for_task_output on tasks, for code migrating from the official SDK."""

    @pytest.mark.asyncio
    async def test_unbound_task_raises(self) -> None:
        """Waiting on a task that has no client raises RuntimeError saying so."""
        task = structure_task(RUNNING)
        with pytest.raises(RuntimeError, match="not bound to a client"):
            await task.wait_for_task_output()

    @pytest.mark.asyncio
    async def test_bound_task_waits_through_the_client(self) -> None:
        """A bound task calls waiter.wait(id, timeout=...) and returns its result."""
        done = structure_task(SUCCEEDED)
        waiter = _FakeWaiter(done)
        task = bind_client(structure_task(RUNNING), waiter)
        assert await task.wait_for_task_output(timeout=30) is done
        assert waiter.calls == [("t-1", 30)]

    @pytest.mark.asyncio
    async def test_default_timeout_is_ten_minutes(self) -> None:
        """Without a timeout the wait is bounded at 600 seconds, like the official SDK."""
        waiter = _FakeWaiter(None)
        await bind_client(structure_task(PENDING), waiter).wait_for_task_output()
        assert waiter.calls == [("t-1", 600)]

    @pytest.mark.asyncio
    async def test_no_deadline(self) -> None:
        """timeout=None is passed through as no deadline."""
        waiter = _FakeWaiter(None)
        await bind_client(structure_task(PENDING), waiter).wait_for_task_output(timeout=None)
        assert waiter.calls == [("t-1", None)]

    def test_bind_client_returns_a_bound_copy(self) -> None:
        """bind_client leaves the original task unbound and keeps its class and fields."""
        task = structure_task({**FAILED, "extra": 1})
        bound = bind_client(task, _FakeWaiter(None))
        assert type(bound) is FailedTask
        assert bound == task
        assert task._client is None
        assert bound._client is not None

    def test_converter_ignores_the_client(self) -> None:
        """The client never reaches the wire data."""
        bound = bind_client(structure_task(PENDING), _FakeWaiter(None))
        assert unstructure(bound) == PENDING
