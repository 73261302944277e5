"""Commands the GUI sends to the runtime and events the runtime publishes. Frozen, handled by type."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class RuntimeState(enum.Enum):
    CREATED = "created"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Ping:
    """A round trip through the runtime; answers with the runtime's clock time."""


@dataclass(frozen=True, slots=True)
class RuntimeStateChanged:
    state: RuntimeState
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    at: datetime
