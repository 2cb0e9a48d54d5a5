"""The thread mode: an emulator usable from plain synchronous code."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from runway_async.emulator import Emulator

from .conftest import HEADERS, IMAGE_BODY


def request(
    url: str, method: str = "GET", body: object = None, timeout: float = 5.0
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(  # noqa: S310 - a loopback http URL built by the test
        url, data=data, method=method, headers={**HEADERS, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


class TestThreadMode:
    def test_sync_code_can_create_and_read_tasks(self) -> None:
        """Inside ``with emu.in_thread()`` sync code creates and reads tasks over HTTP."""
        with Emulator(time_scale=0.002, seed=1).in_thread() as emu:
            status, created = request(emu.url + "/v1/text_to_image", "POST", IMAGE_BODY)
            assert status == 200
            status, task = request(f"{emu.url}/v1/tasks/{created['id']}")
            assert status == 200
            assert task["id"] == created["id"]
            assert emu.metrics()["tasks_created_total"] == 1
            emu.faults.inject("error_before")
            assert request(emu.url + "/v1/text_to_image", "POST", IMAGE_BODY)[0] == 503
            emu.reset()
            assert request(f"{emu.url}/v1/tasks/{created['id']}")[0] == 404
            url = emu.url
        assert not emu.running
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url + "/_emulator/metrics", timeout=1)  # noqa: S310

    def test_held_reply_does_not_block_exit(self) -> None:
        """Leaving the block releases a reply held forever, so the thread ends."""
        with Emulator().in_thread() as emu:
            emu.faults.inject("hold_after")
            with pytest.raises(TimeoutError):
                request(emu.url + "/v1/text_to_image", "POST", IMAGE_BODY, timeout=0.2)
        assert not emu.running

    def test_env_points_sdks_at_the_emulator(self) -> None:
        """env() gives the base URL and an accepted key."""
        with Emulator(api_key="key_x").in_thread() as emu:
            assert emu.env() == {"RUNWAYML_BASE_URL": emu.url, "RUNWAYML_API_SECRET": "key_x"}
