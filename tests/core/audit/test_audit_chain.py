"""Audit-chain tamper detection: an edited, deleted or truncated row is found."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.audit.trail import AuditFilter


def _fill(services, n=6):
    with services.db.session() as s:
        for i in range(n):
            services.audit.append(s, f"user{i % 2}", "device.command", f"device:{i}", detail={"rate_kw": i * 10})


def _without_guard(services, sql: str) -> None:
    """An attacker with database access drops the append-only trigger first."""
    with services.db.engine.begin() as conn:
        if services.db.backend == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        conn.execute(text(sql))


def test_intact_chain_verifies(services):
    _fill(services)
    with services.db.session() as s:
        report = services.audit.verify(s)
    assert report.intact and report.rows_checked == 6


def test_edited_row_is_detected(services):
    _fill(services)
    _without_guard(services, "UPDATE audit_log SET detail = '{\"rate_kw\": 9999}' WHERE id = 3")
    with services.db.session() as s:
        report = services.audit.verify(s)
    assert not report.intact
    assert [p.row_id for p in report.problems] == [3]
    assert "edited" in report.problems[0].problem


def test_deleted_middle_row_is_detected(services):
    _fill(services)
    _without_guard(services, "DELETE FROM audit_log WHERE id = 4")
    with services.db.session() as s:
        report = services.audit.verify(s)
    assert any(p.row_id == 5 and "missing" in p.problem for p in report.problems)


def test_deleted_newest_row_is_detected(services):
    _fill(services)
    _without_guard(services, "DELETE FROM audit_log WHERE id = 6")
    with services.db.session() as s:
        report = services.audit.verify(s)
    assert any(p.row_id is None and "head records row 6" in p.problem for p in report.problems)


def test_rewritten_hash_still_breaks_the_next_link(services):
    _fill(services)
    _without_guard(services, "UPDATE audit_log SET action = 'x', hash = 'f' || substr(hash, 2) WHERE id = 2")
    with services.db.session() as s:
        report = services.audit.verify(s)
    assert {p.row_id for p in report.problems} >= {2, 3}


def test_filters(services, clock):
    from datetime import timedelta

    _fill(services, 4)
    start = clock.now()
    clock.advance(timedelta(hours=1))
    with services.db.session() as s:
        services.audit.append(s, "user9", "user.create", "user:zoe", result="success")
    with services.db.session() as s:
        q = lambda **kw: [e.id for e in services.audit.query(s, AuditFilter(**kw))]  # noqa: E731
        assert q(username="user0") == [3, 1]
        assert q(action="user.") == [5]
        assert q(resource="device:2") == [3]
        assert q(since=start + timedelta(minutes=30)) == [5]
        assert q(until=start + timedelta(minutes=30)) == [4, 3, 2, 1]
        assert q(limit=2) == [5, 4]


def test_a_failed_change_leaves_no_audit_row(services):
    with pytest.raises(RuntimeError):
        with services.db.session() as s:
            services.audit.append(s, "alice", "thing.change", "thing:1")
            raise RuntimeError("the change failed")
    with services.db.session() as s:
        assert services.audit.query(s) == []
        assert services.audit.verify(s).intact
