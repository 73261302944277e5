"""Fleet view against a real LiveState fed by the MQTT device simulator through the real Mosquitto:
filters, sorting, status changes reaching the table, one signal per tick, empty state, saved view state."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.fleet import AvailabilityCode, LiveState
from core.fleet.context import FleetContext
from desktop.models.fleet_filter import FleetFilter
from desktop.models.fleet_table_model import COLUMN_KEYS, RAW_ROLE
from desktop.theme import Abnormal, abnormal
from desktop.views.fleet_view import NO_MATCH, FleetView
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.device_sim import DeviceFleetSimulator
from drivers.mqtt.ingest import TelemetryIngest
from drivers.mqtt.topics import device_filter
from tests.support.services import require_mosquitto

pytestmark = pytest.mark.mosquitto
SITES = ("Lille Depot", "Arras Yard", "Douai North")
COL = {key: i for i, key in enumerate(COLUMN_KEYS)}


@pytest.fixture
def live_fleet():
    """30 simulated MQTT devices over 3 sites, reporting into a LiveState through the real broker."""
    host, port = require_mosquitto()
    config = BrokerConfig(host=host, port=port, reconnect_min_delay_s=0.2, reconnect_max_delay_s=2.0)
    uid = "f" + uuid.uuid4().hex[:8]
    devices = [f"{uid}-{i:02d}" for i in range(30)]
    state = LiveState()
    for i, device in enumerate(devices):
        state.register(device, name=f"Unit {i:02d}", site=SITES[i % 3], capacity_kwh=500.0)
    ingest = TelemetryIngest(config, state, filters=[device_filter(d) for d in devices])
    ingest.start()
    assert ingest.wait_subscribed(10)
    sim = DeviceFleetSimulator(config, devices)
    sim.start()
    try:
        yield SimpleNamespace(state=state, ingest=ingest, sim=sim, devices=devices)
    finally:
        sim.stop()
        ingest.stop()


def publish_and_wait(fleet, decoded_at_least: int) -> None:
    fleet.sim.publish_round()
    assert fleet.ingest.wait_until(lambda c: c.decoded >= decoded_at_least, 20), fleet.ingest.counters.snapshot()


def make_view(qtbot, fleet, layout_settings, now=time.time) -> FleetView:
    view = FleetView(FleetContext(fleet.state), SimpleNamespace(username="otto"), layout_settings,
                     now=now, tick_ms=3_600_000)  # ticks are driven by the test
    qtbot.addWidget(view)
    view.model.set_metadata(view.directory.describe_many(view.model.missing_metadata()))
    view.tick()
    return view


def column(view, key: str, role=RAW_ROLE) -> list:
    return [view.model.index(r, COL[key]).data(role) for r in range(view.model.rowCount())]


def test_filters_and_sorting_on_live_devices(qtbot, live_fleet, layout_settings):
    publish_and_wait(live_fleet, 60)  # 30 online statuses + 30 telemetry messages
    view = make_view(qtbot, live_fleet, layout_settings)
    assert view.model.rowCount() == 30
    assert view.tiles["online"].value() == "30" and view.tiles["offline"].value() == "0"
    soc = np.array(column(view, "soc_pct"))
    assert np.isfinite(soc).all()
    snap = live_fleet.state.snapshot()
    expected_energy = float(np.sum(snap.soc_pct / 100 * 500.0))
    assert view.tiles["energy"].value() == f"{expected_energy:,.0f}"

    view.table.sortByColumn(COL["soc_pct"], Qt.SortOrder.DescendingOrder)
    assert column(view, "soc_pct") == sorted(soc.tolist(), reverse=True)
    view.filters.site.setCurrentText("Arras Yard")
    assert view.model.rowCount() == 10 and set(column(view, "site")) == {"Arras Yard"}
    view.filters.text.setText("unit 1")  # matches names "Unit 1x", case-insensitive
    assert sorted(column(view, "name")) == ["Unit 10", "Unit 13", "Unit 16", "Unit 19"]
    view.filters.text.setText(live_fleet.devices[4])  # by id
    assert column(view, "id") == [live_fleet.devices[4]]

    view.filters.text.setText("no such device")
    assert view.model.rowCount() == 0
    assert not view.empty.isHidden() and view.empty.text() == NO_MATCH
    view.filters.text.clear()
    assert view.empty.isHidden()


def test_device_going_offline_reaches_its_row_with_one_signal_per_tick(qtbot, live_fleet, layout_settings):
    publish_and_wait(live_fleet, 60)
    view = make_view(qtbot, live_fleet, layout_settings)
    signals = {"data": [], "layout": 0}
    view.model.dataChanged.connect(lambda tl, br, roles: signals["data"].append((tl.row(), br.row())))
    view.model.layoutChanged.connect(lambda *a: signals.__setitem__("layout", signals["layout"] + 1))

    publish_and_wait(live_fleet, 90)  # every device reports again
    view.tick()
    assert len(signals["data"]) == 1 and signals["layout"] == 0
    assert signals["data"][0] == (0, 29)  # the span covers every changed row

    victim = live_fleet.devices[7]
    row = live_fleet.state.row_of(victim)
    live_fleet.sim.take_offline(victim, reason="inverter trip")
    assert live_fleet.ingest.wait_until(
        lambda c: live_fleet.state.snapshot().availability[row] == AvailabilityCode.OFFLINE, 10)
    signals["data"].clear()
    view.tick()
    assert len(signals["data"]) == 1 and signals["layout"] == 0
    table_row = view.model.table_row_of(victim)
    assert signals["data"][0][0] <= table_row <= signals["data"][0][1]
    status = view.model.index(table_row, COL["status"])
    assert status.data() == "offline"
    assert status.data(Qt.ItemDataRole.BackgroundRole).name() == abnormal(Abnormal.OFFLINE).background
    assert view.model.index(table_row, COL["soc_pct"]).data(Qt.ItemDataRole.BackgroundRole) is None  # normal: grey
    assert view.tiles["offline"].value() == "1" and view.tiles["online"].value() == "29"

    # A status filter is re-applied every tick: the offline device alone, then gone once it is back.
    view.filters.status.setCurrentText("Offline")
    assert column(view, "id") == [victim]
    live_fleet.sim.bring_online(victim)
    assert live_fleet.ingest.wait_until(
        lambda c: live_fleet.state.snapshot().availability[row] == AvailabilityCode.ONLINE, 10)
    view.tick()
    assert view.model.rowCount() == 0 and signals["layout"] >= 1


def test_filters_sort_and_selection_are_restored_per_user(qtbot, live_fleet, layout_settings):
    publish_and_wait(live_fleet, 60)
    first = make_view(qtbot, live_fleet, layout_settings)
    first.filters.site.setCurrentText("Douai North")
    first.table.sortByColumn(COL["name"], Qt.SortOrder.DescendingOrder)
    chosen = first.model.device_at(3)
    assert first.select_device(chosen)

    again = make_view(qtbot, live_fleet, layout_settings)
    assert again.model.filter == FleetFilter(site="Douai North")
    assert again.filters.site.currentText() == "Douai North"
    assert again.model.sort_state == (COL["name"], False)
    assert again.selected_device() == chosen
    other = FleetView(FleetContext(live_fleet.state), SimpleNamespace(username="vera"), layout_settings,
                      tick_ms=3_600_000)
    qtbot.addWidget(other)
    assert other.model.filter.is_open  # another user starts with their own (default) view


def test_last_seen_window_and_relative_age_follow_the_clock(qtbot, live_fleet, layout_settings):
    publish_and_wait(live_fleet, 60)
    clock = [time.time()]
    view = make_view(qtbot, live_fleet, layout_settings, now=lambda: clock[0])
    view.filters.seen.setCurrentText("Last minute")
    assert view.model.rowCount() == 30
    assert all(text.endswith("s ago") for text in column(view, "last_seen", Qt.ItemDataRole.DisplayRole))
    clock[0] += 300  # five minutes without a report
    view.tick()
    assert view.model.rowCount() == 0
    view.filters.seen.setCurrentText("Any time")
    assert set(column(view, "last_seen", Qt.ItemDataRole.DisplayRole)) <= {"4 min ago", "5 min ago"}
