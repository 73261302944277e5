"""Empirical state-of-health model: calendar fade plus cycle fade, and the resistance growth that follows.

It is deliberately simple and documented rather than fitted to one chemistry:

- calendar fade: `calendar_fade_per_year` of capacity per year at 25 C, doubling every 10 C warmer
  (an Arrhenius rule of thumb); linear in time, which slightly overstates early fade but is stateless.
- cycle fade: `cycle_fade_per_efc` per equivalent full cycle (EFC), where one EFC is a charge
  throughput of twice the cell's capacity (`|I| dt / (2 * capacity)`).
- SoH = remaining capacity / beginning-of-life capacity (0-1), floored at `min_soh`.
- resistance grows as capacity fades: `1 + resistance_growth_per_fade * (1 - soh)`; with the default
  2.5 a cell at 80 % SoH has 1.5 x its beginning-of-life resistance.

Defaults (2 %/year, 20 % after 5,000 EFC) are typical of stationary LFP/NMC storage datasheets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.batteries.errors import InvalidBatteryParameter

SECONDS_PER_YEAR = 365.25 * 24 * 3600.0


@dataclass(frozen=True)
class AgeingModel:
    """Rates of capacity fade and resistance growth. All fades are fractions of beginning-of-life capacity."""

    calendar_fade_per_year: float = 0.02
    cycle_fade_per_efc: float = 0.2 / 5000.0
    reference_temp_c: float = 25.0
    doubling_temp_c: float = 10.0
    resistance_growth_per_fade: float = 2.5
    min_soh: float = 0.05

    def __post_init__(self) -> None:
        for name in ("calendar_fade_per_year", "cycle_fade_per_efc", "resistance_growth_per_fade"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise InvalidBatteryParameter(f"{name} must be finite and >= 0, got {value!r}")
        if not np.isfinite(self.doubling_temp_c) or self.doubling_temp_c <= 0:
            raise InvalidBatteryParameter(f"doubling_temp_c must be > 0, got {self.doubling_temp_c!r}")
        if not 0.0 < self.min_soh < 1.0:
            raise InvalidBatteryParameter(f"min_soh must be in (0, 1), got {self.min_soh!r}")

    @classmethod
    def none(cls) -> AgeingModel:
        """A model with no fade at all, for experiments that must conserve capacity exactly."""
        return cls(calendar_fade_per_year=0.0, cycle_fade_per_efc=0.0)

    def fade(
        self, dt_s: float, temp_c: np.ndarray, throughput: np.ndarray, capacity: np.ndarray
    ) -> np.ndarray:
        """Capacity fade (fraction of beginning-of-life capacity) accumulated over `dt_s`.

        `throughput` is the charge or energy that passed in the step in either direction (|I| dt in Ah,
        or |P| dt in kWh); `capacity` the beginning-of-life capacity in the same unit.
        """
        # Clamp so that a runaway temperature cannot overflow the exponential.
        temp = np.minimum(np.asarray(temp_c), 150.0)
        temperature_factor = np.exp2((temp - self.reference_temp_c) / self.doubling_temp_c)
        calendar = self.calendar_fade_per_year * dt_s / SECONDS_PER_YEAR * temperature_factor
        cycles = self.cycle_fade_per_efc * throughput / (2.0 * capacity)
        return calendar + cycles

    def aged_soh(self, soh: np.ndarray, fade: np.ndarray) -> np.ndarray:
        """SoH after subtracting `fade`, never below `min_soh`."""
        return np.maximum(soh - fade, self.min_soh)

    def resistance_factor(self, soh: np.ndarray) -> np.ndarray:
        """Multiplier on beginning-of-life resistance for a cell at `soh` (0-1)."""
        return 1.0 + self.resistance_growth_per_fade * (1.0 - np.asarray(soh))
