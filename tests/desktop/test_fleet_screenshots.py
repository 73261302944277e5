"""Screenshots of the fleet view, device detail and battery drill-down with realistic data: 210 devices over
3 sites (a few stale or offline, one low, one hot) and a 100 x 10 battery system with one hot and one weak
cell. Written to GRIDROOM_SCREENSHOT_DIR (scripts/screenshots.sh: docs/screenshots), else a temp folder."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.commands.history import CommandHistory
from core.commands.model import CommandKind, CommandOutcome, CommandStatus, DeviceCommand
from core.fleet.context import FleetContext
from core.fleet.live_state import LiveState
from core.runtime.runtime import Runtime
from desktop.main_window import MainWindow
from desktop.theme import apply_theme
from tests.desktop.test_battery_view import faulty_system, push
from tests.desktop.test_e2e_screenshots import SCREENSHOTS

SITES = (("Lille Depot", 90), ("Arras Yard", 70), ("Douai North", 50))
FOCUS = "bess-0012"


def demo_fleet(now: float) -> FleetContext:
    rng = np.random.default_rng(11)
    live, history = LiveState(), CommandHistory()
    devices = []
    for site, count in SITES:
        for i in range(count):
            device = f"bess-{len(devices):04d}"
            rated = float(rng.choice([100, 250, 500]))
            live.register(device, name=f"{site.split()[0]} BESS {i + 1:02d}", site=site, kind="bess",
                          capacity_kwh=rated * 2, max_charge_kw=rated, max_discharge_kw=rated)
            devices.append((device, rated))
    soc = rng.uniform(25, 85, len(devices))
    power = rng.normal(0, 0.35, len(devices))
    temp = rng.uniform(21, 31, len(devices))
    for step in range(120):  # ten minutes of 5 s reports; SoC follows power
        t = now - (119 - step) * 5
        power = np.clip(power + rng.normal(0, 0.05, len(devices)), -1, 1)
        soc = np.clip(soc - power * 0.08, 3, 98)
        items = []
        for k, (device, rated) in enumerate(devices):
            p = float(power[k] * rated) if abs(power[k]) > 0.08 else 0.0
            items.append((device, {"soc_pct": float(soc[k]), "power_kw": round(p, 1), "mode": 1 if p > 0 else (2 if p < 0 else 0),
                                   "voltage_v": float(700 + soc[k] * 1.3 + rng.normal(0, 0.4)), "current_a": p * 1.3,
                                   "temp_c": float(temp[k] + abs(p) / rated * 4 + rng.normal(0, 0.1)), "soh_pct": 96.0}))
        live.apply_telemetry_batch(items, t)
    live.apply_telemetry_batch([("bess-0031", {"soc_pct": 6.5}), ("bess-0077", {"temp_c": 47.8})], now)
    with live.batch() as w:  # late reports, set back in time
        for device, age in (("bess-0040", 25.0), ("bess-0141", 40.0), ("bess-0188", 900.0)):
            w.set_online(device, now - age)
    live.mark_offline("bess-0105", "connection lost")
    live.refresh_availability(now, stale_after_s=15, offline_after_s=120)
    live.register_battery_system("bs-01", 100, 10, name="Lille cell string", site="Lille Depot", kind="battery system",
                                 capacity_kwh=1000.0, max_charge_kw=250.0, max_discharge_kw=250.0)
    system = faulty_system()
    for k in range(20):
        system.step(5.0, power_kw=300.0)
        push(live, system, now - (19 - k) * 5)
    live.apply_telemetry_batch([("bs-01", {"soc_pct": 60.0, "power_kw": 300.0, "mode": 1, "voltage_v": 720.0,
                                           "temp_c": 29.0, "soh_pct": 97.0})], now)
    limit = live.meta(FOCUS)["max_charge_kw"]
    started = datetime.fromtimestamp(now - 420, timezone.utc).replace(microsecond=0)
    for kind, rate, status, message, offset in (
            (CommandKind.DISCHARGE, 80.0, CommandStatus.ACKED, f"{FOCUS} confirmed: discharge at 80 kW", 0),
            (CommandKind.CHARGE, 600.0, CommandStatus.REFUSED, f"600 kW exceeds {FOCUS}'s charge limit of {limit:g} kW", 180),
            (CommandKind.IDLE, 0.0, CommandStatus.ACKED, f"{FOCUS} confirmed: idle", 300)):
        at = started + timedelta(seconds=offset)
        history.append(None, CommandOutcome(f"c{offset}", DeviceCommand(FOCUS, kind, rate), status, message, "otto", at,
                                            at + timedelta(seconds=0.31 if status is CommandStatus.ACKED else 0.004)))
    return FleetContext(live, history, battery_systems=("bs-01",)), system


@pytest.mark.asyncio
async def test_screenshots_of_fleet_device_and_battery_views(qtbot, qapp, sqlite_services, operator, layout_settings):
    apply_theme(qapp)
    now = time.time()
    fleet, system = demo_fleet(now)
    runtime = Runtime(sqlite_services.clock)
    window = MainWindow(sqlite_services, runtime, operator, settings=layout_settings, fleet=fleet)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    await window.idle()
    fleet_view, detail, battery = (window.views[v] for v in ("fleet", "device", "battery"))
    fleet_view.tick()
    assert fleet_view.model.rowCount() == 211 and fleet_view.model.sites() == ["Arras Yard", "Douai North", "Lille Depot"]
    assert fleet_view.tiles["offline"].value() == "2" and fleet_view.tiles["stale"].value() == "2"
    window.views["fleet"].table.sortByColumn(3, Qt.SortOrder.AscendingOrder)  # status: offline, stale first
    fleet_view.select_device(FOCUS)
    fleet_view.table.scrollToTop()  # the offline and stale devices lead the picture
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    window.show_view("fleet")
    assert window.grab().save(str(SCREENSHOTS / "fleet_view.png"))

    fleet_view.device_activated.emit(FOCUS)  # what a double-click does
    await detail.tasks.idle()
    assert detail.device_id == FOCUS and not window.docks["device"].visibleRegion().isEmpty()
    _report_while_open(detail, fleet.live_state, now)
    for chart in detail.charts.values():
        chart.paint()
    detail.commands.rate.setValue(600.0)  # shows the inline limit check
    assert detail.history_model.rowCount() == 3
    assert window.grab().save(str(SCREENSHOTS / "device_detail.png"))

    window.show_view("battery")
    for k in range(1, 61):  # a minute of cell readings while the drill-down is open
        system.step(1.0, power_kw=300.0)
        push(fleet.live_state, system, now + k)
        battery.tick()
    battery.metric_box.setCurrentIndex(battery.metric_box.findData("temp_c"))
    battery.select_cell(42, 7)
    battery.trend.paint()
    assert "hottest pack 42 cell 7" in battery.system_summary.text()
    assert window.grab().save(str(SCREENSHOTS / "battery_drilldown.png"))
    for name in ("fleet_view.png", "device_detail.png", "battery_drilldown.png"):
        assert (SCREENSHOTS / name).stat().st_size > 30_000


def _report_while_open(detail, live, now) -> None:
    """Ten minutes of 5 s reports from the focused device while its detail is open (ticks driven here)."""
    rng = np.random.default_rng(5)
    row = live.row_of(FOCUS)
    snap = live.snapshot()
    soc, power = float(snap.soc_pct[row]), float(snap.power_kw[row])
    for t in np.arange(now + 5, now + 601, 5.0):  # after the demo's history: samples only move forward
        power = float(np.clip(power + rng.normal(0, 12), -250, 250))
        soc = float(np.clip(soc - power * 5 / 3600 / 5, 5, 95))
        live.apply_telemetry_batch([(FOCUS, {"soc_pct": soc, "power_kw": power, "voltage_v": 700 + soc * 1.3,
                                             "temp_c": 25 + abs(power) / 250 * 4 + rng.normal(0, 0.05),
                                             "mode": 1 if power > 0 else 2})], float(t))
        detail.tick()
