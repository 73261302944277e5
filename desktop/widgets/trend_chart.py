"""A live trend: ring-buffered series painted by a timer (<= 30 Hz) decoupled from the data rate.

pyqtgraph practice (CRAFT.md): preallocated buffers, one setData per curve per frame and only when its
buffer moved, peak downsampling, clip to view, epoch seconds on a DateAxisItem (shown in local time).
A history band (min..max with the average) can sit behind the live line. Export as PNG or CSV.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QVBoxLayout, QWidget

from desktop.theme import BORDER, PANEL, TEXT, TEXT_MUTED
from desktop.widgets.ring_buffer import RingBuffer

LIVE_PEN = pg.mkPen("#303030", width=1.5)  # normal data is dark grey: colour is for abnormal states only
HISTORY_PEN = pg.mkPen("#7a7a7a", width=1)
HISTORY_BRUSH = pg.mkBrush(150, 150, 150, 70)


class TrendChart(QWidget):
    painted = Signal()  # after a frame that changed at least one curve (tests, benchmarks)

    def __init__(self, title: str, unit: str, capacity: int = 3600, paint_hz: float = 30.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.unit = unit
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setBackground(PANEL)
        item = self.plot.getPlotItem()
        item.setTitle(f"{title} ({unit})" if unit else title, color=TEXT, size="10pt")
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        for axis in ("left", "bottom"):
            item.getAxis(axis).setPen(pg.mkPen(BORDER))
            item.getAxis(axis).setTextPen(pg.mkPen(TEXT_MUTED))
        item.hideButtons()
        item.getAxis("left").setWidth(52)  # room for "743.3": pyqtgraph would otherwise clip the first labels
        self.capacity = capacity
        self.buffers: dict[str, RingBuffer] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._painted_revision: dict[str, int] = {}
        self._history_lines: list[pg.PlotDataItem] = []
        self._history_band: pg.FillBetweenItem | None = None
        self.history: tuple[np.ndarray, ...] | None = None
        self.frames = 0  # frames that called setData (paint-rate tests)
        menu = item.getViewBox().menu
        menu.addSeparator()
        menu.addAction("Export PNG…", lambda: self._ask_path("PNG image (*.png)", self.export_png))
        menu.addAction("Export CSV…", lambda: self._ask_path("CSV file (*.csv)", self.export_csv))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, int(1000 / min(paint_hz, 30.0))))
        self.timer.timeout.connect(self.paint)
        self.timer.start()

    # -- data (any rate) ------------------------------------------------------------------------
    def series(self, name: str) -> RingBuffer:
        if name not in self.buffers:
            self.buffers[name] = RingBuffer(self.capacity)
            self.curves[name] = self.plot.getPlotItem().plot(pen=LIVE_PEN, name=name)
            self._painted_revision[name] = -1
        return self.buffers[name]

    def append(self, name: str, t: float, value: float) -> None:
        self.series(name).append(t, value)

    def clear(self) -> None:
        for buffer in self.buffers.values():
            buffer.clear()
        self.set_history(None)

    def set_history(self, history: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        """(t_s, min, avg, max) from the rollups, drawn behind the live line; None removes it."""
        item = self.plot.getPlotItem()
        for line in self._history_lines:
            item.removeItem(line)
        if self._history_band is not None:
            item.removeItem(self._history_band)
        self._history_lines, self._history_band, self.history = [], None, history
        if history is None or len(history[0]) == 0:
            return
        t, lo, avg, hi = (np.asarray(a, dtype=float) for a in history)
        low = item.plot(t, lo, pen=pg.mkPen(None))
        high = item.plot(t, hi, pen=pg.mkPen(None))
        self._history_band = pg.FillBetweenItem(low, high, brush=HISTORY_BRUSH)
        item.addItem(self._history_band)
        self._history_lines = [low, high, item.plot(t, avg, pen=HISTORY_PEN)]
        for curve in self.curves.values():  # live on top
            curve.setZValue(10)

    # -- paint (timer) --------------------------------------------------------------------------
    def paint(self) -> bool:
        """One frame: setData once for each curve whose buffer moved. True when anything was drawn."""
        drawn = False
        for name, buffer in self.buffers.items():
            if buffer.revision != self._painted_revision[name]:
                t, v = buffer.view()
                self.curves[name].setData(t, v)
                self._painted_revision[name] = buffer.revision
                drawn = True
        if drawn:
            self.frames += 1
            self.painted.emit()
        return drawn

    # -- export ---------------------------------------------------------------------------------
    def export_png(self, path: str | Path) -> bool:
        self.paint()
        return self.plot.grab().save(str(path), "PNG")

    def export_csv(self, path: str | Path) -> int:
        """Write every live sample (series, local and UTC time, epoch, value); returns the row count."""
        rows = 0
        with open(path, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["series", "time_utc", "epoch_s", f"value_{self.unit}" if self.unit else "value"])
            for name, buffer in self.buffers.items():
                t, v = buffer.view()
                for ts, value in zip(t.tolist(), v.tolist()):
                    out.writerow([name, datetime.fromtimestamp(ts, timezone.utc).isoformat(), f"{ts:.3f}", value])
                    rows += 1
        return rows

    def _ask_path(self, file_filter: str, export) -> None:
        dialog = QFileDialog(self, f"Export {self.title}", f"{self.title.lower().replace(' ', '_')}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(file_filter)
        dialog.fileSelected.connect(export)
        dialog.open()  # never exec(): no nested event loop under qasync
