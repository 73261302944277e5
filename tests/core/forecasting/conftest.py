from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.forecasting.features import make_schema
from core.market.price_csv import import_price_csv

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "timeseries"
UTC = timezone.utc


@pytest.fixture(scope="session")
def spring_2024_prices():
    return import_price_csv(FIXTURES / "be_day_ahead_prices_utc_2024-03_2024-05.csv")


@pytest.fixture(scope="session")
def trained_price_model(spring_2024_prices):
    """Trained once per session on real March-May 2024 Belgian prices (2 s on one core)."""
    from core.forecasting.training import TrainingConfig, train_and_backtest

    return train_and_backtest(spring_2024_prices, make_schema(), kind="price",
                              train_start=datetime(2024, 3, 8, tzinfo=UTC), test_start=datetime(2024, 5, 15, tzinfo=UTC),
                              test_end=datetime(2024, 6, 1, tzinfo=UTC), config=TrainingConfig(max_iter=80))
