"""Events the schedule service emits after an ack batch commits; the alarm engine turns them into alarms.

Frozen dataclasses handled by type (CRAFT rule 4). Each names the device it concerns (`device_id`, the alarm
source) and carries aware UTC `at`. They are emitted only for a committed batch, so an alarm never points at
an acknowledgement that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ScheduleAckRejected:
    """An ack (or receipt) that does not match what was sent: unknown schedule or version, wrong device,
    unknown entry. A device that keeps sending these is misconfigured or impersonating another one."""

    device_id: str
    schedule_id: str
    version: int
    entry: int | None  # None for a receipt
    reason: str
    at: datetime


@dataclass(frozen=True)
class ScheduleDeliveryChanged:
    """A delivery reached a state an operator must look at: `failed` (the device refused the schedule) or
    `deviating` (an entry failed or ran off its planned rate)."""

    device_id: str
    schedule_id: str
    version: int
    state: str
    reason: str
    at: datetime
    entry: int | None = None  # the entry whose ack caused it, when an entry ack did


@dataclass(frozen=True)
class ScheduleAckLate:
    """An entry ack arrived more than the service's allowed latency after the device says the entry ended
    (typically acks a device buffered while offline). The measure behind the "ack latency high" alarm."""

    device_id: str
    schedule_id: str
    version: int
    entry: int
    latency_s: float
    at: datetime
