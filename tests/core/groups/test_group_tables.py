"""Migration 0007 on SQLite and PostgreSQL: matches the device-group tables, and goes down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_revision_round_trips

OURS = {"device_groups", "device_group_members"}


def test_migration_0007_matches_the_models_and_downgrades(database_url):
    downgraded = assert_revision_round_trips(database_url, "0006", OURS)
    assert "devices" in downgraded  # the groups revision leaves the registry alone
