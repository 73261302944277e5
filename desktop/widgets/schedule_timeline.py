"""A Gantt-like timeline of the schedule being edited: the same ScheduleDraftModel the table shows.

One lane for the draft (charge above the axis colour, discharge below it, bar height by rate), and,
while comparing, a lane with the active schedule. Dragging a bar sideways moves that entry in time
(snapped to 15 minutes) through the model, so the table follows; the scene is rebuilt from the model on
every change, which is cheap for the few hundred entries a schedule holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QGraphicsView, QWidget

from core.schedules.model import Mode, ScheduleEntry
from desktop.models.schedule_draft_model import ScheduleDraftModel
from desktop.theme import BORDER, PANEL, TEXT, TEXT_MUTED, Abnormal, abnormal

PX_PER_HOUR = 48.0
LANE_H = 56.0
LABEL_W = 70.0
AXIS_H = 22.0
SNAP = timedelta(minutes=15)
# Neutral, distinguishable hues: red/amber/blue/magenta are reserved for abnormal states (desktop/theme.py).
CHARGE_FILL, DISCHARGE_FILL = "#4f7a6a", "#7a6a4f"


class EntryBar(QGraphicsRectItem):
    """One entry's bar; only horizontal drags, reported to the timeline on release."""

    def __init__(self, timeline: "ScheduleTimeline", row: int, rect: QRectF) -> None:
        super().__init__(rect)
        self.timeline = timeline
        self.row = row
        self.setFlag(QGraphicsRectItem.GraphicsItemFlag.ItemIsMovable, True)
        self.setFlag(QGraphicsRectItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setCursor(Qt.CursorShape.SizeHorCursor)

    def mouseMoveEvent(self, event) -> None:
        super().mouseMoveEvent(event)
        self.setY(0.0)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        if self.x():
            self.timeline.bar_dragged(self.row, self.x())


class ScheduleTimeline(QGraphicsView):
    entry_clicked = Signal(int)  # 0-based row

    def __init__(self, model: ScheduleDraftModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.scene_ = QGraphicsScene(self)
        self.setScene(self.scene_)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setBackgroundBrush(QBrush(QColor(PANEL)))
        self.setMinimumHeight(int(AXIS_H + 2 * LANE_H + 24))
        self.setMaximumHeight(int(AXIS_H + 2 * LANE_H + 60))  # two lanes never need more; the table gets the rest
        self.bars: dict[int, EntryBar] = {}
        self.active: tuple[ScheduleEntry, ...] = ()
        self.origin: datetime | None = None
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.validated):
            signal.connect(self.rebuild)
        self.rebuild()

    def show_active(self, entries: Sequence[ScheduleEntry]) -> None:
        """Overlay the active schedule in its own lane (empty: no overlay)."""
        self.active = tuple(entries)
        self.rebuild()

    # -- geometry --------------------------------------------------------------------------------
    def x_of(self, when: datetime) -> float:
        return LABEL_W + (when - self.origin).total_seconds() / 3600.0 * PX_PER_HOUR

    def bar_rect(self, row: int) -> QRectF | None:
        """Where entry `row` is drawn (scene coordinates), None when it is not drawn (a cell does not parse)."""
        bar = self.bars.get(row)
        return None if bar is None else bar.mapRectToScene(bar.rect())

    def bar_dragged(self, row: int, dx: float) -> None:
        # Later, not now: the model change rebuilds the scene, which must not delete the bar inside its own
        # mouse handler.
        QTimer.singleShot(0, lambda: self.move_by_pixels(row, dx))

    def move_by_pixels(self, row: int, dx: float) -> None:
        """Move entry `row` by a horizontal distance on the timeline, snapped to 15 minutes."""
        steps = round(timedelta(hours=dx / PX_PER_HOUR) / SNAP)
        if steps:
            self.model.move_entry(row, steps * SNAP)
        else:
            self.rebuild()

    # -- drawing ---------------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.scene_.clear()
        self.bars = {}
        drafted = {row: e for row in range(self.model.rowCount()) if (e := self.model.entry_at(row)) is not None}
        times = [t for e in (*drafted.values(), *self.active) for t in (e.start, e.end)]
        if not times:
            self.origin = None
            self.scene_.addText("No entries yet: add one, import a file or load the active schedule.").setDefaultTextColor(QColor(TEXT_MUTED))
            return
        first = min(times).astimezone(timezone.utc)
        self.origin = first.replace(minute=0, second=0, microsecond=0)
        end = max(times)
        hours = max(1, int((end - self.origin).total_seconds() // 3600) + 1)
        width = LABEL_W + hours * PX_PER_HOUR
        lanes = [("Draft", 0)] + ([("Active", 1)] if self.active else [])
        height = AXIS_H + len(lanes) * LANE_H
        self._axis(hours, height)
        for title, lane in lanes:
            label = self.scene_.addText(title)
            label.setDefaultTextColor(QColor(TEXT))
            label.setPos(4, AXIS_H + lane * LANE_H + LANE_H / 2 - 12)
        peak = max([e.rate_kw for e in (*drafted.values(), *self.active) if e.rate_kw > 0] or [1.0])
        for row, entry in drafted.items():
            rect = self._rect(entry, 0, peak)
            bar = EntryBar(self, row, rect)
            bar.setBrush(QBrush(QColor(CHARGE_FILL if entry.mode == Mode.CHARGE else DISCHARGE_FILL)))
            bad = any(i.row == row + 1 and i.error for i in self.model.issues)
            bar.setPen(QPen(QColor(abnormal(Abnormal.CRITICAL).background), 3) if bad else QPen(QColor(TEXT), 1))
            bar.setToolTip(f"entry {row + 1}: {Mode(entry.mode) if entry.mode in (1, 2) else entry.mode} "
                           f"{entry.rate_kw:g} kW")
            self.scene_.addItem(bar)
            self.bars[row] = bar
            tag = self.scene_.addText(str(row + 1))
            tag.setDefaultTextColor(QColor("#ffffff"))
            tag.setFont(QFont(tag.font().family(), 7))
            tag.setParentItem(bar)
            tag.setPos(rect.left() + 1, rect.top() - 2)
        for entry in self.active:
            rect = self._rect(entry, 1, peak)
            item = self.scene_.addRect(rect, QPen(QColor(TEXT), 1, Qt.PenStyle.DashLine), QBrush(Qt.BrushStyle.NoBrush))
            item.setToolTip(f"active: {entry.rate_kw:g} kW")
        self.scene_.setSceneRect(QRectF(0, 0, width + 10, height + 4))

    def _rect(self, entry: ScheduleEntry, lane: int, peak: float) -> QRectF:
        top = AXIS_H + lane * LANE_H + 4
        full = LANE_H - 8
        h = max(6.0, full * min(entry.rate_kw, peak) / peak) if entry.rate_kw > 0 else 6.0
        x0, x1 = self.x_of(entry.start), self.x_of(entry.end)
        return QRectF(x0, top + (full - h), max(2.0, x1 - x0), h)

    def _axis(self, hours: int, height: float) -> None:
        grid = QPen(QColor(BORDER), 1)
        for h in range(hours + 1):
            x = LABEL_W + h * PX_PER_HOUR
            when = self.origin + timedelta(hours=h)
            self.scene_.addLine(x, AXIS_H - 4, x, height, grid)
            if h % 2 == 0 or PX_PER_HOUR >= 60:
                text = when.strftime("%d %b %H:%M") if when.hour == 0 or h == 0 else when.strftime("%H:%M")
                label = self.scene_.addText(text)
                label.setDefaultTextColor(QColor(TEXT_MUTED))
                label.setFont(QFont(label.font().family(), 7))
                label.setPos(x - 2, 0)
