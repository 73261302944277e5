"""Migrations up and down on SQLite and PostgreSQL, and refusing databases we must not touch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text

from core.errors import CorruptDatabase, DatabaseUnreachable, SchemaTooNew, SchemaTooOld
from core.storage import migrate
from core.storage.database import Database
from core.storage.migrate import SchemaState

FOUNDATION_TABLES = {"users", "login_attempts", "audit_log", "audit_head", "sites"}


def test_upgrade_then_downgrade_to_base_and_up_again(database_url):
    db = Database(database_url)
    assert db.check().state is SchemaState.EMPTY
    db.upgrade()
    assert db.check().state is SchemaState.CURRENT
    assert FOUNDATION_TABLES <= set(inspect(db.engine).get_table_names())
    migrate.downgrade(db.engine, "base")
    assert not (FOUNDATION_TABLES & set(inspect(db.engine).get_table_names()))
    db.upgrade()
    assert db.check().state is SchemaState.CURRENT
    db.dispose()


def test_audit_log_refuses_update_and_delete_in_the_database(services):
    with services.db.session() as s:
        services.audit.append(s, "alice", "test.event", "thing:1")
    for sql in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with services.db.engine.begin() as conn:
                conn.execute(text(sql))
    with services.db.session() as s:
        assert [e.action for e in services.audit.query(s)] == ["test.event"]


def test_aware_utc_datetimes_round_trip(services):
    from core.fleet.tables import SiteRow

    berlin = timezone(timedelta(hours=2))
    made = datetime(2026, 6, 1, 14, 30, 15, 123456, tzinfo=berlin)
    with services.db.session() as s:
        s.add(SiteRow(name="Alpha", created_at=made))
    with services.db.session() as s:
        got = s.query(SiteRow).one().created_at
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == made


def test_naive_datetime_is_refused(services):
    from core.fleet.tables import SiteRow

    with pytest.raises(Exception, match="naive datetime"):
        with services.db.session() as s:
            s.add(SiteRow(name="Beta", created_at=datetime(2026, 1, 1)))


def test_newer_schema_is_refused_and_left_untouched(sqlite_database_url):
    Database.open(sqlite_database_url).dispose()
    db = Database(sqlite_database_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    db.dispose()
    with pytest.raises(SchemaTooNew, match="newer GridRoom"):
        Database.open(sqlite_database_url)
    db = Database(sqlite_database_url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999_from_the_future"
    db.dispose()


def test_corrupt_file_is_refused_and_not_overwritten(tmp_path):
    path = tmp_path / "broken.sqlite3"
    garbage = b"this is not a database at all" * 200
    path.write_bytes(garbage)
    with pytest.raises(CorruptDatabase, match="broken.sqlite3"):
        Database.open(f"sqlite:///{path}")
    assert path.read_bytes() == garbage


def test_unreachable_server_names_the_url_without_password():
    url = "postgresql+psycopg://alice:s3cret@127.0.0.1:1/gridroom?connect_timeout=2"
    with pytest.raises(DatabaseUnreachable) as info:
        Database.open(url)
    assert "127.0.0.1:1" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_refuses_to_upgrade_when_told_not_to(sqlite_database_url):
    with pytest.raises(SchemaTooOld, match="gridroom db upgrade"):
        Database.open(sqlite_database_url, upgrade=False)


def test_sqlite_uses_wal(sqlite_database_url):
    db = Database.open(sqlite_database_url)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()


def test_online_backup_while_a_writer_keeps_going(sqlite_services, tmp_path):
    from core.fleet.tables import SiteRow

    now = sqlite_services.clock.now()
    with sqlite_services.db.session() as s:
        s.add_all([SiteRow(name=f"site-{i}", created_at=now) for i in range(200)])
    # Hold a read transaction open on another connection: the backup must still complete.
    reader = sqlite_services.db.engine.connect()
    reader.exec_driver_sql("SELECT count(*) FROM sites").scalar()
    target = sqlite_services.db.backup(tmp_path / "copy" / "backup.sqlite3")
    reader.close()
    with sqlite_services.db.session() as s:
        s.add(SiteRow(name="after-backup", created_at=now))
    copy = Database.open(f"sqlite:///{target}")
    with copy.session() as s:
        assert s.query(SiteRow).count() == 200
    copy.dispose()
