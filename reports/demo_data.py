"""Realistic generated report inputs (seeded, repeatable) for demos, screenshots, tests and benchmarks.

Nothing here reads a database: each function returns the same frozen *ReportData a core query would feed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np

from core.batteries.battery_system import BatterySystem
from reports.fleet_health import BatterySystemHealth, DeviceHealthRow, FleetHealthReportData, battery_system_health
from reports.meta import ReportMeta

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
