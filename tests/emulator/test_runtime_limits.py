"""Per-model limits changed while the emulator runs: ``set_limits`` and ``POST /_emulator/limits``.

Simulated time moves only when a test ticks its ``FakeClock``; requests go over loopback.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from runway_async import AsyncRunway
from runway_async.emulator import Emulator, EmulatorConfig

from ..conftest import API_KEY
from .conftest import HEADERS, IMAGE_BODY, FakeClock

MODEL = "gen4_image"
OTHER = "gen4_turbo"
# Images run 10 API s after 1 API s PENDING, exactly (no jitter).
RUN = 10.0
PENDING = 1.0


class Raw:
    """Raw JSON requests to one emulator."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, self.url + path, json=body, headers=HEADERS) as resp:
            return resp.status, await resp.json()

    async def send(self, path: str, data: bytes) -> tuple[int, Any]:
        """POST ``data`` as it is (not necessarily JSON)."""
        async with self.http.post(self.url + path, data=data, headers=HEADERS) as resp:
            return resp.status, await resp.json()

    async def create(self) -> str:
        status, body = await self("POST", "/v1/text_to_image", IMAGE_BODY)
        assert status == 200, body
        return str(body["id"])

    async def statuses(self, ids: list[str]) -> list[str]:
        return [(await self("GET", f"/v1/tasks/{task_id}"))[1]["status"] for task_id in ids]

    async def tier(self, model: str = MODEL) -> dict[str, Any]:
        status, org = await self("GET", "/v1/organization")
        assert status == 200, org
        return dict(org["tier"]["models"][model])


@pytest_asyncio.fixture
async def stepped() -> AsyncIterator[tuple[Emulator, FakeClock, Raw]]:
    """Start an emulator (concurrency 2, daily limit 10) whose time moves by hand."""
    clock = FakeClock()
    config = EmulatorConfig(
        concurrency=2,
        daily_limit=10,
        jitter=0.0,
        pending_seconds=PENDING,
        durations={"image": RUN},
        seed=4,
    )
    emulator = Emulator.from_config(config, clock=clock)
    async with emulator, aiohttp.ClientSession() as http:
        yield emulator, clock, Raw(http, emulator.url)


class TestSetLimits:
    async def test_organization_shows_new_limits_at_once(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """GET /v1/organization reports the new limits of that model only, without time passing."""
        emulator, _, raw = stepped
        assert await raw.tier() == {"maxConcurrentGenerations": 2, "maxDailyGenerations": 10}
        emulator.set_limits(MODEL, max_concurrent_generations=3, daily_limit=7)
        assert await raw.tier() == {"maxConcurrentGenerations": 3, "maxDailyGenerations": 7}
        assert await raw.tier(OTHER) == {"maxConcurrentGenerations": 2, "maxDailyGenerations": 10}
        emulator.set_limits(MODEL, daily_limit=None)  # the cap left out stays
        assert await raw.tier() == {"maxConcurrentGenerations": 3, "maxDailyGenerations": None}

    async def test_our_client_reads_the_new_limits(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """The client's organization view shows a limit changed after it first looked."""
        emulator, _, _ = stepped
        async with AsyncRunway(API_KEY, base_url=emulator.url, timeout=5.0) as client:
            assert (await client.organization.retrieve()).max_concurrency(MODEL) == 2
            emulator.set_limits(MODEL, max_concurrent_generations=1)
            assert (await client.organization.retrieve()).max_concurrency(MODEL) == 1

    async def test_lower_cap_lets_running_tasks_run_and_throttles_new_ones(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """Under a lower cap both RUNNING tasks finish; a new one waits until fewer than 1 run."""
        emulator, clock, raw = stepped
        first = await raw.create()
        clock.tick(3.0)
        second = await raw.create()
        clock.tick(PENDING)  # t=4: both RUNNING
        assert await raw.statuses([first, second]) == ["RUNNING", "RUNNING"]
        emulator.set_limits(MODEL, max_concurrent_generations=1)
        third = await raw.create()
        assert await raw.statuses([first, second, third]) == ["RUNNING", "RUNNING", "THROTTLED"]
        clock.tick(7.5)  # t=11.5: the first ended at 11, the second still holds the only slot
        assert await raw.statuses([first, second, third]) == ["SUCCEEDED", "RUNNING", "THROTTLED"]
        clock.tick(3.0)  # t=14.5: the second ended at 14; the third got the slot then
        assert await raw.statuses([second, third]) == ["SUCCEEDED", "PENDING"]
        clock.tick(PENDING)
        assert await raw.statuses([third]) == ["RUNNING"]
        metrics = emulator.metrics()
        assert metrics["max_running"] == {MODEL: 2}
        assert metrics["throttled_seconds"]["models"][MODEL] == pytest.approx(14.0 - 4.0)

    async def test_higher_cap_starts_throttled_tasks_at_once(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """Raising the cap admits THROTTLED tasks at that instant, oldest first."""
        emulator, clock, raw = stepped
        ids = [await raw.create() for _ in range(5)]
        clock.tick(2.0)
        assert await raw.statuses(ids) == ["RUNNING"] * 2 + ["THROTTLED"] * 3
        emulator.set_limits(MODEL, max_concurrent_generations=4)
        assert await raw.statuses(ids) == ["RUNNING"] * 2 + ["PENDING"] * 2 + ["THROTTLED"]
        clock.tick(PENDING)
        assert await raw.statuses(ids) == ["RUNNING"] * 4 + ["THROTTLED"]
        metrics = emulator.metrics()
        assert metrics["running"] == {MODEL: 4}
        # Two waited 2 s; the last is still waiting (3 s so far).
        assert metrics["throttled_seconds"]["models"][MODEL] == pytest.approx(2 * 2.0 + 3.0)

    async def test_unlimited_cap_admits_every_waiting_task(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """A cap of None admits the whole queue."""
        emulator, _, raw = stepped
        ids = [await raw.create() for _ in range(4)]
        emulator.set_limits(MODEL, max_concurrent_generations=None)
        assert await raw.statuses(ids) == ["PENDING"] * 4
        assert (await raw.tier())["maxConcurrentGenerations"] is None

    async def test_lower_daily_limit_makes_further_creates_429(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """A daily limit at the day's count refuses the next create; raising it allows it."""
        emulator, _, raw = stepped
        for _ in range(3):
            await raw.create()
        emulator.set_limits(MODEL, daily_limit=3)
        status, body = await raw("POST", "/v1/text_to_image", IMAGE_BODY)
        assert status == 429
        assert "3 per day" in body["error"]
        assert emulator.metrics()["tasks_created_total"] == 3
        emulator.set_limits(MODEL, daily_limit=4)
        await raw.create()
        assert (await raw("POST", "/v1/text_to_image", IMAGE_BODY))[0] == 429

    async def test_reset_restores_the_configured_limits(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """reset() drops limits set while running, so nothing leaks into the next test."""
        emulator, _, raw = stepped
        emulator.set_limits(MODEL, max_concurrent_generations=0, daily_limit=0)
        emulator.reset()
        assert await raw.tier() == {"maxConcurrentGenerations": 2, "maxDailyGenerations": 10}
        assert await raw.statuses([await raw.create()]) == ["PENDING"]

    async def test_accepted_model_can_be_limited(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """A model accepted with accept_model takes limits; before that it is unknown."""
        emulator, _, raw = stepped
        with pytest.raises(ValueError, match="'gen5' is not a model this emulator knows"):
            emulator.set_limits("gen5", max_concurrent_generations=1)
        emulator.accept_model("image_to_video", "gen5")
        emulator.set_limits("gen5", max_concurrent_generations=1)
        assert (await raw.tier("gen5"))["maxConcurrentGenerations"] == 1

    @pytest.mark.parametrize(
        ("model", "settings", "message"),
        [
            ("gen4_imag", {"daily_limit": 1}, "not a model this emulator knows"),
            (None, {"daily_limit": 1}, "not a model this emulator knows"),
            (MODEL, {}, "give max_concurrent_generations, daily_limit or both"),
            (MODEL, {"max_concurrent_generations": -1}, "max_concurrent_generations must be"),
            (MODEL, {"max_concurrent_generations": 1.5}, "max_concurrent_generations must be"),
            (MODEL, {"daily_limit": True}, "daily_limit must be an integer >= 0 or None"),
        ],
    )
    async def test_bad_arguments_raise_and_change_nothing(
        self,
        stepped: tuple[Emulator, FakeClock, Raw],
        model: Any,
        settings: dict[str, Any],
        message: str,
    ) -> None:
        """An unknown model, no limit or a bad value is a ValueError; the limits stay."""
        emulator, _, raw = stepped
        with pytest.raises(ValueError, match=message):
            emulator.set_limits(model, **settings)
        assert await raw.tier() == {"maxConcurrentGenerations": 2, "maxDailyGenerations": 10}

    def test_spec_mock_has_no_limits_to_set(self) -> None:
        """A spec_mock emulator applies no limits, so setting one is refused."""
        with pytest.raises(ValueError, match="spec_mock emulator applies no limits"):
            Emulator(spec_mock=True).set_limits(MODEL, max_concurrent_generations=1)

    def test_from_an_emulator_in_a_thread(self) -> None:
        """set_limits works on the handle of Emulator.in_thread() from sync code."""
        with Emulator(concurrency=2).in_thread() as emulator:
            emulator.set_limits(MODEL, max_concurrent_generations=1, daily_limit=5)
            request = urllib.request.Request(  # noqa: S310 - a loopback URL of the test
                emulator.url + "/v1/organization", headers=HEADERS
            )
            with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310
                org = json.loads(reply.read())
        assert org["tier"]["models"][MODEL] == {
            "maxConcurrentGenerations": 1,
            "maxDailyGenerations": 5,
        }


class TestLimitsRoute:
    async def test_post_changes_limits(self, stepped: tuple[Emulator, FakeClock, Raw]) -> None:
        """POST /_emulator/limits sets the limits given and answers the model's limits now."""
        _, _, raw = stepped
        ids = [await raw.create() for _ in range(3)]
        status, reply = await raw(
            "POST", "/_emulator/limits", {"model": MODEL, "maxConcurrentGenerations": 3}
        )
        assert (status, reply) == (
            200,
            {"model": MODEL, "maxConcurrentGenerations": 3, "dailyLimit": 10},
        )
        assert await raw.statuses(ids) == ["PENDING"] * 3
        status, reply = await raw("POST", "/_emulator/limits", {"model": MODEL, "dailyLimit": None})
        assert (status, reply["dailyLimit"]) == (200, None)
        assert await raw.tier() == {"maxConcurrentGenerations": 3, "maxDailyGenerations": None}

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"not json", "must be valid JSON"),
            (b"[1]", "Expected {"),
            (b'{"maxConcurrentGenerations": 1}', "Expected {"),
            (b'{"model": "gen4_image"}', "Expected {"),
            (b'{"model": "gen4_image", "dailyLimit": 1, "limit": 2}', "Expected {"),
            (b'{"model": "gen4_imag", "dailyLimit": 1}', "not a model this emulator knows"),
            (b'{"model": ["gen4_image"], "dailyLimit": 1}', "not a model this emulator knows"),
            (b'{"model": "gen4_image", "maxConcurrentGenerations": -2}', "maxConcurrentGenerat"),
            (b'{"model": "gen4_image", "dailyLimit": "5"}', "dailyLimit must be an integer"),
            (b'{"model": "gen4_image", "dailyLimit": 5.0}', "dailyLimit must be an integer"),
        ],
    )
    async def test_bad_bodies_are_400_and_change_nothing(
        self, stepped: tuple[Emulator, FakeClock, Raw], body: bytes, message: str
    ) -> None:
        """A body that is not JSON, has the wrong members, model or values gets a clear 400."""
        _, _, raw = stepped
        status, reply = await raw.send("/_emulator/limits", body)
        assert status == 400
        assert message in reply["error"]
        assert await raw.tier() == {"maxConcurrentGenerations": 2, "maxDailyGenerations": 10}
