"""Schedule adherence and alarm activations per device, counted in SQL from the execution log and the
alarm journal."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from core.alarms.states import AlarmState
from core.alarms.tables import AlarmTransitionRow
from core.alarms.transitions import TransitionCause
from core.analytics.devices import in_scope
from core.analytics.period import Period
from core.schedules.tables import ScheduleAckRow


def schedule_adherence(conn: Connection, period: Period, device_ids: list[str]) -> dict[str, tuple[int, int]]:
    """device -> (acknowledged entries that started in the period, those executed without error).

    Adherence is judged on what the device reported (ok / error), not on the actual rate, because the
    planned rate lives in the schedule's JSON entries; the schedule execution report compares rates.
    """
    if not device_ids:
        return {}
    a = ScheduleAckRow
    rows = conn.execute(
        select(a.device_id, func.count(), func.sum(case((a.ok.is_(True), 1), else_=0)))
        .where(in_scope(a.device_id, device_ids), a.started_at >= period.start, a.started_at < period.end)
        .group_by(a.device_id)
    ).all()
    return {device_id: (int(n), int(ok or 0)) for device_id, n, ok in rows}


def source_device(source_id: str) -> str:
    """Alarm sources are a device id or 'device/part' (a pack or cell); the device is the first part."""
    return source_id.split("/", 1)[0]


def alarm_activations(conn: Connection, period: Period, device_ids: list[str]) -> dict[str, int]:
    """device -> alarms that became active in the period (each activation counts, as EEMUA 191 counts them)."""
    if not device_ids:
        return {}
    t = AlarmTransitionRow
    rows = conn.execute(
        select(t.source_id, func.count())
        .where(t.cause == TransitionCause.CONDITION_ACTIVE.value, t.to_state == AlarmState.ACTIVE_UNACKED.value,
               t.at >= period.start, t.at < period.end)
        .group_by(t.source_id)
    ).all()
    wanted = set(device_ids)
    out: dict[str, int] = defaultdict(int)
    for source_id, count in rows:
        device = source_device(source_id)
        if device in wanted:
            out[device] += int(count)
    return dict(out)
