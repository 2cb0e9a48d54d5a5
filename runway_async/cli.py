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
import math
import os
import re
import signal
import sys
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._config import is_loopback_host, is_loopback_url
from ._version import __version__

if TYPE_CHECKING:
    import click
    from rich.console import Console

    from ._batch import BatchResult, Job
    from ._client import AsyncRunway
    from ._config import PollConfig
    from ._journal import SQLiteBatchJournal
    from ._limits import Limiter
    from ._models import Organization as OrganizationInfo
    from ._models import SucceededTask, Task, WireModel
    from ._names import NameTemplate
    from ._spend import BatchCredits
    from .emulator import Emulator

__all__ = [
    "COMMANDS",
    "JobLine",
    "batch_command",
    "build_cli",
    "emulator_command",
    "journal_command",
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


def _finite_float(
    *, min: float, min_open: bool = False, max: float | None = None
) -> click.FloatRange:
    """Return a click float type for a range that also refuses ``nan`` and infinities.

    click's ``FloatRange`` takes ``nan`` (every comparison with it is false) and ``inf`` when
    there is no upper bound; as a timeout or a scale either one breaks things later, far from
    the option that caused it.

    Args:
        min: The lowest value.
        min_open: Whether ``min`` itself is refused.
        max: The highest value, if any.

    Returns:
        The parameter type.

    """
    import click

    class FiniteFloatRange(click.FloatRange):
        def convert(
            self, value: Any, param: click.Parameter | None, ctx: click.Context | None
        ) -> Any:
            number = click.FLOAT.convert(value, param, ctx)
            if not math.isfinite(number):
                self.fail(f"{value!r} is not a finite number.", param, ctx)
            return super().convert(number, param, ctx)

    return FiniteFloatRange(min=min, max=max, min_open=min_open)


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
        type=_finite_float(min=0, min_open=True),
        default=1.0,
        show_default=True,
        help="Real seconds per API second (0.01: a 5 s video takes 50 ms).",
    )
    @click.option(
        "--failure-rate",
        type=_finite_float(min=0, max=1),
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
    @click.option(
        "--accept-model",
        "accept_models",
        multiple=True,
        metavar="ENDPOINT:MODEL",
        help="Accept a model the spec does not know yet (image_to_video:gen5), with the "
        "client's light checks; repeatable.",
    )
    def emulator(
        host: str, allow_remote: bool, accept_models: tuple[str, ...], **settings: Any
    ) -> None:
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
        extra_models: dict[str, list[str]] = {}
        for item in accept_models:
            endpoint, sep, model = item.partition(":")
            if not sep or not endpoint or not model:
                raise click.BadParameter(
                    f"{item!r} is not ENDPOINT:MODEL (image_to_video:gen5)",
                    param_hint="--accept-model",
                )
            extra_models.setdefault(endpoint, []).append(model)
        if extra_models:
            settings["extra_models"] = extra_models
        try:
            with warnings.catch_warnings():
                # The Emulator warns of a non-loopback host; the console line below says it.
                warnings.filterwarnings("ignore", "The emulator will listen on", UserWarning)
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
    from ._config import PollConfig

    if time_scale is not None:
        # An emulator of ours: its tasks last `time_scale` times the API's. Its port is new
        # each run, so what is learned about it could never seed a later run: not persisted.
        return PollConfig(
            min_interval=max(0.01, LOCAL_POLL_INTERVAL * time_scale),
            requests_per_second=min(1000.0, 25.0 / time_scale),
            duration_cache=None,
        )
    if is_loopback_url(base_url):
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


def _print_json(model: WireModel) -> None:
    """Print a reply model as the API sent it (its keys, unknown ones included), indented."""
    import click

    click.echo(model.to_json(indent=2))


# -- runway-async batch ---------------------------------------------------------------------

# Lone surrogates: json.loads pairs up valid escapes, so any surrogate left in a string is one
# that cannot be encoded (as UTF-8 on the wire, or into results.jsonl).
_SURROGATE = re.compile("[\ud800-\udfff]")

# Duplicate ids: the line numbers listed in one warning before "and N others".
_LINES_LISTED = 5


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


def parse_jobs(
    text: str, *, allow_loopback_http: bool = False, base_dir: Path | None = None
) -> list[JobLine]:
    r"""Parse and validate a jobs file: one JSON object per line, blank lines skipped.

    Each line is ``{"endpoint": "image_to_video", "params": {...}, "id": "key"}``, checked
    like the call it describes (``validate_job``) without sending anything. A string holding
    a lone surrogate (``"\ud800"`` in the JSON), anywhere in the line, makes it invalid: it
    is not Unicode text and could not be sent.

    With ``base_dir``, a media value written ``"file:PATH"`` is the local file ``PATH``
    (relative to ``base_dir``), given to the job as a ``pathlib.Path``: it must exist and be
    media of the field's kind, and is uploaded when the job runs. The same text in a field
    that takes no media (a prompt) stays text.

    Args:
        text: The file's text.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.
        base_dir: The jobs file's directory, for ``"file:PATH"`` media values; ``None``
            leaves such values as they are (and the validator refuses them).

    Returns:
        One entry per non-blank line, in order; a bad line has its ``error``.

    """
    from ._batch import Job, validate_job
    from ._exceptions import InvalidRequestError
    from ._upload import file_references

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
                _check_unicode(data)
                job = Job.from_json(data)
                if base_dir is not None:
                    params = file_references(
                        job.endpoint, job.params, base_dir, allow_loopback_http=allow_loopback_http
                    )
                    job = attrs.evolve(job, params=params)
                validate_job(job, allow_loopback_http=allow_loopback_http)
            except InvalidRequestError as exc:
                job, error = None, f"line {number}: {_printable(str(exc))}"
            except UnicodeError as exc:  # a check that encodes text, should one miss above
                job, error = None, f"line {number}: not valid Unicode text: {_printable(str(exc))}"
        entries.append(JobLine(index=len(entries), line=number, job=job, error=error))
    return entries


def _check_unicode(data: object) -> None:
    """Raise ``InvalidRequestError`` naming the first field whose text has a lone surrogate.

    Fields are named as the validator names them: ``prompt_text``, ``prompt_image[1].uri``
    inside ``params``; ``id`` or ``endpoint`` outside.
    """
    from ._exceptions import InvalidRequestError

    # Iterative: json.loads accepts nesting deeper than Python's recursion limit allows.
    stack: list[tuple[str, object]] = []
    if isinstance(data, dict):
        for key, value in reversed(data.items()):
            stack.append((key, value) if key != "params" else ("", value))
            if _SURROGATE.search(key):
                stack.append((key, key))
    else:
        stack.append(("", data))
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found is not None:
                field = _printable(path) or "the line"
                raise InvalidRequestError(
                    f"{field} holds a lone surrogate ({_printable(found.group())}), which is "
                    "not Unicode text and cannot be sent",
                    field=_printable(path) or None,
                )
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                inner = f"{path}.{key}" if path else key
                stack.append((inner, item))
                if _SURROGATE.search(key):
                    stack.append((inner, key))
        elif isinstance(value, list):
            stack.extend((f"{path}[{n}]", item) for n, item in reversed(list(enumerate(value))))


def _printable(text: str) -> str:
    r"""Return ``text`` with lone surrogates escaped (``\ud800``), so it can be encoded."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


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


def _duplicate_ids(lines: Sequence[JobLine]) -> dict[str, list[int]]:
    """Return the ids that more than one valid job has, with their line numbers."""
    seen: dict[str, list[int]] = {}
    for entry in lines:
        if entry.job is not None and entry.job.key is not None:
            seen.setdefault(entry.job.key, []).append(entry.line)
    return {key: numbers for key, numbers in seen.items() if len(numbers) > 1}


def _duplicate_text(key: str, numbers: Sequence[int]) -> str:
    """Return ``id "x" is used by lines 2 and 5``."""
    listed = [str(n) for n in numbers[:_LINES_LISTED]]
    if len(numbers) > _LINES_LISTED:
        rest = f"{len(numbers) - _LINES_LISTED} others"
    else:
        rest = listed.pop()
    quoted = _printable(json.dumps(key, ensure_ascii=False))
    return f"id {quoted} is used by lines {', '.join(listed)} and {rest}"


def _refuse(message: str) -> click.ClickException:
    """Return the error that refuses the jobs file before anything is sent (exit status 2)."""
    import click

    class JobsFileRefused(click.ClickException):
        exit_code = 2  # as a usage error: the command was not run

    return JobsFileRefused(message)


def _check_out_dir(out_dir: Path, results_path: Path) -> None:
    """Create ``out_dir`` and make sure results.jsonl can be written there, sending nothing.

    A read-only directory would otherwise be found only after every task was paid for. The
    check writes and removes the temporary file results.jsonl is written through.

    Raises:
        click.ClickException: One line naming the path, when either cannot be written.

    """
    import click

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(
            f"cannot create {out_dir}: {exc.strerror or exc}; nothing was sent"
        ) from None
    if results_path.is_dir():
        raise click.ClickException(
            f"cannot write {results_path}: it is a directory; nothing was sent"
        )
    temp = _temp_path(results_path)
    try:
        with temp.open("w", encoding="utf-8") as file:
            file.write("\n")
        temp.unlink()
    except OSError as exc:
        raise click.ClickException(
            f"cannot write to {out_dir} ({temp.name}: {exc.strerror or exc}); nothing was sent"
        ) from None


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
        help="Where the outputs and results.jsonl go (created if missing; checked to be "
        "writable before anything is sent).",
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
        type=_finite_float(min=0, min_open=True),
        default=None,
        metavar="SECONDS",
        help="Stop the batch after SECONDS: unfinished jobs end TIMED_OUT and their tasks "
        "still running are cancelled (tasks that already ended are kept, outputs and all).",
    )
    @click.option(
        "--grace",
        type=_finite_float(min=0),
        default=10.0,
        show_default=True,
        metavar="SECONDS",
        help="After a stop (--timeout, Ctrl-C, SIGTERM), wait up to SECONDS for creates "
        "already sent to answer, so their tasks are recorded and cancelled, and for downloads "
        "under way to finish.",
    )
    @click.option(
        "--strict",
        is_flag=True,
        help="Refuse the file (exit status 2, nothing sent) if a line is invalid, two jobs "
        "share an id, or it has no jobs; without it they are INVALID rows and warnings.",
    )
    @click.option(
        "--journal",
        "journal_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="PATH",
        help="Record the batch's progress in this SQLite file, so running the same command "
        "again after a crash or a kill resumes it without paying twice (default: "
        "DIR/<jobs file stem>.journal.db).",
    )
    @click.option(
        "--no-journal",
        is_flag=True,
        help="Keep no journal: running the command again sends every job again.",
    )
    @click.option(
        "--resubmit-unknown",
        is_flag=True,
        help="Send again the jobs an earlier run left UNKNOWN (create sent, reply never "
        "came): their tasks may exist, so this may pay twice for them.",
    )
    @click.option(
        "--max-credits",
        type=_finite_float(min=0),
        default=None,
        metavar="N",
        help="Commit at most N credits in this run: each create first reserves the largest "
        "price seen for its endpoint and model (one at a time until one is known); jobs that "
        "would pass N end SKIPPED. The summary shows credits estimated and spent.",
    )
    @click.option(
        "--retry-failed",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        metavar="N",
        help="Create a job again, up to N times, when its task FAILED with a retryable code "
        "(INTERNAL.BAD_OUTPUT.*, INPUT_PREPROCESSING.INTERNAL, INTERNAL; never SAFETY.*). "
        "Every attempt is paid.",
    )
    @click.option(
        "--dry-run",
        is_flag=True,
        help="Check every line and print what would be created per endpoint and model, "
        "sending nothing (no key needed); exit status 0 when every line is valid, else 1.",
    )
    @click.option(
        "--name",
        "name_template",
        default=None,
        metavar="TEMPLATE",
        help="Name the outputs by TEMPLATE instead of <id>_<n>.<ext> (<task_id>_<n>.<ext> for "
        'a job without an id), such as "{index}-{id}_{n}.{ext}". Fields: id, index (from 0), '
        "line, task_id, n (the output, from 0), ext; it must hold {n}, {ext} and one of "
        "{id}, {index}, {line}, {task_id}. Names are made safe and unique in DIR.",
    )
    @click.option(
        "--redis",
        "redis_url",
        default=None,
        metavar="URL",
        help="Share the organization's limits with every other process using this Redis "
        "(redis://host:6379/0) and --redis-namespace: a fleet of batches then keeps to one "
        "organization's concurrency and daily quota together (needs runway_async[redis]).",
    )
    @click.option(
        "--redis-namespace",
        default="runway_async",
        show_default=True,
        metavar="NAME",
        help="The key prefix of the shared limits: one per organization.",
    )
    def batch(
        jobs_file: Path,
        use_emulator: bool,
        out_dir: Path,
        concurrency: int | None,
        timeout: float | None,
        grace: float,
        strict: bool,
        name_template: str | None,
        journal_path: Path | None,
        no_journal: bool,
        resubmit_unknown: bool,
        max_credits: float | None,
        retry_failed: int,
        dry_run: bool,
        redis_url: str | None,
        redis_namespace: str,
    ) -> None:
        """Run every job of JOBS.jsonl, download the outputs, and write DIR/results.jsonl.

        One JSON object per line: {"endpoint": "image_to_video", "params": {...}, "id":
        "my-key"}, where endpoint is the resource path as on the client (text_to_image,
        recipes.product_ad, generate.video) and params are the keyword arguments of the
        Python call; "id" is optional, and a warning names ids used twice. Blank lines are
        skipped, but counted in line numbers. Every line is checked before anything is sent;
        a bad one becomes an INVALID row.

        Outputs are named after the job's id, <id>_<n>.<ext>, made safe for every
        filesystem and unique in DIR (a second "fox" gets "fox_0 (1).png"), or after the
        task id for a job without one; --name chooses another layout.

        A media value written "file:PATH" (such as "prompt_image": "file:cat.png", with PATH
        relative to the jobs file's directory) is a local file: it is uploaded before its
        job's create, once however many jobs use it. It must be image, video or audio media
        of the field's kind, at most 200 MB.

        The key and base URL come from RUNWAYML_API_SECRET and RUNWAYML_BASE_URL, unless
        --emulator. results.jsonl has one row per job (non-blank line), in file order. The
        exit status is 0 when every job succeeded (or there were none), 1 otherwise. Ctrl-C
        or SIGTERM stops the batch like --timeout (as CANCELLED, exit status 130 or 143)
        and still writes the results.
        """
        from rich.console import Console

        out = Console(highlight=False, soft_wrap=True, emoji=False)
        err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
        credentials = None
        if dry_run:
            # Nothing is sent: no key needed; a loopback RUNWAYML_BASE_URL still allows http.
            base = os.environ.get("RUNWAYML_BASE_URL")
            credentials = ("", base) if base and not use_emulator else None
        elif not use_emulator:
            credentials = _credentials_from_env(" (or pass --emulator to run on a local emulator)")
        text = _read_jobs_file(jobs_file)
        loopback = use_emulator or (credentials is not None and is_loopback_url(credentials[1]))
        lines = parse_jobs(text, allow_loopback_http=loopback, base_dir=jobs_file.parent)
        names = _name_template(name_template, lines)
        for entry in lines:
            if entry.error is not None:
                err.print(f"INVALID {entry.error}", style="red", markup=False)
        duplicates = [_duplicate_text(k, n) for k, n in _duplicate_ids(lines).items()]
        if strict:
            invalid = sum(entry.job is None for entry in lines)
            problems = [f"{invalid} invalid line{'s' if invalid != 1 else ''}"] if invalid else []
            problems += duplicates
            if not lines:
                problems.append("no jobs")
            if problems:
                raise _refuse(f"{jobs_file}: {'; '.join(problems)} (--strict); nothing was sent")
        for text_line in duplicates:
            err.print(
                f"warning: {text_line}; results are keyed by id", style="yellow", markup=False
            )
        if not lines:
            err.print(
                f"warning: no jobs in {jobs_file} (only blank lines); nothing to run",
                style="yellow",
                markup=False,
            )
        if dry_run:
            sys.exit(_print_dry_run(out, lines))
        limiter = _redis_limiter(redis_url, redis_namespace)
        results_path = out_dir / "results.jsonl"
        _check_out_dir(out_dir, results_path)
        results: list[BatchResult] = []
        stopped_by: signal.Signals | None = None
        spend: list[BatchCredits] = []  # the batch's credits, once it ended
        if any(entry.job is not None for entry in lines):
            journal = None
            if not no_journal:
                path = journal_path or out_dir / f"{jobs_file.stem}.journal.db"
                journal = _open_journal(path, jobs_file, out_dir, lines, err)
            try:
                results, stopped_by = asyncio.run(
                    _run_jobs(
                        lines,
                        credentials=credentials,
                        out_dir=out_dir,
                        concurrency=concurrency,
                        timeout=timeout,
                        grace=grace,
                        console=err,
                        names=names,
                        journal=journal,
                        resubmit_unknown=resubmit_unknown,
                        max_credits=max_credits,
                        retry_failed=retry_failed,
                        spend=spend,
                        limiter=limiter,
                    )
                )
            except OSError as exc:  # the emulator could not listen
                raise click.ClickException(f"cannot start the emulator: {exc}") from None
            finally:
                if journal is not None:
                    journal.close()
        rows = _result_rows(lines, results, out_dir)
        # After a signal the exit status says which one, as if it had ended the process.
        failed = 128 + stopped_by if stopped_by is not None else 1
        try:
            _write_rows(results_path, rows)
        except OSError as exc:
            _print_summary(out, rows, None, spend[0] if spend else None)
            _report_unwritten(results_path, exc, rows)
            sys.exit(failed)
        counts = _print_summary(out, rows, results_path, spend[0] if spend else None)
        if stopped_by is not None or counts.get("SUCCEEDED", 0) != len(rows):
            sys.exit(failed)

    return batch


def _open_journal(
    path: Path, jobs_file: Path, out_dir: Path, lines: Sequence[JobLine], console: Console
) -> SQLiteBatchJournal:
    """Open the batch's journal and check the jobs against it, before anything is sent.

    Raises:
        click.ClickException: The file is not a journal, or the jobs differ from those it
            recorded (exit status 2, naming the line and field).

    """
    from ._journal import JournalError, JournalMismatchError, SQLiteBatchJournal

    jobs = [entry.job for entry in lines if entry.job is not None]
    line_of = [entry.line for entry in lines if entry.job is not None]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        journal = SQLiteBatchJournal(path)
    except (JournalError, OSError) as exc:
        raise _refuse(f"{exc}; nothing was sent") from None
    try:
        resumed = bool(journal.rows())
        journal.check_jobs(jobs)
        journal.set_info(
            jobs_file=str(jobs_file.absolute()),
            out_dir=str(out_dir.absolute()),
            lines=[[e.line, e.error, e.job.key if e.job else None] for e in lines],
        )
    except JournalMismatchError as exc:
        journal.close()
        where = ""
        if exc.index is not None and exc.index < len(line_of):
            where = f" (line {line_of[exc.index]} of {jobs_file})"
        raise _refuse(
            f"{jobs_file} does not match the journal {path}{where}: {exc.message} "
            "(--journal PATH for another one, --no-journal for none); nothing was sent"
        ) from None
    except BaseException:
        journal.close()
        raise
    if resumed:
        console.print(f"Resuming from the journal {path}", markup=False)
    return journal


def _name_template(template: str | None, lines: Sequence[JobLine]) -> NameTemplate | None:
    """Return the checked ``--name`` template (``{line}`` included), or fail before sending."""
    import click

    from ._names import NameTemplate

    if template is None:
        return None
    try:
        return NameTemplate(template, lines=[e.line for e in lines if e.job is not None])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--name'") from None


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
    grace: float,
    console: Console,
    names: NameTemplate | None = None,
    journal: SQLiteBatchJournal | None = None,
    resubmit_unknown: bool = False,
    max_credits: float | None = None,
    retry_failed: int = 0,
    spend: list[BatchCredits] | None = None,
    limiter: Limiter | None = None,
) -> tuple[list[BatchResult], signal.Signals | None]:
    """Run the valid jobs with a progress bar; return their results and the stopping signal."""
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
        client = await stack.enter_async_context(
            AsyncRunway(api_key, base_url=base_url, poll=poll, limiter=limiter)
        )
        if limiter is not None and hasattr(limiter, "aclose"):
            stack.push_async_callback(limiter.aclose)  # after the client (LIFO)
        if not jobs:
            return [], None
        try:
            # Fails fast on a wrong key or URL, and gives the limits --concurrency caps.
            organization = await client.organization.retrieve()
        except RunwayError as exc:
            raise click.ClickException(_api_error_message(exc, base_url)) from None
        if concurrency is not None:
            client = client.with_options(max_concurrency=_capped_limits(concurrency, organization))
        return await _run_with_progress(
            client,
            jobs,
            lines,
            out_dir,
            timeout,
            grace,
            console,
            names=names,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
            max_credits=max_credits,
            retry_failed=retry_failed,
            spend=spend,
        )


def _redis_limiter(url: str | None, namespace: str) -> Limiter | None:
    """Return the shared limiter of ``--redis`` (``None`` without it).

    Raises:
        click.UsageError: The URL or namespace is refused, or redis-py is not installed.

    """
    import click

    if url is None:
        return None
    from ._redis_limiter import RedisLimiter

    try:
        return RedisLimiter(url, namespace=namespace)
    except (ValueError, ImportError) as exc:
        raise click.UsageError(str(exc)) from exc


def _capped_limits(cap: int, organization: OrganizationInfo) -> dict[str, int | None]:
    """Return per-model ``max_concurrency``: ``cap``, or the organization's limit if lower."""
    return {
        model: cap
        if limits.max_concurrent_generations is None
        else min(cap, limits.max_concurrent_generations)
        for model, limits in organization.tier.models.items()
    }


# The signals that stop a batch as Ctrl-C does; SIGTERM is what service managers, container
# runtimes and `timeout` send.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def _run_with_progress(
    client: AsyncRunway,
    jobs: list[Job],
    lines: Sequence[JobLine],
    out_dir: Path,
    timeout: float | None,
    grace: float,
    console: Console,
    *,
    names: NameTemplate | None = None,
    journal: SQLiteBatchJournal | None = None,
    resubmit_unknown: bool = False,
    max_credits: float | None = None,
    retry_failed: int = 0,
    spend: list[BatchCredits] | None = None,
) -> tuple[list[BatchResult], signal.Signals | None]:
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
    stopped_by: signal.Signals | None = None
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("jobs", total=len(jobs))
        batch = client.batch(
            jobs,
            deadline=timeout,
            download_to=out_dir,
            cancel_server_tasks_on_cancel=True,
            grace_period=grace,
            name=names,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
            max_credits=max_credits,
            retry_failed=retry_failed,
        )

        def on_signal(sig: signal.Signals) -> None:
            nonlocal stopped_by
            stopped_by = sig
            name = "Ctrl-C" if sig == signal.SIGINT else sig.name
            progress.console.print(
                f"{name}: stopping. Jobs not started are cancelled, and so are the tasks still "
                "running (tasks that already ended are kept); creates already sent and "
                f"downloads under way get up to {grace:g} s. Ctrl-C or SIGTERM again quits at "
                "once, without writing the results.",
                style="yellow",
                markup=False,
            )
            batch.cancel()
            # A second signal does what it does by default: KeyboardInterrupt for Ctrl-C,
            # the end of the process for SIGTERM.
            for installed_sig in installed:
                loop.remove_signal_handler(installed_sig)
            installed.clear()

        for sig in _STOP_SIGNALS:
            # Not available on Windows or outside the main thread; Ctrl-C then just raises.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal, sig)
                installed.append(sig)
        try:
            async for result in batch:
                counts[result.status] = counts.get(result.status, 0) + 1
                progress.update(bar, advance=1, description=_progress_text(counts))
                where = f"line {line_of[result.index]}"
                if result.task_id is not None:
                    where += f" (task {result.task_id})"
                if not result.ok:
                    progress.console.print(
                        f"{result.status} {where}: {_printable(result.error_message or '')}",
                        style="red",
                        markup=False,
                    )
                elif result.note is not None:
                    progress.console.print(
                        f"{result.status} {where}: {_printable(result.note)}",
                        style="yellow",
                        markup=False,
                    )
            results = await batch.gather()
            if spend is not None:
                spend.append(batch.credits)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
    return results, stopped_by


def _progress_text(counts: Mapping[str, int]) -> str:
    done = counts.get("SUCCEEDED", 0)
    other = sum(counts.values()) - done
    return f"{done} succeeded" + (f", {other} not" if other else "")


def _result_rows(
    lines: Sequence[JobLine], results: Sequence[BatchResult], out_dir: Path
) -> list[dict[str, Any]]:
    """Return the rows of results.jsonl: one per job line, in file order.

    A job whose task succeeded but whose outputs were not all downloaded (the batch stopped,
    a download failed) also gets ``output``, the task's output URLs, so that nothing paid for
    is lost (they expire in 24-48 h).
    """
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
                    "note": None,
                }
            )
            continue
        result = next(ran)
        error = result.error_message
        if result.status == "INVALID":
            error = f"line {entry.line}: {error}"
        row: dict[str, Any] = {
            "index": entry.index,
            "line": entry.line,
            "id": entry.job.key,
            "task_id": result.task_id,
            "status": result.status,
            "files": [
                {
                    "path": _row_path(file.path, out_dir),
                    "sha256": file.sha256,
                    "bytes": file.bytes,
                }
                for file in result.files
            ],
        }
        # A workflow invocation's output is a map of node to URLs; ``outputs`` flattens it.
        output = getattr(result.task, "outputs", None) or getattr(result.task, "output", None)
        if isinstance(output, (list, tuple)) and len(result.files) < len(output):
            row["output"] = list(output)
        row["error"] = error
        row["note"] = result.note
        if len(result.attempts) > 1:  # created again after a retryable failure
            row["attempts"] = list(result.attempts)
        rows.append(row)
    return rows


def _row_path(path: Path, out_dir: Path) -> str:
    """Return a file's path for results.jsonl: relative to the output directory when inside.

    Paths from this run are relative or absolute as ``--out`` was given; a resumed journal
    records absolute ones. Both are compared absolutely; a file elsewhere keeps its path.
    """
    try:
        return path.absolute().relative_to(out_dir.absolute()).as_posix()
    except ValueError:
        return path.as_posix()


def _temp_path(path: Path) -> Path:
    """Return the temporary file ``path`` is written through."""
    return path.with_name(f".{path.name}.part")


def _json_line(row: Mapping[str, Any]) -> str:
    """Return ``row`` as one line of JSON, readable text when it can be encoded as UTF-8."""
    line = json.dumps(row, ensure_ascii=False)
    if _SURROGATE.search(line) is not None:
        # A lone surrogate (from a job's text, in an error message) cannot be encoded;
        # \uXXXX escapes keep it exactly.
        line = json.dumps(row)
    return line


def _write_rows(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` as JSON lines, replacing ``path`` in one step.

    Raises:
        OSError: The file could not be written (the old one, if any, is left as it was).

    """
    temp = _temp_path(path)
    try:
        with temp.open("w", encoding="utf-8", newline="\n") as file:
            for row in rows:
                file.write(_json_line(row) + "\n")
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _report_unwritten(path: Path, exc: OSError, rows: Sequence[Mapping[str, Any]]) -> None:
    """Print the rows that could not be written to ``path`` on stderr, one JSON a line.

    The checks before sending make this rare (a full disk, a directory removed meanwhile),
    but the tasks are paid for: their ids and outputs must reach the user somehow.
    """
    import click

    click.echo(
        f"Error: cannot write {path}: {exc.strerror or exc}. The {len(rows)} rows it should "
        "hold follow, one JSON object a line (task ids and outputs included):",
        err=True,
    )
    for row in rows:
        # ensure_ascii: whatever the terminal's encoding, the line gets through.
        click.echo(json.dumps(row), err=True)


STATUS_ORDER = (
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
    "TIMED_OUT",
    "INVALID",
    "ERROR",
    "UNKNOWN",
    "SKIPPED",
)
STATUS_STYLES = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "INVALID": "red",
    "ERROR": "red",
    "UNKNOWN": "red",
}


def _print_summary(
    console: Console,
    rows: Sequence[Mapping[str, Any]],
    results_path: Path | None,
    credits: BatchCredits | None = None,
) -> dict[str, int]:
    """Print the jobs per status as a table, the credits, and where the results are.

    Returns:
        The jobs per status.

    """
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
    if credits is not None:
        console.print(_credits_text(credits), markup=False)
    if results_path is not None:
        console.print(f"Results: {results_path}", markup=False)
    return counts


def _credits_text(credits: BatchCredits) -> str:
    """Return the summary's credits line: estimated, spent, held, and the limit."""
    text = f"Credits: {credits.estimated:g} estimated, {credits.spent:g} spent"
    held = credits.reserved + credits.unsettled
    if held:
        text += f", {held:g} held for tasks whose cost is not known"
    if credits.limit is not None:
        text += f" (--max-credits {credits.limit:g}"
        if credits.skipped:
            text += f"; {credits.skipped} create{'s' if credits.skipped != 1 else ''} not started"
        text += ")"
    return text


def _print_dry_run(console: Console, lines: Sequence[JobLine]) -> int:
    """Print what a run would create per endpoint and model, sending nothing.

    Returns:
        The exit status: 0 when every line is valid, 1 otherwise.

    """
    from rich.table import Table

    from ._spend import spend_key

    kinds: dict[tuple[str, str | None], int] = {}
    for entry in lines:
        if entry.job is not None:
            key = spend_key(entry.job.endpoint, entry.job.params)
            kinds[key] = kinds.get(key, 0) + 1
    invalid = sum(entry.job is None for entry in lines)
    table = Table(title="Dry run: nothing was sent", title_justify="left")
    table.add_column("endpoint")
    table.add_column("model")
    table.add_column("jobs", justify="right")
    for (endpoint, model), count in sorted(kinds.items(), key=lambda k: (k[0][0], k[0][1] or "")):
        table.add_row(endpoint, model or "-", str(count))
    table.add_row("total", "", str(sum(kinds.values())), style="bold")
    if invalid:
        table.add_row("INVALID", "", str(invalid), style="red")
    console.print(table)
    console.print(
        "Estimated credits: unknown before sending. The API quotes a task's price "
        "(estimatedCost) only in its create's reply, so a dry run cannot give one; "
        "--max-credits guards a real run.",
        markup=False,
    )
    return 1 if invalid else 0


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
        task = _run_with_client(lambda client: client.tasks.retrieve(task_id), task_id=task_id)
        if as_json:
            _print_json(task)
            return
        _print_task(task)

    @tasks.command(name="wait")
    @click.argument("task_id", metavar="ID")
    @click.option(
        "--timeout",
        type=_finite_float(min=0, min_open=True),
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
        organization = _run_with_client(lambda client: client.organization.retrieve())
        if as_json:
            _print_json(organization)
            return
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


# -- runway-async journal -------------------------------------------------------------------


def journal_command() -> click.Command:
    """Return the ``journal`` group: read a batch journal (``show``, ``results``)."""
    import click

    @click.group(name="journal")
    def journal() -> None:
        """Read the journal a batch keeps (DIR/<jobs file stem>.journal.db by default)."""

    journal_file = click.Path(exists=True, dir_okay=False, path_type=Path)

    @journal.command(name="show")
    @click.argument("path", metavar="JOURNAL", type=journal_file)
    def show(path: Path) -> None:
        """Print the jobs per state, and each UNKNOWN job with the request it sent.

        UNKNOWN jobs sent a create whose reply never came: their tasks may exist. The API
        cannot list recent tasks, so check your usage before sending them again
        (runway-async batch --resubmit-unknown).
        """
        from rich.console import Console
        from rich.table import Table

        console = Console(highlight=False, soft_wrap=True, emoji=False)
        with _read_journal(path) as opened:
            info = opened.info()
            rows = opened.rows()
        console.print(
            f"Journal {path} (SDK {info.get('sdk_version', '?')}, last run by "
            f"{info.get('last_sdk_version', '?')}): {len(rows)} jobs",
            markup=False,
        )
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["state"]] = counts.get(row["state"], 0) + 1
        table = Table(title_justify="left")
        table.add_column("state")
        table.add_column("jobs", justify="right")
        order = (*STATUS_ORDER, "SUBMITTED", "NOT_STARTED")
        for state in (*order, *sorted(set(counts) - set(order))):
            if counts.get(state):
                table.add_row(state, str(counts[state]), style=STATUS_STYLES.get(state))
        console.print(table)
        lines = info.get("lines") or []
        line_of = [entry[0] for entry in lines if entry[1] is None]
        for row in rows:
            if row["state"] != "UNKNOWN":
                continue
            where = f"job {row['index']}"
            if row["index"] < len(line_of):
                where += f" (line {line_of[row['index']]})"
            if row["id"] is not None:
                where += f" id {json.dumps(row['id'], ensure_ascii=False)}"
            console.print(
                f"UNKNOWN {where}: {row['endpoint']} sent {row['attempts']} time(s), no reply; "
                f"request: {_json_line(row['request'] or {})}",
                style="red",
                markup=False,
            )

    @journal.command(name="results")
    @click.argument("path", metavar="JOURNAL", type=journal_file)
    @click.option(
        "--out",
        "out_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help="Where to write the rows (default: results.jsonl in the batch's output directory).",
    )
    def results(path: Path, out_path: Path | None) -> None:
        """Rebuild results.jsonl from the journal: one row per line of the jobs file.

        Jobs not finished in the journal get their state (SUBMITTED, NOT_STARTED, UNKNOWN)
        as status; run the batch again to finish them.
        """
        with _read_journal(path) as opened:
            info = opened.info()
            rows = _journal_rows(info, opened.rows())
        out_dir = Path(info.get("out_dir") or path.parent)
        target = out_path or out_dir / "results.jsonl"
        try:
            _write_rows(target, rows)
        except OSError as exc:
            _report_unwritten(target, exc, rows)
            sys.exit(1)
        click.echo(f"Wrote {len(rows)} rows to {target}")

    return journal


def _read_journal(path: Path) -> SQLiteBatchJournal:
    import click

    from ._journal import JournalError, SQLiteBatchJournal

    try:
        return SQLiteBatchJournal(path)
    except JournalError as exc:
        raise click.ClickException(str(exc)) from None


def _journal_rows(
    info: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Return the rows of results.jsonl as the batch wrote them, from a journal's records."""
    out_dir = Path(info.get("out_dir") or ".")
    lines = info.get("lines")
    if not isinstance(lines, list):  # a journal written by the Python API: jobs only
        lines = [[None, None, job["id"]] for job in jobs]
    by_index = {job["index"]: job for job in jobs}
    rows: list[dict[str, Any]] = []
    valid = 0
    for n, (line, error, _key) in enumerate(lines):
        if error is not None:
            rows.append(
                {
                    "index": n,
                    "line": line,
                    "id": None,
                    "task_id": None,
                    "status": "INVALID",
                    "files": [],
                    "error": error,
                    "note": None,
                }
            )
            continue
        job = by_index.get(valid, {})
        valid += 1
        files = []
        for file in job.get("files", []):
            files.append(
                {
                    "path": _row_path(Path(file["path"]), out_dir),
                    "sha256": file["sha256"],
                    "bytes": file["bytes"],
                }
            )
        row: dict[str, Any] = {
            "index": n,
            "line": line,
            "id": job.get("id"),
            "task_id": job.get("task_id"),
            "status": job.get("state", "NOT_STARTED"),
            "files": files,
        }
        task = job.get("task") or {}
        output = task.get("output")
        if isinstance(output, list) and len(files) < len(output):
            row["output"] = output
        row["error"] = job.get("error")
        row["note"] = job.get("note")
        rows.append(row)
    return rows


COMMANDS: tuple[Callable[[], click.Command], ...] = (
    batch_command,
    tasks_command,
    org_command,
    emulator_command,
    journal_command,
)
"""The subcommands' factories, in the order ``--help`` lists them."""


if __name__ == "__main__":
    main()
