"""The ``runway-async`` command: batches, tasks, limits, and the local Runway API server.

``runway-async batch JOBS.jsonl`` runs a file of jobs and downloads their outputs;
``runway-async tasks get|wait|cancel ID`` and ``runway-async org`` talk to the API with the
key and base URL of ``RUNWAYML_API_SECRET`` / ``RUNWAYML_BASE_URL``; ``runway-async
emulator`` runs the local Runway API server.

click and rich come with the ``cli`` extra (``pip install 'runway-async[cli]'``); the core
package does not need them, so they are imported only when the command runs. Each subcommand
is one ``*_command()`` function returning a ``click.Command``, listed in ``COMMANDS``; the
group is assembled by ``build_cli()``. To add a subcommand, write its function and list it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._config import is_loopback_host
from ._tasks import task_path
from ._version import __version__

if TYPE_CHECKING:
    import click
    from rich.console import Console

    from ._batch import BatchResult, Job
    from ._client import AsyncRunway
    from ._config import PollConfig
    from ._models import Organization as OrganizationInfo
    from ._models import SucceededTask, Task
    from .emulator import Emulator

__all__ = [
    "COMMANDS",
    "JobLine",
    "batch_command",
    "build_cli",
    "emulator_command",
    "main",
    "org_command",
    "parse_jobs",
    "tasks_command",
]

PROG_NAME = "runway-async"
INSTALL_HINT = (
    f"{PROG_NAME}: the command line needs click and rich; install them with "
    "pip install 'runway-async[cli]'"
)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``runway-async`` command (the console-script entry point).

    Args:
        argv: The arguments; ``None`` reads ``sys.argv[1:]``.

    """
    try:
        import click  # noqa: F401 - only checking that the cli extra is installed
        import rich  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        sys.exit(2)
    build_cli().main(args=list(argv) if argv is not None else None, prog_name=PROG_NAME)


def build_cli() -> click.Group:
    """Return the ``runway-async`` click group with every command of ``COMMANDS``."""
    import click

    @click.group(
        name=PROG_NAME,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.version_option(__version__, "-V", "--version", prog_name=PROG_NAME)
    def cli() -> None:
        """Tools for the Runway API: batches of jobs, tasks, limits and a local emulator."""

    for make_command in COMMANDS:
        cli.add_command(make_command())
    return cli


# -- runway-async emulator ------------------------------------------------------------------


def emulator_command() -> click.Command:
    """Return the ``emulator`` command: run the local Runway API server in the foreground."""
    import click

    @click.command(name="emulator")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
    @click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=8000,
        show_default=True,
        help="Port to listen on (0 picks a free one).",
    )
    @click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=5,
        show_default=True,
        help="Tasks per model running at once; more wait as THROTTLED.",
    )
    @click.option(
        "--daily-limit",
        type=click.IntRange(min=1),
        default=10_000,
        show_default=True,
        help="Tasks per model created per 24 h; more get 429.",
    )
    @click.option(
        "--time-scale",
        type=click.FloatRange(min=0, min_open=True),
        default=1.0,
        show_default=True,
        help="Real seconds per API second (0.01: a 5 s video takes 50 ms).",
    )
    @click.option(
        "--failure-rate",
        type=click.FloatRange(0, 1),
        default=0.0,
        show_default=True,
        help="Probability that a task ends FAILED.",
    )
    @click.option("--seed", type=int, default=None, help="Seed every random choice.")
    @click.option(
        "--api-key",
        default=None,
        metavar="KEY",
        help="Accept only this bearer token (default: any non-empty token).",
    )
    @click.option(
        "--spec-mock",
        is_flag=True,
        help="Stateless spec-mock mode for the official SDK's test suite: unknown ids "
        "answer synthetic objects and no limits apply.",
    )
    @click.option(
        "--allow-remote",
        is_flag=True,
        help="Allow a non-loopback --host (the emulator has no real security).",
    )
    def emulator(host: str, allow_remote: bool, **settings: Any) -> None:
        """Run the local Runway API emulator until Ctrl-C or SIGTERM.

        It prints the base URL and the environment variables that point the runway_async
        and runwayml SDKs at it.
        """
        from rich.console import Console

        if not is_loopback_host(host) and not allow_remote:
            raise click.UsageError(
                f"refusing to listen on {host!r}: the emulator is a test server with no real "
                "security, serving every task and output to whoever can reach it. Keep it on "
                "127.0.0.1, or pass --allow-remote if other machines really must reach it."
            )
        try:
            emu = _make_emulator(host=host, **settings)
        except (TypeError, ValueError) as exc:
            raise click.UsageError(str(exc)) from exc
        console = Console(highlight=False, soft_wrap=True)
        if not is_loopback_host(host):
            console.print(
                f"Warning: listening on {host}, beyond this machine; anyone who can reach it "
                "can use it.",
                style="yellow",
                markup=False,
            )
        try:
            asyncio.run(serve_emulator(emu, console))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{settings['port']}: {exc.strerror or exc}"
            ) from exc
        except KeyboardInterrupt:  # where signal handlers cannot be installed (Windows)
            pass

    return emulator


def _make_emulator(**settings: Any) -> Emulator:
    from .emulator import Emulator

    return Emulator(**settings)


async def serve_emulator(
    emu: Emulator,
    console: Console,
    *,
    started: Callable[[Emulator], None] | None = None,
) -> None:
    """Start ``emu``, print where it listens, and serve until SIGINT or SIGTERM.

    Args:
        emu: The emulator (not started).
        console: Where to print.
        started: Called once it listens (tests use it to stop it).

    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows or outside the main thread; Ctrl-C then raises instead.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        async with emu:
            _announce(emu, console)
            if started is not None:
                started(emu)
            await stop.wait()
            console.print("\nStopping the emulator ...")
        metrics = emu.metrics()
        requests = sum(sum(by_status.values()) for by_status in metrics["requests"].values())
        console.print(
            f"Stopped. Served {requests} requests, created {metrics['tasks_created_total']} tasks."
        )
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _announce(emu: Emulator, console: Console) -> None:
    from rich.text import Text

    config = emu.config
    mode = " (spec-mock mode)" if config.spec_mock else ""
    console.print(Text.assemble("Runway emulator listening on ", (emu.url, "bold"), mode))
    console.print("Point the runway_async or runwayml SDK at it:\n")
    for name, value in emu.env().items():
        # Plain text, never wrapped, so the lines can be copied or parsed.
        console.print(Text(f"  export {name}={value}"), soft_wrap=True)
    if config.spec_mock:
        limits = "no limits"
    else:
        limits = f"{config.concurrency} running and {config.daily_limit} per day per model"
    details = [limits, f"time scale {config.time_scale:g}"]
    if config.failure_rate:
        details.append(f"failure rate {config.failure_rate:g}")
    if config.seed is not None:
        details.append(f"seed {config.seed}")
    console.print("\n" + ", ".join(details) + ". Press Ctrl-C to stop.", markup=False)


# -- shared by the API commands -------------------------------------------------------------

# Polling of a local emulator (a loopback base URL): its tasks take seconds, not minutes.
LOCAL_POLL_INTERVAL = 0.25


def _credentials_from_env(hint: str = "") -> tuple[str, str]:
    """Return the API key and base URL from the environment, or fail with one clear line."""
    import click

    from ._config import API_KEY_ENV, BASE_URL_ENV, resolve_api_key, resolve_base_url
    from ._exceptions import InvalidRequestError

    try:
        api_key = resolve_api_key(None)
    except InvalidRequestError:
        raise click.ClickException(f"no API key: set {API_KEY_ENV}{hint}.") from None
    try:
        base_url = resolve_base_url(None)
    except InvalidRequestError as exc:
        raise click.ClickException(f"{BASE_URL_ENV}: {exc}") from None
    return api_key, base_url


def _poll_for(base_url: str, time_scale: float | None = None) -> PollConfig:
    """Return the polling of a CLI client: the API's default, faster on a local emulator."""
    import urllib.parse

    from ._config import PollConfig

    if time_scale is not None:
        # An emulator of ours: its tasks last `time_scale` times the API's.
        return PollConfig(
            min_interval=max(0.01, LOCAL_POLL_INTERVAL * time_scale),
            requests_per_second=min(1000.0, 25.0 / time_scale),
        )
    if is_loopback_host(urllib.parse.urlsplit(base_url).hostname):
        return PollConfig(min_interval=LOCAL_POLL_INTERVAL)
    return PollConfig()


def _api_error_message(exc: BaseException, base_url: str, *, task_id: str | None = None) -> str:
    """Return one line saying what went wrong with an API call, for a user."""
    from ._config import API_KEY_ENV
    from ._exceptions import (
        APIConnectionError,
        APIStatusError,
        AuthenticationError,
        NotFoundError,
        PermissionDeniedError,
    )

    if isinstance(exc, NotFoundError) and task_id is not None:
        return f"no task {task_id}: not found (deleted tasks are not found either)"
    if isinstance(exc, AuthenticationError):
        return f"the API refused the key (401): check {API_KEY_ENV}"
    if isinstance(exc, PermissionDeniedError):
        return f"the key may not do this (403): {exc.error or exc}"
    if isinstance(exc, APIConnectionError):
        return f"cannot reach {base_url}: {exc}"
    if isinstance(exc, APIStatusError):
        return f"the API answered {exc.status_code}: {exc.error or exc}"
    return str(exc) or type(exc).__name__


_T = TypeVar("_T")


def _run_with_client(
    work: Callable[[AsyncRunway], Awaitable[_T]], *, task_id: str | None = None
) -> _T:
    """Run ``work`` with a client from the environment; API errors become one-line errors."""
    import click

    from ._client import AsyncRunway
    from ._exceptions import RunwayError

    api_key, base_url = _credentials_from_env()

    async def main() -> _T:
        async with AsyncRunway(api_key, base_url=base_url, poll=_poll_for(base_url)) as client:
            return await work(client)

    try:
        return asyncio.run(main())
    except (RunwayError, ValueError) as exc:
        raise click.ClickException(_api_error_message(exc, base_url, task_id=task_id)) from None


def _print_json(data: object) -> None:
    import click

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


# -- runway-async batch ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class JobLine:
    """One non-blank line of a jobs file: its job, or why it is not one.

    Attributes:
        index: The job's number among the file's jobs, from 0 (blank lines are not jobs).
        line: The line number in the file, from 1 (blank lines count).
        job: The job, when the line is a valid one.
        error: ``line N: ...`` when it is not.

    """

    index: int
    line: int
    job: Job | None
    error: str | None


def parse_jobs(text: str, *, allow_loopback_http: bool = False) -> list[JobLine]:
    """Parse and validate a jobs file: one JSON object per line, blank lines skipped.

    Each line is ``{"endpoint": "image_to_video", "params": {...}, "id": "key"}``, checked
    like the call it describes (``validate_job``) without sending anything.

    Args:
        text: The file's text.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.

    Returns:
        One entry per non-blank line, in order; a bad line has its ``error``.

    """
    from ._batch import Job, validate_job
    from ._exceptions import InvalidRequestError

    entries: list[JobLine] = []
    # Not splitlines(): a JSON string may hold U+2028 and friends, which it splits at.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        job: Job | None = None
        error: str | None = None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            error = f"line {number}: not valid JSON: {exc.msg} (column {exc.colno})"
        except RecursionError:
            error = f"line {number}: not valid JSON: nested too deeply"
        else:
            try:
                job = Job.from_json(data)
                validate_job(job, allow_loopback_http=allow_loopback_http)
            except InvalidRequestError as exc:
                job, error = None, f"line {number}: {exc}"
        entries.append(JobLine(index=len(entries), line=number, job=job, error=error))
    return entries


def _read_jobs_file(path: Path) -> str:
    import click

    try:
        # utf-8-sig: editors on Windows like to start files with a byte-order mark.
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"cannot read {path}: not UTF-8 text (byte {exc.start})"
        ) from None
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None


def batch_command() -> click.Command:
    """Return the ``batch`` command: run a JSONL file of jobs and download their outputs."""
    import click

    @click.command(name="batch")
    @click.argument(
        "jobs_file",
        metavar="JOBS.jsonl",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
    )
    @click.option(
        "--emulator",
        "use_emulator",
        is_flag=True,
        help="Run on an in-process local emulator with its default settings (no key, no "
        "network, no credits).",
    )
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("outputs"),
        show_default=True,
        metavar="DIR",
        help="Where the outputs and results.jsonl go (created if missing).",
    )
    @click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="Most tasks per model at once: N or the organization's limit, whichever is "
        "lower (default: the organization's limit).",
    )
    @click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="SECONDS",
        help="Stop the batch after SECONDS: unfinished jobs end TIMED_OUT and their tasks are "
        "cancelled.",
    )
    def batch(
        jobs_file: Path,
        use_emulator: bool,
        out_dir: Path,
        concurrency: int | None,
        timeout: float | None,
    ) -> None:
        """Run every job of JOBS.jsonl, download the outputs, and write DIR/results.jsonl.

        One JSON object per line: {"endpoint": "image_to_video", "params": {...}, "id":
        "my-key"}, where endpoint is the resource path as on the client (text_to_image,
        recipes.product_ad, generate.video) and params are the keyword arguments of the
        Python call; "id" is optional. Blank lines are skipped, but counted in line numbers.
        Every line is checked before anything is sent; a bad one becomes an INVALID row.

        The key and base URL come from RUNWAYML_API_SECRET and RUNWAYML_BASE_URL, unless
        --emulator. results.jsonl has one row per job (non-blank line), in file order. The
        exit status is 0 when every job succeeded, 1 otherwise; Ctrl-C stops the batch
        (cancelling its tasks) and still writes the results.
        """
        import urllib.parse

        from rich.console import Console

        out = Console(highlight=False, soft_wrap=True)
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        credentials = None
        if not use_emulator:
            credentials = _credentials_from_env(" (or pass --emulator to run on a local emulator)")
        text = _read_jobs_file(jobs_file)
        loopback = use_emulator or (
            credentials is not None
            and is_loopback_host(urllib.parse.urlsplit(credentials[1]).hostname)
        )
        lines = parse_jobs(text, allow_loopback_http=loopback)
        for entry in lines:
            if entry.error is not None:
                err.print(f"INVALID {entry.error}", style="red", markup=False)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.ClickException(f"cannot create {out_dir}: {exc.strerror or exc}") from None
        try:
            results, interrupted = asyncio.run(
                _run_jobs(
                    lines,
                    credentials=credentials,
                    out_dir=out_dir,
                    concurrency=concurrency,
                    timeout=timeout,
                    console=err,
                )
            )
        except OSError as exc:  # the emulator could not listen
            raise click.ClickException(f"cannot start the emulator: {exc}") from None
        rows = _result_rows(lines, results, out_dir)
        results_path = out_dir / "results.jsonl"
        _write_rows(results_path, rows)
        counts = _print_summary(out, rows, results_path)
        if interrupted:
            sys.exit(130)
        if counts.get("SUCCEEDED", 0) != len(rows):
            sys.exit(1)

    return batch


def _batch_emulator() -> Emulator:
    """Return the emulator of ``batch --emulator`` (not started): the default settings."""
    from .emulator import Emulator

    return Emulator()


async def _run_jobs(
    lines: Sequence[JobLine],
    *,
    credentials: tuple[str, str] | None,
    out_dir: Path,
    concurrency: int | None,
    timeout: float | None,
    console: Console,
) -> tuple[list[BatchResult], bool]:
    """Run the valid jobs with a progress bar; return their results and whether Ctrl-C came."""
    import click

    from ._client import AsyncRunway
    from ._exceptions import RunwayError

    jobs = [entry.job for entry in lines if entry.job is not None]
    async with contextlib.AsyncExitStack() as stack:
        if credentials is None:
            emu = await stack.enter_async_context(_batch_emulator())
            api_key, base_url = emu.api_key, emu.url
            poll = _poll_for(base_url, emu.config.time_scale)
            console.print(f"Emulator at {base_url}", markup=False)
        else:
            api_key, base_url = credentials
            poll = _poll_for(base_url)
        client = await stack.enter_async_context(AsyncRunway(api_key, base_url=base_url, poll=poll))
        if not jobs:
            return [], False
        try:
            # Fails fast on a wrong key or URL, and gives the limits --concurrency caps.
            organization = await client.organization.retrieve()
        except RunwayError as exc:
            raise click.ClickException(_api_error_message(exc, base_url)) from None
        if concurrency is not None:
            client = client.with_options(max_concurrency=_capped_limits(concurrency, organization))
        return await _run_with_progress(client, jobs, lines, out_dir, timeout, console)


def _capped_limits(cap: int, organization: OrganizationInfo) -> dict[str, int | None]:
    """Return per-model ``max_concurrency``: ``cap``, or the organization's limit if lower."""
    return {
        model: cap
        if limits.max_concurrent_generations is None
        else min(cap, limits.max_concurrent_generations)
        for model, limits in organization.tier.models.items()
    }


async def _run_with_progress(
    client: AsyncRunway,
    jobs: list[Job],
    lines: Sequence[JobLine],
    out_dir: Path,
    timeout: float | None,
    console: Console,
) -> tuple[list[BatchResult], bool]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    line_of = [entry.line for entry in lines if entry.job is not None]
    counts: dict[str, int] = {}
    interrupted = False
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("jobs", total=len(jobs))
        batch = client.batch(
            jobs,
            deadline=timeout,
            download_to=out_dir,
            cancel_server_tasks_on_cancel=True,
        )

        def on_interrupt() -> None:
            nonlocal interrupted
            interrupted = True
            progress.console.print(
                "Stopping: queued jobs are cancelled, and so are the tasks already created. "
                "Ctrl-C again to quit at once.",
                style="yellow",
                markup=False,
            )
            batch.cancel()
            # A second Ctrl-C raises KeyboardInterrupt as usual.
            loop.remove_signal_handler(signal.SIGINT)

        loop = asyncio.get_running_loop()
        installed = False
        # Not available on Windows or outside the main thread; Ctrl-C then just raises.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, on_interrupt)
            installed = True
        try:
            async for result in batch:
                counts[result.status] = counts.get(result.status, 0) + 1
                progress.update(bar, advance=1, description=_progress_text(counts))
                if not result.ok:
                    progress.console.print(
                        f"{result.status} line {line_of[result.index]}: {result.error_message}",
                        style="red",
                        markup=False,
                    )
            results = await batch.gather()
        finally:
            if installed and not interrupted:
                loop.remove_signal_handler(signal.SIGINT)
    return results, interrupted


def _progress_text(counts: Mapping[str, int]) -> str:
    done = counts.get("SUCCEEDED", 0)
    other = sum(counts.values()) - done
    return f"{done} succeeded" + (f", {other} not" if other else "")


def _result_rows(
    lines: Sequence[JobLine], results: Sequence[BatchResult], out_dir: Path
) -> list[dict[str, Any]]:
    """Return the rows of results.jsonl: one per job line, in file order."""
    rows: list[dict[str, Any]] = []
    ran = iter(results)
    for entry in lines:
        if entry.job is None:
            rows.append(
                {
                    "index": entry.index,
                    "line": entry.line,
                    "id": None,
                    "task_id": None,
                    "status": "INVALID",
                    "files": [],
                    "error": entry.error,
                }
            )
            continue
        result = next(ran)
        error = result.error_message
        if result.status == "INVALID":
            error = f"line {entry.line}: {error}"
        rows.append(
            {
                "index": entry.index,
                "line": entry.line,
                "id": entry.job.key,
                "task_id": result.task_id,
                "status": result.status,
                "files": [
                    {
                        "path": file.path.relative_to(out_dir).as_posix(),
                        "sha256": file.sha256,
                        "bytes": file.bytes,
                    }
                    for file in result.files
                ],
                "error": error,
            }
        )
    return rows


def _write_rows(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` as JSON lines, replacing ``path`` in one step."""
    import click

    temp = path.with_name(f".{path.name}.part")
    try:
        with temp.open("w", encoding="utf-8", newline="\n") as file:
            for row in rows:
                file.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None


STATUS_ORDER = ("SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "INVALID", "ERROR")
STATUS_STYLES = {"SUCCEEDED": "green", "FAILED": "red", "INVALID": "red", "ERROR": "red"}


def _print_summary(
    console: Console, rows: Sequence[Mapping[str, Any]], results_path: Path
) -> dict[str, int]:
    """Print the jobs per status as a table; return the counts."""
    from rich.table import Table

    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    table = Table(title="Batch summary", title_justify="left")
    table.add_column("status")
    table.add_column("jobs", justify="right")
    for status in (*STATUS_ORDER, *sorted(set(counts) - set(STATUS_ORDER))):
        if counts.get(status):
            table.add_row(status, str(counts[status]), style=STATUS_STYLES.get(status, "yellow"))
    table.add_row("total", str(len(rows)), style="bold")
    console.print(table)
    console.print(f"Results: {results_path}", markup=False)
    return counts


# -- runway-async tasks ---------------------------------------------------------------------


def tasks_command() -> click.Command:
    """Return the ``tasks`` group: get, wait for and cancel one task."""
    import click

    @click.group(name="tasks")
    def tasks() -> None:
        """Show, wait for or cancel a task (key and URL from RUNWAYML_API_SECRET / _BASE_URL)."""

    @tasks.command(name="get")
    @click.argument("task_id", metavar="ID")
    @click.option("--json", "as_json", is_flag=True, help="Print the API's JSON reply.")
    def get(task_id: str, as_json: bool) -> None:
        """Show a task: its status, progress, outputs or failure."""
        if as_json:
            _print_json(
                _run_with_client(
                    lambda client: client.request("GET", task_path(task_id)), task_id=task_id
                )
            )
            return
        task = _run_with_client(lambda client: client.tasks.retrieve(task_id), task_id=task_id)
        _print_task(task)

    @tasks.command(name="wait")
    @click.argument("task_id", metavar="ID")
    @click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=600.0,
        show_default=True,
        metavar="SECONDS",
        help="Give up after SECONDS.",
    )
    def wait(task_id: str, timeout: float) -> None:
        """Wait for a task to end; print its output URLs, one a line, if it succeeded.

        The exit status is 0 when it succeeded, 1 when it failed, was cancelled or did not end
        in time.
        """
        from ._exceptions import TaskCancelledError, TaskFailedError, TaskTimeoutError

        async def work(client: AsyncRunway) -> SucceededTask | str:
            try:
                return await client.tasks.wait(task_id, timeout=timeout)
            except TaskCancelledError:
                return f"task {task_id} was cancelled"
            except TaskFailedError as exc:
                code = f" [{exc.failure_code}]" if exc.failure_code else ""
                return f"task {task_id} failed{code}: {exc.failure}"
            except TaskTimeoutError as exc:
                last = exc.task_details.status if exc.task_details is not None else "unknown"
                return f"task {task_id} did not end within {timeout:g} s (last status: {last})"

        outcome = _run_with_client(work, task_id=task_id)
        if isinstance(outcome, str):
            click.echo(f"Error: {outcome}", err=True)
            sys.exit(1)
        for url in outcome.output:
            click.echo(url)

    @tasks.command(name="cancel")
    @click.argument("task_id", metavar="ID")
    def cancel(task_id: str) -> None:
        """Cancel a task that has not ended, or delete one that has."""
        _run_with_client(lambda client: client.tasks.delete(task_id), task_id=task_id)
        click.echo(f"Cancelled task {task_id} (or deleted it, if it had ended).")

    return tasks


def _print_task(task: Task) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("id", task.id)
    table.add_row("status", task.status)
    table.add_row("created", task.created_at.isoformat())
    progress = getattr(task, "progress", None)
    if progress is not None:
        table.add_row("progress", f"{progress:.0%}")
    for label, name in (("estimated cost", "estimated_cost"), ("cost", "cost")):
        cost = getattr(task, name, None)
        if cost is not None:
            table.add_row(label, f"{cost.credits} credits")
    failure = getattr(task, "failure", None)
    if failure is not None:
        code = getattr(task, "failure_code", None)
        table.add_row("failure", f"[{code}] {failure}" if code else failure)
    for n, url in enumerate(getattr(task, "output", ())):
        table.add_row("output" if n == 0 else "", url)
    Console(highlight=False, soft_wrap=True).print(table)


# -- runway-async org -----------------------------------------------------------------------


def org_command() -> click.Command:
    """Return the ``org`` command: the organization's credits, limits and usage."""
    import click

    @click.command(name="org")
    @click.option("--json", "as_json", is_flag=True, help="Print the API's JSON reply.")
    def org(as_json: bool) -> None:
        """Show the credit balance and, per model, the limits and the past day's usage."""
        if as_json:
            _print_json(_run_with_client(lambda client: client.request("GET", "/v1/organization")))
            return
        organization = _run_with_client(lambda client: client.organization.retrieve())
        _print_organization(organization)

    return org


def _print_organization(organization: OrganizationInfo) -> None:
    from rich.console import Console
    from rich.table import Table

    def count(value: int | None) -> str:
        return "unlimited" if value is None else f"{value:,}"

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"Credit balance: {organization.credit_balance:,}", markup=False)
    spend = organization.tier.max_monthly_credit_spend
    if spend is not None:
        console.print(f"Monthly credit spend limit: {spend:,}", markup=False)
    table = Table(title="Limits and usage per model", title_justify="left")
    for name, justify in (
        ("model", "left"),
        ("running at once", "right"),
        ("per day", "right"),
        ("used (24 h)", "right"),
        ("left today", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]  # literal values
    models = sorted(set(organization.tier.models) | set(organization.usage.models))
    for model in models:
        usage = organization.usage.models.get(model)
        limits = organization.tier.models.get(model)
        table.add_row(
            model,
            count(organization.max_concurrency(model)) if limits is not None else "-",
            count(limits.max_daily_generations) if limits is not None else "-",
            f"{usage.daily_generations:,}" if usage is not None else "0",
            count(organization.remaining_daily(model)) if limits is not None else "-",
        )
    console.print(table)


COMMANDS: tuple[Callable[[], click.Command], ...] = (
    batch_command,
    tasks_command,
    org_command,
    emulator_command,
)
"""The subcommands' factories, in the order ``--help`` lists them."""


if __name__ == "__main__":
    main()
