"""The model registry's records in the database (table forecast_models); files stay under the data folder.

Used with ModelRegistry(directory, clock, DbRecordStore(db)), so register/list/latest/load and the sha256
check on load are the same code for the shipped JSON manifest and an installation's database.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.forecasting.features import FeatureSchema
from core.forecasting.registry import ModelRecord, ModelRegistry, ModelRegistryError
from core.forecasting.tables import ForecastModelRow
from core.storage.database import Database


class DbRecordStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def read_all(self) -> list[ModelRecord]:
        with self.db.session() as s:
            rows = s.execute(select(ForecastModelRow).order_by(ForecastModelRow.id)).scalars().all()
            return [_record_of(r) for r in rows]

    def add(self, record: ModelRecord) -> None:
        try:
            with self.db.session() as s:
                s.add(ForecastModelRow(
                    version=record.version, kind=record.kind, file_name=record.file_name, sha256=record.sha256,
                    training_start=record.training_start, training_end=record.training_end,
                    feature_schema_json=record.feature_schema.to_json(), backtest_mae=record.backtest_mae,
                    backtest_mape_pct=record.backtest_mape_pct, created_at=record.created_at))
        except IntegrityError as exc:  # two trainers racing for one version name
            raise ModelRegistryError(f"version {record.version!r} is already registered") from exc


def _record_of(row: ForecastModelRow) -> ModelRecord:
    return ModelRecord(version=row.version, kind=row.kind, file_name=row.file_name, sha256=row.sha256,
                       training_start=row.training_start, training_end=row.training_end,
                       feature_schema=FeatureSchema.from_json(row.feature_schema_json),
                       backtest_mae=row.backtest_mae, backtest_mape_pct=row.backtest_mape_pct,
                       created_at=row.created_at)


def seed_from(registry: ModelRegistry, shipped: ModelRegistry) -> list[str]:
    """Copy the shipped models that `registry` does not hold yet (first start); returns the versions copied.

    Each file is re-registered from its bytes after the shipped registry's hash check, so a damaged
    installation file is refused here, not at the first forecast.
    """
    known = {r.version for r in registry.list()}
    copied = []
    for record in shipped.list():
        if record.version in known:
            continue
        shipped.load(record.version)  # hash check
        data = (shipped.directory / record.file_name).read_bytes()
        registry.register(data, version=record.version, kind=record.kind, training_start=record.training_start,
                          training_end=record.training_end, backtest_mae=record.backtest_mae,
                          backtest_mape_pct=record.backtest_mape_pct)
        copied.append(record.version)
    return copied

