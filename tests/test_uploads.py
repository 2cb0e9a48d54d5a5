"""Uploads: ``client.uploads.create_ephemeral``, local files in creates, ``file:`` in jobs.

Most tests run against ``FakeRunway``, a loopback aiohttp server playing both the API
(``POST /v1/uploads``, creates, task GETs) and the presigned storage host, which records
every request as it arrived on the wire. The 1,000-creates test counts requests on a
transport written here, without sockets.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import inspect
import io
import json
import os
import re
import traceback
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner

from runway_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncRunway,
    HTTPTransport,
    InvalidRequestError,
    Job,
    PermissionDeniedError,
    PollConfig,
    RetryConfig,
    UploadCreateEphemeralResponse,
    VirtualClock,
    cli,
)
from runway_async._http import FilePart, MultipartForm, Request, Response
from runway_async._transport import AiohttpTransport
from runway_async._upload import MAX_UPLOAD_BYTES, URI_REUSE_SECONDS, file_references
from runway_async.emulator import Emulator

from .conftest import API_KEY

URL_SIGNATURE = "X-Amz-Signature=urlsig0123456789abcdef"
FIELD_SIGNATURE = "fieldsig0123456789abcdef"
POLICY = "eyJwb2xpY3kiOiAic2VjcmV0In0="
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
IMAGE_CREATE: dict[str, Any] = {"model": "gen4_turbo", "ratio": "1280:720", "prompt_text": "a fox"}

StorageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Part:
    """One part of a multipart body as it arrived."""

    def __init__(self, name: str, filename: str | None, content_type: str | None, data: bytes):
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.data = data


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """Split a multipart/form-data body into its parts (enough for these tests)."""
    boundary = content_type.split("boundary=", 1)[1].encode()
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    parts = []
    for raw in body.split(b"--" + boundary)[1:-1]:
        head, _, data = raw[2:].partition(b"\r\n\r\n")
        assert data.endswith(b"\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        disposition = headers["Content-Disposition"]
        name = re.search(r' name="([^"]*)"', disposition)
        filename = re.search(r' filename="([^"]*)"', disposition)
        assert name is not None
        parts.append(
            Part(
                name[1],
                filename[1] if filename else None,
                headers.get("Content-Type"),
                data[:-2],
            )
        )
    return parts


class Stored:
    """One storage POST as it arrived."""

    def __init__(self, path: str, headers: Mapping[str, str], body: bytes):
        self.path = path
        self.headers = headers
        self.body = body

    @property
    def parts(self) -> list[Part]:
        return parse_multipart(self.headers["Content-Type"], self.body)

    @property
    def file(self) -> Part:
        return self.parts[-1]


class FakeRunway:
    """A loopback server playing the API and the storage host, recording what it receives."""

    def __init__(self) -> None:
        self.url = ""
        self.upload_requests: list[dict[str, Any]] = []
        self.stored: list[Stored] = []
        self.creates: list[tuple[str, dict[str, Any]]] = []
        self.storage_handlers: list[StorageHandler] = []
        self.storage_delay = 0.0
        self.remote_upload_url: str | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=1024**3)
        app.router.add_post("/v1/uploads", self._uploads)
        app.router.add_post("/storage/{n}", self._storage)
        app.router.add_get("/v1/tasks/{id}", self._task)
        app.router.add_post("/v1/{endpoint}", self._create)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _uploads(self, request: web.Request) -> web.StreamResponse:
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        data = await request.json()
        self.upload_requests.append(data)
        n = len(self.upload_requests)
        return web.json_response(
            {
                "runwayUri": f"runway://uploads/{n}/{data['filename']}",
                "uploadUrl": f"{self.url}/storage/{n}?{URL_SIGNATURE}",
                "fields": {
                    "key": f"uploads/{n}/{data['filename']}",
                    "policy": POLICY,
                    "x-amz-signature": FIELD_SIGNATURE,
                },
            }
        )

    async def _storage(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.stored.append(Stored(request.path_qs, dict(request.headers), body))
        if self.storage_delay:
            await asyncio.sleep(self.storage_delay)
        if self.storage_handlers:
            return await self.storage_handlers.pop(0)(request)
        return web.Response(status=204)

    async def _create(self, request: web.Request) -> web.StreamResponse:
        self.creates.append((request.match_info["endpoint"], await request.json()))
        return web.json_response({"id": f"task-{len(self.creates)}"})

    async def _task(self, request: web.Request) -> web.StreamResponse:
        task_id = request.match_info["id"]
        return web.json_response(
            {
                "id": task_id,
                "status": "SUCCEEDED",
                "createdAt": "2026-01-01T00:00:00Z",
                "output": [f"https://cdn.example/{task_id}.png"],
            }
        )


def s3_error(status: int, code: str) -> StorageHandler:
    """Return a storage reply in S3's XML, echoing the signature as S3's errors can."""

    async def handler(_request: web.Request) -> web.StreamResponse:
        body = (
            f"<Error><Code>{code}</Code><Message>denied</Message>"
            f"<SignatureProvided>{FIELD_SIGNATURE}</SignatureProvided></Error>"
        )
        return web.Response(status=status, text=body, content_type="application/xml")

    return handler


def dropped() -> StorageHandler:
    async def handler(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    return handler


def hangs() -> StorageHandler:
    async def handler(_request: web.Request) -> web.StreamResponse:
        await asyncio.Event().wait()
        return web.Response()

    return handler


@pytest.fixture
async def fake() -> AsyncIterator[FakeRunway]:
    server = FakeRunway()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeRunway) -> AsyncIterator[AsyncRunway]:
    async with AsyncRunway(
        API_KEY,
        base_url=fake.url,
        max_concurrency=None,
        poll=PollConfig(min_interval=0.01),
        retry=RetryConfig(max_retries=2, initial_delay=0.01),
    ) as runway:
        yield runway


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    return path


def assert_nothing_sent(fake: FakeRunway) -> None:
    assert fake.upload_requests == []
    assert fake.stored == []
    assert fake.creates == []


class TestFileForms:
    """Every form the official method accepts, plus a str path; each sends the same upload."""

    @pytest.mark.parametrize(
        "form",
        [
            "path",
            "str",
            "file_object",
            "tuple",
            "tuple_with_type",
            "tuple_with_headers",
            "tuple_none_name_path",
            "tuple_file_object",
        ],
    )
    async def test_accepted_forms_upload_the_file(
        self, client: AsyncRunway, fake: FakeRunway, png: Path, form: str
    ) -> None:
        with png.open("rb") as handle:
            handle.read(5)  # a file object is sent from its start, whatever its position
            file: Any = {
                "path": png,
                "str": str(png),
                "file_object": handle,
                "tuple": ("cat.png", PNG),
                "tuple_with_type": ("cat.png", PNG, "image/png"),
                "tuple_with_headers": ("cat.png", PNG, "image/png", {"X-Ignored": "1"}),
                "tuple_none_name_path": (None, png),
                "tuple_file_object": ("cat.png", handle),
            }[form]
            result = await client.uploads.create_ephemeral(file=file)
            if form in ("file_object", "tuple_file_object"):
                assert not handle.closed  # the caller's file stays open
        assert isinstance(result, UploadCreateEphemeralResponse)
        assert result.uri == "runway://uploads/1/cat.png"
        assert fake.upload_requests == [{"filename": "cat.png", "type": "ephemeral"}]
        [stored] = fake.stored
        assert stored.path == f"/storage/1?{URL_SIGNATURE}"  # byte for byte
        parts = stored.parts
        assert [(p.name, p.data.decode()) for p in parts[:-1]] == [
            ("key", "uploads/1/cat.png"),
            ("policy", POLICY),
            ("x-amz-signature", FIELD_SIGNATURE),
        ]
        assert (parts[-1].name, parts[-1].filename) == ("file", "cat.png")
        assert parts[-1].content_type == "image/png"
        assert parts[-1].data == PNG

    async def test_metadata_is_a_form_field_after_the_fields(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        await client.uploads.create_ephemeral(file=png, file_metadata='{"shot": 3}')
        names = [(p.name, p.data) for p in fake.stored[0].parts]
        assert names[-2] == ("metadata", b'{"shot": 3}')
        assert names[-1][0] == "file"

    async def test_a_pipe_is_spooled_and_sent_with_its_length(
        self, client: AsyncRunway, fake: FakeRunway
    ) -> None:
        read_end, write_end = os.pipe()
        with os.fdopen(write_end, "wb") as writer:
            writer.write(PNG)
        with os.fdopen(read_end, "rb") as reader:
            await client.uploads.create_ephemeral(file=("cat.png", reader))
        assert fake.stored[0].file.data == PNG
        assert fake.stored[0].headers["Content-Length"] == str(len(fake.stored[0].body))

    async def test_the_content_type_given_wins_over_the_name(
        self, client: AsyncRunway, fake: FakeRunway
    ) -> None:
        await client.uploads.create_ephemeral(file=("clip.bin", b"\x00" * 10, "video/mp4"))
        assert fake.stored[0].file.content_type == "video/mp4"


class TestRefusals:
    """Refused before anything is sent, with the official SDK's message where it has one."""

    @pytest.mark.parametrize(
        "file",
        [b"raw bytes content", io.BytesIO(b"content"), (None, b"content")],
        ids=["raw_bytes", "bytesio_no_name", "tuple_none_filename"],
    )
    async def test_no_inferable_filename(
        self, client: AsyncRunway, fake: FakeRunway, file: Any
    ) -> None:
        with pytest.raises(ValueError, match="Cannot infer filename from file") as info:
            await client.uploads.create_ephemeral(file=file)
        assert isinstance(info.value, InvalidRequestError)
        assert_nothing_sent(fake)

    @pytest.mark.parametrize(
        ("file", "words"),
        [
            (("notes.txt", b"hello"), "text/plain"),
            (("blob", b"hello"), "cannot be told from its name"),
            (("cat.png", b"hello", "application/octet-stream"), "application/octet-stream"),
        ],
    )
    async def test_not_media(
        self, client: AsyncRunway, fake: FakeRunway, file: Any, words: str
    ) -> None:
        with pytest.raises(InvalidRequestError, match="only image, video and audio") as info:
            await client.uploads.create_ephemeral(file=file)
        assert words in str(info.value)
        assert info.value.field == "file"
        assert_nothing_sent(fake)

    async def test_too_big(self, client: AsyncRunway, fake: FakeRunway, tmp_path: Path) -> None:
        big = tmp_path / "big.mp4"
        with big.open("wb") as handle:
            handle.truncate(MAX_UPLOAD_BYTES + 1)  # sparse: nothing written
        with pytest.raises(InvalidRequestError, match="limited to 200 MB"):
            await client.uploads.create_ephemeral(file=big)
        assert_nothing_sent(fake)

    async def test_empty(self, client: AsyncRunway, fake: FakeRunway) -> None:
        with pytest.raises(InvalidRequestError, match="empty"):
            await client.uploads.create_ephemeral(file=("cat.png", b""))
        assert_nothing_sent(fake)

    async def test_text_mode_file(self, client: AsyncRunway, fake: FakeRunway, png: Path) -> None:
        with (
            png.open("r", encoding="latin-1") as handle,
            pytest.raises(InvalidRequestError, match="binary mode"),
        ):
            await client.uploads.create_ephemeral(file=handle)
        assert_nothing_sent(fake)

    async def test_missing_file(
        self, client: AsyncRunway, fake: FakeRunway, tmp_path: Path
    ) -> None:
        with pytest.raises(FileNotFoundError):
            await client.uploads.create_ephemeral(file=tmp_path / "nope.png")
        assert_nothing_sent(fake)


class RecordingReader(io.BytesIO):
    """A named binary file that records the size of each read."""

    name = "big.png"

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)


class TestStreaming:
    async def test_a_large_file_goes_in_chunks_with_a_content_length(
        self, client: AsyncRunway, fake: FakeRunway
    ) -> None:
        data = os.urandom(1024 * 1024 + 123)  # over four 256 KiB chunks
        reader = RecordingReader(data)
        progress: list[tuple[int, int]] = []
        await client.uploads.create_ephemeral(
            file=reader, on_progress=lambda sent, total: progress.append((sent, total))
        )
        stored = fake.stored[0]
        assert stored.file.data == data
        assert stored.headers["Content-Length"] == str(len(stored.body))
        assert "Transfer-Encoding" not in stored.headers  # never chunked
        assert max(reader.reads) <= 256 * 1024  # never read whole
        assert len(progress) == 5
        assert progress[-1] == (len(data), len(data))
        assert [sent for sent, _ in progress] == sorted(sent for sent, _ in progress)
        assert {total for _, total in progress} == {len(data)}

    async def test_no_runway_credentials_reach_the_storage_host(
        self, fake: FakeRunway, png: Path
    ) -> None:
        async with AsyncRunway(
            API_KEY, base_url=fake.url, default_headers={"X-Team": "secret-team"}
        ) as runway:
            await runway.uploads.create_ephemeral(file=png)
        headers = {k.lower() for k in fake.stored[0].headers}
        assert "authorization" not in headers
        assert "x-team" not in headers
        assert "x-runway-version" not in headers
        assert fake.stored[0].headers["User-Agent"].startswith("runway-async/")


class TestStorageFailures:
    async def test_a_503_is_retried_from_the_start_of_the_file(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        fake.storage_handlers = [s3_error(503, "SlowDown")]
        progress: list[int] = []
        result = await client.uploads.create_ephemeral(
            file=png, on_progress=lambda sent, _total: progress.append(sent)
        )
        assert result.uri == "runway://uploads/1/cat.png"
        assert len(fake.upload_requests) == 1  # the storage POST alone is repeated
        assert len(fake.stored) == 2
        assert fake.stored[0].file.data == PNG
        assert fake.stored[1].file.data == PNG  # rewound: the same whole file
        assert progress == [len(PNG), len(PNG)]

    async def test_a_dropped_connection_is_retried(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        fake.storage_handlers = [dropped()]
        await client.uploads.create_ephemeral(file=png)
        assert len(fake.stored) == 2
        assert fake.stored[1].file.data == PNG

    async def test_a_403_is_final_and_keeps_the_signatures_out(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        fake.storage_handlers = [s3_error(403, "SignatureDoesNotMatch")]
        with pytest.raises(PermissionDeniedError) as info:
            await client.uploads.create_ephemeral(file=png)
        assert len(fake.stored) == 1
        error = info.value
        assert "SignatureDoesNotMatch" in str(error)
        assert error.url == f"{fake.url}/storage/1"
        shown = "".join(traceback.format_exception(error)) + repr(error.body) + str(error.url)
        assert "urlsig" not in shown
        assert FIELD_SIGNATURE not in shown

    async def test_a_timeout_names_the_url_without_its_signature(
        self, fake: FakeRunway, png: Path
    ) -> None:
        fake.storage_handlers = [hangs()]
        async with AsyncRunway(API_KEY, base_url=fake.url, max_retries=0) as runway:
            with pytest.raises(APITimeoutError) as info:
                await runway.uploads.create_ephemeral(file=png, timeout=0.2)
        assert f"{fake.url}/storage/1" in str(info.value)
        assert "urlsig" not in "".join(traceback.format_exception(info.value))

    async def test_a_remote_api_may_not_point_uploads_at_loopback(self, png: Path) -> None:
        api = CountingAPI(upload_url="http://127.0.0.1:9/storage?sig=1")
        async with AsyncRunway(API_KEY, base_url="https://api.example", transport=api) as runway:
            with pytest.raises(Exception, match="loopback"):
                await runway.uploads.create_ephemeral(file=png)
        assert api.stored == []


class CountingAPI:
    """An ``HTTPTransport`` answering uploads, creates and storage POSTs, counting them."""

    def __init__(self, *, upload_url: str = "https://storage.example/upload?sig=abc") -> None:
        self.upload_url = upload_url
        self.uploads = 0
        self.creates: list[dict[str, Any]] = []
        self.stored: list[tuple[str, list[tuple[str, str]], bytes]] = []
        self.fail_storage = False
        self.closed = False

    async def send(self, request: Request) -> Response:
        await asyncio.sleep(0)
        path = request.url.split("://", 1)[1].partition("/")[2]
        if path == "v1/uploads":
            self.uploads += 1
            return Response(
                200,
                {},
                {
                    "runwayUri": f"runway://uploads/{self.uploads}",
                    "uploadUrl": self.upload_url,
                    "fields": {"key": "k"},
                },
            )
        self.creates.append(request.json)
        return Response(200, {}, {"id": f"task-{len(self.creates)}"})

    def stream(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        connect_timeout: float,
        read_timeout: float,
    ) -> Any:
        raise NotImplementedError("no downloads here")

    async def post_form(
        self,
        url: str,
        *,
        fields: Sequence[tuple[str, str]],
        file: FilePart,
        timeout: float | None,
        connect_timeout: float,
        max_response_bytes: int,
        on_progress: Callable[[int], object] | None = None,
    ) -> Response:
        await asyncio.sleep(0.01)  # long enough for concurrent creates to pile up
        self.stored.append((url, list(fields), file.reader.read(file.size)))
        if self.fail_storage:
            return Response(403, {}, "<Error><Code>AccessDenied</Code></Error>")
        return Response(204, {}, None)

    async def aclose(self) -> None:
        self.closed = True


class TestPathParameters:
    """A pathlib.Path in any media parameter of a create is uploaded first."""

    async def test_prompt_image_path_is_uploaded_then_created(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        await client.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
        assert len(fake.stored) == 1
        [(endpoint, body)] = fake.creates
        assert endpoint == "image_to_video"
        assert body["promptImage"] == "runway://uploads/1/cat.png"
        assert body["promptText"] == "a fox"

    async def test_nested_and_repeated_files_upload_once_each(
        self, client: AsyncRunway, fake: FakeRunway, png: Path, tmp_path: Path
    ) -> None:
        other = tmp_path / "dog.jpg"
        other.write_bytes(b"\xff\xd8\xff" + b"dog" * 100)
        await client.text_to_image.create(
            model="gen4_image",
            prompt_text="@cat meets @dog and @cat2",
            ratio="1920:1080",
            reference_images=[
                {"uri": png, "tag": "cat"},
                {"uri": other, "tag": "dog"},
                {"uri": Path(str(png)), "tag": "cat2"},
            ],
        )
        assert sorted(r["filename"] for r in fake.upload_requests) == ["cat.png", "dog.jpg"]
        refs = fake.creates[0][1]["referenceImages"]
        assert refs[0]["uri"] == refs[2]["uri"]
        assert refs[0]["uri"] != refs[1]["uri"]
        assert all(ref["uri"].startswith("runway://uploads/") for ref in refs)

    async def test_a_tagged_union_takes_the_kind_of_its_branch(
        self, client: AsyncRunway, fake: FakeRunway, png: Path, tmp_path: Path
    ) -> None:
        clip = tmp_path / "me.mp4"
        clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" * 10)
        await client.character_performance.create(
            model="act_two",
            ratio="1280:720",
            character={"type": "image", "uri": png},
            reference={"type": "video", "uri": clip},
        )
        body = fake.creates[0][1]
        assert body["character"]["uri"].endswith("/cat.png")
        assert body["reference"]["uri"].endswith("/me.mp4")
        with pytest.raises(InvalidRequestError, match="takes a video") as info:
            await client.character_performance.create(
                model="act_two",
                ratio="1280:720",
                character={"type": "video", "uri": png},
                reference={"type": "video", "uri": clip},
            )
        assert info.value.field == "character.uri"
        assert len(fake.creates) == 1

    async def test_a_kind_mismatch_sends_nothing(
        self, client: AsyncRunway, fake: FakeRunway, tmp_path: Path
    ) -> None:
        clip = tmp_path / "clip.mp4"
        clip.write_bytes(b"\x00" * 64)
        with pytest.raises(InvalidRequestError, match="takes an image") as info:
            await client.image_to_video.create(prompt_image=clip, **IMAGE_CREATE)
        assert info.value.field == "prompt_image"
        assert_nothing_sent(fake)

    async def test_invalid_parameters_fail_before_any_upload(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        with pytest.raises(InvalidRequestError, match="ratio"):
            await client.image_to_video.create(
                model="gen4_turbo", prompt_image=png, ratio="1:1", prompt_text="x"
            )
        assert_nothing_sent(fake)

    async def test_a_path_outside_media_fields_is_refused(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        with pytest.raises(InvalidRequestError, match="takes no media") as info:
            await client.image_to_video.create(
                model="gen4_turbo", prompt_image=png, ratio="1280:720", prompt_text=png
            )
        assert info.value.field == "prompt_text"
        assert_nothing_sent(fake)

    async def test_a_missing_file_names_its_field(
        self, client: AsyncRunway, fake: FakeRunway, tmp_path: Path
    ) -> None:
        with pytest.raises(InvalidRequestError, match="cannot read the local file") as info:
            await client.image_to_video.create(prompt_image=tmp_path / "gone.png", **IMAGE_CREATE)
        assert info.value.field == "prompt_image"
        assert_nothing_sent(fake)

    async def test_a_str_is_never_a_path(
        self, client: AsyncRunway, fake: FakeRunway, png: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(png.parent)
        with pytest.raises(InvalidRequestError, match="prompt_image"):
            await client.image_to_video.create(prompt_image="cat.png", **IMAGE_CREATE)
        assert_nothing_sent(fake)

    async def test_a_failed_upload_sends_no_create(self, fake: FakeRunway, png: Path) -> None:
        fake.storage_handlers = [s3_error(403, "AccessDenied")]
        async with AsyncRunway(API_KEY, base_url=fake.url, max_concurrency=1) as runway:
            with pytest.raises(PermissionDeniedError):
                await runway.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
            assert fake.creates == []
            # No slot is held: the next create (whose upload works) needs the only one.
            handle = await asyncio.wait_for(
                runway.image_to_video.create(prompt_image=png, **IMAGE_CREATE), 5
            )
        assert handle.id == "task-1"
        assert len(fake.creates) == 1

    async def test_an_upload_nobody_waits_for_any_more_is_cancelled(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        """Two creates share a file whose upload hangs; cancelling both cancels the upload."""
        fake.storage_handlers = [hangs()]
        creates = [
            asyncio.ensure_future(client.image_to_video.create(prompt_image=png, **IMAGE_CREATE))
            for _ in range(2)
        ]
        for _ in range(500):  # until the storage host has the body: the upload is in flight
            if fake.stored:
                break
            await asyncio.sleep(0.01)
        creates[0].cancel()
        await asyncio.sleep(0.05)
        uploads = [
            t
            for t in asyncio.all_tasks()
            if getattr(t.get_coro(), "__qualname__", "") == "UploadCache._upload"
        ]
        assert uploads, "the shared upload goes on for the other create"
        creates[1].cancel()
        await asyncio.gather(*creates, return_exceptions=True)
        for task in uploads:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
            assert task.cancelled()
        assert fake.creates == []

    async def test_small_files_go_inline_when_allowed(
        self, fake: FakeRunway, png: Path, tmp_path: Path
    ) -> None:
        big = tmp_path / "big.png"
        big.write_bytes(PNG * 4)
        async with AsyncRunway(API_KEY, base_url=fake.url, inline_max_bytes=len(PNG)) as runway:
            assert runway.inline_max_bytes == len(PNG)
            await runway.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
            await runway.image_to_video.create(prompt_image=big, **IMAGE_CREATE)
            never = runway.with_options(inline_max_bytes=0)
            assert never.inline_max_bytes == 0
            await never.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
        inline = fake.creates[0][1]["promptImage"]
        assert inline == "data:image/png;base64," + base64.b64encode(PNG).decode()
        assert fake.creates[1][1]["promptImage"] == "runway://uploads/1/big.png"
        assert fake.creates[2][1]["promptImage"] == "runway://uploads/2/cat.png"
        assert [r["filename"] for r in fake.upload_requests] == ["big.png", "cat.png"]

    async def test_inline_respects_the_data_uri_limit_of_the_kind(
        self, fake: FakeRunway, tmp_path: Path
    ) -> None:
        """An image over 5 MB once encoded is uploaded, whatever inline_max_bytes says."""
        big = tmp_path / "big.png"
        big.write_bytes(b"\x00" * (4 * 1024 * 1024))  # 5.3 MB in base64
        async with AsyncRunway(API_KEY, base_url=fake.url, inline_max_bytes=10**9) as runway:
            await runway.image_to_video.create(prompt_image=big, **IMAGE_CREATE)
        assert fake.creates[0][1]["promptImage"] == "runway://uploads/1/big.png"

    @pytest.mark.parametrize("value", [-1, True, 1.5])
    def test_inline_max_bytes_is_checked(self, value: Any) -> None:
        with pytest.raises((TypeError, ValueError)):
            AsyncRunway(API_KEY, base_url="http://127.0.0.1:1", inline_max_bytes=value)

    async def test_concurrent_creates_share_one_upload(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        fake.storage_delay = 0.05
        handles = await asyncio.gather(
            *(client.image_to_video.create(prompt_image=png, **IMAGE_CREATE) for _ in range(20))
        )
        assert len(handles) == 20
        assert len(fake.upload_requests) == 1
        assert len(fake.stored) == 1
        assert {body["promptImage"] for _, body in fake.creates} == {"runway://uploads/1/cat.png"}

    async def test_a_copy_of_the_file_elsewhere_is_the_same_upload(
        self, client: AsyncRunway, fake: FakeRunway, png: Path, tmp_path: Path
    ) -> None:
        copy = tmp_path / "copy.png"
        copy.write_bytes(PNG)
        await client.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
        await client.with_options(max_retries=0).image_to_video.create(
            prompt_image=copy, **IMAGE_CREATE
        )
        assert len(fake.stored) == 1
        await asyncio.to_thread(png.write_bytes, PNG + b"changed")  # new content: a new upload
        await client.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
        assert len(fake.stored) == 2

    async def test_a_uri_is_reused_only_while_it_is_safely_valid(self, png: Path) -> None:
        clock = VirtualClock()
        api = CountingAPI()
        async with AsyncRunway(
            API_KEY,
            base_url="https://api.example",
            transport=api,
            clock=clock,
            max_concurrency=None,
        ) as runway:
            await runway.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
            await clock.advance(URI_REUSE_SECONDS - 1)
            await runway.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
            assert api.uploads == 1
            await clock.advance(2)
            await runway.image_to_video.create(prompt_image=png, **IMAGE_CREATE)
        assert api.uploads == 2
        assert [c["promptImage"] for c in api.creates] == [
            "runway://uploads/1",
            "runway://uploads/1",
            "runway://uploads/2",
        ]

    async def test_a_thousand_jobs_sharing_an_image_upload_it_once(
        self, png: Path, tmp_path: Path
    ) -> None:
        api = CountingAPI()
        assert isinstance(api, HTTPTransport)
        other = tmp_path / "other.png"
        other.write_bytes(PNG[::-1])
        async with AsyncRunway(
            API_KEY, base_url="https://api.example", transport=api, max_concurrency=None
        ) as runway:
            await asyncio.gather(
                *(
                    runway.image_to_video.create(
                        prompt_image=png if n % 2 else [{"uri": png, "position": "first"}],
                        **{**IMAGE_CREATE, "prompt_text": f"take {n}"},
                    )
                    for n in range(1000)
                ),
                runway.image_to_video.create(prompt_image=other, **IMAGE_CREATE),
            )
        assert len(api.creates) == 1001
        assert api.uploads == 2
        assert len(api.stored) == 2
        assert sorted(data for _url, _fields, data in api.stored) == sorted([PNG, PNG[::-1]])

    async def test_a_batch_of_jobs_with_paths_uploads_once(
        self, client: AsyncRunway, fake: FakeRunway, png: Path
    ) -> None:
        jobs = [
            Job("image_to_video", {**IMAGE_CREATE, "prompt_image": png}, key=str(n))
            for n in range(30)
        ]
        results = await client.batch(jobs, max_in_flight=10).gather()
        assert {r.status for r in results} == {"SUCCEEDED"}
        assert len(fake.stored) == 1
        assert len(fake.creates) == 30

    async def test_the_upload_failure_of_a_shared_file_reaches_every_create(
        self, png: Path
    ) -> None:
        api = CountingAPI()
        api.fail_storage = True
        async with AsyncRunway(
            API_KEY,
            base_url="https://api.example",
            transport=api,
            max_concurrency=None,
            max_retries=0,
        ) as runway:
            outcomes = await asyncio.gather(
                *(runway.image_to_video.create(prompt_image=png, **IMAGE_CREATE) for _ in range(5)),
                return_exceptions=True,
            )
        assert all(isinstance(o, PermissionDeniedError) for o in outcomes)
        assert api.creates == []
        assert len(api.stored) == 1


class TestJobsFiles:
    """``"file:PATH"`` in a jobs file: a local file, relative to the file's directory."""

    def test_file_values_in_media_fields_become_paths(self, png: Path) -> None:
        line = {
            "endpoint": "image_to_video",
            "params": {
                **IMAGE_CREATE,
                "prompt_text": "file:not-a-file.png",
                "prompt_image": "file:cat.png",
            },
        }
        [entry] = cli.parse_jobs(json.dumps(line), base_dir=png.parent)
        assert entry.error is None
        assert entry.job is not None
        assert entry.job.params["prompt_image"] == png
        assert entry.job.params["prompt_text"] == "file:not-a-file.png"  # text stays text

    def test_a_missing_file_makes_the_line_invalid(self, tmp_path: Path) -> None:
        line = {
            "endpoint": "image_to_video",
            "params": {**IMAGE_CREATE, "prompt_image": "file:x.png"},
        }
        [entry] = cli.parse_jobs(json.dumps(line), base_dir=tmp_path)
        assert entry.job is None
        assert entry.error is not None
        assert "prompt_image" in entry.error
        assert "x.png" in entry.error

    def test_without_a_base_dir_file_values_are_invalid_media(self) -> None:
        line = {
            "endpoint": "image_to_video",
            "params": {**IMAGE_CREATE, "prompt_image": "file:x.png"},
        }
        [entry] = cli.parse_jobs(json.dumps(line))
        assert entry.error is not None
        assert "prompt_image" in entry.error

    def test_nested_values(self, png: Path) -> None:
        params: dict[str, Any] = {
            "model": "gen4_image",
            "prompt_text": "@cat",
            "ratio": "1920:1080",
            "reference_images": [{"uri": "file:cat.png", "tag": "cat"}],
        }
        resolved = file_references("text_to_image", params, png.parent)
        assert resolved["reference_images"][0]["uri"] == png
        assert params["reference_images"][0]["uri"] == "file:cat.png"  # not changed in place


class TestTransport:
    """``AiohttpTransport.post_form`` on its own."""

    async def test_the_body_on_the_wire(self, fake: FakeRunway) -> None:
        transport = AiohttpTransport()
        try:
            reply = await transport.post_form(
                f"{fake.url}/storage/7?{URL_SIGNATURE}",
                fields=[("b", "2"), ("a", 'quote " and\r\nnewline')],
                file=FilePart(
                    filename='we"ird.png',
                    content_type="image/png",
                    size=3,
                    reader=io.BytesIO(b"abc"),
                ),
                timeout=5,
                connect_timeout=5,
                max_response_bytes=1024,
            )
        finally:
            await transport.aclose()
        assert reply.status == 204
        stored = fake.stored[0]
        assert stored.headers["Content-Length"] == str(len(stored.body))
        assert "Transfer-Encoding" not in stored.headers
        assert b'name="a"\r\n\r\nquote " and\r\nnewline\r\n' in stored.body
        assert b'filename="we%22ird.png"' in stored.body
        assert stored.file.data == b"abc"

    async def test_a_file_that_shrank_raises_its_own_error(self, fake: FakeRunway) -> None:
        transport = AiohttpTransport()
        try:
            with pytest.raises(OSError, match="changed while it was being uploaded") as info:
                await transport.post_form(
                    f"{fake.url}/storage/7?{URL_SIGNATURE}",
                    fields=[],
                    file=FilePart(
                        filename="a.png",
                        content_type="image/png",
                        size=1024 * 1024,
                        reader=io.BytesIO(b"short"),
                    ),
                    timeout=5,
                    connect_timeout=5,
                    max_response_bytes=1024,
                )
        finally:
            await transport.aclose()
        assert not isinstance(info.value, APIConnectionError)
        assert "aiohttp" not in "".join(traceback.format_exception(info.value))

    async def test_a_refused_connection_hides_the_signature(self) -> None:
        transport = AiohttpTransport()
        try:
            with pytest.raises(APIConnectionError) as info:
                await transport.post_form(
                    f"http://127.0.0.1:9/storage?{URL_SIGNATURE}",
                    fields=[],
                    file=FilePart(
                        filename="a.png", content_type="image/png", size=1, reader=io.BytesIO(b"a")
                    ),
                    timeout=5,
                    connect_timeout=5,
                    max_response_bytes=1024,
                )
        finally:
            await transport.aclose()
        assert info.value.sent is False
        text = "".join(traceback.format_exception(info.value)) + str(info.value.cause)
        assert "urlsig" not in text
        assert "upload" in str(info.value)

    async def test_the_form_length_is_exact(self) -> None:
        form = MultipartForm(
            [("k", "v")],
            FilePart(
                filename="a.png", content_type="image/png", size=4, reader=io.BytesIO(b"abcd")
            ),
            boundary="XYZ",
        )
        body = b"".join([chunk async for chunk in form])
        assert len(body) == form.length
        assert form.content_type == "multipart/form-data; boundary=XYZ"


def test_fakes_of_tests_satisfy_the_transport_protocol() -> None:
    assert isinstance(CountingAPI(), HTTPTransport)
    assert not isinstance(object(), HTTPTransport)


class TestOnTheEmulator:
    """The same flows against the emulator, which checks the storage POST as S3 would."""

    async def test_an_uploaded_file_feeds_a_create(
        self, fresh_runway_emulator: Emulator, runway_client: AsyncRunway, png: Path
    ) -> None:
        upload = await runway_client.uploads.create_ephemeral(file=png)
        handle = await runway_client.image_to_video.create(
            model="gen4_turbo", ratio="1280:720", prompt_image=upload.uri
        )
        task = await handle.wait_for_task_output(timeout=30)
        assert task.status == "SUCCEEDED"
        [stored] = (await runway_client.request("GET", "/_emulator/uploads"))["uploads"]
        assert stored["runwayUri"] == upload.uri
        assert stored["uploaded"] is True
        assert stored["sha256"] == hashlib.sha256(PNG).hexdigest()
        assert stored["contentType"] == "image/png"

    async def test_path_parameters_of_many_creates_upload_once(
        self, fresh_runway_emulator: Emulator, runway_client: AsyncRunway, png: Path
    ) -> None:
        handles = await asyncio.gather(
            *(
                runway_client.image_to_video.create(
                    model="gen4_turbo", ratio="1280:720", prompt_image=png
                )
                for _ in range(10)
            )
        )
        tasks = await asyncio.gather(*(h.wait_for_task_output(timeout=30) for h in handles))
        assert {t.status for t in tasks} == {"SUCCEEDED"}
        uploads = (await runway_client.request("GET", "/_emulator/uploads"))["uploads"]
        assert len(uploads) == 1
        assert uploads[0]["size"] == len(PNG)


def test_cli_batch_uploads_file_values_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``runway-async batch``: "file:PATH" media values, relative to the jobs file."""
    jobs_dir = tmp_path / "jobs"
    jobs_dir.mkdir()
    (jobs_dir / "cat.png").write_bytes(PNG)
    line = {
        "endpoint": "image_to_video",
        "params": {"model": "gen4_turbo", "ratio": "1280:720", "prompt_image": "file:cat.png"},
    }
    jobs = jobs_dir / "jobs.jsonl"
    jobs.write_text("\n".join(json.dumps({**line, "id": str(n)}) for n in range(3)) + "\n")
    out = tmp_path / "out"
    emulator = Emulator(time_scale=0.002, durations={"video": 0.5}, seed=3)
    with emulator.in_thread() as emu:
        for name, value in emu.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)  # not the jobs file's directory
        result = CliRunner().invoke(
            cli.build_cli(), ["batch", str(jobs), "--out", str(out), "--timeout", "60"]
        )
        with urllib.request.urlopen(f"{emu.url}/_emulator/uploads") as reply:  # noqa: S310
            uploads = json.load(reply)["uploads"]
    assert result.exit_code == 0, result.output
    rows = [json.loads(row) for row in (out / "results.jsonl").read_text().splitlines()]
    assert [row["status"] for row in rows] == ["SUCCEEDED"] * 3
    assert len(uploads) == 1
    assert uploads[0]["receivedFilename"] == "cat.png"


def test_cli_batch_help_explains_file_values() -> None:
    result = CliRunner().invoke(cli.build_cli(), ["batch", "--help"])
    assert '"file:PATH"' in result.output


class RecordingTransport(AiohttpTransport):
    """The default transport, recording each API request and storage POST in order."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, Any]] = []  # (method, path, JSON body)

    async def send(self, request: Request) -> Response:
        path = "/" + request.url.split("://", 1)[1].partition("/")[2]
        self.sent.append((request.method, path, request.json))
        return await super().send(request)

    async def post_form(self, url: str, **kwargs: Any) -> Response:
        self.sent.append(("POST", "storage", None))
        return await super().post_form(url, **kwargs)

    def bodies(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body in self.sent if (m, p) == (method, path)]


@pytest.fixture
async def recorded(
    fresh_runway_emulator: Emulator,
) -> AsyncIterator[tuple[AsyncRunway, RecordingTransport]]:
    transport = RecordingTransport()
    async with AsyncRunway(
        fresh_runway_emulator.api_key, base_url=fresh_runway_emulator.url, transport=transport
    ) as runway:
        yield runway, transport
    await transport.aclose()


async def emulator_uploads(emulator: Emulator) -> list[dict[str, Any]]:
    async with AsyncRunway(emulator.api_key, base_url=emulator.url) as runway:
        uploads: list[dict[str, Any]] = (await runway.request("GET", "/_emulator/uploads"))[
            "uploads"
        ]
    return uploads


AVATAR: dict[str, Any] = {
    "name": "Ada",
    "personality": "Warm, curious and brief.",
    "voice": {"type": "runway-live-preset", "preset_id": "victoria"},
}


class TestPlainEndpointPaths:
    """A pathlib.Path in a media member of a plain call is uploaded before the call is sent."""

    async def test_an_avatar_reference_image_is_uploaded_then_created_and_updated(
        self,
        fresh_runway_emulator: Emulator,
        recorded: tuple[AsyncRunway, RecordingTransport],
        png: Path,
    ) -> None:
        runway, transport = recorded
        avatar = await runway.avatars.create(reference_image=png, **AVATAR)
        [upload] = await emulator_uploads(fresh_runway_emulator)
        assert upload["uploaded"] is True
        assert upload["sha256"] == hashlib.sha256(PNG).hexdigest()
        assert upload["contentType"] == "image/png"
        assert [(m, p) for m, p, _ in transport.sent] == [
            ("POST", "/v1/uploads"),
            ("POST", "storage"),
            ("POST", "/v1/avatars"),
        ]
        [body] = transport.bodies("POST", "/v1/avatars")
        assert body["referenceImage"] == upload["runwayUri"]
        assert body["name"] == "Ada"
        # The same file again (an update): the client's cache reuses its URI.
        await runway.avatars.update(avatar.id, reference_image=Path(str(png)))
        [patch] = transport.bodies("PATCH", f"/v1/avatars/{avatar.id}")
        assert patch == {"referenceImage": upload["runwayUri"]}
        assert len(await emulator_uploads(fresh_runway_emulator)) == 1
        assert len(transport.bodies("POST", "/v1/uploads")) == 1

    async def test_a_voice_from_an_audio_path(
        self,
        fresh_runway_emulator: Emulator,
        recorded: tuple[AsyncRunway, RecordingTransport],
        tmp_path: Path,
    ) -> None:
        runway, transport = recorded
        sample = tmp_path / "me.wav"
        sample.write_bytes(b"RIFF\x24\x08\x00\x00WAVEfmt " + bytes(2048))
        created = await runway.voices.create(from_={"type": "audio", "audio": sample}, name="Me")
        assert created.id
        [upload] = await emulator_uploads(fresh_runway_emulator)
        assert upload["contentType"] == "audio/wav"
        [body] = transport.bodies("POST", "/v1/voices")
        assert body["from"] == {"type": "audio", "audio": upload["runwayUri"]}

    async def test_a_file_of_the_wrong_kind_is_refused_with_its_field(
        self,
        fresh_runway_emulator: Emulator,
        recorded: tuple[AsyncRunway, RecordingTransport],
        png: Path,
    ) -> None:
        runway, transport = recorded
        with pytest.raises(InvalidRequestError, match="takes an audio") as info:
            await runway.voices.create(from_={"type": "audio", "audio": png}, name="Me")
        assert info.value.field == "from_.audio"
        assert transport.sent == []

    async def test_workflow_node_outputs_take_an_image_path(
        self,
        fresh_runway_emulator: Emulator,
        recorded: tuple[AsyncRunway, RecordingTransport],
        png: Path,
    ) -> None:
        runway, transport = recorded
        workflow_id = fresh_runway_emulator.add_workflow(
            "wf", inputs={"in": {"image": {"type": "image", "uri": "https://example.com/a.png"}}}
        )
        run = await runway.workflows.run(
            workflow_id, node_outputs={"in": {"image": {"type": "image", "uri": png}}}
        )
        assert run.id
        [upload] = await emulator_uploads(fresh_runway_emulator)
        [body] = transport.bodies("POST", f"/v1/workflows/{workflow_id}")
        assert body == {
            "nodeOutputs": {"in": {"image": {"type": "image", "uri": upload["runwayUri"]}}}
        }

    @pytest.mark.parametrize(
        ("call", "field"),
        [
            (
                lambda runway, path: runway.avatars.create(
                    reference_image=path, **{**AVATAR, "name": path}
                ),
                "name",
            ),
            (lambda runway, path: runway.avatars.update("av-1", start_script=path), "start_script"),
            (lambda runway, path: runway.avatars.retrieve(path), "id"),
            (
                lambda runway, path: runway.workflows.run(
                    "wf-1", node_outputs={"in": {"text": {"type": "primitive", "value": path}}}
                ),
                "node_outputs.in.text.value",
            ),
        ],
        ids=["body", "nullable-body", "path-parameter", "inside-a-map"],
    )
    async def test_a_path_outside_media_members_is_refused_and_nothing_sent(
        self,
        fresh_runway_emulator: Emulator,
        recorded: tuple[AsyncRunway, RecordingTransport],
        png: Path,
        call: Callable[[AsyncRunway, Path], Awaitable[object]],
        field: str,
    ) -> None:
        runway, transport = recorded
        with pytest.raises(InvalidRequestError, match="takes no media") as info:
            await call(runway, png)
        assert info.value.field == field
        assert field in str(info.value)
        assert transport.sent == []
        assert await emulator_uploads(fresh_runway_emulator) == []

    async def test_a_small_file_goes_inline_when_the_client_allows(
        self, fresh_runway_emulator: Emulator, png: Path
    ) -> None:
        transport = RecordingTransport()
        async with AsyncRunway(
            fresh_runway_emulator.api_key,
            base_url=fresh_runway_emulator.url,
            transport=transport,
            inline_max_bytes=len(PNG),
        ) as runway:
            await runway.avatars.create(reference_image=png, **AVATAR)
        await transport.aclose()
        [body] = transport.bodies("POST", "/v1/avatars")
        assert body["referenceImage"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
        assert transport.bodies("POST", "/v1/uploads") == []

    def test_media_parameters_are_typed_to_take_a_path(self) -> None:
        from runway_async import _sync
        from runway_async._resources.avatars import Avatars
        from runway_async._resources.generation import ImageToVideo
        from runway_async.types import AudioVoiceSource, ImageMedia

        def annotation(method: Callable[..., object], name: str) -> str:
            return str(inspect.signature(method).parameters[name].annotation)

        assert "os.PathLike[str]" in annotation(ImageToVideo.create, "prompt_image")
        assert "os.PathLike[str]" in annotation(_sync.ImageToVideo.create, "prompt_image")
        assert "os.PathLike[str]" in annotation(Avatars.create, "reference_image")
        assert "os.PathLike[str]" in annotation(Avatars.update, "reference_image")
        assert "os.PathLike[str]" in str(AudioVoiceSource.__annotations__["audio"])
        assert "os.PathLike[str]" in str(ImageMedia.__annotations__["uri"])
        # Fields that take no media stay plain strings.
        assert "PathLike" not in annotation(ImageToVideo.create, "prompt_text")
        assert "PathLike" not in annotation(Avatars.create, "name")
