"""Names of a batch's downloaded outputs: after the job's id, or a ``name`` template.

A batch names each output ``<id>_<n>.<ext>`` after its job's ``id`` (``Job.key``) when it has
one, and ``<task_id>_<n>.<ext>`` otherwise; ``name="{index}-{id}_{n}.{ext}"`` (``--name`` on
the command line) chooses another layout. Every field value is made safe first and the whole
name again after formatting (``safe_filename``: no separator, no ``..``, no device name, NFC,
at most 200 bytes), so a name is always one file directly in the target directory, whatever
the id, task id or template says. ``OutputNames`` keeps the names of one batch unique, also
between names that differ only in case or Unicode normalisation (which collide on Windows
and macOS): a later output whose name is taken gets ``name (1).ext``, ``name (2).ext``, ...
"""

from __future__ import annotations

import string
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from ._download import safe_filename

__all__ = ["NAME_FIELDS", "NameTemplate", "OutputNames", "default_output_name"]

NAME_FIELDS: Final = ("id", "index", "line", "task_id", "n", "ext")
"""The fields of a ``name`` template, in the order the documentation lists them."""
_JOB_FIELDS: Final = frozenset({"id", "index", "line", "task_id"})
# An id or task id is cut to this many UTF-8 bytes, so that "_<n>.<ext>" always survives.
_MAX_PART_BYTES: Final = 120
# A name is cut to this many bytes, leaving room for a " (123)" suffix under the 200 bytes
# safe_filename allows.
_MAX_NAME_BYTES: Final = 190
_MAX_SUFFIXES: Final = 10_000
# Widths and precisions above this in a format spec ({index:09d}) are refused: a name is
# short, and "{index:999999999}" would build a gigabyte of padding.
_MAX_WIDTH: Final = 64
_SAMPLE: Final[Mapping[str, object]] = {
    "id": "poster-fox",
    "index": 0,
    "line": 1,
    "task_id": "00000000-0000-0000-0000-000000000000",
    "n": 0,
    "ext": "png",
}


def _part(text: str, default: str) -> str:
    """Return ``text`` safe to put inside a file name, at most ``_MAX_PART_BYTES`` bytes."""
    part = safe_filename(text, default=default)
    data = part.encode()
    if len(data) > _MAX_PART_BYTES:
        part = data[:_MAX_PART_BYTES].decode("utf-8", errors="ignore").rstrip(" .") or default
    return part


def _shorten(name: str) -> str:
    """Return ``name`` safe and cut to ``_MAX_NAME_BYTES`` bytes, keeping its extension."""
    name = safe_filename(name, default="output")
    if len(name.encode()) <= _MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension if stem and len(extension) <= 8 else ""
    stem = name[: len(name) - len(suffix)]
    room = _MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:room].decode("utf-8", errors="ignore").rstrip(" .") or "output"
    return safe_filename(stem + suffix, default="output")


def default_output_name(job_id: str | None, task_id: str, n: int, extension: str) -> str:
    """Return the default name of a batch output: ``<id>_<n><ext>``, else ``<task_id>_<n><ext>``.

    Args:
        job_id: The job's ``id`` (``Job.key``), or ``None``.
        task_id: The task's (or workflow invocation's) id.
        n: The output's position in the task's outputs, from 0.
        extension: The extension with its dot (``.png``).

    Returns:
        A safe file name.

    """
    stem = _part(job_id, "job") if job_id else _part(task_id, "task")
    return _shorten(f"{stem}_{n}{extension}")


class NameTemplate:
    """A checked ``name`` template: ``str.format`` fields among ``NAME_FIELDS``.

    The fields are ``{id}`` (the job's id, or the task id when the job has none),
    ``{index}`` (the job's position in the batch, from 0), ``{line}`` (the job's line in the
    jobs file: command line only), ``{task_id}``, ``{n}`` (the output's position, from 0)
    and ``{ext}`` (the extension without its dot). Numbers take format specs
    (``{index:04d}``). The template must hold ``{n}`` (a task may have several outputs),
    ``{ext}``, and one field that tells jobs apart (``id``, ``index``, ``line`` or
    ``task_id``); it may not hold a path separator or a control character.
    """

    __slots__ = ("_lines", "_template", "fields")

    def __init__(self, template: str, *, lines: Sequence[int] | None = None) -> None:
        """Check ``template``.

        Args:
            template: The template, such as ``"{index}-{id}_{n}.{ext}"``.
            lines: The line of each job by its index (the command line's jobs file);
                ``{line}`` is refused without it.

        Raises:
            TypeError: ``template`` is not a string.
            ValueError: An unknown or positional field, attribute or item access, a
                conversion (``!r``), a bad format spec, ``{n}``, ``{ext}`` or every job
                field missing, or a separator or control character in the text.

        """
        if not isinstance(template, str):
            raise TypeError(f"name must be a template string, got {type(template).__name__}")
        self._template = template
        self._lines = lines
        self.fields = _check_template(template, allow_line=lines is not None)

    @property
    def template(self) -> str:
        """The template as given."""
        return self._template

    def __repr__(self) -> str:
        return f"NameTemplate({self._template!r})"

    def format(self, *, index: int, job_id: str | None, task_id: str, n: int, ext: str) -> str:
        """Return the safe file name of one output.

        Args:
            index: The job's position in the batch.
            job_id: The job's id, or ``None`` (``{id}`` is then the task id).
            task_id: The task's id.
            n: The output's position among the task's outputs.
            ext: The extension, with or without its dot.

        Returns:
            One safe file name, at most 190 UTF-8 bytes.

        """
        values: dict[str, object] = {
            "id": _part(job_id, "job") if job_id else _part(task_id, "task"),
            "index": index,
            "task_id": _part(task_id, "task"),
            "n": n,
            "ext": _part(ext.lstrip("."), "bin"),
        }
        if self._lines is not None:
            values["line"] = self._lines[index]
        return _shorten(string.Formatter().vformat(self._template, (), values))


def _check_template(template: str, *, allow_line: bool) -> frozenset[str]:
    """Return the fields ``template`` uses; raise ``ValueError`` for anything wrong in it."""

    def refuse(problem: str) -> ValueError:
        return ValueError(f"name template {template!r}: {problem}")

    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise refuse(f"{exc} (write {{{{ and }}}} for literal braces)") from None
    known = ", ".join(NAME_FIELDS)
    fields: set[str] = set()
    for text, field, spec, conversion in parsed:
        bad = next((c for c in text if c in "/\\" or unicodedata.category(c) == "Cc"), None)
        if bad is not None:
            raise refuse(
                f"{bad!r} is not allowed: a name is one file directly in the output directory"
            )
        if field is None:
            continue
        if field not in NAME_FIELDS:
            what = "a positional field" if field == "" or field.isdigit() else "unknown field"
            raise refuse(f"{what} {{{field}}}; the fields are {known}")
        if field == "line" and not allow_line:
            raise refuse("{line} exists only on the command line (runway-async batch --name)")
        if conversion is not None:
            raise refuse(f"{{{field}!{conversion}}}: conversions are not allowed")
        if spec and ("{" in spec or any(int(w) > _MAX_WIDTH for w in _numbers(spec))):
            raise refuse(f"format spec {spec!r}: no nested fields, widths at most {_MAX_WIDTH}")
        fields.add(field)
    if not template:
        raise refuse("it is empty")
    if "n" not in fields:
        raise refuse("it needs {n}: a task can have several outputs, which would share a name")
    if "ext" not in fields:
        raise refuse("it needs {ext}, so each file says what it is (.png, .mp4, ...)")
    if not fields & _JOB_FIELDS:
        raise refuse(
            "it needs {id}, {index}, {line} or {task_id}: without one, every job's outputs "
            "would share the same names"
        )
    sample = dict(_SAMPLE)
    try:
        string.Formatter().vformat(template, (), sample)
    except (ValueError, TypeError) as exc:
        raise refuse(f"cannot format it: {exc}") from None
    return frozenset(fields)


def _numbers(spec: str) -> list[str]:
    """Return the runs of digits in a format spec."""
    runs: list[str] = []
    current = ""
    for c in spec:
        if c.isdigit():
            current += c
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


class OutputNames:
    """The names of one batch's outputs in its directory: default or templated, unique.

    Thread-safe; one per batch (one target directory).
    """

    def __init__(self, template: NameTemplate | None = None) -> None:
        """Start with no name taken.

        Args:
            template: The ``name`` template; ``None`` for ``<id>_<n>.<ext>`` / task id.

        """
        self._template = template
        self._owners: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def owns_names(self, job_id: str | None) -> bool:
        """Whether a job's names hold its task id, so an existing file is its own output.

        Such a file can only be an earlier download of the same output (a resumed batch),
        which may be replaced; any other existing file (a job id or template can name
        another batch's file the same) is kept, and the new one numbered.

        Args:
            job_id: The job's id, or ``None``.

        Returns:
            ``True`` for the default names of a job without an id.

        """
        return self._template is None and not job_id

    def namer(self, *, index: int, job_id: str | None, task_id: str) -> Callable[[int, str], str]:
        """Return the function naming output ``n`` (with extension ``ext``) of one task.

        Args:
            index: The job's position in the batch.
            job_id: The job's id, or ``None``.
            task_id: The task's (or workflow invocation's) id.

        Returns:
            ``name(n, ext) -> file name``, unique among this batch's outputs.

        """

        def name(n: int, ext: str) -> str:
            if self._template is None:
                base = default_output_name(job_id, task_id, n, ext)
            else:
                base = self._template.format(
                    index=index, job_id=job_id, task_id=task_id, n=n, ext=ext
                )
            return self.claim(base, (task_id, n))

        return name

    def claim(self, name: str, owner: tuple[str, int]) -> str:
        """Return ``name``, or ``name (k).ext`` when another output of the batch has it.

        Names are compared case-folded and NFC-normalised, as Windows and macOS compare
        them; the same owner (task id, output index) asking again gets the same name.

        Args:
            name: A safe name of at most 190 bytes.
            owner: The output: its task id and index.

        Returns:
            A name no other output of this batch has.

        Raises:
            FileExistsError: 10,000 numbered variants are taken (not in practice).

        """
        stem, dot, extension = name.rpartition(".")
        if not stem:
            stem, dot, extension = name, "", ""
        with self._lock:
            for k in range(_MAX_SUFFIXES):
                candidate = name if k == 0 else f"{stem} ({k}){dot}{extension}"
                key = unicodedata.normalize("NFC", candidate).casefold()
                held = self._owners.setdefault(key, owner)
                if held == owner:
                    return candidate
        raise FileExistsError(f"{name} and {_MAX_SUFFIXES - 1} numbered variants are taken")
