"""GridRoom's driver for SunSpec batteries over Modbus TCP (`modbus+tcp://host:port/unit`).

connect() scans the SunSpec map once and reads the identity (model 1); read() fetches models 802
(battery) and 124 (storage controls), in one request when they sit side by side; write() commands
model 124 as documented in storage_control and checks the readback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from core.clock import Clock, SystemClock
from drivers.base import Availability, DriverError, DriverTimeout, NotConnected, Reading, ReadbackMismatch
from drivers.modbus import storage_control
from drivers.modbus.connection import MAX_REGISTERS_PER_READ, EndpointPool, ModbusEndpoint, pool_for_running_loop
from drivers.modbus.scanner import ModelLocation, SunSpecMap, scan
from drivers.modbus.sunspec_image import ModelValues, decode_model, unscale
from drivers.modbus.sunspec_models import (
    BATTERY_MODEL_ID,
    COMMON_MODEL_ID,
    STORAGE_CONTROL_MODEL_ID,
    ModelDef,
    load_model_def,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 502


class InvalidModbusAddress(DriverError, ValueError):
    """The device URL is not a usable modbus+tcp://host:port/unit address."""


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Model 1 (common) identity of the device."""

    manufacturer: str | None
    model: str | None
    serial: str | None
    version: str | None


def parse_modbus_url(url: str) -> tuple[str, int, int]:
    """(host, port, unit) from modbus+tcp://host[:port][/unit]; unit defaults to 1, port to 502."""
    parts = urlsplit(url)
    if parts.scheme != "modbus+tcp":
        raise InvalidModbusAddress(f"{url!r}: scheme must be modbus+tcp, got {parts.scheme!r}")
    if not parts.hostname:
        raise InvalidModbusAddress(f"{url!r}: no host")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise InvalidModbusAddress(f"{url!r}: bad port ({exc})") from None
    unit_text = parts.path.strip("/") or "1"
    if not unit_text.isdigit() or not 0 <= int(unit_text) <= 247:
        raise InvalidModbusAddress(f"{url!r}: unit must be a number 0..247, got {unit_text!r}")
    return parts.hostname, port, int(unit_text)


def read_plan(locations: list[ModelLocation]) -> list[tuple[int, int]]:
    """(address, count) requests covering the models, merged when one request can span them."""
    plan: list[tuple[int, int]] = []
    for loc in sorted(locations, key=lambda m: m.address):
        if plan:
            start, count = plan[-1]
            if loc.end_address - start <= MAX_REGISTERS_PER_READ:
                plan[-1] = (start, max(count, loc.end_address - start))
                continue
        plan.append((loc.address, loc.end_address - loc.address))
    return plan


class ModbusSunSpecDriver:
    """Driver for one SunSpec battery unit behind a Modbus TCP endpoint (shared with other units)."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        timeout_s: float = 1.0,
        stale_after_s: float = 5.0,
        device_id: str | None = None,
        pool: EndpointPool | None = None,
    ) -> None:
        self.url = url
        self.host, self.port, self.unit = parse_modbus_url(url)
        self.device_id = device_id or url
        self._clock = clock or SystemClock()
        self._timeout_s = timeout_s
        self._stale_after_s = stale_after_s
        self._pool = pool
        self._endpoint: ModbusEndpoint | None = None
        self._map: SunSpecMap | None = None
        self._identity: DeviceIdentity | None = None
        self._last_good_mono: float | None = None
        self.last_seen = None  # aware UTC datetime of the last good read
        self._failing = False
        self._failure_logged = False

    # -- state ---------------------------------------------------------------------------------
    @property
    def availability(self) -> Availability:
        """ONLINE after a good read, STALE when it is older than stale_after_s, OFFLINE when down/failing."""
        if self._endpoint is None or self._failing or self._last_good_mono is None or not self._endpoint.connected:
            return Availability.OFFLINE
        if self._clock.monotonic() - self._last_good_mono > self._stale_after_s:
            return Availability.STALE
        return Availability.ONLINE

    @property
    def identity(self) -> DeviceIdentity | None:
        """Manufacturer, model, serial and version from model 1 (read once by connect())."""
        return self._identity

    @property
    def sunspec_map(self) -> SunSpecMap | None:
        return self._map

    def _succeeded(self) -> None:
        if self._failing:
            log.info("%s recovered", self.url)
        self._failing = False
        self._failure_logged = False
        self._last_good_mono = self._clock.monotonic()
        self.last_seen = self._clock.now()

    def _failed(self, exc: DriverError) -> None:
        self._failing = True
        if not self._failure_logged:
            log.error("%s failed: %s", self.url, exc)  # the first failure is news; repeats are not
            self._failure_logged = True
        else:
            log.debug("%s still failing: %s", self.url, exc)

    # -- lifecycle -----------------------------------------------------------------------------
    def _acquire(self) -> ModbusEndpoint:
        if self._endpoint is None:
            if self._pool is None:  # not `or`: an empty pool is falsy
                self._pool = pool_for_running_loop()
            self._endpoint = self._pool.acquire(self.host, self.port, clock=self._clock, timeout_s=self._timeout_s)
        return self._endpoint

    async def connect(self) -> None:
        """Connect, scan the SunSpec map and read the identity; both are cached for later calls."""
        endpoint = self._acquire()
        if self._map is not None:
            return
        try:
            async with endpoint.session():

                async def read(address: int, count: int) -> list[int]:
                    return await endpoint.read_holding(self.unit, address, count)

                sunspec_map = await scan(read)
                for required in (COMMON_MODEL_ID, BATTERY_MODEL_ID, STORAGE_CONTROL_MODEL_ID):
                    sunspec_map.require(required)
                common = await self._read_model(endpoint, sunspec_map.require(COMMON_MODEL_ID))
        except (NotConnected, DriverTimeout) as exc:
            self._failed(exc)
            raise
        raw = common.raw
        self._identity = DeviceIdentity(raw.get("Mn"), raw.get("Md"), raw.get("SN"), raw.get("Vr"))  # type: ignore[arg-type]
        self._map = sunspec_map

    async def close(self) -> None:
        """Release the shared connection; the socket closes with its last user."""
        if self._endpoint is not None and self._pool is not None:
            self._pool.release(self._endpoint)
        self._endpoint = None
        self._last_good_mono = None

    async def _read_model(self, endpoint: ModbusEndpoint, location: ModelLocation) -> ModelValues:
        model = load_model_def(location.model_id)
        registers = await endpoint.read_holding(self.unit, location.address, model.total_registers)
        return decode_model(model, registers)

    async def _read_models(self, endpoint: ModbusEndpoint, locations: list[ModelLocation]) -> dict[int, ModelValues]:
        fetched: dict[int, list[int]] = {}
        for address, count in read_plan(locations):
            registers = await endpoint.read_holding(self.unit, address, count)
            for offset, value in enumerate(registers):
                fetched[address + offset] = value
        result = {}
        for loc in locations:
            model = load_model_def(loc.model_id)
            result[loc.model_id] = decode_model(
                model, [fetched[a] for a in range(loc.address, loc.address + model.total_registers)]
            )
        return result

    # -- reading -------------------------------------------------------------------------------
    async def read(self) -> Reading:
        """One Reading of models 802 and 124 (connects and scans first if needed)."""
        try:
            await self.connect()
            assert self._endpoint is not None and self._map is not None
            locations = [self._map.require(BATTERY_MODEL_ID), self._map.require(STORAGE_CONTROL_MODEL_ID)]
            async with self._endpoint.session():
                models = await self._read_models(self._endpoint, locations)
        except DriverError as exc:
            self._failed(exc)
            raise
        self._succeeded()
        return self._reading(models[BATTERY_MODEL_ID], models[STORAGE_CONTROL_MODEL_ID])

    def _reading(self, battery: ModelValues, storage: ModelValues) -> Reading:
        values: dict[str, float] = {}
        for key, point in (("soc_pct", "SoC"), ("soh_pct", "SoH"), ("voltage_v", "V"), ("current_a", "A")):
            value = battery.scaled(point)
            if value is not None:
                values[key] = value
        power_w = battery.scaled("W")
        if power_w is None and "voltage_v" in values and "current_a" in values:
            power_w = values["voltage_v"] * values["current_a"]  # derived: 802 W is optional in practice
        if power_w is not None:
            values["power_kw"] = power_w / 1000.0
        # Model 802 has no temperature point, so temp_c is not reported by this driver.
        evt1 = battery.raw.get("Evt1")
        evt1_point = battery.model.point("Evt1")
        alarms = sorted(
            name for name, bit in evt1_point.symbols.items() if isinstance(evt1, int) and evt1 & (1 << bit)
        )
        w_cha_max = storage.scaled("WChaMax")
        extra: dict[str, Any] = {
            "alarms": alarms,
            "evt1": evt1,
            "charge_state": _symbol(battery, "ChaSt"),
            "battery_state": _symbol(battery, "State"),
            "w_cha_max_kw": None if w_cha_max is None else w_cha_max / 1000.0,
            "setpoints": storage_control.describe(
                storage.raw.get("StorCtl_Mod"),  # type: ignore[arg-type]
                _scaled_rate(storage, "InWRte"),
                _scaled_rate(storage, "OutWRte"),
                w_cha_max,
            ),
            "unimplemented": sorted(
                p for p in ("SoC", "SoH", "V", "A", "W") if battery.raw.get(p) is None
            ),
        }
        return Reading(self.device_id, self._clock.now(), values, extra)

    # -- writing -------------------------------------------------------------------------------
    async def write(self, setpoints: Mapping[str, float]) -> Mapping[str, float]:
        """Command model 124 (see storage_control for the mapping), read back, return the readback.

        Raises SetpointError for a request that cannot be expressed, ModbusExceptionResponse when the
        device refuses, ReadbackMismatch when the device holds something other than what was written.
        """
        try:
            await self.connect()
        except DriverError as exc:
            self._failed(exc)
            raise
        assert self._endpoint is not None and self._map is not None
        location = self._map.require(STORAGE_CONTROL_MODEL_ID)
        model = load_model_def(STORAGE_CONTROL_MODEL_ID)
        try:
            async with self._endpoint.session():
                before = await self._read_model(self._endpoint, location)
                command = storage_control.command_for(setpoints, before.scaled("WChaMax"))
                rate_sf = before.sf_of("InWRte") or 0
                wanted = {
                    "OutWRte": _raw_rate(model, "OutWRte", command.out_w_rte_pct, rate_sf),
                    "InWRte": _raw_rate(model, "InWRte", command.in_w_rte_pct, rate_sf),
                    "StorCtl_Mod": command.storctl_mod,
                }
                # Rates first, then the mode bits, so the limits are never enabled with old rates.
                out_point = model.point("OutWRte")
                assert model.point("InWRte").offset == out_point.offset + 1  # adjacent in the 124 definition
                await self._endpoint.write_registers(
                    self.unit,
                    location.address + out_point.offset,
                    [wanted["OutWRte"] & 0xFFFF, wanted["InWRte"] & 0xFFFF],
                )
                await self._endpoint.write_registers(
                    self.unit, location.address + model.point("StorCtl_Mod").offset, [command.storctl_mod]
                )
                after = await self._read_model(self._endpoint, location)
        except (NotConnected, DriverTimeout) as exc:
            self._failed(exc)
            raise
        differences = [
            f"{name}: wrote {value}, read back {after.raw.get(name)}"
            for name, value in wanted.items()
            if after.raw.get(name) != value
        ]
        if differences:
            raise ReadbackMismatch(f"{self.url}: model 124 readback differs ({'; '.join(differences)})")
        return storage_control.describe(
            after.raw.get("StorCtl_Mod"),  # type: ignore[arg-type]
            _scaled_rate(after, "InWRte"),
            _scaled_rate(after, "OutWRte"),
            after.scaled("WChaMax"),
        )


def _symbol(values: ModelValues, name: str) -> str | None:
    raw = values.raw.get(name)
    return values.model.point(name).symbol_name(raw) if isinstance(raw, int) else None


def _scaled_rate(values: ModelValues, name: str) -> float | None:
    # InOutWRte_SF is optional in model 124: an unimplemented SF means "no scaling".
    raw = values.raw.get(name)
    return None if raw is None else float(raw) * 10.0 ** (values.sf_of(name) or 0)  # type: ignore[arg-type]


def _raw_rate(model: ModelDef, name: str, pct: float, sf: int) -> int:
    return unscale(model.point(name), pct, sf)

