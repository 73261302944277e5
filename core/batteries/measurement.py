"""What a battery system's sensors report: a frozen snapshot of read-only arrays, and the noise model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.batteries.errors import InvalidBatteryParameter


@dataclass(frozen=True)
class SensorNoise:
    """Standard deviations of Gaussian sensor noise (typical BMS front-end figures)."""

    voltage_v: float = 0.001
    current_a: float = 0.1
    current_rel: float = 0.002  # current shunts are specified as offset plus a fraction of reading
    temp_c: float = 0.1
    soc_pct: float = 0.2
    soh_pct: float = 0.1

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not np.isfinite(value) or value < 0:
                raise InvalidBatteryParameter(f"SensorNoise.{name} must be finite and >= 0, got {value!r}")


@dataclass(frozen=True, eq=False)
class SystemMeasurement:
    """One reading of a battery system of P packs x C cells. Arrays are read-only.

    voltage_v, temp_c, soc_pct (0-100), soh_pct (0-100) have shape (P, C); current_a has shape (P,)
    (one shunt per pack, + = discharge).
    """

    voltage_v: np.ndarray
    current_a: np.ndarray
    temp_c: np.ndarray
    soc_pct: np.ndarray
    soh_pct: np.ndarray

    def __post_init__(self) -> None:
        for value in self.__dict__.values():
            value.setflags(write=False)
