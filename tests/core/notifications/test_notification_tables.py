"""Migration 0006 on SQLite and PostgreSQL: matches the notification tables, and goes down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_revision_round_trips

OURS = {"notification_preferences", "notification_channels", "notification_escalation", "notification_deliveries"}


def test_migration_0006_matches_the_models_and_downgrades(database_url):
    assert_revision_round_trips(database_url, "0005", OURS)
