"""One task the watcher tracks: its polling phase, its early looks, what the plans need.

A ``WatchedTask`` is in exactly one ``Phase``; every change of phase goes through
``WatchedTask.move``, which refuses a move the watcher never makes (a bug, raised at once
rather than leaving waiters hanging). The moves::

    IDLE       -> SCHEDULED  a poll is planned (someone needs the task polled)
               -> ENDED      forgotten (nobody needs it, or it ended)
    SCHEDULED  -> SCHEDULED  planned again (an early look, a poke)
               -> IDLE       nobody needs it any more
               -> IN_FLIGHT  due: its GET goes out
               -> ENDED      forgotten
    IN_FLIGHT  -> IDLE       the reply (or the failure) is back; the next plan follows
    ENDED      (final)

Beside the phase, a watched task owes ``EarlyLook`` polls: a sibling of its model ended (a
slot freed, so a THROTTLED task may have left the queue) or it was cancelled, so its next
poll comes at the earliest allowed moment. That debt survives every phase (a task nobody
watches right now keeps it for when someone does), so it is its own small state rather
than part of the phase.

What else stays a plain field is data, not phase: ``wanted`` (a create waits for this
task's concurrency slot, so it must be polled even with no waiter) is one of the reasons
to poll, like ``waiters`` and ``listeners``, and can hold in any phase; the server-side
``status`` and the timestamps feed the plans (see ``_watcher``); whether a task was ever
THROTTLED is read off ``throttled_at``.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import attrs

if TYPE_CHECKING:
    from ._config import PollConfig
    from ._events import EventBuffer
    from ._limits import Slot
    from ._models import Task

__all__ = ["EarlyLook", "Phase", "WatchKind", "WatchedTask"]


@attrs.frozen
class WatchKind:
    """How the watcher follows objects other than tasks.

    Avatars, voices, realtime sessions and workflow invocations: each kind gets its own
    watcher per event loop (no limiter: these objects hold no concurrency slot), with the
    same schedule, rate budget and deadlines as tasks.

    Attributes:
        name: What the objects are called in messages (``"avatar"``).
        path: The API path of one object, from its id (escaped).
        parse: Builds the typed object from a reply and the id asked for; raises
            ``ResponseValidationError`` when the reply is not that object.
        status: Maps an object to the task status the schedule acts on: ``PENDING`` (not
            started: polled every ``min_interval``), ``THROTTLED``, ``RUNNING`` (its
            ``progress``, if any, aims the polls), or ``SUCCEEDED`` / ``FAILED`` /
            ``CANCELLED``, which end the waits; any other value is polled slowly.

    """

    name: str
    path: Callable[[str], str]
    parse: Callable[[object, str], Any]
    status: Callable[[Any], str]


class Phase(enum.Enum):
    """Where a watched task is in its polling."""

    IDLE = "idle"
    """Tracked, no poll planned: nobody needs it polled (parked), or it is about to be."""
    SCHEDULED = "scheduled"
    """A poll is planned (its item in the watcher's heap carries the current ``version``)."""
    IN_FLIGHT = "in flight"
    """Its GET is out; nothing is planned until the reply is handled."""
    ENDED = "ended"
    """No longer tracked: seen to end, failed for good, or dropped while nobody watched."""


_MOVES: Final[dict[Phase, frozenset[Phase]]] = {
    Phase.IDLE: frozenset({Phase.SCHEDULED, Phase.ENDED}),
    Phase.SCHEDULED: frozenset({Phase.SCHEDULED, Phase.IDLE, Phase.IN_FLIGHT, Phase.ENDED}),
    Phase.IN_FLIGHT: frozenset({Phase.IDLE}),
    Phase.ENDED: frozenset(),
}


class EarlyLook(enum.Enum):
    """Which of a task's coming polls must come at the earliest allowed moment.

    ``THIS``: the next GET to be answered (the one in flight, or the next one sent).
    ``NEXT``: the GET after the one in flight: a sibling ended while a plain GET was out,
    and that GET may predate the freed slot. ``BOTH``: the two. Only an answered poll (a
    task, not an error) uses one up: ``THIS`` goes to ``NONE``, ``NEXT`` and ``BOTH`` to
    ``THIS``.
    """

    NONE = "none"
    THIS = "this"
    NEXT = "next"
    BOTH = "both"


_ASK_NOW: Final = {
    EarlyLook.NONE: EarlyLook.THIS,
    EarlyLook.THIS: EarlyLook.THIS,
    EarlyLook.NEXT: EarlyLook.BOTH,
    EarlyLook.BOTH: EarlyLook.BOTH,
}
_ANSWERED: Final = {
    EarlyLook.NONE: EarlyLook.NONE,
    EarlyLook.THIS: EarlyLook.NONE,
    EarlyLook.NEXT: EarlyLook.THIS,
    EarlyLook.BOTH: EarlyLook.THIS,
}


class WatchedTask:
    """One tracked task: its phase, its schedule, the history the plans need, its waiters.

    Times are the watcher's clock seconds.

    Attributes:
        id: The task id.
        model: Its model, when known (tasks created here, adopted slots).
        created: When this client created it (``None``: created elsewhere); for a task
            created early on a lent slot, when it is expected to have left the queue (moved
            as the task it waited for is seen to end).
        made: When this client's create of it was answered (``None``: created elsewhere).
        sample: Whether its first poll may be planned early to measure its duration
            (``_watcher``; ``None`` until that was decided).
        poll: Its poll settings.
        slot: The concurrency slot it holds, released when it is seen to end.
        phase: Where it is in its polling (change it only with ``move``).
        version: Bumped on every (re)schedule and unschedule; a heap item of an older
            version is stale.
        look: The early looks it is owed.
        wanted: A create waits for its slot (or the slot was adopted): poll it even if
            nobody waits. A reason to poll, independent of the phase.
        status: The server's status at the last answered poll.
        last: The last task seen.
        last_sent: When the last GET was sent.
        lo: When the last GET that found it not ended was sent.
        first_sample: (time, progress) of the first RUNNING poll with a progress.
        last_sample: (time, progress) of the latest one.
        started_guess: When it (probably) left the queue and started.
        throttled_at: When a poll last found it THROTTLED (``None``: never).
        aim_used: The model's estimate its first poll was planned with.
        errors: Retryable poll failures in a row.
        retry_after: The server's ``Retry-After`` on the last failure.
        waiters: Futures of ``wait`` calls, settled with the outcome.
        listeners: Event streams of this task.

    """

    __slots__ = (
        "aim_used",
        "created",
        "errors",
        "first_sample",
        "id",
        "last",
        "last_sample",
        "last_sent",
        "listeners",
        "lo",
        "look",
        "made",
        "model",
        "phase",
        "poll",
        "retry_after",
        "sample",
        "slot",
        "started_guess",
        "status",
        "throttled_at",
        "version",
        "waiters",
        "wanted",
    )

    def __init__(
        self,
        task_id: str,
        *,
        model: str | None,
        created: float | None,
        poll: PollConfig,
        slot: Slot | None,
    ) -> None:
        """Start tracking, IDLE, with nothing seen yet."""
        self.id = task_id
        self.model = model
        self.created = created
        self.made = created
        self.poll = poll
        self.slot = slot
        self.phase = Phase.IDLE
        self.version = 0
        self.look = EarlyLook.NONE
        self.wanted = False
        self.status: str | None = None
        self.last: Task | None = None
        self.last_sent: float | None = None
        self.lo: float | None = None
        self.first_sample: tuple[float, float] | None = None
        self.last_sample: tuple[float, float] | None = None
        self.started_guess: float | None = None
        self.throttled_at: float | None = None
        self.aim_used: float | None = None
        self.sample: bool | None = None
        self.errors = 0
        self.retry_after: float | None = None
        self.waiters: set[asyncio.Future[Task | BaseException]] = set()
        self.listeners: list[EventBuffer] = []

    def __repr__(self) -> str:
        return f"<WatchedTask {self.id} {self.phase.value} status={self.status}>"

    # -- the phase ----------------------------------------------------------------------

    def move(self, to: Phase) -> None:
        """Change phase to ``to``.

        Raises:
            AssertionError: The watcher never moves from the current phase to ``to``: a
                bug, reported rather than leaving the task's waiters hanging.

        """
        if to not in _MOVES[self.phase]:
            raise AssertionError(f"task {self.id}: no move from {self.phase.name} to {to.name}")
        self.phase = to

    def schedule(self) -> int:
        """Plan a poll (again): move to SCHEDULED; return the version of the new heap item."""
        self.move(Phase.SCHEDULED)
        self.version += 1
        return self.version

    def unschedule(self) -> None:
        """Drop the planned poll (nobody needs it any more): back to IDLE."""
        self.move(Phase.IDLE)
        self.version += 1

    def send(self) -> None:
        """Send the planned poll, now due: move to IN_FLIGHT."""
        self.move(Phase.IN_FLIGHT)

    def answered(self) -> None:
        """Take the GET back (a task or an error): IDLE until the next plan."""
        self.move(Phase.IDLE)

    def end(self) -> None:
        """Stop tracking (idempotent): ENDED; any planned poll goes stale."""
        if self.phase is not Phase.ENDED:
            self.move(Phase.ENDED)
        self.version += 1

    def is_current(self, version: int) -> bool:
        """Whether a heap item of ``version`` is the task's planned poll."""
        return self.phase is Phase.SCHEDULED and version == self.version

    # -- early looks --------------------------------------------------------------------

    @property
    def early(self) -> bool:
        """Whether the next GET to be answered is an early look."""
        return self.look in (EarlyLook.THIS, EarlyLook.BOTH)

    @property
    def owes_look(self) -> bool:
        """Whether an early look is owed at all (then a freed slot goes to the next task)."""
        return self.look is not EarlyLook.NONE

    def ask_look(self) -> None:
        """Make the next GET to be answered an early look (not while one is in flight)."""
        if self.phase is Phase.IN_FLIGHT:
            raise AssertionError(f"task {self.id}: early look asked while its GET is out")
        self.look = _ASK_NOW[self.look]

    def ask_look_after(self) -> None:
        """Make the GET after the one in flight an early look (only while one is)."""
        if self.phase is not Phase.IN_FLIGHT or self.look is not EarlyLook.NONE:
            raise AssertionError(f"task {self.id}: look after asked in {self.phase.name}")
        self.look = EarlyLook.NEXT

    def look_used(self) -> None:
        """Use up one early look: a poll was answered with a task."""
        self.look = _ANSWERED[self.look]

    # -- history ------------------------------------------------------------------------

    @property
    def throttled_seen(self) -> bool:
        """Whether a poll ever found it THROTTLED (then its duration includes queueing)."""
        return self.throttled_at is not None

    @property
    def needed(self) -> bool:
        """Whether anyone of its own needs it polled: a waiter, a listener, a queued create."""
        return bool(self.waiters or self.listeners or self.wanted)
