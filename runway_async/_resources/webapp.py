"""``client.organization.webapp``: usage and audit logs of the linked web-app workspaces.

These report on the Runway web-app workspaces (that you administer) linked to the API
project, unlike ``organization.retrieve_usage``, which reports the project's own API usage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .._config import NOT_GIVEN
from .._convert import structure
from .._core import Core
from .._models import AuditLogEntry, AuditLogItem, WebappUsageRow
from .._options import Body, Headers, Query, RequestTimeout, call_options
from ._base import Resource
from ._pagination import AsyncPaginator
from ._replies import paginate

__all__ = ["AuditLogs", "Webapp"]


class AuditLogs(Resource):
    """The audit logs of the linked workspaces (``/v1/organization/webapp/audit_logs``)."""

    async def retrieve(
        self,
        event_id: str,
        *,
        organization_id: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AuditLogEntry:
        """Fetch one audit log entry in full: its metadata and request details.

        Args:
            event_id: The entry's ``event_id`` (from ``list``).
            organization_id: The organization to report on; needed only when the project
                is linked to more than one.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The entry.

        Raises:
            NotFoundError: No such entry.

        """
        response = await self._core.call(
            "organization.webapp.audit_logs.retrieve",
            {"event_id": event_id, "organization_id": organization_id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, AuditLogEntry)

    def list(
        self,
        *,
        limit: int,
        actions: str | Sequence[str] | None = None,
        actor_emails: str | Sequence[str] | None = None,
        cursor: str | None = None,
        from_: str | dt.datetime | None = None,
        organization_id: str | None = None,
        to: str | dt.datetime | None = None,
        workspace_ids: str | Sequence[str] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AsyncPaginator[AuditLogItem]:
        """List audit log entries, newest first, a page at a time.

        Await the result for the first page, or ``async for`` over every entry.

        Args:
            limit: Entries per page.
            actions: Only these actions (``UserLogin``, ``AssetDeleted``, ...),
                comma-separated or a list, at most 50.
            actor_emails: Only entries by these users' emails, comma-separated or a list,
                at most 50.
            cursor: Where to start (a ``next_cursor`` of an earlier page).
            from_: Start of the time window (inclusive), an ISO-8601 datetime.
            organization_id: The organization to report on; needed only when the project
                is linked to more than one.
            to: End of the time window (exclusive), an ISO-8601 datetime.
            workspace_ids: Only these workspaces, comma-separated ids or a list, at most 50;
                default every workspace you administer.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The paginator of ``AuditLogItem`` (nothing is sent until awaited or iterated).

        Raises:
            InvalidRequestError: (when awaited) a parameter is invalid; nothing was sent.

        """
        return paginate(
            self._core,
            "organization.webapp.audit_logs.list",
            {
                "limit": limit,
                "actions": actions,
                "actor_emails": actor_emails,
                "from_": from_,
                "organization_id": organization_id,
                "to": to,
                "workspace_ids": workspace_ids,
                "cursor": cursor,
            },
            AuditLogItem,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )


class Webapp(Resource):
    """Reports on the Runway web-app workspaces linked to the API project.

    Attributes:
        audit_logs: The workspaces' audit logs.

    """

    audit_logs: AuditLogs

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.audit_logs = AuditLogs(core)

    def list_usage(
        self,
        *,
        from_: str | dt.datetime | dt.date,
        limit: int,
        to: str | dt.datetime | dt.date,
        cursor: str | None = None,
        organization_id: str | None = None,
        workspace_ids: str | Sequence[str] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> AsyncPaginator[WebappUsageRow]:
        """List per-generation credit usage rows of the linked workspaces, newest first.

        Await the result for the first page, or ``async for`` over every row.

        Args:
            from_: Start of the window (inclusive): an ISO-8601 datetime or date (a date
                means midnight UTC).
            limit: Rows per page.
            to: End of the window (exclusive): an ISO-8601 datetime or date;
                ``to=2026-08-01`` covers all of July 31. A cursor can only narrow the window.
            cursor: Where to start (a ``next_cursor`` of an earlier page).
            organization_id: The organization to report on; needed only when the project
                is linked to more than one.
            workspace_ids: Only these workspaces, comma-separated ids or a list; default
                every workspace you administer.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The paginator of ``WebappUsageRow`` (refunds have negative ``credits``).

        Raises:
            InvalidRequestError: (when awaited) a parameter is invalid; nothing was sent.

        """
        return paginate(
            self._core,
            "organization.webapp.list_usage",
            {
                "from_": from_,
                "limit": limit,
                "to": to,
                "organization_id": organization_id,
                "workspace_ids": workspace_ids,
                "cursor": cursor,
            },
            WebappUsageRow,
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
