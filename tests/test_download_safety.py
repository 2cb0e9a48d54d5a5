"""Downloads and uploads never write outside their directory, nor trust what a host says.

Planted symlinks (at the final name, dangling, at the temporary name, without hard links),
any name a URL can carry, a body whose size differs from its ``Content-Length``, a gzip
body that inflates past ``max_bytes``, redirects (checked hop by hop, never carrying a
cookie or a credential) and a storage host that redirects an upload (an error, never
followed). Name and traversal basics are in tests/test_download.py.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import itertools
import os
import subprocess
import sys
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runway_async import (
    APIConnectionError,
    APIStatusError,
    AsyncRunway,
    InvalidRequestError,
    ResponseValidationError,
    RetryConfig,
)
from runway_async import _download as download_module
from runway_async._config import Timeout
from runway_async._download import (
    check_download_url,
    download_outputs,
    download_url,
    safe_filename,
    url_file_name,
)

from .conftest import API_KEY
from .test_download import PNG, Handler, Host, file_reply, listing, redirect, succeeded
from .test_uploads import CountingAPI, FakeRunway

VICTIM = b"outside the directory: must never change"


@pytest_asyncio.fixture
async def cdn() -> AsyncIterator[Host]:
    """Start one scripted output host on localhost."""
    host = Host("localhost")
    await host.start()
    yield host
    await host.stop()


@pytest_asyncio.fixture
async def client(cdn: Host) -> AsyncIterator[AsyncRunway]:
    """Return a client (its API is never called here: sources are tasks or URLs)."""
    async with AsyncRunway(
        API_KEY,
        base_url=cdn.url,
        retry=RetryConfig(max_retries=1, initial_delay=0.01),
        default_headers={"X-Team-Token": "team-secret"},
    ) as runway:
        yield runway


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """Return a file outside the download directory, for a planted symlink to point at."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "victim.png"
    path.write_bytes(VICTIM)
    return path


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """Return the download directory."""
    path = tmp_path / "downloads"
    path.mkdir()
    return path


def assert_victim_untouched(victim: Path) -> None:
    assert victim.read_bytes() == VICTIM
    assert sorted(os.listdir(victim.parent)) == [victim.name]


class TestPlantedSymlinks:
    """A symlink planted in the directory is never written through."""

    async def test_at_the_output_name(
        self, client: AsyncRunway, cdn: Host, target: Path, victim: Path
    ) -> None:
        """The link keeps its name and target; the file takes the next free name."""
        (target / "t1_0.png").symlink_to(victim)
        url = cdn.on("/o.png", file_reply())
        (got,) = await download_outputs(client._core, succeeded(url), target)
        assert got.path == target / "t1_0 (1).png"
        assert got.path.read_bytes() == PNG
        assert not got.path.is_symlink()
        assert (target / "t1_0.png").readlink() == victim
        assert_victim_untouched(victim)

    async def test_dangling_link_creates_nothing_outside(
        self, client: AsyncRunway, cdn: Host, target: Path, tmp_path: Path
    ) -> None:
        """A link to a file that does not exist yet is not a way to create it."""
        would_be = tmp_path / "created-outside.png"
        (target / "t1_0.png").symlink_to(would_be)
        url = cdn.on("/o.png", file_reply())
        (got,) = await download_outputs(client._core, succeeded(url), target)
        assert got.path == target / "t1_0 (1).png"
        assert not would_be.exists()

    async def test_overwrite_replaces_the_link_not_its_target(
        self, client: AsyncRunway, cdn: Host, target: Path, victim: Path
    ) -> None:
        """With overwrite=True the link itself is replaced by the file."""
        (target / "t1_0.png").symlink_to(victim)
        url = cdn.on("/o.png", file_reply())
        (got,) = await download_outputs(client._core, succeeded(url), target, overwrite=True)
        assert got.path == target / "t1_0.png"
        assert not got.path.is_symlink()
        assert got.path.read_bytes() == PNG
        assert_victim_untouched(victim)

    async def test_at_the_temporary_name(
        self,
        client: AsyncRunway,
        cdn: Host,
        target: Path,
        victim: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A link at the temporary file's name is skipped (O_EXCL), never opened."""
        names = itertools.chain(["planted"], (f"fresh{n}" for n in itertools.count()))
        monkeypatch.setattr(
            download_module, "secrets", SimpleNamespace(token_hex=lambda _n: next(names))
        )
        planted = target / ".runway-download-planted.part"
        planted.symlink_to(victim)
        url = cdn.on("/o.png", file_reply())
        (got,) = await download_outputs(client._core, succeeded(url), target)
        assert got.path == target / "t1_0.png"
        assert got.path.read_bytes() == PNG
        assert planted.readlink() == victim
        assert_victim_untouched(victim)
        assert sorted(os.listdir(target)) == [planted.name, "t1_0.png"]

    async def test_without_hard_links(
        self,
        client: AsyncRunway,
        cdn: Host,
        target: Path,
        victim: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """On a filesystem without hard links the planted link is still left alone."""

        def no_links(*_args: object, **_kwargs: object) -> None:
            raise OSError(errno.EPERM, "no hard links here")

        monkeypatch.setattr(download_module.os, "link", no_links)
        (target / "t1_0.png").symlink_to(victim)
        url = cdn.on("/o.png", file_reply())
        (got,) = await download_outputs(client._core, succeeded(url), target)
        assert got.path == target / "t1_0 (1).png"
        assert got.path.read_bytes() == PNG
        assert_victim_untouched(victim)


def assert_one_safe_name(name: str) -> None:
    """Fail unless ``name`` is one plain file name on POSIX and Windows alike."""
    assert name
    assert name not in (".", "..")
    assert not name.startswith(".")
    for separator in ("/", "\\", "\x00", ":"):
        assert separator not in name
    assert len(name.encode()) <= 255
    for flavour in (PurePosixPath, PureWindowsPath):
        joined = flavour("downloads") / name
        assert joined.parent == flavour("downloads")
        assert joined.name == name
        assert not flavour(name).is_absolute()
        assert not flavour(name).drive


PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Text rich in what attacks names: separators, dots, drive letters, controls, device names.
HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(list("./\\:%~$ \x00\x1f\u202eaCONULPT19é")) | st.characters(),
    max_size=300,
)


class TestAnyNameStaysInside:
    """Property: whatever the text, the name is one file directly inside the directory."""

    @PROPERTY_SETTINGS
    @given(HOSTILE_TEXT)
    def test_safe_filename(self, text: str) -> None:
        assert_one_safe_name(safe_filename(text))

    @PROPERTY_SETTINGS
    @given(HOSTILE_TEXT, st.sampled_from([None, "image/png", "video/mp4", "x/../../y"]))
    def test_url_file_name(self, text: str, content_type: str | None) -> None:
        url = "https://cdn.example/files/" + urllib.parse.quote(
            text, safe="/%", errors="surrogatepass"
        )
        assert_one_safe_name(url_file_name(url, content_type))


class FakeStream:
    """A download reply with a scripted Content-Length, encoding and body."""

    def __init__(self, body: bytes, length: int | None, headers: Mapping[str, str]) -> None:
        self.status = 200
        self.headers = {"content-type": "image/png", **headers}
        self.content_length = length
        self._body = body

    async def _chunks(self, size: int) -> AsyncIterator[bytes]:
        for start in range(0, len(self._body), size):
            yield self._body[start : start + size]

    def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        return self._chunks(size)

    async def read_at_most(self, limit: int) -> bytes:
        return self._body[:limit]


class FakeTransport:
    """Only ``stream``, answering one scripted reply to every GET."""

    def __init__(self, reply: FakeStream) -> None:
        self.reply = reply

    @contextlib.asynccontextmanager
    async def _stream(self) -> AsyncIterator[FakeStream]:
        yield self.reply

    def stream(self, url: str, **_options: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._stream()


class TestContentLength:
    """The bytes received must be the bytes announced, whatever the transport."""

    @pytest.mark.parametrize(
        ("size", "length"), [(50, 100), (150, 100), (0, 1)], ids=["short", "long", "empty"]
    )
    async def test_a_mismatch_is_a_connection_error(self, size: int, length: int) -> None:
        """A body shorter or longer than its Content-Length is refused (and retryable)."""
        http: Any = FakeTransport(FakeStream(b"x" * size, length, {}))
        with pytest.raises(APIConnectionError, match="Content-Length") as info:
            await download_url(
                http, "https://cdn.example/o.png", io.BytesIO(), request_timeout=Timeout()
            )
        assert info.value.sent is True
        assert info.value.url == "https://cdn.example/o.png"

    @pytest.mark.parametrize(
        ("length", "headers"),
        [
            (100, {}),
            (None, {}),
            (30, {"content-encoding": "gzip"}),
            (100, {"content-encoding": "Identity"}),
        ],
        ids=["exact", "unknown", "encoded", "identity"],
    )
    async def test_a_matching_or_encoded_body_is_accepted(
        self, length: int | None, headers: dict[str, str]
    ) -> None:
        """An exact length, no length, or an encoded body (length of the encoded bytes) pass."""
        sink = io.BytesIO()
        http: Any = FakeTransport(FakeStream(b"x" * 100, length, headers))
        info = await download_url(
            http, "https://cdn.example/o.png", sink, request_timeout=Timeout()
        )
        assert info.bytes == 100
        assert sink.getvalue() == b"x" * 100

    async def test_a_body_cut_short_on_the_wire_leaves_nothing(
        self, client: AsyncRunway, cdn: Host, target: Path
    ) -> None:
        """Over a real connection: the short body fails every attempt, no file is left."""

        async def short(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Length": str(len(PNG))})
            await response.prepare(request)
            await response.write(PNG[:100])
            assert request.transport is not None
            request.transport.close()
            return response

        url = cdn.on("/o.png", short)
        with pytest.raises(APIConnectionError):
            await download_outputs(client._core, url, target)
        assert len(cdn.hits("/o.png")) == 2  # retried once (max_retries=1), then given up
        assert listing(target) == []

    async def test_gzip_is_decoded_and_checked_against_max_bytes(
        self, client: AsyncRunway, cdn: Host, target: Path
    ) -> None:
        """A gzip body is written decoded; one inflating past max_bytes is stopped."""
        bomb = gzip.compress(b"\0" * 2_000_000)
        assert len(bomb) < 10_000

        def gzipped(data: bytes) -> Handler:
            async def handler(_request: web.Request) -> web.StreamResponse:
                return web.Response(
                    body=data, headers={"Content-Encoding": "gzip", "Content-Type": "image/png"}
                )

            return handler

        small = cdn.on("/small.png", gzipped(gzip.compress(PNG)))
        (got,) = await download_outputs(client._core, small, target)
        assert got.path.read_bytes() == PNG
        big = cdn.on("/big.png", gzipped(bomb))
        with pytest.raises(ResponseValidationError, match="max_bytes"):
            await download_outputs(client._core, big, target, max_bytes=100_000)
        assert listing(target) == ["small.png"]


class TestRedirects:
    """Each hop is checked like the first URL, and carries no credential."""

    @pytest.mark.parametrize(
        ("source", "location", "reason"),
        [
            ("https://cdn.example/a.png", "http://cdn.example/a.png", "plain http"),
            ("https://cdn.example/a.png", "http://other.example/a.png", "plain http"),
            ("https://cdn.example/a.png", "https://127.0.0.1/a.png", "loopback"),
            ("https://cdn.example/a.png", "http://localhost:8000/a.png", "loopback"),
            ("https://cdn.example/a.png", "https://[::1]/a.png", "loopback"),
            ("https://cdn.example/a.png", "https://u:p@cdn.example/a.png", "credentials"),
            ("https://cdn.example/a.png", "file:///etc/passwd", "only https"),
        ],
    )
    def test_refused_hops(self, source: str, location: str, reason: str) -> None:
        """Downgrades to http, remote-to-loopback hops and user info are refused."""
        with pytest.raises(ResponseValidationError, match=reason):
            check_download_url(location, redirected_from=source)

    @pytest.mark.parametrize(
        ("source", "location"),
        [
            ("https://cdn.example/a.png", "https://other.example/b.png"),
            ("http://127.0.0.1:1/a.png", "http://localhost:2/b.png"),
            ("http://127.0.0.1:1/a.png", "https://cdn.example/b.png"),
        ],
    )
    def test_allowed_hops(self, source: str, location: str) -> None:
        """Hops to https anywhere, and loopback to loopback (the emulator), are followed."""
        check_download_url(location, redirected_from=source)

    async def test_no_cookie_key_or_header_on_any_hop(
        self, client: AsyncRunway, cdn: Host, target: Path
    ) -> None:
        """A cookie set by the first hop is not sent to the second; no hop sees the key."""
        final = cdn.on("/final.png", file_reply())

        async def set_cookie_and_redirect(_request: web.Request) -> web.StreamResponse:
            response = web.Response(status=302, headers={"Location": final})
            response.set_cookie("session", "hop-cookie")
            return response

        first = cdn.on("/first.png", set_cookie_and_redirect)
        (got,) = await download_outputs(client._core, first, target)
        assert got.path.read_bytes() == PNG
        assert [path for path, _ in cdn.requests] == ["/first.png", "/final.png"]
        for _path, headers in cdn.requests:
            lowered = {name.lower() for name in headers}
            assert not lowered & {"authorization", "cookie", "x-team-token", "x-runway-version"}
            assert API_KEY not in repr(headers)

    async def test_a_refused_hop_sends_nothing_there(
        self, client: AsyncRunway, cdn: Host, target: Path
    ) -> None:
        """A redirect to plain http on a remote host fails before any request to it."""
        url = cdn.on("/o.png", redirect("http://cdn.example/o.png"))
        with pytest.raises(ResponseValidationError, match="plain http"):
            await download_outputs(client._core, url, target)
        assert len(cdn.requests) == 1
        assert listing(target) == []

    async def test_a_remote_plain_http_url_is_refused_before_any_io(
        self, client: AsyncRunway, tmp_path: Path
    ) -> None:
        """A plain-http URL to a remote host is refused before the directory is made."""
        with pytest.raises(InvalidRequestError, match="plain http"):
            await download_outputs(client._core, "http://cdn.example/o.png", tmp_path / "d")
        assert not (tmp_path / "d").exists()


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeRunway]:
    server = FakeRunway()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    return path


class TestUploads:
    """The storage POST goes only where it should, once per attempt, never redirected."""

    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    async def test_a_storage_redirect_is_an_error_never_followed(
        self, fake: FakeRunway, png: Path, status: int
    ) -> None:
        """A 3xx from the storage host fails the upload; its target never gets a request."""

        async def moved(_request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": f"{fake.url}/storage/99"})

        fake.storage_handlers = [moved]
        async with AsyncRunway(
            API_KEY, base_url=fake.url, retry=RetryConfig(max_retries=2, initial_delay=0.01)
        ) as runway:
            with pytest.raises(APIStatusError) as info:
                await runway.image_to_video.create(
                    prompt_image=png, model="gen4_turbo", ratio="1280:720", prompt_text="a fox"
                )
        assert info.value.status_code == status
        assert [stored.path.split("?")[0] for stored in fake.stored] == ["/storage/1"]
        assert fake.creates == []

    @pytest.mark.parametrize(
        ("upload_url", "reason"),
        [
            ("http://storage.example/up?sig=1", "plain http"),
            ("https://user:pw@storage.example/up", "credentials"),
            ("ftp://storage.example/up", "not an https URL"),
            ("http://localhost:9/up", "loopback"),
        ],
    )
    async def test_a_refused_storage_url_gets_nothing(
        self, png: Path, upload_url: str, reason: str
    ) -> None:
        """A remote API's storage URL that is plain http, has user info or is local: refused."""
        api = CountingAPI(upload_url=upload_url)
        async with AsyncRunway(API_KEY, base_url="https://api.example", transport=api) as runway:
            with pytest.raises(ResponseValidationError, match=reason):
                await runway.uploads.create_ephemeral(file=png)
        assert api.stored == []
        assert api.creates == []


class TestStalePartialFiles:
    """A download killed mid-body leaves its temporary file; the next process removes it."""

    def test_only_the_files_of_dead_processes_go(self, tmp_path: Path) -> None:
        finished = subprocess.Popen([sys.executable, "-c", "pass"])
        finished.wait()
        dead = finished.pid  # a process that has ended
        stale = tmp_path / f".runway-download-{dead}-{'a' * 16}.part"
        ours = tmp_path / f".runway-download-{os.getpid()}-{'b' * 16}.part"
        alive = tmp_path / f".runway-download-1-{'c' * 16}.part"  # pid 1 always runs
        other = tmp_path / f"{dead}.part"
        for path in (stale, ours, alive, other):
            path.write_bytes(b"partial")
        link = tmp_path / f".runway-download-{dead}-{'d' * 16}.part"
        link.symlink_to(other)
        download_module._sweep_stale_parts(tmp_path)
        assert not stale.exists()
        assert ours.exists()
        assert alive.exists()
        assert other.exists()
        assert link.is_symlink()  # never follows or removes a planted link


def test_downloads_are_capped_by_default() -> None:
    """No unbounded download: 10 GiB unless the caller says otherwise (``None``: no cap)."""
    import inspect

    from runway_async import AsyncRunway, Runway, TaskHandle
    from runway_async._download import DEFAULT_MAX_DOWNLOAD_BYTES, download_outputs

    assert DEFAULT_MAX_DOWNLOAD_BYTES == 10 * 1024**3
    for function in (AsyncRunway.download, Runway.download, TaskHandle.download, download_outputs):
        default = inspect.signature(function).parameters["max_bytes"].default
        assert default == DEFAULT_MAX_DOWNLOAD_BYTES, function
