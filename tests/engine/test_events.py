"""Progress events: per task, per client, as a callback, and for slow consumers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from runway_async import NotFoundError, TaskEvent
from runway_async._events import EventBuffer

from .conftest import ClientFactory, EmulatorFactory, image

ORDER = {"submitted": 0, "throttled": 1, "running": 2, "succeeded": 3, "failed": 3, "cancelled": 3}


def assert_well_ordered(events: list[TaskEvent]) -> None:
    """Check one task's stream: ordered kinds, rising progress, one terminal event, last."""
    ranks = [ORDER[e.kind] for e in events]
    assert ranks == sorted(ranks), [e.kind for e in events]
    assert [e.is_terminal for e in events].count(True) == 1
    assert events[-1].is_terminal
    progress = [e.progress for e in events if e.kind == "running" and e.progress is not None]
    assert progress == sorted(progress)


def event(kind: str, n: int = 0) -> TaskEvent:
    """Return a bare event of ``kind``."""
    return TaskEvent(kind=kind, task_id=f"t{n}", at=datetime.now(timezone.utc))  # type: ignore[arg-type]


class TestTaskStream:
    """``handle.events()``: one task, until its end."""

    async def test_events_stream_in_order_and_end_with_a_terminal_one(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A task's stream starts at submission, reports progress and ends when it ends."""
        async with start_emulator(durations={"image": 40.0}) as emu, make_client(emu) as client:
            handle = await client.text_to_image.create(**image(0))
            events = [e async for e in handle.events()]
        assert events[0].kind == "submitted"
        assert events[-1].kind == "succeeded"
        assert events[-1].progress == 1.0
        assert any(e.kind == "running" for e in events)
        assert {e.task_id for e in events} == {handle.id}
        assert all(e.model == "gen4_image" for e in events)
        assert_well_ordered(events)

    async def test_throttled_then_running(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A task queued by the server reports throttled before running."""
        async with (
            start_emulator(concurrency=1, durations={"image": 10.0}) as emu,
            make_client(emu, max_concurrency=None) as client,
        ):
            await client.text_to_image.create(**image(0))
            second = await client.text_to_image.create(**image(1))
            kinds = [e.kind async for e in second.events()]
        assert kinds[:2] == ["submitted", "throttled"]
        assert kinds[-1] == "succeeded"

    async def test_failed_task_ends_with_failed(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """A task that fails ends its stream with a failed event carrying the task."""
        async with start_emulator(failure_rate=1.0) as emu, make_client(emu) as client:
            handle = await client.text_to_image.create(**image(0))
            events = [e async for e in handle.events()]
        assert events[-1].kind == "failed"
        assert events[-1].task is not None
        assert events[-1].task.status == "FAILED"

    async def test_stream_of_an_ended_task_is_its_end(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Asking for the events of a task that already ended yields just its end."""
        async with start_emulator() as emu, make_client(emu) as client:
            handle = await client.text_to_image.create(**image(0))
            await handle.wait_for_task_output(timeout=30)
            kinds = [e.kind async for e in handle.events()]
        assert kinds == ["succeeded"]

    async def test_unknown_task_stream_raises(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """Following a task that does not exist raises NotFoundError."""
        async with start_emulator() as emu, make_client(emu) as client:
            try:
                async for _ in client.tasks.events("no-such-task"):
                    pass
            except NotFoundError:
                pass
            else:
                raise AssertionError("expected NotFoundError")


class TestClientStream:
    """Every task of a client: the callback and ``client.tasks.events()``."""

    async def test_callback_sees_every_task_from_submission_to_end(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """on_event receives each task's events in order, even for tasks nobody waits for."""
        seen: list[TaskEvent] = []
        ended = asyncio.Event()

        def record(e: TaskEvent) -> None:
            seen.append(e)
            if sum(x.is_terminal for x in seen) == 6:
                ended.set()

        async with (
            start_emulator(concurrency=2, durations={"image": 10.0}) as emu,
            make_client(emu, on_event=record) as client,
        ):
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(6))
            )
            ids = {h.id for h in handles}
            # Nobody waits on the tasks: the callback alone makes the watcher follow them.
            await asyncio.wait_for(ended.wait(), 30)
        assert {e.task_id for e in seen} == ids
        for task_id in ids:
            assert_well_ordered([e for e in seen if e.task_id == task_id])
            assert next(e for e in seen if e.task_id == task_id).kind == "submitted"

    async def test_client_stream_covers_all_tasks(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """client.tasks.events() yields the events of every task the client creates."""
        async with start_emulator(concurrency=3) as emu, make_client(emu) as client:
            collected: list[TaskEvent] = []

            async def listen() -> None:
                async for e in client.tasks.events():
                    collected.append(e)
                    if sum(x.is_terminal for x in collected) == 5:
                        return

            listener = asyncio.ensure_future(listen())
            await asyncio.sleep(0)
            handles = await asyncio.gather(
                *(client.text_to_image.create(**image(n)) for n in range(5))
            )
            await asyncio.wait_for(listener, 30)
        assert {e.task_id for e in collected} == {h.id for h in handles}
        for handle in handles:
            assert_well_ordered([e for e in collected if e.task_id == handle.id])

    async def test_a_bad_callback_does_not_stop_polling(
        self, start_emulator: EmulatorFactory, make_client: ClientFactory
    ) -> None:
        """An exception in on_event is logged and the wait still completes."""

        def explode(_event: TaskEvent) -> None:
            raise ValueError("boom")

        async with start_emulator() as emu, make_client(emu, on_event=explode) as client:
            handle = await client.text_to_image.create(**image(0))
            done = await handle.wait_for_task_output(timeout=30)
        assert done.id == handle.id


class TestSlowConsumers:
    """Bounded buffers drop progress, never ends."""

    async def test_progress_is_dropped_before_anything_else(self) -> None:
        """A full buffer drops its oldest running event first, then submitted/throttled."""
        buffer = EventBuffer(3)
        for kind in ("submitted", "running", "running", "running", "throttled"):
            buffer.put(event(kind))
        kinds = [buffer._items[i].kind for i in range(len(buffer))]
        assert kinds == ["submitted", "running", "throttled"]
        assert buffer.dropped == 2

    async def test_terminal_events_are_never_dropped(self) -> None:
        """Terminal events stay even past the bound; other events are dropped for them."""
        buffer = EventBuffer(2)
        for n in range(5):
            buffer.put(event("succeeded", n))
        buffer.put(event("running", 9))
        buffer.close()
        got = []
        while (item := await buffer.get()) is not None:
            got.append(item)
        assert [e.task_id for e in got] == ["t0", "t1", "t2", "t3", "t4"]
        assert buffer.dropped == 1
