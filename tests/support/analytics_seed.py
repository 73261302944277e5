"""A small, hand-checkable fleet history for analytics and report tests (SQLite and PostgreSQL).

Two registered devices over two UTC days, 2026-03-02 and 2026-03-03, one raw sample a minute:
- bess-a (site North): each day charges at 60 kW from 00:00 to 01:00 (60 kWh) and discharges at 100 kW from
  12:00 to 12:30 (50 kWh); SoC 40 % on day 1 and 60 % on day 2; SoH 95.0 then 94.5. Reports every minute.
- bess-b (site South): day 1 charges at 30 kW from 00:00 to 01:00 (30 kWh), SoC 80 %, SoH 90 %; silent on
  day 2 (availability 50 %).
Plus two acknowledged schedule entries of bess-a (one ok, one failed) and three alarm activations on bess-a
(one on a pack, one after the period), and a status change for each device.
Rollups are computed by core.telemetry.rollups from the raw rows, as in production.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from core.alarms.tables import AlarmTransitionRow
from core.devices.tables import DeviceRow
from core.fleet.tables import SiteRow
from core.schedules.model import Mode, ScheduleEntry
from core.schedules.records import entries_to_json
from core.schedules.tables import ScheduleAckRow, ScheduleDeliveryRow, ScheduleRow
from core.storage.database import Database
from core.telemetry.rollups import Rollups
from core.telemetry.tables import status_changes, telemetry_raw
from core.telemetry.timecodes import to_epoch_ms

DAY1 = datetime(2026, 3, 2, tzinfo=timezone.utc)
DAY2 = DAY1 + timedelta(days=1)
END = DAY2 + timedelta(days=1)
DEVICES = {"bess-a": "North", "bess-b": "South"}


def _power_a(minute_of_day: int) -> float:
    if minute_of_day < 60:
        return -60.0
    if 720 <= minute_of_day < 750:
        return 100.0
    return 0.0


def _raw_rows() -> list[dict]:
    rows = []
    for day_index, day in enumerate((DAY1, DAY2)):
        for minute in range(24 * 60):
            ts = to_epoch_ms(day + timedelta(minutes=minute))
            rows.append({"device_id": "bess-a", "ts_ms": ts, "power_kw": _power_a(minute), "mode": 0,
                         "soc_pct": 40.0 + 20.0 * day_index, "soh_pct": 95.0 - 0.5 * day_index,
                         "voltage_v": 800.0, "current_a": 0.0, "temp_c": 25.0})
            if day_index == 0:
                rows.append({"device_id": "bess-b", "ts_ms": ts, "power_kw": -30.0 if minute < 60 else 0.0,
                             "mode": 0, "soc_pct": 80.0, "soh_pct": 90.0, "voltage_v": 790.0, "current_a": 0.0,
                             "temp_c": 24.0})
    return rows


def seed_fleet_history(db: Database) -> None:
    made = DAY1 - timedelta(days=30)
    with db.session() as s:
        sites = {name: SiteRow(name=name, created_at=made) for name in sorted(set(DEVICES.values()))}
        s.add_all(sites.values())
        s.flush()
        for device_id, site in DEVICES.items():
            s.add(DeviceRow(device_id=device_id, name=f"Unit {device_id[-1].upper()}", site_id=sites[site].id,
                            kind="bess", capacity_kwh=200.0, max_charge_kw=100.0, max_discharge_kw=100.0,
                            address=f"mqtt://broker:1883/{device_id}", active=True, created_at=made))
        entries = (ScheduleEntry(DAY1 + timedelta(hours=12), DAY1 + timedelta(hours=12, minutes=30), Mode.DISCHARGE, 100.0),
                   ScheduleEntry(DAY2 + timedelta(hours=12), DAY2 + timedelta(hours=12, minutes=30), Mode.DISCHARGE, 100.0))
        schedule = ScheduleRow(schedule_id="sch-seed", version=1, target_kind="device", target_id="bess-a",
                               state="distributed", source="manual", created_by="chief", approved_by="chief",
                               created_at=made, approved_at=made, distributed_at=made,
                               entries_json=entries_to_json(entries))
        s.add(schedule)
        s.flush()
        s.add(ScheduleDeliveryRow(schedule_row_id=schedule.id, device_id="bess-a", state="deviating", sent_at=made,
                                  acked_entries=2))
        s.add_all([
            ScheduleAckRow(schedule_id="sch-seed", version=1, device_id="bess-a", entry_index=0, actual_rate_kw=100.0,
                           started_at=entries[0].start, ended_at=entries[0].end, ok=True, received_at=entries[0].end),
            ScheduleAckRow(schedule_id="sch-seed", version=1, device_id="bess-a", entry_index=1, actual_rate_kw=0.0,
                           started_at=entries[1].start, ended_at=entries[1].end, ok=False, error="inverter trip",
                           received_at=entries[1].end),
        ])

        def alarm(source: str, at: datetime, rule: str = "cell_temp_high") -> AlarmTransitionRow:
            return AlarmTransitionRow(alarm_id=f"{rule}:{source}", rule_id=rule, source_id=source, from_state="NORMAL",
                                      to_state="UNACK", at=at, priority="warning", cause="condition_active")

        s.add_all([alarm("bess-a", DAY1 + timedelta(hours=3)), alarm("bess-a", DAY2 + timedelta(hours=3)),
                   alarm("bess-a/pack3", DAY2 + timedelta(hours=4), "cell_voltage_high"),
                   alarm("bess-a", END + timedelta(hours=1))])
    with db.engine.begin() as conn:
        conn.execute(insert(telemetry_raw), _raw_rows())
        conn.execute(insert(status_changes), [
            {"device_id": "bess-a", "at_ms": to_epoch_ms(DAY1), "online": True, "reason": "connected"},
            {"device_id": "bess-b", "at_ms": to_epoch_ms(DAY1), "online": True, "reason": "connected"},
            {"device_id": "bess-b", "at_ms": to_epoch_ms(DAY2), "online": False, "reason": "last will"},
        ])
    Rollups(db).rollup_window(DAY1, END)


def seed_rollup_fleet(db: Database, start: datetime, days: int = 14, n_devices: int = 8, seed: int = 4) -> None:
    """A fleet for screenshots: `n_devices` in three sites, ~1.5 cycles a day, written straight into the
    rollup tables (15-minute and 1-minute rows that agree). One device has a wild day (a test campaign) and
    one drops out for a day and a half, so the view has an anomaly and a low availability to show."""
    import numpy as np

    from core.telemetry.tables import telemetry_1m, telemetry_15m

    rng = np.random.default_rng(seed)
    sites = ("Rotterdam Harbour", "Antwerp North", "Lille Depot")
    made = start - timedelta(days=60)
    with db.session() as s:
        site_rows = {name: SiteRow(name=name, created_at=made) for name in sites}
        s.add_all(site_rows.values())
        s.flush()
        for i in range(n_devices):
            s.add(DeviceRow(device_id=f"bess-{i + 1:04d}", name=f"Unit {i + 1}", site_id=site_rows[sites[i % 3]].id,
                            kind="bess", capacity_kwh=2000.0, max_charge_kw=1000.0, max_discharge_kw=1000.0,
                            address=f"mqtt://broker:1883/bess-{i + 1:04d}", active=True, created_at=made))
    quarters, minutes = [], []
    for i in range(n_devices):
        device_id = f"bess-{i + 1:04d}"
        soc = 50.0
        for q in range(days * 96):
            day, hour = divmod(q, 96)
            if i == 5 and 96 * 6 + 40 <= q < 96 * 8:
                continue  # offline from 10:00 on day 7 to the end of day 8
            hour = hour / 4
            # Charge at night and midday (cheap), discharge at the evening peak.
            power = -600.0 if (1 <= hour < 4 or 12 <= hour < 14) else 700.0 if 17 <= hour < 21 else 0.0
            power *= float(rng.normal(1.0, 0.06))
            if i == 2 and day == 9 and 8 <= hour < 12:
                power = 950.0 if int(hour * 4) % 2 else -950.0  # a capacity test: far more throughput than usual
            energy = abs(power) * 0.25
            soc = float(np.clip(soc + (-power * 0.25) / 2000.0 * 100.0, 5, 95))
            ts = to_epoch_ms(start) + q * 900_000
            row = {"device_id": device_id, "bucket_start_ms": ts, "n": 15,
                   "soc_pct_min": soc - 2.0, "soc_pct_avg": soc, "soc_pct_max": soc + 2.0,
                   "power_kw_min": power, "power_kw_avg": power, "power_kw_max": power,
                   "voltage_v_min": 790.0, "voltage_v_avg": 800.0, "voltage_v_max": 810.0,
                   "temp_c_min": 22.0, "temp_c_avg": 25.0, "temp_c_max": 28.0,
                   "energy_charged_kwh": energy if power < 0 else 0.0,
                   "energy_discharged_kwh": energy if power > 0 else 0.0}
            quarters.append(row)
            for m in range(15):
                minutes.append({**row, "bucket_start_ms": ts + m * 60_000, "n": 1,
                                "energy_charged_kwh": row["energy_charged_kwh"] / 15,
                                "energy_discharged_kwh": row["energy_discharged_kwh"] / 15})
    with db.engine.begin() as conn:
        conn.execute(insert(telemetry_15m), quarters)
        conn.execute(insert(telemetry_1m), minutes)
