"""MarketDataService on SQLite and PostgreSQL: permissions, audit, upsert of a repeated period, bad files."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from core.audit.trail import AuditFilter
from core.errors import PermissionDenied
from core.market.service import PRICE_SERIES, ImportKind, MarketDataService
from tests.support.people import make_people

UTC = timezone.utc


@pytest.fixture
def market(services, clock):
    return MarketDataService(services.db, services.audit, services.authorizer, clock), make_people(services)


def test_trader_imports_prices_as_utc_points_with_unit_and_audit(market, services, fixtures):
    svc, people = market
    result = svc.import_file(people["tom"], fixtures / "be_day_ahead_prices_utc_2024-03_2024-05.csv")
    assert result.ok and result.kind is ImportKind.PRICE_CSV and result.series == (PRICE_SERIES,)
    assert result.counts.inserted == result.rows == 2208
    stored = svc.series(people["tom"], PRICE_SERIES, datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC))
    assert stored.unit == "EUR/MWh" and len(stored) == 24
    assert stored.values[0] == pytest.approx(61.42) and not np.isnan(stored.values).any()
    audit = services.audit_log.query(people["chief"], AuditFilter(action="market.import"))
    assert [(e.username, e.result, e.detail["inserted"]) for e in audit] == [("tom", "success", 2208)]


def test_importing_the_same_period_twice_stores_no_duplicate_and_says_upsert(market, fixtures, tmp_path):
    svc, people = market
    path = fixtures / "be_day_ahead_prices_utc_2024-03_2024-05.csv"
    svc.import_file(people["tom"], path)
    again = svc.import_file(people["tom"], path)
    assert (again.counts.inserted, again.counts.replaced, again.counts.unchanged) == (0, 0, 2208)
    assert again.duplicate_rule.startswith("upsert")
    corrected = tmp_path / "corrected.csv"
    corrected.write_text("timestamp_utc,price_eur_per_mwh\n2024-03-01T00:00:00Z,70\n2024-03-01T01:00:00Z,58.14\n")
    fix = svc.import_file(people["tom"], corrected)
    assert (fix.counts.inserted, fix.counts.replaced, fix.counts.unchanged) == (0, 1, 1)
    stored = svc.read_series(PRICE_SERIES, datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 1, 2, tzinfo=UTC))
    assert list(stored.values) == [70.0, 58.14]


def test_bad_file_is_reported_with_line_and_reason_and_keeps_stored_data(market, services, fixtures, tmp_path):
    svc, people = market
    svc.import_file(people["tom"], fixtures / "be_day_ahead_prices_utc_2024-03_2024-05.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp_utc,price_eur_per_mwh\n2024-03-01T00:00:00Z,1\n2024-03-01T01:00:00Z,abc\n")
    result = svc.import_file(people["tom"], bad)
    assert not result.ok and result.error_line == 3 and "abc" in result.error
    stored = svc.read_series(PRICE_SERIES, datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 1, 2, tzinfo=UTC))
    assert list(stored.values) == [61.42, 58.14]  # the first row of the bad file was not stored either
    runs = svc.import_runs(people["tom"])
    assert [(r.status, r.error_line) for r in runs] == [("failed", 3), ("imported", None)]
    failures = services.audit_log.query(people["chief"], AuditFilter(action="market.import", result="failure"))
    assert failures[0].detail["line"] == 3


def test_viewer_and_operator_may_not_import_and_the_refusal_is_audited(market, services, fixtures):
    svc, people = market
    for who in ("vic", "olga"):
        with pytest.raises(PermissionDenied):
            svc.import_file(people[who], fixtures / "be_day_ahead_prices_utc_2024-03_2024-05.csv")
    denied = services.audit_log.query(people["chief"], AuditFilter(action="permission.denied"))
    assert {e.username for e in denied} == {"vic", "olga"}
    assert svc.last_start(PRICE_SERIES) is None


def test_entsoe_xml_is_detected_and_stored(market, fixtures):
    svc, people = market
    result = svc.import_file(people["tom"], fixtures / "entsoe_a44_two_periods.xml")
    assert result.ok and result.kind is ImportKind.ENTSOE_XML and result.counts.inserted == result.rows > 0
