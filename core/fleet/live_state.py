"""LiveState: the in-memory live picture of the fleet that the GUI and the alarm engine read.

One row per device in preallocated numpy columns (grown by doubling, rows never move), written in
batches by the ingest thread and read by snapshot from any thread. Every write batch bumps ``version``
once and stamps the rows it touched, so a reader can ask which rows changed since its last look and
repaint only those.
"""

from __future__ import annotations

import enum
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterator

import numpy as np

from core.fleet.battery_cells import BatteryCells, BatterySystemSnapshot
from core.fleet.samples import TelemetrySample


class AvailabilityCode(enum.IntEnum):
    """Availability as stored in the int8 column (ordered: higher is better)."""

    OFFLINE = 0
    STALE = 1
    ONLINE = 2


# Telemetry columns a writer may set, and their dtypes. mode is int8 (0..4), the rest float64.
TELEMETRY_COLUMNS: dict[str, Any] = {
    "soc_pct": np.float64,
    "power_kw": np.float64,
    "voltage_v": np.float64,
    "current_a": np.float64,
    "temp_c": np.float64,
    "soh_pct": np.float64,
    "mode": np.int8,
}
_STATE_COLUMNS: dict[str, Any] = {
    "availability": np.int8,
    "last_seen": np.float64,  # epoch seconds; NaN = never seen
    "measured_at": np.float64,  # epoch seconds of the newest telemetry held (set_arrays); NaN = none yet
    "explicit_offline": np.bool_,  # the device (or its last will) said offline
    "row_version": np.int64,
}
_FILL = {np.float64: np.nan, np.int8: 0, np.bool_: False, np.int64: 0}


class UnknownDevice(KeyError):
    """A write named a device id that is not registered."""


@dataclass(frozen=True)
class LiveSnapshot:
    """A read-only copy of every device row at one version. Arrays are indexed by row."""

    version: int
    device_ids: tuple[str, ...]
    soc_pct: np.ndarray
    power_kw: np.ndarray
    voltage_v: np.ndarray
    current_a: np.ndarray
    temp_c: np.ndarray
    soh_pct: np.ndarray
    mode: np.ndarray
    availability: np.ndarray
    last_seen: np.ndarray
    measured_at: np.ndarray  # epoch seconds of the newest measurement held; NaN = none yet
    row_version: np.ndarray

    def row(self, device_id: str) -> int:
        """Row of a device in this snapshot (rows are stable across snapshots)."""
        return self.device_ids.index(device_id)

    def changed_rows_since(self, version: int) -> np.ndarray:
        """Rows whose values changed after ``version`` (as seen in this snapshot)."""
        return np.flatnonzero(self.row_version > version)


class _BatchWriter:
    """Write access for one batch; only exists while LiveState's lock is held."""

    def __init__(self, state: LiveState, version: int) -> None:
        self._state = state
        self.version = version

    def _row(self, key: int | str) -> int:
        return self._state._resolve(key)

    def set_telemetry(self, key: int | str, values: Mapping[str, float], seen_at: float) -> None:
        row = self._row(key)
        columns = self._state._columns
        for name, value in values.items():
            if name not in TELEMETRY_COLUMNS:
                raise KeyError(f"{name!r} is not a telemetry column; known: {', '.join(TELEMETRY_COLUMNS)}")
            columns[name][row] = value
        self._mark_seen(np.array([row]), seen_at)

    def set_samples(self, samples: Sequence[TelemetrySample], seen_at: float) -> None:
        """Vectorised write of decoded samples; when a device appears twice the later sample wins."""
        if not samples:
            return
        index = self._state._index
        try:
            rows = np.fromiter((index[s.device_id] for s in samples), dtype=np.int64, count=len(samples))
        except KeyError as exc:
            raise UnknownDevice(exc.args[0]) from None
        columns = self._state._columns
        # numpy assigns repeated indices in order, so the last sample of a device is the one kept.
        for name in TELEMETRY_COLUMNS:
            columns[name][rows] = [getattr(s, name) for s in samples]
        columns["measured_at"][rows] = [s.ts.timestamp() for s in samples]
        self._mark_seen(rows, seen_at)

    def set_arrays(self, rows: np.ndarray, measured_at: np.ndarray, values: Mapping[str, np.ndarray],
                   seen_at: float) -> int:
        """Vectorised write of telemetry that may arrive out of order (parallel ingest workers): per device
        the newest measurement wins, whether it came earlier in this batch, later, or in an earlier batch.
        Returns how many rows were applied (older ones are skipped, they are still stored by the caller)."""
        if len(rows) == 0:
            return 0
        columns = self._state._columns
        order = np.argsort(measured_at, kind="stable")  # oldest first: numpy keeps the last of repeated rows
        rows, measured_at = rows[order], measured_at[order]
        held = columns["measured_at"][rows]
        newer = ~(measured_at < held)  # NaN held (nothing yet) compares False, so it is replaced
        rows, measured_at = rows[newer], measured_at[newer]
        for name, column in values.items():
            if name not in TELEMETRY_COLUMNS:
                raise KeyError(f"{name!r} is not a telemetry column; known: {', '.join(TELEMETRY_COLUMNS)}")
            columns[name][rows] = column[order][newer]
        columns["measured_at"][rows] = measured_at
        self._mark_seen(rows, seen_at)
        return len(rows)

    def set_online(self, key: int | str, seen_at: float) -> None:
        self._mark_seen(np.array([self._row(key)]), seen_at)

    def set_offline(self, key: int | str, reason: str | None) -> None:
        """Explicit offline (device status or its last will): stays offline until the device speaks again."""
        row = self._row(key)
        columns = self._state._columns
        columns["availability"][row] = AvailabilityCode.OFFLINE
        columns["explicit_offline"][row] = True
        columns["row_version"][row] = self.version
        self._state._offline_reasons[row] = reason

    def set_cells(self, system_id: str, pack: int, voltage_v, temp_c, soc_pct, soh_pct, current_a: float,
                  seen_at: float) -> None:
        state = self._state
        system = state._battery_systems.get(system_id)
        if system is None:
            raise UnknownDevice(system_id)
        system.apply(pack, voltage_v, temp_c, soc_pct, soh_pct, current_a, seen_at, self.version)
        state._columns["row_version"][state._index[system_id]] = self.version

    def _mark_seen(self, rows: np.ndarray, seen_at: float) -> None:
        columns = self._state._columns
        columns["last_seen"][rows] = seen_at
        columns["availability"][rows] = AvailabilityCode.ONLINE
        columns["explicit_offline"][rows] = False
        columns["row_version"][rows] = self.version
        for row in rows.tolist() if self._state._offline_reasons else ():
            self._state._offline_reasons.pop(row, None)


class LiveState:
    """Thread-safe columnar live values of every registered device.

    Writers: ``apply_telemetry_batch``/``apply_samples`` or, for mixed batches, ``with state.batch() as w``.
    Readers: ``snapshot()``, ``changed_rows_since()``, ``battery_snapshot()``, from any thread.
    """

    def __init__(self, initial_capacity: int = 64) -> None:
        self._lock = threading.Lock()
        self._capacity = max(1, initial_capacity)
        self._columns: dict[str, np.ndarray] = {
            name: np.full(self._capacity, _FILL[dtype], dtype=dtype)
            for name, dtype in {**TELEMETRY_COLUMNS, **_STATE_COLUMNS}.items()
        }
        self._index: dict[str, int] = {}
        self._ids: list[str] = []
        self._ids_tuple: tuple[str, ...] = ()
        self._meta: list[Mapping[str, Any]] = []
        self._offline_reasons: dict[int, str | None] = {}
        self._battery_systems: dict[str, BatteryCells] = {}
        self._version = 0

    # -- registry -------------------------------------------------------------------------------
    def register(self, device_id: str, **meta: Any) -> int:
        """Add a device (or update its metadata) and return its row; a device keeps its row for life."""
        with self._lock:
            row = self._index.get(device_id)
            if row is not None:
                self._meta[row] = MappingProxyType({**self._meta[row], **meta})
                return row
            row = len(self._ids)
            if row == self._capacity:
                self._grow()
            self._index[device_id] = row
            self._ids.append(device_id)
            self._ids_tuple = tuple(self._ids)
            self._meta.append(MappingProxyType(dict(meta)))
            return row

    def register_battery_system(self, system_id: str, packs: int, cells: int, **meta: Any) -> int:
        """Register a device that reports pack x cell arrays; returns its (telemetry) row."""
        row = self.register(system_id, packs=packs, cells=cells, **meta)
        with self._lock:
            existing = self._battery_systems.get(system_id)
            if existing is None:
                self._battery_systems[system_id] = BatteryCells(system_id, packs, cells)
            elif existing.cells != cells:
                raise ValueError(f"{system_id} already has {existing.cells} cells per pack, not {cells}")
            else:
                existing.ensure_packs(packs)
        return row

    def _grow(self) -> None:
        # Doubling keeps appends amortised O(1); rows keep their index, only the arrays are replaced.
        new_capacity = self._capacity * 2
        for name, column in self._columns.items():
            grown = np.full(new_capacity, _FILL[column.dtype.type], dtype=column.dtype)
            grown[: self._capacity] = column
            self._columns[name] = grown
        self._capacity = new_capacity

    def row_of(self, device_id: str) -> int | None:
        """Row of a registered device, or None. Lock-free: rows never change once given."""
        return self._index.get(device_id)

    def reading(self, device_id: str, column: str) -> float:
        """One device's latest value of one column (NaN when it has none or is not registered): what a
        per-device check needs without copying the fleet (snapshot)."""
        row = self._index.get(device_id)
        if row is None:
            return math.nan
        with self._lock:
            return float(self._columns[column][row])

    def is_battery_system(self, system_id: str) -> bool:
        return system_id in self._battery_systems

    def battery_shape(self, system_id: str) -> tuple[int, int] | None:
        """(packs, cells) of a registered battery system, or None."""
        with self._lock:
            system = self._battery_systems.get(system_id)
            return None if system is None else (system.packs, system.cells)

    def meta(self, device_id: str) -> Mapping[str, Any]:
        with self._lock:
            return self._meta[self._index[device_id]]

    def offline_reason(self, device_id: str) -> str | None:
        """Why the device last said it was offline (its status reason or the last will's)."""
        with self._lock:
            return self._offline_reasons.get(self._index[device_id])

    @property
    def device_ids(self) -> tuple[str, ...]:
        return self._ids_tuple

    @property
    def version(self) -> int:
        return self._version

    def _resolve(self, key: int | str) -> int:
        if isinstance(key, str):
            row = self._index.get(key)
            if row is None:
                raise UnknownDevice(key)
            return row
        if not 0 <= key < len(self._ids):
            raise UnknownDevice(key)
        return key

    # -- writers --------------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[_BatchWriter]:
        """Hold the lock for one write batch; the version goes up by exactly one per batch."""
        with self._lock:
            self._version += 1
            yield _BatchWriter(self, self._version)

    def apply_telemetry_batch(
        self, items: Iterable[tuple[int | str, Mapping[str, float]]], seen_at: float
    ) -> int:
        """Write (row or device_id, {column: value}) pairs as one batch; returns the new version.

        Every key is resolved before anything is written, so an unknown device leaves state untouched.
        """
        items = list(items)
        with self._lock:
            rows = [self._resolve(key) for key, _ in items]
        with self.batch() as writer:
            for row, (_, values) in zip(rows, items):
                writer.set_telemetry(row, values, seen_at)
            return writer.version

    def apply_samples(self, samples: Sequence[TelemetrySample], seen_at: float) -> int:
        """Write decoded samples as one batch; returns the new version."""
        with self.batch() as writer:
            writer.set_samples(samples, seen_at)
            return writer.version

    def apply_cells(self, system_id: str, pack: int, voltage_v, temp_c, soc_pct, soh_pct,
                    current_a: float = math.nan, seen_at: float = math.nan) -> int:
        """Store one pack's cell arrays; returns the new version."""
        with self.batch() as writer:
            writer.set_cells(system_id, pack, voltage_v, temp_c, soc_pct, soh_pct, current_a, seen_at)
            return writer.version

    def mark_offline(self, device_id: str, reason: str | None = None) -> int:
        """Explicit offline, e.g. from the device's MQTT last will."""
        with self.batch() as writer:
            writer.set_offline(device_id, reason)
            return writer.version

    def refresh_availability(self, now: float, stale_after_s: float, offline_after_s: float) -> int:
        """Derive online/stale/offline from last_seen (epoch seconds); returns how many rows changed.

        Explicitly offline devices stay offline whatever their age; never-seen devices are offline.
        """
        if not 0 <= stale_after_s <= offline_after_s:
            raise ValueError("need 0 <= stale_after_s <= offline_after_s")
        with self._lock:
            n = len(self._ids)
            columns = self._columns
            age = now - columns["last_seen"][:n]
            derived = np.full(n, AvailabilityCode.OFFLINE, dtype=np.int8)
            derived[age <= offline_after_s] = AvailabilityCode.STALE  # NaN compares False: stays offline
            derived[age <= stale_after_s] = AvailabilityCode.ONLINE
            derived[columns["explicit_offline"][:n]] = AvailabilityCode.OFFLINE
            changed = np.flatnonzero(derived != columns["availability"][:n])
            if changed.size:
                self._version += 1
                columns["availability"][changed] = derived[changed]
                columns["row_version"][changed] = self._version
            return int(changed.size)

    # -- readers --------------------------------------------------------------------------------
    def snapshot(self) -> LiveSnapshot:
        """Copy every column (only the used rows) under the lock; the copy is read-only."""
        with self._lock:
            n = len(self._ids)
            copies = {}
            for name, column in self._columns.items():
                if name == "explicit_offline":
                    continue
                copy = column[:n].copy()
                copy.flags.writeable = False
                copies[name] = copy
            return LiveSnapshot(version=self._version, device_ids=self._ids_tuple, **copies)

    def changed_rows_since(self, version: int) -> np.ndarray:
        """Rows changed by any batch after ``version``: what a view needs to repaint."""
        with self._lock:
            return np.flatnonzero(self._columns["row_version"][: len(self._ids)] > version)

    def battery_snapshot(self, system_id: str) -> BatterySystemSnapshot:
        """Copy of one battery system's cells with derived pack SoC/SoH and imbalance."""
        with self._lock:
            system = self._battery_systems.get(system_id)
            if system is None:
                raise UnknownDevice(system_id)
            return system.copy_out(self._version)
