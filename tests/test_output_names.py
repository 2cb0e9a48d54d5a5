"""Output names of a batch: after the job's id, the task id, or a ``name`` template; always safe."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from click.testing import CliRunner

from runway_async import AsyncRunway, PollConfig, cli
from runway_async._batch import Job
from runway_async._names import NameTemplate, OutputNames, default_output_name
from runway_async.emulator import Emulator

TIME_SCALE = 0.002
DURATIONS = {"image": 0.5, "audio": 0.5, "video": 0.5}
POLL = PollConfig(interval=0.01, requests_per_second=5000)
WINDOWS_FORBIDDEN = set('<>:"/\\|?*')
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}


def image(key: str | None = None, prompt: str = "a fox") -> Job:
    return Job(
        "text_to_image",
        {"model": "gen4_image", "prompt_text": prompt, "ratio": "1024:1024"},
        key=key,
    )


def assert_portable(name: str) -> None:
    """One file name that Linux, macOS and Windows all accept as it is."""
    assert name not in ("", ".", "..")
    assert not WINDOWS_FORBIDDEN & set(name)
    assert all(unicodedata.category(c)[0] != "C" for c in name)
    assert name == name.strip(" .")
    assert name.split(".", 1)[0].upper() not in WINDOWS_DEVICES
    assert unicodedata.normalize("NFC", name) == name
    assert len(name.encode()) <= 200


class TestDefaultNames:
    def test_after_the_job_id_else_the_task_id(self) -> None:
        assert default_output_name("poster-fox", "t-1", 0, ".png") == "poster-fox_0.png"
        assert default_output_name(None, "t-1", 2, ".mp4") == "t-1_2.mp4"
        assert default_output_name("", "t-1", 0, ".png") == "t-1_0.png"

    @pytest.mark.parametrize(
        "job_id",
        [
            "../../etc/passwd",
            "/abs/path",
            "..",
            ".",
            "C:\\Windows\\x",
            "CON",
            "nul.txt",
            "COM1",
            "a\x00b\nc",
            'what?<>:"|*',
            "trailing. . ",
            "  .hidden",
            "e\u0301",  # NFD: e + combining acute
            "\u202eevil",  # right-to-left override
            "x" * 500,
            "\U0001f98a" * 100,  # 4-byte characters, cut on a character boundary
        ],
    )
    def test_any_id_gives_one_portable_name_in_the_directory(
        self, job_id: str, tmp_path: Path
    ) -> None:
        name = default_output_name(job_id, "t-1", 7, ".png")
        assert_portable(name)
        assert name.endswith("_7.png")  # the output number and extension survive any cut
        assert (tmp_path / name).resolve().parent == tmp_path.resolve()

    def test_nfd_and_nfc_ids_give_the_same_name(self) -> None:
        nfd, nfc = "cafe\u0301", "caf\u00e9"
        assert default_output_name(nfd, "t", 0, ".png") == default_output_name(nfc, "t", 0, ".png")


class TestTemplates:
    def test_fields(self) -> None:
        template = NameTemplate("{index:03d}-{id}-{task_id}_{n}.{ext}")
        got = template.format(index=4, job_id="fox", task_id="t-1", n=1, ext=".png")
        assert got == "004-fox-t-1_1.png"
        # {id} is the task id for a job without an id.
        assert template.format(index=0, job_id=None, task_id="t-2", n=0, ext="mp4") == (
            "000-t-2-t-2_0.mp4"
        )

    def test_line_only_with_lines(self) -> None:
        with pytest.raises(ValueError, match=r"\{line\} exists only on the command line"):
            NameTemplate("{line}_{n}.{ext}")
        template = NameTemplate("L{line}_{n}.{ext}", lines=[3, 7])
        assert template.format(index=1, job_id=None, task_id="t", n=0, ext=".png") == "L7_0.png"

    @pytest.mark.parametrize(
        ("template", "words"),
        [
            ("{id}.{ext}", "it needs {n}"),
            ("{id}_{n}", "it needs {ext}"),
            ("{n}.{ext}", "it needs {id}, {index}, {line} or {task_id}"),
            ("{name}_{n}.{ext}", "unknown field {name}; the fields are id, index, line"),
            ("{}_{n}.{ext}", "a positional field"),
            ("{0}_{n}.{ext}", "a positional field"),
            ("{id.__class__}_{n}.{ext}", "unknown field"),
            ("{id[0]}_{n}.{ext}", "unknown field"),
            ("{id!r}_{n}.{ext}", "conversions are not allowed"),
            ("{id:{n}}_{n}.{ext}", "no nested fields"),
            ("{index:999999999}_{n}.{ext}", "widths at most 64"),
            ("{index:s}_{n}.{ext}", "cannot format it"),
            ("{id", "expected '}'"),
            ("", "it is empty"),
            ("../{id}_{n}.{ext}", "'/' is not allowed"),
            ("/abs/{id}_{n}.{ext}", "'/' is not allowed"),
            ("..\\{id}_{n}.{ext}", "'\\\\' is not allowed"),
            ("{id}\x00_{n}.{ext}", "'\\x00' is not allowed"),
        ],
    )
    def test_refused_up_front(self, template: str, words: str) -> None:
        with pytest.raises(ValueError, match="name template") as caught:
            NameTemplate(template)
        assert words in str(caught.value)

    def test_not_a_string(self) -> None:
        with pytest.raises(TypeError, match="template string"):
            NameTemplate(3)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("template", "job_id"),
        [
            ("{id}_{n}.{ext}", "../../../etc/passwd"),
            ("..{id}_{n}.{ext}", "/x"),
            ("{id}{id}_{n}.{ext}", ".."),
            ("{index}{task_id}_{n}.{ext}", None),
            ("{id}_{n}.{ext}", "CON"),
            ("{id:>60}_{n}.{ext}", "a"),
            ("{id}_{n}.{ext}" + "x" * 300, "y" * 300),
        ],
    )
    def test_formatted_names_never_escape(
        self, template: str, job_id: str | None, tmp_path: Path
    ) -> None:
        task_id = "../../t"
        name = NameTemplate(template).format(
            index=1, job_id=job_id, task_id=task_id, n=0, ext="png"
        )
        assert_portable(name)
        assert "/" not in name
        assert "\\" not in name
        assert (tmp_path / name).resolve().parent == tmp_path.resolve()


class TestUniqueness:
    def test_equal_ids_get_numbered_names(self) -> None:
        names = OutputNames()
        first = names.namer(index=0, job_id="fox", task_id="t-1")
        second = names.namer(index=1, job_id="fox", task_id="t-2")
        assert [first(0, ".png"), first(1, ".png")] == ["fox_0.png", "fox_1.png"]
        assert [second(0, ".png"), second(1, ".png")] == ["fox_0 (1).png", "fox_1 (1).png"]
        # The same output asking again (a download started over) keeps its name.
        assert first(0, ".png") == "fox_0.png"
        assert second(0, ".png") == "fox_0 (1).png"

    def test_names_differing_in_case_or_normalisation_collide(self) -> None:
        names = OutputNames()
        assert names.namer(index=0, job_id="Fox", task_id="a")(0, ".png") == "Fox_0.png"
        assert names.namer(index=1, job_id="fox", task_id="b")(0, ".png") == "fox_0 (1).png"
        assert names.namer(index=2, job_id="FOX", task_id="c")(0, ".png") == "FOX_0 (2).png"

    def test_templates_that_collide_are_numbered(self) -> None:
        names = OutputNames(NameTemplate("{id}_{n}.{ext}"))
        got = {names.namer(index=i, job_id="same", task_id=f"t{i}")(0, ".png") for i in range(20)}
        assert len(got) == 20

    def test_concurrent_claims_stay_unique(self) -> None:
        names = OutputNames()
        got: list[str] = []
        lock = threading.Lock()

        def claim(i: int) -> None:
            name = names.namer(index=i, job_id="x", task_id=f"t{i}")(0, ".png")
            with lock:
                got.append(name)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(got)) == 32

    def test_only_task_id_names_may_replace_a_file(self) -> None:
        assert OutputNames().owns_names(None)
        assert not OutputNames().owns_names("fox")
        assert not OutputNames(NameTemplate("{task_id}_{n}.{ext}")).owns_names(None)


# -- against the emulator -------------------------------------------------------------------


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=TIME_SCALE, durations=DURATIONS, seed=5) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncRunway]:
    async with AsyncRunway(emu.api_key, base_url=emu.url, poll=POLL) as runway:
        yield runway


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


class TestBatchNames:
    async def test_ids_task_ids_and_equal_ids(self, client: AsyncRunway, tmp_path: Path) -> None:
        """Jobs with ids get <id>_<n>.<ext>; without, the task id; equal ids stay apart."""
        jobs = [image("poster-fox"), image(), image("dup"), image("dup"), image("../../up")]
        results = await client.batch(jobs, download_to=tmp_path).gather()
        assert [r.status for r in results] == ["SUCCEEDED"] * 5
        names = [r.files[0].path.name for r in results]
        assert names[0] == "poster-fox_0.png"
        assert names[1] == f"{results[1].task_id}_0.png"
        assert sorted(names[2:4]) == ["dup_0 (1).png", "dup_0.png"]
        assert names[4] == "_.._up_0.png"
        assert listing(tmp_path) == sorted(names)
        for result in results:
            assert result.files[0].path.parent == tmp_path

    async def test_a_file_from_elsewhere_is_never_replaced(
        self, client: AsyncRunway, tmp_path: Path
    ) -> None:
        (tmp_path / "fox_0.png").write_bytes(b"another batch's paid output")
        (result,) = await client.batch([image("fox")], download_to=tmp_path).gather()
        assert result.files[0].path.name == "fox_0 (1).png"
        assert (tmp_path / "fox_0.png").read_bytes() == b"another batch's paid output"

    async def test_the_same_bytes_again_keep_their_file(
        self, client: AsyncRunway, tmp_path: Path
    ) -> None:
        """An output downloaded again (a resumed batch) does not pile up numbered copies."""
        (first,) = await client.batch([image("fox")], download_to=tmp_path).gather()
        (again,) = await client.batch([image("fox")], download_to=tmp_path).gather()
        assert first.files[0].path == again.files[0].path == tmp_path / "fox_0.png"
        assert listing(tmp_path) == ["fox_0.png"]

    async def test_a_template(self, client: AsyncRunway, tmp_path: Path) -> None:
        jobs = [image("a"), image(), image("a")]
        batch = client.batch(jobs, download_to=tmp_path, name="{index:02d}-{id}_{n}.{ext}")
        results = await batch.gather()
        got = [r.files[0].path.name for r in results]
        assert got == ["00-a_0.png", f"01-{results[1].task_id}_0.png", "02-a_0.png"]

    async def test_a_bad_template_sends_nothing(
        self, emu: Emulator, client: AsyncRunway, tmp_path: Path
    ) -> None:
        with pytest.raises(ValueError, match=r"it needs \{n\}"):
            client.batch([image("a")], download_to=tmp_path, name="{id}.{ext}")
        with pytest.raises(ValueError, match="exists only on the command line"):
            client.batch([image("a")], download_to=tmp_path, name="{line}_{n}.{ext}")
        assert emu.metrics()["tasks_created_total"] == 0
        assert listing(tmp_path) == []


def write_jobs(path: Path, *lines: object) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def image_line(key: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "endpoint": "text_to_image",
        "params": {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1024:1024"},
    }
    if key is not None:
        line["id"] = key
    return line


@pytest.fixture
def fast_batch_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        cli, "_batch_emulator", lambda: Emulator(time_scale=TIME_SCALE, durations=DURATIONS)
    )


class TestCommandLine:
    @pytest.mark.usefixtures("fast_batch_emulator")
    def test_name_template_with_line(self, tmp_path: Path) -> None:
        jobs = write_jobs(tmp_path / "jobs.jsonl", image_line("fox"), "", image_line(None))
        out = tmp_path / "out"
        result = CliRunner().invoke(
            cli.build_cli(),
            [
                *("batch", str(jobs), "--emulator", "--out", str(out), "--timeout", "60"),
                *("--name", "{index}-{id}_{n}.{ext}"),
            ],
        )
        assert result.exit_code == 0, result.output
        rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
        assert [row["files"][0]["path"] for row in rows] == [
            "0-fox_0.png",
            f"1-{rows[1]['task_id']}_0.png",
        ]
        out2 = tmp_path / "out2"
        result = CliRunner().invoke(
            cli.build_cli(),
            ["batch", str(jobs), "--emulator", "--out", str(out2), "--name", "L{line}_{n}.{ext}"],
        )
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in out2.glob("*.png")) == ["L1_0.png", "L3_0.png"]

    @pytest.mark.usefixtures("fast_batch_emulator")
    def test_default_names_after_ids(self, tmp_path: Path) -> None:
        jobs = write_jobs(tmp_path / "jobs.jsonl", image_line("fox"), image_line("fox"))
        out = tmp_path / "out"
        result = CliRunner().invoke(
            cli.build_cli(), ["batch", str(jobs), "--emulator", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in out.glob("*.png")) == ["fox_0 (1).png", "fox_0.png"]

    @pytest.mark.parametrize(
        ("template", "words"),
        [
            ("{id}.{ext}", "it needs {n}"),
            ("../{id}_{n}.{ext}", "'/' is not allowed"),
            ("{nope}_{n}.{ext}", "unknown field {nope}"),
        ],
    )
    def test_a_bad_template_is_a_usage_error_before_anything_is_sent(
        self, template: str, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def no_emulator() -> Emulator:
            raise AssertionError("nothing may start before the template is checked")

        monkeypatch.setattr(cli, "_batch_emulator", no_emulator)
        jobs = write_jobs(tmp_path / "jobs.jsonl", image_line("fox"))
        out = tmp_path / "out"
        result = CliRunner().invoke(
            cli.build_cli(),
            ["batch", str(jobs), "--emulator", "--out", str(out), "--name", template],
        )
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--name'" in result.output
        assert words in result.output
        assert not (out / "results.jsonl").exists()
