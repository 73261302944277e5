"""Analytics view: the period and device filter drive a query off the GUI thread; charts, statistics, device
totals and anomalies show its result; exports write the same report as the CLI. Plus its screenshot."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.audit.trail import AuditFilter
from core.market.service import MarketDataService
from desktop.theme import apply_theme
from desktop.views.analytics_view import AnalyticsView
from tests.reports.pdf_checks import csv_rows, pdf_text
from tests.support.analytics_seed import DAY1, END, seed_fleet_history, seed_rollup_fleet

PRICES = Path(__file__).parents[1] / "fixtures" / "timeseries"

pytestmark = pytest.mark.asyncio
SCREENSHOTS = os.environ.get("GRIDROOM_SCREENSHOT_DIR")


@pytest.fixture
def seeded(sqlite_services, admin, clock):
    seed_fleet_history(sqlite_services.db)
    clock.advance(END + timedelta(hours=3) - clock.now())
    return sqlite_services


async def _view(qtbot, services, principal) -> AnalyticsView:
    view = AnalyticsView(services, principal, zone="UTC")
    qtbot.addWidget(view)
    return view


async def test_a_period_shows_totals_statistics_and_charts(qtbot, seeded, admin):
    view = await _view(qtbot, seeded, admin)
    assert view.day_edit.date().toString("yyyy-MM-dd") == "2026-03-03"  # opens on the last whole day
    view.set_custom_period(DAY1, END)
    assert not view.day_edit.isVisibleTo(view) and view.from_edit.isVisibleTo(view)
    result = await view.refresh()
    assert [d.device_id for d in view.devices_model.records()] == ["bess-a", "bess-b"]
    stats = {s.metric: s for s in view.summary_model.records()}
    assert stats["energy charged"].total == pytest.approx(150.0)
    assert view.summary_model.data(view.summary_model.index(0, 3)) == "150.0"
    assert view.devices_model.data(view.devices_model.index(1, 6)) == "50.0"  # bess-b's availability
    assert "2 devices" in view.period_label.text() and "no data" not in view.period_label.text()
    assert "No price series given" in view.notes_label.text()
    bars = [i for i in view.energy_chart.getPlotItem().items if i.__class__.__name__ == "BarGraphItem"]
    assert len(bars) == 2 and list(bars[0].opts["height"]) == pytest.approx([90.0, 60.0])
    assert result.has_data

    view.select_scope("group", "South")
    await view.refresh()
    assert [d.device_id for d in view.devices_model.records()] == ["bess-b"]
    assert view.scope_combo.count() == 5  # whole fleet, 2 groups, 2 devices: kept while filtered


async def test_stored_prices_show_cost_and_revenue_and_the_hours_without_prices(qtbot, seeded, admin, viewer, clock):
    market = MarketDataService(seeded.db, seeded.audit, seeded.authorizer, clock)
    for name in ("analytics_prices_2026-03-02.csv", "analytics_prices_2026-03-03_from_06h_ct.csv"):
        assert market.import_file(admin, PRICES / name).ok
    view = await _view(qtbot, seeded, admin)
    view.set_custom_period(DAY1, END)
    result = await view.refresh()
    assert result.priced and result.price_series == "price"
    model = view.devices_model
    # bess-a: 60 kWh at 0.08 (3 March 00:00 has no price); 50 kWh at 0.25 and 50 kWh at 0.20. bess-b: 30 kWh at 0.08.
    assert [model.data(model.index(r, c)) for r in (0, 1) for c in (4, 5)] == ["4.80", "22.50", "2.40", "0.00"]
    stats = {s.metric: s for s in view.summary_model.records()}
    assert stats["cost of charging"].total == pytest.approx(7.2) and stats["cost of charging"].unit == "EUR"
    notes = view.notes_label.text()
    assert "stored day-ahead price series 'price'" in notes and "2026-03-03 00:00-06:00 (UTC)" in notes
    assert "60.0 kWh fell outside the price series" in notes and "No price series given" not in notes

    as_viewer = await _view(qtbot, seeded, viewer)
    as_viewer.set_custom_period(DAY1, END)
    await as_viewer.refresh()
    vm = as_viewer.devices_model
    assert (vm.data(vm.index(0, 2)), vm.data(vm.index(0, 4)), vm.data(vm.index(0, 5))) == ("120.0", "—", "—")
    assert "may not view financial figures" in as_viewer.notes_label.text()


async def test_an_empty_period_says_so(qtbot, seeded, admin):
    view = await _view(qtbot, seeded, admin)
    view.set_period("month", date(2025, 12, 1))
    await view.refresh()
    assert "2025-12" in view.period_label.text() and "no data in this period" in view.period_label.text()
    assert view.anomalies_model.rowCount() == 0


async def test_exports_write_the_cli_report_and_are_audited(qtbot, seeded, admin, tmp_path):
    view = await _view(qtbot, seeded, admin)
    view.set_period("week", date(2026, 3, 2))
    assert await view.export(tmp_path / "week.pdf")
    text = pdf_text(tmp_path / "week.pdf")
    assert "Energy and availability" in text and "bess-a" in text and "150.0 kWh" in text
    assert await view.export(tmp_path / "week.csv")
    assert {r["device_id"] for r in csv_rows(tmp_path / "week.csv")} == {"bess-a", "bess-b"}
    assert view.message.kind == "info" and "week.csv" in view.message.text()
    assert not await view.export(tmp_path / "week.docx")
    assert view.message.kind == "error" and ".docx" in view.message.text()
    with seeded.db.session() as s:
        exports = seeded.audit.query(s, AuditFilter(action="report.export"))
    assert [e.detail["format"] for e in exports] == ["csv", "pdf"]


async def test_screenshot_of_two_weeks_with_an_anomaly(qtbot, qapp, sqlite_services, admin, clock, tmp_path):
    apply_theme(qapp)
    start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    seed_rollup_fleet(sqlite_services.db, start)
    clock.advance(start + timedelta(days=14, hours=2) - clock.now())
    # Day-ahead prices for the first 13 days (cheap nights and middays, a dear evening peak); the last day has none.
    shape = (60, 45, 45, 45, 55, 70, 95, 110, 90, 70, 55, 40, 30, 30, 45, 70, 110, 160, 180, 150, 120, 95, 80, 70)
    prices = tmp_path / "prices.csv"
    prices.write_text("timestamp_utc,price_eur_per_mwh\n" + "".join(
        f"{start + timedelta(hours=h):%Y-%m-%dT%H:%M:%SZ},{shape[h % 24] + (h // 24) * 2}\n" for h in range(13 * 24)))
    market = MarketDataService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock)
    assert market.import_file(admin, prices).ok
    view = await _view(qtbot, sqlite_services, admin)
    view.resize(1440, 860)
    view.show()
    view.set_custom_period(start, start + timedelta(days=14))
    result = await view.refresh()
    assert len(result.devices) == 8
    assert result.priced and all(d.revenue > d.cost > 0 for d in result.devices)
    assert "2026-03-15 00:00-2026-03-16 00:00 (UTC)" in view.notes_label.text()  # the last day has no prices
    # The capacity test day of bess-0003 and the half day bess-0006 was offline, nothing else.
    assert [(a.device_id, a.day) for a in result.anomalies] == [("bess-0006", date(2026, 3, 8)),
                                                                ("bess-0003", date(2026, 3, 11))]
    view.tabs.setCurrentIndex(2)
    for _ in range(5):  # let Qt lay out and paint before the picture is taken
        await asyncio.sleep(0)
    folder = Path(SCREENSHOTS or tempfile.mkdtemp(prefix="gridroom-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(folder / "analytics_view.png"))
    assert (folder / "analytics_view.png").stat().st_size > 20_000
