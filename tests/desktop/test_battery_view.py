"""Battery drill-down: a 100 x 10 system from the cell model, with one hot and one weak cell, pushed into
LiveState; clicks on the heatmap drive the pack table and the cell trend."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.batteries.battery_system import BatterySystem
from core.fleet.context import FleetContext
from core.fleet.live_state import LiveState
from desktop.views.battery_view import BatteryView

HOT, WEAK = (42, 7), (17, 3)


def faulty_system() -> BatterySystem:
    system = BatterySystem(100, 10, seed=3, initial_soc=0.6)
    system.set_over_temperature(*HOT, 60.0)
    system.set_weak_cell(*WEAK, 0.7, 2.0)
    for _ in range(30):
        system.step(60.0, power_kw=300.0)
    return system


def push(live: LiveState, system: BatterySystem, at: float) -> None:
    m = system.measure()
    with live.batch() as writer:
        for pack in range(100):
            writer.set_cells("bs-01", pack, m.voltage_v[pack], m.temp_c[pack], m.soc_pct[pack], m.soh_pct[pack],
                             float(m.current_a[pack]), at)


@pytest.fixture
def battery(qtbot):
    live = LiveState()
    live.register_battery_system("bs-01", 100, 10)
    system = faulty_system()
    clock = [time.time()]
    push(live, system, clock[0])
    view = BatteryView(FleetContext(live, battery_systems=("bs-01",)), now=lambda: clock[0], tick_ms=3_600_000)
    qtbot.addWidget(view)
    view.resize(1400, 800)
    view.show()
    return view, live, system, clock


def click_cell(qtbot, view, pack: int, cell: int) -> None:
    qtbot.mouseClick(view.heatmap.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.heatmap.cell_centre(pack, cell))


def test_click_on_the_map_shows_the_pack_cells_and_the_cell_trend(qtbot, battery):
    view, live, system, clock = battery
    assert view.system_id == "bs-01" and view.heatmap.values.shape == (100, 10)
    click_cell(qtbot, view, 42, 7)
    assert view.selected_pack == 42 and view.trend_source == (42, 7, "voltage_v")
    snap = live.battery_snapshot("bs-01")
    shown = [view.cells_model.index(c, 1).data(Qt.ItemDataRole.UserRole) for c in range(10)]
    assert np.allclose(shown, snap.voltage_v[42])
    assert view.pack_title.text() == "Pack 42"

    for _ in range(4):  # four more readings: the clicked cell's trend grows from the kept history
        clock[0] += 1.0
        system.step(1.0, power_kw=300.0)
        push(live, system, clock[0])
        view.tick()
    t, v = view.trend.buffers["cell"].view()
    assert len(t) == 5 and np.isclose(v[-1], live.battery_snapshot("bs-01").voltage_v[42, 7])

    click_cell(qtbot, view, 5, 2)
    assert view.trend_source == (5, 2, "voltage_v") and view.selected_pack == 5
    _, v = view.trend.buffers["cell"].view()
    assert np.isclose(v[-1], live.battery_snapshot("bs-01").voltage_v[5, 2])


def test_hot_and_weak_cells_are_outlined_and_named_in_the_summaries(qtbot, battery):
    view, *_ = battery
    assert "hottest pack 42 cell 7" in view.system_summary.text()
    assert "weakest pack 17 cell 3" in view.system_summary.text()
    view.metric_box.setCurrentIndex(view.metric_box.findData("temp_c"))
    assert view.heatmap.colour_bar.levels() == (15.0, 60.0)  # fixed scale, not auto-levelled
    assert view.heatmap.alarm_cells[HOT] and view.heatmap.alarm_cells.sum() == 1  # beyond 45 °C
    view.metric_box.setCurrentIndex(view.metric_box.findData("soh_pct"))
    assert view.heatmap.alarm_cells[WEAK] and view.heatmap.alarm_cells.sum() == 1  # below 80 % SoH
    view.select_pack(42)
    temp = [view.cells_model.index(c, 2).data() for c in range(10)]
    assert float(temp[7]) > 45 and view.cells_model.index(7, 2).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert view.cells_model.index(6, 2).data(Qt.ItemDataRole.BackgroundRole) is None
