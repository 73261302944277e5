"""Opening a GridRoom database: SQLite (WAL) by default, any PostgreSQL URL for a shared control room."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import CorruptDatabase, DatabaseUnreachable, SchemaTooNew, SchemaTooOld, StorageError
from core.storage import migrate
from core.storage.migrate import SchemaState, SchemaStatus


def safe_url(url: str) -> str:
    """The URL with any password masked, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def normalize_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg 3, the driver GridRoom ships."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_engine(url: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        # Let SQLAlchemy's begin hook issue BEGIN, so that every write transaction takes the write lock up
        # front (BEGIN IMMEDIATE) instead of failing with SQLITE_BUSY when a reader upgrades to a writer.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """An engine plus a session factory for one GridRoom database."""

    def __init__(self, url: str) -> None:
        url = normalize_url(url)
        self.url = url
        self.backend = make_url(url).get_backend_name()
        if self.backend == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> "Database":
        """Open and check a database.

        An empty or older database is upgraded when `upgrade` is true (after a backup, for SQLite files);
        a database from a newer GridRoom is refused; an unreachable server or corrupt file raises a typed
        error naming the problem.
        """
        db = cls(url)
        status = db.check()
        if status.state is SchemaState.AHEAD:
            db.dispose()
            raise SchemaTooNew(
                f"{safe_url(url)} was written by a newer GridRoom (schema {status.current}); this version "
                f"knows schemas up to {status.head}. Refusing to open it: install the newer GridRoom."
            )
        if status.state in (SchemaState.EMPTY, SchemaState.BEHIND):
            if not upgrade:
                db.dispose()
                raise SchemaTooOld(
                    f"{safe_url(url)} has schema {status.current or 'none'}; run `gridroom db upgrade`"
                )
            if status.state is SchemaState.BEHIND and db.backend == "sqlite":
                db.backup(db.sqlite_path().with_suffix(f".before-{status.head}.bak"))
            db.upgrade()
        return db

    def check(self) -> SchemaStatus:
        """Connect once and report the schema state; raise typed errors for unusable databases."""
        try:
            with self.engine.connect() as conn:
                if self.backend == "sqlite":
                    # Reading the schema forces SQLite to parse the file header: a non-database fails here.
                    conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
                else:
                    conn.execute(text("SELECT 1"))
            return migrate.schema_status(self.engine)
        except OperationalError as exc:
            if self.backend == "sqlite":
                raise CorruptDatabase(f"cannot read {safe_url(self.url)}: {exc.orig}") from exc
            raise DatabaseUnreachable(f"cannot reach database {safe_url(self.url)}: {exc.orig}") from exc
        except DatabaseError as exc:
            raise CorruptDatabase(f"{safe_url(self.url)} is not a usable GridRoom database: {exc.orig}") from exc

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- sessions ------------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits when the block succeeds, rolls back when it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # -- backup --------------------------------------------------------------------------------
    def sqlite_path(self) -> Path:
        if self.backend != "sqlite":
            raise StorageError("not a SQLite database")
        return Path(make_url(self.url).database or "").expanduser()

    def backup(self, destination: Path) -> Path:
        """Copy the database while it stays in use.

        SQLite uses the online backup API, page by page, so writers are never blocked for long.
        PostgreSQL is dumped with pg_dump in custom format when pg_dump is installed.
        """
        destination = Path(destination).expanduser().resolve()
        destination.parent.mkdir(parents=True, exist_ok=True)
        if self.backend == "sqlite":
            raw = self.engine.raw_connection()
            try:
                target = sqlite3.connect(str(destination))
                try:
                    raw.driver_connection.backup(target, pages=1024)
                finally:
                    target.close()
            finally:
                raw.close()
            return destination
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise StorageError("backing up PostgreSQL needs pg_dump on PATH (apt-get install postgresql-client)")
        url = make_url(self.url).set(drivername="postgresql")
        result = subprocess.run(
            [pg_dump, "--format=custom", f"--file={destination}", url.render_as_string(hide_password=False)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StorageError(f"pg_dump failed: {result.stderr.strip()}")
        return destination
