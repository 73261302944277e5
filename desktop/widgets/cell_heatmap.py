"""Pack x cell heatmap of one battery system: fixed, labelled colour scale; outliers outlined; clickable.

Packs run along x, cells along y. The scale is fixed per metric (autoLevels off) so a colour always means
the same value. In keeping with ISA-101 the ramp is grey; colour is kept for outlines of abnormal cells
(red beyond an alarm threshold, amber for a statistical outlier beyond 3 sigma).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem, QVBoxLayout, QWidget

from desktop.theme import BORDER, PANEL, TEXT, TEXT_MUTED, Abnormal, abnormal


@dataclass(frozen=True)
class CellMetric:
    key: str  # field of BatterySystemSnapshot
    label: str
    unit: str
    low: float  # colour scale
    high: float
    alarm_low: float = -np.inf  # outside these a cell is abnormal whatever its neighbours do
    alarm_high: float = np.inf


METRICS: dict[str, CellMetric] = {m.key: m for m in (
    CellMetric("voltage_v", "Cell voltage", "V", 3.0, 4.2, alarm_low=3.0, alarm_high=4.2),
    CellMetric("temp_c", "Cell temperature", "°C", 15.0, 60.0, alarm_high=45.0),
    CellMetric("soc_pct", "Cell SoC", "%", 0.0, 100.0, alarm_low=5.0),
    CellMetric("soh_pct", "Cell SoH", "%", 0.0, 100.0, alarm_low=80.0),
)}
OUTLIER_SIGMA = 3.0
GREY_RAMP = pg.ColorMap([0.0, 1.0], [(236, 236, 236), (40, 40, 40)])


def outliers(values: np.ndarray, metric: CellMetric) -> tuple[np.ndarray, np.ndarray]:
    """(beyond alarm thresholds, beyond 3 sigma of the system) masks, NaN cells in neither."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        alarm = (values < metric.alarm_low) | (values > metric.alarm_high)
        std = np.nanstd(values)
        z = np.abs(values - np.nanmean(values)) / std if std > 0 else np.zeros_like(values)
        statistical = (z > OUTLIER_SIGMA) & ~alarm
    return alarm, statistical


class _ClickableImage(pg.ImageItem):
    def __init__(self, on_click) -> None:
        super().__init__()
        self._on_click = on_click

    def mouseClickEvent(self, ev) -> None:
        pos = ev.pos()
        self._on_click(int(np.floor(pos.x())), int(np.floor(pos.y())))
        ev.accept()


class CellHeatmap(QWidget):
    """A QWidget holding the pyqtgraph canvas.

    Never give a QWidget subclass an attribute named like a Qt virtual (``metric``, ``event``, ...):
    shiboken takes it for a Python override, calls it from C++ and crashes on the TypeError.
    """

    cell_clicked = Signal(int, int)  # pack, cell

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(PANEL)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.plot = self.canvas.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)  # cell 0 at the top, as on a pack drawing
        for axis, text in (("bottom", "Pack"), ("left", "Cell")):
            self.plot.getAxis(axis).setLabel(text, color=TEXT)
            self.plot.getAxis(axis).setPen(pg.mkPen(BORDER))
            self.plot.getAxis(axis).setTextPen(pg.mkPen(TEXT_MUTED))
        self.image = _ClickableImage(self._clicked)
        self.plot.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(values=(0, 1), colorMap=GREY_RAMP, interactive=False, width=18,
                                          pen=BORDER)
        self.colour_bar.setImageItem(self.image, insert_in=self.plot)
        self._alarm_outline = self._outline_item(abnormal(Abnormal.CRITICAL).background, 2.5)
        self._outlier_outline = self._outline_item(abnormal(Abnormal.WARNING).background, 2.5)
        self._selection = self._outline_item("#000000", 1.5, dashed=True)
        self.current_metric = METRICS["voltage_v"]
        self.values = np.empty((0, 0))
        self.alarm_cells = np.empty((0, 0), dtype=bool)
        self.outlier_cells = np.empty((0, 0), dtype=bool)
        self.selected: tuple[int, int | None] | None = None
        self.set_metric("voltage_v")

    def _outline_item(self, colour: str, width: float, dashed: bool = False) -> QGraphicsPathItem:
        item = QGraphicsPathItem()
        pen = pg.mkPen(colour, width=width)
        if dashed:
            pen.setStyle(pg.QtCore.Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setZValue(20)
        self.plot.addItem(item)
        return item

    def set_metric(self, key: str) -> None:
        self.current_metric = METRICS[key]
        self.colour_bar.setLevels((self.current_metric.low, self.current_metric.high))
        self.colour_bar.setLabel("right", f"{self.current_metric.label} ({self.current_metric.unit})")
        m = self.current_metric
        self.plot.setTitle(f"{m.label}, scale {m.low:g}–{m.high:g} {m.unit}", color=TEXT, size="10pt")

    def set_values(self, values: np.ndarray) -> None:
        """Packs x cells values of the current metric (NaN = not reported yet)."""
        self.values = values
        self.image.setImage(np.nan_to_num(values, nan=self.current_metric.low), autoLevels=False,
                            levels=(self.current_metric.low, self.current_metric.high))
        packs, cells = values.shape
        self.plot.setLimits(xMin=0, xMax=packs, yMin=0, yMax=cells)
        self.plot.setRange(xRange=(0, packs), yRange=(0, cells), padding=0)
        self.alarm_cells, self.outlier_cells = outliers(values, self.current_metric)
        self._alarm_outline.setPath(_rects(self.alarm_cells))
        self._outlier_outline.setPath(_rects(self.outlier_cells))

    def select(self, pack: int, cell: int | None = None) -> None:
        """Outline the chosen pack (and cell) without emitting."""
        self.selected = (pack, cell)
        path = QPainterPath()
        cells = self.values.shape[1] if self.values.size else 0
        path.addRect(QRectF(pack, 0, 1, cells))
        if cell is not None:
            path.addRect(QRectF(pack - 0.25, cell - 0.1, 1.5, 1.2))
        self._selection.setPath(path)

    def cell_centre(self, pack: int, cell: int):
        """Where a cell is drawn, as a pixel of the canvas viewport (for tests that click it)."""
        return self.canvas.mapFromScene(self.image.mapToScene(pg.QtCore.QPointF(pack + 0.5, cell + 0.5)))

    def _clicked(self, pack: int, cell: int) -> None:
        packs, cells = self.values.shape if self.values.size else (0, 0)
        if 0 <= pack < packs and 0 <= cell < cells:
            self.select(pack, cell)
            self.cell_clicked.emit(pack, cell)


def _rects(mask: np.ndarray) -> QPainterPath:
    path = QPainterPath()
    for pack, cell in np.argwhere(mask)[:200]:  # a few outlines help; hundreds would hide the map
        path.addRect(QRectF(float(pack) + 0.06, float(cell) + 0.06, 0.88, 0.88))
    return path
