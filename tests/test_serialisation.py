"""``to_dict``, ``to_json`` and ``construct`` on every response model (issue 14).

Every attrs class of ``runway_async._models`` is found by walking the package, so a new model
is covered without editing this file. Each one round-trips from data made from its own field
types (minimal and complete) and from what the emulator replied in a scenario that reaches
every plain endpoint and tasks of every terminal status; the replies were recorded at the
transport, so ``to_dict(mode="json")`` is compared with the API's own JSON.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import importlib
import inspect
import json
import pkgutil
import re
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import attrs
import pytest
from click.testing import CliRunner

import runway_async
import runway_async._models as models_package
import runway_async._sync as sync_facade
from runway_async import (
    AsyncRunway,
    PollConfig,
    Runway,
    SucceededTask,
    TaskFailedError,
    cli,
)
from runway_async._convert import structure
from runway_async._http import Request, Response
from runway_async._models import (
    AvatarCustomVoice,
    AvatarUsageDay,
    CancelledTask,
    FailedTask,
    ModelLimits,
    Organization,
    ReadyAvatar,
    RoutedTaskCreated,
    RoutingRequest,
    RunningTask,
    TaskCreated,
    UnknownAvatarVoice,
    UnknownRoutingStep,
    UploadCreateEphemeralResponse,
    WireModel,
)
from runway_async._transport import AiohttpTransport
from runway_async.emulator import Emulator

from .emulator.test_every_plain_endpoint import PNG, STEPS

TIME_SCALE = 0.002
LONG_MODEL = "seedance2_fast"  # never ends: its tasks stay RUNNING, PENDING or THROTTLED
IMAGE: dict[str, Any] = {"model": "gen4_image", "prompt_text": "a red fox", "ratio": "1920:1080"}
NEW_KEYS = {"brandNewField": {"nested": [1, "two", None]}, "anotherOne": 3}


def model_classes() -> list[type[Any]]:
    """Return every attrs class defined in ``runway_async._models``, by name."""
    found: dict[str, type[Any]] = {}
    for info in pkgutil.iter_modules(models_package.__path__):
        module = importlib.import_module(f"{models_package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == module.__name__:
                found[value.__name__] = value
    return [found[name] for name in sorted(found)]


MODEL_CLASSES = model_classes()


def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


# -- wire data made from a class's field types ------------------------------------------------

STAMP = "2026-03-04T05:06:07.089Z"


def wire_value(tp: Any, *, full: bool) -> Any:
    """Return a JSON value of type ``tp`` as the API would send it."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return {"free": ["form", 1, None]}
    if origin in (typing.Union, types.UnionType):
        return wire_value(next(a for a in args if a is not type(None)), full=full)
    if origin is Literal:
        return args[0]
    if origin is tuple:
        return [wire_value(args[0], full=full)]
    if origin in (Mapping, dict):
        return {"gen4.5": wire_value(args[1], full=full)}  # a key that must stay verbatim
    simple = {dt.datetime: STAMP, dt.date: "2026-03-04", bool: True, int: 7, float: 0.25}
    if tp in simple:
        return simple[tp]
    if tp is str:
        return "Café ☕"  # non-ASCII, which to_json must keep
    if attrs.has(tp):
        return wire_sample(tp, full=full)
    raise AssertionError(f"no sample value for {tp!r}: teach wire_value this type")


def wire_sample(cls: type[Any], *, full: bool) -> dict[str, Any]:
    """Return a reply for ``cls``: every field (``full``) or the required ones and the tag."""
    hints = typing.get_type_hints(cls)
    return {
        camel(a.name): wire_value(hints[a.name], full=full)
        for a in attrs.fields(cls)
        if a.name not in ("extra", "_client")
        and (full or a.default is attrs.NOTHING or typing.get_origin(hints[a.name]) is Literal)
    }


ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def instants(value: Any) -> Any:
    """Return ``value`` with its ISO-8601 timestamps parsed, to compare them as instants."""
    if isinstance(value, str) and ISO_TIMESTAMP.fullmatch(value):
        return dt.datetime.fromisoformat(value[:-1] + "+00:00")
    if isinstance(value, dict):
        return {k: instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [instants(v) for v in value]
    return value


def assert_round_trips(model: Any) -> None:
    """``construct`` and ``structure`` give ``model`` back from each of its forms."""
    cls = type(model)
    assert cls.construct(**model.to_dict()) == model
    assert cls.model_construct(**model.to_dict(mode="json")) == model
    assert structure(model.to_dict(mode="json"), cls) == model
    assert structure(json.loads(model.to_json()), cls) == model
    assert structure(json.loads(model.to_json(indent=None)), cls) == model


# -- the emulator's replies -------------------------------------------------------------------


class RecordingTransport(AiohttpTransport):
    """The default transport, keeping every API reply's parsed JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: list[tuple[str, str, Any]] = []  # (method, path, JSON)

    async def send(self, request: Request) -> Response:
        response = await super().send(request)
        path = "/" + request.url.split("://", 1)[1].partition("/")[2].partition("?")[0]
        self.replies.append((request.method, path, response.data))
        return response

    def last(self, method: str, path: str) -> Any:
        return next(d for m, p, d in reversed(self.replies) if (m, p) == (method, path))


@attrs.define
class Recorded:
    """What the scenario saw: models as the client returned them, and their replies."""

    samples: dict[type[Any], list[Any]] = attrs.field(factory=dict)
    pairs: list[tuple[Any, Any]] = attrs.field(factory=list)  # (model, the reply it came from)
    task_ids: dict[str, str] = attrs.field(factory=dict)
    emulator: Emulator | None = None

    def add(self, value: Any) -> None:
        """Record every model in ``value``, nested ones included."""
        if isinstance(value, (list, tuple)):
            for item in value:
                self.add(item)
        elif isinstance(value, WireModel):
            self.samples.setdefault(type(value), []).append(value)
            for a in attrs.fields(type(value)):
                if a.name != "_client":
                    self.add(getattr(value, a.name))
        elif isinstance(value, Mapping):
            for item in value.values():
                self.add(item)
        elif isinstance(getattr(value, "data", None), (list, tuple)):  # a page
            self.add(value.data)


def _method(client: Any, call: str) -> Any:
    for name in call.split("."):
        client = getattr(client, name)
    return client


async def _plain_scenario(
    client: AsyncRunway, transport: RecordingTransport, context: dict[str, Any], seen: Recorded
) -> None:
    for call, arguments, keep in STEPS:
        before = len(transport.replies)
        result = _method(client, call)(**arguments(context))
        if inspect.isawaitable(result):
            result = await result
        if keep is not None:
            context[keep] = result
        seen.add(result)
        reply = transport.replies[-1][2] if len(transport.replies) > before else None
        if isinstance(result, UploadCreateEphemeralResponse):
            continue  # built by the client from the upload's target, not a reply of its own
        if isinstance(result, WireModel):
            seen.pairs.append((result, reply))
        elif isinstance(getattr(result, "data", None), (list, tuple)):
            seen.pairs.extend(zip(result.data, reply["data"], strict=True))


async def _tasks_scenario(
    client: AsyncRunway, transport: RecordingTransport, seen: Recorded
) -> None:
    async def retrieve(task_id: str) -> Any:
        task = await client.tasks.retrieve(task_id)
        seen.add(task)
        seen.pairs.append((task, transport.last("GET", f"/v1/tasks/{task_id}")))
        return task

    image = await client.text_to_image.create(**IMAGE)
    created = structure(transport.last("POST", "/v1/text_to_image"), TaskCreated)
    seen.add(created)
    seen.pairs.append((created, transport.last("POST", "/v1/text_to_image")))
    await image.wait_for_task_output(timeout=30)
    seen.task_ids["succeeded"] = image.id
    await retrieve(image.id)

    routed = await client.generate.video.create(
        config_id="default", input={"prompt_text": "a calm lake"}
    )
    reply = transport.last("POST", "/v1/generate/video")
    seen.add(structure(reply, RoutedTaskCreated))
    seen.pairs.append((structure(reply, RoutedTaskCreated), reply))
    await routed.wait_for_task_output(timeout=30)

    long_ids = []
    for _ in range(2):  # the second one waits THROTTLED behind the first
        handle = await client.text_to_video.create(
            model=LONG_MODEL, prompt_text="waves", ratio="1280:720"
        )
        long_ids.append(handle.id)
    for task_id in long_ids:
        await retrieve(task_id)
    for task_id in long_ids:
        await client.tasks.delete(task_id)
        await retrieve(task_id)
    seen.task_ids["cancelled"] = long_ids[0]

    organization = await client.organization.retrieve()
    seen.add(organization)
    seen.pairs.append((organization, transport.last("GET", "/v1/organization")))
    usage = await client.organization.retrieve_usage()
    seen.add(usage)
    seen.pairs.append((usage, transport.last("POST", "/v1/organization/usage")))


async def _failed_task(seen: Recorded) -> None:
    transport = RecordingTransport()
    with Emulator(time_scale=TIME_SCALE, failure_rate=1.0, seed=2).in_thread() as failing:
        async with AsyncRunway(
            failing.api_key,
            base_url=failing.url,
            transport=transport,
            poll=PollConfig(interval=0.005),
        ) as client:
            handle = await client.text_to_image.create(**IMAGE)
            with pytest.raises(TaskFailedError):
                await handle.wait_for_task_output(timeout=30)
            task = await client.tasks.retrieve(handle.id)
            seen.add(task)
            seen.pairs.append((task, transport.last("GET", f"/v1/tasks/{handle.id}")))
    await transport.aclose()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """Run the scenario once on an emulator (kept running for the tests) and record it."""
    seen = Recorded()
    png = tmp_path_factory.mktemp("serialisation") / "guide.png"
    png.write_bytes(PNG)
    was_testing = runway_async.is_testing()
    runway_async.set_testing(True)
    try:
        with Emulator(
            time_scale=TIME_SCALE,
            seed=8,
            concurrency={LONG_MODEL: 1},
            durations={LONG_MODEL: 1e6},
            pending_seconds=0.0,
        ).in_thread() as emu:
            key = "key_serialisation"
            context = {"png": png, "workflow_id": emu.add_workflow("menu", api_key=key)}

            async def main() -> None:
                transport = RecordingTransport()
                async with AsyncRunway(
                    key,
                    base_url=emu.url,
                    transport=transport,
                    poll=PollConfig(interval=0.005),
                    max_concurrency=None,  # let the THROTTLED task reach the server
                ) as client:
                    await _plain_scenario(client, transport, context, seen)
                    await _tasks_scenario(client, transport, seen)
                await transport.aclose()
                await _failed_task(seen)

            asyncio.run(main())
            seen.emulator = emu
            yield seen
    finally:
        runway_async.set_testing(was_testing)


# -- every model ------------------------------------------------------------------------------


class TestEveryModel:
    """Each response model serialises and is rebuilt through the one converter."""

    def test_the_walk_finds_the_models(self) -> None:
        """The enumeration sees the package's models, so the tests below are not vacuous."""
        names = {cls.__name__ for cls in MODEL_CLASSES}
        assert {"SucceededTask", "Organization", "ReadyAvatar", "Router", "Cost"} <= names
        assert len(MODEL_CLASSES) >= 90

    @pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
    def test_is_a_wire_model_without_code_of_its_own(self, cls: type[Any]) -> None:
        """Every model has the mixin's methods and defines none of them itself."""
        assert issubclass(cls, WireModel)
        for klass in cls.__mro__:
            if klass is not WireModel:
                assert not {"to_dict", "to_json", "construct"} & set(vars(klass)), klass

    @pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
    def test_keeps_unknown_keys(self, cls: type[Any]) -> None:
        """Every model keeps keys it does not know, and writes them back out."""
        assert "extra" in attrs.fields_dict(cls)
        data = {**wire_sample(cls, full=True), **NEW_KEYS}
        model = structure(data, cls)
        assert model.extra == NEW_KEYS
        assert model.to_dict(mode="json") == data
        assert model.to_dict()["brandNewField"] == NEW_KEYS["brandNewField"]
        assert cls.construct(**data).extra == NEW_KEYS

    @pytest.mark.parametrize("full", [False, True], ids=["required-only", "every-field"])
    @pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
    def test_round_trips(self, cls: type[Any], full: bool, recorded: Recorded) -> None:
        """Made-up data and every emulator reply of the class survive to_dict/to_json/construct."""
        data = wire_sample(cls, full=full)
        model = structure(data, cls)
        assert_round_trips(model)
        assert_round_trips(structure({**data, **NEW_KEYS}, cls))
        if full:  # nothing left out, so the reply comes back exactly
            assert model.to_dict(mode="json") == data
            assert json.loads(model.to_json()) == data
        for sample in recorded.samples.get(cls, []):
            assert_round_trips(sample)
            with_new = structure({**sample.to_dict(mode="json"), **NEW_KEYS}, cls)
            assert_round_trips(with_new)
            assert with_new.to_dict()["anotherOne"] == 3

    def test_the_emulator_reached_the_models(self, recorded: Recorded) -> None:
        """The scenario produced real replies for the models it is meant to."""
        seen = {cls.__name__ for cls in recorded.samples}
        expected = {
            "AuditLogEntry", "AuditLogItem", "AvatarUsage", "AvatarUsageDay",
            "AvatarConversationSummary", "CancelledTask", "Cost", "Document",
            "DocumentSummary", "FailedTask", "ModelLimits", "ModelUsage",
            "Organization", "OrganizationUsage", "RealtimeSessionCreated", "RoutedTaskCreated",
            "Router", "RouterSettings", "Routing", "RunningTask", "SucceededTask",
            "TaskCreated", "ThrottledTask", "Tier", "Usage", "VoiceCreated", "VoicePreview",
            "WebappUsageRow", "Workflow", "WorkflowGraph", "WorkflowList", "WorkflowListItem",
            "WorkflowRunCreated", "WorkflowVersion",
        }  # fmt: skip
        assert expected <= seen, sorted(expected - seen)

    def test_to_dict_is_the_reply(self, recorded: Recorded) -> None:
        """to_dict(mode="json") of what a call returned is the API's JSON reply, key for key.

        Timestamps are compared as instants: ``...:00.000Z`` comes back as ``...:00Z``.
        """
        assert len(recorded.pairs) >= 40
        for model, reply in recorded.pairs:
            expected = instants(reply)
            assert instants(model.to_dict(mode="json")) == expected, type(model).__name__
            assert instants(json.loads(model.to_json())) == expected


# -- the options ------------------------------------------------------------------------------


def organization_reply() -> dict[str, Any]:
    return {
        "creditBalance": 1200,
        "tier": {
            "maxMonthlyCreditSpend": 5000,
            "models": {
                "gen4.5": {"maxConcurrentGenerations": None, "maxDailyGenerations": 100},
                "veo3.1_fast": {"maxConcurrentGenerations": 2, "maxDailyGenerations": None},
            },
            "newTierKey": "x",
        },
        "usage": {"models": {"gen4.5": {"dailyGenerations": 4}}},
    }


class TestOptions:
    """The keyword arguments have the official SDK's meaning."""

    def test_use_api_names(self) -> None:
        """False gives attribute names at every level; mapping and unknown keys stay verbatim."""
        organization = structure(organization_reply(), Organization)
        assert organization.to_dict(use_api_names=False) == {
            "credit_balance": 1200,
            "tier": {
                "max_monthly_credit_spend": 5000,
                "models": {
                    "gen4.5": {"max_concurrent_generations": None, "max_daily_generations": 100},
                    "veo3.1_fast": {"max_concurrent_generations": 2, "max_daily_generations": None},
                },
                "newTierKey": "x",
            },
            "usage": {"models": {"gen4.5": {"daily_generations": 4}}},
        }
        assert organization.to_dict() == organization_reply()

    def test_mode(self) -> None:
        """Python mode keeps datetime and date objects; JSON mode gives the API's strings."""
        task = structure(wire_sample(SucceededTask, full=True), SucceededTask)
        python, as_json = task.to_dict(), task.to_dict(mode="json")
        assert python["createdAt"] == dt.datetime(
            2026, 3, 4, 5, 6, 7, 89000, tzinfo=dt.timezone.utc
        )
        assert as_json["createdAt"] == STAMP
        assert python["output"] == as_json["output"] == ["Café ☕"]  # lists, not tuples
        day = structure({"date": "2026-03-04", "sessions": 1, "seconds": 9}, AvatarUsageDay)
        assert day.to_dict()["date"] == dt.date(2026, 3, 4)
        assert day.to_dict(mode="json")["date"] == "2026-03-04"
        with pytest.raises(ValueError, match="mode"):
            task.to_dict(mode="yaml")  # type: ignore[arg-type]

    def test_exclude_unset(self) -> None:
        """Optional fields the reply left out come back only with exclude_unset=False."""
        reply = {"id": "t", "status": "RUNNING", "createdAt": STAMP}
        task = structure(reply, RunningTask)
        assert task.to_dict(mode="json") == reply
        assert task.to_dict(mode="json", exclude_unset=False) == {
            **reply,
            "estimatedCost": None,
            "progress": None,
        }

    def test_explicit_null_counts_as_set(self) -> None:
        """A null the API sends on purpose (unlimited) is kept, unless exclude_none."""
        limits = structure({"maxConcurrentGenerations": None}, ModelLimits)
        assert limits.to_dict() == {"maxConcurrentGenerations": None, "maxDailyGenerations": None}
        assert limits.to_dict(exclude_none=True) == {}

    def test_exclude_none(self) -> None:
        """exclude_none drops every None, unknown keys' included, at every level."""
        organization = structure({**organization_reply(), "gone": None}, Organization)
        assert organization.to_dict()["gone"] is None
        trimmed = organization.to_dict(exclude_none=True)
        assert "gone" not in trimmed
        assert trimmed["tier"]["models"]["gen4.5"] == {"maxDailyGenerations": 100}

    def test_exclude_defaults_keeps_the_tag(self) -> None:
        """exclude_defaults drops fields at their default, but never the class's tag."""
        data = wire_sample(ReadyAvatar, full=True)
        data["voice"] = {"type": "custom", "id": "v1", "deleted": False}
        data["documentIds"] = []
        avatar = structure(data, ReadyAvatar)
        trimmed = avatar.to_dict(mode="json", exclude_defaults=True)
        assert trimmed["status"] == "READY"
        assert trimmed["voice"] == {"type": "custom", "id": "v1"}
        assert "documentIds" not in trimmed
        assert structure(trimmed, ReadyAvatar) == avatar

    def test_to_json_indent(self) -> None:
        """Indent is the JSON's indentation; None is one compact line; non-ASCII stays as is."""
        model = structure(wire_sample(ReadyAvatar, full=True), ReadyAvatar)
        data = model.to_dict(mode="json")
        assert model.to_json() == json.dumps(data, indent=2, ensure_ascii=False)
        assert model.to_json(indent=4) == json.dumps(data, indent=4, ensure_ascii=False)
        compact = model.to_json(indent=None)
        assert "\n" not in compact
        assert ", " not in compact
        assert '"name":"Café ☕"' in compact
        assert json.loads(model.to_json(use_api_names=False))["created_at"] == STAMP

    def test_the_dict_is_a_copy(self) -> None:
        """Changing what to_dict returned leaves the model as it was."""
        model = structure({**wire_sample(SucceededTask, full=True), **NEW_KEYS}, SucceededTask)
        before = copy.deepcopy(model.extra)
        for mode in ("python", "json"):
            data = model.to_dict(mode=mode)
            data["brandNewField"]["nested"].append("more")
            data["output"].append("more")
        assert model.extra == before
        assert model.output == ("Café ☕",)


# -- construct --------------------------------------------------------------------------------


class TestConstruct:
    """construct builds from wire data like a reply, and never refuses data."""

    def test_nested_unions_get_their_classes(self) -> None:
        """Tagged unions inside a model become the class their tag names."""
        data = wire_sample(ReadyAvatar, full=True)
        assert isinstance(
            ReadyAvatar.construct(**data).voice, type(structure(data, ReadyAvatar).voice)
        )
        custom = ReadyAvatar.construct(**{**data, "voice": {"type": "custom", "id": "v1"}})
        assert isinstance(custom.voice, AvatarCustomVoice)
        new = ReadyAvatar.construct(**{**data, "voice": {"type": "cloned", "id": "v2"}})
        assert new.voice == UnknownAvatarVoice(type="cloned", extra={"id": "v2"})
        request = wire_sample(RoutingRequest, full=True)
        request["pipeline"] = [{"type": "rank", "outcome": "cost"}, {"type": "vote", "n": 1}]
        built = RoutingRequest.construct(**request)
        assert [type(step).__name__ for step in built.pipeline] == [
            "RankStep",
            "UnknownRoutingStep",
        ]
        assert isinstance(built.pipeline[1], UnknownRoutingStep)

    def test_odd_data_is_kept_not_refused(self) -> None:
        """Missing fields are None, unparseable values kept as given, as the official construct."""
        task = SucceededTask.construct(id="t", createdAt="yesterday", cost={"credits": "lots"})
        assert task.created_at == "yesterday"
        assert task.output is None
        assert task.cost is not None
        assert task.cost.credits == "lots"
        assert task.status == "SUCCEEDED"  # the default of a field left out
        wrong = FailedTask.construct(id="t", status="SUCCEEDED", createdAt=STAMP, failure="x")
        assert wrong.status == "SUCCEEDED"  # a contradicting tag is kept, as sent
        assert wrong.created_at == dt.datetime(2026, 3, 4, 5, 6, 7, 89000, tzinfo=dt.timezone.utc)

    def test_odd_values_warn_when_serialised(self) -> None:
        """to_dict writes odd values as they are and warns where they are, unless told not to."""
        task = SucceededTask.construct(id="t", createdAt="yesterday", output=["u"])
        with pytest.warns(UserWarning, match=r"\$\.createdAt holds a string, not datetime"):
            data = task.to_dict(mode="json")
        assert data == {"id": "t", "status": "SUCCEEDED", "createdAt": "yesterday", "output": ["u"]}
        with pytest.warns(UserWarning, match=r"\$\.output holds null"):
            SucceededTask.construct(id="t", createdAt=STAMP).to_dict()
        # Without warnings, nothing is emitted (pytest turns any warning into an error).
        assert task.to_json(warnings=False, indent=None).startswith('{"id":"t"')

    def test_a_field_named_like_the_parameter(self) -> None:
        """A wire key ``cls`` is data, not the class argument."""
        assert CancelledTask.construct(id="t", createdAt=STAMP, cls=1).extra == {"cls": 1}


# -- bound clients, the sync twins, the official SDK, the CLI ---------------------------------


class TestWithClients:
    """What clients return serialises the same way; the bound client never does."""

    async def test_bound_client_is_not_serialised(self, recorded: Recorded) -> None:
        """A retrieved task (bound to its client) serialises as an unbound one."""
        assert recorded.emulator is not None
        emu = recorded.emulator
        async with AsyncRunway("k", base_url=emu.url, poll=PollConfig(interval=0.005)) as client:
            task = await client.tasks.retrieve(recorded.task_ids["succeeded"])
            reply = await client.request("GET", f"/v1/tasks/{task.id}")
        data = task.to_dict(mode="json", exclude_unset=False)
        assert "client" not in data
        assert "_client" not in data
        assert task.to_dict(mode="json") == reply
        rebuilt = type(task).construct(**task.to_dict())
        assert rebuilt == task
        assert rebuilt.to_dict() == task.to_dict()

    def test_sync_task_twins(self, recorded: Recorded) -> None:
        """The sync client's task twins serialise, and construct builds twins."""
        assert recorded.emulator is not None
        emu = recorded.emulator
        with Runway("k", base_url=emu.url, poll=PollConfig(interval=0.005)) as client:
            task = client.tasks.retrieve(recorded.task_ids["succeeded"])
            reply = client.request("GET", f"/v1/tasks/{task.id}")
        assert type(task) is sync_facade.SucceededTask
        assert task.to_dict(mode="json") == reply
        rebuilt = type(task).construct(**task.to_dict())
        assert type(rebuilt) is type(task)
        assert rebuilt == task
        assert structure(reply, type(task)) == task

    async def test_same_dict_as_the_official_sdk(self, recorded: Recorded) -> None:
        """The official SDK's to_dict() of a task and of the organization equals ours."""
        runwayml = pytest.importorskip("runwayml")
        assert recorded.emulator is not None
        emu = recorded.emulator
        task_ids = [recorded.task_ids["succeeded"], recorded.task_ids["cancelled"]]
        async with runwayml.AsyncRunwayML(api_key="k", base_url=emu.url) as official:
            theirs = [(await official.tasks.retrieve(i)) for i in task_ids]
            theirs.append(await official.organization.retrieve())
        async with AsyncRunway("k", base_url=emu.url) as client:
            ours: list[Any] = [(await client.tasks.retrieve(i)) for i in task_ids]
            ours.append(await client.organization.retrieve())
        # Not use_api_names=False: the official SDK's nested models then repeat every key in
        # its wire spelling too (``max_daily_generations`` and ``maxDailyGenerations``).
        for mine, official_model in zip(ours, theirs, strict=True):
            for options in ({}, {"exclude_none": True}, {"exclude_unset": False}):
                assert mine.to_dict(**options) == official_model.to_dict(**options), options
            # In JSON, timestamps differ only in how many fraction digits they get.
            assert instants(mine.to_dict(mode="json")) == instants(
                official_model.to_dict(mode="json")
            )
            assert instants(json.loads(mine.to_json())) == instants(
                json.loads(official_model.to_json())
            )

    def test_cli_json_is_the_reply(
        self, recorded: Recorded, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``tasks get --json`` and ``org --json`` print the API's reply, indented by 2."""
        assert recorded.emulator is not None
        emu = recorded.emulator
        for name, value in emu.env().items():
            monkeypatch.setenv(name, value)
        task_id = recorded.task_ids["succeeded"]

        async def replies() -> tuple[Any, Any]:
            async with AsyncRunway(emu.api_key, base_url=emu.url) as client:
                return (
                    await client.request("GET", f"/v1/tasks/{task_id}"),
                    await client.request("GET", "/v1/organization"),
                )

        for args in (["tasks", "get", task_id, "--json"], ["org", "--json"]):
            result = CliRunner().invoke(cli.build_cli(), args, prog_name="runway-async")
            assert result.exit_code == 0, result.output
            printed = json.loads(result.stdout)
            task_reply, org_reply = asyncio.run(replies())
            assert printed == (task_reply if args[0] == "tasks" else org_reply)
            assert result.stdout.startswith('{\n  "')


class TestCreateReplies:
    """A create's handle serialises as the official create responses do: the API's reply."""

    async def test_handle_gives_back_the_reply(self, server: Any) -> None:
        from .conftest import API_KEY, json_reply

        reply = {"id": "4b0f1e0c-1111-4c1a-9d6e-0a5b2c3d4e5f", "futureKey": [1]}
        server.reply(json_reply(reply))
        async with runway_async.AsyncRunway(
            API_KEY, base_url=server.url, max_concurrency=None
        ) as client:
            handle = await client.text_to_image.create(
                model="gen4_image", prompt_text="a fox", ratio="1920:1080"
            )
        assert handle.to_dict() == reply
        assert json.loads(handle.to_json()) == reply
        assert handle.to_dict(use_api_names=False)["id"] == reply["id"]

    def test_handle_without_a_reply(self) -> None:
        from runway_async import Cost, TaskHandle

        handle = TaskHandle(
            id="t1",
            endpoint="text_to_image",
            estimated_cost=Cost(credits=5),
            client=None,  # type: ignore[arg-type]
        )
        assert handle.to_dict() == {"id": "t1", "estimatedCost": {"credits": 5}}
        assert json.loads(handle.to_json(indent=None)) == handle.to_dict()
