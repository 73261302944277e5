"""Building samples and reading tables back, for the telemetry tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from core.fleet.samples import PackCellSample, TelemetrySample
from core.storage.schema import metadata

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)  # the ManualClock's start, on a quarter hour


def sample(device_id: str, at_s: float, power_kw: float = 0.0, soc_pct: float = 50.0, **values) -> TelemetrySample:
    ts = T0 + timedelta(seconds=at_s)
    fields = dict(voltage_v=800.0, current_a=0.0, temp_c=25.0, soh_pct=98.0, mode=0)
    fields.update(values)
    return TelemetrySample(device_id=device_id, ts=ts, received_at=ts, soc_pct=soc_pct, power_kw=power_kw, **fields)


def cells(device_id: str, pack: int, at_s: float, voltage_v, temp_c=None, soc_pct=None, soh_pct=None, current_a=1.5) -> PackCellSample:
    n = len(voltage_v)
    ts = T0 + timedelta(seconds=at_s)
    return PackCellSample(
        device_id=device_id, pack=pack, ts=ts, received_at=ts, voltage_v=tuple(voltage_v),
        temp_c=tuple(temp_c or [25.0] * n), soc_pct=tuple(soc_pct or [50.0] * n), soh_pct=tuple(soh_pct or [99.0] * n),
        current_a=current_a,
    )


def count(db, table_name: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(metadata.tables[table_name])).scalar_one()


def rows(db, table_name: str, order_by: tuple[str, ...] = ("device_id",)) -> list[dict]:
    table = metadata.tables[table_name]
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(*(table.c[c] for c in order_by))).mappings()]
