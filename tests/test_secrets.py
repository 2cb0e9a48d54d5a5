"""The API key never shows in an error: not in messages, reprs, chained causes or traceback locals.

Every error path the emulator's faults produce is driven through the client, and each error
is formatted the way Sentry, ``pytest -l`` and rich's ``show_locals`` do it
(``TracebackException(capture_locals=True)``).
"""

from __future__ import annotations

import asyncio
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, Final

import pytest
import pytest_asyncio

import runway_async
from runway_async import (
    AmbiguousSubmissionError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncRunway,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    RetryConfig,
)
from runway_async.emulator import Emulator

from .conftest import half_then_drop

# Module globals are not frame locals: the key lives here so that no test frame holds it.
MARK = "S3CR3TMARK"
SECRET_KEY = "key_" + MARK + "0123456789abcdef" * 7

IMAGE_PARAMS: dict[str, Any] = {
    "model": "gen4_image",
    "prompt_text": "a red fox",
    "ratio": "1920:1080",
}


def exception_chain(exc: BaseException) -> list[BaseException]:
    """Return ``exc`` and every exception reachable through __cause__ and __context__."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        todo += [current.__cause__, current.__context__]
    return found


def assert_no_key(exc: BaseException) -> None:
    """Fail if the key can be read from ``exc`` in any of the ways error reporters read it."""
    formatted = traceback.TracebackException.from_exception(exc, capture_locals=True)
    text = "".join(formatted.format())
    assert MARK not in text
    for each in exception_chain(exc):
        assert MARK not in repr(each)
        assert MARK not in str(each)
        for value in vars(each).values():
            assert MARK not in repr(value)
        for frame, _ in traceback.walk_tb(each.__traceback__):
            # aiohttp's frames hold the request's headers; none may stay attached.
            # (By path component: nox's virtualenv folders are named tests-aiohttp-...)
            assert "aiohttp" not in Path(frame.f_code.co_filename).parts, frame.f_code.co_name


async def failure(call: Awaitable[Any]) -> BaseException:
    """Return the exception ``call`` raises."""
    try:
        await call
    except Exception as exc:
        return exc
    raise AssertionError("the call did not fail")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Start a fast emulator for one test (any key is accepted)."""
    async with Emulator(time_scale=0.002, seed=3) as emu:
        yield emu


def client_for(url: str, **options: Any) -> AsyncRunway:
    # A generous timeout: a loaded machine must not turn a 503 into a timeout. The faults
    # that hang are given a short one (``timeout_for``).
    options.setdefault("timeout", 10.0)
    options.setdefault("retry", RetryConfig(max_retries=0))
    return AsyncRunway(SECRET_KEY, base_url=url, **options)


# kind -> (fault options, error of a create, error of a GET)
FAULTS: dict[str, tuple[dict[str, Any], type[Exception], type[Exception]]] = {
    "error_before": ({}, InternalServerError, InternalServerError),
    "error_after": ({}, AmbiguousSubmissionError, InternalServerError),
    "rate_limit": ({"retry_after": 0}, RateLimitError, RateLimitError),
    "drop_before": ({}, AmbiguousSubmissionError, APIConnectionError),
    "drop_after": ({}, AmbiguousSubmissionError, APIConnectionError),
    "hold_after": ({}, AmbiguousSubmissionError, APITimeoutError),
    "latency": ({"delay": 5.0}, AmbiguousSubmissionError, APITimeoutError),
    "not_http": ({}, AmbiguousSubmissionError, APIConnectionError),
    "not_json": ({}, AmbiguousSubmissionError, ResponseValidationError),
    "truncated": ({}, AmbiguousSubmissionError, APIConnectionError),
    "oversized": ({"size": 10_000}, AmbiguousSubmissionError, ResponseValidationError),
    "endless": ({"delay": 0.01}, AmbiguousSubmissionError, APITimeoutError),
    "hold_body": ({}, AmbiguousSubmissionError, APITimeoutError),
}
HANGING: Final = frozenset({"hold_after", "latency", "endless", "hold_body"})


def timeout_for(kind: str) -> float:
    """Return the client timeout for a fault: short where the fault hangs until it passes."""
    return 0.3 if kind in HANGING else 10.0


class TestKeyNeverInErrors:
    """Errors carry no API key, whatever failed and however they are printed."""

    def test_every_fault_kind_is_covered(self) -> None:
        """The table below names every FaultKind, so a new kind cannot go untested."""
        from runway_async.emulator import FaultKind

        assert set(FAULTS) == {kind.value for kind in FaultKind}

    @pytest.mark.parametrize("kind", sorted(FAULTS))
    async def test_fault_on_a_create(self, emulator: Emulator, kind: str) -> None:
        """Each fault kind on a create gives an error without the key anywhere in it."""
        options, expected, _ = FAULTS[kind]
        emulator.faults.inject(kind, **options)
        timeout = timeout_for(kind)
        async with client_for(emulator.url, max_response_bytes=4096, timeout=timeout) as client:
            exc = await failure(client.text_to_image.create(**IMAGE_PARAMS))
        assert isinstance(exc, expected)
        assert_no_key(exc)

    @pytest.mark.parametrize("kind", sorted(FAULTS))
    async def test_fault_on_a_read(self, emulator: Emulator, kind: str) -> None:
        """Each fault kind on a GET gives an error without the key anywhere in it."""
        options, _, expected = FAULTS[kind]
        timeout = timeout_for(kind)
        async with client_for(emulator.url, max_response_bytes=4096, timeout=timeout) as client:
            handle = await client.text_to_image.create(**IMAGE_PARAMS)
            # Twice: aiohttp itself re-sends a GET once when a reused connection drops.
            emulator.faults.inject(kind, route="tasks", count=2, **options)
            exc = await failure(client.tasks.retrieve(handle.id))
        assert isinstance(exc, expected)
        assert_no_key(exc)

    async def test_read_failing_after_retries(self, emulator: Emulator) -> None:
        """A GET that fails on every retry raises an error without the key in it."""
        emulator.faults.inject("not_http", route="organization", count=3)
        async with client_for(emulator.url, retry=RetryConfig(max_retries=2)) as client:
            exc = await failure(client.organization.retrieve())
        assert isinstance(exc, APIConnectionError)
        assert emulator.faults.pending() == []
        assert_no_key(exc)

    async def test_connection_refused(self) -> None:
        """A refused connection gives an error without the key (nor aiohttp's frames)."""
        async with client_for(f"http://127.0.0.1:{closed_port()}") as client:
            exc = await failure(client.tasks.retrieve("t-1"))
        assert isinstance(exc, APIConnectionError)
        assert exc.sent is False
        assert exc.cause is not None
        assert exc.cause.startswith("ClientConnectorError")
        assert_no_key(exc)

    async def test_connection_refused_on_a_create(self) -> None:
        """A create to a closed port gives a certain (sent=False) error without the key."""
        async with client_for(f"http://127.0.0.1:{closed_port()}") as client:
            exc = await failure(client.text_to_image.create(**IMAGE_PARAMS))
        assert isinstance(exc, APIConnectionError)
        assert not isinstance(exc, AmbiguousSubmissionError)
        assert_no_key(exc)

    @pytest.mark.parametrize(
        ("status", "cls"),
        [(400, BadRequestError), (404, NotFoundError), (503, InternalServerError)],
    )
    async def test_status_errors(
        self, emulator: Emulator, status: int, cls: type[Exception]
    ) -> None:
        """Error statuses give errors without the key."""
        emulator.faults.inject("error_before", route="organization", status=status)
        async with client_for(emulator.url) as client:
            exc = await failure(client.organization.retrieve())
        assert isinstance(exc, cls)
        assert_no_key(exc)

    async def test_authentication_error(self) -> None:
        """A 401 for a wrong key does not quote the key that was sent."""
        async with Emulator(api_key="key_" + "0" * 64) as emu, client_for(emu.url) as client:
            exc = await failure(client.organization.retrieve())
        assert isinstance(exc, AuthenticationError)
        assert_no_key(exc)

    async def test_validation_error_of_a_reply(self, emulator: Emulator) -> None:
        """A reply that is not a task gives a ResponseValidationError without the key."""
        async with client_for(emulator.url) as client:
            handle = await client.text_to_image.create(**IMAGE_PARAMS)
            emulator.faults.inject("not_json", route="tasks")
            exc = await failure(client.tasks.retrieve(handle.id))
        assert isinstance(exc, ResponseValidationError)
        assert_no_key(exc)

    async def test_cancelled_request(self, emulator: Emulator) -> None:
        """A request cancelled by the caller's own timeout leaves no aiohttp frame behind."""
        emulator.faults.inject("hold_after", route="organization")
        async with client_for(emulator.url, timeout=30) as client:
            exc = await failure(asyncio.wait_for(client.organization.retrieve(), 0.05))
        assert isinstance(exc, asyncio.TimeoutError)  # the builtin TimeoutError from 3.11 on
        assert isinstance(exc.__context__, asyncio.CancelledError)
        assert_no_key(exc)

    @pytest.mark.parametrize("kind", ["drop_before", "latency", "truncated"])
    async def test_fault_under_the_pure_python_task(self, emulator: Emulator, kind: str) -> None:
        """Under the pure-Python ``asyncio.Task`` too (pytest-asyncio's on Python 3.10).

        That task resumes a coroutine from inside an ``except`` block, so the exception that
        woke it (a timeout's ``CancelledError``, aiohttp's own error) becomes the context of
        every error raised in that step; its traceback runs through aiohttp's frames.
        """
        options, create_error, read_error = FAULTS[kind]
        timeout = timeout_for(kind)
        async with client_for(emulator.url, max_response_bytes=4096, timeout=timeout) as client:
            handle = await client.text_to_image.create(**IMAGE_PARAMS)
            emulator.faults.inject(kind, route="tasks", count=2, **options)
            exc = await asyncio.tasks._PyTask(failure(client.tasks.retrieve(handle.id)))
            assert isinstance(exc, read_error)
            assert_no_key(exc)
            emulator.faults.inject(kind, **options)
            exc = await asyncio.tasks._PyTask(failure(client.text_to_image.create(**IMAGE_PARAMS)))
            assert isinstance(exc, create_error)
            assert_no_key(exc)

    async def test_connection_refused_under_the_pure_python_task(self) -> None:
        """A refused connection under the pure-Python task: its OSError keeps no frames."""
        async with client_for(f"http://127.0.0.1:{closed_port()}") as client:
            exc = await asyncio.tasks._PyTask(failure(client.organization.retrieve()))
        assert isinstance(exc, APIConnectionError)
        assert_no_key(exc)

    async def test_waiting_for_a_task_whose_polls_fail(self, emulator: Emulator) -> None:
        """Errors of the watcher's polls, re-raised to a waiter, carry no key either."""
        async with client_for(emulator.url) as client:
            handle = await client.text_to_image.create(**IMAGE_PARAMS)
            emulator.faults.inject("not_json", route="tasks", count=50)
            exc = await failure(client.tasks.wait(handle.id, timeout=5))
        assert isinstance(exc, APIError)
        assert_no_key(exc)

    async def test_download_connection_error(self, tmp_path: Path) -> None:
        """A failed download leaves no aiohttp frame behind, and its URL's query is not quoted."""
        url = f"http://127.0.0.1:{closed_port()}/out.png?signature=SIGNATURE42"
        async with client_for("http://127.0.0.1:1", max_retries=0) as client:
            exc = await failure(client.download(url, tmp_path))
        assert isinstance(exc, APIConnectionError)
        assert exc.cause is not None
        assert_no_key(exc)
        for each in exception_chain(exc):
            assert "SIGNATURE42" not in repr(each)
            assert all("SIGNATURE42" not in repr(value) for value in vars(each).values())

    async def test_download_broken_mid_body(self, tmp_path: Path) -> None:
        """A download cut mid-body leaves no aiohttp frame behind, nor its URL's query."""
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/out.png", half_then_drop(b"x" * 100000))
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/out.png?signature=SIGNATURE42"
        try:
            async with client_for("http://127.0.0.1:1", max_retries=0) as client:
                exc = await failure(client.download(url, tmp_path))
        finally:
            await runner.cleanup()
        assert isinstance(exc, APIConnectionError)
        assert exc.sent is True
        assert_no_key(exc)
        for each in exception_chain(exc):
            assert "SIGNATURE42" not in repr(each)
            assert all("SIGNATURE42" not in repr(value) for value in vars(each).values())

    def test_sync_client_error(self) -> None:
        """An error of the sync client, raised in the caller's thread, carries no key either."""
        with runway_async.Runway(
            SECRET_KEY, base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0
        ) as client:
            try:
                client.tasks.retrieve("t-1")
            except APIConnectionError as exc:
                error: BaseException = exc
            else:
                raise AssertionError("the call did not fail")
        assert_no_key(error)

    async def test_cause_text_is_scrubbed(self) -> None:
        """The cause text drops the key, bearer tokens and URL queries, and is bounded."""
        from runway_async._http import scrub

        text = scrub(
            f"x {SECRET_KEY} Authorization: Bearer abc.def https://h/p?sig={MARK} " + "y" * 900,
            SECRET_KEY,
        )
        assert MARK not in text
        assert "abc.def" not in text
        assert "https://h/p" in text
        assert len(text) <= 303


class TestKeyNeverInConstructorErrors:
    """A constructor refusing an argument keeps the key out of its frames' locals."""

    @pytest.mark.parametrize(
        "options",
        [
            {"slot_timeout": -1},
            {"timeout": float("nan")},
            {"max_concurrency": 0},
            {"max_response_bytes": -1},
            {"base_url": "http://example.com"},
        ],
    )
    def test_bad_argument(self, options: dict[str, Any]) -> None:
        """The error of a bad argument, printed with its locals, shows no key."""
        with pytest.raises((ValueError, TypeError, runway_async.RunwayError)) as caught:
            AsyncRunway(SECRET_KEY, **options)
        assert_no_key(caught.value)

    @pytest.mark.parametrize("options", [{"slot_timeout": -1}, {"max_concurrency": 0}])
    def test_bad_argument_of_the_sync_client(self, options: dict[str, Any]) -> None:
        """The sync constructor's error, printed with its locals, shows no key either."""
        with pytest.raises((ValueError, TypeError, runway_async.RunwayError)) as caught:
            runway_async.Runway(SECRET_KEY, **options)
        assert_no_key(caught.value)
