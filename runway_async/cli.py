"""The ``runway-async`` command: ``runway-async emulator`` runs the local Runway API server.

click and rich come with the ``cli`` extra (``pip install 'runway-async[cli]'``); the core
package does not need them, so they are imported only when the command runs. Each subcommand
is one ``*_command()`` function returning a ``click.Command``, listed in ``COMMANDS``; the
group is assembled by ``build_cli()``. To add a subcommand, write its function and list it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._config import is_loopback_host
from ._version import __version__

if TYPE_CHECKING:
    import click
    from rich.console import Console

    from .emulator import Emulator

__all__ = ["COMMANDS", "build_cli", "emulator_command", "main"]

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
        """Tools for the Runway API: a local emulator (more commands to come)."""

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


COMMANDS: tuple[Callable[[], click.Command], ...] = (emulator_command,)
"""The subcommands' factories, in the order ``--help`` lists them."""


if __name__ == "__main__":
    main()
