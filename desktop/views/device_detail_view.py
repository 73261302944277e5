"""Device detail: who the device is, its next 24 h of schedule (placeholder), live and historical trends of
SoC, power, voltage and temperature, manual commands, recent commands and an error log.

Data rate and paint rate are separate: a 1 s tick copies the device's newest sample into the charts' ring
buffers; each chart paints on its own timer (<= 30 Hz) and only when its buffer moved. History comes from
the telemetry rollups, loaded off the GUI thread.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QComboBox, QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
                               QPlainTextEdit, QTableView, QVBoxLayout, QWidget)

from core.auth.principal import Principal
from core.fleet.context import FleetContext
from core.fleet.live_state import AvailabilityCode
from core.runtime.runtime import Runtime
from desktop.actions import ActionRegistry, ActionSpec
from desktop.models.command_history_model import BAD, CommandHistoryModel
from desktop.models.device_directory import DeviceDirectory, DeviceMeta
from desktop.models.fleet_table_model import MODE_WORDS, STATUS_WORDS, relative_age
from desktop.tasks import UiTasks, call_core
from desktop.views.device_command_panel import DeviceCommandPanel
from desktop.widgets.summary_card import SummaryCard
from desktop.widgets.trend_chart import TrendChart

TRENDS = (("soc_pct", "State of charge", "%"), ("power_kw", "Power (+ discharge)", "kW"),
          ("voltage_v", "Voltage", "V"), ("temp_c", "Temperature", "°C"))
RANGES = (("Live only", None), ("Last hour", timedelta(hours=1)), ("Last 24 h", timedelta(hours=24)),
          ("Last 7 days", timedelta(days=7)))
SCHEDULE_PLACEHOLDER = "Next 24 h schedule: no schedule entries to show yet — schedules appear here once the " \
                       "scheduling module is connected."
NOTHING_SHOWN = "Choose a device in the Fleet view (double-click or Enter) to see its details."


def _card(title: str, *widgets: QWidget) -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 8, 10, 8)
    heading = QLabel(title)
    heading.setObjectName("cardTitle")
    layout.addWidget(heading)
    for widget in widgets:
        layout.addWidget(widget)
    return frame


class DeviceDetailView(QWidget):
    def __init__(self, fleet: FleetContext, runtime: Runtime, principal: Principal, *,
                 now: Callable[[], float] = time.time, tick_ms: int = 1000, parent: QWidget | None = None,
                 schedule_of: Callable[[str], tuple] | None = None) -> None:
        """schedule_of(device_id) -> (active ScheduleRecord or None, execution log): blocking, run off the GUI thread."""
        super().__init__(parent)
        self._schedule_of = schedule_of
        self.fleet = fleet
        self._now = now
        self.tasks = UiTasks()
        self.directory = DeviceDirectory(fleet.live_state, fleet.device_info)
        self.device_id = ""
        self.meta: DeviceMeta | None = None
        self._last_seen = math.nan
        self._last_availability: int | None = None
        self.history_error = ""

        self.heading = QLabel(NOTHING_SHOWN)
        self.heading.setObjectName("viewTitle")
        self.info = SummaryCard("Device", ["Id", "Name", "Site", "Kind", "Capacity", "Status", "Mode", "Last seen"])
        self.schedule = QLabel(SCHEDULE_PLACEHOLDER)
        self.schedule.setObjectName("muted")
        self.schedule.setWordWrap(True)
        self.commands = DeviceCommandPanel(runtime, principal, self._device_state)
        self.commands.command_finished.connect(lambda _o: self.refresh_logs())
        self.range = QComboBox()
        for label, _ in RANGES:
            self.range.addItem(label)
        self.range.currentIndexChanged.connect(lambda _i: self.tasks.start(self.load_history()))
        self.history_note = QLabel("")
        self.history_note.setObjectName("muted")
        self.charts = {key: TrendChart(title, unit) for key, title, unit in TRENDS}
        self.history_model = CommandHistoryModel(self)
        self.history_table = QTableView()
        self.history_table.setModel(self.history_model)
        self.history_table.verticalHeader().hide()
        self.history_table.horizontalHeader().setStretchLastSection(True)
        self.history_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.error_log = QPlainTextEdit()
        self.error_log.setReadOnly(True)
        self.error_log.setMaximumBlockCount(500)
        self.error_log.setPlaceholderText("No errors: offline periods and failed or refused commands are listed here.")

        left = QVBoxLayout()
        left.addWidget(self.info)
        left.addWidget(_card("Schedule", self.schedule))
        left.addWidget(_card("Manual command", self.commands))
        left.addWidget(_card("Recent commands", self.history_table), 1)
        left.addWidget(_card("Error log", self.error_log), 1)
        range_row = QHBoxLayout()
        range_row.addWidget(QLabel("History"))
        range_row.addWidget(self.range)
        range_row.addWidget(self.history_note, 1)
        charts = QGridLayout()
        for i, chart in enumerate(self.charts.values()):
            charts.addWidget(chart, i // 2, i % 2)
        right = QVBoxLayout()
        right.addLayout(range_row)
        right.addLayout(charts, 1)
        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(body, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    # -- actions (registry) -----------------------------------------------------------------------
    def action_specs(self) -> list[ActionSpec]:
        return self.commands.action_specs()

    def use_actions(self, registry: ActionRegistry) -> None:
        self.commands.use_actions(registry)

    # -- which device ---------------------------------------------------------------------------
    def show_device(self, device_id: str) -> None:
        self.tasks.start(self.load_device(device_id))

    async def load_device(self, device_id: str) -> None:
        """Switch to a device: metadata off the GUI thread, fresh trends, history for the chosen range."""
        if device_id == self.device_id:
            return
        self.device_id = device_id
        self._last_seen, self._last_availability = math.nan, None
        for chart in self.charts.values():
            chart.clear()
        self.error_log.clear()
        self.meta = meta = await call_core(self.directory.describe, device_id)
        self.heading.setText(f"{device_id}" + (f" — {meta.name}" if meta.name else ""))
        capacity = f"{meta.capacity_kwh:g} kWh" if math.isfinite(meta.capacity_kwh) else "—"
        for row, value in (("Id", device_id), ("Name", meta.name or "—"), ("Kind", meta.kind or "—"),
                           ("Site", " · ".join(p for p in (meta.site, meta.location) if p) or "—"),
                           ("Capacity", capacity)):
            self.info.set_value(row, value)
        self.commands.show_device(meta)
        self.tick()
        self.refresh_logs()
        await self.load_schedule()
        await self.load_history()

    async def load_schedule(self) -> None:
        """The active schedule version and the last executed entries of the shown device."""
        if self._schedule_of is None or not self.device_id:
            return
        device_id = self.device_id
        try:
            active, log = await call_core(self._schedule_of, device_id)
        except Exception as exc:  # storage unreachable: say so, keep the rest of the view
            self.schedule.setText(f"Schedule could not be loaded: {exc}")
            return
        if device_id != self.device_id:
            return
        self.schedule.setText(schedule_summary(active, log))

    def _device_state(self) -> tuple[bool, bool]:
        snap_row = self.fleet.live_state.row_of(self.device_id) if self.device_id else None
        if snap_row is None:
            return False, False
        snap = self.fleet.live_state.snapshot()
        return snap.availability[snap_row] == AvailabilityCode.ONLINE, int(snap.mode[snap_row]) == 3

    # -- live -----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Copy the device's newest sample into the trend buffers (only when it is new) and the status rows."""
        row = self.fleet.live_state.row_of(self.device_id) if self.device_id else None
        if row is None:
            return
        snap = self.fleet.live_state.snapshot()
        seen, availability = float(snap.last_seen[row]), int(snap.availability[row])
        if math.isfinite(seen) and not seen <= self._last_seen:  # NaN-safe: only newer samples are plotted
            for key, chart in self.charts.items():
                chart.append("live", seen, float(getattr(snap, key)[row]))
            self._last_seen = seen
        status = STATUS_WORDS[AvailabilityCode(availability)]
        self.info.set_value("Status", status, "" if availability == AvailabilityCode.ONLINE else "font-weight: bold;")
        self.info.set_value("Mode", MODE_WORDS.get(int(snap.mode[row]), "—") if math.isfinite(seen) else "—")
        self.info.set_value("Last seen", "never" if not math.isfinite(seen) else
                            f"{datetime.fromtimestamp(seen).strftime('%H:%M:%S')} ({relative_age(self._now() - seen)})")
        if availability != self._last_availability:
            if self._last_availability is not None and availability != AvailabilityCode.ONLINE:
                reason = self.fleet.live_state.offline_reason(self.device_id)
                self.log(f"{self.device_id} is {status}" + (f": {reason}" if reason else ""))
            self._last_availability = availability

    def log(self, text: str) -> None:
        self.error_log.appendPlainText(f"{datetime.now().strftime('%Y-%m-%d %H:%M:%S')}  {text}")

    # -- history and logs -----------------------------------------------------------------------
    async def load_history(self) -> None:
        span = RANGES[self.range.currentIndex()][1]
        if not self.device_id or span is None:
            for chart in self.charts.values():
                chart.set_history(None)
            self.history_note.setText("live values since this device was opened")
            return
        if self.fleet.history is None:
            self.history_note.setText("history is not available on this workstation (storage not connected)")
            return
        end = datetime.fromtimestamp(self._now(), timezone.utc)
        device_id = self.device_id
        self.history_note.setText("loading…")
        try:
            series = await call_core(_load_all, self.fleet.history, device_id, end - span, end)
        except Exception as exc:  # storage unreachable or a query it cannot answer: say so, keep live trends
            self.history_error = str(exc)
            self.history_note.setText(f"history could not be loaded: {exc}")
            return
        if device_id != self.device_id:
            return  # the operator moved on while it loaded
        for key, chart in self.charts.items():
            chart.set_history(series.get(key))
            chart.plot.getPlotItem().setXRange((end - span).timestamp(), end.timestamp(), padding=0.01)
        points = max((len(s[0]) for s in series.values()), default=0)
        self.history_note.setText(f"{RANGES[self.range.currentIndex()][0].lower()}: {points} points per metric")

    def refresh_logs(self) -> None:
        if not self.device_id:
            return
        outcomes = self.fleet.command_history.recent(self.device_id)
        shown = {o.command_id for o in self.history_model.outcomes}
        for outcome in reversed(outcomes):
            if outcome.command_id not in shown and outcome.status in BAD:
                self.log(f"{outcome.command.describe()} {outcome.status.value}: {outcome.message}")
        self.history_model.set_outcomes(outcomes)


def schedule_summary(active, log, executed_shown: int = 5) -> str:
    """Plain text for the schedule card: the active version with its entries, then the newest executed entries."""
    lines = []
    if active is None:
        lines.append("No active schedule.")
    else:
        lines.append(f"Active: {active.schedule_id} version {active.version} ({active.state}, {active.schedule.target})")
        for e in active.entries[:4]:
            lines.append(f"  {e.start:%m-%d %H:%M}–{e.end:%H:%M} UTC {MODE_WORDS.get(int(e.mode), e.mode)} {e.rate_kw:g} kW")
        if len(active.entries) > 4:
            lines.append(f"  … {len(active.entries) - 4} more")
    if log:
        lines.append("Executed (newest first):")
        for item in log[:executed_shown]:
            ack = item.ack
            outcome = "ok" if ack.ok else f"failed: {ack.error}"
            running = "" if ack.ended_at is not None else ", running"
            lines.append(f"  v{ack.version} entry {ack.entry + 1} at {ack.started_at:%m-%d %H:%M} UTC: "
                         f"{ack.actual_rate_kw:g} kW, {outcome}{running}")
    else:
        lines.append("No executed entries yet.")
    return "\n".join(lines)


def _load_all(history, device_id: str, start: datetime, end: datetime) -> dict:
    """Blocking: each metric's (t, min, avg, max). Accepts a History-like object or a 4-tuple."""
    out = {}
    for key, _title, _unit in TRENDS:
        result = history(device_id, key, start, end)
        out[key] = (result.t_s, result.min, result.avg, result.max) if hasattr(result, "t_s") else tuple(result)
    return out
