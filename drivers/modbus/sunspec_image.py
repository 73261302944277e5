"""Encode and decode SunSpec points, and build a device's register image.

A point's raw value is the integer (or text) on the wire; its scaled value is raw * 10**sf, where
sf is the value of the point's sunssf partner. Unimplemented points carry the SunSpec sentinel
(0x8000 for int16, 0xFFFF for uint16/enum16/bitfield16, ...) and decode to None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from drivers.base import DriverError
from drivers.modbus.sunspec_models import ModelDef, PointDef, load_model_def

SUNS_MARKER = (0x5375, 0x6E53)  # "SunS"
END_MODEL_ID = 0xFFFF
DEFAULT_BASE_ADDRESS = 40000

RawValue = int | str | None

# Sentinels that mean "not implemented", by type (as registers would read them, unsigned).
_UNIMPLEMENTED: Mapping[str, int] = {
    "int16": 0x8000,
    "sunssf": 0x8000,
    "uint16": 0xFFFF,
    "count": 0xFFFF,
    "enum16": 0xFFFF,
    "bitfield16": 0xFFFF,
    "acc16": 0,
    "int32": 0x80000000,
    "uint32": 0xFFFFFFFF,
    "enum32": 0xFFFFFFFF,
    "bitfield32": 0xFFFFFFFF,
    "acc32": 0,
}
_SIGNED = {"int16", "sunssf", "int32"}


class SunSpecValueError(DriverError):
    """A value cannot be encoded into (or decoded from) a SunSpec point."""


def _unsigned_range(point: PointDef) -> tuple[int, int]:
    bits = 16 * point.size
    if point.type in _SIGNED:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def encode_point(point: PointDef, raw: RawValue) -> list[int]:
    """Registers for a raw value of point; None encodes the point's unimplemented sentinel."""
    if point.type == "pad":
        return [0] * point.size
    if point.type == "string":
        text = "" if raw is None else str(raw)
        data = text.encode("utf-8")
        if len(data) > 2 * point.size:
            raise SunSpecValueError(f"point {point.name}: {text!r} is longer than {2 * point.size} bytes")
        data = data.ljust(2 * point.size, b"\0")
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if raw is None:
        word = _UNIMPLEMENTED[point.type]
    else:
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise SunSpecValueError(f"point {point.name}: raw value must be an int, got {raw!r}")
        low, high = _unsigned_range(point)
        if not low <= raw <= high:
            raise SunSpecValueError(f"point {point.name}: raw value {raw} is outside {point.type} range {low}..{high}")
        word = raw & ((1 << (16 * point.size)) - 1)
    return [(word >> (16 * (point.size - 1 - i))) & 0xFFFF for i in range(point.size)]


def decode_point(point: PointDef, registers: Sequence[int]) -> RawValue:
    """The raw value of point from its registers, or None when unimplemented."""
    if len(registers) != point.size:
        raise SunSpecValueError(f"point {point.name}: needs {point.size} registers, got {len(registers)}")
    if point.type == "pad":
        return None
    if point.type == "string":
        data = b"".join(int(r).to_bytes(2, "big") for r in registers)
        text = data.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip()
        return text or None
    word = 0
    for register in registers:
        word = (word << 16) | (int(register) & 0xFFFF)
    if word == _UNIMPLEMENTED[point.type] and point.type not in ("acc16", "acc32"):
        return None
    if point.type in _SIGNED and word >= 1 << (16 * point.size - 1):
        word -= 1 << (16 * point.size)
    return word


def scale(raw: int | None, sf: int | None) -> float | None:
    """raw * 10**sf; None when either is unimplemented."""
    if raw is None or sf is None:
        return None
    return raw * (10.0**sf)


def unscale(point: PointDef, value: float, sf: int) -> int:
    """The raw integer for a scaled value, checked against the point's type range."""
    if not math.isfinite(value):
        raise SunSpecValueError(f"point {point.name}: {value!r} is not a finite number")
    raw = round(value / (10.0**sf))
    low, high = _unsigned_range(point)
    # the sentinel would read back as "not implemented", so it is not a usable value either
    sentinel = point.type not in ("acc16", "acc32") and (raw & ((1 << (16 * point.size)) - 1)) == _UNIMPLEMENTED.get(point.type, -1)
    if not low <= raw <= high or sentinel:
        raise SunSpecValueError(
            f"point {point.name}: {value} with scale factor 10^{sf} gives raw {raw}, outside {point.type} range"
        )
    return raw


@dataclass(frozen=True, slots=True)
class ModelValues:
    """Decoded raw values of one model read from a device, with scale-factor resolution."""

    model: ModelDef
    raw: Mapping[str, RawValue]

    def sf_of(self, name: str) -> int | None:
        """The scale factor exponent that applies to point name (None when unimplemented)."""
        sf = self.model.point(name).sf
        if sf is None:
            return 0
        if isinstance(sf, int):
            return sf
        value = self.raw.get(sf)
        if value is not None and not -10 <= int(value) <= 10:
            raise SunSpecValueError(f"model {self.model.model_id} scale factor {sf}={value} is outside -10..10")
        return value  # type: ignore[return-value]

    def scaled(self, name: str) -> float | None:
        """The point's value in its engineering unit, or None when unimplemented."""
        raw = self.raw.get(self.model.point(name).name)
        if isinstance(raw, str):
            raise SunSpecValueError(f"point {name} is a string, it has no scaled value")
        return scale(raw, self.sf_of(name))


_MISSING = object()


class _LazyRawValues(Mapping[str, RawValue]):
    """Point name -> raw value, decoded on first access (a poll needs a dozen of a model's points)."""

    __slots__ = ("_model", "_registers", "_cache")

    def __init__(self, model: ModelDef, registers: Sequence[int]) -> None:
        self._model = model
        self._registers = registers
        self._cache: dict[str, RawValue] = {}

    def __getitem__(self, name: str) -> RawValue:
        value = self._cache.get(name, _MISSING)
        if value is _MISSING:
            point = self._model.points[name]  # KeyError for unknown names, as a Mapping should
            value = self._cache[name] = decode_point(point, self._registers[point.offset : point.offset + point.size])
        return value  # type: ignore[return-value]

    def get(self, name: str, default: RawValue = None) -> RawValue:  # type: ignore[override]
        # the hot path of every poll: no exception on a cache miss
        return self[name] if name in self._model.points else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._model.points)

    def __len__(self) -> int:
        return len(self._model.points)


def decode_model(model: ModelDef, registers: Sequence[int]) -> ModelValues:
    """Decode the fixed points of model from its registers (starting at its ID register)."""
    if len(registers) < model.total_registers:
        raise SunSpecValueError(
            f"model {model.model_id} needs {model.total_registers} registers, got {len(registers)}"
        )
    return ModelValues(model, _LazyRawValues(model, list(registers[: model.total_registers])))


def encode_model(model: ModelDef, raw: Mapping[str, RawValue]) -> list[int]:
    """Registers for model (header included) from raw point values; missing points are unimplemented."""
    unknown = set(raw) - set(model.points)
    if unknown:
        raise SunSpecValueError(f"model {model.model_id} has no points {sorted(unknown)}")
    values = dict(raw)
    values["ID"] = model.model_id
    values["L"] = model.length
    registers: list[int] = []
    for point in model.points.values():
        registers.extend(encode_point(point, values.get(point.name)))
    return registers


@dataclass(slots=True)
class SunSpecImage:
    """A device's register image: base address, registers, and where each model starts."""

    base_address: int
    registers: list[int]
    model_addresses: dict[int, int]  # model id -> address of its ID register

    def model_registers(self, model_id: int) -> list[int]:
        """A copy of model_id's registers, header included."""
        model = load_model_def(model_id)
        start = self.model_addresses[model_id] - self.base_address
        return self.registers[start : start + model.total_registers]

    def write_model(self, model_id: int, raw: Mapping[str, RawValue]) -> None:
        """Replace model_id's registers with freshly encoded raw values."""
        model = load_model_def(model_id)
        start = self.model_addresses[model_id] - self.base_address
        self.registers[start : start + model.total_registers] = encode_model(model, raw)

    def read(self, address: int, count: int) -> list[int]:
        """Registers address..address+count-1; SunSpecValueError when outside the image."""
        start = address - self.base_address
        if start < 0 or count < 0 or start + count > len(self.registers):
            raise SunSpecValueError(f"registers {address}..{address + count - 1} are outside the image")
        return self.registers[start : start + count]


def build_image(models: Iterable[tuple[int, Mapping[str, RawValue]]], base_address: int = DEFAULT_BASE_ADDRESS) -> SunSpecImage:
    """Lay out SunS marker, each (model id, raw values) in order, and the end model (0xFFFF, length 0)."""
    registers = list(SUNS_MARKER)
    addresses: dict[int, int] = {}
    for model_id, raw in models:
        model = load_model_def(model_id)
        if model.has_groups:
            raise SunSpecValueError(f"model {model_id} has repeating groups, which images do not support")
        addresses.setdefault(model_id, base_address + len(registers))
        registers.extend(encode_model(model, raw))
    registers.extend([END_MODEL_ID, 0])
    if base_address + len(registers) > 0x10000:
        raise SunSpecValueError(f"image of {len(registers)} registers does not fit above base {base_address}")
    return SunSpecImage(base_address, registers, addresses)
