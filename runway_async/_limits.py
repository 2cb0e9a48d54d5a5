"""Per-model concurrency limiters sized from the organization: the interface and the default.

The organization's limits are one, however many clients a program makes, so every client
in a process with the same API key and base URL shares one ``InProcessLimiter``. Clients of
the generated sync facade each run on their own event-loop thread, so the limiter's state
is guarded by a ``threading.Lock`` and a waiter on another loop is woken with
``loop.call_soon_threadsafe``; nothing in it belongs to one loop.

Time comes from a ``Clock`` (``_clock.py``): a queued acquire sleeps until it is woken, its
deadline or the next delayed release through ``clock.call_at``, so tests can run the
limiter on a ``VirtualClock``.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Final, Literal, Protocol, TypeAlias, runtime_checkable

from ._clock import SYSTEM_CLOCK, Clock, as_clock
from ._config import check_seconds
from ._exceptions import DailyLimitError, SlotTimeoutError
from ._loops import call_soon_anywhere
from ._models import Organization

__all__ = [
    "AUTO",
    "InProcessLimiter",
    "Limiter",
    "MaxConcurrency",
    "ModelLimit",
    "Slot",
    "check_max_concurrency",
]

logger = logging.getLogger("runway_async")

AUTO: Final = "auto"

ModelLimit: TypeAlias = "int | Literal['auto'] | None"
"""One acquire's cap: a count, ``None`` for unlimited, or ``"auto"`` for the org's limit."""

MaxConcurrency: TypeAlias = "int | Mapping[str, int | None] | Literal['auto'] | None"
"""The client's ``max_concurrency``: ``"auto"``, one count, per-model counts, or ``None``."""

DEFAULT_REFRESH_INTERVAL: Final = 300.0
DEFAULT_FAILURE_RETRY: Final = 60.0


def check_max_concurrency(value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a valid ``max_concurrency`` setting."""
    if value is None or value == AUTO:
        return
    if isinstance(value, Mapping):
        for model, limit in value.items():
            if not isinstance(model, str) or not (limit is None or _is_count(limit)):
                raise ValueError(
                    "max_concurrency mapping must map model names to counts >= 1 or None, "
                    f"got {model!r}: {limit!r}"
                )
        return
    if not _is_count(value):
        raise ValueError(
            f"max_concurrency must be 'auto', an int >= 1, a mapping or None, got {value!r}"
        )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


class Slot:
    """One concurrency slot of one model, held from before a create until its task ends.

    Limiters create slots; the client hands each to its watcher, which releases it when the
    task is seen to end, and asks the limiter (``Limiter.notify_when_wanted``) to hear when
    another create queues for the model, so it polls tasks nobody waits for only when their
    slot is needed.

    Attributes:
        model: The model the slot counts against.
        limiter: The limiter that granted the slot (``None`` if it did not say).

    """

    __slots__ = (
        "_hook",
        "_wanted",
        "early",
        "ends_at",
        "epoch",
        "expires",
        "lent",
        "limiter",
        "model",
        "released",
        "starts_at",
        "successor",
        "task_id",
    )

    def __init__(self, model: str, limiter: object = None) -> None:
        self.model = model
        self.limiter = limiter
        self.released = False
        self.task_id: str | None = None
        """The task holding the slot, once its create was answered (set by the watcher)."""
        self.expires: float | None = None
        self.lent = False
        """Handed over early (``Limiter.lend``): one more create of the model may hold a slot."""
        self.ends_at: float | None = None
        """When its task ends (clock seconds), if the watcher that lends it knows exactly."""
        self.early = False
        """Granted thanks to a lent slot: its task may wait THROTTLED until that one's ends."""
        self.starts_at: float | None = None
        """For an ``early`` slot: the lender's ``ends_at``, when the new task leaves THROTTLED,
        if known."""
        self.successor: Slot | None = None
        """For a lent slot: the slot its early create was granted (``starts_at`` set)."""
        self.epoch = 0
        self._hook: Callable[[], None] | None = None
        self._wanted = False

    def __repr__(self) -> str:
        state = "released" if self.released else "held"
        return f"<Slot {self.model} {state}>"


@runtime_checkable
class Limiter(Protocol):
    """Per-model concurrency slots shared by every client of one organization.

    ``InProcessLimiter`` is the default; a limiter shared between processes (on Redis, say)
    implements the same methods. Slots are granted in FIFO order per model; the org's
    limits and usage come from the client, which fetches ``GET /v1/organization`` when
    ``claim_refresh()`` says so and reports with ``update_organization`` or
    ``refresh_failed``. The client's watcher calls ``notify_when_wanted`` for each slot it
    holds, and a create waiting for a slot adopts the ``orphans`` of closed clients.
    """

    async def acquire(
        self,
        model: str,
        *,
        limit: int | Literal["auto"] | None = "auto",
        timeout: float | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> Slot:
        """Wait for a slot of ``model``, first come first served, and return it.

        Args:
            model: The model the task will count against.
            limit: Most slots of the model held at once for this acquire: ``"auto"`` for
                the organization's limit, a count, or ``None`` for no cap.
            timeout: Seconds to wait at most (``None``: no deadline).
            on_wait: Called, in the caller's task, each time the acquire starts waiting.

        Raises:
            SlotTimeoutError: ``timeout`` passed; the caller is no longer queued.
            DailyLimitError: The model's daily quota is used up.

        """
        ...

    def release(self, slot: Slot, *, after: float = 0.0, created: bool = True) -> None:
        """Give ``slot`` back, now or ``after`` seconds from now; idempotent.

        Args:
            slot: The slot.
            after: Seconds until it frees (an ambiguous create may still be running).
            created: ``False`` when the create certainly did not happen, so it does not
                count against the daily quota.

        """
        ...

    def claim_refresh(self) -> bool:
        """Return ``True`` when the caller should fetch the organization now (one at a time)."""
        ...

    def update_organization(self, organization: Organization) -> None:
        """Take the organization's current limits and usage (after ``claim_refresh``)."""
        ...

    def refresh_failed(self, *, abandoned: bool = False) -> None:
        """Report that the claimed fetch failed, or was ``abandoned`` (cancelled)."""
        ...

    def mark_stale(self) -> None:
        """Ask for a refresh soon: a task was THROTTLED or the API answered 429."""
        ...

    def notify_when_wanted(self, slot: Slot, callback: Callable[[], None]) -> None:
        """Call ``callback`` once another create for ``slot``'s model waits for a slot.

        Called at most once per slot; never after the slot is released. A limiter that
        cannot tell when a slot is wanted calls it at once (the watcher then polls the
        slot's task as if someone waited). The callback may run on any thread; it only
        schedules work (``loop.call_soon_threadsafe``).

        Args:
            slot: A slot this limiter granted and not yet released.
            callback: What to call once the slot is wanted.

        """
        ...

    def lend(self, slot: Slot) -> None:
        """Let one more create of ``slot``'s model through: its task ends about now.

        The watcher calls it when the task holding ``slot`` is expected to end within about
        one create round trip, so the next create reaches the server just before the slot
        frees there and the server starts it the moment the old task ends (it waits
        THROTTLED meanwhile). ``slot`` stays held until released; at most one early create
        per slot; idempotent. A limiter that cannot lend does nothing.

        Args:
            slot: A slot this limiter granted and not yet released.

        """
        ...

    def orphans(self, model: str) -> list[Slot]:
        """Hand over held slots of ``model`` whose client closed before their task ended.

        Called while a create waits for a slot of ``model``: its client polls each
        returned slot's task (``slot.task_id``) and releases the slot when the task ends.
        Each slot is handed out once; a limiter that keeps no such slots returns ``[]``.

        Args:
            model: The model a create is waiting for.

        Returns:
            The orphaned slots, now adopted by the caller.

        """
        ...


class _Waiter:
    __slots__ = ("error", "event", "limit", "loop", "slot", "taken")

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: ModelLimit) -> None:
        self.loop = loop
        self.limit = limit
        self.event = asyncio.Event()
        self.slot: Slot | None = None
        self.error: BaseException | None = None
        self.taken = False


class _Lane:
    __slots__ = ("claimed_creates", "creates", "holders", "in_use", "lent", "lent_ends", "queue")

    def __init__(self) -> None:
        self.in_use = 0
        self.lent = 0  # held slots lent out: each lets one more create through
        self.lent_ends: dict[Slot, float | None] = {}  # lent slots not yet passed on: ends_at
        self.queue: deque[_Waiter] = deque()
        self.holders: set[Slot] = set()
        self.creates = 0  # granted since the organization was last read
        self.claimed_creates = 0  # ``creates`` when the current refresh was claimed


class InProcessLimiter:
    """Per-model slots for every client of one organization in this process.

    Clients made with the same API key and base URL share one (``InProcessLimiter.shared``);
    pass one explicitly as ``AsyncRunway(limiter=...)`` to share it more widely or narrowly.
    Safe across threads and event loops.

    Until the organization has been read, an ``"auto"`` acquire gets one slot per model
    (every limit is at least one), so a first create never waits for ``GET
    /v1/organization``. If that read fails, ``"auto"`` means unlimited until a later read
    succeeds (the API queues extra tasks as THROTTLED, so nothing worse than no limiter).

    Args:
        refresh_interval: Seconds after which the organization is read again.
        failure_retry: Seconds before retrying a failed read.
        clock: The time of deadlines and delayed releases: a ``Clock`` (a ``VirtualClock``
            in tests), or a plain function returning monotonic seconds, whose waits then
            run on the event loop's own time.

    """

    def __init__(
        self,
        *,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
        failure_retry: float = DEFAULT_FAILURE_RETRY,
        clock: Clock | Callable[[], float] = SYSTEM_CLOCK,
    ) -> None:
        self._refresh_interval = check_seconds("refresh_interval", refresh_interval, positive=True)
        self._failure_retry = check_seconds("failure_retry", failure_retry)
        self._clock = as_clock(clock)
        self._lock = threading.Lock()
        self._lanes: dict[str, _Lane] = {}
        self._orphans: dict[str, list[Slot]] = {}
        self._expiring: list[tuple[float, int, Slot]] = []
        self._seq = itertools.count()
        self._epoch = 0
        # What is known of the organization.
        self._known = False
        self._open = False  # the first read failed: "auto" is unlimited until one succeeds
        self._stale = False
        self._refreshing = False
        self._read_at = 0.0
        self._retry_at = float("-inf")
        self._concurrency: dict[str, int | None] = {}
        self._daily_limit: dict[str, int | None] = {}
        self._daily_used: dict[str, int] = {}

    def __repr__(self) -> str:
        with self._lock:
            held = {m: lane.in_use for m, lane in self._lanes.items() if lane.in_use}
        return f"<InProcessLimiter held={held}>"

    # -- the process-wide registry ------------------------------------------------------

    @classmethod
    def shared(cls, api_key: str, base_url: str) -> InProcessLimiter:
        """Return the process's limiter for this API key and base URL, creating it once.

        The registry is keyed by a SHA-256 digest of the two, never by the key itself.
        """
        digest = hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()
        with _REGISTRY_LOCK:
            limiter = _REGISTRY.get(digest)
            if limiter is None:
                limiter = _REGISTRY[digest] = cls()
            return limiter

    # -- inspection ---------------------------------------------------------------------

    def in_use(self, model: str) -> int:
        """Return how many slots of ``model`` are held (expiring ones included)."""
        with self._lock:
            self._expire_locked(self._clock.now())
            lane = self._lanes.get(model)
            return lane.in_use if lane is not None else 0

    def waiting(self, model: str) -> int:
        """Return how many acquires of ``model`` are queued."""
        with self._lock:
            lane = self._lanes.get(model)
            return len(lane.queue) if lane is not None else 0

    def limit_for(self, model: str) -> int | None:
        """Return the organization's concurrency limit for ``model`` (``None``: unlimited)."""
        with self._lock:
            return self._auto_cap_locked(model)

    # -- slots --------------------------------------------------------------------------

    def try_acquire(self, model: str, *, limit: ModelLimit = AUTO) -> Slot | None:
        """Take a slot of ``model`` if one is free and nobody is queued for it, else ``None``.

        The non-blocking half of ``acquire``: it never queues, so it never waits.

        Args:
            model: The model the task will count against.
            limit: Most slots of the model held at once: ``"auto"`` for the organization's
                limit, a count, or ``None`` for no cap.

        Returns:
            The slot, or ``None`` when the model's slots are all held or others are queued.

        Raises:
            DailyLimitError: The model's daily quota is used up.

        """
        _check_limit(limit)
        return self._try_acquire(model, limit)

    async def acquire(
        self,
        model: str,
        *,
        limit: ModelLimit = AUTO,
        timeout: float | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> Slot:
        """Wait for a slot of ``model``, first come first served, and return it.

        See ``Limiter.acquire``: ``try_acquire``, else queue and wait. A coroutine
        cancelled while queued leaves the queue and holds nothing; one cancelled just after
        being granted gives its slot back.
        """
        _check_limit(limit)
        timeout = check_seconds("timeout", timeout, allow_none=True)
        started = self._clock.now()
        slot = self._try_acquire(model, limit)
        if slot is not None:
            return slot
        deadline = None if timeout is None else started + timeout
        return await self._wait(model, limit, deadline=deadline, timeout=timeout, on_wait=on_wait)

    def _try_acquire(self, model: str, limit: ModelLimit) -> Slot | None:
        """``try_acquire`` without checking ``limit``."""
        with self._lock:
            notify = self._expire_locked(self._clock.now())
            lane = self._lane(model)
            granted: Slot | None = None
            refused: DailyLimitError | None = None
            if not lane.queue:
                refused = self._daily_error_locked(model, lane)
                cap = self._cap_locked(model, limit)
                if refused is None and (cap is None or lane.in_use - lane.lent < cap):
                    granted = self._grant_locked(model, lane)
        self._deliver(notify)
        if refused is not None:
            raise refused
        return granted

    async def _wait(
        self,
        model: str,
        limit: ModelLimit,
        *,
        deadline: float | None,
        timeout: float | None,
        on_wait: Callable[[], None] | None,
    ) -> Slot:
        """Queue for a slot of ``model`` and sleep until granted, refused or ``deadline``."""
        waiter = _Waiter(asyncio.get_running_loop(), limit)
        with self._lock:
            lane = self._lane(model)
            lane.queue.append(waiter)
            # A slot may have freed since the try: the queue is examined again.
            notify = self._pump_locked(model)
            granted, refused = waiter.slot, waiter.error
            if granted is not None:
                waiter.taken = True
            hooks = self._wanted_hooks_locked(lane) if _pending(waiter) else []
        self._deliver(notify, skip=waiter)
        if granted is not None:
            return granted
        if refused is not None:
            raise refused
        _call_all(hooks)
        try:
            while True:
                if on_wait is not None:
                    on_wait()
                with self._lock:
                    wake_at = self._next_expiry_locked(model)
                    pending = _pending(waiter)
                    if pending:
                        waiter.event.clear()
                if pending:
                    until = min((t for t in (deadline, wake_at) if t is not None), default=None)
                    await self._sleep(waiter.event, until)
                with self._lock:
                    slot, error, notify = self._check_locked(waiter, model, deadline, timeout)
                self._deliver(notify, skip=waiter)
                if slot is not None:
                    return slot
                if error is not None:
                    raise error
        except BaseException:
            self._abandon(waiter, model)
            raise

    def _check_locked(
        self, waiter: _Waiter, model: str, deadline: float | None, timeout: float | None
    ) -> tuple[Slot | None, BaseException | None, list[_Waiter]]:
        """Free what expired, grant what fits; return ``waiter``'s slot or error, and whom to wake.

        A waiter past its ``deadline`` leaves the queue with a ``SlotTimeoutError``.
        """
        now = self._clock.now()
        notify = self._expire_locked(now)
        notify += self._pump_locked(model)
        slot, error = waiter.slot, waiter.error
        if slot is not None:
            waiter.taken = True
        elif error is None and deadline is not None and now >= deadline:
            self._lane(model).queue.remove(waiter)
            notify += self._pump_locked(model)
            error = SlotTimeoutError(
                f"No {model} slot freed up within {timeout} s; the create was not sent.",
                model=model,
                timeout=float(timeout or 0.0),
            )
        return slot, error, notify

    def _abandon(self, waiter: _Waiter, model: str) -> None:
        """Take a cancelled (or failed) ``waiter`` out of the queue, or give its slot back."""
        with self._lock:
            notify: list[_Waiter] = []
            lane = self._lane(model)
            if waiter.slot is not None and not waiter.taken:
                self._free_locked(waiter.slot, created=False)
                notify = self._pump_locked(model)
            elif waiter.slot is None and waiter in lane.queue:
                lane.queue.remove(waiter)
                notify = self._pump_locked(model)
        self._deliver(notify)

    async def _sleep(self, event: asyncio.Event, until: float | None) -> None:
        """Wait for ``event``, or until the clock reaches ``until`` (at once if past)."""
        if until is None:
            await event.wait()
            return
        if until <= self._clock.now():
            return
        timer = self._clock.call_at(until, event.set)
        try:
            await event.wait()
        finally:
            timer.cancel()

    def release(self, slot: Slot, *, after: float = 0.0, created: bool = True) -> None:
        """Give ``slot`` back, now or ``after`` seconds from now; idempotent.

        See ``Limiter.release``.
        """
        now = self._clock.now()
        with self._lock:
            if slot.released:
                return
            if not created:
                self._uncount_locked(slot)
            if after > 0:
                expires = now + after
                if slot.expires is None or expires < slot.expires:
                    slot.expires = expires
                    heapq.heappush(self._expiring, (expires, next(self._seq), slot))
                slot._hook = None
                lane = self._lane(slot.model)
                lane.holders.discard(slot)
                if slot.task_id is not None:
                    # Its task is known, so a waiting create can adopt it (see orphans()).
                    orphans = self._orphans.setdefault(slot.model, [])
                    orphans[:] = [o for o in orphans if not o.released and o is not slot]
                    orphans.append(slot)
                # Queued acquires sleep until the earliest expiry: tell them about this one.
                notify = list(lane.queue)
            else:
                self._free_locked(slot, created=True)
                notify = self._pump_locked(slot.model)
        self._deliver(notify)

    # -- the organization ----------------------------------------------------------------

    def claim_refresh(self) -> bool:
        """Return ``True`` when the caller should fetch the organization now (one at a time).

        Due when never read, ``refresh_interval`` after the last read, or after
        ``mark_stale``; never while another fetch is claimed or within ``failure_retry`` of
        a failed one.
        """
        now = self._clock.now()
        with self._lock:
            if self._refreshing or now < self._retry_at:
                return False
            due = not self._known or self._stale or now - self._read_at >= self._refresh_interval
            if due:
                self._refreshing = True
                for lane in self._lanes.values():
                    lane.claimed_creates = lane.creates
            return due

    def update_organization(self, organization: Organization) -> None:
        """Take the organization's limits and usage; queued acquires are re-examined."""
        now = self._clock.now()
        with self._lock:
            self._refreshing = False
            self._known = True
            self._open = False
            self._stale = False
            self._read_at = now
            self._retry_at = float("-inf")
            models = organization.tier.models
            self._concurrency = {m: lim.max_concurrent_generations for m, lim in models.items()}
            self._daily_limit = {m: lim.max_daily_generations for m, lim in models.items()}
            self._daily_used = {
                m: usage.daily_generations for m, usage in organization.usage.models.items()
            }
            self._epoch += 1
            for lane in self._lanes.values():
                # Creates granted after the fetch was claimed may not be in its count yet.
                lane.creates = max(0, lane.creates - lane.claimed_creates)
                lane.claimed_creates = 0
            notify = self._pump_all_locked()
        self._deliver(notify)

    def refresh_failed(self, *, abandoned: bool = False) -> None:
        """Report that the claimed fetch failed, or was ``abandoned`` (cancelled).

        After a failure the next claim waits ``failure_retry`` seconds; until the first read
        succeeds, ``"auto"`` then means unlimited. An abandoned fetch may be claimed again
        at once.
        """
        now = self._clock.now()
        with self._lock:
            self._refreshing = False
            if not abandoned:
                self._retry_at = now + self._failure_retry
                if not self._known:
                    self._open = True
                notify = self._pump_all_locked()
            else:
                notify = []
            # Queued acquires run their on_wait again, so one of them can claim the fetch.
            for lane in self._lanes.values():
                notify.extend(lane.queue)
        self._deliver(notify)

    def mark_stale(self) -> None:
        """Ask for a refresh at the next claim (a task was THROTTLED or the API said 429)."""
        with self._lock:
            self._stale = True

    # -- internals (call with the lock held) -------------------------------------------

    def _lane(self, model: str) -> _Lane:
        lane = self._lanes.get(model)
        if lane is None:
            lane = self._lanes[model] = _Lane()
        return lane

    def _auto_cap_locked(self, model: str) -> int | None:
        if self._known:
            return self._concurrency.get(model)
        if self._open:
            return None
        return 1  # provisional: every model allows at least one

    def _cap_locked(self, model: str, limit: ModelLimit) -> int | None:
        if limit == AUTO:
            return self._auto_cap_locked(model)
        return limit if isinstance(limit, int) else None

    def _daily_error_locked(self, model: str, lane: _Lane) -> DailyLimitError | None:
        if not self._known:
            return None
        limit = self._daily_limit.get(model)
        if limit is None:
            return None
        used = self._daily_used.get(model, 0) + lane.creates
        if used < limit:
            return None
        return DailyLimitError(
            f"Daily generation limit reached for model {model!r}: {used} of {limit} "
            "generations in the past 24 hours; the create was not sent. The limit counts a "
            "rolling 24 hours, so retry once generations made 24 hours ago age out (within "
            "24 hours at the latest); client.organization.retrieve() shows current usage.",
            model=model,
            limit=limit,
            used=used,
        )

    def _grant_locked(self, model: str, lane: _Lane) -> Slot:
        slot = Slot(model, self)
        slot.epoch = self._epoch
        if lane.lent_ends:  # the oldest lent slot not passed on yet is what this grant takes
            lender = next(iter(lane.lent_ends))
            slot.starts_at = lane.lent_ends.pop(lender)
            slot.early = True
            lender.successor = slot
        lane.in_use += 1
        lane.creates += 1
        lane.holders.add(slot)
        return slot

    def _uncount_locked(self, slot: Slot) -> None:
        lane = self._lane(slot.model)
        if slot.epoch == self._epoch and lane.creates > 0:
            lane.creates -= 1

    def _free_locked(self, slot: Slot, *, created: bool) -> None:
        if slot.released:
            return
        if not created:
            self._uncount_locked(slot)
        slot.released = True
        slot._hook = None
        lane = self._lane(slot.model)
        lane.in_use -= 1
        if slot.lent:
            lane.lent -= 1  # its early create already took the place it frees
            lane.lent_ends.pop(slot, None)
        lane.holders.discard(slot)

    def _pump_locked(self, model: str) -> list[_Waiter]:
        """Grant queued acquires of ``model`` in order while slots allow; return whom to wake."""
        lane = self._lanes.get(model)
        woken: list[_Waiter] = []
        if lane is None:
            return woken
        while lane.queue:
            head = lane.queue[0]
            if head.slot is not None or head.error is not None:
                lane.queue.popleft()
                continue
            error = self._daily_error_locked(model, lane)
            if error is not None:
                lane.queue.popleft()
                head.error = error
                woken.append(head)
                continue
            cap = self._cap_locked(model, head.limit)
            if cap is not None and lane.in_use - lane.lent >= cap:
                break
            lane.queue.popleft()
            head.slot = self._grant_locked(model, lane)
            woken.append(head)
        return woken

    def _pump_all_locked(self) -> list[_Waiter]:
        woken: list[_Waiter] = []
        for model in list(self._lanes):
            woken.extend(self._pump_locked(model))
        return woken

    def _expire_locked(self, now: float) -> list[_Waiter]:
        woken: list[_Waiter] = []
        while self._expiring and self._expiring[0][0] <= now:
            _at, _seq, slot = heapq.heappop(self._expiring)
            if slot.released or slot.expires is None or slot.expires > now:
                continue
            self._free_locked(slot, created=True)
            woken.extend(self._pump_locked(slot.model))
        return woken

    def _next_expiry_locked(self, model: str) -> float | None:
        earliest: float | None = None
        for at, _seq, slot in self._expiring:
            if slot.model == model and not slot.released and (earliest is None or at < earliest):
                earliest = at
        return earliest

    def _wanted_hooks_locked(self, lane: _Lane) -> list[Callable[[], None]]:
        hooks: list[Callable[[], None]] = []
        for slot in lane.holders:
            if slot._hook is not None and not slot._wanted:
                slot._wanted = True
                hooks.append(slot._hook)
        return hooks

    def orphans(self, model: str) -> list[Slot]:
        """Hand over the held slots of ``model`` whose watcher closed before their task ended.

        A client closed while its tasks run keeps their slots until their expected end, as
        the tasks may still be running. A create waiting for a slot of the same model adopts
        them (each slot is handed out once): its client polls those tasks and releases each
        slot as soon as its task is seen to end, instead of at a guessed time.

        Args:
            model: The model a create is waiting for.

        Returns:
            The orphaned slots, now marked adopted.

        """
        with self._lock:
            found = self._orphans.pop(model, [])
            return [slot for slot in found if not slot.released]

    def lend(self, slot: Slot) -> None:
        """Let one more create of ``slot``'s model through while ``slot`` is still held.

        See ``Limiter.lend``: the head of the model's queue (or the next acquire) gets a
        slot now; releasing ``slot`` later frees nothing more. Idempotent; a released slot
        is not lent.
        """
        with self._lock:
            if slot.released or slot.lent:
                return
            slot.lent = True
            lane = self._lane(slot.model)
            lane.lent += 1
            lane.lent_ends[slot] = slot.ends_at
            notify = self._pump_locked(slot.model)
        self._deliver(notify)

    def notify_when_wanted(self, slot: Slot, callback: Callable[[], None]) -> None:
        """Call ``callback`` once another create for ``slot``'s model waits for a slot.

        See ``Limiter.notify_when_wanted``. If an acquire is queued for the model already,
        ``callback`` runs at once, in the caller's thread; otherwise in the thread of the
        acquire that queues. A slot released, or released ``after`` a delay, never fires.
        """
        with self._lock:
            if slot.released or slot._wanted:
                fire = slot._wanted and not slot.released
            else:
                slot._hook = callback
                lane = self._lane(slot.model)
                fire = bool(lane.queue)
                if fire:
                    slot._wanted = True
        if fire:
            callback()

    def _deliver(self, waiters: list[_Waiter], *, skip: _Waiter | None = None) -> None:
        """Wake each waiter on its own loop; reclaim the slot of one whose loop is gone."""
        for waiter in waiters:
            if waiter is skip:
                continue
            try:
                call_soon_anywhere(waiter.loop, waiter.event.set)
            except RuntimeError:  # that loop is closed: nobody will take the slot
                with self._lock:
                    slot = waiter.slot
                    if slot is not None and not waiter.taken:
                        waiter.taken = True
                        self._free_locked(slot, created=False)
                        more = self._pump_locked(slot.model)
                    else:
                        more = []
                self._deliver(more)


def _check_limit(limit: object) -> None:
    if limit != AUTO and limit is not None and not _is_count(limit):
        raise ValueError(f"limit must be 'auto', an int >= 1 or None, got {limit!r}")


def _pending(waiter: _Waiter) -> bool:
    """Return whether ``waiter`` is neither granted nor refused yet (read with the lock)."""
    return waiter.slot is None and waiter.error is None


def _call_all(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # a hook only schedules work; one failing must not stop the rest
            logger.exception("A slot's wanted-callback failed")


_REGISTRY: Final[dict[str, InProcessLimiter]] = {}
_REGISTRY_LOCK: Final = threading.Lock()
