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

# The `import X as X` lines are package-internal (binding tasks to the core, the engine's
# task helpers), so not in __all__; the `as` form marks them as deliberately re-exported.
from .task import DEFAULT_WAIT_TIMEOUT as DEFAULT_WAIT_TIMEOUT
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
from .task import TaskWaiter as TaskWaiter
from .task import bind_client as bind_client
from .task import bound_client as bound_client
from .task import check_task_id as check_task_id
from .task import task_path as task_path

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
