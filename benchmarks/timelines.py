"""Timeline pictures: each task's THROTTLED time, its PENDING and RUNNING time, and the gap
until the client saw its end, one panel per SDK side by side.

``bars()`` turns the emulator's per-task timelines (``/_emulator/metrics?tasks=1``) into the
rows to draw, without matplotlib; ``draw()`` writes the PNG with matplotlib's Agg canvas, so
it needs no display. matplotlib is a benchmark-only dependency (``nox -s bench``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

# The most task rows one panel draws: larger runs draw every k-th task in creation order.
MAX_ROWS = 1000
WIDTH_PX, HEIGHT_PX, DPI = 1200, 700, 100
# Okabe-Ito colours: told apart with the common colour-vision deficiencies.
SEGMENTS = {
    "throttled": ("THROTTLED (created to admitted)", "#D55E00"),
    "running": ("PENDING + RUNNING (admitted to ended)", "#0072B2"),
    "gap": ("until the client saw the end (ended to first GET)", "#E69F00"),
}


@attrs.frozen
class TaskRow:
    """One task's moments in API seconds since the run's first create (``None``: never)."""

    created: float
    admitted: float | None
    ended: float | None
    seen: float | None


@attrs.frozen
class Bars:
    """The rows one panel draws: every ``step``-th of ``total`` tasks, in creation order."""

    rows: tuple[TaskRow, ...]
    step: int
    total: int

    def segments(self) -> dict[str, list[tuple[int, float, float]]]:
        """Return ``(task, start, width)`` per segment kind (see ``SEGMENTS``).

        ``task`` is the task's place in creation order (0 first; multiples of ``step``);
        empty segments (a task never THROTTLED) are left out.
        """
        out: dict[str, list[tuple[int, float, float]]] = {kind: [] for kind in SEGMENTS}
        for index, row in zip(range(0, self.total, self.step), self.rows, strict=True):
            spans = {
                "throttled": (row.created, row.admitted),
                "running": (row.admitted, row.ended),
                "gap": (row.ended, row.seen),
            }
            for kind, (start, end) in spans.items():
                if start is not None and end is not None and end > start:
                    out[kind].append((index, start, end - start))
        return out

    def end(self) -> float:
        """Return the latest moment of any row (0 for no rows)."""
        moments = [
            moment
            for row in self.rows
            for moment in (row.created, row.admitted, row.ended, row.seen)
            if moment is not None
        ]
        return max(moments, default=0.0)


def bars(timelines: Mapping[str, Mapping[str, Any]], max_rows: int = MAX_ROWS) -> Bars:
    """Return the rows to draw for one run: tasks in creation order, at most ``max_rows``.

    Times count from the first create, so the client process's start-up (before any
    request) is left out and panels of different SDKs line up.

    Args:
        timelines: The emulator's ``tasks`` metrics: per task id, ``created``, ``admitted``,
            ``ended`` and ``seen`` in API seconds (``seen`` may be missing or ``None``).
        max_rows: Above this many tasks, every ``ceil(total / max_rows)``-th is kept.

    Returns:
        The rows, the sampling step and the number of tasks.

    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    ordered = sorted(timelines.values(), key=lambda task: task["created"])
    step = max(1, math.ceil(len(ordered) / max_rows))
    origin = ordered[0]["created"] if ordered else 0.0

    def since(moment: float | None) -> float | None:
        return None if moment is None else moment - origin

    rows = tuple(
        TaskRow(
            created=task["created"] - origin,
            admitted=since(task.get("admitted")),
            ended=since(task.get("ended")),
            seen=since(task.get("seen")),
        )
        for task in ordered[::step]
    )
    return Bars(rows=rows, step=step, total=len(ordered))


@attrs.frozen
class Panel:
    """One SDK's panel: its name, the line under it (wall time, THROTTLED) and its bars."""

    label: str
    subtitle: str
    bars: Bars


def matplotlib_missing() -> str | None:
    """Return why pictures cannot be drawn here, or ``None`` when matplotlib is available."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib): no timeline pictures"
    return None


def draw(path: Path, title: str, panels: Sequence[Panel]) -> None:
    """Write one PNG of ``panels`` side by side, sharing the time axis, to ``path``.

    Args:
        path: The PNG to write.
        title: The figure's title (the scenario).
        panels: One per SDK, left to right.

    Raises:
        ImportError: matplotlib is not installed (see ``matplotlib_missing``).

    """
    # The object API with the Agg canvas: no pyplot state, no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(panels), sharex=True, sharey=True, squeeze=False)[0]
    end = max((panel.bars.end() for panel in panels), default=0.0) or 1.0
    tasks = max((panel.bars.total for panel in panels), default=0) or 1
    for ax, panel in zip(axes, panels, strict=True):
        for kind, spans in panel.bars.segments().items():
            half = 0.45 * panel.bars.step  # a sampled row stands for ``step`` tasks
            boxes = [
                [(start, task - half), (start + width, task - half),
                 (start + width, task + half), (start, task + half)]
                for task, start, width in spans
            ]  # fmt: skip
            # One collection per colour: thousands of rows draw in a blink.
            ax.add_collection(PolyCollection(boxes, facecolors=SEGMENTS[kind][1], linewidths=0))
        ax.set_title(f"{panel.label}\n{panel.subtitle}", fontsize=9)
        ax.set_xlabel("API seconds since the first create")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", alpha=0.3)
    bars0 = panels[0].bars if panels else Bars(rows=(), step=1, total=0)
    ylabel = "tasks, in creation order"
    if bars0.step > 1:
        ylabel += f" (one in {bars0.step} of {bars0.total:,})"
    axes[0].set_ylabel(ylabel)
    axes[0].set_xlim(0, end * 1.01)
    axes[0].set_ylim(tasks - 0.5, -0.5)  # first task on top
    handles = [Patch(color=colour, label=label) for label, colour in SEGMENTS.values()]
    figure.legend(handles=handles, loc="lower center", ncol=3, fontsize=9, frameon=False)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    # No version stamp in the file: a redraw of the same figures is the same bytes.
    figure.savefig(path, format="png", metadata={"Software": None})
