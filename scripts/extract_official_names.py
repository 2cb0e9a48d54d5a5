"""Write ``scripts/official_names.json``: every public type name of the official ``runwayml`` SDK.

Facts only, read from the installed package's source (nothing of it is imported but
``runwayml._version``): the names of ``runwayml.types`` (its top level, every submodule and
subpackage) and of ``runwayml.lib.polling``, each module with the names it offers, where a
name is re-exported from another module, and which names of ``lib.polling`` are left out
because they are not types (its functions, constants and type variables). The table is the
input of the official-name aliases in ``runway_async/types.py`` (``scripts/official_types.py``,
run by ``scripts/gen_endpoints.py``); ``tests/test_official_names.py`` checks it against the
installed SDK.

Usage::

    python scripts/extract_official_names.py [--check]

``--check`` exits 1 with a diff when the committed table differs from the installed SDK.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "scripts" / "official_names.json"
POLLING = "runwayml.lib.polling"
TYPES = "runwayml.types"


def package_dir() -> Path:
    """Return the directory of the installed ``runwayml`` package."""
    spec = importlib.util.find_spec("runwayml")
    if spec is None or spec.origin is None:
        raise SystemExit("error: runwayml is not installed in this environment")
    return Path(spec.origin).parent


def version(root: Path) -> str:
    """Return the installed SDK's version, read from its ``_version.py``."""
    tree = ast.parse((root / "_version.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise SystemExit("error: runwayml/_version.py has no __version__")


def module_name(root: Path, path: Path) -> str:
    """Return the dotted name of a file of the package."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(package: str, node: ast.ImportFrom) -> str:
    """Return the absolute module an ``ImportFrom`` reads from."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def declared_all(tree: ast.Module) -> list[str] | None:
    """Return a module's literal ``__all__``, or None when it has none."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return [str(v) for v in ast.literal_eval(node.value)]
    return None


def reexports(name: str, tree: ast.Module, package: str) -> dict[str, str]:
    """Return the names a module imports from the SDK's types: name -> ``module:original``."""
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        source = resolve(package, node)
        if not source.startswith(TYPES):
            continue
        for alias in node.names:
            public = alias.asname or alias.name
            if not public.startswith("_"):
                found[public] = f"{source}:{alias.name}"
    return found


def is_type_variable(value: ast.expr) -> bool:
    """Whether an assigned value is a ``TypeVar(...)`` or ``ParamSpec(...)`` call."""
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in {"TypeVar", "ParamSpec"}
    )


def polling_names(tree: ast.Module) -> tuple[list[str], dict[str, str]]:
    """Return the type names ``lib.polling`` defines, and the public names left out (-> why)."""
    names: list[str] = []
    left_out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            if not node.name.startswith("_"):
                names.append(node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not node.name.startswith("_"):
                left_out[node.name] = "function"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not isinstance(target, ast.Name) or target.id.startswith("_"):
                    continue
                value = node.value
                if value is not None and is_type_variable(value):
                    left_out[target.id] = "type variable"
                elif isinstance(value, ast.Constant):
                    left_out[target.id] = "constant"
                else:
                    names.append(target.id)
    return names, left_out


def extract(root: Path) -> dict[str, Any]:
    """Return the table of the installed SDK's public type names."""
    modules: dict[str, list[str]] = {}
    sources: dict[str, dict[str, str]] = {}
    left_out: dict[str, dict[str, str]] = {}
    for path in sorted((root / "types").rglob("*.py")):
        name = module_name(root, path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = reexports(name, tree, package)
        listed = declared_all(tree)
        if listed is None:  # a package's __init__: its re-exports are its names
            listed = list(imported)
        modules[name] = sorted(listed)
        kept = {n: s for n, s in imported.items() if n in listed}
        if kept:
            sources[name] = dict(sorted(kept.items()))
    tree = ast.parse((root / "lib" / "polling.py").read_text(encoding="utf-8"))
    defined, left_out[POLLING] = polling_names(tree)
    imported = reexports(POLLING, tree, "runwayml.lib")
    modules[POLLING] = sorted([*defined, *imported])
    sources[POLLING] = dict(sorted(imported.items()))
    left_out[POLLING] = dict(sorted(left_out[POLLING].items()))
    return {
        "generated_by": "scripts/extract_official_names.py",
        "source": f"runwayml {version(root)}",
        "modules": dict(sorted(modules.items())),
        "reexports": dict(sorted(sources.items())),
        "left_out": left_out,
    }


def render(table: dict[str, Any]) -> str:
    """Return the table as committed: indented JSON, one name per line."""
    return json.dumps(table, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` verify) the table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the table is stale")
    args = parser.parse_args(argv)
    text = render(extract(package_dir()))
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
    if args.check:
        if current == text:
            print("scripts/official_names.json is up to date.")
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                "official_names.json (committed)",
                "official_names.json (installed runwayml)",
            )
        )
        return 1
    if current != text:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
