"""SunSpec model definitions, loaded from the JSON that the pysunspec2 package ships.

The definitions are never retyped here: offsets, types, sizes, scale-factor links and enum/bitfield
symbols all come from `sunspec2/models/json/model_<id>.json`. Only a model's fixed top-level
points are described; repeating groups are reported as such so callers can refuse them loudly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Mapping

from drivers.base import DriverError

# SunSpec point types GridRoom knows how to encode and decode, with their register count.
TYPE_SIZES: Mapping[str, int] = {
    "uint16": 1,
    "int16": 1,
    "count": 1,
    "acc16": 1,
    "enum16": 1,
    "bitfield16": 1,
    "sunssf": 1,
    "pad": 1,
    "uint32": 2,
    "int32": 2,
    "acc32": 2,
    "enum32": 2,
    "bitfield32": 2,
    "string": 0,  # a string's size comes from its definition
}

# The models GridRoom reads and writes on a battery: common, battery, storage controls.
COMMON_MODEL_ID = 1
BATTERY_MODEL_ID = 802
STORAGE_CONTROL_MODEL_ID = 124
HEADER_REGISTERS = 2  # every model starts with ID and L


class SunSpecModelError(DriverError):
    """A SunSpec model definition is missing or uses something GridRoom cannot handle."""


@dataclass(frozen=True, slots=True)
class PointDef:
    """One point of a model.

    offset counts registers from the model's ID register (ID is 0, L is 1, the first body point 2),
    as pysunspec2 does.
    """

    name: str
    type: str
    size: int
    offset: int
    sf: str | int | None = None  # name of the sunssf point, or a fixed exponent
    access: str = "R"
    mandatory: bool = False
    units: str | None = None
    symbols: Mapping[str, int] = field(default_factory=dict)

    @property
    def writable(self) -> bool:
        return self.access == "RW"

    def symbol_name(self, value: int) -> str | None:
        """The enum symbol for value, or None when the definition has none."""
        for name, sym_value in self.symbols.items():
            if sym_value == value:
                return name
        return None


@dataclass(frozen=True, slots=True)
class ModelDef:
    """A SunSpec model's fixed layout."""

    model_id: int
    name: str
    length: int  # registers after the ID/L header, as announced in L
    points: Mapping[str, PointDef]
    has_groups: bool = False

    def point(self, name: str) -> PointDef:
        """The named point; SunSpecModelError names the model when it does not exist."""
        try:
            return self.points[name]
        except KeyError:
            raise SunSpecModelError(f"model {self.model_id} ({self.name}) has no point {name!r}") from None

    @property
    def total_registers(self) -> int:
        return self.length + HEADER_REGISTERS


def _point_from_json(pdef: Mapping, offset: int, model_id: int) -> PointDef:
    ptype = pdef["type"]
    if ptype not in TYPE_SIZES:
        raise SunSpecModelError(f"model {model_id} point {pdef['name']}: type {ptype!r} is not supported")
    size = int(pdef.get("size", TYPE_SIZES[ptype]))
    symbols = {s["name"]: int(s["value"]) for s in pdef.get("symbols", [])}
    return PointDef(
        name=pdef["name"],
        type=ptype,
        size=size,
        offset=offset,
        sf=pdef.get("sf"),
        access=pdef.get("access", "R"),
        mandatory=pdef.get("mandatory") == "M",
        units=pdef.get("units"),
        symbols=symbols,
    )


def model_def_from_json(doc: Mapping) -> ModelDef:
    """Build a ModelDef from one parsed pysunspec2 model JSON document."""
    model_id = int(doc["id"])
    group = doc["group"]
    points: dict[str, PointDef] = {}
    offset = 0
    for pdef in group.get("points", []):
        point = _point_from_json(pdef, offset, model_id)
        points[point.name] = point
        offset += point.size
    return ModelDef(
        model_id=model_id,
        name=group["name"],
        length=offset - HEADER_REGISTERS,
        points=points,
        has_groups=bool(group.get("groups")),
    )


@lru_cache(maxsize=None)
def load_model_def(model_id: int) -> ModelDef:
    """Load model model_id from the JSON definitions bundled with pysunspec2."""
    path = resources.files("sunspec2") / "models" / "json" / f"model_{model_id}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SunSpecModelError(f"pysunspec2 ships no definition for SunSpec model {model_id}") from None
    return model_def_from_json(json.loads(text))
