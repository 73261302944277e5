"""Table models of the analytics view: summary statistics, per-device totals, anomalies (one query result each,
replaced whole on refresh)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from core.analytics import Anomaly, DeviceTotals, SummaryStatistic
from desktop.models.record_table_model import RecordTableModel
from desktop.theme import Abnormal, abnormal

RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _number(value: float | None, decimals: int = 1) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


class SummaryStatisticsModel(RecordTableModel[SummaryStatistic]):
    columns = ("Metric", "Unit", "Devices", "Total", "Mean", "Median", "Min", "Max")

    def cell(self, s: SummaryStatistic, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 2:
            return RIGHT
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        values = (s.metric, s.unit, str(s.devices), _number(s.total), _number(s.mean), _number(s.median),
                  _number(s.minimum), _number(s.maximum))
        return values[column]


class DeviceTotalsModel(RecordTableModel[DeviceTotals]):
    columns = ("Device", "Group", "Charged (kWh)", "Discharged (kWh)", "Cost", "Revenue", "Availability (%)",
               "SoC avg (%)", "SoH (%)", "Adherence (%)", "Alarms")
    availability_warn_pct = 95.0

    def cell(self, d: DeviceTotals, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 2:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column == 6 and d.availability_pct < self.availability_warn_pct:
            return QColor(abnormal(Abnormal.WARNING).ink)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        values = (d.device_id, d.group, _number(d.charged_kwh), _number(d.discharged_kwh), _number(d.cost, 2),
                  _number(d.revenue, 2), _number(d.availability_pct), _number(d.soc_avg_pct), _number(d.soh_last_pct),
                  _number(d.adherence_pct, 0), str(d.alarm_activations))
        return values[column]


class AnomaliesModel(RecordTableModel[Anomaly]):
    columns = ("Device", "Day", "Throughput (kWh)", "Robust z", "Reason")

    def cell(self, a: Anomaly, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3):
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column == 3:
            return QColor(abnormal(Abnormal.WARNING).ink)
        if role == Qt.ItemDataRole.ToolTipRole:
            return a.reason
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        values = (a.device_id, a.day.isoformat(), _number(a.value), f"{a.robust_z:+.1f}", a.reason)
        return values[column]
