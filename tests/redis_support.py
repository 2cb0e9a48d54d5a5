"""A real ``redis-server`` for the tests: started on a free loopback port, stopped at the end.

Without ``redis-server`` (or redis-py) the Redis tests are skipped with the reason, unless the
environment variable ``CI`` is set: in CI a missing server fails them instead, so the suite
cannot go green by skipping them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

START_TIMEOUT = 10.0
"""Seconds a server has to answer PING after it was started."""
STOP_TIMEOUT = 5.0


def missing_reason() -> str | None:
    """Return why the Redis tests cannot run here, or ``None`` if they can."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    if importlib.util.find_spec("redis") is None:
        return "redis-py is not installed (pip install 'runway_async[redis]')"
    return None


def require_redis() -> str:
    """Return the path of ``redis-server``; skip the test (fail it under ``CI``) if unusable."""
    reason = missing_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but the Redis tests cannot run: {reason}")
        pytest.skip(reason)
    path = shutil.which("redis-server")
    assert path is not None
    return path


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ping(port: int, timeout: float = 0.5) -> bool:
    """Return whether a Redis server on ``port`` answers PING (raw RESP, no client library)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process on a fixed loopback port, without persistence.

    ``stop()`` and ``start()`` again (same port) take Redis away and bring it back, empty,
    for tests of what the limiter does meanwhile.

    Args:
        executable: The path of ``redis-server``.
        directory: Its working directory (it writes nothing there: no RDB, no AOF).

    """

    def __init__(self, executable: str, directory: Path) -> None:
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL for redis-py."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the server and wait (at most ``START_TIMEOUT`` s) until it answers PING."""
        if self.running:
            return
        self.process = subprocess.Popen(  # noqa: S603  # our own fixed command line
            [
                self.executable,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not ping(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT} s")
            time.sleep(0.01)  # polling a child process's readiness, not timing a test

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``STOP_TIMEOUT`` s); idempotent."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def flush(self) -> None:
        """Empty every database (raw RESP ``FLUSHALL``)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=STOP_TIMEOUT) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            sock.recv(64)
