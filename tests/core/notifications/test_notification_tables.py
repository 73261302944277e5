"""Migration 0006 on SQLite and PostgreSQL: matches the notification tables, and goes down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from core.storage import migrate
from core.storage.database import Database
from core.storage.schema import metadata

OURS = {"notification_preferences", "notification_channels", "notification_escalation", "notification_deliveries"}


def test_migration_0006_matches_the_models_and_downgrades(database_url):
    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diffs == []
    assert OURS <= set(inspect(db.engine).get_table_names())
    migrate.downgrade(db.engine, "0005")
    assert not (OURS & set(inspect(db.engine).get_table_names()))
    db.upgrade()
    assert OURS <= set(inspect(db.engine).get_table_names())
    db.dispose()
