"""Project tasks: ``nox -s tests``, ``lint``, ``typing``, ``generate``, ``conformance``, ``bench``.

Each session installs what it needs into its own virtualenv.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typing", "generate", "conformance"]
nox.options.error_on_missing_interpreters = True

TEST_DEPS = [
    "pytest>=8",
    "pytest-asyncio>=0.24",
    "coverage[toml]>=7",
    "ruff==0.17.6",  # the generated-code freshness test formats with the same ruff
    "runwayml==5.24.0",  # the official SDK, driven against our emulator as conformance
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
LINT_DEPS = ["ruff==0.17.6"]
# The official SDK the benchmarks compare against (its default httpx transport).
BENCH_DEPS = ["runwayml==5.24.0"]
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
    session.install("-e", ".[cli]", *TEST_DEPS, AIOHTTP_VERSIONS[aiohttp])
    args = ["-p", "no:cacheprovider"]
    if aiohttp == "3.13":
        session.install(AIORESPONSES)
    else:
        args += ["-m", "not aioresponses"]
    # `coverage run` rather than pytest-cov: our pytest plugin (an entry point) imports the
    # package before pytest-cov would start measuring, hiding every module-level line.
    env = {"COVERAGE_FILE": f".coverage.{aiohttp}"}
    session.run("coverage", "run", "-m", "pytest", *args, *session.posargs, env=env)
    session.run("coverage", "report", env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install(*LINT_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """Type-check the package with mypy --strict."""
    session.install("-e", ".[cli]", *TYPING_DEPS)
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
    session.install("-e", ".", *BENCH_DEPS)
    session.run("python", "benchmarks/run.py", *session.posargs)
