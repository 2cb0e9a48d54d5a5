"""The generated sync client on the resources beyond tasks: pages, waits and uploads.

Each test drives the stateful emulator (in its own thread) through ``Runway``, the same
scenarios the async tests run, so the regenerated twins are exercised end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runway_async import (
    ReadyAvatar,
    ReadyVoice,
    Runway,
    SyncCursorPage,
    TaskFailedError,
)
from runway_async.emulator import Emulator

from .conftest import SyncEmulatorFactory

MakeClient = Callable[..., Runway]
PROMPT = "A warm, calm narrator with a slight rasp and an even pace."

# The smallest valid PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


def test_a_listing_pages_and_iterates(emulator: Emulator, make_client: MakeClient) -> None:
    client = make_client(emulator)
    made = [client.documents.create(name=f"doc {n}", content=f"text {n}").id for n in range(7)]
    page = client.documents.list(limit=3, sort="createdAt", order="asc")
    assert isinstance(page, SyncCursorPage)
    assert [doc.id for doc in page.data] == made[:3]
    assert page.has_next_page()
    second = page.get_next_page()
    assert [doc.id for doc in second.data] == made[3:6]
    third = second.get_next_page()
    assert [doc.id for doc in third.data] == made[6:]
    assert not third.has_next_page()
    with pytest.raises(RuntimeError, match="last one"):
        third.get_next_page()
    # Iterating the first page walks every page.
    assert [doc.id for doc in client.documents.list(limit=3, sort="createdAt", order="asc")] == made
    assert len(list(page.iter_pages())) == 3


def test_an_avatar_and_a_voice_are_waited_to_ready(
    emulator: Emulator, make_client: MakeClient
) -> None:
    client = make_client(emulator)
    voice = client.voices.create(
        name="Narrator", from_={"type": "text", "model": "eleven_ttv_v3", "prompt": PROMPT}
    )
    ready_voice = client.voices.wait(voice.id, timeout=30)
    assert isinstance(ready_voice, ReadyVoice)
    avatar = client.avatars.create(
        name="Guide",
        personality="Friendly and brief.",
        reference_image="https://example.com/guide.png",
        voice={"type": "custom", "id": voice.id},
    )
    ready = client.avatars.wait(avatar.id, timeout=30)
    assert isinstance(ready, ReadyAvatar)
    assert ready.id == avatar.id


def test_a_workflow_run_is_waited_to_completion(
    start_emulator: SyncEmulatorFactory, make_client: MakeClient
) -> None:
    with start_emulator() as emu:
        key = "key_sync_workflows"
        client = make_client(emu, api_key=key)
        workflow_id = emu.add_workflow("poster", nodes={"poster": "image"}, api_key=key)
        run = client.workflows.run(workflow_id)
        done = run.wait_for_task_output(timeout=30)
        assert done.status == "SUCCEEDED"
        assert list(done.output) == ["poster"]
        again = client.workflow_invocations.retrieve(run.id)
        assert again.wait_for_task_output(timeout=30).id == run.id

        failing = emu.add_workflow("broken", fail=True, api_key=key)
        with pytest.raises(TaskFailedError):
            client.workflows.run(failing).wait_for_task_output(timeout=30)


def test_an_upload_feeds_a_create(
    emulator: Emulator, make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(emulator)
    image = tmp_path / "frame.png"
    image.write_bytes(PNG)
    uploaded = client.uploads.create_ephemeral(file=image)
    assert uploaded.uri.startswith("runway://")
    task = client.image_to_video.create(
        model="gen4_turbo", prompt_image=uploaded.uri, ratio="1280:720", duration=5
    ).wait_for_task_output(timeout=30)
    assert task.status == "SUCCEEDED"
