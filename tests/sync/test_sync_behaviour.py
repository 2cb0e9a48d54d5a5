"""The sync client against the emulator: the async behaviours, from plain threads."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runway_async import (
    InvalidRequestError,
    Job,
    NotFoundError,
    Runway,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    _sync,
)
from runway_async._spec import ENDPOINTS
from runway_async.emulator import Emulator

from ..conftest import endpoint_method
from ..emulator.test_every_endpoint import VARIANTS
from ..engine.conftest import IMAGE, TIME_SCALE, fast_poll, image, new_key
from ..test_spec import minimal_params
from .conftest import SyncEmulatorFactory

ClientFactory = Callable[..., Runway]


class TestCreateAndWait:
    def test_create_then_wait_returns_the_sync_twins(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """create() gives a handle at once; waiting gives a SucceededTask twin with outputs."""
        client = make_client(emulator)
        handle = client.text_to_image.create(**IMAGE)
        assert isinstance(handle, _sync.TaskHandle)
        assert handle.endpoint == "text_to_image"
        assert handle.model == "gen4_image"
        done = handle.wait_for_task_output(timeout=30)
        assert isinstance(done, _sync.SucceededTask)
        assert done.id == handle.id
        assert done.output

    def test_a_retrieved_task_waits_synchronously(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """tasks.retrieve() returns a task whose wait_for_task_output() blocks, not a coroutine."""
        client = make_client(emulator)
        handle = client.text_to_image.create(**IMAGE)
        task = client.tasks.retrieve(handle.id)
        assert isinstance(task, _sync.Task)
        done = task.wait_for_task_output(timeout=30)
        assert done.status == "SUCCEEDED"
        assert client.tasks.wait(handle.id, timeout=30) == done

    def test_events_are_a_plain_iterator(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """handle.events() iterates without await and ends with the terminal event."""
        client = make_client(emulator)
        handle = client.text_to_image.create(**IMAGE)
        kinds = [event.kind for event in handle.events()]
        assert kinds[0] == "submitted"
        assert kinds[-1] == "succeeded"

    def test_organization_and_request(self, emulator: Emulator, make_client: ClientFactory) -> None:
        """organization.retrieve() and the raw request() escape hatch block and return data."""
        client = make_client(emulator)
        organization = client.organization.retrieve()
        assert organization.tier.models["gen4_image"].max_concurrent_generations == 5
        raw = client.request("GET", "/v1/organization")
        assert raw["creditBalance"] == organization.credit_balance


class TestFailures:
    def test_failed_task_raises_the_async_error_class(
        self, start_emulator: SyncEmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A FAILED task raises TaskFailedError, the very class the async client raises."""
        with start_emulator(failure_rate=1.0) as emu:
            client = make_client(emu)
            with pytest.raises(TaskFailedError) as info:
                client.text_to_image.create(**IMAGE).wait_for_task_output(timeout=30)
        assert info.value.failure_code

    def test_invalid_parameters_fail_before_sending(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """Validation errors name the field; nothing reaches the server."""
        client = make_client(emulator)
        with pytest.raises(InvalidRequestError) as info:
            client.text_to_image.create(model="gen4_image", prompt_text="x", ratio="1:3")
        assert info.value.field == "ratio"
        assert emulator.metrics()["tasks_created_total"] == 0

    def test_unknown_task_is_not_found(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """A 404 is NotFoundError, as with the async client."""
        client = make_client(emulator)
        with pytest.raises(NotFoundError):
            client.tasks.retrieve("00000000-0000-0000-0000-000000000000")

    def test_cancel_ends_the_wait(
        self, start_emulator: SyncEmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Cancelling a running task makes its waiter raise TaskCancelledError."""
        with start_emulator(durations={"image": 10_000.0}) as emu:
            client = make_client(emu)
            handle = client.text_to_image.create(**IMAGE)
            handle.cancel()
            with pytest.raises(TaskCancelledError):
                handle.wait_for_task_output(timeout=30)

    def test_wait_deadline(
        self, start_emulator: SyncEmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A wait past its deadline raises TaskTimeoutError carrying the last task seen."""
        with start_emulator(durations={"image": 10_000.0}) as emu:
            client = make_client(emu)
            handle = client.text_to_image.create(**IMAGE)
            with pytest.raises(TaskTimeoutError) as info:
                handle.wait_for_task_output(timeout=0.05)
            handle.cancel()
        assert info.value.task_details is not None


class TestBatchAndDownload:
    def test_batch_iterates_and_downloads(
        self, emulator: Emulator, make_client: ClientFactory, tmp_path: Path
    ) -> None:
        """A sync batch yields each result as a plain iterator and downloads the outputs."""
        client = make_client(emulator)
        jobs = [Job("text_to_image", image(n), key=f"job-{n}") for n in range(6)]
        jobs.append(Job("text_to_image", {**IMAGE, "ratio": "1:3"}, key="bad"))
        results = list(client.batch(jobs, download_to=tmp_path))
        by_key = {result.key: result for result in results}
        assert len(results) == 7
        assert not by_key["bad"].ok
        assert isinstance(by_key["bad"].error, InvalidRequestError)
        files = [f for r in results if r.ok for f in r.files]
        assert len(files) == 6
        assert all(f.path.parent == tmp_path and f.path.is_file() for f in files)

    def test_batch_gather_and_context_manager(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """`with client.batch(...) as batch: batch.gather()` returns results in input order."""
        client = make_client(emulator)
        jobs = [Job("text_to_image", image(n)) for n in range(4)]
        with client.batch(jobs) as batch:
            results = batch.gather()
        assert [r.index for r in results] == [0, 1, 2, 3]
        assert all(r.ok for r in results)
        assert batch.done

    def test_download_takes_a_sync_handle(
        self, emulator: Emulator, make_client: ClientFactory, tmp_path: Path
    ) -> None:
        """client.download(handle, dir) and handle.download(dir) write the verified files."""
        client = make_client(emulator)
        handle = client.text_to_image.create(**IMAGE)
        handle.wait_for_task_output(timeout=30)
        [first] = client.download(handle, tmp_path / "a")
        [second] = handle.download(tmp_path / "b")
        assert first.sha256 == second.sha256
        assert first.path.read_bytes() == second.path.read_bytes()


class TestThreads:
    def test_the_limiter_holds_under_many_threads(
        self, start_emulator: SyncEmulatorFactory, make_client: ClientFactory
    ) -> None:
        """24 threads sharing one client at org concurrency 3: never more than 3, no THROTTLED."""
        with start_emulator(concurrency=3) as emu:
            client = make_client(emu)
            errors: list[BaseException] = []
            statuses: list[str] = []

            def work(n: int) -> None:
                try:
                    task = client.text_to_image.create(**image(n)).wait_for_task_output(timeout=60)
                    statuses.append(task.status)
                except BaseException as exc:  # reported below
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(n,)) for n in range(24)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            metrics = emu.metrics()
        assert errors == []
        assert statuses == ["SUCCEEDED"] * 24
        assert metrics["max_running"]["gen4_image"] <= 3
        assert metrics["throttled_seconds"]["total"] == 0

    def test_works_from_a_thread_running_an_event_loop(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """Called inside a running loop (a notebook cell), it neither fails nor deadlocks."""
        client = make_client(emulator)

        async def cell() -> str:
            return client.text_to_image.create(**IMAGE).wait_for_task_output(timeout=30).status

        assert asyncio.run(cell()) == "SUCCEEDED"

    def test_a_call_from_its_own_loop_is_refused(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """A sync call from inside the client's loop (an on_event callback) fails clearly."""
        seen: list[BaseException] = []

        def on_event(_event: Any) -> None:
            try:
                client.organization.retrieve()
            except RuntimeError as exc:
                seen.append(exc)

        client = make_client(emulator, on_event=on_event)
        client.text_to_image.create(**IMAGE).wait_for_task_output(timeout=30)
        assert seen
        assert "use the async client" in str(seen[0])

    def test_with_options_shares_the_thread_and_close_stops_it(
        self, emulator: Emulator, make_client: ClientFactory
    ) -> None:
        """A copy works through the same loop thread; closing the client stops that thread."""
        client = make_client(emulator)
        copy = client.with_options(timeout=5.0)
        assert isinstance(copy, Runway)
        assert repr(copy).startswith("<Runway base_url=")
        assert copy.organization.retrieve().credit_balance > 0
        copy.close()  # not the owner: a no-op
        assert client.organization.retrieve().credit_balance > 0
        thread = client._portal._thread
        assert thread is not None
        assert thread.is_alive()
        assert copy._portal is client._portal
        client.close()
        assert client.is_closed
        assert not thread.is_alive()

    def test_a_dropped_client_closes_itself(self, emulator: Emulator) -> None:
        """A client never closed (as in scripts) closes its session and thread when dropped."""
        client = Runway("key", base_url=emulator.url, poll=fast_poll())
        client.text_to_image.create(**IMAGE).wait_for_task_output(timeout=30)
        thread = client._portal._thread
        assert thread is not None
        assert thread.is_alive()
        del client
        gc.collect()  # an unclosed session would fail the test (warnings are errors)
        thread.join(timeout=10)
        assert not thread.is_alive()

    def test_context_manager_closes(self, emulator: Emulator) -> None:
        """`with Runway(...) as client` closes it on exit."""
        with Runway("key", base_url=emulator.url) as client:
            client.organization.retrieve()
        assert client.is_closed

    def test_ctrl_c_cancels_the_call_and_the_client_still_works(
        self, start_emulator: SyncEmulatorFactory, make_client: ClientFactory
    ) -> None:
        """KeyboardInterrupt while waiting ends the wait; later calls work."""
        if threading.current_thread() is not threading.main_thread() or os.name != "posix":
            pytest.skip("needs POSIX signals and the test in the main thread")
        with start_emulator(durations={"image": 10_000.0}) as emu:
            client = make_client(emu)
            handle = client.text_to_image.create(**IMAGE)
            main = threading.main_thread().ident
            assert main is not None
            # A real SIGINT to the main thread, as Ctrl-C sends (interrupt_main only
            # simulates one, which a blocked wait does not notice).
            timer = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT))
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                handle.wait_for_task_output(timeout=30)
            timer.join()
            handle.cancel()
            assert client.tasks.retrieve(handle.id).status == "CANCELLED"

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
    def test_works_in_a_forked_child(self, emulator: Emulator, make_client: ClientFactory) -> None:
        """After os.fork() the child gets a new loop thread and session of its own."""
        client = make_client(emulator)
        client.organization.retrieve()  # the parent's thread and session are up
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a threaded process may deadlock; we test that
            # it does not.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: report by exit status only
            code = 1
            try:
                done = client.text_to_image.create(**IMAGE).wait_for_task_output(timeout=30)
                code = 0 if done.status == "SUCCEEDED" else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert client.organization.retrieve().credit_balance > 0  # the parent is unaffected


@pytest.fixture(scope="module")
def unlimited_emulator() -> Iterator[Emulator]:
    """One emulator for the module with no per-model limits in the way."""
    emulator = Emulator(time_scale=TIME_SCALE, seed=3, concurrency=None, daily_limit=None)
    with emulator.in_thread() as emu:
        yield emu


@pytest.fixture(scope="module")
def shared_client(unlimited_emulator: Emulator) -> Iterator[Runway]:
    """One sync client for the module."""
    with Runway(new_key(), base_url=unlimited_emulator.url, poll=fast_poll()) as client:
        yield client


@pytest.mark.parametrize(("endpoint", "value"), VARIANTS)
def test_every_endpoint_and_model_through_the_sync_twins(
    shared_client: Runway, endpoint: str, value: str | None
) -> None:
    """Each generated sync create method sends its parameters and its task succeeds."""
    spec = ENDPOINTS[endpoint]
    params = minimal_params(spec, spec.variant_for(value))
    handle = endpoint_method(shared_client, endpoint)(**params)
    assert isinstance(handle, _sync.TaskHandle)
    assert handle.endpoint == endpoint
    assert handle.wait_for_task_output(timeout=30).output
