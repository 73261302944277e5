"""Drift monitor: rolling live forecast error against the backtest error of the model in use."""

from __future__ import annotations

from collections import deque

# One event type for the monitor and the alarm engine (they were twins): the alarms package owns it.
from core.alarms.inputs import ForecastDriftDetected
from core.clock import Clock

__all__ = ["DriftMonitor", "ForecastDriftDetected"]


class DriftMonitor:
    """Feeds on (actual, forecast) pairs as they are realized; reports a crossing once.

    The event fires when the rolling MAE over the last `window_rows` pairs first exceeds
    threshold_ratio x backtest_mae (and the window is full, so one bad hour at start-up does not fire).
    It re-arms only after the ratio falls back below `rearm_ratio`, so a drifting model raises one
    event, not one per hour.
    """

    def __init__(self, *, model_version: str, kind: str, backtest_mae: float, clock: Clock,
                 threshold_ratio: float = 1.5, rearm_ratio: float | None = None, window_rows: int = 168) -> None:
        if backtest_mae <= 0 or threshold_ratio <= 1 or window_rows < 1:
            raise ValueError("need backtest_mae > 0, threshold_ratio > 1 and window_rows >= 1")
        self.model_version = model_version
        self.kind = kind
        self.backtest_mae = backtest_mae
        self.threshold_ratio = threshold_ratio
        self.rearm_ratio = rearm_ratio if rearm_ratio is not None else 1.0 + (threshold_ratio - 1.0) / 2
        self.window_rows = window_rows
        self._clock = clock
        self._errors: deque[float] = deque(maxlen=window_rows)
        self._sum = 0.0
        self._armed = True

    @property
    def live_mae(self) -> float | None:
        return self._sum / len(self._errors) if self._errors else None

    def observe(self, actual: float, forecast: float) -> ForecastDriftDetected | None:
        """Add one realized pair; return the event when the threshold is crossed, else None."""
        error = abs(float(actual) - float(forecast))
        if error != error:  # NaN: a missing actual says nothing about drift
            return None
        if len(self._errors) == self.window_rows:
            self._sum -= self._errors[0]
        self._errors.append(error)
        self._sum += error
        if len(self._errors) < self.window_rows:
            return None
        ratio = (self._sum / self.window_rows) / self.backtest_mae
        if self._armed and ratio > self.threshold_ratio:
            self._armed = False
            return ForecastDriftDetected(self.model_version, ratio, self._clock.now(), kind=self.kind,
                                         live_mae=self._sum / self.window_rows, backtest_mae=self.backtest_mae,
                                         threshold_ratio=self.threshold_ratio, window_rows=self.window_rows)
        if not self._armed and ratio < self.rearm_ratio:
            self._armed = True
        return None
