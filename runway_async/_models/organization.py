"""The organization's credits, limits and usage (``/v1/organization``).

Model names are user data: the keys of every per-model mapping are exactly the wire names
(``gen4.5``, ``veo3.1_fast``), never renamed.
"""

from __future__ import annotations

# A module import, because ``date`` is also a field name and would shadow the class.
import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from ._serial import WireModel

__all__ = [
    "ApiKeyUsageDay",
    "ApiKeyUsedCredit",
    "ModelLimits",
    "ModelUsage",
    "Organization",
    "OrganizationUsage",
    "Tier",
    "Usage",
    "UsageDay",
    "UsedCredit",
]


@attrs.frozen(kw_only=True)
class ModelLimits(WireModel):
    """The limits of one model at the organization's tier.

    Attributes:
        max_concurrent_generations: How many tasks of the model may run at once (more are
            accepted as ``THROTTLED``); ``None`` means unlimited.
        max_daily_generations: How many tasks of the model may be created per day (more
            are refused with 429); ``None`` means unlimited.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    max_concurrent_generations: int | None = None
    max_daily_generations: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class Tier(WireModel):
    """The limits of the organization's usage tier.

    Attributes:
        max_monthly_credit_spend: The most credits that may be bought in a month; ``None``
            when the server did not say.
        models: Limits per model name (wire names, verbatim). Part of equality, not of the
            hash.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    max_monthly_credit_spend: int | float | None = None
    models: Mapping[str, ModelLimits] = attrs.field(factory=dict, hash=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ModelUsage(WireModel):
    """How much one model was used.

    Attributes:
        daily_generations: Tasks of the model created in the past day.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    daily_generations: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class Usage(WireModel):
    """The organization's recent usage.

    Attributes:
        models: Usage per model name (wire names, verbatim). Part of equality, not of the
            hash.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    models: Mapping[str, ModelUsage] = attrs.field(factory=dict, hash=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class Organization(WireModel):
    """The organization's credit balance, tier limits and usage (``GET /v1/organization``).

    Attributes:
        credit_balance: Credits left in the account.
        tier: The limits of the organization's tier.
        usage: Generations per model over the past day.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    credit_balance: int | float
    tier: Tier
    usage: Usage
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def max_concurrency(self, model: str) -> int | None:
        """Return how many tasks of ``model`` may run at once.

        Args:
            model: The model's wire name, such as ``gen4.5``.

        Returns:
            The limit, or ``None`` when it is unlimited or the tier does not list the model.

        """
        limits = self.tier.models.get(model)
        return None if limits is None else limits.max_concurrent_generations

    def remaining_daily(self, model: str) -> int | None:
        """Return how many more tasks of ``model`` may be created today.

        Args:
            model: The model's wire name, such as ``gen4.5``.

        Returns:
            The daily limit minus the past day's generations (never below 0), or ``None``
            when the limit is unlimited or the tier does not list the model.

        """
        limits = self.tier.models.get(model)
        if limits is None or limits.max_daily_generations is None:
            return None
        usage = self.usage.models.get(model)
        used = 0 if usage is None else usage.daily_generations
        return max(0, limits.max_daily_generations - used)


@attrs.frozen(kw_only=True)
class UsedCredit(WireModel):
    """Credits spent on one model on one day.

    Attributes:
        model: The model's wire name (kept as sent, also for models newer than this SDK).
        amount: Net credits spent; negative when refunds exceeded charges.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    model: str
    amount: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class UsageDay(WireModel):
    """One day of the usage report.

    Attributes:
        date: The day (UTC).
        used_credits: Credits spent per model that day.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    date: dt.date
    used_credits: tuple[UsedCredit, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ApiKeyUsedCredit(WireModel):
    """Credits spent through one API key on one day (reserved by the API for future use).

    Attributes:
        api_key_id: The API key's id.
        amount: Net credits spent; negative when refunds exceeded charges.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    api_key_id: str
    amount: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class ApiKeyUsageDay(WireModel):
    """One day of the per-API-key usage report (reserved by the API for future use).

    Attributes:
        date: The day (UTC).
        used_credits: Credits spent per API key that day.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    date: dt.date
    used_credits: tuple[ApiKeyUsedCredit, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class OrganizationUsage(WireModel):
    """The credit usage report (``POST /v1/organization/usage``).

    Attributes:
        models: The models with usage in the queried range (wire names, verbatim).
        results: Credits spent per day and model.
        api_keys: API key ids, when the server reports them (reserved for future use).
        results_by_api_key: Credits spent per day and API key, when the server reports them
            (reserved for future use).
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    models: tuple[str, ...]
    results: tuple[UsageDay, ...]
    api_keys: tuple[str, ...] | None = None
    results_by_api_key: tuple[ApiKeyUsageDay, ...] | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
