"""The one small interface every device driver implements.

A driver talks one protocol to one endpoint. The runtime owns drivers; views never see them.
Each driver module has a simulator that speaks the same protocol on the wire, so tests and the
demo exercise the real client code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Protocol, runtime_checkable


class Availability(enum.Enum):
    """Explicit device availability, shown for every device."""

    ONLINE = "online"
    STALE = "stale"  # connected, but the last good reading is older than the stale window
    OFFLINE = "offline"


class DriverError(Exception):
    """Base for typed driver failures. Never return None for failure."""


class DriverTimeout(DriverError):
    """The endpoint did not answer within the call's timeout."""


class DeviceRejected(DriverError):
    """The device answered with an error (e.g. a Modbus exception code)."""


class ReadbackMismatch(DriverError):
    """A setpoint was written but reading it back returned something else."""


class NotConnected(DriverError):
    """The driver has no live connection to its endpoint."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One snapshot of a device's measurements, in domain units (soc_pct, power_kw, ...)."""

    device_id: str
    taken_at: datetime  # aware UTC
    values: Mapping[str, float]
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Driver(Protocol):
    """A connection to one device endpoint.

    All methods are coroutines run on the runtime's asyncio loop. Implementations serialize access
    to their endpoint and put a timeout on every call.
    """

    url: str

    @property
    def availability(self) -> Availability: ...

    async def connect(self) -> None: ...

    async def read(self) -> Reading: ...

    async def write(self, setpoints: Mapping[str, float]) -> Mapping[str, float]:
        """Write setpoints, read them back, and return what the device now reports.

        Raises ReadbackMismatch when the readback differs from what was written.
        """
        ...

    async def close(self) -> None: ...
