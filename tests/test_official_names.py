"""The official SDK's type names import from ``runway_async.types`` and mean what they say.

Every public name of the installed ``runwayml.types`` (top level, every submodule) and
``runwayml.lib.polling`` resolves; request TypedDicts accept every key of the official one;
response names are classes with the official fields; the committed table
(``scripts/official_names.json``) is what the installed SDK has; and the objects our clients
return against the emulator are instances of the official names.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import types as pytypes
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import runway_async
from runway_async import AsyncRunway, PollConfig, Runway
from runway_async import types as ours
from runway_async.emulator import Emulator

from .conftest import API_KEY
from .test_generated_endpoints import load_script

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "scripts" / "official_names.json"
OFFICIAL_VERSION = "5.24.0"
OPTIONS = {"extra_headers", "extra_query", "extra_body", "timeout"}
FAST = PollConfig(interval=0.005)
IMAGE = "https://example.com/a.png"
VIDEO = "https://example.com/a.mp4"

runwayml = pytest.importorskip("runwayml", reason="the official runwayml SDK is not installed")
typing_extensions = pytest.importorskip("typing_extensions")  # the official SDK needs it
official_types = importlib.import_module("runwayml.types")
polling = importlib.import_module("runwayml.lib.polling")


def table() -> dict[str, Any]:
    return json.loads(TABLE.read_text(encoding="utf-8"))


def generator() -> Any:
    """Import the official-names part of the generator (``scripts/official_types.py``)."""
    return load_script(ROOT / "scripts" / "official_types.py", "official_types_under_test")


def official_modules() -> Iterator[tuple[str, pytypes.ModuleType]]:
    """Yield every module of the installed ``runwayml.types``, the package itself first."""
    yield official_types.__name__, official_types
    for info in pkgutil.walk_packages(official_types.__path__, official_types.__name__ + "."):
        yield info.name, importlib.import_module(info.name)


def public_names(module: pytypes.ModuleType) -> list[str]:
    """Return a module's public names: its ``__all__``, or for a package what it re-exports."""
    listed = getattr(module, "__all__", None)
    if listed is not None:
        return list(listed)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    ]


def polling_names() -> list[str]:
    """Return the type names of ``runwayml.lib.polling``: its classes, aliases and SDK types."""
    return [
        name
        for name, value in vars(polling).items()
        if not name.startswith("_")
        and (
            (
                isinstance(value, type)
                and value.__module__.startswith(("runwayml.lib.polling", "runwayml.types"))
            )
            or (isinstance(value, type) and issubclass(value, Exception))
            or typing.get_origin(value) is typing.Annotated
        )
    ]


def spelled() -> dict[tuple[str, str], str]:
    """Return (official module, name) -> the name it imports as from ``runway_async.types``."""
    out = {}
    for module, names in table()["modules"].items():
        for name in names:
            out[(module, name)] = name
    text = (ROOT / "docs" / "official-names.md").read_text(encoding="utf-8")
    for full, name, ours_name in _renamed_rows(text):
        out[(full, name)] = ours_name
    return out


def _renamed_rows(text: str) -> Iterator[tuple[str, str, str]]:
    section = text.split("## Names spelled differently", 1)[1].split("## Every module", 1)[0]
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) == 3 and cells[0].startswith("runwayml."):
            module, _, name = cells[0].rpartition(".")
            yield module, name, cells[1]


def our_typeddicts(value: Any) -> list[Any] | None:
    """Return the TypedDicts of one of our TypedDicts or unions of them, None for others."""
    members = typing.get_args(value) if isinstance(value, pytypes.UnionType) else (value,)
    if all(typing_extensions.is_typeddict(m) for m in members):
        return list(members)
    return None


def official_required(td: Any) -> set[str]:
    """Return an official TypedDict's required keys (its annotations are strings)."""
    hints = typing_extensions.get_type_hints(td, include_extras=True)
    return {k for k, v in hints.items() if typing.get_origin(v) is typing_extensions.Required}


def flatten(value: Any) -> list[Any]:
    """Return the members of an official alias (``Annotated[Union[...], ...]``) or the value."""
    if typing.get_origin(value) is typing.Annotated:
        value = typing.get_args(value)[0]
    if typing.get_origin(value) in (typing.Union, pytypes.UnionType):
        return [a for a in typing.get_args(value) if a is not type(None)]
    return [value]


def literal_values(annotation: Any) -> set[Any]:
    """Return the values a ``Literal`` (or a union of them) allows."""
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    return {v for arg in typing.get_args(annotation) for v in literal_values(arg)}


def attributes(cls: type) -> set[str]:
    """Return the attribute names instances of one of our classes have."""
    names = {a.name for a in attrs.fields(cls)} if attrs.has(cls) else set()
    for klass in cls.__mro__:
        names |= set(vars(klass))
        names |= set(getattr(klass, "__annotations__", {}))
    return names


def skip_unless_the_tables_version() -> None:
    if runwayml.__version__ != OFFICIAL_VERSION:
        pytest.skip(f"the table is of runwayml {OFFICIAL_VERSION}, not {runwayml.__version__}")


class TestTheTable:
    def test_the_table_is_what_the_installed_sdk_has(self) -> None:
        """scripts/official_names.json equals a fresh extraction from runwayml 5.24.0."""
        skip_unless_the_tables_version()
        extract = load_script(ROOT / "scripts" / "extract_official_names.py", "extract_under_test")
        assert extract.extract(extract.package_dir()) == table()

    def test_the_table_has_every_public_name(self) -> None:
        """Each official module and each of its public names is in the table."""
        skip_unless_the_tables_version()
        modules = table()["modules"]
        for name, module in official_modules():
            assert sorted(public_names(module)) == modules[name], name
        assert sorted(polling_names()) == modules["runwayml.lib.polling"]
        assert len(modules["runwayml.types"]) == 93

    def test_lib_polling_leaves_out_only_functions_constants_and_type_variables(self) -> None:
        """What the table leaves out of lib.polling is not a type."""
        for name in table()["left_out"]["runwayml.lib.polling"]:
            value = getattr(polling, name)
            assert inspect.isfunction(value) or isinstance(
                value, (int, float, typing.TypeVar, typing_extensions.ParamSpec)
            ), name


class TestEveryNameImports:
    def test_every_official_name_is_in_types(self) -> None:
        """Every public name of every official module is a name of runway_async.types."""
        missing = [
            f"{module}.{name}"
            for module_name, module in official_modules()
            for module, name in [(module_name, n) for n in public_names(module)]
            if name not in ours.__all__ or not hasattr(ours, name)
        ]
        missing += [n for n in polling_names() if n not in ours.__all__]
        assert missing == []

    def test_names_spelled_differently_import_too(self) -> None:
        """Each name listed as spelled differently is importable under that spelling."""
        renamed = {k: v for k, v in spelled().items() if v != k[1]}
        assert renamed  # the list is parsed, not empty by accident
        for (module, name), spelling in renamed.items():
            assert spelling == generator().module_prefix(module) + name
            assert spelling in ours.__all__
            assert hasattr(ours, spelling)

    def test_the_readme_lists_every_name_spelled_differently(self) -> None:
        """The README's migration table has a row naming each renamed name's module."""
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        section = readme.split("### Type names", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in section.splitlines() if line.strip().startswith("|")]
        missing = [
            f"{module}.{name}"
            for (module, name), spelling in spelled().items()
            if spelling != name
            and not any(
                f"`{module.rpartition('.')[2]}`" in row and f"`{name}`" in row for row in rows
            )
        ]
        assert missing == []

    def test_the_example_of_the_brief(self) -> None:
        """A typical official import, with only the module changed."""
        from runway_async.types import (  # noqa: F401 - the import is the test
            AsyncAwaitableTaskRetrieveResponse,
            CharacterImage,
            Reference,
            TextToVideoCreateResponse,
        )

        assert AsyncAwaitableTaskRetrieveResponse is runway_async.Task

    def test_responses_alias_the_public_models(self) -> None:
        """A response name that is one of our classes is the class runway_async exports."""
        for name in ours.__all__:
            value = getattr(ours, name)
            if isinstance(value, type) and value.__module__.startswith("runway_async._"):
                assert getattr(runway_async, value.__name__) is value, name


class TestWhatTheNamesAre:
    def test_request_typeddicts_accept_every_official_key(self) -> None:
        """For each official TypedDict, ours has its keys and requires no key it leaves out."""
        names = spelled()
        problems = []
        checked = 0
        for module_name, module in official_modules():
            if module_name == official_types.__name__ or not hasattr(module, "__all__"):
                continue
            for name in module.__all__:
                theirs = getattr(module, name)
                members = flatten(theirs)
                if not all(typing_extensions.is_typeddict(m) for m in members):
                    continue
                mine = our_typeddicts(getattr(ours, names[(module_name, name)]))
                if mine is None:
                    problems.append(f"{module_name}.{name}: ours is no TypedDict")
                    continue
                for member in members:
                    checked += 1
                    keys = set(member.__annotations__)
                    required = official_required(member)
                    fits = any(
                        keys <= set(td.__annotations__) and td.__required_keys__ <= required
                        for td in mine
                    )
                    if not fits:
                        problems.append(f"{module_name}.{name} ({member.__name__})")
        assert problems == []
        assert checked > 450, checked

    def test_type_tags_of_request_typeddicts_are_accepted(self) -> None:
        """Where an official TypedDict has a constant ``type``, ours allows that value."""
        names = spelled()
        problems = []
        checked = 0
        for module_name, module in official_modules():
            for name in (
                getattr(module, "__all__", []) if module_name != official_types.__name__ else []
            ):
                theirs = getattr(module, name)
                if (
                    not typing_extensions.is_typeddict(theirs)
                    or "type" not in theirs.__annotations__
                ):
                    continue
                checked += 1
                wanted = set(typing.get_args(typing_extensions.get_type_hints(theirs)["type"]))
                mine = our_typeddicts(getattr(ours, names[(module_name, name)])) or []
                allowed = {
                    value
                    for td in mine
                    for value in literal_values(typing.get_type_hints(td).get("type", object))
                }
                if not wanted <= allowed:
                    problems.append(f"{module_name}.{name}: {wanted - allowed}")
        assert problems == []
        assert checked > 80, checked

    def test_response_classes_have_the_official_fields(self) -> None:
        """For each official response class, ours has an attribute per official field."""
        names = spelled()
        problems = []
        checked = 0
        for module_name, module in official_modules():
            if not module_name.endswith("_response"):
                continue
            for name in module.__all__:
                theirs = getattr(module, name)
                if not (isinstance(theirs, type) and hasattr(theirs, "model_fields")):
                    continue
                mine = getattr(ours, names[(module_name, name)])
                if typing.get_origin(mine) is not None and not isinstance(mine, pytypes.UnionType):
                    continue  # Mapping[str, Any]: free-form details
                classes = typing.get_args(mine) if isinstance(mine, pytypes.UnionType) else (mine,)
                for field in theirs.model_fields:
                    checked += 1
                    if not any(field in attributes(cls) for cls in classes):
                        problems.append(f"{module_name}.{name}.{field}")
        assert problems == []
        assert checked > 800, checked

    def test_create_responses_are_the_protocol_both_handles_match(self) -> None:
        """``<Endpoint>CreateResponse`` is TaskCreateResponse; the sync handle satisfies it."""
        assert ours.ImageToVideoCreateResponse is ours.TaskCreateResponse
        assert ours.AudioCreateResponse is ours.TaskCreateResponse
        assert ours.RecipeProductAdResponse is ours.TaskCreateResponse
        assert ours.AsyncNewTaskCreatedResponse is runway_async.TaskHandle

    def test_polling_errors_are_ours(self) -> None:
        """The wait errors of lib.polling are the ones our waits raise."""
        assert ours.TaskFailedError is runway_async.TaskFailedError
        assert ours.TaskTimeoutError is runway_async.TaskTimeoutError
        assert ours.WorkflowInvocationFailedError is runway_async.TaskFailedError
        assert ours.WorkflowInvocationTimeoutError is runway_async.TaskTimeoutError


def client_method(client: Any, call: str) -> Any:
    """Return the bound method of ``client.<call>``."""
    target = client
    for part in call.split("."):
        target = getattr(target, part)
    return target


class TestParamsTypedDicts:
    async def test_keys_are_the_calls_keywords(self) -> None:
        """Each params TypedDict has exactly its call's keywords, required where they are."""
        gen = generator()
        async with AsyncRunway(API_KEY) as client:
            for module, call in gen.CALLS.items():
                params = getattr(ours, gen.module_prefix(module))
                signature = inspect.signature(client_method(client, call))
                keywords = {
                    p.name: p.default is inspect.Parameter.empty
                    for p in signature.parameters.values()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in OPTIONS
                }
                assert set(params.__annotations__) == set(keywords), call
                assert params.__required_keys__ == {k for k, r in keywords.items() if r}, call


class TestTheGeneratorCanFail:
    def test_a_name_no_rule_matches_fails(self) -> None:
        """A new official name the rules do not know stops the generator."""
        changed = table()
        changed["modules"]["runwayml.types.task_retrieve_response"].append("Paused")
        with pytest.raises(SystemExit, match="Paused"):
            resolve(changed)

    def test_a_rule_matching_nothing_fails(self) -> None:
        """A rule left over after the SDK dropped its names stops the generator."""
        changed = table()
        del changed["modules"]["runwayml.types.voice_preview_response"]
        changed["modules"]["runwayml.types"].remove("VoicePreviewResponse")
        del changed["reexports"]["runwayml.types"]["VoicePreviewResponse"]
        with pytest.raises(SystemExit, match="match no official name"):
            resolve(changed)


def resolve(changed: dict[str, Any]) -> Any:
    """Run the official-names resolution of the generator on a changed table."""
    gen = load_script(ROOT / "scripts" / "gen_endpoints.py", "gen_endpoints_official_test")
    model = gen.build_model(json.loads(gen.SPEC.read_text(encoding="utf-8")))
    registry = model.registry
    typeddicts = {
        s.name: gen.OFFICIAL.shape_fields(s, lambda m: gen.render(m, registry))
        for s in registry.shapes
    }
    existing = set(typeddicts) | set(model.shared_aliases)
    existing |= {a for m in model.methods for a in m.aliases}
    methods = {m.endpoint: m for m in model.methods}
    return gen.OFFICIAL.resolve(changed, typeddicts, existing, methods)


class TestAgainstTheEmulator:
    async def test_async_objects_are_instances_of_the_official_names(self) -> None:
        """A created handle and a task from the emulator are instances of the official names."""
        async with (
            Emulator(time_scale=0.002, seed=7) as emu,
            AsyncRunway(API_KEY, base_url=emu.url, poll=FAST) as client,
        ):
            handle = await client.text_to_image.create(
                model="gen4_image", prompt_text="a fox", ratio="1920:1080"
            )
            assert isinstance(handle, ours.TextToImageCreateResponse)
            assert isinstance(handle, ours.AsyncNewTaskCreatedResponse)
            assert isinstance(handle, ours.AsyncAwaitableTaskResponseMixin)
            done = await handle.wait_for_task_output(timeout=30)
            task = await client.tasks.retrieve(done.id)
            assert isinstance(task, ours.TaskRetrieveResponse)
            assert isinstance(task, ours.AsyncAwaitableTaskRetrieveResponse)
            assert isinstance(task, ours.Succeeded)
            assert isinstance(task, ours.AsyncAwaitableSucceeded)
            assert not isinstance(task, ours.Failed)
            assert isinstance(task.cost, ours.SucceededCost)

    async def test_request_typeddicts_are_accepted_by_the_calls(self) -> None:
        """Dicts built with the official names (only the import changed) create tasks."""
        from runway_async.types import (
            AvatarListParams,
            CharacterImage,
            CharacterPerformanceCreateParams,
            Reference,
            TextToImageCreateParams,
        )

        async with (
            Emulator(time_scale=0.002, seed=8) as emu,
            AsyncRunway(API_KEY, base_url=emu.url, poll=FAST) as client,
        ):
            character = CharacterImage(type="image", uri=IMAGE)
            reference = Reference(type="video", uri=VIDEO)
            handle = await client.character_performance.create(
                model="act_two", character=character, reference=reference
            )
            assert (await handle.wait_for_task_output(timeout=30)).status == "SUCCEEDED"
            params = CharacterPerformanceCreateParams(
                model="act_two",
                character={"type": "image", "uri": IMAGE},
                reference={"type": "video", "uri": VIDEO},
            )
            assert (await client.character_performance.create(**params)).id
            image = TextToImageCreateParams(
                model="gen4_image", prompt_text="a fox", ratio="1920:1080"
            )
            assert (await client.text_to_image.create(**image)).id
            page = await client.avatars.list(**AvatarListParams(limit=2))
            assert len(page.data) <= 2

    def test_sync_objects_are_instances_of_the_official_sync_names(self) -> None:
        """The sync client's handle and task are instances of the official sync names."""
        with (
            Emulator(time_scale=0.002, seed=9).in_thread() as emu,
            Runway(API_KEY, base_url=emu.url, poll=FAST) as client,
        ):
            handle = client.text_to_image.create(
                model="gen4_image", prompt_text="a fox", ratio="1920:1080"
            )
            assert isinstance(handle, ours.TextToImageCreateResponse)
            assert isinstance(handle, ours.NewTaskCreatedResponse)
            assert isinstance(handle, ours.AwaitableTaskResponseMixin)
            done = handle.wait_for_task_output(timeout=30)
            task = client.tasks.retrieve(done.id)
            assert isinstance(task, ours.AwaitableTaskRetrieveResponse)
            assert isinstance(task, ours.AwaitableSucceeded)
