"""GridRoom's own schedule executor for devices that do not run schedules themselves (Modbus/SunSpec).

At each entry boundary it writes the entry's power as a model 124 setpoint through the poller (which reads
it back and checks it), and when an entry ends it acknowledges it into the execution log with the read-back
rate, exactly as an MQTT device would. Between entries and after the last one the device is set idle.
Everything it needs to resume lives in the database (the active version per device, the entries already
logged), so a runtime restarted mid-day picks up the running entry again and logs every entry once: the
execution log's unique key refuses a second row. Time comes from an injectable clock; tests call tick().
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock, SystemClock
from core.schedules.model import Mode
from core.schedules.records import ScheduleAck
from core.schedules.service import ScheduleService

log = logging.getLogger(__name__)

SetpointWriter = Callable[[str, Mapping[str, float]], Awaitable[Mapping[str, float]]]
RunKey = tuple[str, int, str, int]  # (schedule_id, version, device_id, entry)


@dataclass(frozen=True)
class _Run:
    started_at: datetime
    readback_kw: float
    resumed: bool = False  # found running in the execution log after a restart; its setpoint is written again


class ModbusScheduleExecutor:
    name = "schedule-executor"

    def __init__(self, service: ScheduleService, write: SetpointWriter, device_ids: Iterable[str],
                 clock: Clock | None = None, interval_s: float = 1.0) -> None:
        self.service = service
        self.write = write
        self.device_ids = list(device_ids)
        self.clock = clock or SystemClock()
        self.interval_s = interval_s
        self._running: dict[RunKey, _Run] = {}
        self._driving: dict[str, RunKey] = {}  # device -> the entry whose setpoint it holds
        self._idle: set[str] = set()  # devices set idle by us since their last entry
        self.writes: list[tuple[str, dict[str, float]]] = []  # what was written, for tests and diagnostics
        self._task: asyncio.Task | None = None
        self._tick_lock: asyncio.Lock | None = None  # the loop's ticks and a caller's tick() never interleave

    async def start(self, runtime=None) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("schedule executor tick failed; it runs again next interval")
            await asyncio.sleep(self.interval_s)

    async def tick(self) -> None:
        """Do whatever is due at the clock's now for every device."""
        if self._tick_lock is None:
            self._tick_lock = asyncio.Lock()
        async with self._tick_lock:
            now = self.clock.now()
            for device_id in self.device_ids:
                await self._run_device(device_id, now)

    async def _run_device(self, device_id: str, now: datetime) -> None:
        rec = await asyncio.to_thread(self.service.active_schedule, device_id)
        current = None
        if rec is not None:
            logged = await asyncio.to_thread(self.service.execution_log, device_id=device_id,
                                             schedule_id=rec.schedule_id, version=rec.version)
            done = {e.ack.entry for e in logged if e.ack.ended_at is not None}
            for e in logged:  # started before a restart: resume it rather than start it again
                key = (rec.schedule_id, rec.version, device_id, e.ack.entry)
                if e.ack.ended_at is None and e.ack.ok and key not in self._running:
                    self._running[key] = _Run(e.ack.started_at, e.ack.actual_rate_kw, resumed=True)
            for index, entry in enumerate(rec.entries):
                if index in done:
                    continue
                key = (rec.schedule_id, rec.version, device_id, index)
                if entry.end <= now:
                    await self._finish(device_id, key, entry)
                elif entry.start <= now:
                    current = (key, entry)
                    break
        if current is not None:
            key, entry = current
            run = self._running.get(key)
            if run is None or (run.resumed and self._driving.get(device_id) != key):
                signed = entry.rate_kw if entry.mode == Mode.DISCHARGE else -entry.rate_kw
                try:
                    readback = await self._write(device_id, {"power_kw": signed})
                except Exception as exc:  # refused, unreachable, readback mismatch: the entry failed
                    await self._ack(device_id, key, ScheduleAck(key[0], key[1], key[3], 0.0, now, now, False,
                                                                f"setpoint write failed: {exc}"[:500]))
                    return
                rate = abs(float(readback.get("power_kw", signed)))
                if run is None:  # a new start: logged at once as running (no ended_at), completed at its end
                    self._running[key] = _Run(now, rate)
                    await self._ack(device_id, key, ScheduleAck(key[0], key[1], key[3], rate, now, None, True))
            self._driving[device_id] = key
            self._idle.discard(device_id)
        elif device_id not in self._idle and (rec is not None or device_id in self._driving):
            try:
                await self._write(device_id, {"power_kw": 0.0})
                self._idle.add(device_id)
                self._driving.pop(device_id, None)
            except Exception:
                log.exception("%s: could not set idle after its schedule entry", device_id)

    async def _finish(self, device_id: str, key: RunKey, entry) -> None:
        run = self._running.pop(key, None)
        if run is not None:
            ack = ScheduleAck(key[0], key[1], key[3], run.readback_kw, run.started_at, entry.end, True)
        else:
            ack = ScheduleAck(key[0], key[1], key[3], 0.0, entry.start, entry.end, False,
                              "missed: GridRoom was not running during the entry")
        await self._ack(device_id, key, ack)

    async def _ack(self, device_id: str, key: RunKey, ack: ScheduleAck) -> None:
        result = await asyncio.to_thread(self.service.record_ack, device_id, ack)
        log.info("%s: entry %d of %s v%d %s", device_id, key[3], key[0], key[1], result.outcome.value)

    async def _write(self, device_id: str, setpoints: dict[str, float]) -> Mapping[str, float]:
        self.writes.append((device_id, dict(setpoints)))
        return await self.write(device_id, setpoints)
