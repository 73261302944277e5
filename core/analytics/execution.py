"""Planned against executed schedule entries in a period: every entry of every version sent to a device,
matched with the acknowledgement the device sent for it (the execution log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from core.analytics.devices import in_scope
from core.analytics.period import Period
from core.schedules.model import Mode
from core.schedules.records import entries_from_json
from core.schedules.tables import ScheduleAckRow, ScheduleDeliveryRow, ScheduleRow

# An ack's start is the device's clock and may differ a little from the planned start: look this far around.
ACK_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class ExecutedEntry:
    device_id: str
    start: datetime
    end: datetime
    planned_kw: float  # + = discharge, - = charge (core.batteries' sign)
    actual_kw: float | None  # the device's reported rate, signed like planned; None without an ack
    status: str  # acked | error | missing (ended without an ack) | pending (not ended yet)
    error: str | None = None


def executed_entries(conn: Connection, period: Period, device_ids: list[str], now: datetime) -> list[ExecutedEntry]:
    """Entries that start in the period, of versions delivered to the devices, by device then start.

    The planned entries are stored as JSON on each version (core/schedules/tables.py), so a version's
    entries are decoded here; only versions with an entry in the period are read (distributed_at before
    the period's end)."""
    if not device_ids:
        return []
    rows = conn.execute(
        select(ScheduleRow.schedule_id, ScheduleRow.version, ScheduleRow.entries_json, ScheduleDeliveryRow.device_id)
        .join(ScheduleDeliveryRow, ScheduleDeliveryRow.schedule_row_id == ScheduleRow.id)
        .where(in_scope(ScheduleDeliveryRow.device_id, device_ids), ScheduleRow.distributed_at.is_not(None),
               ScheduleRow.distributed_at < period.end)
    ).all()
    a = ScheduleAckRow
    ack_rows = conn.execute(select(a.schedule_id, a.version, a.device_id, a.entry_index, a.actual_rate_kw, a.ok, a.error)
                            .where(in_scope(a.device_id, device_ids), a.started_at >= period.start - ACK_SLACK,
                                   a.started_at < period.end + ACK_SLACK)).all()
    acks = {(s, v, d, i): (rate, ok, err) for s, v, d, i, rate, ok, err in ack_rows}
    out = []
    for schedule_id, version, entries_json, device_id in rows:
        for index, entry in enumerate(entries_from_json(entries_json)):
            if not period.start <= entry.start < period.end:
                continue
            sign = 1.0 if entry.mode == Mode.DISCHARGE else -1.0
            ack = acks.get((schedule_id, version, device_id, index))
            if ack is not None:
                rate, ok, err = ack
                out.append(ExecutedEntry(device_id, entry.start, entry.end, sign * entry.rate_kw, sign * abs(rate),
                                         "acked" if ok else "error", err))
            else:
                out.append(ExecutedEntry(device_id, entry.start, entry.end, sign * entry.rate_kw, None,
                                         "missing" if entry.end <= now else "pending"))
    return sorted(out, key=lambda e: (e.device_id, e.start))
