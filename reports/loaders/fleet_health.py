"""Fleet health report data from the database: each device's state at the end of the period."""

from __future__ import annotations

from core.auth.principal import Principal
from core.services import CoreServices
from reports.fleet_health import DeviceHealthRow, FleetHealthReportData
from reports.loaders.request import ReportRequest, analytics_service
from reports.meta import ReportMeta


def load_fleet_health(services: CoreServices, actor: Principal, request: ReportRequest) -> FleetHealthReportData:
    """Devices as they stood at the period's end. No device with a reading by then: an empty report.

    Cell-level battery-system sections need the per-pack cell rollup, which does not exist yet: `systems`
    stays empty (the report then leaves that section out)."""
    states = analytics_service(services).fleet_state(actor, request.analytics_request())
    meta = ReportMeta(request.period.start, request.period.end, services.clock.now(), actor.username, request.local_zone)
    if not any(s.soc_pct is not None or s.soh_pct is not None for s in states):
        return FleetHealthReportData(meta, ())
    rows = tuple(DeviceHealthRow(s.device_id, s.name, s.group, None if s.soc_pct is None else round(s.soc_pct, 1),
                                 None if s.soh_pct is None else round(s.soh_pct, 1), s.status, s.active_alarms)
                 for s in states)
    return FleetHealthReportData(meta, rows)
