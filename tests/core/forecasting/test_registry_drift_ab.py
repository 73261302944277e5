"""Registry integrity, drift detection on a scripted error series, A/B assignment and comparison."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from core.clock import ManualClock
from core.forecasting.ab_test import assign_ab, compare_realized_error
from core.forecasting.default_model import load_default_price_model, shipped_registry
from core.forecasting.drift import DriftMonitor, ForecastDriftDetected
from core.forecasting.registry import ModelIntegrityError, ModelRegistry, ModelRegistryError

UTC = timezone.utc


def _register(registry, model, version):
    return registry.register(model.onnx_bytes, version=version, kind="price", training_start=model.training_start,
                             training_end=model.training_end, backtest_mae=model.backtest.mae,
                             backtest_mape_pct=model.backtest.mape_pct)


def test_register_list_get_latest_load(tmp_path, trained_price_model):
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    registry = ModelRegistry(tmp_path, clock)
    first = _register(registry, trained_price_model, "price-a")
    clock.advance(timedelta(hours=1))
    _register(registry, trained_price_model, "price-b")
    assert [r.version for r in registry.list("price")] == ["price-a", "price-b"]
    assert registry.latest("price").version == "price-b" and registry.list("load") == ()
    assert registry.get("price-a") == first and first.feature_schema == trained_price_model.schema
    reopened = ModelRegistry(tmp_path, clock)  # the manifest round-trips through JSON
    assert reopened.get("price-a") == first
    assert reopened.load("price-a").schema == trained_price_model.schema
    with pytest.raises(ModelRegistryError, match="already"):
        _register(registry, trained_price_model, "price-a")
    with pytest.raises(ModelRegistryError, match="no model version"):
        registry.get("nope")


def test_tampered_model_file_is_refused(tmp_path, trained_price_model):
    registry = ModelRegistry(tmp_path, ManualClock())
    record = _register(registry, trained_price_model, "price-a")
    path = tmp_path / record.file_name
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="refused"):
        registry.load("price-a")


def test_shipped_default_model_loads_and_forecasts():
    model = load_default_price_model()
    with shipped_registry() as registry:
        record = registry.latest("price")
    assert model.kind == "price" and record.backtest_mae > 0
    forecast = model.predict(np.zeros((2, len(model.schema.names)), dtype=np.float32) + 80.0)
    assert forecast.p10.shape == (2,) and np.all(forecast.p10 <= forecast.p90)


def test_drift_fires_once_on_scripted_errors_and_rearms():
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    monitor = DriftMonitor(model_version="price-a", kind="price", backtest_mae=10.0, clock=clock,
                           threshold_ratio=1.5, window_rows=24)
    events = []
    script = [8.0] * 48 + [25.0] * 48 + [5.0] * 48 + [30.0] * 48  # good, drifting, recovered, drifting again
    for hour, error in enumerate(script):
        clock.advance(timedelta(hours=1))
        event = monitor.observe(actual=100.0 + error, forecast=100.0)
        if event:
            events.append((hour, event))
    # (8*(24-k) + 25*k)/24 > 15 first at k = 10 bad hours -> hour 57; (5*(24-k) + 30*k)/24 > 15 at k = 10 -> 153
    assert [hour for hour, _ in events] == [57, 153]
    first = events[0][1]
    assert isinstance(first, ForecastDriftDetected) and first.drift_score > 1.5 and first.model_id == "price-a"
    assert first.at == datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=58)
    with pytest.raises(Exception):
        first.drift_score = 0  # frozen


def test_drift_needs_a_full_window():
    monitor = DriftMonitor(model_version="v", kind="price", backtest_mae=1.0, clock=ManualClock(), window_rows=10)
    assert all(monitor.observe(100.0, 0.0) is None for _ in range(9))
    assert monitor.observe(100.0, 0.0) is not None


def test_ab_assignment_is_stable_and_comparison_picks_lower_error():
    devices = [f"bess-{i:04d}" for i in range(1000)]
    assignment = assign_ab(devices, "price-a", "price-b", salt="2026-q1")
    again = assign_ab(reversed(devices), "price-a", "price-b", salt="2026-q1")
    assert dict(assignment.version_by_subject) == dict(again.version_by_subject)
    share_b = sum(v == "price-b" for v in assignment.version_by_subject.values()) / len(devices)
    assert 0.45 < share_b < 0.55
    actual = np.full(24, 100.0)
    realized = {d: (actual, actual + (5.0 if assignment.version_for(d) == "price-a" else 2.0)) for d in devices}
    comparison = compare_realized_error(assignment, realized)
    assert comparison.mae_a == pytest.approx(5.0) and comparison.mae_b == pytest.approx(2.0)
    assert comparison.better_version == "price-b"
    with pytest.raises(KeyError):
        compare_realized_error(assignment, {"stranger": (actual, actual)})
