"""The ``runway-async`` command: options, the extra-missing hint, and a real emulator process."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

import runway_async
from runway_async import AsyncRunway, PollConfig, cli
from runway_async.emulator import Emulator

STARTUP_TIMEOUT = 30.0
EXIT_TIMEOUT = 15.0
IMAGE = {"model": "gen4_image", "prompt_text": "a red fox", "ratio": "1920:1080"}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli.build_cli(), list(args), prog_name="runway-async")


class EmulatorProcess:
    """``runway-async emulator`` in a child process, its output read line by line."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "80"}
        self.proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "runway_async.cli", "emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_exports(self) -> dict[str, str]:
        """Return the exported variables once both are printed (bounded by a deadline)."""
        exports: dict[str, str] = {}
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while len(exports) < 2:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError("the emulator exited early:\n" + "".join(self.output))
            self.output.append(line)
            if line.strip().startswith("export "):
                name, _, value = line.strip().removeprefix("export ").partition("=")
                exports[name] = value
        return exports

    def stop(self, sig: signal.Signals) -> tuple[int, str]:
        """Send ``sig`` and return the exit code and everything it printed."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=EXIT_TIMEOUT)
        while (line := self.lines.get(timeout=EXIT_TIMEOUT)) is not None:
            self.output.append(line)
        return code, "".join(self.output)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=EXIT_TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def emulator_process(request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    """Start ``runway-async emulator`` with the test's parameters; kill it if still running."""
    process = EmulatorProcess(*getattr(request, "param", ()))
    try:
        yield process
    finally:
        process.close()


def get(url: str, key: str) -> int:
    req = urllib.request.Request(  # noqa: S310 - a loopback http URL from the emulator
        url, headers={"Authorization": f"Bearer {key}", "X-Runway-Version": "2024-11-06"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        with exc:
            json.loads(exc.read())
            return exc.code


class TestCommandLine:
    def test_help_lists_the_emulator_command(self) -> None:
        """``--help`` names the program and lists the ``emulator`` subcommand."""
        result = invoke("--help")
        assert result.exit_code == 0
        assert "Usage: runway-async" in result.output
        assert "emulator" in result.output

    def test_version(self) -> None:
        """``--version`` prints the package version."""
        result = invoke("--version")
        assert result.exit_code == 0
        assert result.output.strip() == f"runway-async, version {runway_async.__version__}"

    def test_emulator_help_lists_every_option(self) -> None:
        """``emulator --help`` documents each setting."""
        result = invoke("emulator", "--help")
        assert result.exit_code == 0
        for option in (
            "--host",
            "--port",
            "--concurrency",
            "--daily-limit",
            "--time-scale",
            "--failure-rate",
            "--seed",
            "--api-key",
            "--spec-mock",
            "--allow-remote",
            "--accept-model",
        ):
            assert option in result.output

    @pytest.mark.parametrize(
        "args",
        [
            ("--port", "70000"),
            ("--time-scale", "0"),
            ("--failure-rate", "1.5"),
            ("--concurrency", "0"),
            ("--seed", "x"),
            ("--no-such-option",),
        ],
    )
    def test_bad_options_are_usage_errors(self, args: tuple[str, ...]) -> None:
        """An invalid value or unknown option exits 2 with a usage message."""
        result = invoke("emulator", *args)
        assert result.exit_code == 2
        assert "Usage: runway-async emulator" in result.output

    def test_unknown_command(self) -> None:
        """An unknown subcommand exits 2."""
        assert invoke("nope").exit_code == 2

    def test_non_loopback_host_is_refused(self) -> None:
        """A non-loopback ``--host`` is refused, saying why and how to allow it."""
        result = invoke("emulator", "--host", "0.0.0.0")  # noqa: S104 - refused, never bound
        assert result.exit_code == 2
        assert "no real security" in result.output
        assert "--allow-remote" in result.output

    def test_allow_remote_lets_a_remote_host_through(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With ``--allow-remote`` the host is accepted (with a warning) and passed on."""
        seen: list[Emulator] = []

        async def fake_serve(emu: Emulator, console: object) -> None:
            seen.append(emu)

        monkeypatch.setattr(cli, "serve_emulator", fake_serve)
        # 192.0.2.1 is a documentation address; the fake never binds it.
        result = invoke("emulator", "--host", "192.0.2.1", "--allow-remote", "--seed", "4")
        assert result.exit_code == 0, result.output
        assert "Warning: listening on 192.0.2.1" in result.output
        assert seen[0].config.host == "192.0.2.1"
        assert seen[0].config.seed == 4

    def test_accept_model_reaches_the_emulator(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``--accept-model ENDPOINT:MODEL`` (repeatable) becomes ``extra_models``."""
        seen: list[Emulator] = []

        async def fake_serve(emu: Emulator, console: object) -> None:
            seen.append(emu)

        monkeypatch.setattr(cli, "serve_emulator", fake_serve)
        args = ("--accept-model", "image_to_video:gen5", "--accept-model", "image_to_video:gen6")
        result = invoke("emulator", *args)
        assert result.exit_code == 0, result.output
        assert {k: list(v) for k, v in seen[0].config.extra_models.items()} == {
            "image_to_video": ["gen5", "gen6"]
        }
        bad = invoke("emulator", "--accept-model", "gen5")
        assert bad.exit_code == 2
        assert "ENDPOINT:MODEL" in bad.output

    def test_port_in_use_is_a_clear_error(self) -> None:
        """A port already taken exits 1 naming it, without a traceback."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = invoke("emulator", "--port", str(port))
        assert result.exit_code == 1
        assert f"cannot listen on 127.0.0.1:{port}" in result.output
        assert "Traceback" not in result.output


class TestWithoutTheExtra:
    def test_import_does_not_need_click(self) -> None:
        """Importing ``runway_async.cli`` imports neither click nor rich."""
        code = (
            "import sys, runway_async.cli; "
            "assert 'click' not in sys.modules and 'rich' not in sys.modules"
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # noqa: S603

    def test_missing_click_prints_the_install_hint(self) -> None:
        """Without click, ``main()`` prints one line naming the extra and exits 2."""
        code = "import sys; sys.modules['click'] = None; from runway_async.cli import main; main()"
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2
        assert result.stderr.strip() == cli.INSTALL_HINT
        assert "pip install 'runway-async[cli]'" in result.stderr


class TestEmulatorProcess:
    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
    @pytest.mark.parametrize("emulator_process", [("--time-scale", "0.01")], indirect=True)
    async def test_serves_until_signalled(
        self, emulator_process: EmulatorProcess, sig: signal.Signals
    ) -> None:
        """It prints the URL and env vars, serves our client, and exits 0 on SIGINT/SIGTERM."""
        env = emulator_process.read_exports()
        url = env["RUNWAYML_BASE_URL"]
        assert url.startswith("http://127.0.0.1:")
        assert env["RUNWAYML_API_SECRET"]
        async with AsyncRunway(
            env["RUNWAYML_API_SECRET"], base_url=url, poll=PollConfig(interval=0.01)
        ) as client:
            task = await client.text_to_image.create(**IMAGE)
            done = await task.wait_for_task_output(timeout=30)
        assert done.output[0].startswith(url)
        code, output = emulator_process.stop(sig)
        assert code == 0, output
        assert f"Runway emulator listening on {url}" in output
        assert "created 1 tasks" in output
        assert "Traceback" not in output

    @pytest.mark.parametrize(
        "emulator_process", [("--api-key", "key_only_this", "--spec-mock")], indirect=True
    )
    def test_api_key_and_spec_mock(self, emulator_process: EmulatorProcess) -> None:
        """``--api-key`` is the exported secret and the only key accepted; spec-mock is on."""
        env = emulator_process.read_exports()
        assert env["RUNWAYML_API_SECRET"] == "key_only_this"
        task_url = env["RUNWAYML_BASE_URL"] + "/v1/tasks/00000000-0000-0000-0000-000000000000"
        assert get(task_url, "key_only_this") == 200  # spec-mock answers unknown ids
        assert get(task_url, "key_other") == 401
        code, output = emulator_process.stop(signal.SIGINT)
        assert code == 0, output
        assert "spec-mock mode" in output
