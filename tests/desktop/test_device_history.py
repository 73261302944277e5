"""Device detail history comes from the real telemetry store: samples written by the storage writer,
rolled up in SQL, read back by TelemetryQueries off the GUI thread."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.fleet.context import FleetContext
from core.fleet.live_state import LiveState
from core.fleet.samples import TelemetrySample
from core.runtime.runtime import Runtime
from core.telemetry.queries import TelemetryQueries
from core.telemetry.rollups import Rollups
from core.telemetry.writer import TelemetryWriter
from desktop.views.device_detail_view import DeviceDetailView

pytestmark = pytest.mark.asyncio


async def test_history_for_the_last_24_hours_is_read_from_the_rollups(qtbot, sqlite_services, clock, operator):
    start = clock.now()
    writer = TelemetryWriter(sqlite_services.db, clock=clock)
    samples = [
        TelemetrySample("bess-h", start + timedelta(seconds=10 * i), start, 40.0 + i * 0.01, 25.0, 780.0, 32.0,
                        24.0 + (i % 10) * 0.1, 98.0, 1)
        for i in range(720)  # two hours at 10 s
    ]
    writer.submit_samples(samples)
    assert await asyncio.to_thread(writer.flush, 30)
    writer.stop(10)
    clock.advance(timedelta(hours=2, minutes=5))
    await asyncio.to_thread(Rollups(sqlite_services.db, clock).run)

    live = LiveState()
    live.register("bess-h", name="History unit", site="Lille Depot", max_charge_kw=50.0, max_discharge_kw=50.0)
    fleet = FleetContext(live, history=TelemetryQueries(sqlite_services.db).history)
    view = DeviceDetailView(fleet, Runtime(clock), operator, tick_ms=3_600_000,
                            now=lambda: clock.now().timestamp())
    qtbot.addWidget(view)
    await view.load_device("bess-h")
    view.range.setCurrentIndex(2)  # "Last 24 h": the combo starts the load as a UI task
    await view.tasks.idle()
    soc = view.charts["soc_pct"].history
    assert soc is not None and len(soc[0]) >= 100  # 1-minute buckets over two hours
    assert soc[2].min() == pytest.approx(40.0, abs=0.1) and soc[2].max() == pytest.approx(47.19, abs=0.1)
    temp = view.charts["temp_c"].history
    assert temp[1].min() == pytest.approx(24.0) and temp[3].max() == pytest.approx(24.9)
    assert "points per metric" in view.history_note.text()
