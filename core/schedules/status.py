"""The fleet-wide schedule status: which version each device holds, where its delivery stands, its last ack.

A read-only query (VIEW_FLEET) for the status view and reports. A device's status is its newest delivery
(the last version sent to it, directly or through a group); registered devices that never received one
are listed too, with no state, so "has no schedule" is visible rather than missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.devices.tables import DeviceRow
from core.schedules.records import DeliveryState, entries_from_json
from core.schedules.tables import ScheduleDeliveryRow, ScheduleRow


@dataclass(frozen=True)
class DeviceScheduleStatus:
    device_id: str
    schedule_id: str | None
    version: int | None
    target: str  # "device bess-1" or "group north" (how the version reached the device); "" when none
    schedule_state: str | None  # the version's lifecycle state
    delivery: DeliveryState | None  # None: no schedule was ever sent to this device
    sent_at: datetime | None
    last_ack_at: datetime | None
    acked_entries: int
    entries: int
    error: str | None

    @property
    def state_word(self) -> str:
        return self.delivery.value if self.delivery is not None else "none"


class ScheduleStatusQuery:
    def __init__(self, db, authorizer: Authorizer) -> None:
        self.db = db
        self.authorizer = authorizer

    def fleet_status(self, actor: Principal) -> list[DeviceScheduleStatus]:
        """One row per device (registered or ever sent to), ordered by device id."""
        self.authorizer.require(actor, Permission.VIEW_FLEET, "schedules:status")
        with self.db.session() as s:
            rows = s.execute(select(ScheduleDeliveryRow, ScheduleRow)
                             .join(ScheduleRow, ScheduleRow.id == ScheduleDeliveryRow.schedule_row_id)
                             .order_by(ScheduleDeliveryRow.device_id, ScheduleDeliveryRow.sent_at.desc().nulls_last(),
                                       ScheduleRow.id.desc())).all()
            devices = s.execute(select(DeviceRow.device_id).where(DeviceRow.active)).scalars().all()
        newest: dict[str, DeviceScheduleStatus] = {}
        for d, sch in rows:
            if d.device_id in newest:
                continue  # ordered newest first per device
            newest[d.device_id] = DeviceScheduleStatus(
                d.device_id, sch.schedule_id, sch.version, f"{sch.target_kind} {sch.target_id}", sch.state,
                DeliveryState(d.state) if d.state else None, d.sent_at, d.last_ack_at, d.acked_entries,
                len(entries_from_json(sch.entries_json)), d.error)
        for device_id in devices:
            newest.setdefault(device_id, DeviceScheduleStatus(device_id, None, None, "", None, None, None, None, 0, 0,
                                                              None))
        return [newest[k] for k in sorted(newest)]


def counts_by_state(statuses: list[DeviceScheduleStatus]) -> Counter[str]:
    """How many devices are in each delivery state ('none' for devices without a schedule)."""
    return Counter(s.state_word for s in statuses)
