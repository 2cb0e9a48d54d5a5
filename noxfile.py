"""Project tasks: ``nox -s tests``, ``lint``, ``typing``, ``generate``, ``conformance``, ``bench``.

Each session installs what it needs into its own virtualenv. ``tests_pythons`` runs the
suite on every other Python the README promises (CI runs it; ``nox -s tests`` needs only one).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typing", "generate", "conformance"]
nox.options.error_on_missing_interpreters = True

TEST_DEPS = [
    "pytest>=8",
    "pytest-asyncio>=0.24",
    "coverage[toml]>=7",
    "ruff==0.17.6",  # the generated-code freshness test formats with the same ruff
    "runwayml==5.24.0",  # the official SDK, driven against our emulator as conformance
    "hypothesis>=6",  # property-based tests (tests/test_properties.py)
]
# The official SDK's own test suite and what it needs (pins from its requirements-dev.lock);
# keep in step with TEST_PACKAGES in scripts/conformance.py.
CONFORMANCE_DEPS = [
    "runwayml[aiohttp]==5.24.0",
    "respx==0.22.0",
    "dirty-equals==0.11",
    "time-machine==2.19.0",
    "pytest-xdist==3.8.0",
    "pytest>=8",
    "pytest-asyncio>=0.24",
]
AIORESPONSES = "aioresponses>=0.7.6"
# The package with the extras the suite exercises: the CLI, and redis-py for RedisLimiter
# (its tests start a real redis-server, which .ci/run installs).
PACKAGE_UNDER_TEST = ".[cli,redis]"
# The Pythons besides the default one that the README promises (requires-python >= 3.10).
OTHER_PYTHONS = ["3.10", "3.12", "3.13"]
LINT_DEPS = ["ruff==0.17.6"]
# The import contracts in pyproject.toml ([tool.importlinter]): layers, and who may import
# aiohttp and the client.
IMPORT_LINTER = "import-linter==2.17"
# The official SDK the benchmarks compare against (its default httpx transport), and
# matplotlib for the timeline pictures (benchmarks/results/*.png).
BENCH_DEPS = ["runwayml==5.24.0", "matplotlib>=3.8"]
TYPING_DEPS = ["mypy>=1.11", "pytest>=8", "aioresponses>=0.7.6"]

# aioresponses 0.7.9 breaks on aiohttp 3.14 (ClientResponse gained a required argument), so
# the request-shape unit tests that use it run on aiohttp 3.13; everything else also runs on
# the newest aiohttp we allow.
AIOHTTP_VERSIONS = {
    "3.13": "aiohttp>=3.13,<3.14",
    "latest": "aiohttp>=3.9,<4",
}


@nox.session
@nox.parametrize("aiohttp", list(AIOHTTP_VERSIONS))
def tests(session: nox.Session, aiohttp: str) -> None:
    """Run the test suite with coverage (aioresponses tests only on aiohttp 3.13)."""
    session.install("-e", PACKAGE_UNDER_TEST, *TEST_DEPS, AIOHTTP_VERSIONS[aiohttp])
    args = ["-p", "no:cacheprovider"]
    if aiohttp == "3.13":
        session.install(AIORESPONSES)
    else:
        args += ["-m", "not aioresponses and not heavy"]  # heavy suites run once, above
    # `coverage run` rather than pytest-cov: our pytest plugin (an entry point) imports the
    # package before pytest-cov would start measuring, hiding every module-level line.
    env = {"COVERAGE_FILE": f".coverage.{aiohttp}"}
    session.run("coverage", "run", "-m", "pytest", *args, *session.posargs, env=env)
    session.run("coverage", "report", env=env)


def _expose_pyenv_pythons(versions: list[str]) -> None:
    """Let nox find pyenv-installed Pythons that pyenv's settings leave inactive.

    pyenv's ``python3.10`` shim fails unless 3.10 is among the active versions (``pyenv
    global``, ``.python-version`` or ``$PYENV_VERSION``), and nox resolves shims only to
    active versions. So when pyenv is in use, ``$PYENV_VERSION`` for this process becomes the
    active versions (first, so ``python3`` is unchanged) followed by the newest installed
    patch of each of ``versions`` not already active. Without pyenv nothing changes.
    """
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return

    def ask(command: str) -> str:
        done = subprocess.run(  # noqa: S603 - pyenv from PATH, fixed arguments
            [pyenv, command], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    try:
        active = [v for v in ask("version-name").split(":") if v]
        installed = [p.name for p in (Path(ask("root")) / "versions").iterdir() if p.is_dir()]
    except (OSError, subprocess.CalledProcessError):
        return
    chosen = list(active)
    for version in versions:
        if any(v == version or v.startswith(f"{version}.") for v in active):
            continue
        patches = [v for v in installed if re.fullmatch(rf"{re.escape(version)}\.\d+", v)]
        if patches:
            chosen.append(max(patches, key=lambda v: int(v.rsplit(".", 1)[1])))
    if chosen != active:
        os.environ["PYENV_VERSION"] = ":".join(chosen)


_expose_pyenv_pythons(OTHER_PYTHONS)


@nox.session(python=OTHER_PYTHONS)
def tests_pythons(session: nox.Session) -> None:
    """Run the test suite on each other supported Python (newest aiohttp, no coverage).

    The same pytest run as ``tests-latest``. Suites meant to run once, on the default
    Python (heavy ones), are to be left out here by marker.
    """
    deps = [dep for dep in TEST_DEPS if not dep.startswith("coverage")]
    session.install("-e", PACKAGE_UNDER_TEST, *deps, AIOHTTP_VERSIONS["latest"])
    marks = "not aioresponses and not heavy"
    if session.python != OTHER_PYTHONS[0]:
        # RedisLimiter's suites (a real redis-server) run on the default Python and the
        # oldest one only: CI stays well within its time budget.
        marks += " and not redis"
    session.run("pytest", "-p", "no:cacheprovider", "-m", marks, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff, and the import contracts with import-linter."""
    session.install(*LINT_DEPS, IMPORT_LINTER)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # lint-imports reads the package's source from the current directory (on its sys.path):
    # no install needed.
    session.run("lint-imports")


@nox.session
def typing(session: nox.Session) -> None:
    """Type-check the package with mypy --strict."""
    session.install("-e", PACKAGE_UNDER_TEST, *TYPING_DEPS)  # redis-py's types for mypy
    session.run("mypy", "--strict", "runway_async")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate the spec-derived code; with ``-- --check``, fail if anything is stale."""
    session.install("-e", ".", *LINT_DEPS)
    check = ["--check"] if "--check" in session.posargs else []
    session.run("python", "scripts/build_spec.py", *check)
    session.run("python", "scripts/gen_endpoints.py", *check)
    session.run("python", "scripts/gen_sync.py", *check)


@nox.session
def conformance(session: nox.Session) -> None:
    """Run the official runwayml SDK's API tests against the emulator in spec-mock mode."""
    session.install("-e", ".", *CONFORMANCE_DEPS)
    session.run("python", "scripts/conformance.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark against the official SDK on the emulator (``-- --only small`` to pick)."""
    session.install("-e", ".[redis]", *BENCH_DEPS)  # the fleet scenario's RedisLimiter
    session.run("python", "benchmarks/run.py", *session.posargs)
