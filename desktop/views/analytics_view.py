"""Fleet analytics (issue #7): pick a period and devices, see daily energy and SoC charts, summary statistics,
per-device totals and flagged anomalies; export the analytics report as PDF, CSV or JSON.

Queries and exports run in a worker thread (desktop.tasks.call_core); the newest request wins, so a slow
query finishing late never overwrites a newer one. The same loaders as `gridroom report analytics` write the
files, so an export from here and from the CLI are the same document.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone
from PySide6.QtWidgets import (
    QComboBox, QDateEdit, QDateTimeEdit, QFileDialog, QHBoxLayout, QLabel,
    QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget,
)

from core.analytics import AnalyticsRequest, AnalyticsService, FleetAnalytics, Period
from core.analytics.period import local_zone
from core.auth.principal import Principal
from core.errors import GridRoomError
from core.services import CoreServices
from core.settings import analytics_price_series
from desktop.tasks import UiTasks, call_core, run_dialog
from desktop.theme import BORDER, PANEL, TEXT_MUTED, Abnormal, abnormal
from desktop.views.analytics_models import AnomaliesModel, DeviceTotalsModel, SummaryStatisticsModel
from desktop.widgets.message_area import MessageArea
from desktop.widgets.record_table import record_table
from reports.loaders import ReportRequest, export_report

PERIOD_KINDS = (("Day", "day"), ("Week", "week"), ("Month", "month"), ("Custom", "custom"))
CHARGED_BRUSH = pg.mkBrush("#4a4a4a")  # grey bars: colour is kept for what needs attention
DISCHARGED_BRUSH = pg.mkBrush("#9a9a9a")
SOC_PEN = pg.mkPen("#303030", width=1.5)
SOC_BAND = pg.mkBrush(150, 150, 150, 70)
SOC_EDGE = pg.mkPen("#8a8a8a", width=1)


def system_zone() -> str:
    """The workstation's IANA zone (the period's days are its local days), UTC when Qt cannot tell."""
    name = bytes(QTimeZone.systemTimeZoneId().data()).decode() if QTimeZone.systemTimeZoneId() else ""
    try:
        Period.day(date(2026, 1, 1), name)
        return name
    except GridRoomError:
        return "UTC"


def _chart(title: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
    plot.setBackground(PANEL)
    plot.setTitle(title, color=TEXT_MUTED, size="10pt")
    item = plot.getPlotItem()
    for axis in ("left", "bottom"):
        item.getAxis(axis).setPen(pg.mkPen(BORDER))
        item.getAxis(axis).setTextPen(pg.mkPen(TEXT_MUTED))
    item.getAxis("left").setWidth(48)  # the unit is in the title: an axis label would overlap the numbers
    item.showGrid(x=False, y=True, alpha=0.25)
    item.setMouseEnabled(x=True, y=False)
    plot.setMinimumHeight(200)
    return plot


def _day_start_s(day: date, zone: str) -> float:
    return Period.day(day, zone).start.timestamp()


class AnalyticsView(QWidget):
    def __init__(self, services: CoreServices, principal: Principal, zone: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._principal = principal
        self.zone = zone or system_zone()
        # Cost and revenue come from the stored day-ahead prices; the settings name the zone when several are stored.
        self.analytics = AnalyticsService(services.db, services.audit, services.authorizer, services.clock,
                                          analytics_price_series())
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.result: FleetAnalytics | None = None
        self.energy_unit = "kWh"
        self._generation = 0  # the newest query; older answers are dropped

        self.kind_combo = QComboBox()
        for label, value in PERIOD_KINDS:
            self.kind_combo.addItem(label, value)
        anchor = services.clock.now().astimezone(timezone.utc).date() - timedelta(days=1)  # the last whole day
        self.day_edit = QDateEdit(QDate(anchor.year, anchor.month, anchor.day))
        self.day_edit.setDisplayFormat("yyyy-MM-dd")
        self.day_edit.setCalendarPopup(True)
        self.from_edit = self._time_edit(datetime.combine(anchor, time(0)))
        self.to_edit = self._time_edit(datetime.combine(anchor + timedelta(days=1), time(0)))
        self.scope_combo = QComboBox()
        self.scope_combo.addItem("Whole fleet", "all:")  # item data "kind:name" (Qt compares strings, not tuples)
        self.scope_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = QPushButton("Refresh")
        self.export_buttons = {fmt: QPushButton(f"Export {fmt.upper()}…") for fmt in ("pdf", "csv", "json")}
        self.period_label = QLabel()
        self.period_label.setObjectName("muted")

        self.energy_chart = _chart("Daily energy (charged dark, discharged light)")
        self.soc_chart = _chart("State of charge (%), fleet daily min / mean / max")
        self.soc_chart.getPlotItem().setYRange(0, 100)
        self.anomaly_points = pg.ScatterPlotItem(size=11, symbol="t", brush=pg.mkBrush(abnormal(Abnormal.WARNING).background),
                                                 pen=pg.mkPen("#1f1f1f"))
        self.summary_model = SummaryStatisticsModel(self)
        self.devices_model = DeviceTotalsModel(self)
        self.anomalies_model = AnomaliesModel(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(record_table(self.summary_model), "Summary statistics")
        self.tabs.addTab(record_table(self.devices_model), "Devices")
        self.tabs.addTab(record_table(self.anomalies_model), "Anomalies")
        self.message = MessageArea()
        self.notes_label = QLabel()
        self.notes_label.setObjectName("muted")
        self.notes_label.setWordWrap(True)

        title = QLabel("Analytics")
        title.setObjectName("viewTitle")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Period:"))
        for widget in (self.kind_combo, self.day_edit, self.from_edit, self.to_edit):
            controls.addWidget(widget)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Devices:"))
        controls.addWidget(self.scope_combo)
        controls.addWidget(self.refresh_button)
        controls.addStretch(1)
        for button in self.export_buttons.values():
            controls.addWidget(button)
        charts = QSplitter(Qt.Orientation.Horizontal)
        charts.addWidget(self.energy_chart)
        charts.addWidget(self.soc_chart)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(charts)
        body.addWidget(self.tabs)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(controls)
        layout.addWidget(self.period_label)
        layout.addWidget(self.message)
        layout.addWidget(body, 1)
        layout.addWidget(self.notes_label)

        self.kind_combo.currentIndexChanged.connect(self._on_kind_change)
        self.refresh_button.clicked.connect(self.request_refresh)
        for fmt, button in self.export_buttons.items():
            button.clicked.connect(lambda _=False, f=fmt: self.tasks.start(self.export_interactive(f)))
        self._on_kind_change()

    @staticmethod
    def _time_edit(value: datetime) -> QDateTimeEdit:
        edit = QDateTimeEdit(QDateTime(QDate(value.year, value.month, value.day), QTime(value.hour, value.minute)))
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        edit.setCalendarPopup(True)
        return edit

    # -- choosing --------------------------------------------------------------------------------
    def _on_kind_change(self) -> None:
        custom = self.kind_combo.currentData() == "custom"
        self.day_edit.setVisible(not custom)
        self.from_edit.setVisible(custom)
        self.to_edit.setVisible(custom)

    def set_period(self, kind: str, day: date) -> None:
        """Choose a day/week/month period by a day in it (tests, and remembering the last choice)."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
        self.day_edit.setDate(QDate(day.year, day.month, day.day))

    def set_custom_period(self, start: datetime, end: datetime) -> None:
        """Choose a custom range; the editors show it in the view's zone."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData("custom"))
        z = local_zone(self.zone)
        for edit, value in ((self.from_edit, start), (self.to_edit, end)):
            local = value.astimezone(z)
            edit.setDateTime(QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute)))

    def current_period(self) -> Period:
        kind = self.kind_combo.currentData()
        d = self.day_edit.date()
        day = date(d.year(), d.month(), d.day())
        if kind == "day":
            return Period.day(day, self.zone)
        if kind == "week":
            return Period.week(day, self.zone)
        if kind == "month":
            return Period.month(day.year, day.month, self.zone)
        z = local_zone(self.zone)

        def instant(edit: QDateTimeEdit) -> datetime:
            q = edit.dateTime()
            return datetime(q.date().year(), q.date().month(), q.date().day(), q.time().hour(), q.time().minute(),
                            tzinfo=z)
        return Period.custom(instant(self.from_edit), instant(self.to_edit), self.zone)

    def current_scope(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(device ids, groups) of the device filter."""
        kind, _, name = (self.scope_combo.currentData() or "all:").partition(":")
        return ((name,), ()) if kind == "device" else ((), (name,)) if kind == "group" else ((), ())

    def select_scope(self, kind: str, name: str) -> None:
        self.scope_combo.setCurrentIndex(self.scope_combo.findData(f"{kind}:{name}"))

    # -- querying ----------------------------------------------------------------------------------
    def request_refresh(self) -> None:
        self.tasks.start(self.refresh())

    async def refresh(self) -> FleetAnalytics | None:
        try:
            period = self.current_period()
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return None
        device_ids, groups = self.current_scope()
        self._generation += 1
        mine = self._generation
        self.refresh_button.setEnabled(False)
        try:
            result = await call_core(self.analytics.compute, self._principal, AnalyticsRequest(period, device_ids, groups))
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return None
        finally:
            self.refresh_button.setEnabled(True)
        if mine != self._generation:
            return None  # a newer request is on its way
        self.message.clear_message()
        self.show_result(result)
        return result

    def show_result(self, result: FleetAnalytics) -> None:
        self.result = result
        if not (result.request.device_ids or result.request.groups):
            self._update_scopes(result)
        self.summary_model.set_records(result.statistics)
        self.devices_model.set_records(result.devices)
        self.anomalies_model.set_records(result.anomalies)
        self.tabs.setTabText(2, f"Anomalies ({len(result.anomalies)})")
        state = "" if result.has_data else " — no data in this period"
        self.period_label.setText(f"{result.period.label()} ({result.period.zone}), {len(result.devices)} devices{state}")
        self.notes_label.setText(" ".join(f"{n[0].upper()}{n[1:]}." for n in result.notes))
        self._draw_energy(result)
        self._draw_soc(result)

    def _update_scopes(self, result: FleetAnalytics) -> None:
        wanted = [("all", "")] + [("group", g) for g in sorted({d.group for d in result.devices})] + \
                 [("device", d.device_id) for d in result.devices]
        known = [self.scope_combo.itemData(i) for i in range(self.scope_combo.count())]
        if known == [f"{kind}:{name}" for kind, name in wanted]:
            return
        current = self.scope_combo.currentData()
        self.scope_combo.blockSignals(True)  # rebuilding the list is not a choice
        self.scope_combo.clear()
        for kind, name in wanted:
            self.scope_combo.addItem("Whole fleet" if kind == "all" else f"{kind.title()}: {name}", f"{kind}:{name}")
        self.scope_combo.setCurrentIndex(max(self.scope_combo.findData(current), 0))
        self.scope_combo.blockSignals(False)

    def _draw_energy(self, result: FleetAnalytics) -> None:
        plot = self.energy_chart.getPlotItem()
        plot.clear()
        daily = result.fleet_daily()
        if not daily:
            return
        x = np.array([_day_start_s(day, result.period.zone) for day, _, _ in daily]) + 43_200  # bars at midday
        width = 86_400 * 0.38
        # Fleets move MWh; a single small device moves kWh that would read as 0.0x MWh.
        peak = max(max(c, d) for _, c, d in daily)
        scale, unit = (1000.0, "MWh") if peak >= 10_000 else (1.0, "kWh")
        self.energy_chart.setTitle(f"Daily energy, {unit} (charged dark, discharged light)", color=TEXT_MUTED, size="10pt")
        self.energy_unit = unit
        charged = np.array([c for _, c, _ in daily]) / scale
        discharged = np.array([d for _, _, d in daily]) / scale
        plot.addItem(pg.BarGraphItem(x=x - width / 2, height=charged, width=width, brush=CHARGED_BRUSH, pen=None))
        plot.addItem(pg.BarGraphItem(x=x + width / 2, height=discharged, width=width, brush=DISCHARGED_BRUSH, pen=None))
        if result.anomalies:
            # A marker above the day of each anomaly, so the chart points at what the list explains.
            top = float(max(charged.max(initial=0), discharged.max(initial=0))) or 1.0
            xs = [_day_start_s(a.day, result.period.zone) + 43_200 for a in result.anomalies]
            self.anomaly_points.setData(x=xs, y=[top * 1.08] * len(xs))
            plot.addItem(self.anomaly_points)
        plot.setXRange(x[0] - 86_400 * 0.6, x[-1] + 86_400 * 0.6, padding=0)
        plot.enableAutoRange(axis="y")

    def _draw_soc(self, result: FleetAnalytics) -> None:
        plot = self.soc_chart.getPlotItem()
        plot.clear()
        by_day: dict[date, list] = {}
        for d in result.days:
            if d.soc_avg_pct is not None:
                by_day.setdefault(d.day, []).append(d)
        if not by_day:
            return
        days = sorted(by_day)
        x = np.array([_day_start_s(day, result.period.zone) + 43_200 for day in days])
        lo = np.array([min(d.soc_min_pct for d in by_day[day]) for day in days])
        hi = np.array([max(d.soc_max_pct for d in by_day[day]) for day in days])
        mean = np.array([sum(d.soc_avg_pct for d in by_day[day]) / len(by_day[day]) for day in days])
        lower, upper = pg.PlotCurveItem(x, lo, pen=SOC_EDGE), pg.PlotCurveItem(x, hi, pen=SOC_EDGE)
        plot.addItem(lower)
        plot.addItem(upper)
        plot.addItem(pg.FillBetweenItem(lower, upper, brush=SOC_BAND))
        plot.plot(x, mean, pen=SOC_PEN, symbol="o", symbolSize=5, symbolBrush="#303030", symbolPen=None)
        plot.setXRange(x[0] - 86_400 * 0.6, x[-1] + 86_400 * 0.6, padding=0)
        plot.setYRange(0, 100)

    # -- exporting ---------------------------------------------------------------------------------
    async def export(self, path: str | Path) -> bool:
        """Write the analytics report for the chosen period and devices (audited by the loader)."""
        try:
            period = self.current_period()
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return False
        device_ids, groups = self.current_scope()
        request = ReportRequest(period, device_ids, groups)
        try:
            exported = await call_core(export_report, self._services, self._principal, "analytics", request, path)
        except (GridRoomError, OSError, ValueError) as exc:
            self.message.show_error(f"Export failed: {exc}")
            return False
        state = "empty: no data in this period" if exported.rows == 0 else f"{exported.rows} devices"
        self.message.show_info(f"Exported the analytics report ({state}) to {exported.path}")
        return True

    async def export_interactive(self, fmt: str) -> None:
        dialog = QFileDialog(self, f"Export analytics as {fmt.upper()}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(f"{fmt.upper()} files (*.{fmt})")
        dialog.setDefaultSuffix(fmt)
        try:
            label = self.current_period().label().replace(" ", "_").replace(":", "")
        except GridRoomError:
            label = "period"
        dialog.selectFile(f"gridroom-analytics-{label}.{fmt}")
        if await run_dialog(dialog) and dialog.selectedFiles():
            await self.export(dialog.selectedFiles()[0])
