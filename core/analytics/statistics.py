"""Summary statistics over the devices of an analytics result (what the view's table and the report show)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from core.analytics.model import DeviceTotals, SummaryStatistic

# (metric, unit, value of one device or None when it has none, whether a fleet total means something)
_METRICS: tuple[tuple[str, str, Callable[[DeviceTotals], float | None], bool], ...] = (
    ("energy charged", "kWh", lambda d: d.charged_kwh, True),
    ("energy discharged", "kWh", lambda d: d.discharged_kwh, True),
    ("cost of charging", "", lambda d: d.cost, True),
    ("revenue from discharging", "", lambda d: d.revenue, True),
    ("availability", "%", lambda d: d.availability_pct, False),
    ("average SoC", "%", lambda d: d.soc_avg_pct, False),
    ("latest SoH", "%", lambda d: d.soh_last_pct, False),
    ("schedule adherence", "%", lambda d: d.adherence_pct, False),
    ("alarm activations", "", lambda d: float(d.alarm_activations), True),
)


def summary_statistics(devices: Sequence[DeviceTotals], currency: str = "EUR") -> tuple[SummaryStatistic, ...]:
    """Per metric: devices with a value, total (where it adds up), mean, median, min and max."""
    out = []
    for metric, unit, value_of, additive in _METRICS:
        values = [v for v in (value_of(d) for d in devices) if v is not None]
        if not values:
            continue
        x = np.asarray(values, dtype=np.float64)
        out.append(SummaryStatistic(metric, unit or (currency if metric.startswith(("cost", "revenue")) else ""),
                                    len(values), float(x.sum()) if additive else None, float(x.mean()),
                                    float(np.median(x)), float(x.min()), float(x.max())))
    return tuple(out)
