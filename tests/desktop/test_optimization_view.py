"""The Optimization view with real core services: a run off the GUI thread reaches 100 %, Cancel stops it, an
edited plan is proposed as a draft that ScheduleService holds, a viewer cannot run, a bad import names its line."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.auth.roles import Role
from core.clock import ManualClock
from core.forecasting.db_registry import DbRecordStore, seed_from
from core.forecasting.default_model import shipped_registry
from core.forecasting.registry import ModelRegistry
from core.market.service import MarketDataService
from core.optimization.service import OptimizationService
from core.schedules.model import DeviceLimits, ScheduleSource, ScheduleState
from core.schedules.service import ScheduleService
from desktop.main_window import MainWindow
from desktop.theme import apply_theme
from desktop.views.optimization_view import OptimizationView
from tests.desktop.conftest import make_user

pytestmark = pytest.mark.asyncio
UTC = timezone.utc
PRICES = Path(__file__).resolve().parents[1] / "fixtures" / "timeseries" / "be_day_ahead_prices_utc_2024-03_2024-05.csv"
LIMITS = {
    "bess-01": DeviceLimits("bess-01", 200.0, 100.0, 100.0, 10.0, 90.0, 0.95, 0.95, 50.0),
    "bess-02": DeviceLimits("bess-02", 500.0, 250.0, 250.0, 10.0, 90.0, 0.95, 0.95, 30.0),
    "bess-03": DeviceLimits("bess-03", 100.0, 50.0, 50.0, 10.0, 90.0, 0.95, 0.95, 70.0),
}


@pytest.fixture
def clock():
    return ManualClock(datetime(2024, 5, 31, 23, 40, tzinfo=UTC))  # the stored prices end at 2024-06-01 00:00


@pytest.fixture
def trader(sqlite_services, admin):
    return make_user(sqlite_services, admin, "tess", Role.TRADER, display_name="Tess Trader")


@pytest.fixture
def wired(sqlite_services, clock, tmp_path, trader):
    s = sqlite_services
    registry = ModelRegistry(tmp_path / "models", clock, DbRecordStore(s.db))
    with shipped_registry() as shipped:
        seed_from(registry, shipped)
    market = MarketDataService(s.db, s.audit, s.authorizer, clock)
    assert market.import_file(trader, PRICES).ok
    schedules = ScheduleService(s.db, s.audit, s.authorizer, clock, LIMITS.__getitem__)
    optimizer = OptimizationService(s.db, s.audit, s.authorizer, market, registry, schedules, LIMITS.__getitem__, clock)
    return optimizer, market, schedules


async def make_view(qtbot, wired, principal) -> OptimizationView:
    optimizer, market, _ = wired
    view = OptimizationView(optimizer, market, principal, lambda: sorted(LIMITS))
    qtbot.addWidget(view)
    await view.refresh()
    return view


async def test_run_reaches_100_percent_and_the_edited_plan_is_proposed_as_a_draft(qtbot, wired, trader):
    view = await make_view(qtbot, wired, trader)
    assert view.selected_devices() == ["bess-01", "bess-02", "bess-03"]
    assert view.model_version.currentText() == "price-be-20240701"
    seen = []
    view.progress_changed.connect(seen.append)
    await view.start_run()
    assert view.progress.value() == 100 and seen[-1] == 100
    assert view.result is not None and all(d.ok for d in view.result.devices)
    assert "Predicted savings" in view.savings.text() and "P10–P90" in view.savings.text()
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()
    assert view.entries.rowCount() > 0
    # The trader edits the first entry's rate, then proposes.
    index = view.entries.index(0, 3)
    assert view.entries.setData(index, "12.5")
    assert not view.entries.setData(view.entries.index(0, 2), "sideways") and "charge" in view.entries.last_error
    record = await view.propose()
    stored = wired[2].get(record.id)
    assert stored.state is ScheduleState.DRAFT and stored.schedule.source is ScheduleSource.OPTIMIZER
    assert stored.schedule.created_by == "tess" and stored.entries[0].rate_kw == 12.5
    assert "Draft v1" in view.message.text()


async def test_cancel_stops_the_run_and_keeps_the_view_usable(qtbot, wired, trader):
    view = await make_view(qtbot, wired, trader)
    task = view.start_run()
    view.cancel_run()
    await task
    assert view.result is None and view.progress.value() < 100
    assert view.message.kind == "warning" and "cancelled" in view.message.text()
    assert view.run_button.isEnabled()


async def test_viewer_cannot_run(qtbot, wired, viewer, sqlite_services, layout_settings):
    view = await make_view(qtbot, wired, viewer)
    await view.start_run()
    assert view.result is None and view.message.kind == "error" and "not allowed" in view.message.text()
    window = MainWindow(sqlite_services, _runtime(sqlite_services), viewer, settings=layout_settings)
    qtbot.addWidget(window)
    assert "optimization" not in window.views
    assert not window.registry.action("view.optimization").isEnabled()
    await window.idle()
    window.close()


async def test_bad_import_shows_line_and_reason(qtbot, wired, trader, tmp_path):
    view = await make_view(qtbot, wired, trader)
    bad = tmp_path / "prices.csv"
    bad.write_text("timestamp_utc,price_eur_per_mwh\n2024-06-01T00:00:00Z,1\n2024-06-01T01:00:00Z,abc\n")
    result = await view.import_file(bad)
    assert not result.ok and view.message.kind == "error"
    assert "line 3" in view.message.text() and "abc" in view.message.text()


async def test_screenshot_of_the_optimization_view(qtbot, qapp, wired, trader):
    apply_theme(qapp)
    view = await make_view(qtbot, wired, trader)
    view.resize(1440, 820)
    view.horizon.setValue(36)  # past the forecast's reach: the note shows
    view.show()
    await view.start_run()
    assert view.result.band.degraded
    shots = os.environ.get("GRIDROOM_SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        assert view.grab().save(str(Path(shots) / "optimization_view.png"))


def _runtime(services):
    from core.runtime.runtime import Runtime
    return Runtime(clock=services.clock)


async def test_import_folder_is_shown_and_only_traders_and_admins_may_pick_it(
        qtbot, wired, trader, operator, sqlite_services, tmp_path, monkeypatch):
    from core.auth.roles import Permission
    from core.market.import_source import ImportSourceSettings
    from core.settings import MarketImportSource

    monkeypatch.setenv("GRIDROOM_DATA_DIR", str(tmp_path / "data"))  # a settings file of this test's own
    s = sqlite_services
    source = ImportSourceSettings(s.db, s.audit, s.authorizer)
    optimizer, market, _ = wired
    views = {}
    for who in (trader, operator):
        views[who.username] = OptimizationView(
            optimizer, market, who, lambda: sorted(LIMITS), import_source=source,
            can_set_import_source=s.authorizer.allowed(who, Permission.MANAGE_MARKET_DATA))
        qtbot.addWidget(views[who.username])
        await views[who.username].refresh()
    view = views["tess"]
    assert view.import_folder.text() == "Import folder: (none)" and view.import_folder_button.isEnabled()
    drop = tmp_path / "drop"
    drop.mkdir()
    assert await view.set_import_folder(str(drop)) == str(drop)
    assert view.import_folder.text() == f"Import folder: {drop}" and MarketImportSource.load().folder == str(drop)
    other = views["otto"]
    assert not other.import_folder_button.isEnabled()  # operators run the optimizer but do not manage market data
    assert await other.set_import_folder(str(tmp_path)) is None  # the core service refuses it anyway
    assert other.message.kind == "error" and "not allowed" in other.message.text()
    assert MarketImportSource.load().folder == str(drop)
