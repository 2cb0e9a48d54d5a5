"""Every public async class and method has a sync twin with the same parameters."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest

import runway_async
from runway_async import _sync
from runway_async._batch import Batch
from runway_async._handles import TaskHandle
from runway_async._models import task as task_models
from runway_async._raw import RawResponses
from runway_async._resources.generation import Generate, Recipes
from runway_async._resources.organization import Organization
from runway_async._resources.tasks import Tasks

from ..test_generated_endpoints import load_script, ruff_available

RENAMED = {"__aenter__": "__enter__", "__aexit__": "__exit__", "__aiter__": "__iter__"}
# async-only spellings whose sync twin is the runtime's close() (it also stops the thread)
SYNC_ONLY = {"aclose": "close"}


def pairs() -> Iterator[tuple[type, type]]:
    yield runway_async.AsyncRunway, _sync.Runway
    yield Tasks, _sync.Tasks
    yield Organization, _sync.Organization
    yield TaskHandle, _sync.TaskHandle
    yield Batch, _sync.Batch
    yield runway_async.AsyncAPIResponse, _sync.APIResponse
    from runway_async._resources import generation

    for name, value in vars(generation).items():
        if inspect.isclass(value) and value.__module__ == generation.__name__:
            if value is generation.TaskResources:
                continue  # the client's typed mixin: mirrored as the sync client's properties
            yield value, getattr(_sync, name)
    for name in task_models.__all__:
        value = getattr(task_models, name)
        if inspect.isclass(value) and attrs.has(value):  # the models, not their protocols
            yield value, getattr(_sync, name)


def public_methods(cls: type) -> dict[str, Any]:
    found = {}
    for name in dir(cls):
        if name.startswith("_") and name not in RENAMED and name not in RENAMED.values():
            continue
        member = inspect.getattr_static(cls, name)
        if isinstance(member, (staticmethod, classmethod)):
            continue
        if inspect.isfunction(member):
            found[RENAMED.get(name, SYNC_ONLY.get(name, name))] = member
    return found


def shape(func: Any, *, drop: frozenset[str] = frozenset()) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(func).parameters.values()
        if p.name not in drop
    ]


PAIRS = list(pairs())


@pytest.mark.parametrize(("async_cls", "sync_cls"), PAIRS, ids=lambda c: c.__name__)
def test_every_public_method_has_a_twin_with_the_same_parameters(
    async_cls: type, sync_cls: type
) -> None:
    """Same method names (after the documented renames) and the same parameters."""
    wanted = public_methods(async_cls)
    have = public_methods(sync_cls)
    assert set(wanted) <= set(have), f"{sync_cls.__name__} lacks {set(wanted) - set(have)}"
    for name, func in wanted.items():
        if name == "close" and sync_cls is _sync.Runway:
            continue  # close() and aclose() both become the runtime's close()
        assert shape(have[name]) == shape(func), f"{sync_cls.__name__}.{name}"


def test_the_client_takes_the_async_arguments_but_the_session() -> None:
    """Runway(...) has AsyncRunway's parameters except the aiohttp session."""
    async_init = shape(runway_async.AsyncRunway.__init__, drop=frozenset({"session"}))
    assert shape(_sync.Runway.__init__) == async_init


@pytest.mark.parametrize(
    ("async_cls", "sync_cls"),
    [(a, s) for a, s in PAIRS if a in (runway_async.AsyncRunway, Generate, TaskHandle)],
    ids=lambda c: c.__name__,
)
def test_attributes_and_namespaces_are_mirrored(async_cls: type, sync_cls: type) -> None:
    """Namespaces (client.tasks, client.generate.video) and handle fields exist on the twin."""
    names = {n for n in getattr(async_cls, "__annotations__", {}) if not n.startswith("_")}
    if async_cls is Generate:
        names = {"video", "image", "audio"}
    for name in names:
        assert isinstance(inspect.getattr_static(sync_cls, name), property), name


def test_sync_classes_are_exported_and_aliased() -> None:
    """Runway and RunwayML are the same class, exported at the top level."""
    assert runway_async.RunwayML is runway_async.Runway is _sync.Runway
    assert issubclass(_sync.SucceededTask, runway_async.SucceededTask)
    assert Recipes.__name__ in _sync.__all__


def raw_namespaces(async_ns: Any, sync_ns: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Yield every raw-response namespace pair under ``async_ns``/``sync_ns``, by path."""
    yield path, async_ns, sync_ns
    for name in dir(async_ns):
        child = getattr(async_ns, name)
        if isinstance(child, RawResponses):
            yield from raw_namespaces(child, getattr(sync_ns, name), f"{path}.{name}")


@pytest.mark.parametrize("kind", ["with_raw_response", "with_streaming_response"])
def test_raw_response_namespaces_are_mirrored(kind: str) -> None:
    """Every namespace's raw view offers the same calls, with the same parameters, in sync."""
    async_client = runway_async.AsyncRunway("key_" + "0" * 64, base_url="http://127.0.0.1:9")
    sync_client = _sync.Runway("key_" + "0" * 64, base_url="http://127.0.0.1:9")
    try:
        pairs = list(raw_namespaces(getattr(async_client, kind), getattr(sync_client, kind), kind))
        assert len(pairs) > 20  # every resource, generate.*, organization.webapp.audit_logs
        for path, async_ns, sync_ns in pairs:
            assert dir(sync_ns) == dir(async_ns), path
            for name in dir(async_ns):
                async_call, sync_call = getattr(async_ns, name), getattr(sync_ns, name)
                if isinstance(async_call, RawResponses):
                    continue
                assert shape(sync_call) == shape(async_call), f"{path}.{name}"
                assert "extra_headers" in inspect.signature(async_call).parameters
        # Each resource offers both views too, as the official SDK places them.
        for path, _, sync_ns in pairs[1:]:
            owner: Any = sync_client
            for name in path.split(".")[1:]:
                owner = getattr(owner, name)
            assert dir(getattr(owner, kind)) == dir(sync_ns), path
    finally:
        sync_client.close()


SYNC_GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "gen_sync.py"


def load_sync_generator() -> ModuleType:
    """Import scripts/gen_sync.py by path (it imports gen_endpoints beside it)."""
    if not ruff_available():
        pytest.skip("ruff is needed to format the generated code")
    return load_script(SYNC_GENERATOR, "gen_sync_under_test")


def test_the_generated_sync_module_is_up_to_date() -> None:
    """Regenerating _sync.py in memory reproduces the committed file exactly."""
    generator = load_sync_generator()
    assert generator.check() == []
    first = Path(_sync.__file__).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# GENERATED by scripts/gen_sync.py")


def test_an_unused_rename_rule_fails_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that matches nothing (drift between the rules and the code) is an error."""
    generator = load_sync_generator()
    monkeypatch.setitem(generator.TYPE_RENAMES, "NoSuchAsyncThing", "NoSuchThing")
    with pytest.raises(SystemExit, match="NoSuchAsyncThing"):
        generator.generate()
