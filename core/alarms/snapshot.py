"""The columnar fleet snapshot the engine evaluates: device columns plus per-system cell matrices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.alarms.errors import SnapshotError


def _as_float(name: str, value: object, ndim: int) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim:
        raise SnapshotError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    return array


@dataclass(frozen=True, eq=False)
class BatterySystemSnapshot:
    """Cell readings of one battery system: voltage_v and temp_c are [packs, cells_per_pack]."""

    system_id: str
    voltage_v: np.ndarray
    temp_c: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.system_id, str) or not self.system_id or ":" in self.system_id:
            raise SnapshotError(f"system_id must be a non-empty string without ':', got {self.system_id!r}")
        voltage = _as_float("voltage_v", self.voltage_v, 2)
        temp = _as_float("temp_c", self.temp_c, 2)
        if voltage.shape != temp.shape:
            raise SnapshotError(f"{self.system_id}: voltage_v {voltage.shape} and temp_c {temp.shape} differ")
        object.__setattr__(self, "voltage_v", voltage)
        object.__setattr__(self, "temp_c", temp)

    @property
    def shape(self) -> tuple[int, int]:
        """(packs, cells per pack)."""
        return self.voltage_v.shape  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class FleetSnapshot:
    """Device columns (one entry per device, same order as device_ids) and battery systems.

    availability holds core.alarms.inputs.Availability codes. NaN means "no reading".
    """

    device_ids: tuple[str, ...]
    soc_pct: np.ndarray
    temp_c: np.ndarray
    availability: np.ndarray
    battery_systems: tuple[BatterySystemSnapshot, ...] = ()

    def __post_init__(self) -> None:
        ids = self.device_ids if isinstance(self.device_ids, tuple) else tuple(self.device_ids)
        object.__setattr__(self, "device_ids", ids)
        n = len(ids)
        for name in ("soc_pct", "temp_c", "availability"):
            array = _as_float(name, getattr(self, name), 1)
            if array.shape[0] != n:
                raise SnapshotError(f"{name} has {array.shape[0]} entries for {n} devices")
            object.__setattr__(self, name, array)
        systems = tuple(self.battery_systems)
        if len({s.system_id for s in systems}) != len(systems):
            raise SnapshotError("battery system ids must be unique")
        object.__setattr__(self, "battery_systems", systems)
