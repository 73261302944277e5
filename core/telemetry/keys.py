"""Walking the distinct devices of a bulk table through its primary key, without a full scan."""

from __future__ import annotations

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection


def distinct_device_ids(conn: Connection, table: Table) -> list[str]:
    """Every device_id in table, in order.

    ``SELECT DISTINCT`` would read the whole table on SQLite (no skip-scan without ANALYZE). Asking for the
    next id after the last one found is one primary-key seek per device on both backends, which is why
    the bulk tables need no index beyond their (device_id, time) key.
    """
    ids: list[str] = []
    stmt = select(func.min(table.c.device_id))
    while True:
        found = conn.execute(stmt if not ids else stmt.where(table.c.device_id > ids[-1])).scalar()
        if found is None:
            return ids
        ids.append(found)
