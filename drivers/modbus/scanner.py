"""Find a device's SunSpec map: the SunS marker, then each model header up to the end model.

The walk is written once, without I/O, as a generator that yields (address, count) read requests
and receives the registers (or the device's rejection). `scan` drives it over the wire, and
`scan_sync` over anything synchronous (an in-memory image in tests and fuzzing). Every way a map
can be wrong ends in SunSpecScanError saying what was found and at which register.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Generator, Mapping, Sequence

from drivers.base import DeviceRejected, DriverError
from drivers.modbus.sunspec_image import END_MODEL_ID, SUNS_MARKER
from drivers.modbus.sunspec_models import (
    BATTERY_MODEL_ID,
    COMMON_MODEL_ID,
    STORAGE_CONTROL_MODEL_ID,
    load_model_def,
)

# The order the SunSpec specification (and pysunspec2) tries base addresses in.
BASE_ADDRESSES = (40000, 0, 50000)
MAX_MODELS = 256  # no real device has more; a longer chain means a map that never ends
LAST_REGISTER = 0xFFFF


class SunSpecScanError(DriverError):
    """The device's register map is not a usable SunSpec map; the message says why and where."""


@dataclass(frozen=True, slots=True)
class ModelLocation:
    """Where one model sits in the map."""

    model_id: int
    address: int  # address of the model's ID register
    length: int  # L: registers after the ID/L header

    @property
    def body_address(self) -> int:
        return self.address + 2

    @property
    def end_address(self) -> int:
        """First register after the model."""
        return self.address + 2 + self.length


@dataclass(frozen=True, slots=True)
class SunSpecMap:
    """A scanned map: the base address and the models in the order found."""

    base_address: int
    models: tuple[ModelLocation, ...]

    def find(self, model_id: int) -> ModelLocation | None:
        """The first instance of model_id, or None."""
        for location in self.models:
            if location.model_id == model_id:
                return location
        return None

    def require(self, model_id: int) -> ModelLocation:
        """The first instance of model_id; SunSpecScanError listing what the device has otherwise."""
        location = self.find(model_id)
        if location is None:
            found = ", ".join(str(m.model_id) for m in self.models) or "none"
            raise SunSpecScanError(f"device has no SunSpec model {model_id} (models found: {found})")
        return location

    @property
    def model_ids(self) -> tuple[int, ...]:
        return tuple(m.model_id for m in self.models)


def _minimum_lengths() -> dict[int, int]:
    # GridRoom decodes these models point by point, so a shorter L would misplace every point.
    return {m: load_model_def(m).length for m in (COMMON_MODEL_ID, BATTERY_MODEL_ID, STORAGE_CONTROL_MODEL_ID)}


ReadRequest = tuple[int, int]
ScanSteps = Generator[ReadRequest, Sequence[int], SunSpecMap]


def _checked(registers: Sequence[int], address: int, count: int) -> Sequence[int]:
    if len(registers) != count:
        raise SunSpecScanError(f"asked for {count} registers at {address}, device returned {len(registers)}")
    return registers


def scan_steps(minimum_lengths: Mapping[int, int] | None = None) -> ScanSteps:
    """The scan as a generator: yields reads, receives registers; a rejection arrives via throw()."""
    minimum = _minimum_lengths() if minimum_lengths is None else dict(minimum_lengths)
    tried: list[str] = []
    base: int | None = None
    for candidate in BASE_ADDRESSES:
        try:
            marker = _checked((yield (candidate, 2)), candidate, 2)
        except DeviceRejected as exc:
            tried.append(f"{candidate} (rejected: {exc})")
            continue
        if tuple(marker) == SUNS_MARKER:
            base = candidate
            break
        tried.append(f"{candidate} (found 0x{marker[0]:04X} 0x{marker[1]:04X})")
    if base is None:
        raise SunSpecScanError("no SunS marker at " + ", ".join(tried))

    models: list[ModelLocation] = []
    address = base + 2
    for _ in range(MAX_MODELS):
        if address + 1 > LAST_REGISTER:
            raise SunSpecScanError(f"map runs past register {LAST_REGISTER} without an end model (base {base})")
        try:
            model_id, length = _checked((yield (address, 2)), address, 2)
        except DeviceRejected as exc:
            raise SunSpecScanError(
                f"no end model: reading the model header at register {address} was rejected ({exc})"
            ) from exc
        if model_id == END_MODEL_ID:
            return SunSpecMap(base, tuple(models))
        if model_id == 0:
            raise SunSpecScanError(f"register {address} holds model id 0, not a SunSpec model header (missing end model?)")
        needed = minimum.get(model_id)
        if needed is not None and length < needed:
            raise SunSpecScanError(
                f"model {model_id} length {length} but definition needs {needed} at register {address}"
            )
        location = ModelLocation(model_id, address, length)
        if location.end_address > LAST_REGISTER + 1:
            raise SunSpecScanError(
                f"model {model_id} at register {address} with length {length} runs past register {LAST_REGISTER}"
            )
        models.append(location)
        address = location.end_address
    raise SunSpecScanError(f"more than {MAX_MODELS} models after base {base}: the map never reaches an end model")


def _advance(steps: ScanSteps, result: Sequence[int] | DeviceRejected) -> ReadRequest:
    if isinstance(result, DeviceRejected):
        return steps.throw(result)
    return steps.send(result)


async def scan(read: Callable[[int, int], Awaitable[Sequence[int]]]) -> SunSpecMap:
    """Scan a device through an async read(address, count); rejections by the device are expected."""
    steps = scan_steps()
    request = next(steps)
    while True:
        result: Sequence[int] | DeviceRejected
        try:
            result = await read(*request)
        except DeviceRejected as exc:
            result = exc
        try:
            request = _advance(steps, result)
        except StopIteration as done:
            return done.value


def scan_sync(read: Callable[[int, int], Sequence[int]]) -> SunSpecMap:
    """Scan through a synchronous read(address, count), e.g. an in-memory register image."""
    steps = scan_steps()
    request = next(steps)
    while True:
        result: Sequence[int] | DeviceRejected
        try:
            result = read(*request)
        except DeviceRejected as exc:
            result = exc
        try:
            request = _advance(steps, result)
        except StopIteration as done:
            return done.value
