"""P10/P50/P90 prices over an optimization horizon: published prices where stored, the model beyond them.

The model is fed only lags that are stored (never its own forecasts), so it reaches as far as its shortest
lag past the last stored price. A horizon longer than that is cut there, and the cut is reported in a note
the operator sees: a plan on guessed-from-guesses prices would look more certain than it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from core.forecasting.features import build_features
from core.forecasting.inference import ForecastModel
from core.market.series import TimeSeries


class ForecastUnavailable(ValueError):
    """Not one step of the horizon can be priced: no stored price and no stored history for the model's lags."""


@dataclass(frozen=True, eq=False)
class PriceBand:
    """Prices per step (EUR/MWh). `published[i]` is True where the price was stored (P10 = P50 = P90 there)."""

    start: datetime
    step: timedelta
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    published: np.ndarray
    requested_steps: int
    notes: tuple[str, ...]

    @property
    def n_steps(self) -> int:
        return int(self.p50.size)

    @property
    def degraded(self) -> bool:
        return self.n_steps < self.requested_steps


def lags_available(lag_steps: tuple[int, ...], index: np.ndarray, history: TimeSeries) -> np.ndarray:
    """Per target (given by its index into `history`): True when every lag input is stored (not NaN)."""
    known = np.ones(index.size, dtype=bool)
    for lag in lag_steps:
        lag_index = index - lag
        inside = (lag_index >= 0) & (lag_index < len(history))
        values = np.where(inside, history.values[np.clip(lag_index, 0, max(len(history) - 1, 0))], np.nan)
        known &= ~np.isnan(values)
    return known


def price_band(model: ForecastModel, history: TimeSeries, start: datetime, n_steps: int) -> PriceBand:
    """Band for `n_steps` steps of the model's step from `start`.

    `history` must be on the model's step and cover [start - longest lag, start + n_steps) with NaN where
    nothing is stored. The band ends before the first step that is neither stored nor forecastable.
    """
    step_s = model.schema.step_seconds
    step = timedelta(seconds=step_s)
    first = int(history.start_utc[0].astype(np.int64))
    target_s = int(start.timestamp()) + np.arange(n_steps, dtype=np.int64) * step_s
    index = (target_s - first) // step_s
    inside = (index >= 0) & (index < len(history))
    stored = np.where(inside, history.values[np.clip(index, 0, len(history) - 1)], np.nan)
    published = ~np.isnan(stored)
    lags_known = lags_available(model.schema.lag_steps, index, history)
    usable = published | lags_known
    reach = int(np.argmin(usable)) if not usable.all() else n_steps
    if reach == 0:
        raise ForecastUnavailable(
            f"no price for {start:%Y-%m-%d %H:%M} UTC: nothing stored there and the model's lags "
            f"({', '.join(model.schema.names[-len(model.schema.lag_steps):])}) need stored prices; import prices first")
    p10, p50, p90 = (stored[:reach].copy() for _ in range(3))
    to_forecast = ~published[:reach]
    notes: list[str] = []
    if to_forecast.any():
        targets = target_s[:reach][to_forecast].astype("datetime64[s]")
        forecast = model.predict(build_features(model.schema, targets, history))
        p10[to_forecast], p50[to_forecast], p90[to_forecast] = forecast.p10, forecast.p50, forecast.p90
        notes.append(f"{int(to_forecast.sum())} of {reach} h forecast by the model, {int(reach - to_forecast.sum())} h "
                     "from published prices")
    if reach < n_steps:
        until = start + reach * step
        notes.append(f"horizon shortened from {n_steps * step_s // 3600} h to {reach * step_s // 3600} h: prices are "
                     f"stored or forecastable only until {until:%Y-%m-%d %H:%M} UTC (the model forecasts at most "
                     f"{min(model.schema.lag_steps) * step_s // 3600} h past the last stored price)")
    for array in (p10, p50, p90):
        array.setflags(write=False)
    return PriceBand(start, step, p10, p50, p90, published[:reach], n_steps, tuple(notes))
