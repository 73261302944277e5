"""Model inputs: calendar features in the market's local time, lagged values, optional temperature.

The FeatureSchema is stored inside every model file, so a model can only be fed the columns it was
trained on, in the same order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from core.market.series import TimeSeries
from core.market.timestamps import utc_offset_seconds

CALENDAR_FEATURES = ("hour_sin", "hour_cos", "day_of_week", "weekend", "month_sin", "month_cos")


class FeatureError(ValueError):
    """Features cannot be built or do not fit a model's schema."""


@dataclass(frozen=True)
class FeatureSchema:
    """Ordered feature names and how to compute them; serialised with the model."""

    names: tuple[str, ...]
    lag_steps: tuple[int, ...]
    step_seconds: int
    zone: str
    dtype: str = "float32"

    @property
    def uses_temperature(self) -> bool:
        return "temperature_c" in self.names

    def to_json(self) -> str:
        return json.dumps({"names": list(self.names), "lag_steps": list(self.lag_steps),
                           "step_seconds": self.step_seconds, "zone": self.zone, "dtype": self.dtype}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "FeatureSchema":
        data = json.loads(text)
        return cls(tuple(data["names"]), tuple(data["lag_steps"]), int(data["step_seconds"]), data["zone"],
                   data.get("dtype", "float32"))


def make_schema(*, step: timedelta = timedelta(hours=1),
                lags: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=168)),
                zone: str = "Europe/Brussels", temperature: bool = False) -> FeatureSchema:
    """Schema with calendar features, one column per lag (named like 'lag_24h') and optionally temperature_c.

    Calendar features use `zone` because prices and load follow local clocks, not UTC.
    """
    step_s = int(step.total_seconds())
    lag_steps = []
    for lag in lags:
        if lag.total_seconds() % step_s:
            raise FeatureError(f"lag {lag} is not a whole number of steps of {step}")
        lag_steps.append(int(lag.total_seconds()) // step_s)
    lag_names = tuple(f"lag_{int(lag.total_seconds()) // 3600}h" if lag.total_seconds() % 3600 == 0
                      else f"lag_{int(lag.total_seconds()) // 60}min" for lag in lags)
    names = CALENDAR_FEATURES + lag_names + (("temperature_c",) if temperature else ())
    return FeatureSchema(names, tuple(lag_steps), step_s, zone)


def calendar_features(start_seconds: np.ndarray, zone: str) -> np.ndarray:
    """(n, 6) float64: hour of day sin/cos, day of week (Mon=0), weekend flag, month sin/cos, in local time."""
    seconds = np.asarray(start_seconds, dtype=np.int64)
    local = seconds + utc_offset_seconds(seconds, zone)
    hour = (local % 86400) / 3600.0
    day_of_week = (local // 86400 + 3) % 7  # 1970-01-01 was a Thursday
    month = local.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12
    angle_h = 2 * np.pi * hour / 24.0
    angle_m = 2 * np.pi * month / 12.0
    return np.column_stack([np.sin(angle_h), np.cos(angle_h), day_of_week, day_of_week >= 5,
                            np.sin(angle_m), np.cos(angle_m)]).astype(np.float64)


def build_features(schema: FeatureSchema, target_start_utc: np.ndarray, history: TimeSeries,
                   temperature_c: np.ndarray | None = None) -> np.ndarray:
    """Feature matrix (n, len(schema.names)) for the intervals starting at target_start_utc (datetime64[s]).

    Each lag column is the history value `lag` before the target interval. A lag that falls outside the
    history, or on a missing value, raises FeatureError naming the time: a forecast is never fed a guess.
    """
    if history.step_seconds != schema.step_seconds:
        raise FeatureError(f"history step {history.step} does not match the model's {schema.step_seconds} s")
    targets = np.asarray(target_start_utc, dtype="datetime64[s]").astype(np.int64).reshape(-1)
    columns = [calendar_features(targets, schema.zone)]
    first = int(history.start_utc[0].astype(np.int64)) if len(history) else 0
    for lag in schema.lag_steps:
        source = targets - lag * schema.step_seconds
        index = (source - first) // schema.step_seconds
        bad = (index < 0) | (index >= len(history)) | ((source - first) % schema.step_seconds != 0)
        if bad.any():
            when = np.datetime64(int(source[np.argmax(bad)]), "s")
            raise FeatureError(f"lag of {lag} step(s) needs history at {when}Z, which the history does not hold")
        values = history.values[index]
        if np.isnan(values).any():
            when = np.datetime64(int(source[np.argmax(np.isnan(values))]), "s")
            raise FeatureError(f"lag of {lag} step(s) needs history at {when}Z, which is missing (NaN)")
        columns.append(values[:, None])
    if schema.uses_temperature:
        if temperature_c is None or np.asarray(temperature_c).shape != targets.shape:
            raise FeatureError("this schema needs temperature_c with one value per target interval")
        columns.append(np.asarray(temperature_c, dtype=np.float64)[:, None])
    return np.hstack(columns).astype(schema.dtype)


def training_rows(schema: FeatureSchema, series: TimeSeries, temperature_c: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, starts) for every interval of `series` whose lags and own value are all present."""
    max_lag = max(schema.lag_steps, default=0)
    if len(series) <= max_lag:
        raise FeatureError(f"{len(series)} values cannot feed a lag of {max_lag} steps")
    starts = series.start_utc[max_lag:]
    y = series.values[max_lag:]
    lagged = np.column_stack([series.values[max_lag - lag:len(series) - lag] for lag in schema.lag_steps])
    usable = ~np.isnan(y) & ~np.isnan(lagged).any(axis=1)
    temperature = None if temperature_c is None else np.asarray(temperature_c)[max_lag:][usable]
    X = build_features(schema, starts[usable], series, temperature)
    return X, y[usable], starts[usable]
