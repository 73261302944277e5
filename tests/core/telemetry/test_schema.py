"""Migration 0002 on SQLite and PostgreSQL: matches the table definitions, and goes down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from core.storage import migrate
from core.storage.database import Database
from core.storage.schema import metadata

OURS = {"devices", "telemetry_raw", "telemetry_1m", "telemetry_15m", "cell_samples", "telemetry_device_keys", "status_changes", "rollup_marks"}


def test_migration_0002_matches_the_models_and_downgrades(database_url):
    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diffs == []
    assert OURS <= set(inspect(db.engine).get_table_names())
    if db.backend == "sqlite":  # the bulk tables keep their key as their only B-tree
        with db.engine.connect() as conn:
            sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'cell_samples'").scalar()
        assert "WITHOUT ROWID" in sql
    migrate.downgrade(db.engine, "0001")
    left = set(inspect(db.engine).get_table_names())
    assert not (OURS & left) and "sites" in left
    db.upgrade()
    assert OURS <= set(inspect(db.engine).get_table_names())
    db.dispose()
