"""Forecast error measures that stay meaningful when prices are near zero or negative."""

from __future__ import annotations

import numpy as np

# Belgian day-ahead prices cross zero several hundred hours a year; dividing by |price| there makes MAPE
# explode. MAPE is therefore computed against max(|actual|, floor); 10 EUR/MWh is ~10 % of a typical price.
DEFAULT_MAPE_FLOOR = 10.0


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error, in the unit of the series."""
    return float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))))


def floored_mape_pct(actual: np.ndarray, forecast: np.ndarray, floor: float = DEFAULT_MAPE_FLOOR) -> float:
    """Mean absolute percentage error with the denominator floored at `floor` (same unit as the series)."""
    actual = np.asarray(actual, float)
    error = np.abs(actual - np.asarray(forecast, float))
    return float(100.0 * np.mean(error / np.maximum(np.abs(actual), floor)))


def smape_pct(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent (0-200); a row where both are 0 counts as 0 error."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2.0 * np.abs(actual - forecast), denominator, out=np.zeros_like(denominator),
                      where=denominator > 0)
    return float(100.0 * np.mean(ratio))
