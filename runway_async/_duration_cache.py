"""Learned task durations kept between processes, in one small JSON file per user.

A new process knows nothing of how long a model's tasks take, so its first tasks of each model
are polled at the ``min_interval`` floor until it learns (see ``_estimator``). The client
saves what its watcher learned here and seeds a new watcher from it, keyed by the API's base
URL (normalised: ``scheme://host:port/path``) and the model, so an emulator's scaled
durations never seed a client of the real API. The file holds no secret: no key, no digest
of one, only base URLs, model names, the estimator's ``aim`` and counts, and when each entry
was last updated.

The file, ``{"version": 1, "entries": {base_url: {model: {"aim", "exact", "observed",
"updated"}}}}``, is:

* written atomically: a temporary file in the same directory, flushed to disk, then renamed
  over the old one, so a reader sees the old file or the new one, never half of one;
* merged at each save with what is on disk (another process may have written since): per
  entry, the last writer wins, under an advisory lock with a short deadline;
* bounded: at most ``MAX_ENTRIES`` entries and ``MAX_BYTES`` bytes (the least recently
  updated entries go first); entries not updated for ``MAX_AGE`` seconds are dropped;
* tolerant: an unreadable, invalid or other-version file counts as empty (and is replaced by
  the next save), an invalid entry (a negative, NaN or absurdly large ``aim``, say) is
  skipped, and a directory that cannot be written only logs at DEBUG. Nothing here raises
  into the client.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

__all__ = [
    "FORMAT_VERSION",
    "MAX_AGE",
    "MAX_AIM",
    "MAX_BYTES",
    "MAX_ENTRIES",
    "DurationCache",
    "EstimatorState",
    "cache_key",
]

logger = logging.getLogger("runway_async")

FORMAT_VERSION: Final = 1
"""The file format's version; a file of another version is treated as empty."""
MAX_ENTRIES: Final = 256
"""Most (base URL, model) entries kept."""
MAX_BYTES: Final = 64 * 1024
"""Largest file written; a larger file found on disk is not read (it is not ours)."""
MAX_AGE: Final = 30 * 86_400.0
"""Seconds after its last update an entry is dropped."""
MAX_AIM: Final = 86_400.0
"""Largest ``aim`` (seconds) taken as plausible; a larger one is skipped."""

MAX_SPREAD: Final = 16  # durations kept per entry for the spread
_MAX_COUNT: Final = 2**53  # counts stay exact as JSON numbers
_MAX_MODEL_CHARS: Final = 256
_MAX_KEY_CHARS: Final = 2048
_FUTURE_SLACK: Final = 86_400.0  # an entry "updated" later than this from now is not trusted
_LOCK_WAIT: Final = 0.5  # seconds a save waits for another process's save to finish
_LOCK_POLL: Final = 0.002
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


@attrs.frozen(kw_only=True)
class EstimatorState:
    """What a ``DurationEstimator`` learned about one model, as persisted.

    Attributes:
        aim: The estimate in seconds (see ``DurationEstimator.aim``).
        exact: How many exact durations were observed.
        observed: How many ended tasks were observed in all.
        spread: Up to 16 durations standing for the unbiased ones seen (``spread``), which
            time a slot's early handover and floor the first poll.
        pending: Seconds from creation until the model's tasks run, when measured.

    """

    aim: float
    exact: int
    observed: int
    spread: tuple[float, ...] = ()
    pending: float | None = None

    def is_plausible(self) -> bool:
        """Return whether the values could come from an estimator (else they are ignored)."""
        return _plausible(self.aim, self.exact, self.observed)


def _plausible(aim: object, exact: object, observed: object) -> bool:
    """Return whether an aim and counts could come from an estimator that saw a task end."""
    return (
        _is_number(aim)
        and 0.0 <= aim <= MAX_AIM  # type: ignore[operator]  # a number, checked just above
        and _is_count(exact)
        and _is_count(observed)
        and exact <= observed  # type: ignore[operator]  # counts, checked just above
        and observed != 0
    )


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_COUNT


def _is_model(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_MODEL_CHARS


def cache_key(base_url: str) -> str | None:
    """Return the key of ``base_url`` in the file: ``scheme://host:port/path``, lower-cased.

    Credentials, query and fragment are left out, the default port is written out and a
    trailing ``/`` dropped, so every spelling of one API shares its entries.

    Returns:
        The key, or ``None`` for a URL that is not http(s) with a host.

    """
    try:
        parts = urllib.parse.urlsplit(base_url)
        port = parts.port
    except ValueError:  # an unclosed [ or a port out of range
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname  # lower-cased, without credentials
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    key = f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}{parts.path.rstrip('/')}"
    return key if len(key) <= _MAX_KEY_CHARS else None


# One entry on disk: (base URL key, model) -> (state, wall-clock time of the last update).
_Entries = dict[tuple[str, str], tuple[EstimatorState, float]]


class DurationCache:
    """The file of learned task durations (see the module docstring).

    Args:
        path: The file; its directory is created at the first save.
        wall_clock: Returns the wall-clock time in seconds, for ``updated`` and ages
            (``time.time``; tests pass their own).
        max_entries: Most entries kept.
        max_bytes: Largest file written.
        max_age: Seconds after its last update an entry is dropped.

    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        wall_clock: Callable[[], float] = time.time,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        max_age: float = MAX_AGE,
    ) -> None:
        self._path = Path(path)
        self._wall_clock = wall_clock
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._max_age = max_age

    def __repr__(self) -> str:
        return f"<DurationCache {str(self._path)!r}>"

    @property
    def path(self) -> Path:
        """The file."""
        return self._path

    def load(self, base_url: str) -> dict[str, EstimatorState]:
        """Return what was learned against ``base_url``, by model (empty if nothing usable).

        Never raises: an unreadable or invalid file, or entry, counts as absent.
        """
        key = cache_key(base_url)
        if key is None:
            return {}
        return {model: state for (url, model), (state, _) in self._read().items() if url == key}

    def save(self, base_url: str, states: Mapping[str, EstimatorState]) -> bool:
        """Merge ``states`` (by model) into the file as learned against ``base_url`` now.

        Entries another process wrote since are kept (for the same model, this save wins).
        Implausible states are skipped. Never raises: a failure is logged at DEBUG.

        Returns:
            Whether the file was written.

        """
        key = cache_key(base_url)
        fresh = {
            model: state
            for model, state in states.items()
            if _is_model(model) and isinstance(state, EstimatorState) and state.is_plausible()
        }
        if key is None or not fresh:
            return False
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                now = self._wall_clock()
                # This save's entries first: among equally recent ones, they are kept.
                entries: _Entries = {(key, model): (state, now) for model, state in fresh.items()}
                for found, value in self._read().items():
                    entries.setdefault(found, value)
                self._write(self._encode(entries))
        except (OSError, TimeoutError) as exc:
            logger.debug("Could not save learned task durations to %s: %s", self._path, exc)
            return False
        return True

    # -- reading ------------------------------------------------------------------------

    def _read(self) -> _Entries:
        """Return the valid, recent entries on disk (none if the file is unusable)."""
        try:
            with self._path.open("rb") as file:
                blob = file.read(self._max_bytes + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            logger.debug("Could not read learned task durations from %s: %s", self._path, exc)
            return {}
        if len(blob) > self._max_bytes:
            logger.debug("Ignoring %s: larger than %d bytes", self._path, self._max_bytes)
            return {}
        try:
            data = json.loads(blob)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError; absurd nesting
            logger.debug("Ignoring %s: not JSON (%s)", self._path, exc)
            return {}
        if (
            not isinstance(data, dict)
            or data.get("version") != FORMAT_VERSION
            or isinstance(data.get("version"), bool)
            or not isinstance(data.get("entries"), dict)
        ):
            logger.debug("Ignoring %s: not a version %d file", self._path, FORMAT_VERSION)
            return {}
        now = self._wall_clock()
        entries: _Entries = {}
        skipped = 0
        for url, models in data["entries"].items():
            if not isinstance(models, dict) or cache_key(url) != url:
                skipped += 1
                continue
            for model, raw in models.items():
                parsed = self._parse_entry(model, raw, now)
                if parsed is None:
                    skipped += 1
                else:
                    entries[(url, model)] = parsed
        if skipped:
            logger.debug("Skipped %d invalid or expired entries of %s", skipped, self._path)
        return entries

    def _parse_entry(
        self, model: str, raw: object, now: float
    ) -> tuple[EstimatorState, float] | None:
        """Return one entry's state and update time, or ``None`` if invalid or expired."""
        if not _is_model(model) or not isinstance(raw, dict):
            return None
        aim, exact, observed, updated = (
            raw.get(k) for k in ("aim", "exact", "observed", "updated")
        )
        if not _plausible(aim, exact, observed) or not _is_number(updated):
            return None
        updated = float(updated)  # type: ignore[arg-type]  # a number, checked above
        if not now - self._max_age <= updated <= now + _FUTURE_SLACK:
            return None
        spread = raw.get("spread", [])
        if not (
            isinstance(spread, list)
            and len(spread) <= MAX_SPREAD
            and all(_is_number(v) and 0.0 <= v <= MAX_AIM for v in spread)
        ):
            spread = []  # the rest of the entry still holds
        pending = raw.get("pending")
        if not (_is_number(pending) and 0.0 <= pending <= MAX_AIM):  # type: ignore[operator]
            pending = None
        state = EstimatorState(
            aim=float(aim),  # type: ignore[arg-type]  # a number, checked above
            exact=exact,  # type: ignore[arg-type]
            observed=observed,  # type: ignore[arg-type]
            spread=tuple(float(v) for v in spread),
            pending=None if pending is None else float(pending),
        )
        return state, updated

    # -- writing ------------------------------------------------------------------------

    def _encode(self, entries: _Entries) -> bytes:
        """Return the file's bytes: the most recently updated entries within the bounds."""
        # Newest first; the sort is stable, so ties keep the order ``entries`` has.
        ordered = sorted(entries.items(), key=lambda item: item[1][1], reverse=True)
        kept = ordered[: self._max_entries]
        while True:
            tree: dict[str, dict[str, dict[str, Any]]] = {}
            for (url, model), (state, updated) in kept:
                entry: dict[str, Any] = {
                    "aim": state.aim,
                    "exact": state.exact,
                    "observed": state.observed,
                    "updated": updated,
                }
                if state.spread:
                    entry["spread"] = list(state.spread[:MAX_SPREAD])
                if state.pending is not None:
                    entry["pending"] = state.pending
                tree.setdefault(url, {})[model] = entry
            blob = json.dumps(
                {"version": FORMAT_VERSION, "entries": tree},
                separators=(",", ":"),
                sort_keys=True,
            ).encode()
            if len(blob) <= self._max_bytes or not kept:
                return blob
            # Over the byte cap: drop the oldest entries, about as many as the excess holds.
            excess = math.ceil(len(kept) * (len(blob) - self._max_bytes) / len(blob))
            kept = kept[: len(kept) - max(1, excess)]

    def _write(self, blob: bytes) -> None:
        """Replace the file with ``blob`` atomically (a same-directory temp file, renamed)."""
        directory = self._path.parent
        fd, temp = tempfile.mkstemp(prefix=f".{self._path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(blob)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _sync_directory(directory)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the advisory lock of the file (``<file>.lock``) for one read-merge-write.

        Raises:
            TimeoutError: Another process held it for longer than ``_LOCK_WAIT`` seconds.

        """
        lock = self._path.with_name(self._path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + _LOCK_WAIT
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"{lock} stayed locked for {_LOCK_WAIT} s")
                time.sleep(_LOCK_POLL)  # another process is writing a few KB: a moment
            yield
        finally:
            os.close(fd)  # releases the lock


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock of ``fd`` if it is free; return whether it was."""
    if sys.platform == "win32":
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:  # held by another process
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # held by another process
        return False
    return True


def _sync_directory(directory: Path) -> None:
    """Flush the rename to disk where the platform allows (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
