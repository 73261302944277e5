"""Each device's state at one instant (the end of a report period): SoC, SoH, online/stale/offline and
active alarms, read with a few grouped SQL queries (newest row per device), never a device at a time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from core.alarms.states import AlarmState
from core.alarms.tables import AlarmTransitionRow
from core.analytics.activity import source_device
from core.analytics.devices import in_scope
from core.devices.tables import DeviceRow
from core.telemetry.tables import status_changes, telemetry_1m, telemetry_raw
from core.telemetry.timecodes import from_epoch_ms, to_epoch_ms

# A device that says it is online but has sent nothing for this long is stale (as the live view marks it).
STALE_AFTER = timedelta(minutes=5)
ACTIVE_STATES = (AlarmState.ACTIVE_UNACKED.value, AlarmState.ACTIVE_ACKED.value)


@dataclass(frozen=True)
class DeviceState:
    device_id: str
    name: str
    group: str
    soc_pct: float | None  # None: never reported before the instant
    soh_pct: float | None
    status: str  # online | stale | offline
    last_seen: datetime | None
    active_alarms: int


def _newest(conn: Connection, table, time_col: str, value_col: str, ids: list[str], before_ms: int,
            extra=None) -> dict[str, tuple[int, float | None]]:
    """device -> (time, value) of its newest row before `before_ms` (optionally only rows matching `extra`)."""
    t = table
    cond = [in_scope(t.c.device_id, ids), t.c[time_col] < before_ms]
    if extra is not None:
        cond.append(extra)
    newest = select(t.c.device_id, func.max(t.c[time_col]).label("ms")).where(*cond).group_by(t.c.device_id).subquery()
    rows = conn.execute(select(t.c.device_id, t.c[time_col], t.c[value_col])
                        .join(newest, (newest.c.device_id == t.c.device_id) & (newest.c.ms == t.c[time_col]))).all()
    return {d: (int(ms), v) for d, ms, v in rows}


def fleet_state_at(conn: Connection, groups: dict[str, str], at: datetime) -> list[DeviceState]:
    """The state of every device in `groups` (device -> group) at `at`, by device id."""
    ids = list(groups)
    if not ids:
        return []
    at_ms = to_epoch_ms(at)
    soc = _newest(conn, telemetry_1m, "bucket_start_ms", "soc_pct_avg", ids, at_ms)
    soh = _newest(conn, telemetry_raw, "ts_ms", "soh_pct", ids, at_ms, telemetry_raw.c.soh_pct.is_not(None))
    online = _newest(conn, status_changes, "at_ms", "online", ids, at_ms)
    names = dict(conn.execute(select(DeviceRow.device_id, DeviceRow.name).where(in_scope(DeviceRow.device_id, ids))).all())
    t = AlarmTransitionRow
    latest = select(func.max(t.id).label("id")).where(t.at < at).group_by(t.alarm_id).subquery()
    active_rows = conn.execute(select(t.source_id, func.count()).join(latest, latest.c.id == t.id)
                               .where(t.to_state.in_(ACTIVE_STATES)).group_by(t.source_id)).all()
    alarms: dict[str, int] = defaultdict(int)
    for source_id, count in active_rows:
        alarms[source_device(source_id)] += int(count)
    out = []
    for device_id, group in groups.items():
        seen_ms = soc.get(device_id, (None, None))[0]
        last_seen = from_epoch_ms(seen_ms + 60_000) if seen_ms is not None else None  # end of its newest minute
        said_online = bool(online.get(device_id, (None, False))[1])
        if not said_online or last_seen is None:
            status = "offline"
        else:
            status = "online" if at - last_seen <= STALE_AFTER else "stale"
        out.append(DeviceState(device_id, names.get(device_id, device_id), group, soc.get(device_id, (0, None))[1],
                               soh.get(device_id, (0, None))[1], status, last_seen, alarms.get(device_id, 0)))
    return out
