"""Each battery system's cells at one instant (the end of a report period): the newest stored reading of
every pack (core.telemetry.queries.TelemetryQueries.latest_cells, bounded by the instant) and the alarms
of the system, its packs and its cells that were active then.

A battery system is a device with stored cell samples (cell_samples keys it by device id); devices without
cell rows are not battery systems here and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from core.alarms.tables import AlarmTransitionRow
from core.analytics.activity import source_device
from core.analytics.devices import in_scope
from core.analytics.fleet_state import ACTIVE_STATES, STALE_AFTER
from core.storage.database import Database
from core.telemetry.queries import PackCells, TelemetryQueries
from core.telemetry.tables import telemetry_device_keys

# A pack counts as part of the system's reading when its newest row is at most this much older than the
# system's newest one: wider than the live view's 60 s, since a report looks back at a finished period.
PACK_LOOKBACK = STALE_AFTER


@dataclass(frozen=True)
class ActiveAlarm:
    source_id: str  # the system, "<system>/packNN" or "<system>/packNN/cellMM"
    rule_id: str
    priority: str
    state: str  # UNACK or ACKED
    since: datetime  # its newest transition before the instant
    value: float | None


@dataclass(frozen=True)
class BatterySystemCells:
    system_id: str
    name: str
    reading_at: datetime  # the newest pack reading used
    packs: tuple[PackCells, ...]  # by pack index
    alarms: tuple[ActiveAlarm, ...]  # by source id, then rule


def systems_with_cells(conn: Connection, device_ids: list[str]) -> list[str]:
    """The devices among `device_ids` that have ever stored cell samples (they hold a cell-row key)."""
    if not device_ids:
        return []
    k = telemetry_device_keys
    return sorted(conn.execute(select(k.c.device_id).where(in_scope(k.c.device_id, device_ids))).scalars())


def active_alarms_at(conn: Connection, device_ids: list[str], at: datetime) -> dict[str, list[ActiveAlarm]]:
    """device -> alarms of the device or its parts whose newest transition before `at` left them active."""
    if not device_ids:
        return {}
    t = AlarmTransitionRow
    latest = select(func.max(t.id).label("id")).where(t.at < at).group_by(t.alarm_id).subquery()
    rows = conn.execute(select(t.source_id, t.rule_id, t.priority, t.to_state, t.at, t.value)
                        .join(latest, latest.c.id == t.id).where(t.to_state.in_(ACTIVE_STATES))
                        .order_by(t.source_id, t.rule_id)).all()
    wanted = set(device_ids)
    out: dict[str, list[ActiveAlarm]] = defaultdict(list)
    for source_id, rule_id, priority, state, since, value in rows:
        device = source_device(source_id)
        if device in wanted:
            out[device].append(ActiveAlarm(source_id, rule_id, priority, state, since, value))
    return dict(out)


def battery_systems_at(db: Database, names: dict[str, str], at: datetime,
                       pack_lookback: timedelta = PACK_LOOKBACK) -> list[BatterySystemCells]:
    """Every device of `names` (device -> display name) that has cell readings before `at`, by id."""
    with db.engine.connect() as conn:
        ids = systems_with_cells(conn, list(names))
        alarms = active_alarms_at(conn, ids, at)
    queries = TelemetryQueries(db)
    out = []
    for system_id in ids:
        packs = queries.latest_cells(system_id, pack_lookback, before=at)
        if not packs:
            continue  # its cells were all stored after the instant
        out.append(BatterySystemCells(system_id, names[system_id], max(p.ts for p in packs.values()),
                                      tuple(packs[p] for p in sorted(packs)), tuple(alarms.get(system_id, ()))))
    return out
