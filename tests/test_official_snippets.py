"""The official SDK's README snippets run unchanged on runway_async, only the import switched.

The snippets are read at test time from the README shipped in the installed ``runwayml``
package's metadata (nothing of it is copied here), their ``runwayml`` imports are switched to
``runway_async``, and they run against the emulator through ``RUNWAYML_BASE_URL``. Features the
official README only names in prose (``extra_headers``, ``to_dict()``, ``to_json()``) are run
from snippets written here in the same style.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from runway_async.emulator import Emulator

from .conftest import API_KEY

metadata = pytest.importorskip("importlib.metadata")

OFFICIAL_VERSION = "5.24.0"
# Which snippets to run: a phrase that picks each one out of the official README.
FEATURES = {
    "aiohttp": "http_client=DefaultAioHttpClient()",
    "max_retries": "client.with_options(max_retries=5)",
    "timeout": "client.with_options(timeout=5.0)",
    "raw": ".with_raw_response.create(",
    "streaming": ".with_streaming_response.create(",
}


def official_readme() -> str:
    try:
        dist = metadata.distribution("runwayml")
    except metadata.PackageNotFoundError:
        pytest.skip("the official runwayml SDK is not installed")
    if dist.version != OFFICIAL_VERSION:
        pytest.skip(f"snippets are checked against runwayml {OFFICIAL_VERSION}, not {dist.version}")
    return dist.read_text("METADATA") or ""


def code_blocks(readme: str) -> Iterator[str]:
    for match in re.finditer(r"```(?:python|py)\n(.*?)```", readme, flags=re.DOTALL):
        yield textwrap.dedent(match.group(1))


def switched(code: str) -> str:
    """Return the snippet with its imports of the official SDK pointed at ours."""
    code = re.sub(r"\bfrom runwayml\b", "from runway_async", code)
    return re.sub(r"\bimport runwayml\b", "import runway_async as runwayml", code)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(time_scale=0.002, seed=5).in_thread() as emu:
        monkeypatch.setenv("RUNWAYML_BASE_URL", emu.url)
        monkeypatch.setenv("RUNWAYML_API_SECRET", API_KEY)
        yield emu


def run(code: str, **names: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "snippet", **names}
    exec(compile(code, "<official snippet>", "exec"), namespace)  # noqa: S102 - the test's subject
    return namespace


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_official_snippet(
    feature: str, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    phrase = FEATURES[feature]
    blocks = [block for block in code_blocks(official_readme()) if phrase in block]
    assert len(blocks) == 1, f"the official README has no single snippet with {phrase!r}"
    code = switched(blocks[0])
    assert "runwayml" not in code.replace("RUNWAYML", "")
    names: dict[str, Any] = {}
    if "httpx." in code:
        names["httpx"] = pytest.importorskip("httpx")
    if not re.search(r"^\s*(client|async with|with) ", code, flags=re.MULTILINE) or (
        "client =" not in code and "as client" not in code
    ):
        # A fragment that uses a `client` made earlier in the official README.
        from runway_async import Runway

        names["client"] = Runway()
    try:
        run(code, **names)
    finally:
        client = names.get("client")
        if client is not None:
            client.close()
    printed = capsys.readouterr().out
    if "print(" in code:
        assert printed  # the snippet got as far as its output


OWN_SNIPPETS = {
    "extra_headers": """
from runway_async import RunwayML

client = RunwayML()
task = client.text_to_image.create(
    model="gen4_image",
    prompt_text="A bunny eating a carrot",
    ratio="1920:1080",
    extra_headers={"X-Request-Source": "migration-test"},
    extra_body={"seed": 7},
    timeout=20.0,
)
print(task.id)
client.close()
""",
    "to_dict_to_json": """
import json
from runway_async import RunwayML

client = RunwayML()
task = client.text_to_image.create(
    model="gen4_image", prompt_text="A bunny eating a carrot", ratio="1920:1080"
).wait_for_task_output(timeout=60)
as_dict = task.to_dict()
as_json = task.to_json()
assert json.loads(as_json)["status"] == "SUCCEEDED"
assert as_dict["id"] == task.id
print(as_dict["output"])
client.close()
""",
}


@pytest.mark.parametrize("name", sorted(OWN_SNIPPETS))
def test_snippet_in_the_official_style(
    name: str, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    run(OWN_SNIPPETS[name])
    assert capsys.readouterr().out
