"""Analytics cost and revenue from the stored day-ahead prices, on SQLite and PostgreSQL.

The seeded history (tests/support/analytics_seed.py) meets hand-written price files imported through
MarketDataService (tests/fixtures/timeseries/analytics_prices_*.csv):
- 2 March: 80 EUR/MWh at 00:00, 250 at 12:00, 100 otherwise.
- 3 March from 06:00 only, in ct/kWh: 20 at 12:00, 10 otherwise (00:00-06:00 has no price).
bess-a charges 60 kWh at 00:00-01:00 and discharges 50 kWh at 12:00-12:30 each day; bess-b charges 30 kWh
at 00:00-01:00 on 2 March.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from core.analytics import AnalyticsError, AnalyticsRequest, AnalyticsService, Period, PriceSeries
from core.analytics.stored_prices import choose_price_series
from core.market.service import MarketDataService
from core.market.tables import MarketPointRow
from tests.support.analytics_seed import DAY1, DAY2, END, seed_fleet_history
from tests.support.people import make_people

FIXTURES = Path(__file__).parents[2] / "fixtures" / "timeseries"
DAY1_PRICES = FIXTURES / "analytics_prices_2026-03-02.csv"
DAY2_PRICES = FIXTURES / "analytics_prices_2026-03-03_from_06h_ct.csv"


@pytest.fixture
def world(services, clock):
    people = make_people(services)
    seed_fleet_history(services.db)
    clock.advance(END + timedelta(hours=2) - clock.now())
    market = MarketDataService(services.db, services.audit, services.authorizer, clock)
    analytics = AnalyticsService(services.db, services.audit, services.authorizer, clock)
    return analytics, market, people


def _import(market, people, *paths: Path, series: str = "price") -> None:
    for path in paths:
        result = market.import_file(people["tom"], path, price_series=series)
        assert result.ok, result.error


def test_stored_prices_give_cost_and_revenue_converted_from_eur_per_mwh(world):
    analytics, market, people = world
    _import(market, people, DAY1_PRICES)
    result = analytics.compute(people["tom"], AnalyticsRequest(Period.day(date(2026, 3, 2), "UTC")))
    a, b = result.devices
    assert result.priced and result.price_series == "price" and result.currency == "EUR"
    assert a.cost == pytest.approx(60 * 0.080) and b.cost == pytest.approx(30 * 0.080)  # 80 EUR/MWh = 0.08/kWh
    assert a.revenue == pytest.approx(50 * 0.250) and b.revenue == 0.0
    assert result.unpriced_kwh == 0.0
    assert result.notes == ("cost and revenue use the stored day-ahead price series 'price' "
                            "(EUR/MWh converted to EUR/kWh, 1 h steps)",)
    stats = {s.metric: s for s in result.statistics}
    assert stats["cost of charging"].total == pytest.approx(7.2) and stats["cost of charging"].unit == "EUR"


def test_hours_without_stored_prices_are_unpriced_and_named(world):
    analytics, market, people = world
    _import(market, people, DAY1_PRICES, DAY2_PRICES)
    result = analytics.compute(people["chief"], AnalyticsRequest(Period.custom(DAY1, END)))
    a, b = result.devices
    # 3 March 00:00-01:00 (60 kWh charged by bess-a) has no price; its 12:00 discharge is priced at 20 ct/kWh.
    assert a.cost == pytest.approx(4.8) and a.revenue == pytest.approx(12.5 + 50 * 0.20)
    assert b.cost == pytest.approx(2.4)
    assert result.unpriced_kwh == pytest.approx(60.0)
    assert result.notes[1] == ("no stored price in 'price' for 6 h of the period: 2026-03-03 00:00-06:00 (UTC); "
                               "energy in those hours is not priced")
    assert result.notes[2] == "60.0 kWh fell outside the price series and is not priced"
    # The same gap read in Berlin time (UTC+1) names Berlin's hours.
    berlin = analytics.compute(people["chief"], AnalyticsRequest(Period.day(date(2026, 3, 3), "Europe/Berlin")))
    assert "2026-03-03 01:00-07:00 (Europe/Berlin)" in berlin.notes[1]


def test_a_period_without_stored_prices_is_not_priced(world):
    analytics, market, people = world
    _import(market, people, DAY1_PRICES)
    result = analytics.compute(people["chief"], AnalyticsRequest(Period.day(date(2026, 3, 4), "UTC")))
    assert not result.priced and result.devices[0].cost is None
    assert result.notes == ("no stored day-ahead price in 'price' for this period: cost and revenue are not computed",)


def test_explicit_prices_override_the_stored_ones(world):
    analytics, market, people = world
    _import(market, people, DAY1_PRICES)
    period = Period.day(date(2026, 3, 2), "UTC")
    result = analytics.compute(people["tom"], AnalyticsRequest(period, buy_prices=PriceSeries.flat(period, 0.5)))
    assert result.devices[0].cost == pytest.approx(30.0) and result.price_series is None
    off = analytics.compute(people["tom"], AnalyticsRequest(period, stored_prices=False))
    assert not off.priced and "no price series given" in off.notes[0]


def test_viewers_get_energy_without_money_even_when_prices_are_stored(world, services):
    analytics, market, people = world
    _import(market, people, DAY1_PRICES)
    result = analytics.compute(people["vic"], AnalyticsRequest(Period.day(date(2026, 3, 2), "UTC")))
    assert not result.priced and result.devices[0].cost is None and result.devices[0].charged_kwh == pytest.approx(60)
    assert "may not view financial figures" in result.notes[0]


def test_several_zones_the_caller_chooses_or_the_default_applies(world, services, clock):
    analytics, market, people = world
    _import(market, people, DAY1_PRICES)
    _import(market, people, DAY1_PRICES, series="price:NL")
    with services.db.session() as s:  # NL is twice as dear at midnight: 160 EUR/MWh
        row = s.query(MarketPointRow).filter_by(series="price:NL", start_utc=DAY1).one()
        row.value = 160.0
    period = Period.day(date(2026, 3, 2), "UTC")
    with pytest.raises(AnalyticsError, match=r"several price series are stored \(price, price:NL\)"):
        analytics.compute(people["tom"], AnalyticsRequest(period))
    nl = analytics.compute(people["tom"], AnalyticsRequest(period, price_series="price:NL"))
    assert nl.price_series == "price:NL" and nl.devices[0].cost == pytest.approx(60 * 0.16)
    assert "'price:NL'" in nl.notes[0]
    with pytest.raises(AnalyticsError, match="'price:DE' is not stored"):
        analytics.compute(people["tom"], AnalyticsRequest(period, price_series="price:DE"))
    configured = AnalyticsService(services.db, services.audit, services.authorizer, clock, default_price_series="price")
    assert configured.compute(people["tom"], AnalyticsRequest(period)).devices[0].cost == pytest.approx(4.8)


def test_an_unknown_stored_unit_is_refused_with_its_reason(world, services):
    analytics, market, people = world
    _import(market, people, DAY1_PRICES)
    with services.db.session() as s:
        s.query(MarketPointRow).filter_by(series="price", start_utc=DAY1 + timedelta(hours=5)).one().unit = "USD/MWh"
    with pytest.raises(AnalyticsError, match=r"point at 2026-03-02T05:00:00\+00:00: unit 'USD/MWh' is unknown"):
        analytics.compute(people["tom"], AnalyticsRequest(Period.day(date(2026, 3, 2), "UTC")))
    with services.db.session() as s:  # a known unit of another quantity is no price either
        s.query(MarketPointRow).filter_by(series="price", start_utc=DAY1 + timedelta(hours=5)).one().unit = "kW"
    with pytest.raises(AnalyticsError, match="unit 'kW' is not a price per energy"):
        analytics.compute(people["tom"], AnalyticsRequest(Period.day(date(2026, 3, 2), "UTC")))


def test_quarter_hour_points_price_at_their_own_step(world, services):
    """Points stored at 15 minutes give a 15-minute PriceSeries: the 12:15 price applies to 12:15-12:30 only."""
    analytics, _, people = world
    with services.db.session() as s:
        for q in range(96):
            at = DAY2 + timedelta(minutes=15 * q)
            s.add(MarketPointRow(series="price", start_utc=at, step_seconds=900, value=400.0 if q == 49 else 100.0,
                                 unit="EUR/MWh", source="test"))
    result = analytics.compute(people["tom"], AnalyticsRequest(Period.day(date(2026, 3, 3), "UTC")))
    # bess-a discharges 25 kWh in each of 12:00-12:15 and 12:15-12:30.
    assert result.devices[0].revenue == pytest.approx(25 * 0.1 + 25 * 0.4)
    assert "15 min steps" in result.notes[0]


@settings(max_examples=60, deadline=None)
@given(available=st.lists(st.sampled_from(["price", "price:BE", "price:NL", "price:DE"]), unique=True).map(sorted),
       wanted=st.none() | st.sampled_from(["price", "price:NL", "price:FR"]),
       default=st.none() | st.sampled_from(["price", "price:BE", "price:XX"]))
def test_choosing_a_price_series(available, wanted, default):
    try:
        chosen = choose_price_series(available, wanted, default)
    except AnalyticsError as exc:
        assert (wanted is not None and wanted not in available) or (
            wanted is None and len(available) > 1 and default not in available)
        assert ", ".join(available) in str(exc) or "none" in str(exc)
        return
    if wanted is not None:
        assert chosen == wanted
    elif not available:
        assert chosen is None
    else:
        assert chosen == (available[0] if len(available) == 1 else default)


@given(st.lists(st.none() | st.floats(-500, 500), min_size=1, max_size=20))
def test_price_series_take_none_for_missing_but_never_nan(prices):
    series = PriceSeries(datetime(2026, 1, 1, tzinfo=timezone.utc), timedelta(hours=1), tuple(prices))
    assert series.prices_per_kwh == tuple(prices)
    with pytest.raises(AnalyticsError, match="not a finite number"):
        PriceSeries(series.start, series.step, (*prices, float("nan")))


def test_the_default_zone_comes_from_the_settings_file(tmp_path, monkeypatch):
    from core.errors import GridRoomError
    from core.settings import Settings, analytics_price_series

    monkeypatch.setenv("GRIDROOM_DATA_DIR", str(tmp_path))  # this test's own settings file
    assert analytics_price_series() is None
    Settings(extra={"analytics": {"price_series": "price:BE"}}).save()
    assert analytics_price_series() == "price:BE"
    Settings(extra={"analytics": "price:BE"}).save()
    with pytest.raises(GridRoomError, match="extra.analytics must be an object"):
        analytics_price_series()
