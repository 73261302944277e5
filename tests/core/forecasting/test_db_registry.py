"""The model registry with its records in the database (SQLite and PostgreSQL): same interface, same hash check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.forecasting.db_registry import DbRecordStore, seed_from
from core.forecasting.default_model import shipped_registry
from core.forecasting.registry import ModelIntegrityError, ModelRegistry, ModelRegistryError
from core.forecasting.tables import ForecastModelRow


def test_db_registry_records_version_window_schema_hash_and_backtest(services, clock, tmp_path):
    registry = ModelRegistry(tmp_path / "models", clock, DbRecordStore(services.db))
    with shipped_registry() as shipped:
        assert seed_from(registry, shipped) == ["price-be-20240701"]
        assert seed_from(registry, shipped) == []  # idempotent on the next start
        shipped_record = shipped.latest("price")
    record = registry.latest("price")
    assert (record.sha256, record.feature_schema, record.training_start, record.backtest_mae) == (
        shipped_record.sha256, shipped_record.feature_schema, shipped_record.training_start, shipped_record.backtest_mae)
    with services.db.session() as s:
        row = s.query(ForecastModelRow).one()
        assert row.version == "price-be-20240701" and row.backtest_mape_pct == pytest.approx(shipped_record.backtest_mape_pct)
    assert (tmp_path / "models" / record.file_name).exists()
    assert registry.load(record.version).kind == "price"
    clock.advance(timedelta(hours=1))
    data = (tmp_path / "models" / record.file_name).read_bytes()
    registry.register(data, version="price-v2", kind="price", training_start=record.training_start,
                      training_end=record.training_end, backtest_mae=10.0, backtest_mape_pct=20.0)
    assert registry.latest("price").version == "price-v2"
    with pytest.raises(ModelRegistryError, match="already"):
        registry.register(data, version="price-v2", kind="price", training_start=record.training_start,
                          training_end=record.training_end, backtest_mae=10.0, backtest_mape_pct=20.0)


def test_db_registry_refuses_a_changed_file(services, clock, tmp_path):
    registry = ModelRegistry(tmp_path, clock, DbRecordStore(services.db))
    with shipped_registry() as shipped:
        seed_from(registry, shipped)
    path = tmp_path / registry.latest("price").file_name
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="refused"):
        registry.load("price-be-20240701")
