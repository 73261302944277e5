"""GridRoom's simulator and driver against pysunspec2, the independent SunSpec implementation."""

from __future__ import annotations

import asyncio
import struct

import pytest
from sunspec2 import device as ss_device
from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

from drivers.modbus.driver import ModbusSunSpecDriver
from drivers.modbus.sim_device import SimulatedSunSpecDevice


def _pysunspec2_client(port: int, unit: int) -> SunSpecModbusClientDeviceTCP:
    return SunSpecModbusClientDeviceTCP(slave_id=unit, ipaddr="127.0.0.1", ipport=port, timeout=2)


@pytest.mark.asyncio
async def test_pysunspec2_scans_reads_and_writes_the_simulator(start_simulator, pool):
    written = asyncio.get_running_loop().create_future()
    target = SimulatedSunSpecDevice(unit_id=7, soc_pct=61.5, soh_pct=97.0, current_a=-20.0, serial="BAT-7")

    def on_setpoints(dev: SimulatedSunSpecDevice) -> None:
        # pysunspec2 writes StorCtl_Mod and the rates as separate requests: wait for the rate
        if dev.in_w_rte_pct and not written.done():
            written.set_result(dev.in_w_rte_pct)

    target.on_setpoints = on_setpoints
    sim = await start_simulator([SimulatedSunSpecDevice(unit_id=1), target])

    def peer() -> dict:
        client = _pysunspec2_client(sim.port, 7)
        try:
            client.scan()
            battery = client.models[802][0]
            battery.read()
            storage = client.models[124][0]
            storage.InWRte.cvalue = 42.5
            storage.OutWRte.cvalue = -42.5
            storage.StorCtl_Mod.value = 3
            storage.write()
            common = client.models[1][0]
            return {
                "models": sorted(k for k in client.models if isinstance(k, int)),
                "errors": [m.error_info for k in (1, 802, 124) for m in client.models[k]],
                "soc": battery.SoC.cvalue,
                "soh": battery.SoH.cvalue,
                "amps": battery.A.cvalue,
                "serial": common.SN.value,
            }
        finally:
            client.close()

    seen = await asyncio.to_thread(peer)
    assert seen["models"] == [1, 124, 802]
    assert seen["errors"] == ["", "", ""]
    assert (seen["soc"], seen["soh"], seen["amps"], seen["serial"]) == (61.5, 97.0, -20.0, "BAT-7")
    assert await asyncio.wait_for(written, 5) == pytest.approx(42.5)
    assert target.commanded_power_kw() == pytest.approx(-0.425 * 50)

    driver = ModbusSunSpecDriver(sim.url(7), pool=pool)
    reading = await driver.read()
    assert reading.extra["setpoints"]["charge_rate_pct"] == pytest.approx(42.5)
    assert reading.extra["setpoints"]["power_kw"] == pytest.approx(-21.25)
    assert reading.values["soc_pct"] == pytest.approx(61.5)
    await driver.close()


@pytest.mark.asyncio
async def test_pysunspec2_reads_back_what_the_driver_wrote(start_simulator, pool):
    sim = await start_simulator([SimulatedSunSpecDevice(unit_id=3, w_cha_max_w=80_000)])
    driver = ModbusSunSpecDriver(sim.url(3), pool=pool)
    readback = await driver.write({"power_kw": 20.0})  # discharge 20 kW = 25 % of 80 kW
    assert readback["discharge_rate_pct"] == pytest.approx(25.0)

    def peer() -> tuple:
        client = _pysunspec2_client(sim.port, 3)
        try:
            client.scan()
            storage = client.models[124][0]
            return storage.StorCtl_Mod.value, storage.OutWRte.cvalue, storage.InWRte.cvalue, storage.WChaMax.cvalue
        finally:
            client.close()

    assert await asyncio.to_thread(peer) == (3, 25.0, -25.0, 80_000)
    await driver.close()


def _pysunspec2_model_registers(model_id: int, raw: dict, computed: dict) -> list[int]:
    """Registers of a model encoded by pysunspec2's own point machinery."""
    model = ss_device.Model(model_id)
    model.ID.value = model_id
    model.L.value = model.len - 2
    for name, value in raw.items():
        model.points[name].value = value
    for name, value in computed.items():
        model.points[name].cvalue = value  # scaled through the point's sunssf, by pysunspec2
    data = model.get_mb()
    return list(struct.unpack(f">{len(data) // 2}H", data))


@pytest.mark.asyncio
async def test_driver_reads_an_image_built_by_pysunspec2(plain_server, pool):
    registers = [0x5375, 0x6E53]  # "SunS"
    registers += _pysunspec2_model_registers(1, {"Mn": "Acme Storage", "Md": "ST-500", "SN": "A123", "Vr": "2.1"}, {})
    registers += _pysunspec2_model_registers(
        802,
        {"SoC_SF": -1, "SoH_SF": 0, "V_SF": -1, "A_SF": -1, "W_SF": 1, "Evt1": (1 << 1) | (1 << 13),
         "AHRtg_SF": 0, "WHRtg_SF": 0, "WChaDisChaMax_SF": 0, "CellV_SF": -3, "AMax_SF": 0, "State": 3},
        {"SoC": 73.4, "SoH": 95, "V": 812.3, "A": 12.5, "W": 10150},
    )  # fmt: skip
    registers += _pysunspec2_model_registers(
        124,
        {"WChaMax_SF": 2, "InOutWRte_SF": -1, "StorCtl_Mod": 3, "WChaDisChaGra_SF": 0},
        {"WChaMax": 50_000, "InWRte": -30.0, "OutWRte": 30.0},
    )
    registers += [0xFFFF, 0]
    # base address 0: the scanner must fall back past 40000 (which this server rejects)
    port = await plain_server({1: (0, registers)})

    driver = ModbusSunSpecDriver(f"modbus+tcp://127.0.0.1:{port}/1", pool=pool)
    await driver.connect()
    assert driver.sunspec_map.base_address == 0
    assert (driver.identity.manufacturer, driver.identity.model, driver.identity.serial) == ("Acme Storage", "ST-500", "A123")
    reading = await driver.read()
    assert reading.values["soc_pct"] == pytest.approx(73.4)
    assert reading.values["soh_pct"] == pytest.approx(95)
    assert reading.values["voltage_v"] == pytest.approx(812.3)
    assert reading.values["current_a"] == pytest.approx(12.5)
    assert reading.values["power_kw"] == pytest.approx(10.15)
    assert reading.extra["alarms"] == ["OVER_TEMP_ALARM", "UNDER_SOC_MIN_ALARM"]
    assert reading.extra["battery_state"] == "CONNECTED"
    assert reading.extra["setpoints"]["discharge_rate_pct"] == pytest.approx(30.0)
    assert reading.extra["setpoints"]["power_kw"] == pytest.approx(15.0)
    await driver.close()
