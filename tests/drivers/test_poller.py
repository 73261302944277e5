"""The Modbus poller over real Modbus TCP on loopback: readings reach LiveState and the storage sink."""

from __future__ import annotations

import pytest

from core.fleet.live_state import AvailabilityCode, LiveState
from drivers.modbus.sim_device import SimulatedSunSpecDevice
from drivers.modbus.simulator import SunSpecSimulator
from drivers.poller import DevicePoller, mode_from_power


@pytest.mark.asyncio
async def test_poll_cycle_fills_live_state_and_sink():
    devices = [SimulatedSunSpecDevice(unit_id=u, soc_pct=40.0 + u, serial=f"SIM-{u}") for u in (1, 2, 3)]
    sim = SunSpecSimulator(devices)
    port = await sim.start()
    live = LiveState()
    stored: list = []
    poller = DevicePoller(
        [(f"mbs-0{u}", f"modbus+tcp://127.0.0.1:{port}/{u}") for u in (1, 2, 3)], live, sink=stored.extend
    )
    try:
        samples = await poller.poll_once()
        assert sorted(s.device_id for s in samples) == ["mbs-01", "mbs-02", "mbs-03"]
        snap = live.snapshot()
        socs = {d: snap.soc_pct[snap.row(d)] for d in ("mbs-01", "mbs-02", "mbs-03")}
        assert socs == pytest.approx({"mbs-01": 41.0, "mbs-02": 42.0, "mbs-03": 43.0}, abs=0.1)
        assert len(stored) == 3

        devices[1].exception_code = 4  # the device starts answering with a server failure
        devices[0].soc_pct = 55.0
        samples = await poller.poll_once()
        assert sorted(s.device_id for s in samples) == ["mbs-01", "mbs-03"]
        assert poller.stats.failures == 1
        snap = live.snapshot()
        assert snap.soc_pct[snap.row("mbs-01")] == pytest.approx(55.0, abs=0.1)
    finally:
        await poller.stop()
        await sim.stop()


@pytest.mark.asyncio
async def test_unreachable_endpoint_goes_offline_without_stopping_the_others():
    sim = SunSpecSimulator([SimulatedSunSpecDevice(unit_id=1, soc_pct=70.0)])
    port = await sim.start()
    live = LiveState()
    poller = DevicePoller(
        [("mbs-ok", f"modbus+tcp://127.0.0.1:{port}/1"), ("mbs-gone", "modbus+tcp://127.0.0.1:1/1")], live
    )
    try:
        samples = await poller.poll_once()
        assert [s.device_id for s in samples] == ["mbs-ok"]
        snap = live.snapshot()
        assert snap.availability[snap.row("mbs-gone")] == AvailabilityCode.OFFLINE
        assert "cannot connect to 127.0.0.1:1" in live.offline_reason("mbs-gone")
    finally:
        await poller.stop()
        await sim.stop()


@pytest.mark.asyncio
async def test_setpoint_write_goes_through_the_driver_with_readback():
    device = SimulatedSunSpecDevice(unit_id=1, w_cha_max_w=50_000.0)
    sim = SunSpecSimulator([device])
    port = await sim.start()
    poller = DevicePoller([("mbs-01", f"modbus+tcp://127.0.0.1:{port}/1")], LiveState())
    try:
        readback = await poller.write("mbs-01", {"power_kw": -20.0})  # charge at 20 kW
        assert device.commanded_power_kw() == pytest.approx(-20.0, abs=0.5)
        assert readback
    finally:
        await poller.stop()
        await sim.stop()


@pytest.mark.parametrize("power, mode", [(0.0, 0), (0.3, 0), (5.0, 1), (-5.0, 2), (float("nan"), 0)])
def test_mode_from_power(power, mode):
    assert mode_from_power(power) == mode
