"""Migration 0005 on SQLite and PostgreSQL: matches the market and model-registry tables, and goes down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_revision_round_trips

OURS = {"market_import_runs", "market_points", "forecast_models"}


def test_migration_0005_matches_the_models_and_downgrades(database_url):
    assert_revision_round_trips(database_url, "0004", OURS)
