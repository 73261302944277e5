"""Fleet health report data from the database: each device's state at the end of the period, and each battery
system's newest stored cell readings and active alarms then."""

from __future__ import annotations

import numpy as np

from core.analytics.battery_systems import BatterySystemCells
from core.auth.principal import Principal
from core.services import CoreServices
from core.telemetry.queries import PackCells
from reports.fleet_health import (
    BatterySystemHealth,
    DeviceHealthRow,
    FleetHealthReportData,
    SystemAlarmRow,
    cells_health,
)
from reports.loaders.request import ReportRequest, analytics_service
from reports.meta import ReportMeta

WEAKEST_CELLS = 5  # cells listed per ranking (lowest SoH, lowest voltage, hottest)


def load_fleet_health(services: CoreServices, actor: Principal, request: ReportRequest) -> FleetHealthReportData:
    """Devices and battery systems as they stood at the period's end. No device with a reading by then and no
    cell reading either: an empty report."""
    analytics = analytics_service(services)
    states = analytics.fleet_state(actor, request.analytics_request())
    systems = tuple(system_health(s) for s in analytics.battery_systems(actor, request.analytics_request()))
    meta = ReportMeta(request.period.start, request.period.end, services.clock.now(), actor.username, request.local_zone)
    if not systems and not any(s.soc_pct is not None or s.soh_pct is not None for s in states):
        return FleetHealthReportData(meta, ())
    rows = tuple(DeviceHealthRow(s.device_id, s.name, s.group, None if s.soc_pct is None else round(s.soc_pct, 1),
                                 None if s.soh_pct is None else round(s.soh_pct, 1), s.status, s.active_alarms)
                 for s in states)
    return FleetHealthReportData(meta, rows, systems)


def _stack(packs: tuple[PackCells, ...], metric: str) -> np.ndarray:
    """(packs x cells) of one metric; packs with fewer cells are padded with NaN (a missing reading)."""
    width = max(len(getattr(p, metric)) for p in packs)
    out = np.full((len(packs), width), np.nan)
    for i, pack in enumerate(packs):
        values = getattr(pack, metric)
        out[i, : len(values)] = values
    return out


def system_health(system: BatterySystemCells, top_n: int = WEAKEST_CELLS) -> BatterySystemHealth:
    """A stored battery system's report section: its packs' SoC/SoH, imbalance, ranked cells and alarms."""
    packs = system.packs
    alarms = [SystemAlarmRow(a.source_id, a.rule_id, a.priority, a.state, a.since) for a in system.alarms]
    return cells_health(system.system_id, system.name, [p.pack for p in packs], _stack(packs, "voltage_v"),
                        _stack(packs, "temp_c"), _stack(packs, "soc_pct"), _stack(packs, "soh_pct"),
                        alarms=alarms, reading_at=system.reading_at, top_n=top_n)
