"""Run the official ``runwayml`` SDK's own API tests against our emulator in spec-mock mode.

The ``runwayml`` sdist on PyPI ships its test suite (``tests/api_resources``), written for a
stateless spec mock at ``$TEST_API_BASE_URL``: every endpoint is called with example ids and
parameters and every response is checked against the official types. This script:

1. downloads that sdist once into a cache (``pip download --no-deps --no-binary :all:``,
   with this interpreter's pip) and checks its SHA-256;
2. unpacks it there;
3. starts ``Emulator(spec_mock=True)`` in a thread on a free loopback port;
4. runs ``python -m pytest`` on ``SUITE`` (every file of ``tests/api_resources``) with the
   sdist's own pytest settings
   replaced by ``conformance-pytest.ini`` written beside it;
5. prints passed / failed / skipped per file from the JUnit XML, and a total.

Usage::

    python scripts/conformance.py [--cache DIR] [--jobs N] [-- extra pytest args]

Needs ``runway-async`` (this repo), ``runwayml[aiohttp]`` at ``RUNWAYML_VERSION`` and the test
packages in ``TEST_PACKAGES`` installed in the running interpreter. Exits 1 when any test
failed or errored, or when no test ran; 2 on a setup problem.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / ".cache" / "conformance"

RUNWAYML_VERSION = "5.24.0"
SDIST_NAME = f"runwayml-{RUNWAYML_VERSION}.tar.gz"
SDIST_SHA256 = "39fc587fa575a3262c75864630f4f0916cc12b5352e5b6ce42f226a274113797"

# Pins match the sdist's requirements-dev.lock where it has them.
TEST_PACKAGES = (
    f"runwayml[aiohttp]=={RUNWAYML_VERSION}",
    "respx==0.22.0",
    "dirty-equals==0.11",
    "time-machine==2.19.0",
    "pytest-xdist==3.8.0",
    "pytest-asyncio>=0.24",
)
# Import names of TEST_PACKAGES, checked before anything is downloaded.
REQUIRED_MODULES = (
    "runwayml",
    "httpx_aiohttp",
    "respx",
    "dirty_equals",
    "time_machine",
    "xdist",
    "pytest_asyncio",
)

# Every test file of the sdist's tests/api_resources (``unpack`` checks that none is missing
# from this list, so a new sdist cannot silently shrink the run).
SUITE = (
    "tests/api_resources/test_tasks.py",
    "tests/api_resources/test_organization.py",
    "tests/api_resources/test_image_to_video.py",
    "tests/api_resources/test_text_to_video.py",
    "tests/api_resources/test_video_to_video.py",
    "tests/api_resources/test_text_to_image.py",
    "tests/api_resources/test_character_performance.py",
    "tests/api_resources/test_image_upscale.py",
    "tests/api_resources/test_video_upscale.py",
    "tests/api_resources/test_video_to_hdr.py",
    "tests/api_resources/test_video_to_audio.py",
    "tests/api_resources/test_sound_effect.py",
    "tests/api_resources/test_text_to_speech.py",
    "tests/api_resources/test_speech_to_speech.py",
    "tests/api_resources/test_voice_dubbing.py",
    "tests/api_resources/test_voice_isolation.py",
    "tests/api_resources/test_avatar_videos.py",
    "tests/api_resources/test_recipes.py",
    "tests/api_resources/generate/test_audio.py",
    "tests/api_resources/generate/test_image.py",
    "tests/api_resources/generate/test_video.py",
    "tests/api_resources/test_uploads.py",
    "tests/api_resources/test_avatars.py",
    "tests/api_resources/test_avatar_conversations.py",
    "tests/api_resources/test_realtime_sessions.py",
    "tests/api_resources/test_documents.py",
    "tests/api_resources/test_voices.py",
    "tests/api_resources/test_workflows.py",
    "tests/api_resources/test_workflow_invocations.py",
    "tests/api_resources/test_routers.py",
    "tests/api_resources/organization/test_webapp.py",
    "tests/api_resources/organization/webapp/test_audit_logs.py",
)

# Replaces the sdist's [tool.pytest.ini_options]: the same asyncio settings, but no
# ``-n auto`` (we choose the workers) and no ``filterwarnings = error`` (warnings from newer
# versions of its dependencies are not conformance failures). xunit1 records each test's file.
PYTEST_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
xfail_strict = true
junit_family = xunit1
"""

PYTEST_TIMEOUT = 600.0


class SetupError(Exception):
    """The suite could not be prepared (missing package, bad download, missing file)."""


@dataclass
class FileCounts:
    """Outcomes of one test file."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """Return the number of tests run or skipped."""
        return self.passed + self.failed + self.skipped


def check_environment() -> None:
    """Fail early, with the install command, when a needed package is missing."""
    if importlib.util.find_spec("runway_async") is None:
        raise SetupError(f"runway_async is not installed: {sys.executable} -m pip install -e .")
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise SetupError(
            f"missing test packages ({', '.join(missing)}); install them with:\n"
            f"  {sys.executable} -m pip install " + " ".join(f"'{p}'" for p in TEST_PACKAGES)
        )
    installed = importlib.metadata.version("runwayml")
    if installed != RUNWAYML_VERSION:
        raise SetupError(
            f"runwayml {installed} is installed but the suite is runwayml {RUNWAYML_VERSION}; "
            f"install runwayml[aiohttp]=={RUNWAYML_VERSION}"
        )


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_sdist(cache: Path) -> Path:
    """Download the sdist into ``cache`` unless it is already there, and check its hash.

    Returns:
        The path of the tarball.

    """
    tarball = cache / SDIST_NAME
    if not tarball.is_file() or sha256(tarball) != SDIST_SHA256:
        cache.mkdir(parents=True, exist_ok=True)
        print(f"downloading {SDIST_NAME} into {cache} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                str(cache),
                f"runwayml=={RUNWAYML_VERSION}",
            ],
            check=True,
        )
    if not tarball.is_file():
        raise SetupError(f"pip did not produce {tarball}")
    actual = sha256(tarball)
    if actual != SDIST_SHA256:
        raise SetupError(f"{tarball} has SHA-256 {actual}, expected {SDIST_SHA256}")
    return tarball


def unpack(tarball: Path, cache: Path) -> Path:
    """Unpack the sdist once, return its root, and write the replacement pytest config."""
    root = cache / f"runwayml-{RUNWAYML_VERSION}"
    marker = root / ".unpacked"
    if not marker.is_file():
        with tarfile.open(tarball) as tar:
            if hasattr(tarfile, "data_filter"):  # 3.12, and 3.10.12 / 3.11.4 backports
                tar.extractall(cache, filter="data")
            else:  # no extraction filters on this patch release; refuse escaping paths
                for member in tar.getmembers():
                    target = (cache / member.name).resolve()
                    if not target.is_relative_to(cache.resolve()) or member.issym():
                        raise SetupError(f"unsafe path in {tarball.name}: {member.name}")
                tar.extractall(cache)  # noqa: S202 - members checked above
        marker.touch()
    (root / "conformance-pytest.ini").write_text(PYTEST_INI)
    missing = [name for name in SUITE if not (root / name).is_file()]
    if missing:
        raise SetupError(f"not in the sdist: {', '.join(missing)}")
    shipped = {
        path.relative_to(root).as_posix()
        for path in (root / "tests" / "api_resources").rglob("test_*.py")
    }
    left_out = sorted(shipped - set(SUITE))
    if left_out:
        raise SetupError(f"test files of the sdist missing from SUITE: {', '.join(left_out)}")
    return root


def pytest_command(root: Path, junit: Path, jobs: int, extra: list[str]) -> list[str]:
    """Return the pytest command line that runs ``SUITE`` from the unpacked sdist."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(root / "conformance-pytest.ini"),
        "--rootdir",
        str(root),
        "-p",
        "no:cacheprovider",
        # Our own plugin (once installed by entry point) has no business in this run.
        "-p",
        "no:runway_async",
        "-q",
        "--tb=short",
        f"--junitxml={junit}",
    ]
    if jobs > 1:
        command += ["-n", str(jobs)]
    else:
        command += ["-p", "no:xdist"]
    return [*command, *extra, *SUITE]


def subprocess_env(base_url: str) -> dict[str, str]:
    """Return the suite's environment: the emulator's URL, no proxies, no pytest leftovers."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper()
        not in {
            "PYTEST_ADDOPTS",
            "PYTEST_PLUGINS",
            "RUNWAYML_API_SECRET",
            "RUNWAYML_BASE_URL",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
        }
    }
    env["TEST_API_BASE_URL"] = base_url
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    return env


def read_junit(junit: Path, root: Path) -> dict[str, FileCounts]:
    """Return the outcomes per test file (paths relative to the sdist) from a JUnit XML."""
    counts: dict[str, FileCounts] = defaultdict(FileCounts)
    tree = ET.parse(junit)  # noqa: S314 - written by our own pytest run just now
    for case in tree.iter("testcase"):
        name = case.get("file") or case.get("classname") or "?"
        path = Path(name)
        if path.is_absolute():
            path = path.relative_to(root)
        entry = counts[path.as_posix()]
        if case.find("failure") is not None or case.find("error") is not None:
            entry.failed += 1
        elif case.find("skipped") is not None:
            entry.skipped += 1
        else:
            entry.passed += 1
    return dict(counts)


def print_table(counts: dict[str, FileCounts]) -> FileCounts:
    """Print one row per file in ``SUITE`` order, then a total, and return the total."""
    prefix = "tests/api_resources/"
    order = {name: i for i, name in enumerate(SUITE)}
    names = sorted(set(SUITE) | set(counts), key=lambda n: (order.get(n, len(order)), n))
    width = max([len("file"), *(len(n.removeprefix(prefix)) for n in names)])
    print(f"\n{'file':<{width}}  {'passed':>7}  {'failed':>7}  {'skipped':>7}")
    print("-" * (width + 27))
    total = FileCounts()
    for name in names:
        row = counts.get(name, FileCounts())
        total.passed += row.passed
        total.failed += row.failed
        total.skipped += row.skipped
        short = name.removeprefix(prefix)
        print(f"{short:<{width}}  {row.passed:>7}  {row.failed:>7}  {row.skipped:>7}")
    print("-" * (width + 27))
    print(f"{'total':<{width}}  {total.passed:>7}  {total.failed:>7}  {total.skipped:>7}")
    return total


def run(cache: Path, jobs: int, extra: list[str]) -> int:
    """Prepare the suite, run it against a spec-mock emulator, report, return the exit code."""
    check_environment()
    # Imported here so ``--help`` and the environment check work before the install.
    from runway_async.emulator import Emulator

    cache = cache.resolve()
    root = unpack(fetch_sdist(cache), cache)
    junit = cache / "junit.xml"
    junit.unlink(missing_ok=True)
    started = time.monotonic()
    with Emulator(spec_mock=True).in_thread() as emu:
        print(f"emulator (spec-mock) at {emu.url}; running {len(SUITE)} files", flush=True)
        result = subprocess.run(
            pytest_command(root, junit, jobs, extra),
            cwd=root,
            env=subprocess_env(emu.url),
            timeout=PYTEST_TIMEOUT,
            check=False,
        )
    elapsed = time.monotonic() - started
    if not junit.is_file():
        print(f"conformance: pytest wrote no report (exit {result.returncode})")
        return 1
    counts = read_junit(junit, root)
    total = print_table(counts)
    # A -k or --deselect passed through may leave files empty on purpose.
    not_run = [] if extra else [n for n in SUITE if counts.get(n, FileCounts()).total == 0]
    print(f"\npytest exit {result.returncode}, {elapsed:.1f}s including the emulator")
    print(f"conformance: {total.passed} passed, {total.failed} failed, {total.skipped} skipped")
    if not_run:
        print("conformance: no test ran in " + ", ".join(not_run))
    if total.failed or total.passed == 0 or not_run or result.returncode != 0:
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the suite."""
    parser = argparse.ArgumentParser(
        description="Run the official runwayml SDK's API tests against the emulator.",
        epilog="Arguments after -- go to pytest (for example -- -x or -- -k retrieve).",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"where the sdist is kept (default {DEFAULT_CACHE.relative_to(ROOT)}/)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(os.cpu_count() or 1, 4),
        help="pytest-xdist workers; 1 runs in one process (default: CPUs, at most 4)",
    )
    args, extra = parser.parse_known_args(argv)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    elif extra:
        parser.error(f"unrecognised arguments: {' '.join(extra)} (put pytest's after --)")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        return run(args.cache, args.jobs, extra)
    except (SetupError, subprocess.CalledProcessError) as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
