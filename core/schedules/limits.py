"""The DeviceLimits a schedule is validated with, from what the registry knows about a device and its live SoC.

One place, so the runtime (which validates drafts) and the desktop editor (which validates while the
operator types) check against the same numbers.
"""

from __future__ import annotations

import math

from core.schedules.model import DeviceLimits

# Until the registry records them per device: the SoC window and one-way efficiencies schedules are checked with.
SOC_MIN_PCT, SOC_MAX_PCT, EFFICIENCY = 5.0, 95.0, 0.95
# When no SoC has been seen yet, the trajectory starts mid-window rather than at a bound.
UNKNOWN_SOC_PCT = 50.0


def device_limits(device_id: str, capacity_kwh: float, max_charge_kw: float, max_discharge_kw: float,
                  soc_pct: float = math.nan) -> DeviceLimits:
    """Limits for a device from its registered capacity and rates; a NaN SoC (never seen) counts as 50 %."""
    soc = soc_pct if math.isfinite(soc_pct) else UNKNOWN_SOC_PCT
    return DeviceLimits(device_id, capacity_kwh, max_charge_kw, max_discharge_kw, SOC_MIN_PCT, SOC_MAX_PCT,
                        EFFICIENCY, EFFICIENCY, min(max(soc, 0.0), 100.0))
