"""Checks shared by the battery models: turn scalars or arrays into validated float arrays or raise."""

from __future__ import annotations

import numpy as np

from core.batteries.errors import InvalidBatteryParameter


def as_float_array(name: str, value: object, n: int) -> np.ndarray:
    """Broadcast `value` (scalar or length-`n` array) to a fresh float64 array of shape (n,).

    Raises InvalidBatteryParameter when the shape does not fit or any entry is NaN or infinite.
    """
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidBatteryParameter(f"{name} must be numeric, got {value!r}") from exc
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise InvalidBatteryParameter(f"{name} must be a scalar or have shape ({n},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidBatteryParameter(f"{name} must be finite, got {arr[~np.isfinite(arr)][:3]}")
    return arr


def require_in_range(name: str, arr: np.ndarray, low: float, high: float, *, low_open: bool = False) -> None:
    """Raise InvalidBatteryParameter unless every entry lies in [low, high] (or (low, high] if low_open)."""
    bad = (arr <= low) if low_open else (arr < low)
    bad |= arr > high
    if np.any(bad):
        bracket = "(" if low_open else "["
        raise InvalidBatteryParameter(
            f"{name} must be in {bracket}{low}, {high}], got {arr[bad][:3]} at index {np.flatnonzero(bad)[:3]}"
        )


def require_positive(name: str, arr: np.ndarray) -> None:
    """Raise InvalidBatteryParameter unless every entry is strictly positive."""
    require_in_range(name, arr, 0.0, np.inf, low_open=True)


def require_dt(dt_s: float) -> float:
    """Validate a time step: finite and >= 0 s (0 is allowed: it applies a new current without elapsed time)."""
    dt = float(dt_s)
    if not np.isfinite(dt) or dt < 0.0:
        raise InvalidBatteryParameter(f"dt_s must be finite and >= 0, got {dt_s!r}")
    return dt
