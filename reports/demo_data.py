"""Realistic generated report inputs (seeded, repeatable) for demos, screenshots, tests and benchmarks.

Nothing here reads a database: each function returns the same frozen *ReportData a core query would feed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np

from core.alarms.alarm_load import compute_alarm_load
from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.alarms.transitions import AlarmTransition, TransitionCause, alarm_id_for
from core.analytics.anomalies import daily_energy_anomalies
from core.analytics.model import DeviceDay
from core.batteries.battery_system import BatterySystem
from reports.alarm_load import AlarmLoadReportData
from reports.analytics import AnalyticsReportData, DailyEnergy, DeviceEnergyRow, ReportAnomaly
from reports.audit_report import AuditReportData, AuditReportRow
from reports.fleet_health import BatterySystemHealth, DeviceHealthRow, FleetHealthReportData, battery_system_health
from reports.meta import ReportMeta
from reports.schedule_execution import ExecutionRow, ScheduleExecutionReportData

SITES = ("Hamburg-Nord", "Bremen-Hafen", "Kiel-Ost", "Rostock", "Hannover-Sued", "Berlin-Adlershof",
         "Leipzig-West", "Dresden", "Erfurt", "Kassel", "Muenster", "Essen-Kray")
DEMO_START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def demo_meta(days: int = 1, generated_by: str = "admin", local_zone: str = "Europe/Berlin",
              start: datetime = DEMO_START) -> ReportMeta:
    """A period of `days` from `start`, generated one hour after it ends."""
    end = start + timedelta(days=days)
    return ReportMeta(start, end, end + timedelta(hours=1), generated_by, local_zone)


def demo_battery_system(seed: int, weak_cell: tuple[int, int] = (17, 4), hot_cell: tuple[int, int] = (42, 7),
                        ageing_years: float = 0.0) -> BatterySystem:
    """A 100 x 10 cell system with one weak cell and one over-heating cell, after an hour of cycling."""
    system = BatterySystem(n_packs=100, cells_per_pack=10, seed=seed, initial_soc=0.6,
                           initial_soh=max(0.7, 1.0 - 0.03 * ageing_years))
    system.set_weak_cell(*weak_cell, capacity_factor=0.82, resistance_factor=1.6)
    system.set_over_temperature(*hot_cell, extra_heat_w=6.0)
    for i in range(12):  # one hour at 5 min: alternate discharge/charge so cells warm and drift apart
        system.step(300.0, current_a=1500.0 if i % 2 == 0 else -1200.0)
    return system


def demo_fleet_health(n_devices: int = 1000, *, seed: int = 7, systems: int = 2,
                      meta: ReportMeta | None = None) -> FleetHealthReportData:
    """`n_devices` devices over 12 sites (about 1 % offline, 3 % stale, an ageing tail of SoH) and `systems`
    cell-level battery systems."""
    rng = np.random.default_rng(seed)
    soc = np.clip(rng.normal(55, 20, n_devices), 2, 100)
    soh = np.clip(100 - rng.gamma(2.0, 4.5, n_devices), 62, 100)
    status = rng.choice(["online", "stale", "offline"], size=n_devices, p=[0.96, 0.03, 0.01])
    alarms = rng.poisson(0.08, n_devices) + (status == "offline")
    devices = tuple(
        DeviceHealthRow(
            device_id=f"bess-{i + 1:04d}",
            name=f"BESS {SITES[i % len(SITES)]} {i // len(SITES) + 1}",
            site=SITES[i % len(SITES)],
            soc_pct=round(float(soc[i]), 1),
            soh_pct=round(float(soh[i]), 1),
            status=str(status[i]),
            active_alarms=int(alarms[i]),
        )
        for i in range(n_devices)
    )
    health: list[BatterySystemHealth] = [
        battery_system_health(f"bs-{k + 1:02d}", f"{SITES[k]} container {k + 1}",
                              demo_battery_system(seed + k, ageing_years=2.0 * k))
        for k in range(systems)
    ]
    return FleetHealthReportData(meta=meta or demo_meta(), devices=devices, systems=tuple(health))


def days(start: date, n: int) -> list[date]:
    """`n` consecutive days from `start`."""
    return [start + timedelta(days=i) for i in range(n)]


def demo_alarm_transitions(start: datetime = DEMO_START, hours: int = 24, seed: int = 3) -> list[AlarmTransition]:
    """A day's alarm journal: ~1 alarm per 10 min background, one flood burst, one chattering alarm and one
    alarm standing since two days before `start`."""
    rng = np.random.default_rng(seed)
    rules = ("cell_temp_high", "soc_low", "device_offline", "cell_voltage_high", "imbalance_high", "ack_latency")
    journal: list[AlarmTransition] = []

    def episode(rule: str, source: str, at: datetime, clear_after: timedelta | None) -> None:
        alarm_id = alarm_id_for(rule, source)
        journal.append(AlarmTransition(alarm_id, rule, source, AlarmState.NORMAL, AlarmState.ACTIVE_UNACKED, at,
                                       Priority.WARNING, TransitionCause.CONDITION_ACTIVE))
        if clear_after is not None:
            journal.append(AlarmTransition(alarm_id, rule, source, AlarmState.ACTIVE_UNACKED,
                                           AlarmState.RETURNED_UNACKED, at + clear_after, Priority.WARNING,
                                           TransitionCause.CONDITION_CLEARED))

    # Hot spots: a few sources raise most alarms, as bad actors do in real plants.
    sources = [f"bess-{i:04d}" for i in (12, 48, 77, 103, 150, 211, 305, 412, 518, 640, 733, 901)]
    weights = np.array([12, 9, 7, 5, 4, 3, 3, 2, 2, 1, 1, 1], dtype=float)
    for minute in np.sort(rng.uniform(0, hours * 60, size=hours * 5)):
        episode(str(rng.choice(rules)), str(rng.choice(sources, p=weights / weights.sum())),
                start + timedelta(minutes=float(minute)), timedelta(minutes=float(rng.uniform(1, 40))))
    flood_at = start + timedelta(hours=9, minutes=20)
    for k in range(24):  # a site trip: every device of one site goes offline within minutes
        episode("device_offline", f"bess-{600 + k:04d}", flood_at + timedelta(seconds=20 * k), timedelta(minutes=30))
    for k in range(5):  # a sensor flickering around its threshold
        episode("cell_voltage_high", "bess-0048", start + timedelta(hours=14, seconds=12 * k), timedelta(seconds=5))
    episode("imbalance_high", "bess-0777", start - timedelta(days=2), None)
    return journal


def demo_schedule_execution(n_devices: int = 20, start: datetime = DEMO_START, seed: int = 5,
                            meta: ReportMeta | None = None) -> ScheduleExecutionReportData:
    """`n_devices` devices with 8 one-hour entries each; most track their setpoint, a few deviate or miss acks."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_devices):
        for h in range(8):
            at = start + timedelta(hours=6 + 2 * h)
            planned = float(rng.choice([-250.0, -100.0, 0.0, 150.0, 300.0]))
            roll = rng.uniform()
            status = "missing" if roll < 0.03 else "error" if roll < 0.05 else "acked"
            actual = None if status == "missing" else planned * float(rng.normal(1.0, 0.02))
            if status == "acked" and rng.uniform() < 0.06:
                actual = planned * 0.7  # derated: a hot pack limits the inverter
            rows.append(ExecutionRow(f"bess-{i + 1:04d}", at, at + timedelta(hours=1), planned,
                                     None if actual is None else round(actual, 2), status))
    return ScheduleExecutionReportData(meta or demo_meta(start=start), tuple(rows))


def demo_analytics(n_devices: int = 60, n_days: int = 14, seed: int = 9,
                   meta: ReportMeta | None = None) -> AnalyticsReportData:
    """`n_devices` devices in 4 groups over `n_days` days: ~1.5 cycles a day of a 1 MWh unit at 90 % round trip."""
    rng = np.random.default_rng(seed)
    meta = meta or demo_meta(days=n_days)
    groups = ("Nord portfolio", "Sued portfolio", "Frequency reserve", "Peak shaving")
    daily_charged = rng.normal(1500.0, 250.0, (n_devices, n_days)).clip(200)
    daily_charged[min(7, n_devices - 1), n_days // 2] = 4800.0  # a capacity test: the day analytics flags
    daily_discharged = daily_charged * rng.normal(0.9, 0.01, (n_devices, n_days))
    devices = []
    for i in range(n_devices):
        charged, discharged = float(daily_charged[i].sum()), float(daily_discharged[i].sum())
        availability = float(np.clip(100 - rng.gamma(1.0, 1.5), 80, 100))
        devices.append(DeviceEnergyRow(f"bess-{i + 1:04d}", groups[i % len(groups)], round(charged, 1),
                                       round(discharged, 1), round(charged * 0.085, 2),
                                       round(discharged * 0.112, 2), round(availability, 2)))
    start_day = meta.period_start.date()
    day_list = days(start_day, n_days)
    daily = tuple(DailyEnergy(day, float(daily_charged[:, k].sum()), float(daily_discharged[:, k].sum()))
                  for k, day in enumerate(day_list))
    device_days = [DeviceDay(f"bess-{i + 1:04d}", day, float(daily_charged[i, k]), float(daily_discharged[i, k]),
                             None, None, None, None) for i in range(n_devices) for k, day in enumerate(day_list)]
    anomalies = tuple(ReportAnomaly(a.device_id, a.day, round(a.value, 1), round(a.reference, 1), a.robust_z, a.reason)
                      for a in daily_energy_anomalies(device_days))
    return AnalyticsReportData(meta, tuple(devices), daily, anomalies=anomalies)


def demo_audit(n_entries: int = 200, seed: int = 11, meta: ReportMeta | None = None) -> AuditReportData:
    """Audit rows without a database (the real loader is audit_report.audit_report_data)."""
    rng = np.random.default_rng(seed)
    meta = meta or demo_meta()
    users = ("admin", "alice.operator", "bob.trader", "carol.viewer")
    actions = (("auth.login", "user:{u}"), ("schedule.approve", "schedule:{n}"), ("device.command", "device:bess-{n}"),
               ("user.set_role", "user:carol.viewer"), ("alarm.acknowledge", "alarm:cell_temp_high:bess-{n}"))
    rows = []
    for i, minute in enumerate(np.sort(rng.uniform(0, 24 * 60, n_entries)), start=1):
        user = str(rng.choice(users))
        action, resource = actions[int(rng.integers(len(actions)))]
        result = str(rng.choice(["success", "failure", "denied"], p=[0.9, 0.06, 0.04]))
        rows.append(AuditReportRow(i, meta.period_start + timedelta(minutes=float(minute)), user, action,
                                   resource.format(u=user, n=f"{int(rng.integers(1, 999)):04d}"), result,
                                   str(rng.choice(["ctrl-ws-01", "ctrl-ws-02", "field-laptop-7"]))))
    return AuditReportData(meta, tuple(rows), "all entries")


def demo_alarm_load(operators: int = 2, meta: ReportMeta | None = None) -> AlarmLoadReportData:
    """The EEMUA 191 figures of demo_alarm_transitions over one day."""
    meta = meta or demo_meta()
    load = compute_alarm_load(demo_alarm_transitions(meta.period_start), meta.period_start, meta.period_end, operators)
    return AlarmLoadReportData(meta, load, "control room, 2 operator desks")
