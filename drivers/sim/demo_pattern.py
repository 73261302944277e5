"""The default daily behaviour of an uncommanded simulated device: a plausible energy-shifting pattern.

Devices charge around solar noon (10:00-15:00 local) and discharge into the evening peak (17:00-21:00
local), idle otherwise. Each device has its own phase shift (up to +-45 min) and depth (40-90 % of its
power limit), plus slowly wandering noise, so a fleet view never shows identical twins.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

CHARGE_WINDOW_H = (10.0, 15.0)
DISCHARGE_WINDOW_H = (17.0, 21.0)
NOISE_FRACTION = 0.05  # std of the wandering noise, as a fraction of the power limit
NOISE_MEMORY_S = 120.0  # the noise decorrelates over about two minutes


def local_hours(now: datetime, zones: list[str]) -> np.ndarray:
    """Local time of day [h, 0-24) of now in each IANA zone."""
    hours = []
    for zone in zones:
        local = now.astimezone(ZoneInfo(zone))
        hours.append(local.hour + local.minute / 60.0 + local.second / 3600.0)
    return np.asarray(hours, dtype=np.float64)


def _bump(hour: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """A half sine over the window, 0 outside it."""
    start, end = window
    phase = (hour - start) / (end - start)
    return np.where((phase > 0.0) & (phase < 1.0), np.sin(np.pi * np.clip(phase, 0.0, 1.0)), 0.0)


class DailyPattern:
    """Setpoints for n devices: + = discharge, in kW, within each device's charge/discharge limits."""

    def __init__(self, max_charge_kw: np.ndarray, max_discharge_kw: np.ndarray, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)
        n = len(max_charge_kw)
        self.max_charge_kw = np.asarray(max_charge_kw, dtype=np.float64)
        self.max_discharge_kw = np.asarray(max_discharge_kw, dtype=np.float64)
        self.shift_h = self._rng.uniform(-0.75, 0.75, n)
        self.depth = self._rng.uniform(0.4, 0.9, n)
        self._noise = np.zeros(n)

    def setpoints_kw(self, hours_local: np.ndarray, dt_s: float) -> np.ndarray:
        """The pattern's setpoint now for each device, given its local time of day; dt_s moves the noise."""
        hour = hours_local - self.shift_h
        shape = _bump(hour, DISCHARGE_WINDOW_H) - _bump(hour, CHARGE_WINDOW_H)
        # Ornstein-Uhlenbeck noise: exact for any dt, so the tick length does not change its size.
        keep = np.exp(-max(dt_s, 0.0) / NOISE_MEMORY_S)
        self._noise = self._noise * keep + NOISE_FRACTION * np.sqrt(1.0 - keep * keep) * self._rng.standard_normal(
            len(self._noise)
        )
        fraction = self.depth * shape + self._noise
        limit = np.where(fraction >= 0.0, self.max_discharge_kw, self.max_charge_kw)
        return np.clip(fraction, -1.0, 1.0) * limit
