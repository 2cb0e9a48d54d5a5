"""The ``hold_body`` fault: headers and half a body, then the rest held back.

Routed to ``outputs`` it stalls a download mid-file, which is how the crash tests kill a
batch while it downloads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest

from runway_async import AsyncRunway
from runway_async.emulator import Emulator
from runway_async.emulator._media import MEDIA

from .conftest import HEADERS, IMAGE_BODY, IMAGE_PARAMS, TIME_SCALE

IMAGE = MEDIA["image"].data
OUTPUTS = "GET /_emulator/outputs/{task_id}/{name}"


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` (a polling step, not a timing assumption), bounded by 10 s."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.002)


async def output_url(client: AsyncRunway) -> str:
    handle = await client.text_to_image.create(**IMAGE_PARAMS)
    task = await handle.wait_for_task_output(timeout=10)
    return str(task.output[0])


async def read_exactly(resp: aiohttp.ClientResponse, count: int) -> bytes:
    received = b""
    while len(received) < count:
        chunk = await resp.content.read(count - len(received))
        assert chunk, "the body ended early"
        received += chunk
    return received


async def test_hold_body_stalls_a_download_until_the_client_leaves(
    emulator: Emulator, client: AsyncRunway, http: aiohttp.ClientSession
) -> None:
    """Headers with the whole Content-Length and half the file arrive, then nothing."""
    url = await output_url(client)
    emulator.faults.inject("hold_body", route="outputs")
    async with http.get(url) as resp:
        assert resp.status == 200
        assert resp.content_length == len(IMAGE)
        assert await read_exactly(resp, len(IMAGE) // 2) == IMAGE[: len(IMAGE) // 2]
        await until(lambda: emulator.metrics()["faults_holding"] == 1, "the hold")
        assert not resp.content.at_eof()
        resp.close()  # the client gives up: the hold ends
    await until(lambda: emulator.metrics()["faults_holding"] == 0, "the hold to end")
    assert emulator.metrics()["requests"][OUTPUTS] == {"dropped": 1}


async def test_hold_body_with_a_delay_sends_the_rest(
    emulator: Emulator, client: AsyncRunway, http: aiohttp.ClientSession
) -> None:
    """With a delay the whole file arrives; an unrouted fault never touches the outputs."""
    url = await output_url(client)
    emulator.faults.inject("drop_before")  # no route: for task-creating POSTs only
    emulator.faults.inject("hold_body", route="outputs", delay=0.01)
    async with http.get(url) as resp:
        assert resp.status == 200
        assert await resp.read() == IMAGE
    assert [fault.kind.value for fault, _count in emulator.faults.pending()] == ["drop_before"]
    assert emulator.metrics()["requests"][OUTPUTS] == {"200": 1}


async def test_hold_body_on_a_create_processes_it_and_ends_with_the_server(
    http: aiohttp.ClientSession,
) -> None:
    """A held create reply has created its task; stopping the server ends the hold."""
    async with Emulator(time_scale=TIME_SCALE) as emu:
        emu.faults.inject("hold_body")  # no route: the next task-creating POST
        resp = await http.post(f"{emu.url}/v1/text_to_image", json=IMAGE_BODY, headers=HEADERS)
        assert resp.status == 200
        assert resp.content_length is not None
        half = await read_exactly(resp, resp.content_length // 2)
        assert half.startswith(b'{"id"')
        await until(lambda: emu.metrics()["faults_holding"] == 1, "the hold")
        assert emu.metrics()["tasks_created_total"] == 1
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()  # cut short when the server stopped
    resp.release()
    outcomes = emu.metrics()["requests"]["POST /v1/text_to_image"]
    assert outcomes == {"dropped": 1}  # not "held": the handler ended by itself
    assert emu.metrics()["faults_holding"] == 0
