"""Retraining on stored prices: a new registered version with its window and backtest, audited; drift triggers it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.alarms.inputs import ForecastDriftDetected
from core.audit.trail import AuditFilter
from core.clock import ManualClock
from core.errors import PermissionDenied
from core.forecasting.db_registry import DbRecordStore
from core.forecasting.registry import ModelRegistry
from core.forecasting.retrain import PriceModelRetrainer, RetrainRefused, RetrainSettings
from core.market.service import MarketDataService
from tests.support.people import make_people

UTC = timezone.utc
PRICES = Path(__file__).resolve().parents[2] / "fixtures" / "timeseries" / "be_day_ahead_prices_utc_2024-03_2024-05.csv"


@pytest.fixture
def clock():
    return ManualClock(datetime(2024, 6, 1, 6, tzinfo=UTC))


def test_retrain_registers_a_new_version_and_drift_triggers_another(sqlite_services, clock, tmp_path):
    people = make_people(sqlite_services)
    s = sqlite_services
    market = MarketDataService(s.db, s.audit, s.authorizer, clock)
    registry = ModelRegistry(tmp_path, clock, DbRecordStore(s.db))
    retrainer = PriceModelRetrainer(s.db, s.audit, s.authorizer, market.read_series, market.last_start, registry,
                                    clock, RetrainSettings(training_days=42, backtest_days=7, max_iter=40))
    with pytest.raises(RetrainRefused, match="import prices"):
        retrainer.retrain(people["tom"])
    market.import_file(people["tom"], PRICES)
    with pytest.raises(PermissionDenied):
        retrainer.retrain(people["vic"])
    record = retrainer.retrain(people["tom"])
    assert registry.latest("price").version == record.version
    assert record.training_end == datetime(2024, 5, 25, tzinfo=UTC) and record.backtest_mae > 0
    assert registry.load(record.version).kind == "price"
    clock.advance(60)
    triggered = retrainer.on_drift(ForecastDriftDetected(record.version, 2.1, clock.now()))
    assert registry.latest("price").version == triggered.version != record.version
    audit = s.audit_log.query(people["chief"], AuditFilter(action="forecast.retrain"))
    assert [(e.username, e.detail["reason"].split(" ")[0]) for e in audit] == [("system", "drift"), ("tom", "manual")]
