"""The package's layering, checked on its source: no import cycle, no reach into privates.

import-linter (``nox -s lint``) checks the layer contracts of ``pyproject.toml``; these tests
check what it does not: that no two modules import each other through any chain (function
level and ``TYPE_CHECKING`` imports included), and that no module reads a private attribute
(``obj._name``) that its own module does not define (a private name of another module's
class). See ``docs/architecture.md``.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "runway_async"


def modules() -> dict[str, Path]:
    """Return every module of the package by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Return the package modules ``name`` imports, at any level of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the package, as import does
                base = importlib.util.resolve_name("." * node.level + base, package)
            # "from . import x" names a submodule when one exists.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Return each package module's imports of other package modules."""
    known = modules()
    return {name: imports_of(name, path, set(known)) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def is_package_init_edge(source: str, target: str) -> bool:
    """Whether ``source`` is a package ``__init__`` importing its own submodule."""
    return target.startswith(source + ".")


def test_no_import_cycles() -> None:
    """No chain of imports leads from a module back to itself (packages' own inits aside)."""
    graph = {
        name: {t for t in targets if not is_package_init_edge(name, t)}
        for name, targets in import_graph().items()
    }
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a two-module loop is reported."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_resources_batch_and_downloads_never_import_the_client() -> None:
    """Only the client's users (the sync facade, the CLI, the package) import the client."""
    allowed = {
        "runway_async",
        "runway_async._sync",
        "runway_async._sync_runtime",
        "runway_async.cli",
    }
    importers = {n for n, targets in import_graph().items() if "runway_async._client" in targets}
    assert importers <= allowed, importers - allowed


def defined_private_names(tree: ast.Module) -> set[str]:
    """Return every private name a module defines: attributes, methods, fields, globals."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # __slots__ entries and attrs field names
    return {n for n in names if n.startswith("_")}


def foreign_private_reads(path: Path) -> Iterator[str]:
    """Yield ``line: expr`` for each ``x._name`` whose ``_name`` the module does not define.

    ``self._x`` and ``cls._x`` are a class's own members (a subclass may use the protected
    members it inherits); any other object's private name must be defined in this module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = defined_private_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        attr = node.attr
        if not attr.startswith("_") or (attr.startswith("__") and attr.endswith("__")):
            continue
        if attr in own:
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue  # a class's own (or inherited, protected) member
        yield f"{path.name}:{node.lineno}: {ast.unparse(node)}"


def test_no_module_reads_another_modules_private_attributes() -> None:
    """Every ``obj._name`` in the package refers to a name its own module defines."""
    found = [
        read
        for name, path in modules().items()
        if not name.startswith("runway_async.emulator")
        for read in foreign_private_reads(path)
    ]
    assert found == []


def test_the_private_read_check_can_fail(tmp_path: Path) -> None:
    """A module reading another class's private attribute is reported."""
    module = tmp_path / "m.py"
    module.write_text("def f(client):\n    return client._transport\n", encoding="utf-8")
    assert list(foreign_private_reads(module)) == ["m.py:2: client._transport"]
