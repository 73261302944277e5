"""The fleet table: a QAbstractTableModel over LiveState snapshots, for 10,000+ devices.

Proxy-free: the model keeps ``view_rows`` (snapshot row of each table row), recomputed per tick from numpy
masks and argsort (desktop.models.fleet_filter). A tick emits ONE signal: ``dataChanged`` over the span of
rows whose values (or displayed age) changed, or ``layoutChanged`` when the set or order of rows moved
(persistent indexes follow their device, so the selection survives). data() formats only visible cells.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any, Callable, Mapping

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from core.fleet.live_state import AvailabilityCode, LiveSnapshot
from desktop.models.device_directory import DeviceMeta
from desktop.models.fleet_filter import DeviceLabels, FleetFilter, filter_mask, ordered_rows, sort_key
from desktop.theme import Abnormal, abnormal, qcolor

COLUMNS = ("Device", "Name", "Site", "Status", "SoC %", "Power kW", "Mode", "Schedule", "Temp °C", "Last seen")
COLUMN_KEYS = ("id", "name", "site", "status", "soc_pct", "power_kw", "mode", "schedule", "temp_c", "last_seen")
NUMERIC = {"soc_pct", "power_kw", "temp_c"}
STATUS_WORDS = {AvailabilityCode.ONLINE: "online", AvailabilityCode.STALE: "stale", AvailabilityCode.OFFLINE: "offline"}
MODE_WORDS = {0: "idle", 1: "discharge", 2: "charge", 3: "maintenance", 4: "fault"}
# Display thresholds for colouring a cell; the alarm engine owns real alarm limits.
SOC_LOW_PCT = 10.0
TEMP_HIGH_C = 45.0
TEMP_CRITICAL_C = 55.0
RAW_ROLE = Qt.ItemDataRole.UserRole  # the unformatted value, for tests and exports


def relative_age(age_s: float) -> str:
    if not math.isfinite(age_s):
        return "never"
    age_s = max(0.0, age_s)
    if age_s < 60:
        return f"{int(age_s)} s ago"
    if age_s < 3600:
        return f"{int(age_s // 60)} min ago"
    if age_s < 86400:
        return f"{int(age_s // 3600)} h ago"
    return f"{int(age_s // 86400)} d ago"


def _age_bucket(age_s: np.ndarray) -> np.ndarray:
    """A number that changes exactly when relative_age()'s text does (vectorised)."""
    with np.errstate(invalid="ignore"):
        a = np.nan_to_num(np.maximum(age_s, 0), nan=-1.0)
        return np.select([a < 0, a < 60, a < 3600, a < 86400],
                         [-1, np.floor(a), 1e5 + a // 60, 2e5 + a // 3600], 3e5 + a // 86400)


class FleetTableModel(QAbstractTableModel):
    def __init__(self, now: Callable[[], float] = time.time, parent=None) -> None:
        super().__init__(parent)
        self._now = now
        self.snapshot: LiveSnapshot | None = None
        self.view_rows = np.empty(0, dtype=np.int64)
        self._position = np.empty(0, dtype=np.int64)  # snapshot row -> table row, -1 when filtered out
        self._labels = DeviceLabels((), [], [])
        self._labels_index: dict[str, int] = {}
        self._sites: list[str] = []
        self._meta: dict[str, DeviceMeta] = {}
        self.capacity_kwh = np.empty(0)
        self._filter = FleetFilter()
        self._text_mask: np.ndarray | None = None
        self._sort_column = 0
        self._ascending = True
        self._seen_version = -1
        self._age_key = np.empty(0)
        self._age_now = 0.0

    # -- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.view_rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.snapshot is None:
            return None
        row = int(self.view_rows[index.row()])
        key = COLUMN_KEYS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, key)
        if role == RAW_ROLE:
            return self._raw(row, key)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            return self._abnormal_colour(row, key, role)
        if role == Qt.ItemDataRole.ToolTipRole and key == "last_seen":
            seen = self.snapshot.last_seen[row]
            return datetime.fromtimestamp(seen).strftime("%Y-%m-%d %H:%M:%S") if math.isfinite(seen) else "never seen"
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column = column
        self._ascending = order == Qt.SortOrder.AscendingOrder
        self._rebuild_view(force_layout=True)

    # -- state ----------------------------------------------------------------------------------
    @property
    def filter(self) -> FleetFilter:
        return self._filter

    def set_filter(self, fleet_filter: FleetFilter) -> None:
        if fleet_filter.text != self._filter.text:
            self._text_mask = None
        self._filter = fleet_filter
        self._rebuild_view(force_layout=True)

    @property
    def sort_state(self) -> tuple[int, bool]:
        return self._sort_column, self._ascending

    def sites(self) -> list[str]:
        return self._sites

    def set_metadata(self, metas: Mapping[str, DeviceMeta]) -> None:
        """Names, sites and capacities (resolved off the GUI thread) for devices already in the table."""
        self._meta.update(metas)
        if self.snapshot is not None:
            self._relabel(self.snapshot)
            self._rebuild_view(force_layout=True)

    def device_at(self, table_row: int) -> str:
        return self.snapshot.device_ids[int(self.view_rows[table_row])]

    def table_row_of(self, device_id: str) -> int:
        """Table row of a device, or -1 when it is filtered out or unknown."""
        if self.snapshot is None or device_id not in self._labels_index:
            return -1
        return int(self._position[self._labels_index[device_id]])

    def missing_metadata(self) -> list[str]:
        return [d for d in (self.snapshot.device_ids if self.snapshot else ()) if d not in self._meta]

    # -- the tick -------------------------------------------------------------------------------
    def refresh(self, snap: LiveSnapshot) -> None:
        """Take a new snapshot; emits at most one signal (see module docstring)."""
        previous = self.snapshot
        self.snapshot = snap
        if previous is None or len(previous.device_ids) != len(snap.device_ids):
            self._relabel(snap)
            self._rebuild_view(force_layout=True)
        else:
            self._rebuild_view(force_layout=False)
        self._seen_version = snap.version

    def _relabel(self, snap: LiveSnapshot) -> None:
        ids = snap.device_ids
        metas = [self._meta.get(d) for d in ids]
        self._labels = DeviceLabels(ids, [m.name if m else "" for m in metas], [m.site if m else "" for m in metas])
        self._labels_index = {d: i for i, d in enumerate(ids)}
        self._sites = sorted({m.site for m in metas if m and m.site})
        self.capacity_kwh = np.array([m.capacity_kwh if m else np.nan for m in metas], dtype=float)
        self._text_mask = None

    def _rebuild_view(self, force_layout: bool) -> None:
        snap = self.snapshot
        if snap is None:
            return
        now = self._now()
        if self._text_mask is None:
            self._text_mask = self._labels.text_mask(self._filter.text)
        mask = filter_mask(self._filter, snap, self._labels, now, self._text_mask)
        key = sort_key(COLUMN_KEYS[self._sort_column], snap, self._labels)
        new_rows = ordered_rows(mask, key, self._ascending)
        age_key = _age_bucket(now - snap.last_seen)
        if force_layout or not np.array_equal(new_rows, self.view_rows):
            self._relayout(new_rows)
        else:
            self._emit_changed_span(snap, age_key)
        self._age_key = age_key

    def _relayout(self, new_rows: np.ndarray) -> None:
        self.layoutAboutToBeChanged.emit()
        old_rows = self.view_rows
        position = np.full(len(self.snapshot.device_ids), -1, dtype=np.int64)
        position[new_rows] = np.arange(len(new_rows))
        persistent = self.persistentIndexList()
        if persistent:
            moved = []
            for index in persistent:
                r = index.row()
                new_r = int(position[old_rows[r]]) if 0 <= r < len(old_rows) else -1
                moved.append(self.createIndex(new_r, index.column()) if new_r >= 0 else QModelIndex())
            self.changePersistentIndexList(persistent, moved)
        self.view_rows, self._position = new_rows, position
        self.layoutChanged.emit()

    def _emit_changed_span(self, snap: LiveSnapshot, age_key: np.ndarray) -> None:
        changed = snap.row_version > self._seen_version
        if len(self._age_key) == len(age_key):
            changed |= age_key != self._age_key
        table_rows = self._position[np.flatnonzero(changed)]
        table_rows = table_rows[table_rows >= 0]
        if table_rows.size:
            self.dataChanged.emit(self.index(int(table_rows.min()), 0),
                                  self.index(int(table_rows.max()), len(COLUMNS) - 1))

    # -- formatting -----------------------------------------------------------------------------
    def _raw(self, row: int, key: str) -> Any:
        snap = self.snapshot
        if key == "id":
            return snap.device_ids[row]
        if key in ("name", "site"):
            return str((self._labels.names if key == "name" else self._labels.sites)[row])
        if key == "status":
            return AvailabilityCode(int(snap.availability[row]))
        if key == "schedule":
            return None
        return float(getattr(snap, key)[row]) if key != "mode" else int(snap.mode[row])

    def _text(self, row: int, key: str) -> str:
        value = self._raw(row, key)
        if key == "status":
            return STATUS_WORDS[value]
        if key == "mode":
            return MODE_WORDS.get(value, str(value)) if math.isfinite(self.snapshot.last_seen[row]) else "—"
        if key == "schedule":
            return ""  # no schedules yet
        if key == "last_seen":
            return relative_age(self._now() - value)
        if key in NUMERIC:
            return "—" if not math.isfinite(value) else f"{value:.1f}"
        return value

    def _abnormal_colour(self, row: int, key: str, role) -> Any:
        kind = self.abnormal_kind(row, key)
        if kind is None:
            return None
        colour = abnormal(kind)
        if role == Qt.ItemDataRole.BackgroundRole:
            return qcolor(colour.background)
        return qcolor(colour.text)

    def abnormal_kind(self, row: int, key: str) -> Abnormal | None:
        """ISA-101: only abnormal cells get colour (status stale/offline, SoC low, temperature high)."""
        snap = self.snapshot
        if key == "status" and snap.availability[row] != AvailabilityCode.ONLINE:
            return Abnormal.OFFLINE
        if key == "soc_pct" and snap.soc_pct[row] < SOC_LOW_PCT:
            return Abnormal.WARNING
        if key == "temp_c" and snap.temp_c[row] >= TEMP_HIGH_C:
            return Abnormal.CRITICAL if snap.temp_c[row] >= TEMP_CRITICAL_C else Abnormal.WARNING
        return None
