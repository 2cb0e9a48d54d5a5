"""Testing your own code against the local emulator, with runway_async's pytest fixtures.

The fixtures come with ``pip install runway-async``; these tests need pytest-asyncio too.
Run: ``pytest examples/test_with_emulator.py``. No API key, no network, no credits.
"""

import pytest

from runway_async import AmbiguousSubmissionError, AsyncRunway

pytestmark = pytest.mark.asyncio  # not needed with asyncio_mode = "auto"


# Your application code: it builds its client from RUNWAYML_API_SECRET / RUNWAYML_BASE_URL.
async def make_poster(prompt: str) -> str:
    async with AsyncRunway() as client:
        task = await client.text_to_image.create(
            model="gen4_image", prompt_text=prompt, ratio="1920:1080"
        )
        done = await task.wait_for_task_output(timeout=60)
        return done.output[0]


async def test_make_poster(runway_env):
    """runway_env points the environment at the emulator: the code runs unchanged."""
    url = await make_poster("a lighthouse at dawn")
    assert url.startswith(runway_env["RUNWAYML_BASE_URL"])


async def test_video_with_the_client_fixture(runway_client):
    """runway_client is an AsyncRunway wired to the emulator, polling every 10 ms."""
    task = await runway_client.text_to_video.create(
        model="gen4.5", prompt_text="waves at night", ratio="1280:720", duration=5
    )
    done = await task.wait_for_task_output(timeout=60)
    assert done.output


async def test_a_create_that_may_have_gone_through(runway_client, fresh_runway_emulator):
    """Inject a fault: a 500 after the task was created is never blindly re-sent."""
    fresh_runway_emulator.faults.inject("error_after")
    with pytest.raises(AmbiguousSubmissionError):
        await make_poster_with(runway_client)
    assert fresh_runway_emulator.metrics()["tasks_created_total"] == 1


async def make_poster_with(client: AsyncRunway) -> None:
    await client.text_to_image.create(model="gen4_image", prompt_text="a fox", ratio="1920:1080")
