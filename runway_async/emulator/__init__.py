"""A local, stateful Runway API server: the emulator for demos, tests and benchmarks.

Start one in a loop with ``async with Emulator(time_scale=0.01) as emu:``, or from sync code
with ``with Emulator().in_thread() as emu:``, then point any client (ours or the official
SDK) at ``emu.url`` with any API key. Tasks go through PENDING, THROTTLED, RUNNING and end
SUCCEEDED with downloadable outputs, or FAILED; per-model limits, usage, faults and metrics
behave as documented on ``Emulator`` and ``EmulatorConfig``.
"""

from ._config import DEFAULT_DURATIONS, EmulatorConfig
from ._emulator import Emulator, EmulatorThread
from ._faults import Fault, FaultKind, FaultQueue
from ._server import RUNWAY_VERSION

__all__ = [
    "DEFAULT_DURATIONS",
    "RUNWAY_VERSION",
    "Emulator",
    "EmulatorConfig",
    "EmulatorThread",
    "Fault",
    "FaultKind",
    "FaultQueue",
]
