"""Anomalies in daily energy, by robust z-score (Iglewicz and Hoaglin's modified z, 0.6745 (x - median) / MAD).

Median and MAD are not dragged along by the outlier itself, as mean and standard deviation are, so one wild
day among a few normal ones is still found. Two comparisons, each with its own reason:
- a device against its own other days ("unusual for this device"), needs at least MIN_POINTS days;
- a device against the rest of the fleet on the same day ("unusual against the fleet"), needs MIN_POINTS
  devices.
When MAD is 0 (more than half the values equal) the mean absolute deviation stands in (scaled by 1.2533 so
both estimate one standard deviation for normal data); when both are 0, nothing is unusual.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import numpy as np

from core.analytics.model import Anomaly, DeviceDay

Z_THRESHOLD = 3.5  # Iglewicz and Hoaglin's recommended cut-off
MIN_POINTS = 5
MIN_DEVIATION_KWH = 1.0  # a 0.2 kWh wobble of an idle device is not worth an operator's look
# Nor is 3 % more than usual on a steady unit: with very regular days the MAD is tiny and z alone would flag it.
MIN_RELATIVE_DEVIATION = 0.10


def robust_z(values: Sequence[float]) -> np.ndarray:
    """Modified z-score of each value against all of them; zeros when the values have no spread."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return x
    median = float(np.median(x))
    mad = float(np.median(np.abs(x - median)))
    if mad > 0:
        return 0.6745 * (x - median) / mad
    mean_ad = float(np.mean(np.abs(x - median)))
    if mean_ad > 0:
        return (x - median) / (1.253314 * mean_ad)
    return np.zeros_like(x)


def outliers(values: Sequence[float], threshold: float = Z_THRESHOLD) -> list[tuple[int, float]]:
    """(index, z) of every value whose |robust z| exceeds `threshold`."""
    z = robust_z(values)
    return [(i, float(zi)) for i, zi in enumerate(z) if abs(zi) > threshold]


def _describe(value: float, median: float, z: float, against: str) -> str:
    direction = "above" if z > 0 else "below"
    return (f"energy throughput {value:,.1f} kWh is {abs(z):.1f} robust z {direction} the median "
            f"{median:,.1f} kWh of {against}")


def daily_energy_anomalies(days: Sequence[DeviceDay], threshold: float = Z_THRESHOLD) -> list[Anomaly]:
    """Flag device-days whose throughput (charged + discharged kWh) is unusual, with the reason."""
    found: dict[tuple[str, date], Anomaly] = {}

    def consider(group: list[DeviceDay], against: str) -> None:
        if len(group) < MIN_POINTS:
            return
        values = [d.throughput_kwh for d in group]
        median = float(np.median(values))
        for i, z in outliers(values, threshold):
            d = group[i]
            deviation = abs(d.throughput_kwh - median)
            if deviation < MIN_DEVIATION_KWH or deviation < MIN_RELATIVE_DEVIATION * abs(median):
                continue
            key = (d.device_id, d.day)
            if key not in found or abs(z) > abs(found[key].robust_z):
                found[key] = Anomaly(d.device_id, d.day, "throughput_kwh", d.throughput_kwh, median, round(z, 2),
                                     _describe(d.throughput_kwh, median, z, against))

    by_device: dict[str, list[DeviceDay]] = defaultdict(list)
    by_day: dict[date, list[DeviceDay]] = defaultdict(list)
    for d in days:
        by_device[d.device_id].append(d)
        by_day[d.day].append(d)
    for device_id, group in by_device.items():
        consider(sorted(group, key=lambda d: d.day), f"{device_id}'s days in the period")
    for day, group in by_day.items():
        consider(sorted(group, key=lambda d: d.device_id), f"the fleet on {day.isoformat()}")
    return sorted(found.values(), key=lambda a: (a.day, a.device_id))
