"""Schema migrations with Alembic, driven programmatically on GridRoom's own engine."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

_SCRIPTS = Path(__file__).with_name("alembic")


class SchemaState(enum.Enum):
    EMPTY = "empty"  # no GridRoom tables yet
    BEHIND = "behind"  # an older schema: upgrade before use
    CURRENT = "current"
    AHEAD = "ahead"  # written by a newer GridRoom: refuse


@dataclass(frozen=True)
class SchemaStatus:
    state: SchemaState
    current: str | None
    head: str


def _config(engine: Engine, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory(str(_SCRIPTS)).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migration history must have one head, has {heads}")
    return heads[0]


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory(str(_SCRIPTS)).walk_revisions()}


def schema_status(engine: Engine) -> SchemaStatus:
    """Compare the database's revision with the migrations this build ships."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = head_revision()
    if current is None:
        state = SchemaState.EMPTY
    elif current == head:
        state = SchemaState.CURRENT
    elif current in known_revisions():
        state = SchemaState.BEHIND
    else:
        state = SchemaState.AHEAD
    return SchemaStatus(state=state, current=current, head=head)


def upgrade(engine: Engine, target: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(_config(engine, conn), target)


def downgrade(engine: Engine, target: str) -> None:
    with engine.begin() as conn:
        command.downgrade(_config(engine, conn), target)
