"""GridRoom's own executor runs a schedule on a simulated Modbus/SunSpec device: setpoints at each entry
boundary (read back), acks into the execution log, idle after the last entry, and a restart resumes from the
database without logging anything twice. Time is a ManualClock; tick() is called, nothing sleeps."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.auth.principal import SYSTEM
from core.fleet.live_state import LiveState
from core.schedules.model import DeviceLimits, Mode, ScheduleEntry, ScheduleState, ScheduleTarget
from core.schedules.records import DeliveryState
from core.schedules.service import ScheduleService
from drivers.poller import DevicePoller
from drivers.schedule_executor import ModbusScheduleExecutor
from drivers.sim.fleet_sim import FleetSimulator
from tests.support.sim_fleet import small_fleet


def limits_of(device_id: str) -> DeviceLimits:
    return DeviceLimits(device_id, 200.0, 100.0, 100.0, 5.0, 95.0, 1.0, 1.0, 50.0)


def test_modbus_device_runs_two_entries_with_readback_and_returns_to_idle(sqlite_services, clock, shared_broker, uid):
    svc = ScheduleService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock, limits_of)
    sim = FleetSimulator(small_fleet(uid, mqtt_devices=0, modbus_devices=1), shared_broker, clock, seed=1)
    device = f"{uid}-m1"
    sim.start()

    def commanded_kw() -> float:
        return float(sim.physics.commanded_kw[sim.physics._index(device)])

    async def scenario() -> None:
        poller = DevicePoller([(device, sim.modbus_url(device))], LiveState(), clock=clock)
        start = clock.now()
        entries = [ScheduleEntry(start + timedelta(minutes=5), start + timedelta(minutes=20), Mode.DISCHARGE, 60.0),
                   ScheduleEntry(start + timedelta(minutes=20), start + timedelta(minutes=35), Mode.CHARGE, 30.0)]
        rec = svc.approve(SYSTEM, svc.create_draft(SYSTEM, ScheduleTarget.device(device), entries).id)
        svc.mark_distributed(SYSTEM, rec.id, [device])
        executor = ModbusScheduleExecutor(svc, poller.write, [device], clock)
        try:
            await executor.tick()
            assert commanded_kw() == 0.0  # idle until the first entry
            clock.advance(timedelta(minutes=5))
            await executor.tick()
            assert abs(commanded_kw() - 60.0) < 0.5  # discharging
            await executor.tick()  # nothing new due: no second write
            assert len(executor.writes) == 2
            assert svc.get(rec.id).state is ScheduleState.ACKNOWLEDGED  # entry 0 logged as running
            (running,) = svc.execution_log(device_id=device)
            assert running.ack.ended_at is None and abs(running.ack.actual_rate_kw - 60.0) < 0.5

            # The runtime restarts mid-entry: a new executor resumes from the database.
            executor = ModbusScheduleExecutor(svc, poller.write, [device], clock)
            clock.advance(timedelta(minutes=15))
            await executor.tick()  # entry 0 resumed from the log and completed once; entry 1 starts
            assert abs(commanded_kw() + 30.0) < 0.5  # charging
            clock.advance(timedelta(minutes=15))
            await executor.tick()
            await executor.tick()
            assert commanded_kw() == 0.0  # idle after the last entry
        finally:
            await poller.stop()
        log = svc.execution_log(device_id=device)
        assert [e.ack.entry for e in log] == [0, 1]
        assert log[0].ack.ok and log[0].ack.started_at == start + timedelta(minutes=5)
        assert log[0].ack.ended_at == start + timedelta(minutes=20)
        assert log[1].ack.ok and abs(log[1].ack.actual_rate_kw - 30.0) < 0.5
        assert log[1].ack.started_at == start + timedelta(minutes=20)
        assert svc.delivery(rec.id, device).state is DeliveryState.COMPLETED
        assert svc.get(rec.id).state is ScheduleState.COMPLETED

    try:
        asyncio.run(scenario())
    finally:
        sim.stop()


def test_modbus_schedule_completes_when_every_entry_runs(sqlite_services, clock, shared_broker, uid):
    svc = ScheduleService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock, limits_of)
    sim = FleetSimulator(small_fleet(uid, mqtt_devices=0, modbus_devices=1), shared_broker, clock, seed=1)
    device = f"{uid}-m1"
    sim.start()

    async def scenario() -> None:
        poller = DevicePoller([(device, sim.modbus_url(device))], LiveState(), clock=clock)
        start = clock.now()
        entries = [ScheduleEntry(start + timedelta(minutes=1), start + timedelta(minutes=2), Mode.CHARGE, 50.0),
                   ScheduleEntry(start + timedelta(minutes=2), start + timedelta(minutes=3), Mode.DISCHARGE, 25.0)]
        rec = svc.approve(SYSTEM, svc.create_draft(SYSTEM, ScheduleTarget.device(device), entries).id)
        svc.mark_distributed(SYSTEM, rec.id, [device])
        executor = ModbusScheduleExecutor(svc, poller.write, [device], clock)
        try:
            for _ in range(3):
                clock.advance(timedelta(minutes=1))
                await executor.tick()
        finally:
            await poller.stop()
        assert [(e.ack.entry, e.ack.ok, round(e.ack.actual_rate_kw)) for e in svc.execution_log()] == [
            (0, True, 50), (1, True, 25)]
        assert svc.get(rec.id).state is ScheduleState.COMPLETED
        assert [w[1]["power_kw"] for w in executor.writes] == [-50.0, 25.0, 0.0]

    try:
        asyncio.run(scenario())
    finally:
        sim.stop()
