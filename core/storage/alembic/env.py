"""Alembic environment: runs on the connection GridRoom hands it (never reads alembic.ini)."""

from alembic import context

from core.storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - GridRoom always passes a connection
    raise RuntimeError("run migrations through core.storage.migrate, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
