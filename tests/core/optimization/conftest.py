"""Builders for small optimization problems that can be checked by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.optimization.problem import BatteryParams, PriceSeries

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _hourly(import_price, **kwargs) -> PriceSeries:
    return PriceSeries(START, timedelta(hours=1), import_price, **kwargs)


def _ideal_battery(**overrides) -> BatteryParams:
    """A lossless 0..100 % battery unless told otherwise: makes expected plans easy to compute."""
    params = dict(
        capacity_kwh=20.0, max_charge_kw=5.0, max_discharge_kw=10.0, charge_efficiency=1.0,
        discharge_efficiency=1.0, soc_min_pct=0.0, soc_max_pct=100.0, initial_soc_pct=0.0,
    )  # fmt: skip
    params.update(overrides)
    return BatteryParams(**params)


@pytest.fixture
def hourly():
    """hourly(prices, **kw) -> PriceSeries with 1 h steps from 2026-01-01 00:00 UTC."""
    return _hourly


@pytest.fixture
def ideal_battery():
    """ideal_battery(**overrides) -> BatteryParams (lossless, 20 kWh, 5 kW in, 10 kW out, empty)."""
    return _ideal_battery
