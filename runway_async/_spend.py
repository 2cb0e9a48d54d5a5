"""The batch's spend guard: credits reserved before each create, never past ``max_credits``.

``SpendGuard`` is the reservation book of one batch. Before a create the batch asks for a
reservation for the job's kind (its endpoint and model, see ``spend_key``): the largest
price seen so far for that kind, the create's estimate (``estimatedCost``) or a final
``cost``, whichever is larger. Until a price is known for a kind, one create of that kind
at a time goes out with nothing reserved (a *probe*: the API quotes a price only in a
create's reply), and the others of the kind wait for its reply. When the reply comes the
reservation becomes the create's own estimate (the difference is refunded); when the task
ends its final ``cost`` is counted as spent and the reservation released.

The guard never grants a reservation that would push ``spent + reserved`` past the limit:
such a job waits while reservations in flight may still be refunded, and is refused
(``CreditLimitError``, the batch reports it ``SKIPPED``) once even the spent credits leave no
room. A create whose outcome is unknown (sent, never answered) or whose task was left
running keeps its reservation for good: the task may charge it.

The guard is single-threaded (one event loop); its waits are ``asyncio`` waits.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

import attrs

from ._exceptions import RunwayError
from ._spec import get_endpoint

__all__ = [
    "RETRYABLE_FAILURE_CODES",
    "BatchCredits",
    "CreditLimitError",
    "Reservation",
    "SpendGuard",
    "SpendKey",
    "is_retryable_failure",
    "spend_key",
]

SpendKey: TypeAlias = tuple[str, "str | None"]
"""What prices are learned per: ``(endpoint, model)``.

``model`` is the create's ``model`` (or ``mode``, for the recipe that takes one); a recipe
without one is priced per recipe; ``generate.*`` is priced per router (``config_id``), since
the router picks the model; ``workflows.run`` per workflow version id.
"""

_WORKFLOW_RUN: Final = "workflows.run"

RETRYABLE_FAILURE_CODES: Final = (
    "INTERNAL.BAD_OUTPUT.",
    "INPUT_PREPROCESSING.INTERNAL",
    "INTERNAL",
)
"""The ``failureCode`` values (a trailing dot: a prefix) that the API reference marks
retryable (section 10.3): an internal quality check or an internal error. ``SAFETY.*``
(moderation), ``INPUT_PREPROCESSING.SAFETY.*`` and ``ASSET.INVALID`` (fix the input) never
are."""


def is_retryable_failure(code: str | None) -> bool:
    """Return whether a FAILED task's ``failureCode`` is worth creating the task again for.

    Args:
        code: The task's ``failure_code``; ``None`` (not given) is not retryable.

    Returns:
        ``True`` for ``INTERNAL.BAD_OUTPUT.*``, ``INPUT_PREPROCESSING.INTERNAL`` and
        ``INTERNAL``.

    """
    if not code:
        return False
    return any(
        code.startswith(c) if c.endswith(".") else code == c for c in RETRYABLE_FAILURE_CODES
    )


def spend_key(endpoint: str, params: Mapping[str, Any]) -> SpendKey:
    """Return the kind a job's create is priced by (see ``SpendKey``).

    Args:
        endpoint: The job's endpoint (``text_to_image``, ``generate.video``,
            ``workflows.run``, ...).
        params: The job's keyword arguments.

    Returns:
        ``(endpoint, model)``.

    """
    if endpoint == _WORKFLOW_RUN:
        name = "id"
    else:
        spec = get_endpoint(endpoint)
        if spec.response == "routed":
            name = "config_id"
        elif spec.discriminator is not None:
            name = spec.discriminator
        else:
            return (endpoint, None)
    value = params.get(name)
    return (endpoint, value if isinstance(value, str) else None)


class CreditLimitError(RunwayError):
    """A batch job was not started: its create could push the credits past ``max_credits``.

    The ``error`` of a ``SKIPPED`` ``BatchResult``; nothing was sent for the job.

    Attributes:
        message: Why, naming the credits needed and left.

    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@attrs.define(eq=False)
class Reservation:
    """Credits held for one create, from before it is sent until its task's cost is known.

    Attributes:
        key: The create's kind.
        amount: The credits held now.
        probe: Whether it went out before any price of its kind was known.
        settled: Whether it was released or kept for good.

    """

    key: SpendKey
    amount: float
    probe: bool = False
    settled: bool = False


@attrs.frozen(kw_only=True)
class BatchCredits:
    """The credits of a batch run (``Batch.credits``).

    Attributes:
        limit: ``max_credits``, or ``None`` when the batch has none.
        estimated: The sum of the estimates (``estimatedCost``) of the tasks this run
            created; tasks whose create reply carried none (workflow runs, avatar videos)
            are not in it.
        spent: The sum of the final costs of the tasks this run saw end (a task resumed
            from a journal included; jobs a journal had already finished are not).
        reserved: Credits held for creates in flight.
        unsettled: Credits held for good: creates whose outcome is unknown, tasks left
            running, tasks that ended without a cost; counted against the limit.
        skipped: Jobs not started because the limit left no room.

    """

    limit: float | None
    estimated: float
    spent: float
    reserved: float
    unsettled: float
    skipped: int


def _credits(value: float) -> float:
    # Whole credits print as integers.
    return int(value) if float(value).is_integer() else value


class SpendGuard:
    """The reservation book of one batch (see the module docstring).

    Args:
        max_credits: The most credits the batch may commit (``spent + reserved``);
            ``None`` for no limit (the guard then only counts).

    """

    def __init__(self, max_credits: float | None = None) -> None:
        if max_credits is not None and (
            isinstance(max_credits, bool)
            or not isinstance(max_credits, (int, float))
            or not math.isfinite(max_credits)
            or max_credits < 0
        ):
            raise ValueError(f"max_credits must be a finite number >= 0, got {max_credits!r}")
        self.limit = max_credits
        self._prices: dict[SpendKey, float] = {}
        self._probing: set[SpendKey] = set()
        self.estimated: float = 0
        self.spent: float = 0
        self.reserved: float = 0
        self.unsettled: float = 0
        self.skipped = 0
        self._changed = asyncio.Event()

    # -- reading --------------------------------------------------------------------------

    def price(self, key: SpendKey) -> float | None:
        """Return the largest price seen for ``key`` (estimate or final cost), if any."""
        return self._prices.get(key)

    @property
    def committed(self) -> float:
        """Return ``spent + reserved + unsettled``: what counts against the limit."""
        return self.spent + self.reserved + self.unsettled

    def snapshot(self) -> BatchCredits:
        """Return the credits as they stand."""
        return BatchCredits(
            limit=self.limit,
            estimated=_credits(self.estimated),
            spent=_credits(self.spent),
            reserved=_credits(self.reserved),
            unsettled=_credits(self.unsettled),
            skipped=self.skipped,
        )

    # -- the three points of a create ----------------------------------------------------

    async def reserve(self, key: SpendKey) -> Reservation:
        """Wait until the create of kind ``key`` fits, and hold its credits.

        Args:
            key: The create's kind (``spend_key``).

        Returns:
            The reservation, to pass to ``replied`` and ``settle``.

        Raises:
            CreditLimitError: The create can never fit: the credits spent (and held for good)
                plus its price pass the limit, or none are left for a first create.

        """
        while True:
            if self.limit is None:
                return self._grant(key, self._prices.get(key, 0))
            limit = self.limit
            final = self.spent + self.unsettled  # what no refund will ever give back
            price = self._prices.get(key)
            if price is None:
                if final >= limit:
                    raise self._refuse(
                        f"no credits are left of the batch's max_credits ({_credits(limit)}): "
                        f"{_credits(final)} are spent or held"
                    )
                if key not in self._probing and self.committed < limit:
                    self._probing.add(key)
                    return self._grant(key, 0, probe=True)
            else:
                if final + price > limit:
                    raise self._refuse(
                        f"a {_kind(key)} create may cost up to {_credits(price)} credits and "
                        f"only {_credits(limit - final)} of the batch's max_credits "
                        f"({_credits(limit)}) are left"
                    )
                if self.committed + price <= limit:
                    return self._grant(key, price)
            await self._wait()

    def replied(self, reservation: Reservation, estimate: float | None) -> None:
        """Hold the answered create's own estimate instead (refunding the difference).

        Args:
            reservation: The create's reservation.
            estimate: The reply's ``estimatedCost`` credits (``routing.estimatedCost`` for
                ``generate.*``), or ``None`` when it carried none.

        """
        if reservation.settled:
            return
        if estimate is not None:
            self.estimated += estimate
            self._learn(reservation.key, estimate)
            self._hold(reservation, estimate)
            self._end_probe(reservation)
        self._notify()

    def settle(self, reservation: Reservation, cost: float | None, *, created: bool) -> None:
        """Release a reservation: the task ended, or nothing was created.

        Args:
            reservation: The create's reservation.
            cost: The ended task's final ``cost`` credits; ``None`` when it is not known.
            created: Whether a task may exist (the create was sent). ``False`` releases
                the credits; ``True`` with no ``cost`` keeps them for good (``unsettled``).

        """
        if reservation.settled:
            return
        reservation.settled = True
        self.reserved -= reservation.amount
        if cost is not None:
            self.spent += cost
            self._learn(reservation.key, cost)
        elif created:
            self.unsettled += reservation.amount
        reservation.amount = 0
        self._end_probe(reservation)
        self._notify()

    def count_earlier(self, credits: float) -> None:
        """Count credits spent before this run (jobs a resumed journal had finished)."""
        self.spent += credits
        self._notify()

    def attach(self, key: SpendKey) -> Reservation:
        """Return an empty reservation for a task created before (a journal's, resumed).

        Nothing is held for it; ``settle`` counts its final cost as spent.
        """
        return Reservation(key=key, amount=0)

    # -- internals ------------------------------------------------------------------------

    def _grant(self, key: SpendKey, amount: float, *, probe: bool = False) -> Reservation:
        self.reserved += amount
        return Reservation(key=key, amount=amount, probe=probe)

    def _hold(self, reservation: Reservation, amount: float) -> None:
        self.reserved += amount - reservation.amount
        reservation.amount = amount

    def _learn(self, key: SpendKey, price: float) -> None:
        known = self._prices.get(key)
        if known is None or price > known:
            self._prices[key] = price

    def _end_probe(self, reservation: Reservation) -> None:
        if reservation.probe:
            reservation.probe = False
            self._probing.discard(reservation.key)

    def _refuse(self, reason: str) -> CreditLimitError:
        self.skipped += 1
        return CreditLimitError(reason)

    async def _wait(self) -> None:
        await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


def _kind(key: SpendKey) -> str:
    endpoint, model = key
    return f"{endpoint} ({model})" if model else endpoint
