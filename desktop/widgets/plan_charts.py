"""The optimization result as four linked charts: price band (P10/P50/P90), planned power, SoC trajectory,
and current vs proposed power. Epoch seconds on DateAxisItems; one setData per curve per result."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QWidget

from desktop.theme import BORDER, PANEL, TEXT, TEXT_MUTED

DARK = pg.mkPen("#303030", width=1.6)
MUTED = pg.mkPen("#7a7a7a", width=1.2, style=pg.QtCore.Qt.PenStyle.DashLine)
BAND_BRUSH = pg.mkBrush(150, 150, 150, 90)
BAR_BRUSH = pg.mkBrush(90, 90, 90, 170)


def _plot(title: str, unit: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
    plot.setBackground(PANEL)
    item = plot.getPlotItem()
    item.setTitle(f"{title} ({unit})", color=TEXT, size="10pt")
    item.showGrid(x=True, y=True, alpha=0.25)
    for axis in ("left", "bottom"):
        item.getAxis(axis).setPen(pg.mkPen(BORDER))
        item.getAxis(axis).setTextPen(pg.mkPen(TEXT_MUTED))
    item.getAxis("left").setWidth(52)
    item.hideButtons()
    item.setMenuEnabled(False)
    return plot


class PlanCharts(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.price = _plot("Price P10 / P50 / P90", "EUR/MWh")
        self.power = _plot("Planned power, + charge", "kW")
        self.soc = _plot("State of charge", "%")
        self.compare = _plot("Current vs proposed", "kW")
        self.price.addLegend(offset=(-8, 8), labelTextColor=TEXT_MUTED)
        self.compare.addLegend(offset=(-8, 8), labelTextColor=TEXT_MUTED)
        self.p10 = self.price.plot([], [], pen=pg.mkPen("#9a9a9a", width=1))
        self.p90 = self.price.plot([], [], pen=pg.mkPen("#9a9a9a", width=1))
        self.band = pg.FillBetweenItem(self.p10, self.p90, brush=BAND_BRUSH)
        self.price.addItem(self.band)
        self.p50 = self.price.plot([], [], pen=DARK, name="P50")
        self.price.plot([], [], pen=pg.mkPen("#9a9a9a", width=6), name="P10–P90")
        self.power_bars = pg.PlotDataItem([0, 1], [0], stepMode="center", fillLevel=0, brush=BAR_BRUSH, pen=DARK)
        self.power.addItem(self.power_bars)
        self.soc_curve = self.soc.plot([], [], pen=DARK, symbol="o", symbolSize=4, symbolBrush="#303030")
        self.soc_bounds = [pg.InfiniteLine(angle=0, pen=MUTED) for _ in range(2)]
        for line in self.soc_bounds:
            self.soc.addItem(line)
        self.current_curve = pg.PlotDataItem([0, 1], [0], stepMode="center", pen=MUTED, name="current")
        self.proposed_curve = pg.PlotDataItem([0, 1], [0], stepMode="center", pen=DARK, name="proposed")
        self.compare.addItem(self.current_curve)
        self.compare.addItem(self.proposed_curve)
        for plot in (self.power, self.soc, self.compare):
            plot.setXLink(self.price)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.price, 0, 0)
        layout.addWidget(self.power, 0, 1)
        layout.addWidget(self.soc, 1, 0)
        layout.addWidget(self.compare, 1, 1)

    def show_band(self, start_s: float, step_s: float, p10, p50, p90) -> None:
        mid = start_s + (np.arange(len(p50)) + 0.5) * step_s
        self.p10.setData(mid, np.asarray(p10))
        self.p90.setData(mid, np.asarray(p90))
        self.p50.setData(mid, np.asarray(p50))
        # The other charts follow this x range (linked); set it explicitly: linked views do not auto-range x.
        self.price.setXRange(start_s, start_s + len(p50) * step_s, padding=0.01)

    def show_device(self, start_s: float, step_s: float, proposed_kw, current_kw, soc_pct, initial_soc_pct: float,
                    soc_bounds: tuple[float, float]) -> None:
        n = len(proposed_kw)
        edges = start_s + np.arange(n + 1) * step_s
        self.power_bars.setData(edges, np.asarray(proposed_kw))
        self.proposed_curve.setData(edges, np.asarray(proposed_kw))
        self.current_curve.setData(edges, np.asarray(current_kw))
        self.soc_curve.setData(edges, np.concatenate(([initial_soc_pct], np.asarray(soc_pct))))
        for line, value in zip(self.soc_bounds, soc_bounds):
            line.setValue(value)
        self.soc.setYRange(0, 100, padding=0.02)

    def clear_device(self) -> None:
        for item in (self.power_bars, self.proposed_curve, self.current_curve):
            item.setData([0, 1], [0])
        self.soc_curve.setData([], [])
