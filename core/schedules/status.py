"""The fleet-wide schedule status: which version each device holds, where its delivery stands, its last ack.

A read-only query (VIEW_FLEET) for the status view and reports. A device's status is its newest delivery
(the last version sent to it, directly or through a group); registered devices that never received one
are listed too, with no state, so "has no schedule" is visible rather than missing.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Subquery, func, select

from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.devices.tables import DeviceRow
from core.schedules.records import DeliveryState
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
        """One row per device (registered or ever sent to), ordered by device id.

        The database picks each device's newest delivery (a window function, on SQLite and PostgreSQL alike), so
        a fleet of 10,000 devices with a long delivery history loads 10,000 rows, not the history. Entry counts
        come from a second query over the distinct versions in that result: a group version sent to thousands of
        devices is read and parsed once, not once per device."""
        self.authorizer.require(actor, Permission.VIEW_FLEET, "schedules:status")
        newest = newest_deliveries()
        with self.db.session() as s:
            rows = s.execute(select(ScheduleDeliveryRow.device_id, ScheduleDeliveryRow.state, ScheduleDeliveryRow.sent_at,
                                    ScheduleDeliveryRow.last_ack_at, ScheduleDeliveryRow.acked_entries,
                                    ScheduleDeliveryRow.error, ScheduleRow.id, ScheduleRow.schedule_id,
                                    ScheduleRow.version, ScheduleRow.target_kind, ScheduleRow.target_id,
                                    ScheduleRow.state)
                             .join(newest, newest.c.delivery_id == ScheduleDeliveryRow.id)
                             .join(ScheduleRow, ScheduleRow.id == ScheduleDeliveryRow.schedule_row_id)
                             .order_by(ScheduleDeliveryRow.device_id)).all()
            entry_counts = {row_id: len(json.loads(text)) for row_id, text in s.execute(
                select(ScheduleRow.id, ScheduleRow.entries_json)
                .where(ScheduleRow.id.in_(select(newest.c.schedule_row_id).distinct())))}
            devices = s.execute(select(DeviceRow.device_id).where(DeviceRow.active)).scalars().all()
        statuses = {
            device_id: DeviceScheduleStatus(
                device_id, schedule_id, version, f"{target_kind} {target_id}", schedule_state,
                DeliveryState(state) if state else None, sent_at, last_ack_at, acked_entries, entry_counts[row_id],
                error)
            for (device_id, state, sent_at, last_ack_at, acked_entries, error, row_id, schedule_id, version,
                 target_kind, target_id, schedule_state) in rows}
        for device_id in devices:
            statuses.setdefault(device_id, DeviceScheduleStatus(device_id, None, None, "", None, None, None, None, 0,
                                                                0, None))
        return [statuses[k] for k in sorted(statuses)]


def newest_deliveries() -> Subquery:
    """(delivery_id, schedule_row_id) of each device's newest delivery: the last one sent (never-sent last), and
    of two sent at the same moment the later version row."""
    rank = func.row_number().over(
        partition_by=ScheduleDeliveryRow.device_id,
        order_by=(ScheduleDeliveryRow.sent_at.desc().nulls_last(), ScheduleDeliveryRow.schedule_row_id.desc()))
    ranked = select(ScheduleDeliveryRow.id.label("delivery_id"), ScheduleDeliveryRow.schedule_row_id,
                    rank.label("newest_first")).subquery("ranked")
    return (select(ranked.c.delivery_id, ranked.c.schedule_row_id).where(ranked.c.newest_first == 1)
            .subquery("newest"))


def counts_by_state(statuses: list[DeviceScheduleStatus]) -> Counter[str]:
    """How many devices are in each delivery state ('none' for devices without a schedule)."""
    return Counter(s.state_word for s in statuses)
