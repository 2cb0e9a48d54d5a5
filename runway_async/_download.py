"""Downloading task outputs: one URL streamed safely, atomic writes, retries, fresh URLs.

A task's ``output`` URLs are signed and expire within 24 to 48 hours; re-fetching the task
gives fresh ones. ``download_outputs`` streams each URL (``download_url``, over
``HTTPTransport.stream``, which sends no credential) to a temporary file in the target
directory, fsyncs it and renames it into place, so a final name only ever holds a complete
file. Names are built here, never taken from the URL as a path: whatever the URL says, the
file lands directly in the target directory.

Failed attempts are retried by the one retry policy (``_retry``), with the client's retry
settings and clock; an expired signed URL makes one re-GET of the task, and the fresh URL is
a new start, not a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
import re
import secrets
import sys
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Final, Protocol

import attrs

from ._config import RetryConfig, Timeout, check_seconds, is_loopback_host, is_loopback_url
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InvalidRequestError,
    ResponseValidationError,
    RunwayError,
    TaskError,
)
from ._http import (
    USER_AGENT,
    HTTPTransport,
    parse_body,
    parse_retry_after,
    redact_url,
    status_error_class,
)
from ._models import SucceededTask, Task
from ._outcome import raise_for_outcome
from ._retry import TransferHost, call_with_retries

__all__ = [
    "DEFAULT_DOWNLOAD_CHUNK_SIZE",
    "DEFAULT_DOWNLOAD_TIMEOUT",
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "MAX_DOWNLOAD_REDIRECTS",
    "DownloadHost",
    "DownloadInfo",
    "DownloadedFile",
    "check_download_url",
    "download_outputs",
    "download_url",
    "output_extension",
    "output_file_name",
    "safe_filename",
    "url_file_name",
]

logger = logging.getLogger("runway_async")

DEFAULT_DOWNLOAD_TIMEOUT: Final = 600.0
DEFAULT_MAX_DOWNLOAD_BYTES: Final = 10 * 1024**3
"""Largest output file downloaded unless told otherwise (10 GiB; ``max_bytes=None``: no cap)."""
"""Seconds one download may take, from connecting to the last byte, redirects included."""
DEFAULT_DOWNLOAD_CHUNK_SIZE: Final = 256 * 1024
MAX_DOWNLOAD_REDIRECTS: Final = 5
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
# A 206 or 204 answers a question we did not ask (no Range header is sent), so only these
# count as "here is the whole file".
_DOWNLOAD_OK_STATUSES: Final = frozenset({200, 203})
_MAX_ERROR_BODY: Final = 64 * 1024
# An output host answers these for a signed URL that has expired (or was revoked); the task
# itself can hand out a fresh one.
_EXPIRED_STATUSES: Final = frozenset({401, 403, 404, 410})
_SAFE_EXTENSION: Final = re.compile(r"[A-Za-z0-9]{1,8}")
# Names that Windows maps to devices whatever the extension (CON.png is the console).
_WINDOWS_DEVICES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)
_UNSAFE_CHARACTERS: Final = re.compile(r'[<>:"/\\|?*]')
# Leaves room under the usual 255-byte limit for a " (123)" suffix and the temp file's name.
_MAX_NAME_BYTES: Final = 200
_MAX_NAME_TRIES: Final = 1000
_TEMP_PREFIX: Final = ".runway-download-"
_TEMP_SUFFIX: Final = ".part"
# Types the API produces, so common names do not depend on the system's mime.types.
_EXTENSIONS: Final[Mapping[str, str]] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/vnd.wave": ".wav",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
    "application/json": ".json",
    "text/plain": ".txt",
}


class DownloadHost(TransferHost, Protocol):
    """What downloads need of a client: a ``TransferHost`` and task lookup.

    The client's core provides it; downloads never see the client itself.
    """

    async def retrieve_task(self, task_id: str, /) -> Task:
        """Fetch a task's current state (for its outputs, or fresh output URLs)."""
        ...


class Writable(Protocol):
    """Where a download's bytes go: an open binary file, or anything with ``write``."""

    def write(self, data: bytes, /) -> object:
        """Write all of ``data``."""
        ...


@attrs.frozen(kw_only=True)
class DownloadInfo:
    """What one download delivered.

    Attributes:
        url: The URL the body came from, after redirects.
        status: The HTTP status of that reply.
        content_type: The media type of the reply (``image/png``), without parameters;
            ``None`` when the server sent none.
        bytes: How many bytes were written (after any ``Content-Encoding`` was undone).
        sha256: The SHA-256 of those bytes, lower-case hex.

    """

    url: str = attrs.field(repr=False)
    status: int
    content_type: str | None
    bytes: int
    sha256: str


def check_download_url(url: str, *, redirected_from: str | None = None) -> None:
    """Refuse a URL that a download must not fetch.

    Only http(s) URLs with a host and no user info; plain http only to loopback hosts (the
    local emulator); and no redirect from a remote host to a loopback one.

    Args:
        url: The URL to fetch.
        redirected_from: The URL whose redirect led here, if any.

    Raises:
        InvalidRequestError: ``url`` was given by the caller and is refused.
        ResponseValidationError: ``url`` came from a redirect and is refused.

    """

    def refuse(reason: str) -> RunwayError:
        if redirected_from is None:
            return InvalidRequestError(
                f"Refused to download {redact_url(url)}: {reason}.", field="url"
            )
        shown = redact_url(redirected_from)
        return ResponseValidationError(
            f"GET {shown} redirected to {redact_url(url)}, refused: {reason}.",
            method="GET",
            url=shown,
        )

    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise refuse("not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise refuse("only https URLs are downloaded (and plain http to loopback hosts)")
    if not host:
        raise refuse("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise refuse("the URL carries credentials")
    loopback = is_loopback_host(host)
    if parts.scheme == "http" and not loopback:
        raise refuse("plain http is allowed only to loopback hosts; use https")
    if redirected_from is not None and loopback and not is_loopback_url(redirected_from):
        # A remote server has no business pointing us at services on this machine.
        raise refuse("a remote host may not redirect to a loopback host")


async def download_url(
    http: HTTPTransport,
    url: str,
    dest: Writable,
    *,
    request_timeout: Timeout,
    timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
    max_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
    chunk_size: int = DEFAULT_DOWNLOAD_CHUNK_SIZE,
    max_redirects: int = MAX_DOWNLOAD_REDIRECTS,
) -> DownloadInfo:
    """Stream the body of ``GET url`` into ``dest`` while hashing it; one attempt.

    The request carries no credential of any kind (``HTTPTransport.stream`` adds none);
    only ``User-Agent`` is set. Redirects are followed here, at most ``max_redirects``, each
    target checked like ``url``. Retrying is the caller's business, since only it can rewind
    ``dest``.

    Args:
        http: The transport.
        url: An https URL, or plain http to a loopback host (the local emulator). It must
            not carry user info.
        dest: Where the bytes go, typically a file open in binary mode; on failure it holds
            a partial body that the caller must discard.
        request_timeout: The client's request timeouts: ``connect`` bounds connecting, and a
            stall longer than ``total`` fails.
        timeout: Seconds for everything, from connecting to the last byte, redirects
            included.
        max_bytes: Stop with an error once the body (decoded) exceeds this many bytes, or
            before reading when ``Content-Length`` already says so.
        chunk_size: Largest piece read and written at once.
        max_redirects: Most redirects followed.

    Returns:
        The final URL, status, media type, size and SHA-256 of what was written.

    Raises:
        InvalidRequestError: ``url`` is not one we download (scheme, host, user info).
        APIStatusError: (a subclass of) the host answered 4xx/5xx; ``retry_after`` is set
            from ``Retry-After``.
        APIConnectionError: The connection failed or broke mid-body, or the body's size
            differs from its ``Content-Length`` (unless it came encoded, e.g. gzip).
        APITimeoutError: ``timeout`` ran out, or the host stalled.
        ResponseValidationError: A refused or missing redirect target, too many redirects,
            an unexpected status, or more than ``max_bytes``.
        OSError: Writing to ``dest`` failed (not a network error, never worth a retry).

    """
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0 or None, got {max_bytes!r}")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0, got {timeout!r}")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be > 0, got {chunk_size!r}")
    check_download_url(url)
    deadline = time.monotonic() + timeout
    current = url
    for _hop in range(max_redirects + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            shown = redact_url(current)
            raise APITimeoutError(
                f"Download of {shown} did not finish within {timeout} s.",
                method="GET",
                url=shown,
            )
        outcome = await _get_once(
            http,
            current,
            dest,
            remaining=remaining,
            request_timeout=request_timeout,
            max_bytes=max_bytes,
            chunk_size=chunk_size,
        )
        if isinstance(outcome, DownloadInfo):
            return outcome
        check_download_url(outcome, redirected_from=current)
        current = outcome
    shown = redact_url(url)
    raise ResponseValidationError(
        f"GET {shown} redirected more than {max_redirects} times.", method="GET", url=shown
    )


async def _get_once(
    http: HTTPTransport,
    url: str,
    dest: Writable,
    *,
    remaining: float,
    request_timeout: Timeout,
    max_bytes: int | None,
    chunk_size: int,
) -> DownloadInfo | str:
    """Send one GET; return what was written, or the absolute target of a redirect."""
    shown = redact_url(url)
    digest = hashlib.sha256()
    size = 0
    started = time.monotonic()
    async with http.stream(
        url,
        headers={"User-Agent": USER_AGENT},
        timeout=remaining,
        connect_timeout=min(request_timeout.connect, remaining),
        read_timeout=min(request_timeout.total, remaining),
    ) as reply:
        status = reply.status
        if status in _REDIRECT_STATUSES:
            location = reply.headers.get("location", "").strip()
            if not location:
                raise ResponseValidationError(
                    f"GET {shown} answered {status} without a Location.", method="GET", url=shown
                )
            return urllib.parse.urljoin(url, location)
        if status >= 400:
            raw = await reply.read_at_most(_MAX_ERROR_BODY)
            raise _status_error(status, reply.headers, raw, shown)
        if status not in _DOWNLOAD_OK_STATUSES:
            raise ResponseValidationError(
                f"GET {shown} answered {status} instead of the file.", method="GET", url=shown
            )
        length = reply.content_length
        if max_bytes is not None and length is not None and length > max_bytes:
            raise _too_large(shown, max_bytes)
        async for chunk in reply.iter_chunks(chunk_size):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise _too_large(shown, max_bytes)
            digest.update(chunk)
            # Inline on purpose: one chunk (at most chunk_size, 256 KiB by default) lands in
            # the page cache in microseconds, far less than a thread hop per chunk would
            # cost; the slow part, fsync, is the caller's, in a thread. An OSError here is
            # the destination's, raised as is (never retried).
            dest.write(chunk)
        if length is not None and size != length and _identity(reply.headers):
            # HTTP libraries catch a short body themselves; this holds for any transport.
            raise APIConnectionError(
                f"GET {shown}: the body had {size} bytes, not the {length} its "
                "Content-Length announced.",
                method="GET",
                url=shown,
                sent=True,
            )
        content_type = _media_type(reply.headers.get("content-type"))
    logger.debug("GET %s -> %d, %d bytes in %.3fs", shown, status, size, time.monotonic() - started)
    return DownloadInfo(
        url=url, status=status, content_type=content_type, bytes=size, sha256=digest.hexdigest()
    )


def _status_error(
    status: int, headers: Mapping[str, str], raw: bytes, shown: str
) -> APIStatusError:
    # The body stays out of the message: an output host's error page may echo the request,
    # signature included. It is kept on the exception for debugging.
    return status_error_class(status)(
        f"Error code {status} for GET {shown} (download).",
        status_code=status,
        method="GET",
        url=shown,
        body=parse_body(raw),
        retry_after=parse_retry_after(headers),
    )


def _identity(headers: Mapping[str, str]) -> bool:
    """Whether the body came unencoded, so that ``Content-Length`` counts its bytes."""
    return headers.get("content-encoding", "").strip().lower() in ("", "identity")


def _too_large(shown: str, max_bytes: int) -> ResponseValidationError:
    return ResponseValidationError(
        f"GET {shown}: the file is larger than max_bytes={max_bytes}; download stopped.",
        method="GET",
        url=shown,
    )


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    media = value.split(";", 1)[0].strip().lower()
    return media or None


@attrs.frozen(kw_only=True)
class DownloadedFile:
    """One file written by a download.

    Attributes:
        path: Where the file is: always directly inside the directory asked for.
        url: The URL it was fetched from (after any refresh of an expired task URL, before
            redirects). Left out of ``repr``, since a signed URL lets anyone fetch the file.
        sha256: SHA-256 of the file's bytes, lower-case hex.
        bytes: The file's size.
        content_type: The media type the host sent (``image/png``), if it sent one.

    """

    path: Path
    url: str = attrs.field(repr=False)
    sha256: str
    bytes: int
    content_type: str | None


def safe_filename(name: str, *, default: str = "download") -> str:
    r"""Return ``name`` made safe as one file name on Linux, macOS and Windows.

    Path separators (``/``, ``\``), characters Windows refuses, control characters (NUL
    included) and invisible formatting characters become ``_``; leading and trailing dots
    and spaces go (so ``.``, ``..`` and hidden names cannot result); Windows device names
    (``CON``, ``nul.txt``, ``COM1``) get a ``_`` prefix; the name is cut to 200 UTF-8 bytes,
    keeping a short extension.

    Args:
        name: Any text, already percent-decoded.
        default: The name to use when nothing is left.

    Returns:
        A non-empty name without any path separator.

    """
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        "_" if unicodedata.category(c).startswith("C") else c
        for c in _UNSAFE_CHARACTERS.sub("_", name)
    )
    name = name.strip(" .")
    if not name:
        name = default
    stem, suffix = _split_extension(name)
    room = _MAX_NAME_BYTES - len(suffix.encode())
    if len(stem.encode()) > room:
        stem = stem.encode()[:room].decode("utf-8", errors="ignore").rstrip(" .") or default
    name = stem + suffix
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        name = "_" + name
    return name


def _url_segment(url: str) -> str:
    """Return the last segment of the URL's path, split before decoding (so %2F stays in)."""
    path = urllib.parse.urlsplit(url).path
    return urllib.parse.unquote(path.rsplit("/", 1)[-1], errors="replace")


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if dot and stem and _SAFE_EXTENSION.fullmatch(extension):
        return stem, "." + extension
    return name, ""


def _extension_for(content_type: str | None) -> str | None:
    if not content_type:
        return None
    known = _EXTENSIONS.get(content_type)
    if known is not None:
        return known
    guessed = mimetypes.guess_extension(content_type, strict=False)
    if guessed and _SAFE_EXTENSION.fullmatch(guessed[1:]):
        return guessed.lower()
    return None


def output_extension(url: str, content_type: str | None) -> str:
    """Return the extension, with its dot, that an output served from ``url`` gets.

    Args:
        url: The output URL; only a short alphanumeric suffix of its path is used.
        content_type: The media type served, used when the URL has no usable suffix.

    Returns:
        ``.png``, ``.mp4``, ...; ``.bin`` when neither says what the file is.

    """
    _, url_extension = _split_extension(_url_segment(url))
    return url_extension.lower() or _extension_for(content_type) or ".bin"


def output_file_name(task_id: str, index: int, url: str, content_type: str | None) -> str:
    """Return the file name of a task's output: ``<task_id>_<index><ext>``.

    Args:
        task_id: The task id (made safe too: it comes from a server or a caller).
        index: The output's position in ``task.output``.
        url: The output URL; only a short alphanumeric suffix of its path is used.
        content_type: The media type served, used when the URL has no usable suffix.

    Returns:
        A safe file name; the extension is ``.bin`` when neither says what the file is.

    """
    extension = output_extension(url, content_type)
    return safe_filename(f"{safe_filename(task_id, default='task')}_{index}{extension}")


def url_file_name(url: str, content_type: str | None) -> str:
    """Return the file name for a bare URL: its sanitised last path segment.

    Args:
        url: The URL.
        content_type: The media type served; gives the extension when the name has none.

    Returns:
        A safe file name with an extension (``.bin`` when nothing says what the file is).

    """
    name = safe_filename(_url_segment(url))
    if not _split_extension(name)[1]:
        name = safe_filename(name + (_extension_for(content_type) or ".bin"))
    return name


# A temporary file's name carries its process id, so one left by a killed process (SIGKILL
# mid-download) can be told from one still being written, and removed.
_STALE_PART: Final = re.compile(
    re.escape(_TEMP_PREFIX) + r"(\d+)-[0-9a-f]{16}" + re.escape(_TEMP_SUFFIX)
)
_swept: set[str] = set()
_swept_lock = threading.Lock()


def _process_is_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: is there such a process (of any user)?
    except ProcessLookupError:
        return True
    except OSError:  # it exists, owned by someone else
        return False
    return False


def _sweep_stale_parts(directory: Path) -> None:
    """Remove the temporary files of dead processes in ``directory`` (once per process).

    Only regular files named as this module names them, whose process no longer exists; a
    symlink or anything else is left alone.
    """
    key = str(directory.resolve())
    with _swept_lock:
        if key in _swept:
            return
        _swept.add(key)
    if sys.platform == "win32":  # no cheap "is this pid alive" there; nothing is removed
        return
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = _STALE_PART.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        if _process_is_gone(int(match[1])):
            try:
                os.unlink(entry.path)
            except OSError as exc:
                logger.warning("Could not remove the stale temporary file %s: %s", entry.path, exc)
            else:
                logger.info("Removed %s, left by a process that no longer runs", entry.path)


def _open_temp(directory: Path) -> tuple[Path, IO[bytes]]:
    """Create the directory if needed and a new, empty temporary file inside it.

    The first time in a process, temporary files left in ``directory`` by processes that no
    longer run (killed mid-download) are removed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    _sweep_stale_parts(directory)
    flags = (
        os.O_WRONLY
        | os.O_CREAT
        | os.O_EXCL  # never opens an existing file or follows a planted symlink
        | getattr(os, "O_BINARY", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    for _ in range(8):
        temp = directory / f"{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{_TEMP_SUFFIX}"
        try:
            # 0o666 less the umask, like any new file; mkstemp would force 0o600.
            fd = os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        return temp, os.fdopen(fd, "wb")
    raise FileExistsError(f"Could not create a temporary file in {directory}.")


def _rewind(file: IO[bytes]) -> None:
    file.seek(0)
    file.truncate()


def _discard(file: IO[bytes], temp: Path) -> None:
    with contextlib.suppress(OSError):
        file.close()
    try:
        temp.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("Could not remove the temporary file %s: %s", temp, exc)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable. Windows cannot open a directory (and NTFS journals
    # renames); some filesystems refuse to fsync one: both are fine to skip.
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _same_file(path: Path, sha256: str) -> bool:
    """Whether ``path`` is a regular file (not a symlink) whose SHA-256 is ``sha256``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        if not os.path.isfile(path) or os.path.islink(path):
            return False
        fd = os.open(path, flags)  # O_NOFOLLOW: a symlink planted meanwhile is not read
        digest = hashlib.sha256()
        with open(fd, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest() == sha256
    except OSError:
        return False


def _place(
    temp: Path, directory: Path, name: str, *, overwrite: bool, same_as: str | None = None
) -> Path:
    """Move ``temp`` to ``directory / name`` atomically; without ``overwrite``, never clobber.

    With ``same_as`` (the temp file's SHA-256), a file already at ``name`` holding exactly
    these bytes is kept as the result and ``temp`` removed (an output downloaded again).
    """
    if overwrite:
        final = directory / name
        os.replace(temp, final)
        return final
    stem, extension = _split_extension(name)
    for n in range(_MAX_NAME_TRIES):
        final = directory / (name if n == 0 else f"{stem} ({n}){extension}")
        try:
            # link() fails if the name exists, so no other writer's file is replaced, and
            # the file appears complete under its name in one step, like rename().
            os.link(temp, final)
        except FileExistsError:
            if n == 0 and same_as is not None and _same_file(final, same_as):
                temp.unlink()
                return final
            continue
        except OSError:
            # No hard links here (FAT, some network filesystems): check, then rename. A
            # file created between the two by someone else would be replaced.
            if os.path.lexists(final):
                if n == 0 and same_as is not None and _same_file(final, same_as):
                    temp.unlink()
                    return final
                continue
            os.replace(temp, final)
            return final
        temp.unlink()
        return final
    raise FileExistsError(f"{name} and {_MAX_NAME_TRIES - 1} numbered variants exist already.")


def _commit(
    file: IO[bytes],
    temp: Path,
    directory: Path,
    name: str,
    *,
    overwrite: bool,
    same_as: str | None = None,
) -> Path:
    """Flush and fsync the temp file, move it into place; on failure remove it. Blocking."""
    try:
        file.flush()
        os.fsync(file.fileno())
        file.close()
        final = _place(temp, directory, name, overwrite=overwrite, same_as=same_as)
    except BaseException:
        _discard(file, temp)
        raise
    _fsync_directory(directory)
    return final


class _TaskOutputs:
    """A task's output URLs, fetched again (once per download call) when one has expired."""

    def __init__(self, host: DownloadHost, task: SucceededTask) -> None:
        self._host = host
        self.task_id = task.id
        self.urls = task.output
        self.refreshed = False

    async def refresh(self, index: int, error: APIStatusError) -> str:
        """Re-GET the task and return the fresh URL of output ``index``; raise ``error`` if none."""
        self.refreshed = True
        logger.info(
            "Output %d of task %s answered %d; fetching the task for fresh URLs.",
            index,
            self.task_id,
            error.status_code,
        )
        task = await self._host.retrieve_task(self.task_id)
        if not isinstance(task, SucceededTask) or index >= len(task.output):
            raise error
        self.urls = task.output
        return task.output[index]


async def _fetch(
    host: DownloadHost,
    retry: RetryConfig,
    url: str,
    file: IO[bytes],
    *,
    outputs: _TaskOutputs | None,
    index: int,
    timeout: float,
    max_bytes: int | None,
) -> tuple[str, DownloadInfo]:
    """Download ``url`` into ``file`` with retries; return the URL used and what came.

    When ``url`` is a task's output and its host answers as for an expired signed URL, the
    task is fetched once for a fresh URL, and the download starts over with it.
    """
    while True:
        expired: APIStatusError
        try:
            info = await _fetch_with_retries(
                host, retry, url, file, timeout=timeout, max_bytes=max_bytes
            )
        except APIStatusError as exc:
            status = exc.status_code
            if outputs is None or status not in _EXPIRED_STATUSES or outputs.refreshed:
                raise
            expired = exc
        else:
            return url, info
        url = await outputs.refresh(index, expired)
        check_download_url(url)
        _rewind(file)  # a fresh URL is a new start (its own retries and budget), not a retry


async def _fetch_with_retries(
    host: DownloadHost,
    retry: RetryConfig,
    url: str,
    file: IO[bytes],
    *,
    timeout: float,
    max_bytes: int | None,
) -> DownloadInfo:
    """Download ``url`` into ``file``, retried by the policy (``_retry``)."""

    async def attempt(_budget: float) -> DownloadInfo:
        # The budget (RetryConfig.max_total) only decides whether to retry: a download keeps
        # its own, longer timeout.
        return await download_url(
            host.http,
            url,
            file,
            request_timeout=host.timeout,
            timeout=timeout,
            max_bytes=max_bytes,
        )

    return await call_with_retries(
        attempt,
        retry=retry,
        clock=host.clock,
        what=f"download of {redact_url(url)}",
        before_retry=lambda: _rewind(file),
    )


async def _download_file(
    host: DownloadHost,
    retry: RetryConfig,
    url: str,
    directory: Path,
    *,
    outputs: _TaskOutputs | None,
    index: int,
    overwrite: bool,
    timeout: float,
    max_bytes: int | None,
    name_output: Callable[[int, str], str] | None = None,
    reuse_identical: bool = False,
) -> DownloadedFile:
    check_download_url(url)  # before touching the disk
    # Inline rather than in a thread: creating one file is quick, and a thread that a
    # cancellation stopped waiting for could leave a temp file nobody removes.
    temp, file = _open_temp(directory)
    try:
        url, info = await _fetch(
            host,
            retry,
            url,
            file,
            outputs=outputs,
            index=index,
            timeout=timeout,
            max_bytes=max_bytes,
        )
    except BaseException:
        # Synchronous, so it runs even while this coroutine is being cancelled.
        _discard(file, temp)
        raise
    if outputs is not None and name_output is not None:
        name = safe_filename(name_output(index, output_extension(url, info.content_type)))
    elif outputs is not None:
        name = output_file_name(outputs.task_id, index, url, info.content_type)
    else:
        name = url_file_name(url, info.content_type)
    # fsync can take long on a busy disk: a thread keeps the loop free. _commit removes the
    # temp file itself if it fails; if this coroutine is cancelled meanwhile, the thread
    # still finishes, so the file ends up either complete under its name or gone.
    same_as = info.sha256 if reuse_identical else None
    final = await asyncio.to_thread(
        _commit, file, temp, directory, name, overwrite=overwrite, same_as=same_as
    )
    logger.debug("Downloaded %s to %s (%d bytes)", redact_url(url), final, info.bytes)
    return DownloadedFile(
        path=final,
        url=url,
        sha256=info.sha256,
        bytes=info.bytes,
        content_type=info.content_type,
    )


def _is_url(text: str) -> bool:
    # Task ids are UUIDs: anything with a colon or a slash was meant as a URL, and a
    # malformed one is refused clearly rather than looked up as a task.
    return ":" in text or "/" in text


async def _resolve(host: DownloadHost, source: object) -> SucceededTask | str:
    """Return the succeeded task (fetched if need be) or the bare URL that ``source`` names."""
    task: object
    if isinstance(source, str):
        if _is_url(source):
            return source
        task = await host.retrieve_task(source)
    else:
        task = source
    if isinstance(task, SucceededTask):
        return task
    if not isinstance(task, Task):
        raise TypeError(
            "source must be a task, a TaskHandle, a task id or an output URL, "
            f"got {type(source).__name__}"
        )
    if task.is_terminal:
        raise_for_outcome(task)  # raises TaskFailedError or TaskCancelledError
    raise TaskError(
        f"Task {task.id} has not succeeded yet (status {task.status}), so it has no outputs "
        "to download. Wait for it first: handle.download(dir) waits, or "
        "await client.tasks.wait(id) before downloading.",
        task,
    )


async def download_outputs(
    host: DownloadHost,
    source: Task | str,
    directory: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    timeout: float = DEFAULT_DOWNLOAD_TIMEOUT,
    max_retries: int | None = None,
    max_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
    on_file: Callable[[DownloadedFile], object] | None = None,
    name_output: Callable[[int, str], str] | None = None,
    reuse_identical: bool = False,
) -> list[DownloadedFile]:
    """Download a task's outputs (or one URL) into ``directory``.

    Each file streams to a temporary file in ``directory``, is fsynced and renamed into
    place, so a final name never holds a partial file, and a failed download leaves nothing
    behind. No credential reaches the output host: no API key, header, cookie or ``.netrc``
    entry. Outputs are fetched one after another; a failure stops the call, and the files
    already written stay.

    File names never come from the URL as a path, so files always land directly in
    ``directory``: a task's outputs are named ``<task_id>_<index><ext>`` (the extension from
    the URL's suffix if short and alphanumeric, else from the ``Content-Type``, else
    ``.bin``); a bare URL keeps its last path segment, sanitised.

    Connection errors, timeouts, 408, 429 and 5xx are retried by the client's retry policy
    (its back-off, ``max_retries`` and ``max_total``; instant back-off under
    ``set_testing(True)``). A 401/403/404/410 on a task's URL means the signed URL expired:
    the task is fetched once more for fresh URLs and the download starts again.

    Args:
        host: What downloads need of the client (its core): transport, retry settings,
            timeouts, clock and task lookup.
        source: A ``SucceededTask``; a task id (the task is fetched, and must have
            succeeded already: waiting is the caller's choice); or an http(s) output URL
            (plain http only to loopback hosts). A caller holding a ``TaskHandle`` passes
            its ``id``.
        directory: Where the files go; created (with parents) if missing.
        overwrite: Replace an existing file of the same name. When ``False`` (the default)
            an existing file is never touched: the new one is named ``name (1).ext``,
            ``name (2).ext``, ... (see ``DownloadedFile.path``).
        timeout: Seconds for one attempt at one file, from connecting to the last byte.
        max_retries: Retries per file; defaults to the client's ``max_retries``.
        max_bytes: Refuse a file larger than this many bytes.
        on_file: Called with each file as soon as it is complete on disk (a caller that
            may be interrupted, such as a batch, learns of every finished file).
        name_output: Names a task's output instead of ``<task_id>_<index><ext>``: called
            with the output's index and extension (``.png``), it returns a file name, which
            is passed through ``safe_filename`` all the same (a batch's ``name``).
        reuse_identical: Without ``overwrite``, keep a file already under the name that
            holds exactly the downloaded bytes (same SHA-256) instead of adding a numbered
            copy: a batch resumed after a crash downloads an output again.

    Returns:
        The files written, in the order of ``task.output`` (one for a bare URL).

    Raises:
        InvalidRequestError: A URL that is not downloaded: not http(s), plain http to a
            non-loopback host, or user info in it.
        TaskError: The task has not succeeded yet (``TaskFailedError`` and
            ``TaskCancelledError`` when it failed or was cancelled).
        TypeError: ``source`` is none of the above.
        APIStatusError: (a subclass of) the output host or the API refused, retries spent.
        APIConnectionError: The connection failed, retries spent (``APITimeoutError`` for
            timeouts).
        ResponseValidationError: Too large, a refused redirect, or an unexpected reply.
        OSError: The directory or file could not be written.

    """
    timeout = check_seconds("timeout", timeout, positive=True)
    retry = host.retry
    if max_retries is not None:
        retry = attrs.evolve(retry, max_retries=max_retries)
    target = Path(directory)
    resolved = await _resolve(host, source)
    outputs = None if isinstance(resolved, str) else _TaskOutputs(host, resolved)
    files = []
    for index in range(1 if outputs is None else len(outputs.urls)):
        # outputs.urls is read afresh each time: an expired URL makes it re-fetch the task.
        url = outputs.urls[index] if outputs is not None else resolved
        assert isinstance(url, str)
        downloaded = await _download_file(
            host,
            retry,
            url,
            target,
            outputs=outputs,
            index=index,
            overwrite=overwrite,
            timeout=timeout,
            max_bytes=max_bytes,
            name_output=name_output,
            reuse_identical=reuse_identical,
        )
        files.append(downloaded)
        if on_file is not None:
            on_file(downloaded)
    return files
