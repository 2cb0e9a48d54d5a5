"""The API's objects as frozen attrs classes (snake_case); ``_convert`` maps them to the wire."""

from .cost import Cost
from .creation import CapacityFallback, ResolvedSettings, RoutedTaskCreated, Routing, TaskCreated
from .organization import (
    ApiKeyUsageDay,
    ApiKeyUsedCredit,
    ModelLimits,
    ModelUsage,
    Organization,
    OrganizationUsage,
    Tier,
    Usage,
    UsageDay,
    UsedCredit,
)
from .task import (
    CancelledTask,
    FailedTask,
    PendingTask,
    RunningTask,
    SucceededTask,
    Task,
    ThrottledTask,
    UnknownTask,
)

# Package-internal (the client binds itself to tasks), so not in __all__; the `as` form
# marks it as deliberately re-exported for type checkers.
from .task import bind_client as bind_client

__all__ = [
    "ApiKeyUsageDay",
    "ApiKeyUsedCredit",
    "CancelledTask",
    "CapacityFallback",
    "Cost",
    "FailedTask",
    "ModelLimits",
    "ModelUsage",
    "Organization",
    "OrganizationUsage",
    "PendingTask",
    "ResolvedSettings",
    "RoutedTaskCreated",
    "Routing",
    "RunningTask",
    "SucceededTask",
    "Task",
    "TaskCreated",
    "ThrottledTask",
    "Tier",
    "UnknownTask",
    "Usage",
    "UsageDay",
    "UsedCredit",
]
