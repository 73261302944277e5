"""Migration 0005 on SQLite and PostgreSQL: matches the market and model-registry tables, and goes down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from core.storage import migrate
from core.storage.database import Database
from core.storage.schema import metadata

OURS = {"market_import_runs", "market_points", "forecast_models"}


def test_migration_0005_matches_the_models_and_downgrades(database_url):
    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diffs == []
    assert OURS <= set(inspect(db.engine).get_table_names())
    migrate.downgrade(db.engine, "0004")
    assert not (OURS & set(inspect(db.engine).get_table_names()))
    db.upgrade()
    assert OURS <= set(inspect(db.engine).get_table_names())
    db.dispose()
