"""Device usage history from the 15-minute rollups (SQL on SQLite and PostgreSQL), and the usual day built from it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import insert

from core.market.usage_history import typical_day, usage_history
from core.telemetry.tables import telemetry_15m
from tests.support.rollup_rows import bucket

T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def test_hourly_usage_is_the_sample_weighted_mean_of_the_quarter_hours(services):
    rows = [bucket("bess-1", T0, 10.0, n=100), bucket("bess-1", T0 + timedelta(minutes=15), 40.0, n=300),
            bucket("bess-1", T0 + timedelta(hours=2), -20.0), bucket("bess-2", T0, 99.0)]
    with services.db.engine.begin() as conn:
        conn.execute(insert(telemetry_15m), rows)
    series = usage_history(services.db, "bess-1", T0, T0 + timedelta(hours=4))
    assert series.unit == "kW" and len(series) == 4
    assert series.values[0] == pytest.approx((10 * 100 + 40 * 300) / 400)
    assert np.isnan(series.values[1]) and series.values[2] == pytest.approx(-20.0) and np.isnan(series.values[3])
    with pytest.raises(ValueError, match="multiple of 15 minutes"):
        usage_history(services.db, "bess-1", T0, T0 + timedelta(hours=1), step=timedelta(minutes=10))


def test_the_usual_day_averages_the_same_hour_over_the_days_and_leaves_unknown_hours_nan(services):
    rows = [bucket("bess-1", T0 + timedelta(days=d, hours=18), 50.0 + 10 * d) for d in range(3)]
    with services.db.engine.begin() as conn:
        conn.execute(insert(telemetry_15m), rows)
    history = usage_history(services.db, "bess-1", T0, T0 + timedelta(days=3))
    usual = typical_day(history, T0 + timedelta(days=3, hours=17), 3)  # 17:00, 18:00, 19:00 the next day
    assert np.isnan(usual[0]) and usual[1] == pytest.approx(60.0) and np.isnan(usual[2])
