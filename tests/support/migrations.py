"""One check for every migration revision: the schema after upgrade matches the models, the revision's own tables
go away on downgrade to the one before, and come back on upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from core.storage import migrate
from core.storage.database import Database
from core.storage.schema import metadata


def assert_revision_round_trips(database_url: str, previous: str, tables: set[str]) -> set[str]:
    """Upgrade to head, compare with the models, downgrade to ``previous`` and upgrade again; returns the table
    names present while downgraded (for extra assertions about what must survive)."""
    db = Database(database_url)
    try:
        db.upgrade()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diffs == []
        assert tables <= set(inspect(db.engine).get_table_names())
        migrate.downgrade(db.engine, previous)
        downgraded = set(inspect(db.engine).get_table_names())
        assert not (tables & downgraded)
        db.upgrade()
        assert tables <= set(inspect(db.engine).get_table_names())
        return downgraded
    finally:
        db.dispose()
