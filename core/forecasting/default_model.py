"""The default price model shipped in resources/models/, so the demo forecasts on first run.

Rebuild it with:  python -m core.forecasting.default_model PRICES_UTC_CSV [OUT_DIR]
(PRICES_UTC_CSV: the Belgian day-ahead prices in UTC, e.g. be_day_ahead_prices_2022-01_2024-07_utc.csv.)
"""

from __future__ import annotations

import argparse
import importlib.resources
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from core.clock import Clock, SystemClock
from core.forecasting.features import make_schema
from core.forecasting.inference import ForecastModel
from core.forecasting.registry import ModelRecord, ModelRegistry

DEFAULT_ZONE = "Europe/Brussels"
TRAINING_DAYS = 365
BACKTEST_DAYS = 28


@contextmanager
def shipped_registry(clock: Clock | None = None) -> Iterator[ModelRegistry]:
    """The registry in resources/models as a real directory (also inside a zipped or frozen app)."""
    with importlib.resources.as_file(importlib.resources.files("resources") / "models") as directory:
        yield ModelRegistry(directory, clock or SystemClock())


def load_default_price_model() -> ForecastModel:
    """The newest shipped price model, hash-checked."""
    with shipped_registry() as registry:
        return registry.load(registry.latest("price").version)


def train_default_price_model(prices_csv: Path, out_dir: Path, clock: Clock) -> ModelRecord:
    """Train P10/P50/P90 on the last 12 months of `prices_csv` (last 28 days held out) and register it."""
    # Training pulls in scikit-learn; imported here so that loading the default model never does.
    from core.forecasting.training import train_and_backtest
    from core.market.price_csv import import_price_csv

    series = import_price_csv(prices_csv)
    day = 86400
    end_s = int(series.end.timestamp()) // day * day
    test_end = datetime.fromtimestamp(end_s, timezone.utc)
    test_start = test_end - timedelta(days=BACKTEST_DAYS)
    train_start = test_end - timedelta(days=TRAINING_DAYS)
    history = series.slice(train_start - timedelta(days=8), test_end)  # lags reach 7 days back
    trained = train_and_backtest(history, make_schema(zone=DEFAULT_ZONE), kind="price", train_start=train_start,
                                 test_start=test_start, test_end=test_end)
    registry = ModelRegistry(out_dir, clock)
    version = f"price-be-{test_start:%Y%m%d}"
    record = registry.register(trained.onnx_bytes, version=version, kind="price", training_start=train_start,
                               training_end=test_start, backtest_mae=trained.backtest.mae,
                               backtest_mape_pct=trained.backtest.mape_pct)
    (out_dir / f"{version}.backtest.txt").write_text(_backtest_report(trained.backtest, prices_csv), encoding="utf-8")
    return record


def _backtest_report(result, prices_csv: Path) -> str:
    return (
        f"source: {prices_csv.name} (ENTSO-E Transparency Platform data, attribution: ENTSO-E)\n"
        f"held-out rows: {result.rows}\n"
        f"P50 MAE {result.mae:.2f} EUR/MWh, floored MAPE {result.mape_pct:.1f} % (floor {result.mape_floor} EUR/MWh), "
        f"sMAPE {result.smape_pct:.1f} %\n"
        f"naive same-hour-yesterday MAE {result.naive_mae:.2f}, floored MAPE {result.naive_mape_pct:.1f} %, "
        f"sMAPE {result.naive_smape_pct:.1f} %\n"
        f"P10-P90 coverage {result.p10_p90_coverage:.2f} (0.80 if calibrated)\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prices_csv", type=Path)
    parser.add_argument("out_dir", type=Path, nargs="?", default=Path(__file__).resolve().parents[2] / "resources" / "models")
    args = parser.parse_args(argv)
    record = train_default_price_model(args.prices_csv, args.out_dir, SystemClock())
    print(f"registered {record.version} in {args.out_dir}: MAE {record.backtest_mae:.2f} EUR/MWh")
    print((args.out_dir / f"{record.version}.backtest.txt").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
