"""Device keys of the bulk tables: walking distinct devices through a primary key, and the small integer
keys that cell_samples stores instead of device id text."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from core.telemetry.tables import telemetry_device_keys


def distinct_keys(conn: Connection, column: Column) -> list:
    """Every distinct value of column (the first column of its table's primary key), in order.

    ``SELECT DISTINCT`` would read the whole table on SQLite (no skip-scan without ANALYZE). Asking for the
    next value after the last one found is one primary-key seek per device on both backends, which is why
    the bulk tables need no index beyond their (device, time) key.
    """
    found_all: list = []
    stmt = select(func.min(column))
    while True:
        found = conn.execute(stmt if not found_all else stmt.where(column > found_all[-1])).scalar()
        if found is None:
            return found_all
        found_all.append(found)


def distinct_device_ids(conn: Connection, table: Table) -> list[str]:
    """Every device_id in table, in order (see distinct_keys)."""
    return distinct_keys(conn, table.c.device_id)


def device_key(conn: Connection, device_id: str) -> int | None:
    """The stored key of device_id, or None when it has no cell rows (never had a key)."""
    k = telemetry_device_keys
    return conn.execute(select(k.c.device_key).where(k.c.device_id == device_id)).scalar()


def ensure_device_keys(conn: Connection, device_ids: Iterable[str]) -> dict[str, int]:
    """Keys of device_ids, assigning new ones as needed (in conn's transaction; safe against a concurrent
    writer: insert-if-absent, then read back)."""
    wanted = sorted(set(device_ids))
    if not wanted:
        return {}
    k = telemetry_device_keys
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    conn.execute(dialect.insert(k).on_conflict_do_nothing(index_elements=["device_id"]), [{"device_id": d} for d in wanted])
    rows = conn.execute(select(k.c.device_id, k.c.device_key).where(k.c.device_id.in_(wanted))).all()
    return {device_id: key for device_id, key in rows}
