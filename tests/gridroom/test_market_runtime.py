"""Market data in the runtime: a drifted price file dropped into the watched folder is imported by the runtime's
poll, the drift watch compares it with the model's forecasts, and ForecastDriftDetected reaches the alarm engine."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from core.alarms.messages import ListActiveAlarms
from core.alarms.inputs import ForecastDriftDetected
from core.audit.trail import AuditFilter
from core.auth.principal import SYSTEM
from core.forecasting.retrain import RetrainSettings
from core.fleet.live_state import LiveState
from core.market.service import MarketDataService
from core.runtime.runtime import Runtime
from gridroom.alarm_runtime import AlarmRuntimeService
from gridroom.market_runtime import MarketImportsPolled, MarketRuntimeService, PriceModelRetrained, model_registry
from tests.support.people import make_people

PRICES = Path(__file__).resolve().parents[1] / "fixtures" / "timeseries" / "be_day_ahead_prices_utc_2024-03_2024-05.csv"


def drifted_copy(target: Path, last_hours: int, shift_eur: float) -> Path:
    """The fixture's last hours with every price shifted: what a market regime change looks like to the model."""
    lines = PRICES.read_text().splitlines()
    rows = [line.split(",") for line in lines[-last_hours:]]
    target.write_text(lines[0] + "\n" + "".join(f"{t},{float(p) + shift_eur:.2f}\n" for t, p in rows))
    return target


@pytest.fixture
def market_setup(sqlite_services, tmp_path):
    people = make_people(sqlite_services)
    market = MarketDataService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer,
                               sqlite_services.clock)
    models = model_registry(sqlite_services, tmp_path / "models")
    folder = tmp_path / "drop"
    folder.mkdir()
    service = MarketRuntimeService(sqlite_services, market, models, watched_folder=folder, period_s=3600,
                                   retrain_cooldown=timedelta(hours=6),
                                   retrain=RetrainSettings(training_days=42, backtest_days=7, max_iter=40))
    return service, market, people, folder


def test_real_prices_do_not_drift_and_a_shifted_week_raises_a_drift_alarm_through_the_runtime(
        market_setup, sqlite_services):
    service, market, people, folder = market_setup
    raised = []
    service.drift_sinks.append(raised.append)
    assert market.import_file(people["tom"], PRICES).ok
    assert raised == []  # the shipped model tracks spring 2024 within 1.5 x its backtest error

    alarms = AlarmRuntimeService(sqlite_services, LiveState())
    service.drift_sinks.append(alarms.submit_event)
    drift_alarm = threading.Event()
    alarms.alarms.add_listener(lambda transitions: any(t.alarm_id.startswith("forecast_drift") for t in transitions)
                               and drift_alarm.set())
    polled = threading.Event()
    service.poll_listeners.append(lambda report: polled.set())
    drifted_copy(folder / "late_may.csv", 240, 150.0)
    runtime = Runtime(clock=sqlite_services.clock)
    runtime.add_service(alarms)
    runtime.add_service(service)
    runtime.start()
    try:
        assert drift_alarm.wait(30), "no forecast-drift alarm reached the engine"
        assert polled.wait(30), "the watched folder was not polled"  # the alarm can come before the report
        active = runtime.submit(ListActiveAlarms(SYSTEM)).result(10)
        drift = [a for a in active if a.alarm_id.startswith("forecast_drift")]
        assert drift and drift[0].source_id == "price-be-20240701"
        assert raised[0].drift_score > 1.5 and raised[0].backtest_mae == pytest.approx(19.51, abs=0.01)
        polled = [e for e in runtime.drain_events() if isinstance(e, MarketImportsPolled)]
        assert polled[0].report.imported[0].counts.replaced == 240
        assert (folder / "processed" / "late_may.csv").exists()
    finally:
        runtime.stop()


def test_drift_retrains_the_price_model_in_the_runtime_once_per_cooldown_as_system(
        market_setup, sqlite_services, clock):
    service, market, people, folder = market_setup
    assert market.import_file(people["tom"], PRICES).ok
    clock.advance(60)  # the registry's newest model is the latest created: not in the seeded model's second
    retrained = threading.Event()
    service.retrain.listeners.append(lambda record: retrained.set())
    drifted_copy(folder / "late_may.csv", 240, 150.0)
    runtime = Runtime(clock=sqlite_services.clock)
    runtime.add_service(service)
    runtime.start()
    try:
        assert retrained.wait(120), "drift did not retrain the model"
        first = service.models.latest("price")
        assert first.version != "price-be-20240701" and first.training_end.isoformat().startswith("2024-05-25")
        assert service.retrain.last_started == clock.now()
        # More drift inside the cool-down (the same file raises it many times): no second retrain.
        event = ForecastDriftDetected(first.version, 2.0, clock.now())
        clock.advance(timedelta(hours=5, minutes=59))
        assert service.retrain.on_drift(event) is None
        clock.advance(timedelta(minutes=1))
        second = service.retrain.on_drift(event).result(120)
        assert service.models.latest("price").version == second.version != first.version
    finally:
        runtime.stop()
    events = [e.record.version for e in runtime.drain_events() if isinstance(e, PriceModelRetrained)]
    assert events == [first.version, second.version]
    audit = sqlite_services.audit_log.query(people["chief"], AuditFilter(action="forecast.retrain"))
    assert [e.username for e in audit] == ["system", "system"]
    assert audit[-1].detail["reason"].startswith("drift of price-be-20240701")
