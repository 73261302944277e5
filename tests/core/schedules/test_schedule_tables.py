"""Migration 0004 on SQLite and PostgreSQL: matches the schedule tables, and goes down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_revision_round_trips

OURS = {"schedules", "schedule_deliveries", "schedule_acks"}


def test_migration_0004_matches_the_models_and_downgrades(database_url):
    assert_revision_round_trips(database_url, "0003", OURS)
