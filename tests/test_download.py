"""Downloads of task outputs: content, atomic writes, credentials, file names, retries."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yarl
from aiohttp import web

from runway_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncRunway,
    BadRequestError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PollConfig,
    ResponseValidationError,
    RetryConfig,
    SucceededTask,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
)
from runway_async._download import (
    DownloadedFile,
    download_outputs,
    output_file_name,
    safe_filename,
    url_file_name,
)
from runway_async._http import redact_url
from runway_async.emulator import Emulator

from .conftest import API_KEY, half_then_drop, hang, json_reply

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
CREATED = "2025-01-01T00:00:00Z"


def task_json(status: str, task_id: str = "t1", **fields: object) -> dict[str, object]:
    return {"id": task_id, "status": status, "createdAt": CREATED, **fields}


def succeeded(*urls: str, task_id: str = "t1") -> SucceededTask:
    return SucceededTask(id=task_id, created_at=datetime.now(timezone.utc), output=urls)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- scripted hosts -------------------------------------------------------------------------


class Host:
    """A loopback server answering scripted paths and recording every request's headers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: dict[str, list[Handler]] = {}
        self.default: Handler | None = None
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    def on(self, path: str, *handlers: Handler) -> str:
        """Queue handlers for ``path`` (the last one repeats); return its absolute URL."""
        self.routes.setdefault(path, []).extend(handlers)
        return self.url + path

    def hits(self, path: str) -> list[dict[str, str]]:
        """Return the headers of every request to ``path``."""
        return [headers for seen, headers in self.requests if seen == path]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.split("?", 1)[0]
        self.requests.append((path, dict(request.headers)))
        queue = self.routes.get(path)
        if queue:
            handler = queue.pop(0) if len(queue) > 1 else queue[0]
        elif self.default is not None:
            handler = self.default
        else:
            return web.json_response({"error": "no route"}, status=404)
        return await handler(request)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://{self.name}:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


HostFactory = Callable[..., Awaitable[Host]]


@pytest_asyncio.fixture
async def hosts() -> AsyncIterator[HostFactory]:
    """Start scripted loopback hosts on demand, stopped after the test."""
    started: list[Host] = []

    async def make(name: str = "127.0.0.1") -> Host:
        host = Host(name)
        await host.start()
        started.append(host)
        return host

    yield make
    for host in started:
        await host.stop()


@pytest_asyncio.fixture
async def out(hosts: HostFactory) -> Host:
    """Return one scripted output host."""
    return await hosts()


@pytest_asyncio.fixture
async def client(out: Host) -> AsyncIterator[AsyncRunway]:
    """Return a client whose API is the scripted host (only used for task GETs)."""
    async with AsyncRunway(API_KEY, base_url=out.url) as runway:
        yield runway


def file_reply(data: bytes = PNG, content_type: str = "image/png") -> Handler:
    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(body=data, content_type=content_type)

    return handler


def streamed_reply(data: bytes, content_type: str = "image/png") -> Handler:
    """Answer ``data`` in chunked encoding, without a Content-Length."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(data), 512):
            await response.write(data[start : start + 512])
        await response.write_eof()
        return response

    return handler


def half_then_hold(data: bytes, sent: asyncio.Event) -> Handler:
    """Send half of ``data``, signal ``sent``, then never finish."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "image/png", "Content-Length": str(len(data))}
        )
        await response.prepare(request)
        await response.write(data[: len(data) // 2])
        sent.set()
        await asyncio.Event().wait()
        return response

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return handler


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


# -- against the emulator -------------------------------------------------------------------


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Start a fast emulator for one test."""
    async with Emulator(time_scale=0.002, seed=7) as emu:
        yield emu


@pytest_asyncio.fixture
async def emu_client(emulator: Emulator) -> AsyncIterator[AsyncRunway]:
    """Return our client pointed at the emulator."""
    async with AsyncRunway(
        API_KEY, base_url=emulator.url, poll=PollConfig(interval=0.01)
    ) as runway:
        yield runway


def is_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n")


def is_wav(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def is_mp4(data: bytes) -> bool:
    return data[4:8] == b"ftyp"


MEDIA_CASES: list[Any] = [
    pytest.param(
        "text_to_image",
        {"model": "gen4_image", "prompt_text": "a red fox", "ratio": "1920:1080"},
        ".png",
        "image/png",
        is_png,
        id="png",
    ),
    pytest.param(
        "sound_effect",
        {"model": "eleven_text_to_sound_v2", "prompt_text": "door", "duration": 0.5},
        ".wav",
        "audio/wav",
        is_wav,
        id="wav",
    ),
    pytest.param(
        "text_to_video",
        {"model": "gen4.5", "prompt_text": "waves", "ratio": "1280:720", "duration": 5},
        ".mp4",
        "video/mp4",
        is_mp4,
        id="mp4",
    ),
]


class TestEmulatorOutputs:
    """Real outputs from the emulator, over loopback."""

    @pytest.mark.parametrize(("endpoint", "params", "extension", "media", "magic"), MEDIA_CASES)
    async def test_output_content_and_hash(
        self,
        emu_client: AsyncRunway,
        tmp_path: Path,
        endpoint: str,
        params: dict[str, Any],
        extension: str,
        media: str,
        magic: Callable[[bytes], bool],
    ) -> None:
        """A finished task's output lands as <task>_0<ext> with the right bytes and SHA-256."""
        resource = getattr(emu_client, endpoint)
        handle = await resource.create(**params)
        task = await handle.wait_for_task_output(timeout=30)
        files = await download_outputs(emu_client._core, task, tmp_path / "out")
        assert len(files) == 1
        got = files[0]
        data = got.path.read_bytes()
        assert magic(data)
        assert got.path == tmp_path / "out" / f"{task.id}_0{extension}"
        assert got.sha256 == sha256(data)
        assert got.bytes == len(data)
        assert got.content_type == media
        assert got.url == task.output[0]
        assert listing(tmp_path / "out") == [got.path.name]

    async def test_handle_and_id_sources(self, emu_client: AsyncRunway, tmp_path: Path) -> None:
        """A TaskHandle (via the client) or a task id is fetched first; names get a number."""
        handle = await emu_client.text_to_image.create(
            model="gen4_image", prompt_text="a fox", ratio="1920:1080"
        )
        await handle.wait_for_task_output(timeout=30)
        by_handle = await emu_client.download(handle, tmp_path)
        by_id = await download_outputs(emu_client._core, handle.id, tmp_path)
        assert by_handle[0].path.name == f"{handle.id}_0.png"
        assert by_id[0].path.name == f"{handle.id}_0 (1).png"
        assert by_handle[0].sha256 == by_id[0].sha256

    async def test_bare_output_url(self, emu_client: AsyncRunway, tmp_path: Path) -> None:
        """A bare output URL is saved under its own sanitised last segment."""
        handle = await emu_client.text_to_image.create(
            model="gen4_image", prompt_text="a fox", ratio="1920:1080"
        )
        task = await handle.wait_for_task_output(timeout=30)
        (got,) = await download_outputs(emu_client._core, task.output[0], tmp_path)
        assert got.path == tmp_path / "0.png"
        assert is_png(got.path.read_bytes())

    async def test_deleted_task_refetched_once_then_fails(
        self, emu_client: AsyncRunway, emulator: Emulator, tmp_path: Path
    ) -> None:
        """A gone output makes one task re-GET; a deleted task then fails with nothing written."""
        handle = await emu_client.text_to_image.create(
            model="gen4_image", prompt_text="a fox", ratio="1920:1080"
        )
        task = await handle.wait_for_task_output(timeout=30)
        await handle.cancel()  # deletes the ended task: its outputs answer 404
        before = emulator.metrics()["requests"]
        with pytest.raises(NotFoundError):
            await download_outputs(emu_client._core, task, tmp_path)
        after = emulator.metrics()["requests"]
        gets = [k for k in after if k.startswith("GET /v1/tasks")]
        assert sum(after[k].get("404", 0) - before.get(k, {}).get("404", 0) for k in gets) == 1
        assert listing(tmp_path) == []


# -- failure cases against scripted hosts ----------------------------------------------------


class TestSources:
    """What download_outputs accepts and how it fails on tasks without outputs."""

    async def test_unfinished_task_fails_clearly(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A task id whose task is still RUNNING raises TaskError and writes nothing."""
        out.on("/v1/tasks/t1", json_reply(task_json("RUNNING", progress=0.4)))
        with pytest.raises(TaskError, match="has not succeeded yet") as info:
            await download_outputs(client._core, "t1", tmp_path / "out")
        assert info.value.task is not None
        assert info.value.task.status == "RUNNING"
        assert not (tmp_path / "out").exists()

    async def test_failed_task_raises_task_failed(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A FAILED task raises TaskFailedError, a CANCELLED one TaskCancelledError."""
        failed = task_json("FAILED", failure="bad", failureCode="SAFETY.INPUT.TEXT")
        out.on("/v1/tasks/t1", json_reply(failed))
        out.on("/v1/tasks/t2", json_reply(task_json("CANCELLED", task_id="t2")))
        with pytest.raises(TaskFailedError) as info:
            await download_outputs(client._core, "t1", tmp_path)
        assert not isinstance(info.value, TaskCancelledError)
        with pytest.raises(TaskCancelledError):
            await download_outputs(client._core, "t2", tmp_path)

    async def test_wrong_type_is_refused(self, client: AsyncRunway, tmp_path: Path) -> None:
        """Anything but a task, handle, id or URL is a TypeError."""
        with pytest.raises(TypeError, match="source must be"):
            await download_outputs(client._core, 42, tmp_path)  # type: ignore[arg-type]

    async def test_several_outputs_in_order(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """Every output of a task is downloaded, named by its index."""
        first = out.on("/a.png", file_reply(b"first"))
        second = out.on("/b", file_reply(b"second", "image/jpeg"))
        files = await download_outputs(client._core, succeeded(first, second), tmp_path)
        assert [f.path.name for f in files] == ["t1_0.png", "t1_1.jpg"]
        assert [f.path.read_bytes() for f in files] == [b"first", b"second"]

    def test_downloaded_file_repr_hides_the_url(self, tmp_path: Path) -> None:
        """A DownloadedFile's repr leaves out the signed URL."""
        got = DownloadedFile(
            path=tmp_path / "a.png",
            url="https://cdn.example/a.png?sig=SECRET",
            sha256="0" * 64,
            bytes=1,
            content_type=None,
        )
        assert "SECRET" not in repr(got)


class TestAtomicWrites:
    """A final name only ever holds a complete file; failures leave nothing behind."""

    async def test_drop_mid_body_leaves_nothing(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A connection cut mid-body leaves neither the final file nor the temp file."""
        url = out.on("/o.png", half_then_drop(PNG))
        with pytest.raises(APIConnectionError):
            await download_outputs(client._core, succeeded(url), tmp_path, max_retries=0)
        assert listing(tmp_path) == []

    async def test_drop_then_retry_succeeds(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """After a cut mid-body the retry starts the file afresh and succeeds."""
        url = out.on("/o.png", half_then_drop(PNG), file_reply())
        (got,) = await download_outputs(client._core, succeeded(url), tmp_path, max_retries=1)
        assert got.path.read_bytes() == PNG
        assert got.sha256 == sha256(PNG)
        assert got.bytes == len(PNG)
        assert len(out.hits("/o.png")) == 2
        assert listing(tmp_path) == ["t1_0.png"]

    async def test_cancelled_download_leaves_nothing(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """Cancelling a download mid-body removes its temp file."""
        sent = asyncio.Event()
        url = out.on("/o.png", half_then_hold(PNG, sent))
        job = asyncio.ensure_future(download_outputs(client._core, succeeded(url), tmp_path))
        await sent.wait()
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        assert listing(tmp_path) == []

    async def test_failed_download_keeps_the_old_file(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """Even with overwrite, a failed download leaves an existing file untouched."""
        (tmp_path / "t1_0.png").write_bytes(b"mine")
        url = out.on("/o.png", half_then_drop(PNG))
        with pytest.raises(APIConnectionError):
            await download_outputs(
                client._core, succeeded(url), tmp_path, overwrite=True, max_retries=0
            )
        assert listing(tmp_path) == ["t1_0.png"]
        assert (tmp_path / "t1_0.png").read_bytes() == b"mine"


class TestNoCredentials:
    """Nothing that identifies the caller reaches an output host."""

    FORBIDDEN = ("authorization", "cookie", "x-runway-version", "x-team-token", "x-default")

    @pytest.mark.parametrize("injected", [False, True], ids=["own-session", "injected-session"])
    async def test_no_key_headers_or_cookies(
        self, hosts: HostFactory, tmp_path: Path, injected: bool
    ) -> None:
        """The output host sees no API key, default header or cookie set by the API host."""
        # Both on "localhost": cookies ignore ports, so a cookie jar would send the API's
        # cookie to the output host.
        api = await hosts("localhost")
        cdn = await hosts("localhost")
        url = cdn.on("/o.png", file_reply())

        async def task_with_cookie(_request: web.Request) -> web.StreamResponse:
            response = web.json_response(task_json("SUCCEEDED", output=[url]))
            response.set_cookie("session", "api-cookie-value")
            return response

        api.on("/v1/tasks/t1", task_with_cookie)
        session = (
            aiohttp.ClientSession(headers={"X-Default": "session-secret"}) if injected else None
        )
        try:
            async with AsyncRunway(
                API_KEY,
                base_url=api.url,
                session=session,
                default_headers={"X-Team-Token": "team-secret"},
            ) as runway:
                await download_outputs(runway._core, "t1", tmp_path)
            if session is not None:
                # The injected session did keep the cookie: a leak would have shown.
                kept = session.cookie_jar.filter_cookies(yarl.URL(url))
                assert "session" in kept
        finally:
            if session is not None:
                await session.close()
        (api_headers,) = api.hits("/v1/tasks/t1")
        assert api_headers["Authorization"] == f"Bearer {API_KEY}"
        (headers,) = cdn.hits("/o.png")
        lowered = {name.lower(): value for name, value in headers.items()}
        assert not set(lowered) & set(self.FORBIDDEN)
        assert lowered["user-agent"].startswith("runway-async/")
        assert API_KEY not in repr(headers)

    async def test_no_netrc_credentials(
        self, client: AsyncRunway, out: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A .netrc entry that aiohttp would send with trust_env never reaches the host."""
        netrc = tmp_path / "netrc"
        netrc.write_text("default login someone password hunter2\n")
        monkeypatch.setenv("NETRC", str(netrc))
        url = out.on("/o.png", file_reply())
        async with aiohttp.ClientSession(trust_env=True) as plain, plain.get(url) as resp:
            await resp.read()
        assert "Authorization" in out.hits("/o.png")[0]  # what trust_env alone would do
        await download_outputs(client._core, url, tmp_path / "out")
        assert "Authorization" not in out.hits("/o.png")[1]

    async def test_redirect_to_another_host(
        self, client: AsyncRunway, hosts: HostFactory, out: Host, tmp_path: Path
    ) -> None:
        """A redirect is followed to another host, still without credentials."""
        other = await hosts("localhost")
        target = other.on("/real.png", file_reply())
        url = out.on("/o.png", redirect(target, 307))
        (got,) = await download_outputs(client._core, succeeded(url), tmp_path)
        assert got.path.read_bytes() == PNG
        assert got.path.name == "t1_0.png"
        assert got.url == url
        (headers,) = other.hits("/real.png")
        assert "Authorization" not in headers
        assert "Cookie" not in headers

    @pytest.mark.parametrize(
        "location",
        [
            "file:///etc/passwd",
            "ftp://127.0.0.1/o.png",
            "http://example.com/o.png",
            "http://user:pw@127.0.0.1/o.png",
        ],
    )
    async def test_refused_redirects(
        self, client: AsyncRunway, out: Host, tmp_path: Path, location: str
    ) -> None:
        """A redirect to a non-http(s) scheme, remote plain http or user info is refused."""
        url = out.on("/o.png", redirect(location))
        with pytest.raises(ResponseValidationError, match="refused"):
            await download_outputs(client._core, url, tmp_path)
        assert listing(tmp_path) == []
        assert len(out.requests) == 1

    async def test_redirect_loop_stops(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """Redirects are followed a few times only."""
        url = out.on("/o.png", redirect("/o.png"))
        with pytest.raises(ResponseValidationError, match="redirected more than"):
            await download_outputs(client._core, url, tmp_path)
        assert len(out.requests) == 6
        assert listing(tmp_path) == []

    async def test_messages_never_show_the_signature(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """Errors name the host and path of a signed URL, never its query."""
        url = out.on("/o.png", json_reply({"error": "sig=SECRET"}, status=500)) + "?sig=SECRET"
        with pytest.raises(InternalServerError) as info:
            await download_outputs(client._core, url, tmp_path, max_retries=0)
        assert "SECRET" not in str(info.value)
        assert info.value.url == f"{out.url}/o.png"
        dead = f"http://127.0.0.1:{closed_port()}/o.png?sig=SECRET"
        with pytest.raises(APIConnectionError) as conn:
            await download_outputs(client._core, dead, tmp_path, max_retries=0)
        assert "SECRET" not in str(conn.value)
        assert "SECRET" not in str(conn.value.url)

    def test_redact_url(self) -> None:
        """redact_url keeps scheme, host, port and path only."""
        got = redact_url("https://u:p@cdn.example:8443/a/b.mp4?X-Amz-Signature=abc#frag")
        assert got == "https://cdn.example:8443/a/b.mp4"


class TestUrlPolicy:
    """Only https, or plain http to loopback hosts, is downloaded."""

    @pytest.mark.parametrize(
        "url",
        [
            "http://example.com/o.png",
            "http://10.0.0.1/o.png",
            "ftp://127.0.0.1/o.png",
            "file:///etc/passwd",
            "https://user:pw@example.com/o.png",
            "https:///no-host.png",
            "javascript:alert(1)",
            "relative/o.png",
        ],
    )
    async def test_refused_before_any_io(
        self, client: AsyncRunway, out: Host, tmp_path: Path, url: str
    ) -> None:
        """A refused URL raises InvalidRequestError before creating the directory."""
        with pytest.raises(InvalidRequestError, match="Refused to download"):
            await download_outputs(client._core, url, tmp_path / "out")
        assert not (tmp_path / "out").exists()
        assert out.requests == []

    async def test_task_output_over_remote_http_refused(
        self, client: AsyncRunway, tmp_path: Path
    ) -> None:
        """A task whose output URL is plain http to a remote host is refused too."""
        with pytest.raises(InvalidRequestError, match="plain http"):
            await download_outputs(client._core, succeeded("http://cdn.example/o.png"), tmp_path)
        assert listing(tmp_path) == []


class TestFileNames:
    """Whatever the URL says, files land directly inside the directory, with safe names."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("/files/..%2F..%2Fescape.png", "_.._escape.png"),
            ("/files/%2e%2e%2f%2e%2e%2fescape.png", "_.._escape.png"),
            ("/files/..%5C..%5Cescape.png", "_.._escape.png"),
            ("/files/../../escape.png", "escape.png"),
            ("/files/%2Fetc%2Fpasswd", "_etc_passwd.png"),
            ("/files/C:%5CWindows%5Cwin.ini", "C__Windows_win.ini"),
            ("/files/evil%00.png", "evil_.png"),
            ("/files/CON.png", "_CON.png"),
            ("/files/nul", "_nul.png"),
            ("/files/%2e%2e", "download.png"),
            ("/files/", "download.png"),
            ("/files/.bashrc", "bashrc.png"),
            ("/files/" + "a" * 400 + ".png", "a" * 196 + ".png"),
        ],
    )
    async def test_traversal_urls_stay_inside(
        self, client: AsyncRunway, out: Host, tmp_path: Path, raw: str, expected: str
    ) -> None:
        """Traversal, absolute paths, encoded separators, NUL and device names are defused."""
        out.default = file_reply()
        target = tmp_path / "inside" / "dir"
        (got,) = await download_outputs(client._core, out.url + raw, target)
        assert got.path.parent == target
        assert got.path.name == expected
        assert listing(target) == [expected]
        assert listing(tmp_path) == ["inside"]
        assert listing(tmp_path / "inside") == ["dir"]

    async def test_task_id_cannot_escape(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A task id holding a path is made safe before naming its outputs."""
        url = out.on("/o.png", file_reply())
        (got,) = await download_outputs(
            client._core, succeeded(url, task_id="../../escape"), tmp_path / "d"
        )
        assert got.path == tmp_path / "d" / "_.._escape_0.png"

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("photo.png", "photo.png"),
            ("a/b\\c", "a_b_c"),
            ("..", "download"),
            ("...hidden", "hidden"),
            ("trailing. ", "trailing"),
            ("x\x00y\x1fz\u202e", "x_y_z_"),
            ('what?<>:"|*.png', "what_______.png"),
            ("com1.txt", "_com1.txt"),
            ("LPT9", "_LPT9"),
            ("con .txt", "_con .txt"),
            ("COM¹.mp4", "_COM¹.mp4"),
            ("console.png", "console.png"),
            ("é" * 150 + ".mp4", "é" * 98 + ".mp4"),
        ],
    )
    def test_safe_filename(self, name: str, expected: str) -> None:
        """safe_filename neutralises separators, controls, dots, devices and length."""
        got = safe_filename(name)
        assert got == expected
        assert len(got.encode()) <= 200

    @pytest.mark.parametrize(
        ("url", "content_type", "expected"),
        [
            ("https://cdn.example/x/out.MP4?sig=1", "video/mp4", "t1_0.mp4"),
            ("https://cdn.example/x/out", "image/jpeg", "t1_0.jpg"),
            ("https://cdn.example/x/out.p-h-p", "audio/wav", "t1_0.wav"),
            ("https://cdn.example/x/out.verylongext", None, "t1_0.bin"),
            ("https://cdn.example/x/out", "application/x-unknown-thing", "t1_0.bin"),
        ],
    )
    def test_output_names(self, url: str, content_type: str | None, expected: str) -> None:
        """Task outputs are <task>_<n> plus the URL's safe suffix, else the type's, else .bin."""
        assert output_file_name("t1", 0, url, content_type) == expected

    def test_url_names_get_an_extension(self) -> None:
        """A bare URL's name without an extension gets one from the Content-Type."""
        assert url_file_name("https://cdn.example/a/report", "image/png") == "report.png"
        assert url_file_name("https://cdn.example/a/report.pdf", "image/png") == "report.pdf"


class TestOverwrite:
    """overwrite=False never clobbers; overwrite=True replaces atomically."""

    async def test_existing_file_is_kept(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """Without overwrite, new files are numbered and existing ones untouched."""
        (tmp_path / "t1_0.png").write_bytes(b"mine")
        url = out.on("/o.png", file_reply())
        (first,) = await download_outputs(client._core, succeeded(url), tmp_path)
        (second,) = await download_outputs(client._core, succeeded(url), tmp_path)
        assert first.path.name == "t1_0 (1).png"
        assert second.path.name == "t1_0 (2).png"
        assert (tmp_path / "t1_0.png").read_bytes() == b"mine"
        assert first.path.read_bytes() == PNG

    async def test_overwrite_replaces(self, client: AsyncRunway, out: Host, tmp_path: Path) -> None:
        """With overwrite, the file of the same name is replaced."""
        (tmp_path / "t1_0.png").write_bytes(b"mine")
        url = out.on("/o.png", file_reply())
        (got,) = await download_outputs(client._core, succeeded(url), tmp_path, overwrite=True)
        assert got.path == tmp_path / "t1_0.png"
        assert got.path.read_bytes() == PNG
        assert listing(tmp_path) == ["t1_0.png"]

    async def test_without_hard_links(
        self, client: AsyncRunway, out: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On a filesystem without hard links, existing files are still never clobbered."""

        def no_link(*_args: object, **_kwargs: object) -> None:
            raise PermissionError("hard links not supported")

        monkeypatch.setattr(os, "link", no_link)
        (tmp_path / "t1_0.png").write_bytes(b"mine")
        url = out.on("/o.png", file_reply())
        (got,) = await download_outputs(client._core, succeeded(url), tmp_path)
        assert got.path.name == "t1_0 (1).png"
        assert (tmp_path / "t1_0.png").read_bytes() == b"mine"
        assert listing(tmp_path) == ["t1_0 (1).png", "t1_0.png"]


class TestExpiredUrls:
    """An expired signed URL makes one re-GET of the task for fresh URLs."""

    @pytest.mark.parametrize("status", [401, 403, 404, 410])
    async def test_refetch_once_then_succeed(
        self, client: AsyncRunway, out: Host, tmp_path: Path, status: int
    ) -> None:
        """A 401/403/404/410 on a task's URL fetches the task again and uses the fresh URL."""
        old = out.on("/old.png", json_reply({"error": "expired"}, status=status))
        new = out.on("/new.png", file_reply())
        out.on(
            "/v1/tasks/t1",
            json_reply(task_json("SUCCEEDED", output=[old])),
            json_reply(task_json("SUCCEEDED", output=[new])),
        )
        task = await client.tasks.retrieve("t1")
        assert isinstance(task, SucceededTask)
        (got,) = await download_outputs(client._core, task, tmp_path)
        assert got.url == new
        assert got.path.read_bytes() == PNG
        assert len(out.hits("/v1/tasks/t1")) == 2
        assert len(out.hits("/old.png")) == 1
        assert len(out.hits("/new.png")) == 1

    async def test_refetch_only_once(self, client: AsyncRunway, out: Host, tmp_path: Path) -> None:
        """When the fresh URL is refused too, the error is raised after one re-GET."""
        url = out.on("/o.png", json_reply({"error": "expired"}, status=403))
        out.on("/v1/tasks/t1", json_reply(task_json("SUCCEEDED", output=[url])))
        with pytest.raises(PermissionDeniedError):
            await download_outputs(client._core, succeeded(url), tmp_path)
        assert len(out.hits("/v1/tasks/t1")) == 1
        assert len(out.hits("/o.png")) == 2
        assert listing(tmp_path) == []

    async def test_one_refetch_serves_every_output(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """One re-GET refreshes all outputs of the task."""
        gone = json_reply({"error": "expired"}, status=403)
        old = [out.on("/old0.png", gone), out.on("/old1.png", gone)]
        new = [out.on("/new0.png", file_reply(b"0")), out.on("/new1.png", file_reply(b"1"))]
        out.on("/v1/tasks/t1", json_reply(task_json("SUCCEEDED", output=new)))
        files = await download_outputs(client._core, succeeded(*old), tmp_path)
        assert [f.path.read_bytes() for f in files] == [b"0", b"1"]
        assert len(out.hits("/v1/tasks/t1")) == 1
        assert len(out.hits("/old1.png")) == 0

    async def test_bare_url_is_not_refetched(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A 403 on a bare URL is final: there is no task to ask."""
        url = out.on("/o.png", json_reply({"error": "expired"}, status=403))
        with pytest.raises(PermissionDeniedError):
            await download_outputs(client._core, url, tmp_path)
        assert len(out.requests) == 1


class TestRetries:
    """Transient failures are retried, boundedly; others are not."""

    @pytest.mark.parametrize("status", [408, 429, 500, 503])
    async def test_transient_status_retried(
        self, client: AsyncRunway, out: Host, tmp_path: Path, status: int
    ) -> None:
        """408, 429 and 5xx are retried."""
        busy = json_reply({"error": "busy"}, status=status, headers={"Retry-After": "1"})
        url = out.on("/o.png", busy, file_reply())
        (got,) = await download_outputs(client._core, url, tmp_path)
        assert got.path.read_bytes() == PNG
        assert len(out.requests) == 2

    async def test_retries_are_bounded(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """After max_retries the last error is raised."""
        url = out.on("/o.png", json_reply({"error": "down"}, status=503))
        with pytest.raises(InternalServerError):
            await download_outputs(client._core, url, tmp_path, max_retries=2)
        assert len(out.requests) == 3
        assert listing(tmp_path) == []

    async def test_retries_honour_max_total(self, out: Host, tmp_path: Path) -> None:
        """No retry when its back-off would pass RetryConfig.max_total (the API's policy)."""
        busy = json_reply({"error": "busy"}, status=503, headers={"Retry-After": "5"})
        url = out.on("/o.png", busy, file_reply())
        retry = RetryConfig(max_total=1.0)
        async with AsyncRunway(API_KEY, base_url=out.url, retry=retry) as runway:
            with pytest.raises(InternalServerError) as info:
                await download_outputs(runway._core, url, tmp_path)
        assert info.value.retry_after == 5.0
        assert len(out.requests) == 1
        assert listing(tmp_path) == []

    async def test_client_errors_not_retried(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A 400 is raised at once."""
        url = out.on("/o.png", json_reply({"error": "bad"}, status=400))
        with pytest.raises(BadRequestError):
            await download_outputs(client._core, succeeded(url), tmp_path)
        assert len(out.requests) == 1

    async def test_timeout_retried(self, client: AsyncRunway, out: Host, tmp_path: Path) -> None:
        """A download that stalls times out and is retried."""
        url = out.on("/o.png", hang(), file_reply())
        (got,) = await download_outputs(client._core, url, tmp_path, timeout=0.2)
        assert got.path.read_bytes() == PNG
        assert len(out.requests) == 2

    async def test_timeout_error_when_retries_spent(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A stall with no retries left raises APITimeoutError and leaves nothing."""
        url = out.on("/o.png", hang())
        with pytest.raises(APITimeoutError):
            await download_outputs(client._core, url, tmp_path, timeout=0.1, max_retries=0)
        assert listing(tmp_path) == []

    async def test_connection_refused(self, client: AsyncRunway, tmp_path: Path) -> None:
        """A host that refuses connections raises APIConnectionError after the retries."""
        url = f"http://127.0.0.1:{closed_port()}/o.png"
        with pytest.raises(APIConnectionError) as info:
            await download_outputs(client._core, url, tmp_path)
        assert info.value.sent is False
        assert listing(tmp_path) == []


class TestMaxBytes:
    """max_bytes caps what is written."""

    async def test_content_length_over_limit(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A Content-Length above the limit is refused before the body is read."""
        url = out.on("/o.png", file_reply())
        with pytest.raises(ResponseValidationError, match="max_bytes"):
            await download_outputs(client._core, url, tmp_path, max_bytes=len(PNG) - 1)
        assert listing(tmp_path) == []

    async def test_streamed_body_over_limit(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A body without Content-Length is stopped once it passes the limit."""
        url = out.on("/o.png", streamed_reply(PNG))
        with pytest.raises(ResponseValidationError, match="max_bytes"):
            await download_outputs(client._core, url, tmp_path, max_bytes=1000)
        assert listing(tmp_path) == []
        assert len(out.requests) == 1  # not retried

    async def test_exact_limit_allowed(
        self, client: AsyncRunway, out: Host, tmp_path: Path
    ) -> None:
        """A body exactly max_bytes long is fine, streamed or not."""
        sized = out.on("/sized.png", file_reply())
        streamed = out.on("/streamed.png", streamed_reply(PNG))
        for url in (sized, streamed):
            (got,) = await download_outputs(client._core, url, tmp_path, max_bytes=len(PNG))
            assert got.path.read_bytes() == PNG
            assert got.sha256 == sha256(PNG)
