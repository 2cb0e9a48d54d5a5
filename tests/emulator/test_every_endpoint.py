"""Conformance: every task-creating endpoint and model, through the official SDK and ours.

Each (endpoint, model) gets the smallest valid body the spec allows; both clients must
create a task on the emulator and see it through to SUCCEEDED, and an invalid body must come
back as a 400 that each client maps to its BadRequestError.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from runway_async import (
    AsyncRunway,
    BadRequestError,
    InvalidRequestError,
    PollConfig,
    SucceededTask,
)
from runway_async._spec import ENDPOINTS
from runway_async.emulator import Emulator

from ..conftest import API_KEY, endpoint_method
from ..test_spec import minimal_params
from .conftest import TIME_SCALE


def current_variants() -> Iterator[Any]:
    for name, endpoint in ENDPOINTS.items():
        for variant in endpoint.variants:
            if not variant.legacy:
                yield pytest.param(name, variant.value, id=f"{name}:{variant.value or '-'}")


VARIANTS = list(current_variants())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_emulator() -> AsyncIterator[Emulator]:
    """One fast emulator for the whole module, with no per-model limits in the way."""
    async with Emulator(time_scale=TIME_SCALE, seed=3, concurrency=None, daily_limit=None) as emu:
        yield emu


@pytest.mark.asyncio(loop_scope="module")
class TestOurClient:
    """Our client against the emulator."""

    @pytest.mark.parametrize(("endpoint", "value"), VARIANTS)
    async def test_create_and_wait(
        self, shared_emulator: Emulator, endpoint: str, value: str | None
    ) -> None:
        """Each endpoint and model creates a task that ends SUCCEEDED with an output URL."""
        spec = ENDPOINTS[endpoint]
        params = minimal_params(spec, spec.variant_for(value))
        async with AsyncRunway(API_KEY, base_url=shared_emulator.url) as client:
            fast = client.with_options(poll=PollConfig(interval=0.01))
            handle = await endpoint_method(fast, endpoint)(**params)
            done = await handle.wait_for_task_output(timeout=30)
        assert isinstance(done, SucceededTask)
        assert done.output[0].startswith(shared_emulator.url)

    async def test_server_side_rejection_is_bad_request(self, shared_emulator: Emulator) -> None:
        """A body our validator would catch is rejected by the emulator too, as a 400."""
        async with AsyncRunway(API_KEY, base_url=shared_emulator.url) as client:
            with pytest.raises(InvalidRequestError):
                await client.text_to_image.create(
                    model="gen4_image",
                    prompt_text="x",
                    ratio="1:1",  # type: ignore[arg-type]
                )
            with pytest.raises(BadRequestError) as info:
                await client.request(
                    "POST", "/v1/text_to_image", json={"model": "gen4_image", "ratio": "1:1"}
                )
        assert info.value.issues


@pytest.mark.asyncio(loop_scope="module")
class TestOfficialClient:
    """The official runwayml SDK against the emulator (a test-only dependency)."""

    @pytest.mark.parametrize(("endpoint", "value"), VARIANTS)
    async def test_create_and_retrieve(
        self, shared_emulator: Emulator, endpoint: str, value: str | None
    ) -> None:
        """The official SDK creates a task on each endpoint and model and reads it back."""
        runwayml = pytest.importorskip("runwayml")
        spec = ENDPOINTS[endpoint]
        params = minimal_params(spec, spec.variant_for(value))
        async with runwayml.AsyncRunwayML(api_key=API_KEY, base_url=shared_emulator.url) as client:
            created = await endpoint_method(client, endpoint)(**params)
            task = await client.tasks.retrieve(created.id)
        assert task.id == created.id

    async def test_invalid_body_is_bad_request(self, shared_emulator: Emulator) -> None:
        """An invalid body is a 400 the official SDK maps to its BadRequestError."""
        runwayml = pytest.importorskip("runwayml")
        async with runwayml.AsyncRunwayML(api_key=API_KEY, base_url=shared_emulator.url) as client:
            with pytest.raises(runwayml.BadRequestError):
                await client.text_to_image.create(model="gen4_image", prompt_text="x", ratio="1:1")
