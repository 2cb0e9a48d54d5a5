"""Reports on the Runway web-app workspaces linked to the API project (``organization.webapp``).

Enumerated values (a usage row's ``type``, an audit entry's ``action`` and
``resource_type``) are kept as the strings sent, so values newer than this SDK never fail
to parse. An audit entry's ``metadata`` keys are human-readable strings with spaces
(``"Workspace ID"``, ``"Previous value"``), kept verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._serial import WireModel

__all__ = ["AuditLogEntry", "AuditLogItem", "WebappUsageRow"]


@attrs.frozen(kw_only=True)
class WebappUsageRow(WireModel):
    """One credit charge (or refund) of a linked workspace (``organization.webapp.list_usage``).

    Attributes:
        timestamp: When the generation was charged.
        credits: Credits charged; negative for a refund.
        type: ``charge`` or ``refund`` (kept as sent).
        tool: The model or task display name.
        email: The email of the user who generated.
        workspace_id: The owning workspace's id.
        workspace_name: The owning workspace's name.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    timestamp: datetime
    credits: int | float
    type: str
    tool: str
    email: str
    workspace_id: int
    workspace_name: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class AuditLogItem(WireModel):
    """One audit log entry as listed (``organization.webapp.audit_logs.list``).

    Attributes:
        event_id: The entry's id (for ``audit_logs.retrieve``).
        action: What was done (``UserLogin``, ``WorkspaceCreated``, ...; kept as sent).
        timestamp: When it was done.
        actor_email: The acting user's email, if known.
        actor_username: The acting user's username, if known.
        actor_deleted: Whether the acting user has since been deleted.
        workspace_id: The owning workspace's id.
        workspace_name: The owning workspace's name.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    event_id: str
    action: str
    timestamp: datetime
    actor_email: str | None = None
    actor_username: str | None = None
    actor_deleted: bool = False
    workspace_id: int
    workspace_name: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class AuditLogEntry(WireModel):
    """One audit log entry in full (``organization.webapp.audit_logs.retrieve``).

    Attributes:
        event_id: The entry's id.
        action: What was done (kept as sent).
        timestamp: When it was done.
        actor_email: The acting user's email, if known.
        actor_username: The acting user's username, if known.
        actor_deleted: Whether the acting user has since been deleted.
        workspace_id: The owning workspace's id.
        workspace_name: The owning workspace's name.
        client_ip_address: The IP address of the client that acted.
        user_agent: The ``User-Agent`` of its request, if known.
        request_id: The request id, to correlate with other logs.
        resource_id: The affected resource's id, if any.
        resource_type: The affected resource's type (an open set: ``asset``,
            ``workspace``, ...), if any.
        metadata: Action-specific details; keys are kept verbatim (``"Workspace ID"``),
            values as sent (string, number, boolean, object or null). Not part of the hash.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    event_id: str
    action: str
    timestamp: datetime
    actor_email: str | None = None
    actor_username: str | None = None
    actor_deleted: bool = False
    workspace_id: int
    workspace_name: str
    client_ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    resource_id: str | None = None
    resource_type: str | None = None
    metadata: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
