"""AnalyticsService: the one entry point for fleet analytics and report exports, with permissions and audit.

Reading analytics needs VIEW_HISTORY; money figures (a price series given) need VIEW_FINANCIALS as well
(viewers see energy, not cost). Exports are audited ("report.export"), as the brief asks of every export.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from core.alarms.alarm_load import AlarmLoadReport, compute_alarm_load
from core.alarms.sql_store import AlarmHistoryFilter, SqlAlarmStore
from core.analytics.activity import alarm_activations, schedule_adherence
from core.analytics.battery_systems import BatterySystemCells, battery_systems_at
from core.analytics.execution import ExecutedEntry, executed_entries
from core.analytics.fleet_state import DeviceState, fleet_state_at
from core.analytics.anomalies import daily_energy_anomalies
from core.analytics.devices import device_groups, in_scope
from core.analytics.model import AnalyticsRequest, DeviceDay, DeviceTotals, FleetAnalytics
from core.analytics.period import Period
from core.analytics.rollup_queries import available_minutes, daily_energy_and_soc, period_minutes, priced_energy
from core.analytics.soh_trend import daily_soh
from core.analytics.statistics import summary_statistics
from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock
from core.devices.tables import DeviceRow
from core.storage.database import Database


STANDING_LOOKBACK = timedelta(days=30)
MAX_TRANSITIONS = 1_000_000  # a journal bigger than this over one period is a flood beyond any report's use


class AnalyticsService:
    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, clock: Clock) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock

    def compute(self, actor: Principal, request: AnalyticsRequest) -> FleetAnalytics:
        """Totals per device, figures per device and day, anomalies and summary statistics for `request`."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "analytics")
        if request.buy_prices is not None or request.sell_prices is not None:
            self.authorizer.require(actor, Permission.VIEW_FINANCIALS, "analytics")
        period = request.period
        now = self.clock.now()
        with self.db.engine.connect() as conn:
            groups = device_groups(conn, request)
            ids = list(groups)
            daily = daily_energy_and_soc(conn, period, ids)
            soh = daily_soh(conn, period, ids)
            minutes = available_minutes(conn, period, ids, now)
            adherence = schedule_adherence(conn, period, ids)
            alarms = alarm_activations(conn, period, ids)
            cost, revenue, unpriced = {}, {}, 0.0
            if request.buy_prices is not None:
                cost, out_buy = priced_energy(conn, period, ids, request.buy_prices, "energy_charged_kwh")
                revenue, out_sell = priced_energy(conn, period, ids, request.revenue_prices, "energy_discharged_kwh")
                unpriced = out_buy + out_sell
        days = _device_days(period, daily, soh)
        total_minutes = period_minutes(period, now)
        per_device: dict[str, list[DeviceDay]] = defaultdict(list)
        for d in days:
            per_device[d.device_id].append(d)
        priced = request.buy_prices is not None
        totals = []
        for device_id, group in groups.items():
            mine = per_device.get(device_id, [])
            socs = [d for d in mine if d.soc_avg_pct is not None]
            sohs = [d.soh_avg_pct for d in mine if d.soh_avg_pct is not None]
            entries, ok = adherence.get(device_id, (0, 0))
            totals.append(DeviceTotals(
                device_id=device_id, group=group,
                charged_kwh=sum(d.charged_kwh for d in mine), discharged_kwh=sum(d.discharged_kwh for d in mine),
                cost=cost.get(device_id, 0.0) if priced else None, revenue=revenue.get(device_id, 0.0) if priced else None,
                availability_pct=100.0 * minutes.get(device_id, 0) / total_minutes if total_minutes else 0.0,
                soc_min_pct=min((d.soc_min_pct for d in socs if d.soc_min_pct is not None), default=None),
                soc_avg_pct=sum(d.soc_avg_pct for d in socs) / len(socs) if socs else None,  # days weigh equally
                soc_max_pct=max((d.soc_max_pct for d in socs if d.soc_max_pct is not None), default=None),
                soh_first_pct=sohs[0] if sohs else None, soh_last_pct=sohs[-1] if sohs else None,
                schedule_entries=entries, schedule_entries_ok=ok, alarm_activations=alarms.get(device_id, 0),
            ))
        currency = request.buy_prices.currency if request.buy_prices is not None else "EUR"
        notes = []
        if not priced:
            notes.append("no price series given: cost and revenue are not computed")
        elif unpriced > 0:
            notes.append(f"{unpriced:,.1f} kWh fell outside the price series and is not priced")
        return FleetAnalytics(request, now, tuple(totals), tuple(days), tuple(daily_energy_anomalies(days)),
                              summary_statistics(totals, currency), currency, unpriced, tuple(notes))

    def fleet_state(self, actor: Principal, request: AnalyticsRequest) -> list[DeviceState]:
        """Every device in scope as it stood at the end of the period (or now, if that is earlier)."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "analytics")
        at = min(request.period.end, self.clock.now())
        with self.db.engine.connect() as conn:
            return fleet_state_at(conn, device_groups(conn, request), at)

    def battery_systems(self, actor: Principal, request: AnalyticsRequest) -> list[BatterySystemCells]:
        """Every battery system in scope with its newest pack readings and active alarms at the end of the
        period (or now, if that is earlier)."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "analytics")
        at = min(request.period.end, self.clock.now())
        with self.db.engine.connect() as conn:
            ids = list(device_groups(conn, request))
            names = dict(conn.execute(select(DeviceRow.device_id, DeviceRow.name)
                                      .where(in_scope(DeviceRow.device_id, ids))).all())
        return battery_systems_at(self.db, {d: names.get(d, d) for d in ids}, at)

    def executed_entries(self, actor: Principal, request: AnalyticsRequest) -> list[ExecutedEntry]:
        """Schedule entries starting in the period, planned against acknowledged."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "schedules")
        with self.db.engine.connect() as conn:
            return executed_entries(conn, request.period, list(device_groups(conn, request)), self.clock.now())

    def alarm_load(self, actor: Principal, period: Period, operators: int = 1) -> AlarmLoadReport:
        """EEMUA 191 figures of the alarm journal over the period (standing alarms looked for up to
        STANDING_LOOKBACK before it)."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "alarms")
        flt = AlarmHistoryFilter(since=period.start - STANDING_LOOKBACK, until=period.end, limit=MAX_TRANSITIONS)
        transitions = SqlAlarmStore(self.db).history(flt)
        return compute_alarm_load(transitions, period.start, period.end, operators)

    def record_export(self, actor: Principal, report: str, path: str, fmt: str, period: Period | None,
                      rows: int, result: AuditResult = AuditResult.SUCCESS, error: str = "") -> None:
        """Audit one report export (the file's path is the resource)."""
        self.authorizer.require(actor, Permission.EXPORT_REPORTS, f"report:{report}")
        detail = {"report": report, "format": fmt, "rows": rows}
        if period is not None:
            detail |= {"period_start": period.start.isoformat(), "period_end": period.end.isoformat()}
        if error:
            detail["error"] = error
        with self.db.session() as s:
            self.audit.append(s, actor, "report.export", path, result, detail)


def _device_days(period: Period, daily: dict, soh: dict) -> list[DeviceDay]:
    """One DeviceDay per (device, day) that has energy/SoC rollups or a SoH reading, by device then day."""
    out = []
    for device_id, day in sorted(set(daily) | set(soh)):
        e = daily.get((device_id, day), {})
        out.append(DeviceDay(device_id, day, e.get("charged_kwh", 0.0), e.get("discharged_kwh", 0.0),
                             e.get("soc_min_pct"), e.get("soc_avg_pct"), e.get("soc_max_pct"), soh.get((device_id, day))))
    return out
