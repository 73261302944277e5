"""Fleet analytics on SQLite and PostgreSQL over the seeded two-device history (tests/support/analytics_seed.py),
whose every figure can be checked by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.analytics import AnalyticsError, AnalyticsRequest, AnalyticsService, Period, PriceSeries
from core.audit.trail import AuditFilter
from core.auth.roles import Role
from core.errors import PermissionDenied
from tests.support.analytics_seed import DAY1, END, seed_fleet_history

STRONG = "Correct-Horse-42"


@pytest.fixture
def world(services, clock):
    users = services.users
    users.create_first_admin("chief", STRONG)
    admin = users.authenticate("chief", STRONG)
    users.create_user(admin, "vic", Role.VIEWER, STRONG)
    users.change_password(users.authenticate("vic", STRONG), STRONG, STRONG + "!v")
    viewer = users.authenticate("vic", STRONG + "!v")
    seed_fleet_history(services.db)
    clock.advance(END + timedelta(hours=2) - clock.now())
    return AnalyticsService(services.db, services.audit, services.authorizer, clock), admin, viewer


def _two_days() -> Period:
    return Period.custom(DAY1, END)


def test_energy_availability_soc_soh_adherence_and_alarms_per_device(world):
    service, admin, _ = world
    result = service.compute(admin, AnalyticsRequest(_two_days()))
    a, b = result.devices
    assert (a.device_id, a.group, b.device_id, b.group) == ("bess-a", "North", "bess-b", "South")
    assert (a.charged_kwh, a.discharged_kwh) == pytest.approx((120.0, 100.0))
    assert (b.charged_kwh, b.discharged_kwh) == pytest.approx((30.0, 0.0))
    assert (a.availability_pct, b.availability_pct) == pytest.approx((100.0, 50.0))
    assert (a.soc_min_pct, a.soc_avg_pct, a.soc_max_pct) == pytest.approx((40.0, 50.0, 60.0))
    assert (a.soh_first_pct, a.soh_last_pct) == pytest.approx((95.0, 94.5))
    assert (a.schedule_entries, a.schedule_entries_ok, a.adherence_pct) == (2, 1, 50.0)
    assert b.adherence_pct is None
    assert (a.alarm_activations, b.alarm_activations) == (3, 0)  # the pack alarm counts; the one after the end not
    assert a.cost is None and "no price series" in result.notes[0]
    assert [(d.device_id, d.day) for d in result.days] == [
        ("bess-a", date(2026, 3, 2)), ("bess-a", date(2026, 3, 3)), ("bess-b", date(2026, 3, 2))]
    assert [(d.charged_kwh, d.discharged_kwh) for d in result.days] == [
        pytest.approx((60.0, 50.0)), pytest.approx((60.0, 50.0)), pytest.approx((30.0, 0.0))]
    assert [day for day, _, _ in result.fleet_daily()] == [date(2026, 3, 2), date(2026, 3, 3)]
    assert [(c, d) for _, c, d in result.fleet_daily()] == [pytest.approx((90.0, 50.0)), pytest.approx((60.0, 50.0))]
    stats = {s.metric: s for s in result.statistics}
    assert stats["energy charged"].total == pytest.approx(150.0)
    assert stats["availability"].mean == pytest.approx(75.0) and stats["availability"].total is None


def test_local_days_follow_the_zone(world):
    """In Berlin (UTC+1 in March) the charge at 00:00-01:00 UTC falls on the local day it starts in, 01:00-02:00."""
    service, admin, _ = world
    result = service.compute(admin, AnalyticsRequest(Period.day(date(2026, 3, 3), "Europe/Berlin")))
    (a,) = [d for d in result.devices if d.device_id == "bess-a"]
    # Local 3 March is 2 March 23:00 UTC to 3 March 23:00 UTC: day 2's charge and discharge only.
    assert (a.charged_kwh, a.discharged_kwh) == pytest.approx((60.0, 50.0))
    assert {d.day for d in result.days} == {date(2026, 3, 3)}


def test_cost_and_revenue_from_a_price_series(world):
    service, admin, _ = world
    period = _two_days()
    # Hourly prices: 0.10 per kWh everywhere except 0.30 at 12:00 on day 1 (the first discharge).
    prices = [0.10] * 48
    prices[12] = 0.30
    buy = PriceSeries(DAY1, timedelta(hours=1), tuple(prices))
    result = service.compute(admin, AnalyticsRequest(period, buy_prices=buy))
    a, b = result.devices
    assert a.cost == pytest.approx(120.0 * 0.10) and b.cost == pytest.approx(3.0)
    assert a.revenue == pytest.approx(50.0 * 0.30 + 50.0 * 0.10)
    assert result.unpriced_kwh == 0.0

    short = PriceSeries(DAY1, timedelta(hours=1), (0.2,) * 24)  # day 2 has no prices
    partial = service.compute(admin, AnalyticsRequest(period, buy_prices=short))
    assert partial.devices[0].cost == pytest.approx(60.0 * 0.2)
    assert partial.unpriced_kwh == pytest.approx(60.0 + 50.0)
    assert "not priced" in partial.notes[0]


def test_filters_by_device_and_group_and_rejects_unknown_names(world):
    service, admin, _ = world
    period = _two_days()
    assert [d.device_id for d in service.compute(admin, AnalyticsRequest(period, groups=("South",))).devices] == ["bess-b"]
    assert [d.device_id for d in service.compute(admin, AnalyticsRequest(period, device_ids=("bess-a",))).devices] == ["bess-a"]
    with pytest.raises(AnalyticsError, match="unknown group.*Westside"):
        service.compute(admin, AnalyticsRequest(period, groups=("Westside",)))
    with pytest.raises(AnalyticsError, match="unknown device.*bess-z"):
        service.compute(admin, AnalyticsRequest(period, device_ids=("bess-z",)))


def test_an_empty_range_is_an_empty_result_not_an_error(world):
    service, admin, _ = world
    result = service.compute(admin, AnalyticsRequest(Period.day(date(2026, 1, 5))))
    assert not result.has_data
    assert all(d.throughput_kwh == 0 and d.availability_pct == 0 for d in result.devices)
    assert result.days == () and result.anomalies == ()


def test_viewers_see_energy_but_not_money_and_refusals_are_audited(world, services):
    service, _, viewer = world
    assert service.compute(viewer, AnalyticsRequest(_two_days())).devices
    with pytest.raises(PermissionDenied):
        service.compute(viewer, AnalyticsRequest(_two_days(), buy_prices=PriceSeries.flat(_two_days(), 0.1)))
    with services.db.session() as s:
        denied = services.audit.query(s, AuditFilter(action="permission.denied", username="vic"))
    assert denied and denied[0].detail["permission"] == "view_financials"


def test_exports_are_audited(world, services):
    service, admin, _ = world
    service.record_export(admin, "analytics", "/tmp/x.pdf", "pdf", _two_days(), 2)
    with services.db.session() as s:
        (entry,) = services.audit.query(s, AuditFilter(action="report.export"))
    assert entry.resource == "/tmp/x.pdf" and entry.detail["report"] == "analytics" and entry.detail["rows"] == 2
