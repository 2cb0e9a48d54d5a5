"""``client.organization``: limits, usage and credit balance."""

from __future__ import annotations

import datetime as dt

from .._config import NOT_GIVEN
from .._convert import structure
from .._core import Core
from .._exceptions import InvalidRequestError
from .._models import Organization as OrganizationInfo
from .._models import OrganizationUsage
from .._options import Body, Headers, Query, RequestTimeout, call_options
from ._base import Resource
from .webapp import Webapp

__all__ = ["Organization"]


def _iso_date(name: str, value: str | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise InvalidRequestError(
            f"{name} must be a date (YYYY-MM-DD), not a datetime.", field=name
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise InvalidRequestError(
            f"{name} must be a date in YYYY-MM-DD form, got {value!r}.", field=name
        ) from None


class Organization(Resource):
    """Your organization's credit balance, per-model limits and usage.

    Attributes:
        webapp: Usage and audit logs of the Runway web-app workspaces linked to the project.

    """

    webapp: Webapp

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.webapp = Webapp(core)

    async def retrieve(
        self,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> OrganizationInfo:
        """Fetch the credit balance, the tier's per-model limits and today's usage.

        Args:
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The organization; ``None`` limits mean unlimited.

        """
        return await self._core.retrieve_organization(
            options=call_options(extra_headers, extra_query, extra_body, timeout)
        )

    async def retrieve_usage(
        self,
        *,
        before_date: str | dt.date | None = None,
        start_date: str | dt.date | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> OrganizationUsage:
        """Fetch credit usage by day and model (up to 90 days per call).

        Args:
            before_date: End date (exclusive), ``YYYY-MM-DD`` or a ``date``; default 30 days
                after the start. At most 90 days after ``start_date``.
            start_date: Start date, ``YYYY-MM-DD`` or a ``date``; default 30 days ago (UTC).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            Credits used per day and model.

        Raises:
            InvalidRequestError: A date is not a ``YYYY-MM-DD`` date, or the range is over
                90 days or inverted.

        """
        body: dict[str, str] = {}
        start = _iso_date("start_date", start_date)
        before = _iso_date("before_date", before_date)
        if start is not None:
            body["startDate"] = start
        if before is not None:
            body["beforeDate"] = before
        if start is not None and before is not None:
            span = (dt.date.fromisoformat(before) - dt.date.fromisoformat(start)).days
            if span <= 0:
                raise InvalidRequestError(
                    "before_date must be after start_date.", field="before_date"
                )
            if span > 90:
                raise InvalidRequestError(
                    f"before_date must be at most 90 days after start_date (got {span}).",
                    field="before_date",
                )
        # A report read: safe to re-send, unlike the POSTs that create tasks.
        response = await self._core.request(
            "POST",
            "/v1/organization/usage",
            json=body,
            idempotent=True,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, OrganizationUsage)
