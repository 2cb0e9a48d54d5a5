"""Learned task durations persisted between processes (``_duration_cache``) and their use.

The file's format, bounds, atomicity and tolerance are checked on ``DurationCache`` directly
(wall-clock time injected, no sleeps); seeding and the save cadence on a ``TaskWatcher`` driven
by a ``VirtualClock``; and the whole path (learn, close, seed a fresh client) against the
embedded emulator, with the async and the sync client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import runway_async
from runway_async import AsyncRunway, PollConfig, Runway
from runway_async import _duration_cache as duration_cache_module
from runway_async._client import core_of
from runway_async._clock import VirtualClock
from runway_async._config import default_duration_cache
from runway_async._core import SAVE_EVERY, _SavedDurations
from runway_async._duration_cache import (
    FORMAT_VERSION,
    MAX_AGE,
    MAX_AIM,
    DurationCache,
    EstimatorState,
    cache_key,
)
from runway_async._estimator import DurationEstimator
from runway_async._models import SucceededTask
from runway_async._watcher import TaskWatcher
from runway_async.emulator import Emulator

from .engine.test_watcher_schedule import POLL, T0, FakeAPI, run

URL = "https://api.dev.runwayml.com"
KEY = "https://api.dev.runwayml.com:443"  # URL as the file keys it
OTHER_URL = "http://127.0.0.1:8123"
NOW = 1_800_000_000.0  # the injected wall clock: a fixed moment, far from the epoch
STATE = EstimatorState(aim=8.4, exact=12, observed=15)
MODEL = "gen4_image"
TIME_SCALE = 0.004
IMAGE: dict[str, Any] = {"model": MODEL, "prompt_text": "a red fox", "ratio": "1920:1080"}


class WallClock:
    """A settable wall clock for ``DurationCache(wall_clock=...)``."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Return where the test's cache file goes (its directory does not exist yet)."""
    return tmp_path / "cache" / "runway_async" / "durations.json"


@pytest.fixture
def wall() -> WallClock:
    """Return a wall clock at ``NOW``."""
    return WallClock()


@pytest.fixture
def cache(path: Path, wall: WallClock) -> DurationCache:
    """Return a cache on ``path`` timed by ``wall``."""
    return DurationCache(path, wall_clock=wall)


def write_raw(path: Path, data: object) -> None:
    """Write ``data`` as the cache file, as another (maybe broken) writer would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def entry(aim: object = 8.0, exact: object = 3, observed: object = 4, updated: object = NOW) -> Any:
    """Return one raw entry of the file."""
    return {"aim": aim, "exact": exact, "observed": observed, "updated": updated}


def fast_poll(**overrides: Any) -> PollConfig:
    """Return polling scaled to an emulator at ``TIME_SCALE``."""
    settings: dict[str, Any] = {
        "min_interval": 5 * TIME_SCALE,
        "requests_per_second": 25 / TIME_SCALE,
        "max_in_flight": 32,
    }
    settings.update(overrides)
    return PollConfig(**settings)


def new_key() -> str:
    """Return an API key no other test uses (so no two clients share a limiter)."""
    return "key_" + uuid.uuid4().hex


class TestCacheKey:
    """How a base URL becomes the file's key."""

    @pytest.mark.parametrize(
        "url",
        [
            "https://api.dev.runwayml.com",
            "https://api.dev.runwayml.com/",
            "HTTPS://API.dev.RunwayML.com:443",
            "https://user:secret@api.dev.runwayml.com/?q=1#frag",
        ],
    )
    def test_spellings_of_one_api_share_a_key(self, url: str) -> None:
        """Case, the default port, a trailing slash, credentials and query do not matter."""
        assert cache_key(url) == "https://api.dev.runwayml.com:443"

    def test_the_key_holds_no_credentials(self) -> None:
        """A URL's user and password never reach the file."""
        key = cache_key("https://user:secret@host.example:8443/base/")
        assert key == "https://host.example:8443/base"
        assert "secret" not in key

    def test_ports_paths_and_schemes_keep_apis_apart(self) -> None:
        """Another port, path or scheme is another API (two emulators never mix)."""
        keys = {
            cache_key(url)
            for url in (
                "http://127.0.0.1:8123",
                "http://127.0.0.1:8124",
                "http://127.0.0.1:8123/v2",
                "https://127.0.0.1:8123",
                "http://[::1]:8123",
            )
        }
        assert len(keys) == 5
        assert "http://[::1]:8123" in keys

    @pytest.mark.parametrize("url", ["ftp://host/x", "no scheme", "http://[::1", "https://"])
    def test_urls_without_an_http_host_have_no_key(self, url: str) -> None:
        """What is not an http(s) URL with a host is neither loaded nor saved."""
        assert cache_key(url) is None


class TestDefaultPath:
    """Where the file goes by default: the user's cache directory, no dependency needed."""

    HOME = Path("/home/ada")

    def default(self, platform: str, **environ: str) -> Path | None:
        return default_duration_cache(platform=platform, environ=environ, home=lambda: self.HOME)

    def test_linux_uses_xdg_cache_home(self) -> None:
        """``$XDG_CACHE_HOME`` when set to an absolute path."""
        found = self.default("linux", XDG_CACHE_HOME="/var/cache/ada")
        assert found == Path("/var/cache/ada/runway_async/durations.json")

    @pytest.mark.parametrize("xdg", ["", "relative/cache"])
    def test_linux_falls_back_to_dot_cache(self, xdg: str) -> None:
        """Unset or relative (invalid per the XDG spec): ``~/.cache``."""
        assert self.default("linux", XDG_CACHE_HOME=xdg) == (
            self.HOME / ".cache" / "runway_async" / "durations.json"
        )

    def test_macos_uses_library_caches(self) -> None:
        """``~/Library/Caches`` on macOS, whatever ``$XDG_CACHE_HOME`` says."""
        assert self.default("darwin", XDG_CACHE_HOME="/x") == (
            self.HOME / "Library" / "Caches" / "runway_async" / "durations.json"
        )

    def test_windows_uses_localappdata(self) -> None:
        """``%LOCALAPPDATA%`` on Windows, else its usual place under the home directory."""
        assert self.default("win32", LOCALAPPDATA="/appdata/local") == Path(
            "/appdata/local/runway_async/durations.json"
        )
        assert self.default("win32") == (
            self.HOME / "AppData" / "Local" / "runway_async" / "durations.json"
        )

    def test_the_environment_is_read_by_default(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """Without ``environ``, the process's environment decides (as subprocesses see it)."""
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        found = default_duration_cache(platform="linux")
        assert found == tmp_path / "runway_async" / "durations.json"

    def test_no_home_directory_means_no_cache(self) -> None:
        """Without a home directory the cache is off rather than anywhere surprising."""

        def no_home() -> Path:
            raise RuntimeError("Could not determine home directory.")

        assert default_duration_cache(platform="linux", environ={}, home=no_home) is None


class TestPollConfig:
    """``PollConfig(duration_cache=...)``: the default path, another path, or off."""

    def test_the_default_is_the_user_cache_file(self) -> None:
        """Left out, it is the default path, and off under the testing switch only."""
        poll = PollConfig()
        assert poll.duration_cache == default_duration_cache()
        assert runway_async.is_testing()
        assert poll.duration_cache_in_force is None
        runway_async.set_testing(False)
        assert poll.duration_cache_in_force == default_duration_cache()

    def test_a_given_path_is_honoured_even_when_testing(self, path: Path) -> None:
        """A str or PathLike given explicitly is used, also under the testing switch."""
        assert PollConfig(duration_cache=path).duration_cache_in_force == path
        assert PollConfig(duration_cache=str(path)).duration_cache == path

    def test_none_turns_it_off(self) -> None:
        """``None``: nothing is loaded or saved."""
        poll = PollConfig(duration_cache=None)
        assert poll.duration_cache is None
        runway_async.set_testing(False)
        assert poll.duration_cache_in_force is None

    @pytest.mark.parametrize("value", ["", b"/tmp/x", 3, Path])
    def test_other_values_are_refused(self, value: object) -> None:
        """Anything but a non-empty str path, a PathLike or None is a TypeError."""
        with pytest.raises(TypeError, match="duration_cache"):
            PollConfig(duration_cache=value)  # type: ignore[arg-type]

    def test_stays_frozen_hashable_and_comparable(self, path: Path) -> None:
        """Equal settings are equal and hash alike; the field cannot be reassigned."""
        assert PollConfig(duration_cache=path) == PollConfig(duration_cache=str(path))
        assert hash(PollConfig(duration_cache=path)) == hash(PollConfig(duration_cache=path))
        assert PollConfig(duration_cache=path) != PollConfig(duration_cache=None)
        with pytest.raises(AttributeError):
            PollConfig().duration_cache = None  # type: ignore[misc]


class TestRoundTrip:
    """What is saved is loaded back, for its own base URL only."""

    def test_save_then_load(self, cache: DurationCache, path: Path, wall: WallClock) -> None:
        """A saved state comes back as it was; the directory is created on the way."""
        assert cache.load(URL) == {}
        assert cache.save(
            URL, {MODEL: STATE, "gen4.5": EstimatorState(aim=40, exact=1, observed=1)}
        )
        assert DurationCache(path, wall_clock=wall).load(URL) == {
            MODEL: STATE,
            "gen4.5": EstimatorState(aim=40.0, exact=1, observed=1),
        }

    def test_the_file_format(self, cache: DurationCache, path: Path) -> None:
        """Versioned JSON keyed by normalised URL and model, each entry with its update time."""
        cache.save(URL + "/", {MODEL: STATE})
        assert json.loads(path.read_text()) == {
            "version": FORMAT_VERSION,
            "entries": {
                "https://api.dev.runwayml.com:443": {
                    MODEL: {"aim": 8.4, "exact": 12, "observed": 15, "updated": NOW}
                }
            },
        }

    def test_the_spread_and_pending_time_round_trip(self, cache: DurationCache) -> None:
        """The durations that time handovers and the pending time come back as saved."""
        state = EstimatorState(
            aim=9.2, exact=12, observed=40, spread=(7.7, 8.1, 8.6, 9.1), pending=0.5
        )
        assert cache.save(URL, {MODEL: state})
        assert cache.load(URL) == {MODEL: state}
        estimator = DurationEstimator.from_state(state)
        assert estimator.handover(0.25) is not None  # a seeded client hands over at once
        assert estimator.state() == attrs.evolve(state, pending=None)  # pending: the watcher's

    @pytest.mark.parametrize(
        ("spread", "pending"),
        [("x", -1.0), ([1.0, "a"], "b"), ([float("inf")], None), ([1.0] * 17, 1e9)],
    )
    def test_a_bad_spread_or_pending_time_drops_only_that(
        self, cache: DurationCache, path: Path, spread: object, pending: object
    ) -> None:
        """The entry's aim and counts still seed a client; the bad part is left out."""
        raw = entry()
        raw["spread"], raw["pending"] = spread, pending
        write_raw(path, {"version": FORMAT_VERSION, "entries": {KEY: {MODEL: raw}}})
        assert cache.load(URL) == {MODEL: EstimatorState(aim=8.0, exact=3, observed=4)}

    def test_two_base_urls_do_not_mix(self, cache: DurationCache) -> None:
        """What an emulator taught never seeds a client of another URL, and the reverse."""
        emulator_state = EstimatorState(aim=0.03, exact=50, observed=50)
        cache.save(OTHER_URL, {MODEL: emulator_state})
        cache.save(URL, {MODEL: STATE})
        assert cache.load(URL) == {MODEL: STATE}
        assert cache.load(OTHER_URL) == {MODEL: emulator_state}
        assert cache.load("http://127.0.0.1:8124") == {}

    def test_a_later_save_wins_per_entry_and_keeps_the_rest(self, cache: DurationCache) -> None:
        """Saving one model replaces that model's entry only."""
        cache.save(URL, {MODEL: STATE, "gen4.5": STATE})
        newer = EstimatorState(aim=7.9, exact=13, observed=16)
        cache.save(URL, {MODEL: newer})
        assert cache.load(URL) == {MODEL: newer, "gen4.5": STATE}

    def test_implausible_states_are_not_saved(self, cache: DurationCache, path: Path) -> None:
        """A NaN, negative or huge aim, or inconsistent counts, never reach the file."""
        bad = {
            "nan": EstimatorState(aim=float("nan"), exact=1, observed=1),
            "negative": EstimatorState(aim=-1.0, exact=1, observed=1),
            "huge": EstimatorState(aim=MAX_AIM * 2, exact=1, observed=1),
            "counts": EstimatorState(aim=1.0, exact=3, observed=2),
            "": STATE,
        }
        assert not cache.save(URL, bad)
        assert not path.exists()
        assert cache.save(URL, {**bad, MODEL: STATE})
        assert cache.load(URL) == {MODEL: STATE}

    def test_the_file_holds_no_secret(self, cache: DurationCache, path: Path) -> None:
        """Credentials in the URL are not written."""
        cache.save("https://me:hunter2@api.example.com", {MODEL: STATE})
        assert "hunter2" not in path.read_text()
        assert "me:" not in path.read_text()


class TestCorruption:
    """An unusable file counts as empty, is reported at DEBUG and replaced by the next save."""

    @pytest.mark.parametrize(
        "content",
        [
            "",
            "{not json",
            "\udcff",
            "[]",
            json.dumps({"version": FORMAT_VERSION + 1, "entries": {}}),
            json.dumps({"version": True, "entries": {}}),
            json.dumps({"version": FORMAT_VERSION, "entries": []}),
            json.dumps({"entries": {}}),
            "[" * 60_000,
        ],
    )
    def test_an_unusable_file_is_empty_and_overwritten(
        self, cache: DurationCache, path: Path, content: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Garbage, another version or shape: nothing loaded; the next save writes a good file."""
        path.parent.mkdir(parents=True)
        path.write_bytes(content.encode("utf-8", "surrogateescape"))
        with caplog.at_level(logging.DEBUG, logger="runway_async"):
            assert cache.load(URL) == {}
        if content:
            assert any(str(path) in r.getMessage() for r in caplog.records)
        assert cache.save(URL, {MODEL: STATE})
        assert cache.load(URL) == {MODEL: STATE}
        assert json.loads(path.read_text())["version"] == FORMAT_VERSION

    def test_an_oversized_file_is_not_read(self, cache: DurationCache, path: Path) -> None:
        """A file above the byte cap is not ours: not parsed, treated as empty."""
        big = {"version": FORMAT_VERSION, "entries": {cache_key(URL): {MODEL: entry()}}}
        write_raw(path, json.dumps(big) + " " * (duration_cache_module.MAX_BYTES + 1))
        assert cache.load(URL) == {}

    def test_invalid_entries_are_skipped_one_by_one(self, cache: DurationCache, path: Path) -> None:
        """Each bad entry is ignored; the good ones beside it load."""
        key = cache_key(URL)
        models = {
            "good": entry(),
            "nan": entry(aim=float("nan")),
            "inf": entry(aim=float("inf")),
            "negative": entry(aim=-0.5),
            "huge": entry(aim=MAX_AIM + 1),
            "string": entry(aim="8"),
            "bool": entry(exact=True),
            "float count": entry(observed=4.5),
            "counts": entry(exact=5, observed=4),
            "never ended": entry(exact=0, observed=0),
            "no update": entry(updated=None),
            "future": entry(updated=NOW + 2 * 86_400),
            "expired": entry(updated=NOW - MAX_AGE - 1),
            "x" * 1000: entry(),
            "not a dict": [8.0, 3, 4],
        }
        data = {
            "version": FORMAT_VERSION,
            "entries": {key: models, "not a url": {"good": entry()}, OTHER_URL: "nope"},
        }
        write_raw(path, json.dumps(data))  # NaN and Infinity as Python's json writes them
        assert cache.load(URL) == {"good": EstimatorState(aim=8.0, exact=3, observed=4)}

    def test_an_unreadable_path_is_empty(self, cache: DurationCache, path: Path) -> None:
        """A directory where the file should be: nothing loaded, nothing raised."""
        path.mkdir(parents=True)
        assert cache.load(URL) == {}
        assert not cache.save(URL, {MODEL: STATE})


class TestBounds:
    """At most so many entries and bytes; the least recently updated go first; old ones drop."""

    def test_least_recently_updated_entries_are_evicted(self, path: Path, wall: WallClock) -> None:
        """Beyond ``max_entries``, the entries updated longest ago are dropped."""
        cache = DurationCache(path, wall_clock=wall, max_entries=3)
        for n in range(4):
            wall.now = NOW + n
            cache.save(URL, {f"m{n}": STATE})
        assert set(cache.load(URL)) == {"m1", "m2", "m3"}
        wall.now = NOW + 10
        cache.save(URL, {"m1": STATE})  # m1 is now the most recent
        wall.now = NOW + 11
        cache.save(OTHER_URL, {"m4": STATE})  # the bound is across base URLs
        assert set(cache.load(URL)) == {"m1", "m3"}
        assert set(cache.load(OTHER_URL)) == {"m4"}

    def test_the_default_bound_holds(self, cache: DurationCache, path: Path) -> None:
        """At most ``MAX_ENTRIES`` entries and ``MAX_BYTES`` bytes, however much is saved."""
        long_name = "model-" + "x" * 200
        for batch in range(4):
            cache.save(URL, {f"{long_name}-{batch}-{n}": STATE for n in range(100)})
        loaded = cache.load(URL)
        assert 0 < len(loaded) <= duration_cache_module.MAX_ENTRIES
        assert path.stat().st_size <= duration_cache_module.MAX_BYTES
        assert f"{long_name}-3-99" in loaded  # the latest save survives

    def test_the_byte_cap_evicts_the_oldest(self, path: Path, wall: WallClock) -> None:
        """Over ``max_bytes``, the oldest entries go until the file fits."""
        cache = DurationCache(path, wall_clock=wall, max_bytes=600)
        for n in range(20):
            wall.now = NOW + n
            cache.save(URL, {f"model-{n:02}": STATE})
        assert path.stat().st_size <= 600
        kept = sorted(cache.load(URL))
        assert kept[-1] == "model-19"
        assert kept == [f"model-{n:02}" for n in range(20 - len(kept), 20)]

    def test_entries_expire_after_max_age(self, cache: DurationCache, wall: WallClock) -> None:
        """An entry not updated for 30 days is neither loaded nor written again."""
        cache.save(URL, {MODEL: STATE})
        wall.now = NOW + MAX_AGE - 1
        assert cache.load(URL) == {MODEL: STATE}
        wall.now = NOW + MAX_AGE + 1
        assert cache.load(URL) == {}
        cache.save(URL, {"gen4.5": STATE})
        assert cache.load(URL) == {"gen4.5": STATE}


class TestWriting:
    """Saves are atomic and never raise into the client."""

    def test_an_unwritable_directory_is_logged_not_raised(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The directory cannot be made (a file is in the way): False and a DEBUG line."""
        (tmp_path / "blocker").write_text("a file, not a directory")
        cache = DurationCache(tmp_path / "blocker" / "durations.json")
        with caplog.at_level(logging.DEBUG, logger="runway_async"):
            assert not cache.save(URL, {MODEL: STATE})
        assert [r.levelno for r in caplog.records] == [logging.DEBUG]
        assert cache.load(URL) == {}

    def test_no_temporary_file_is_left(self, cache: DurationCache, path: Path) -> None:
        """After saves, the directory holds the file and its lock file only."""
        for n in range(5):
            cache.save(URL, {f"m{n}": STATE})
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]

    @pytest.mark.parametrize("failing", ["fsync", "replace"])
    def test_a_failed_write_keeps_the_old_file(
        self, cache: DurationCache, path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
    ) -> None:
        """A write failing half-way leaves the previous file whole and no temporary file."""
        cache.save(URL, {MODEL: STATE})
        before = path.read_bytes()

        def fail(*_args: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(duration_cache_module.os, failing, fail)
        assert not cache.save(URL, {"gen4.5": STATE})
        monkeypatch.undo()
        assert path.read_bytes() == before
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]

    @pytest.mark.skipif(sys.platform == "win32", reason="flock is the POSIX lock")
    def test_a_save_gives_up_when_another_holds_the_lock(
        self, cache: DurationCache, path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The lock wait has a deadline: past it, the save is skipped, nothing raised."""
        import fcntl

        cache.save(URL, {MODEL: STATE})
        monkeypatch.setattr(duration_cache_module, "_LOCK_WAIT", 0.0)
        fd = os.open(str(path) + ".lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            assert not cache.save(URL, {"gen4.5": STATE})
        finally:
            os.close(fd)
        assert cache.save(URL, {"gen4.5": STATE})
        assert set(cache.load(URL)) == {MODEL, "gen4.5"}


SAVER = textwrap.dedent(
    """
    import sys
    from runway_async._duration_cache import DurationCache, EstimatorState

    path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cache = DurationCache(path)
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    sys.stdin.readline()  # start together
    for n in range(count):
        state = EstimatorState(aim=1.0 + n, exact=n + 1, observed=n + 1)
        assert cache.save("http://127.0.0.1:9", {f"{prefix}{n}": state}), n
    """
)


@contextlib.contextmanager
def savers(path: Path, *prefixes: str, count: int) -> Iterator[list[subprocess.Popen[str]]]:
    """Run one process per prefix saving ``count`` models of its own, released together."""
    with contextlib.ExitStack() as stack:
        procs = [
            stack.enter_context(
                subprocess.Popen(  # noqa: S603 - this interpreter running the fixed script above
                    [sys.executable, "-c", SAVER, str(path), prefix, str(count)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
            for prefix in prefixes
        ]
        for proc in procs:
            stack.callback(proc.kill)  # a no-op once it exited; first, so the exit cannot hang
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.close()
        yield procs


class TestProcesses:
    """Several processes share one file."""

    def test_concurrent_saves_from_two_processes_merge(self, path: Path) -> None:
        """Two processes saving different models at once: every model of both is kept."""
        path.parent.mkdir(parents=True)
        with savers(path, "a", "b", count=40) as procs:
            for proc in procs:
                assert proc.wait(timeout=120) == 0
        loaded = DurationCache(path).load("http://127.0.0.1:9")
        assert set(loaded) == {f"{p}{n}" for p in "ab" for n in range(40)}
        assert loaded["b39"] == EstimatorState(aim=40.0, exact=40, observed=40)

    def test_a_reader_never_sees_a_half_written_file(self, path: Path) -> None:
        """Reads racing a writer always find a whole JSON document (old or new)."""
        path.parent.mkdir(parents=True)
        reads = 0
        with savers(path, "m", count=150) as [proc]:
            for _ in range(1_000_000):  # bounded; ends when the writer does
                done = proc.poll() is not None
                try:
                    blob = path.read_bytes()
                except FileNotFoundError:
                    blob = None
                if blob is not None:
                    json.loads(blob)  # raises on a partial file
                    reads += 1
                if done:
                    break
            assert proc.wait(timeout=120) == 0
        assert reads >= 1
        assert len(DurationCache(path).load("http://127.0.0.1:9")) == 150


class TestEstimatorState:
    """``DurationEstimator`` to and from its persisted state."""

    def test_round_trip(self) -> None:
        """A seeded estimator has the persisted aim and counts, and saves the same state."""
        estimator = DurationEstimator.from_state(STATE)
        assert (estimator.aim, estimator.exact, estimator.observed) == (8.4, 12, 15)
        assert estimator.state() == STATE
        assert DurationEstimator().state() is None

    def test_a_seeded_estimator_goes_on_learning_past_its_warm_up(self) -> None:
        """With more than the warm-up's exact durations, a hit steps the aim down, not reset."""
        estimator = DurationEstimator.from_state(STATE)
        estimator.observe(duration=3.0)
        assert estimator.aim is not None
        assert 8.0 < estimator.aim < 8.4
        assert (estimator.exact, estimator.observed) == (13, 16)


class TestSeededWatcher:
    """A watcher seeded with persisted durations, on virtual time."""

    @pytest.fixture
    def clock(self) -> VirtualClock:
        """Return a virtual clock at ``T0``."""
        return VirtualClock(T0)

    @pytest.fixture
    def api(self, clock: VirtualClock) -> FakeAPI:
        """Return a fake API on the virtual clock."""
        return FakeAPI(clock)

    async def polls_of_first_task(
        self, clock: VirtualClock, api: FakeAPI, durations: dict[str, EstimatorState] | None
    ) -> list[float]:
        watcher = TaskWatcher(
            fetch=api.fetch, poll=POLL, clock=clock, rand=random.Random(7), durations=durations
        )
        try:
            api.script("a", end=7.6, progress=False)
            watcher.register_created("a", model=MODEL, slot=None)
            [done] = await run(clock, watcher.wait("a", timeout=None, poll=POLL))
            assert isinstance(done, SucceededTask)
            return api.times("a")
        finally:
            await watcher.aclose()

    async def test_a_seeded_first_task_is_polled_at_the_learned_time(
        self, clock: VirtualClock, api: FakeAPI
    ) -> None:
        """The first task of a process finds its end with one GET at the persisted aim."""
        seeded = {MODEL: EstimatorState(aim=8.0, exact=20, observed=20)}
        assert await self.polls_of_first_task(clock, api, seeded) == [8.0]

    async def test_without_seed_the_first_task_is_polled_at_the_floor(
        self, clock: VirtualClock, api: FakeAPI
    ) -> None:
        """The cold start the cache removes: a first GET by the floor finds it running."""
        times = await self.polls_of_first_task(clock, api, None)
        assert times[0] <= POLL.min_interval
        assert len(times) >= 2

    async def test_learned_reports_seeded_and_learned_models(
        self, clock: VirtualClock, api: FakeAPI
    ) -> None:
        """``learned()`` holds every model with an estimate; ``learn_count`` counts lessons."""
        calls: list[None] = []
        watcher = TaskWatcher(
            fetch=api.fetch,
            poll=POLL,
            clock=clock,
            durations={"other": STATE},
            on_learned=lambda: calls.append(None),
        )
        try:
            assert watcher.learned() == {"other": STATE}
            assert watcher.expected_duration("other") == STATE.aim
            api.script("a", end=12.0, progress=False)
            watcher.register_created("a", model=MODEL, slot=None)
            await run(clock, watcher.wait("a", timeout=None, poll=POLL))
            await asyncio.sleep(0)  # on_learned runs soon after, in the loop
            assert watcher.learn_count == 1
            assert calls == [None]
            learned = watcher.learned()
            assert set(learned) == {"other", MODEL}
            assert learned[MODEL].observed == 1
        finally:
            await watcher.aclose()


class RecordingCache(DurationCache):
    """A cache that records what each save was asked to write."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.saves: list[dict[str, EstimatorState]] = []

    def save(self, base_url: str, states: Any) -> bool:
        self.saves.append(dict(states))
        return super().save(base_url, states)


class TestSaveCadence:
    """When the client saves: at the first lesson, then at most every 60 s, and at close."""

    async def test_saves_while_learning_and_at_close(self, path: Path) -> None:
        """Saves what changed, throttled on the watcher's clock; nothing when nothing changed."""
        clock = VirtualClock(T0)
        api = FakeAPI(clock)
        cache = RecordingCache(path)
        cache.save(URL, {"seeded": STATE})
        cache.saves.clear()
        saved = _SavedDurations(cache, URL, clock)
        assert saved.saved == {"seeded": STATE}
        watcher = TaskWatcher(
            fetch=api.fetch,
            poll=POLL,
            clock=clock,
            durations=saved.saved,
            on_learned=saved.on_learned,
        )
        saved.watcher = watcher

        async def learn_one(task_id: str) -> None:
            start = clock.now() - T0
            api.script(task_id, end=start + 3.0, created=start, progress=False)
            watcher.register_created(task_id, model=MODEL, slot=None)
            await run(clock, watcher.wait(task_id, timeout=None, poll=POLL))
            await asyncio.sleep(0)  # let on_learned run

        try:
            await learn_one("a")  # the first lesson is saved at once
            assert [set(s) for s in cache.saves] == [{MODEL}]  # the seeded entry is unchanged
            await learn_one("b")  # 5 s later: within SAVE_EVERY, not saved yet
            assert len(cache.saves) == 1
            await clock.advance(SAVE_EVERY)
            await learn_one("c")
            assert len(cache.saves) == 2
            await learn_one("d")
        finally:
            await watcher.aclose()
        saved.save()  # at close: the unsaved lesson of "d"
        assert len(cache.saves) == 3
        assert DurationCache(path).load(URL)[MODEL] == watcher.learned()[MODEL]
        saved.save()  # nothing new since: no write
        assert len(cache.saves) == 3


class TestClients:
    """The whole path: a client learns and closes; a fresh client starts from what it learned."""

    async def learn(self, emu: Emulator, poll: PollConfig, tasks: int = 6) -> dict[str, Any]:
        """Run ``tasks`` image tasks with a fresh client, close it; return what it learned."""
        client = AsyncRunway(new_key(), base_url=emu.url, poll=poll, timeout=10.0)
        try:
            watcher = core_of(client).watcher()
            handles = [
                await client.text_to_image.create(**{**IMAGE, "prompt_text": f"fox {n}"})
                for n in range(tasks)
            ]
            await asyncio.gather(*(h.wait_for_task_output(timeout=30) for h in handles))
        finally:
            await client.aclose()
        return watcher.learned()

    async def test_a_fresh_client_starts_from_what_the_last_one_learned(self, path: Path) -> None:
        """Client 2 plans its first poll from client 1's learned duration, for that URL only."""
        async with (
            Emulator(time_scale=TIME_SCALE, seed=11) as emu,
            Emulator(time_scale=TIME_SCALE, seed=12) as other,
        ):
            learned = await self.learn(emu, fast_poll(duration_cache=path))
            assert MODEL in learned
            assert DurationCache(path).load(emu.url) == learned
            assert "key_" not in await asyncio.to_thread(path.read_text)

            async with AsyncRunway(
                new_key(), base_url=emu.url, poll=fast_poll(duration_cache=path)
            ) as client:
                watcher = core_of(client).watcher()
                assert watcher.learned() == learned
                assert watcher.expected_duration(MODEL) == learned[MODEL].aim
                # The first task is planned from the learned duration and finds its end.
                handle = await client.text_to_image.create(**IMAGE)
                await handle.wait_for_task_output(timeout=30)
                assert watcher.learned()[MODEL].observed == learned[MODEL].observed + 1

            async with AsyncRunway(
                new_key(), base_url=other.url, poll=fast_poll(duration_cache=path)
            ) as client:
                assert core_of(client).watcher().learned() == {}  # another URL: cold

    async def test_with_the_cache_off_a_fresh_client_starts_cold(self, path: Path) -> None:
        """``duration_cache=None`` (and a default under the testing switch) load nothing."""
        async with Emulator(time_scale=TIME_SCALE, seed=11) as emu:
            await self.learn(emu, fast_poll(duration_cache=path), tasks=2)
            for poll in (fast_poll(duration_cache=None), fast_poll()):
                async with AsyncRunway(new_key(), base_url=emu.url, poll=poll) as client:
                    watcher = core_of(client).watcher()
                    assert watcher.learned() == {}
                    assert watcher.expected_duration(MODEL) == poll.assumed_duration
            before = await asyncio.to_thread(path.read_bytes)
            learned = await self.learn(emu, fast_poll(duration_cache=None), tasks=2)
            assert MODEL in learned
            assert await asyncio.to_thread(path.read_bytes) == before  # nothing saved

    def test_the_sync_client_saves_and_seeds_too(self, path: Path) -> None:
        """The generated sync client (over the async one) saves at close and is seeded."""
        with Emulator(time_scale=TIME_SCALE, seed=11).in_thread() as emu:
            with Runway(new_key(), base_url=emu.url, poll=fast_poll(duration_cache=path)) as client:
                client.text_to_image.create(**IMAGE).wait_for_task_output(timeout=30)
            saved = DurationCache(path).load(emu.url)
            assert set(saved) == {MODEL}
            with Runway(new_key(), base_url=emu.url, poll=fast_poll(duration_cache=path)) as client:
                client.text_to_image.create(**IMAGE).wait_for_task_output(timeout=30)
            after = DurationCache(path).load(emu.url)[MODEL]
            assert after.observed == saved[MODEL].observed + 1  # went on from the seed
