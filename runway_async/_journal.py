"""The durable batch journal: ``SQLiteBatchJournal``, one SQLite file per batch.

A batch killed at any moment (SIGKILL included) and run again with the same journal pays
for nothing twice: each job is written down with a fingerprint of its request right before
its create is sent, its task id as soon as the reply arrives, then its end, its task and
each downloaded file with its SHA-256. The resumed batch waits for tasks that have an id,
skips finished jobs (re-checking their files), sends the jobs never sent, and reports a job
whose create was sent but never answered as ``UNKNOWN`` (with its request kept), never
sending it again unless asked (``resubmit_unknown``).

How the writes stay off the event loop's critical path: they do not leave the loop thread.
The protocol's guarantee (no await between a create's reply and recording its task id, so
no cancellation can fall in between) needs each record to be made synchronously; handing it
to a thread would either reintroduce an await or make the record non-durable when the call
returns. So each call is one small statement in its own transaction on one connection, in
WAL mode with ``synchronous=FULL``: one append to the write-ahead log and one ``fsync`` per
record: about 3.2 ms on an ext4 disk (600 writes measured; see the README's Batch
section). Reading files for fingerprints and hashing downloads for re-checks happen before
the batch runs (``check_jobs``) or in a worker thread (the batch), not per record.

Schema (version 1): ``meta`` (key, value: ``schema_version``, ``sdk_version``,
``created_at``, and whatever ``set_info`` stores), ``jobs`` (one row per job index: its
fingerprint and canonical JSON, state, request, task id, status, task JSON, error, note,
attempts) and ``files`` (job index, path, SHA-256, bytes). The key is never written.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ._batch import WORKFLOW_RUN, BatchResult, Job, JournalRecord
from ._convert import structure_task, unstructure
from ._download import DownloadedFile
from ._exceptions import RunwayError
from ._invocations import invocation_from_reply
from ._version import __version__

__all__ = [
    "SCHEMA_VERSION",
    "JournalError",
    "JournalMismatchError",
    "SQLiteBatchJournal",
    "job_fingerprint",
]

SCHEMA_VERSION: Final = 1
"""The journal file's schema version; a file of another version is refused."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    idx INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    job TEXT NOT NULL,
    state TEXT NOT NULL,
    request TEXT,
    task_id TEXT,
    status TEXT,
    task TEXT,
    error TEXT,
    note TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    idx INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    content_type TEXT,
    PRIMARY KEY (idx, path)
);
"""

STATES: Final = ("pending", "sending", "submitted", "unknown", "finished")
"""A job's state in the journal.

``pending``: known (recorded by ``check_jobs``), nothing sent. ``sending``: its create was
about to be sent; a journal left in this state was killed before the reply, so the job is
``UNKNOWN`` on resume. ``submitted``: its task id is known. ``unknown``: its create's outcome
is unknown. ``finished``: it ended (see ``status``).
"""


class JournalError(RunwayError):
    """The batch journal cannot be used: not a journal, another schema version, unreadable."""


class JournalMismatchError(JournalError, ValueError):
    """The jobs differ from those the journal recorded; resuming could pay for wrong work.

    Attributes:
        index: The first job that differs (its position in ``jobs``), or ``None`` when only
            the number of jobs differs.
        field: The first field that differs (``params.prompt_text``, ``endpoint``, ``id``),
            or ``None``.

    """

    def __init__(self, message: str, *, index: int | None, field: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.field = field


_FILE_HASHES: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def _file_sha256(path: Path) -> str:
    """Return the SHA-256 of a local file, cached by path, size and modification time."""
    try:
        stat = path.stat()
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _HASH_LOCK:
        known = _FILE_HASHES.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    with _HASH_LOCK:
        _FILE_HASHES[key] = digest.hexdigest()
    return digest.hexdigest()


def _canonical(value: Any) -> Any:
    """Return ``value`` as JSON data; a local file becomes its SHA-256 (not its upload URI)."""
    if isinstance(value, os.PathLike):
        return {"file_sha256": _file_sha256(Path(os.fspath(value)))}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return {"repr": repr(value)}


def _job_data(job: Job) -> dict[str, Any]:
    return {"endpoint": job.endpoint, "id": job.key, "params": _canonical(job.params)}


def _dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def job_fingerprint(job: Job) -> str:
    """Return the SHA-256 of a job as written: endpoint, id and params, files by content.

    Args:
        job: The job.

    Returns:
        Lower-case hex. Equal for equal jobs; a local file (``pathlib.Path``) counts by the
        SHA-256 of its bytes, so the same file gives the same fingerprint in every run.

    """
    return hashlib.sha256(_dumps(_job_data(job)).encode()).hexdigest()


def _first_difference(recorded: Any, given: Any, path: str = "") -> str:
    """Return the path of the first field where two JSON values differ."""
    if isinstance(recorded, dict) and isinstance(given, dict):
        for key in sorted(set(recorded) | set(given)):
            inner = f"{path}.{key}" if path else key
            if key not in recorded or key not in given:
                return inner
            if recorded[key] != given[key]:
                return _first_difference(recorded[key], given[key], inner)
        return path
    if isinstance(recorded, list) and isinstance(given, list) and len(recorded) == len(given):
        for n, (a, b) in enumerate(zip(recorded, given, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{n}]")
    return path


def _excerpt(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


class SQLiteBatchJournal:
    """A ``BatchJournal`` in one SQLite file: a batch resumed from it pays for nothing twice.

    ``client.batch(jobs, journal="batch.db")`` opens one (and closes it when the batch
    ends); pass an instance to keep it open or to read it afterwards. Use one journal per
    jobs list: a journal refuses jobs that differ from those it recorded
    (``JournalMismatchError``, naming the first job and field that differ).

    Every record is durable when the call returns (WAL, ``synchronous=FULL``). Safe to use
    from one batch at a time; the calls are serialized by a lock.

    Args:
        path: The journal file; created with its directory's permissions if missing.

    Raises:
        JournalError: The file is not a journal (or of another schema version).

    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the batch journal {self.path}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            version = self._meta("schema_version")
            if version is None:
                with self._db:
                    self._db.execute("BEGIN IMMEDIATE")
                    self._set_meta("schema_version", str(SCHEMA_VERSION))
                    self._set_meta("sdk_version", __version__)
                    self._set_meta("created_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            elif version != str(SCHEMA_VERSION):
                raise JournalError(
                    f"{self.path} is a batch journal of schema version {version}; this SDK "
                    f"({__version__}) reads version {SCHEMA_VERSION}"
                )
            self._set_meta("last_sdk_version", __version__)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise JournalError(
                f"{self.path} is not a batch journal (an SQLite file): {exc}"
            ) from None
        except BaseException:
            self._db.close()
            raise

    # -- meta -----------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def info(self) -> dict[str, Any]:
        """Return the journal's metadata: schema and SDK versions, and what ``set_info`` stored."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        out: dict[str, Any] = {}
        for key, value in rows:
            if key.startswith("info."):
                out[key[5:]] = json.loads(value)
            else:
                out[key] = value
        return out

    def set_info(self, **values: Any) -> None:
        """Store JSON values in the journal's metadata (the command line keeps line numbers).

        Args:
            **values: JSON-ready values by name.

        """
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for key, value in values.items():
                self._set_meta(f"info.{key}", json.dumps(value))

    # -- checking the jobs ----------------------------------------------------------------

    def _mismatch(self, index: int, recorded_json: str, job: Job) -> JournalMismatchError:
        recorded = json.loads(recorded_json)
        given = _job_data(job)
        field = _first_difference(recorded, given) or None
        where: Any = recorded
        now: Any = given
        for part in (field or "").replace("[", ".[").split("."):
            if not part:
                continue
            if part.startswith("["):
                n = int(part[1:-1])
                where = where[n] if isinstance(where, list) and n < len(where) else None
                now = now[n] if isinstance(now, list) and n < len(now) else None
            else:
                where = where.get(part) if isinstance(where, dict) else None
                now = now.get(part) if isinstance(now, dict) else None
        return JournalMismatchError(
            f"job {index} differs from the one the batch journal {self.path} recorded: "
            f"{field or 'the job'} was {_excerpt(where)}, is now {_excerpt(now)}. Resume with "
            "the same jobs, or use another journal to start over.",
            index=index,
            field=field,
        )

    def check_jobs(self, jobs: Sequence[Job]) -> None:
        """Record every job's fingerprint (a new journal), or check them against the record.

        Args:
            jobs: All the jobs of the batch, in order.

        Raises:
            JournalMismatchError: A job differs from the recorded one, or their number does.

        """
        rows = [(job_fingerprint(job), _dumps(_job_data(job))) for job in jobs]
        with self._lock:
            recorded = self._db.execute(
                "SELECT idx, fingerprint, job FROM jobs ORDER BY idx"
            ).fetchall()
            count = self._meta("job_count")
            if not recorded:
                now = time.time()
                with self._db:
                    self._db.execute("BEGIN IMMEDIATE")
                    self._db.executemany(
                        "INSERT INTO jobs (idx, fingerprint, job, state, updated) "
                        "VALUES (?, ?, ?, 'pending', ?)",
                        [(n, fp, data, now) for n, (fp, data) in enumerate(rows)],
                    )
                    self._set_meta("job_count", str(len(rows)))
                return
        for idx, fingerprint, data in recorded:
            if idx >= len(rows):
                break
            if fingerprint != rows[idx][0]:
                raise self._mismatch(idx, data, jobs[idx])
        # A journal written from a list knows how many jobs it had; one written job by job
        # (a lazy iterable) only that it had at least these.
        known = int(count) if count is not None else recorded[-1][0] + 1
        if (count is not None and known != len(rows)) or known > len(rows):
            first = min(known, len(rows))
            raise JournalMismatchError(
                f"the batch journal {self.path} recorded {known} jobs and {len(rows)} are "
                f"given now (job {first} is the first not in both). Resume with the same "
                "jobs, or use another journal to start over.",
                index=first,
                field=None,
            )

    def _row(self, index: int, job: Job) -> tuple[Any, ...] | None:
        """Return the job's row, after checking it is the same job."""
        row = self._db.execute(
            "SELECT fingerprint, job, state, request, task_id, status, task, error, note "
            "FROM jobs WHERE idx = ?",
            (index,),
        ).fetchone()
        if row is None:
            return None
        if row[0] != job_fingerprint(job):
            raise self._mismatch(index, row[1], job)
        return tuple(row)

    # -- the BatchJournal protocol ----------------------------------------------------------

    def known_task_id(self, index: int, job: Job) -> str | None:
        """Return the task created for this job in an earlier run, if any.

        Raises:
            JournalMismatchError: The job differs from the one recorded at this index.

        """
        with self._lock:
            row = self._row(index, job)
        return None if row is None else row[4]

    def job_record(self, index: int, job: Job) -> JournalRecord | None:
        """Return what earlier runs recorded of the job (``None``: nothing was sent).

        Raises:
            JournalMismatchError: The job differs from the one recorded at this index.

        """
        with self._lock:
            row = self._row(index, job)
            if row is None:
                return None
            files = self._db.execute(
                "SELECT path, sha256, bytes, content_type FROM files WHERE idx = ? ORDER BY rowid",
                (index,),
            ).fetchall()
        _fp, _job, state, request, task_id, status, task, error, note = row
        if state == "pending":
            return None
        return JournalRecord(
            task_id=task_id,
            unknown=task_id is None and state in ("sending", "unknown"),
            status=status,
            task=_load_task(job, task),
            files=tuple(
                DownloadedFile(path=Path(p), url="", sha256=h, bytes=b, content_type=c)
                for p, h, b, c in files
            ),
            error_message=error,
            note=note,
            request=json.loads(request) if request is not None else None,
        )

    def _write(self, sql: str, args: Sequence[Any]) -> None:
        with self._lock:
            self._db.execute(sql, args)  # autocommit: one durable transaction

    def job_sending(self, index: int, job: Job, request: Mapping[str, Any]) -> None:
        """Record the job and its request right before its create is sent."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM files WHERE idx = ?", (index,))
            self._db.execute(
                "INSERT INTO jobs (idx, fingerprint, job, state, request, attempts, updated) "
                "VALUES (?, ?, ?, 'sending', ?, 1, ?) ON CONFLICT (idx) DO UPDATE SET "
                "state = 'sending', request = excluded.request, task_id = NULL, status = NULL, "
                "task = NULL, error = NULL, note = NULL, attempts = attempts + 1, "
                "updated = excluded.updated",
                (
                    index,
                    job_fingerprint(job),
                    _dumps(_job_data(job)),
                    _dumps(request),
                    time.time(),
                ),
            )

    def job_submitted(self, index: int, job: Job, task_id: str) -> None:
        """Record the job's new task id (as soon as the create's reply arrives)."""
        self._write(
            "UPDATE jobs SET state = 'submitted', task_id = ?, updated = ? WHERE idx = ?",
            (task_id, time.time(), index),
        )

    def job_unknown(self, index: int, job: Job, reason: str) -> None:
        """Record that the job's create was sent and its outcome is unknown."""
        self._write(
            "UPDATE jobs SET state = 'unknown', note = ?, updated = ? "
            "WHERE idx = ? AND task_id IS NULL",
            (reason, time.time(), index),
        )

    def file_downloaded(self, index: int, job: Job, file: DownloadedFile) -> None:
        """Record one downloaded output with its SHA-256."""
        self._write(
            "INSERT OR REPLACE INTO files (idx, path, sha256, bytes, content_type) "
            "VALUES (?, ?, ?, ?, ?)",
            (index, str(file.path.absolute()), file.sha256, file.bytes, file.content_type),
        )

    def job_finished(self, result: BatchResult) -> None:
        """Record how the job ended, its task and its files.

        A job whose create was sent and never answered keeps its ``unknown`` state (and its
        request); one that ended without a task otherwise sent nothing that was accepted.
        """
        task = _dump_task(result.task)
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT state FROM jobs WHERE idx = ?", (result.index,)
            ).fetchone()
            state = row[0] if row is not None else None
            unknown = result.task_id is None and (result.status == "UNKNOWN" or state == "unknown")
            new_state = "unknown" if unknown else "finished"
            if row is None:
                self._db.execute(
                    "INSERT INTO jobs (idx, fingerprint, job, state, updated) "
                    "VALUES (?, ?, ?, 'pending', ?)",
                    (
                        result.index,
                        job_fingerprint(result.job),
                        _dumps(_job_data(result.job)),
                        time.time(),
                    ),
                )
            self._db.execute(
                "UPDATE jobs SET state = ?, task_id = COALESCE(?, task_id), status = ?, "
                "task = COALESCE(?, task), error = ?, note = COALESCE(?, note), updated = ? "
                "WHERE idx = ?",
                (
                    new_state,
                    result.task_id,
                    result.status,
                    task,
                    result.error_message,
                    result.note,
                    time.time(),
                    result.index,
                ),
            )
            if result.files:
                self._db.execute("DELETE FROM files WHERE idx = ?", (result.index,))
                self._db.executemany(
                    "INSERT OR REPLACE INTO files (idx, path, sha256, bytes, content_type) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (result.index, str(f.path.absolute()), f.sha256, f.bytes, f.content_type)
                        for f in result.files
                    ],
                )

    # -- reading ----------------------------------------------------------------------------

    def earlier_credits(self) -> float:
        """Return the final cost of the finished jobs' tasks, as recorded.

        The spend guard counts it as already spent when a batch resumes. Earlier attempts of
        a retried job are not recorded, only its last task.
        """
        total = 0.0
        rows = self._db.execute(
            "SELECT task FROM jobs WHERE state = 'finished' AND task IS NOT NULL"
        )
        for (text,) in rows:
            try:
                data = json.loads(text)
            except ValueError:
                continue
            cost = data.get("cost") if isinstance(data, dict) else None
            credits = cost.get("credits") if isinstance(cost, dict) else None
            if isinstance(credits, (int, float)) and not isinstance(credits, bool):
                total += credits
        return total

    def counts(self) -> dict[str, int]:
        """Return the number of jobs per state (``UNKNOWN`` included), for ``journal show``.

        A finished job counts under its status (``SUCCEEDED``, ``FAILED``, ...); the others
        under ``NOT_STARTED``, ``SUBMITTED`` (a task to wait for) or ``UNKNOWN`` (a create
        sent and never answered, or answered ambiguously).
        """
        out: dict[str, int] = {}
        for row in self.rows():
            out[row["state"]] = out.get(row["state"], 0) + 1
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Return every recorded job as a dict, in job order.

        Keys: ``index``, ``id``, ``endpoint``, ``state`` (``NOT_STARTED``, ``SUBMITTED``,
        ``UNKNOWN`` or the final status), ``task_id``, ``request`` (the JSON body last sent,
        if any), ``error``, ``note``, ``attempts``, ``task`` (its JSON), and ``files``
        (``path``, ``sha256``, ``bytes``).
        """
        with self._lock:
            jobs = self._db.execute(
                "SELECT idx, job, state, request, task_id, status, task, error, note, attempts "
                "FROM jobs ORDER BY idx"
            ).fetchall()
            files = self._db.execute(
                "SELECT idx, path, sha256, bytes FROM files ORDER BY idx, rowid"
            ).fetchall()
        by_job: dict[int, list[dict[str, Any]]] = {}
        for idx, path, sha, size in files:
            by_job.setdefault(idx, []).append({"path": path, "sha256": sha, "bytes": size})
        out = []
        for idx, job, state, request, task_id, status, task, error, note, attempts in jobs:
            data = json.loads(job)
            if state == "finished":
                shown = status
            elif state in ("sending", "unknown") and task_id is None:
                shown = "UNKNOWN"
            elif task_id is not None:
                shown = "SUBMITTED"
            else:
                shown = "NOT_STARTED"
            out.append(
                {
                    "index": idx,
                    "id": data.get("id"),
                    "endpoint": data.get("endpoint"),
                    "state": shown,
                    "task_id": task_id,
                    "request": json.loads(request) if request is not None else None,
                    "error": error,
                    "note": note,
                    "attempts": attempts,
                    "task": json.loads(task) if task is not None else None,
                    "files": by_job.get(idx, []),
                }
            )
        return out

    def close(self) -> None:
        """Close the file (the records are already durable)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteBatchJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteBatchJournal({str(self.path)!r})"


def _dump_task(task: object) -> str | None:
    if task is None:
        return None
    try:
        return _dumps(unstructure(task))
    except Exception:  # a task the converter cannot write: keep the rest of the record
        return None


def _load_task(job: Job, text: str | None) -> Any:
    if text is None:
        return None
    data = json.loads(text)
    try:
        if job.endpoint == WORKFLOW_RUN:
            return invocation_from_reply(data, str(data.get("id", "")))
        return structure_task(data)
    except Exception:  # an unreadable record: the task is looked at again
        return None
