"""The pytest plugin: users' own test files run through pytester in a child pytest."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

PLUGIN = "runway_async.emulator.pytest_plugin"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "test_with_emulator.py"
RUN_TIMEOUT = 120.0
# The child's own settings: strict asyncio mode (pytest-asyncio's default) and warnings as
# errors, so an unclosed session or a leaked thread fails the child run.
CHILD_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


def plugin_args() -> list[str]:
    """Load the plugin by ``-p`` unless its entry point already loads it (never both)."""
    entry_points = importlib.metadata.entry_points(group="pytest11")
    installed = any(ep.value == PLUGIN for ep in entry_points)
    if installed and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return []
    return ["-p", PLUGIN]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makeini(CHILD_INI)
    return pytester.runpytest_subprocess(
        *plugin_args(), "-p", "no:cacheprovider", "-p", "no:xdist", *args, timeout=RUN_TIMEOUT
    )


def write(pytester: pytest.Pytester, name: str, source: str) -> None:
    pytester.makepyfile(**{name: textwrap.dedent(source)})


class TestFixtures:
    def test_client_fixture_creates_and_waits(self, pytester: pytest.Pytester) -> None:
        """A user test with ``runway_client`` creates a task and waits for its output."""
        write(
            pytester,
            "test_user",
            """
            import pytest

            @pytest.mark.asyncio
            async def test_generate(runway_client, runway_emulator):
                assert runway_client.base_url == runway_emulator.url
                task = await runway_client.text_to_image.create(
                    model="gen4_image", prompt_text="a red fox", ratio="1920:1080"
                )
                done = await task.wait_for_task_output(timeout=30)
                assert done.output[0].startswith(runway_emulator.url)
            """,
        )
        run(pytester).assert_outcomes(passed=1)

    def test_env_fixture_runs_code_unchanged(self, pytester: pytest.Pytester) -> None:
        """With ``runway_env``, code building its own client from the environment works."""
        write(
            pytester,
            "test_user",
            """
            import asyncio
            import os

            import pytest
            from runway_async import AsyncRunway

            async def make_video(prompt):
                async with AsyncRunway() as client:
                    task = await client.text_to_video.create(
                        model="gen4.5", prompt_text=prompt, ratio="1280:720", duration=5
                    )
                    return (await task.wait_for_task_output(timeout=30)).output

            @pytest.mark.asyncio
            async def test_async_code(runway_env):
                assert await make_video("waves")

            def test_sync_code(runway_env, runway_emulator):
                assert os.environ["RUNWAYML_BASE_URL"] == runway_emulator.url
                assert asyncio.run(make_video("waves"))

            def test_environment_restored_afterwards():
                assert "RUNWAYML_BASE_URL" not in os.environ
            """,
        )
        run(pytester).assert_outcomes(passed=3)

    def test_emulator_is_shared_across_the_session(self, pytester: pytest.Pytester) -> None:
        """One emulator serves every module; ``fresh_runway_emulator`` resets it."""
        test = """
            import pytest

            @pytest.mark.asyncio
            async def test_create(runway_client, runway_emulator):
                await runway_client.text_to_image.create(
                    model="gen4_image", prompt_text="a fox", ratio="1920:1080"
                )
                with open("seen.txt", "a") as fh:
                    total = runway_emulator.metrics()["tasks_created_total"]
                    fh.write(f"{runway_emulator.url} {id(runway_emulator)} {total}\\n")
            """
        write(pytester, "test_a", test)
        write(pytester, "test_b", test)
        write(
            pytester,
            "test_c",
            """
            def test_fresh(fresh_runway_emulator):
                assert fresh_runway_emulator.metrics()["tasks_created_total"] == 0
            """,
        )
        run(pytester, "test_a.py", "test_b.py", "test_c.py").assert_outcomes(passed=3)
        rows = [line.split() for line in (pytester.path / "seen.txt").read_text().splitlines()]
        assert len({(url, ident) for url, ident, _ in rows}) == 1
        assert [int(total) for *_, total in rows] == [1, 2]

    def test_config_override(self, pytester: pytest.Pytester) -> None:
        """A session fixture ``runway_emulator_config`` in conftest.py changes the settings."""
        write(
            pytester,
            "conftest",
            """
            import pytest

            @pytest.fixture(scope="session")
            def runway_emulator_config():
                return {"api_key": "key_custom", "concurrency": 1, "seed": 3}
            """,
        )
        write(
            pytester,
            "test_user",
            """
            import pytest

            @pytest.mark.asyncio
            async def test_settings(runway_emulator, runway_env, runway_client):
                assert runway_emulator.config.concurrency == 1
                assert runway_emulator.config.time_scale == 0.005  # plugin default kept
                assert runway_env["RUNWAYML_API_SECRET"] == "key_custom"
                org = await runway_client.organization.retrieve()  # the client uses the key
                assert org.tier.models["gen4_image"].max_concurrent_generations == 1
            """,
        )
        run(pytester).assert_outcomes(passed=1)

    def test_example_file_passes(self, pytester: pytest.Pytester) -> None:
        """``examples/test_with_emulator.py``, the README's example, passes as shipped."""
        pytester.makepyfile(test_with_emulator=EXAMPLE.read_text())
        run(pytester).assert_outcomes(passed=3)


class TestNoInterference:
    def test_unused_plugin_starts_nothing(self, pytester: pytest.Pytester) -> None:
        """Tests that use no fixture of ours get no emulator and no extra fixtures."""
        write(
            pytester,
            "test_plain",
            """
            import threading

            def test_plain():
                assert not any(t.name == "runway-emulator" for t in threading.enumerate())
            """,
        )
        plan = run(pytester, "--setup-plan").stdout.str()
        used = [line for line in plan.splitlines() if "fixtures used:" in line]
        assert len(used) == 1
        assert "runway" not in used[0]
        run(pytester).assert_outcomes(passed=1)

    def test_works_without_pytest_asyncio(self, pytester: pytest.Pytester) -> None:
        """With pytest-asyncio disabled, the sync fixtures still serve sync code."""
        write(
            pytester,
            "test_sync",
            """
            import json
            import urllib.request

            def test_sync(runway_env):
                req = urllib.request.Request(
                    runway_env["RUNWAYML_BASE_URL"] + "/v1/organization",
                    headers={
                        "Authorization": "Bearer " + runway_env["RUNWAYML_API_SECRET"],
                        "X-Runway-Version": "2024-11-06",
                    },
                )
                with urllib.request.urlopen(req, timeout=5) as resp:
                    assert "tier" in json.load(resp)
            """,
        )
        pytester.makeini("[pytest]\nfilterwarnings = error\n")
        result = pytester.runpytest_subprocess(
            *plugin_args(), "-p", "no:asyncio", "-p", "no:cacheprovider", timeout=RUN_TIMEOUT
        )
        result.assert_outcomes(passed=1)

    def test_import_needs_no_pytest_asyncio_and_starts_nothing(self) -> None:
        """Without pytest-asyncio the plugin imports, and importing it starts no thread."""
        code = (
            "import sys, threading; sys.modules['pytest_asyncio'] = None; "
            "before = threading.active_count(); "
            f"import {PLUGIN} as plugin; "
            "assert threading.active_count() == before; "
            "assert not hasattr(plugin.runway_client, '_force_asyncio_fixture')"
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # noqa: S603
