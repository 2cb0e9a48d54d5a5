"""Every Python snippet of the README runs, against the emulator, as a reader would paste it.

Snippets run one by one in a fresh namespace holding what the surrounding prose assumes (an
open ``client``, a ``task``, an image ``url``, the ``jobs``), with ``RUNWAYML_BASE_URL`` and
``RUNWAYML_API_SECRET`` pointing at an emulator in its own thread. Top-level ``await`` is
allowed, as in an asyncio REPL or a notebook.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runway_async
from runway_async import AsyncRunway, PollConfig
from runway_async.emulator import Emulator

README = Path(__file__).resolve().parent.parent / "README.md"
IMAGE = {"model": "gen4_image", "prompt_text": "a red fox", "ratio": "1920:1080"}


def snippets() -> list[str]:
    if not README.is_file():
        return []
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


SNIPPETS = snippets()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One fast emulator for every snippet."""
    with Emulator(time_scale=0.01, seed=5).in_thread() as emu:
        yield emu


def test_the_readme_has_snippets() -> None:
    """A README without snippets would make the test below vacuous."""
    if not README.is_file():
        pytest.skip("README.md is not in this source tree")
    assert len(SNIPPETS) >= 10


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs(
    index: int,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The snippet runs to the end without an exception."""
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # snippets download into outputs/
    runway_async.set_testing(True)  # no 5 s poll floor against the emulator
    try:
        source = SNIPPETS[index]
        code = compile(source, f"README.md snippet {index}", "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if code.co_flags & inspect.CO_COROUTINE:
            asyncio.run(run_async(code, emulator))
        else:
            exec(code, {"__name__": f"readme_{index}"})  # noqa: S102 - our own README
    finally:
        runway_async.set_testing(False)
    capsys.readouterr()


# A 1x1 PNG: the local files the upload snippets name (cat.png, ...) hold it.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)
LOCAL_FILES = ("cat.png", "fox.png", "guide.png", "clip.mp4")


async def run_async(code: Any, emulator: Emulator) -> None:
    poll = PollConfig(min_interval=0.01)
    for name in LOCAL_FILES:  # in the snippet's working directory
        Path(name).write_bytes(PNG)  # noqa: ASYNC240 - a few bytes, before the snippet runs
    workflow_id = emulator.add_workflow(
        "readme",
        inputs={"prompt": {"text": {"type": "primitive", "value": "a cat"}}},
    )
    async with AsyncRunway(emulator.api_key, base_url=emulator.url, poll=poll) as client:
        elsewhere = await client.text_to_image.create(**IMAGE)
        namespace: dict[str, Any] = {
            "png_bytes": PNG,
            "workflow_id": workflow_id,
            "__name__": "readme",
            "asyncio": asyncio,
            "client": client,
            "url": "https://example.com/cat.png",
            "jobs": [{**IMAGE, "prompt_text": f"a fox, take {n}"} for n in range(3)],
            "task": await client.text_to_image.create(**IMAGE),
            "task_id_from_elsewhere": elsewhere.id,
        }
        await eval(code, namespace)  # noqa: S307 - our own README
