"""The API key appears nowhere a whole faulty batch leaves a trace; the emulator stays local.

One batch with every kind of fault (creates, polls, downloads, uploads and their storage
host) runs twice with ``RUNWAYML_LOG=debug``: through the Python API and through
``runway-async batch`` in a child process. Everything either leaves behind is searched for a
distinctive key: stdout, stderr, every log record (all loggers, all levels), every error
formatted with its traceback's locals (``TracebackException(capture_locals=True)``, as
Sentry and ``pytest -l`` print them), the repr and str of the clients, handles, batch and
results, and the bytes of every file under the output directory (results.jsonl, the
downloads, a journal and its WAL). tests/test_secrets.py checks each error path alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner

import runway_async
from runway_async import (
    APIError,
    AsyncRunway,
    Job,
    PollConfig,
    RetryConfig,
    Runway,
    cli,
)
from runway_async.emulator import Emulator, EmulatorConfig

from .conftest import half_then_drop, json_reply

# A module global, not a frame local: the tests' own frames (captured with their locals)
# must not be the ones to hold it. MARK is searched for, so a cut or reformatted key shows.
MARK = "LEAKCANARY"
SECRET_KEY = "key_" + MARK + "9f8e7d6c5b4a3210" * 7
TAIL = SECRET_KEY[-24:]
NEEDLES = (MARK, TAIL)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
IMAGE = {"model": "gen4_image", "prompt_text": "a red fox", "ratio": "1920:1080"}
SOUND = {"model": "eleven_text_to_sound_v2", "prompt_text": "a door", "duration": 0.5}
VIDEO = {"model": "gen4_turbo", "ratio": "1280:720", "prompt_text": "the fox runs"}
# Every fault kind on creates. "endless" only for the Python API, whose request timeout is
# short: the CLI keeps the default (60 s) and would sit through each one.
CREATE_FAULTS = {
    "error_before": 0.05,
    "error_after": 0.05,
    "rate_limit": 0.05,
    "drop_before": 0.04,
    "drop_after": 0.04,
    "hold_after": 0.04,
    "latency": 0.04,
    "not_http": 0.03,
    "not_json": 0.03,
    "truncated": 0.03,
    "oversized": 0.02,
}
JOBS = 40


def find_key(text: str | bytes, where: str) -> None:
    """Fail naming ``where`` if any part of the key is in ``text``."""
    for needle in NEEDLES:
        found = needle.encode() in text if isinstance(text, bytes) else needle in text
        assert not found, f"the API key leaked into {where}"


def formatted(exc: BaseException) -> str:
    """Return ``exc`` as error reporters print it: chain, traceback and every frame's locals."""
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def emulator(**settings: Any) -> Emulator:
    """Return a fast emulator accepting only the secret key, faulty as asked."""
    return Emulator(
        api_key=SECRET_KEY,
        time_scale=0.002,
        durations={"image": 0.5, "audio": 0.5, "video": 0.5},
        failure_rate=0.15,
        fault_delay=0.05,
        seed=11,
        **settings,
    )


def inject_side_faults(emu: Emulator) -> None:
    """Faults beside the creates': polls and the upload's two steps (outputs take none)."""
    emu.faults.inject("error_before", route="tasks", count=3, status=502)
    emu.faults.inject("not_json", route="tasks", count=2)
    emu.faults.inject("drop_before", route="tasks", count=2)
    emu.faults.inject("error_before", route="uploads.storage", count=1, status=503)
    emu.faults.inject("error_before", route="uploads.create", count=1, status=502)


def job_params(index: int, image: Path | str) -> tuple[str, dict[str, Any]]:
    """Return the endpoint and parameters of job ``index``: images, sounds, uploads."""
    if index % 10 == 3:
        return "image_to_video", {**VIDEO, "prompt_image": image, "duration": 5}
    if index % 10 == 7:
        return "sound_effect", SOUND
    return "text_to_image", {**IMAGE, "prompt_text": f"a red fox, take {index}"}


def search_tree(root: Path) -> list[Path]:
    """Search the bytes of every file under ``root``; return the files searched."""
    files = sorted(path for path in root.rglob("*") if path.is_file())
    for path in files:
        find_key(path.read_bytes(), str(path.relative_to(root)))
    return files


@pytest.fixture
def debug_logging(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[pytest.LogCaptureFixture]:
    """Set ``RUNWAYML_LOG=debug`` and capture every logger at DEBUG; undo it afterwards."""
    logger = logging.getLogger("runway_async")

    def remove_our_handler() -> None:
        for handler in list(logger.handlers):
            if getattr(handler, "_runway_async", False):
                logger.removeHandler(handler)

    # A handler left by another test would write to that test's (closed) capture stream.
    remove_our_handler()
    monkeypatch.setenv("RUNWAYML_LOG", "debug")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="runway_async")
    yield caplog
    remove_our_handler()
    logger.setLevel(logging.NOTSET)


def check_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Search every record as formatted, with its arguments and any exception it carries."""
    assert any(
        r.levelno == logging.DEBUG and r.name.startswith("runway_async") for r in caplog.records
    )
    for record in caplog.records:
        find_key(record.getMessage(), f"the log record {record.name}:{record.lineno}")
        find_key(repr(record.args), f"the arguments of {record.name}:{record.lineno}")
        if record.exc_info and record.exc_info[1] is not None:
            find_key(formatted(record.exc_info[1]), f"the exception logged at {record.name}")
    find_key(caplog.text, "the captured log")


def sync_client_part(url: str, task_id: str) -> list[str]:
    """Use the sync client in a thread of its own; return what it shows of itself."""
    shown = []
    with Runway(SECRET_KEY, base_url=url, max_retries=0, timeout=1.0) as client:
        shown += [repr(client), str(client), repr(client.tasks)]
        task = client.tasks.retrieve(task_id)
        shown += [repr(task), str(task)]
        try:
            client.tasks.retrieve("no-such-task")
        except APIError as exc:
            shown.append(formatted(exc))
        else:
            raise AssertionError("an unknown task was found")
    return shown


async def failed_downloads(client: AsyncRunway, directory: Path) -> list[str]:
    """Download from a host that fails every way; return the errors as reporters print them."""
    app = web.Application()
    app.router.add_get("/error.png", json_reply({"error": "denied"}, status=500))
    app.router.add_get("/cut.png", half_then_drop(PNG * 50))
    app.router.add_get(
        "/away.png", json_reply({}, status=302, headers={"Location": "http://x.example/"})
    )
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    shown = []
    try:
        for path in ("/error.png", "/cut.png", "/away.png"):
            try:
                await client.download(f"{base}{path}?signature=sig", directory, max_retries=1)
            except APIError as exc:
                shown.append(formatted(exc))
            else:
                raise AssertionError(f"the download of {path} did not fail")
    finally:
        await runner.cleanup()
    return shown


class TestKeyNeverLeaks:
    async def test_python_api_batch(
        self,
        tmp_path: Path,
        debug_logging: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        """A faulty batch, uploads and single calls through AsyncRunway leave no key behind."""
        out = tmp_path / "out"
        out.mkdir()
        image = tmp_path / "cat.png"
        image.write_bytes(PNG)
        jobs = [Job(*job_params(n, image), key=f"job-{n}") for n in range(JOBS)]
        jobs.append(Job("text_to_image", {**IMAGE, "ratio": "1:1"}, key="invalid"))
        shown: list[str] = []
        options: dict[str, Any] = {"download_to": out}
        if hasattr(runway_async, "SQLiteBatchJournal"):  # the durable journal, once present
            options["journal"] = str(out / "api.journal.db")
        async with emulator(fault_rates={**CREATE_FAULTS, "endless": 0.02}) as emu:
            inject_side_faults(emu)
            async with AsyncRunway(
                SECRET_KEY,
                base_url=emu.url,
                timeout=1.0,
                max_response_bytes=64 * 1024,
                poll=PollConfig(interval=0.01, requests_per_second=5000),
                retry=RetryConfig(max_retries=2, initial_delay=0.01),
            ) as client:
                shown += [repr(client), str(client), repr(client._core), repr(client.tasks)]
                batch = client.batch(jobs, **options)
                results = await batch.gather()
                shown += [repr(batch), str(batch)]
                for result in results:
                    shown += [repr(result), str(result), json.dumps(result.error_message)]
                    shown += [repr(result.task), repr(result.files)]
                    if result.error is not None:
                        shown.append(formatted(result.error))
                # One create and one wait by hand, through handles.
                handle = await client.text_to_image.create(**IMAGE)
                shown += [repr(handle), str(handle)]
                try:
                    shown.append(repr(await handle.wait_for_task_output()))
                except APIError as exc:
                    shown.append(formatted(exc))
                # An upload whose storage POST fails every attempt.
                emu.faults.inject("error_before", route="uploads.storage", count=3)
                try:
                    await client.uploads.create_ephemeral(file=image)
                except APIError as exc:
                    shown.append(formatted(exc))
                else:
                    raise AssertionError("the upload did not fail")
                shown += await asyncio.to_thread(sync_client_part, emu.url, handle.id)
                shown += await failed_downloads(client, tmp_path / "failed")
            metrics = emu.metrics()
            assert emu.faults.pending() == []  # every side fault did happen
        statuses = {result.status for result in results}
        assert {"SUCCEEDED", "FAILED", "INVALID"} <= statuses, statuses
        assert any(
            result.error is not None and isinstance(result.error, APIError) for result in results
        )
        assert any(result.files for result in results)
        faulted = sum(
            count
            for by_status in metrics["requests"].values()
            for status, count in by_status.items()
            if str(status) >= "4"
        )
        assert faulted > 0
        for n, text in enumerate(shown):
            find_key(text, f"shown[{n}]")
        check_logs(debug_logging)
        captured = capfd.readouterr()
        assert "DEBUG" in captured.err  # RUNWAYML_LOG=debug did log to stderr
        find_key(captured.out, "stdout")
        find_key(captured.err, "stderr")
        files = search_tree(out)
        assert any(path.suffix == ".png" for path in files)
        if "journal" in options:
            assert out / "api.journal.db" in files

    def test_cli_batch(self, tmp_path: Path) -> None:
        """``runway-async batch`` in a child process: its output, logs and files hold no key."""
        image = tmp_path / "cat.png"
        image.write_bytes(PNG)
        lines = []
        for n in range(JOBS):
            endpoint, params = job_params(n, "file:cat.png")
            lines.append(json.dumps({"endpoint": endpoint, "params": params, "id": f"job-{n}"}))
        lines.append(json.dumps({"endpoint": "text_to_image", "params": {**IMAGE, "ratio": "1:1"}}))
        jobs = tmp_path / "jobs.jsonl"
        jobs.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = tmp_path / "out"
        with emulator(fault_rates=CREATE_FAULTS).in_thread() as emu:
            inject_side_faults(emu)
            env = {
                **os.environ,
                **emu.env(),
                "RUNWAYML_LOG": "debug",
                "PYTHONUNBUFFERED": "1",
                "COLUMNS": "100",
            }
            done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
                [
                    *(sys.executable, "-m", "runway_async.cli", "batch", str(jobs)),
                    *("--out", str(out), "--timeout", "120"),
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=180,
                check=False,
            )
        assert env["RUNWAYML_API_SECRET"] == SECRET_KEY
        assert done.returncode == 1, done.stderr[-2000:]  # some jobs failed, none crashed
        assert "Traceback" not in done.stderr
        assert "DEBUG" in done.stderr
        find_key(done.stdout, "the CLI's stdout")
        find_key(done.stderr, "the CLI's stderr")
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        assert len(rows) == JOBS + 1
        assert {"SUCCEEDED", "FAILED", "INVALID"} <= {row["status"] for row in rows}
        files = search_tree(out)
        assert out / "results.jsonl" in files
        assert any(path.suffix == ".png" for path in files)
        help_text = CliRunner().invoke(cli.build_cli(), ["batch", "--help"]).output
        if "--journal" in help_text:  # the durable journal, once the CLI writes one
            assert any(".journal.db" in path.name for path in files)


class TestEmulatorStaysLocal:
    """The emulator binds to loopback unless asked otherwise, and warns when it is not."""

    async def test_default_host_is_loopback(self) -> None:
        """Without a host it listens on 127.0.0.1 only, silently."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            emu = Emulator()
        assert emu.config.host == "127.0.0.1"
        async with emu:
            assert emu.url.startswith("http://127.0.0.1:")

    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
    def test_loopback_hosts_do_not_warn(self, host: str) -> None:
        """Any loopback host is fine."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Emulator(host=host)

    @pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com", ""])  # noqa: S104
    def test_other_hosts_warn(self, host: str) -> None:
        """Any other host (all interfaces included) warns, pointing at the caller's line."""
        with pytest.warns(UserWarning, match="beyond this machine") as caught:
            Emulator(host=host)
        assert caught[0].filename == __file__
        with pytest.warns(UserWarning, match="no real security"):
            Emulator.from_config(EmulatorConfig(host=host))
