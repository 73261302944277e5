"""AnalyticsService: the one entry point for fleet analytics and report exports, with permissions and audit.

Reading analytics needs VIEW_HISTORY; money figures (a price series given) need VIEW_FINANCIALS as well
(viewers see energy, not cost). Without explicit prices, the stored day-ahead prices are read for callers
allowed to see money (core.analytics.stored_prices); others get energy only, as before.
Exports are audited ("report.export"), as the brief asks of every export.
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
from core.analytics.model import AnalyticsRequest, DeviceDay, DeviceTotals, FleetAnalytics, PriceSeries
from core.analytics.period import Period
from core.analytics.rollup_queries import available_minutes, daily_energy_and_soc, period_minutes, priced_energy
from core.analytics.soh_trend import daily_soh
from core.analytics.stored_prices import (
    StoredPrices, choose_price_series, load_stored_prices, missing_prices_note, stored_price_series,
)
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
    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, clock: Clock,
                 default_price_series: str | None = None) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock
        self.default_price_series = default_price_series  # which stored zone prices analytics when several are

    def compute(self, actor: Principal, request: AnalyticsRequest) -> FleetAnalytics:
        """Totals per device, figures per device and day, anomalies and summary statistics for `request`."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "analytics")
        explicit = request.buy_prices is not None or request.sell_prices is not None
        if explicit or request.price_series is not None:
            self.authorizer.require(actor, Permission.VIEW_FINANCIALS, "analytics")
        period = request.period
        now = self.clock.now()
        buy, sell = request.buy_prices, request.revenue_prices
        stored: StoredPrices | None = None
        price_notes: list[str] = []
        use_stored = not explicit and request.stored_prices
        # Asked before the read connection opens (the check has its own session: SQLite would lock).
        if use_stored and not self.authorizer.allowed(actor, Permission.VIEW_FINANCIALS):
            use_stored = False
            price_notes = ["cost and revenue are not shown: this role may not view financial figures"]
        with self.db.engine.connect() as conn:
            groups = device_groups(conn, request)
            ids = list(groups)
            if use_stored:
                stored, price_notes = self._stored_prices(conn, request)
                if stored is not None:
                    buy = sell = stored.prices
            daily = daily_energy_and_soc(conn, period, ids)
            soh = daily_soh(conn, period, ids)
            minutes = available_minutes(conn, period, ids, now)
            adherence = schedule_adherence(conn, period, ids)
            alarms = alarm_activations(conn, period, ids)
            cost, revenue, unpriced = {}, {}, 0.0
            if buy is not None:
                cost, out_buy = priced_energy(conn, period, ids, buy, "energy_charged_kwh")
                revenue, out_sell = priced_energy(conn, period, ids, sell, "energy_discharged_kwh")
                unpriced = out_buy + out_sell
        days = _device_days(period, daily, soh)
        total_minutes = period_minutes(period, now)
        per_device: dict[str, list[DeviceDay]] = defaultdict(list)
        for d in days:
            per_device[d.device_id].append(d)
        priced = buy is not None
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
        currency = buy.currency if buy is not None else "EUR"
        notes = list(price_notes)
        if not priced and not price_notes:
            notes.append("no price series given: cost and revenue are not computed")
        elif priced and unpriced > 0:
            notes.append(f"{unpriced:,.1f} kWh fell outside the price series and is not priced")
        return FleetAnalytics(request, now, tuple(totals), tuple(days), tuple(daily_energy_anomalies(days)),
                              summary_statistics(totals, currency), currency, unpriced, tuple(notes), priced,
                              stored.series_key if stored is not None else None)

    def _stored_prices(self, conn, request: AnalyticsRequest) -> tuple[StoredPrices | None, list[str]]:
        """The stored day-ahead prices for the request's period and the notes saying what was used and what
        is missing; (None, notes) when no price of the chosen series falls in the period."""
        period = request.period
        key = choose_price_series(stored_price_series(conn), request.price_series, self.default_price_series)
        if key is None:
            return None, []
        stored = load_stored_prices(conn, period, key)
        if stored.covers_nothing:
            return None, [f"no stored day-ahead price in {key!r} for this period: cost and revenue are not computed"]
        units = ", ".join(stored.stored_units)
        notes = [f"cost and revenue use the stored day-ahead price series {key!r} "
                 f"({units} converted to {stored.prices.currency}/kWh, {_step_text(stored.prices)} steps)"]
        gap = missing_prices_note(stored, period)
        if gap:
            notes.append(gap)
        return stored, notes

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


def _step_text(prices: PriceSeries) -> str:
    minutes = int(prices.step.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
