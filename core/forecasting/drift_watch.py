"""Drift monitoring on real imports: each newly stored price is compared with the forecast the model in use
makes for it from the stored history (its day-ahead lags), and a threshold crossing goes to `sink`
(the runtime hands it to the alarm engine)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Callable

import numpy as np

from core.alarms.inputs import ForecastDriftDetected
from core.clock import Clock
from core.forecasting.drift import DriftMonitor
from core.forecasting.features import build_features
from core.forecasting.price_forecast import lags_available
from core.forecasting.registry import ModelRegistry, ModelRegistryError
from core.market.series import TimeSeries, datetime64_to_utc

log = logging.getLogger(__name__)

PRICE_SERIES = "price"


class PriceDriftWatch:
    """One DriftMonitor for the newest price model; a new model version starts a fresh monitor."""

    def __init__(self, models: ModelRegistry, read_series: Callable[..., TimeSeries], clock: Clock,
                 sink: Callable[[ForecastDriftDetected], None], *, threshold_ratio: float = 1.5,
                 window_rows: int = 168) -> None:
        self.models = models
        self.read_series = read_series  # MarketDataService.read_series
        self.clock = clock
        self.sink = sink
        self.threshold_ratio = threshold_ratio
        self.window_rows = window_rows
        self.monitor: DriftMonitor | None = None
        self._seen: dict[int, float] = {}  # interval start (epoch s) -> actual already observed

    def on_import(self, _result, parsed: dict[str, TimeSeries]) -> list[ForecastDriftDetected]:
        """MarketDataService import listener: observe the new or changed prices, oldest first."""
        series = parsed.get(PRICE_SERIES)
        if series is None or not len(series):
            return []
        try:
            record = self.models.latest("price")
            model = self.models.load(record.version)
        except ModelRegistryError as exc:
            log.warning("drift monitoring skipped: %s", exc)
            return []
        if self.monitor is None or self.monitor.model_version != record.version:
            self.monitor = DriftMonitor(model_version=record.version, kind="price", backtest_mae=record.backtest_mae,
                                        clock=self.clock, threshold_ratio=self.threshold_ratio,
                                        window_rows=self.window_rows)
            self._seen.clear()
        step = timedelta(seconds=model.schema.step_seconds)
        if series.step != step:
            log.info("drift monitoring skipped for %s: step %s, the model's is %s", series.name, series.step, step)
            return []
        back = max(model.schema.lag_steps) * step
        history = self.read_series(PRICE_SERIES, series.first_start - back, series.end, step)
        first = int(history.start_utc[0].astype(np.int64))
        starts = series.start_utc.astype(np.int64)
        actual = series.values
        fresh = np.array([not np.isnan(a) and self._seen.get(int(t)) != a for t, a in zip(starts, actual)], dtype=bool)
        index = (starts - first) // model.schema.step_seconds
        usable = fresh & lags_available(model.schema.lag_steps, index, history)
        if not usable.any():
            return []
        forecast = model.predict(build_features(model.schema, series.start_utc[usable], history)).p50
        events = []
        for start, value, predicted in zip(starts[usable], actual[usable], forecast):
            self._seen[int(start)] = float(value)
            event = self.monitor.observe(value, predicted)
            if event is not None:
                log.warning("forecast drift: %s live MAE %.1f vs backtest %.1f (at %s)", event.model_id,
                            event.live_mae, event.backtest_mae, datetime64_to_utc(np.datetime64(int(start), "s")))
                events.append(event)
                self.sink(event)
        return events
