"""What the simulated fleet consists of: sites, BESS devices (MQTT or Modbus SunSpec) and battery systems.

A definition is a JSON file (the demo ships ``resources/demo_fleet.json``). Loading validates every entry
strictly (pydantic: no coercion, no unknown fields) plus the cross-entry rules (unique ids, unique Modbus
unit ids, known sites, charge limits within the C-rate a chemistry stands), and a bad entry fails the whole
load with a FleetDefinitionError naming the entry, so a typo never silently drops a device.

Example::

    {"version": 1,
     "sites": [{"name": "Lille Depot", "lat": 50.589, "lon": 3.111, "timezone": "Europe/Paris"}],
     "devices": [{"id": "bess-0001", "protocol": "mqtt", "site": "Lille Depot", "lat": 50.59, "lon": 3.11,
                  "capacity_kwh": 200.0, "max_charge_kw": 100.0, "max_discharge_kw": 100.0,
                  "initial_soc_pct": 55.0},
                 {"id": "mbs-01", "protocol": "modbus", "unit_id": 1, ...}],
     "battery_systems": [{"id": "bs-01", "site": "Lille Depot", "lat": 50.59, "lon": 3.11, "packs": 100,
                          "cells_per_pack": 10, "max_power_kw": 150.0, "initial_soc_pct": 50.0}]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from drivers.mqtt.topics import DEVICE_ID_PATTERN

DEFINITION_VERSION = 1
DEMO_FLEET_PATH = Path(__file__).parent / "resources" / "demo_fleet.json"
# Stationary Li-ion: beyond 4C charge or discharge is a data-entry error, not an exotic battery.
MAX_C_RATE = 4.0

DeviceId = Annotated[str, Field(pattern=rf"^{DEVICE_ID_PATTERN}$")]
Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]


class FleetDefinitionError(ValueError):
    """A fleet definition that cannot be used; ``entry`` names the offending entry (e.g. ``devices[3] (bess-0004)``)."""

    def __init__(self, entry: str, reason: str) -> None:
        super().__init__(f"fleet definition: {entry}: {reason}")
        self.entry = entry
        self.reason = reason


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class SiteDef(_Strict):
    """A site: devices are placed around it and follow its local time of day."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    lat: Latitude
    lon: Longitude
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class BessDef(_Strict):
    """One battery energy storage device, simulated by the vectorized BessFleet physics."""

    id: DeviceId
    protocol: Literal["mqtt", "modbus"]
    site: str
    lat: Latitude
    lon: Longitude
    capacity_kwh: Annotated[float, Field(gt=0.0, le=100_000.0)]
    max_charge_kw: Annotated[float, Field(gt=0.0)]
    max_discharge_kw: Annotated[float, Field(gt=0.0)]
    initial_soc_pct: Annotated[float, Field(ge=5.0, le=95.0)] = 50.0
    unit_id: Annotated[int, Field(ge=1, le=247)] | None = None  # Modbus unit id, for protocol "modbus" only

    @model_validator(mode="after")
    def _consistent(self) -> BessDef:
        for name in ("max_charge_kw", "max_discharge_kw"):
            c_rate = getattr(self, name) / self.capacity_kwh
            if c_rate > MAX_C_RATE:
                raise ValueError(f"{name} is {c_rate:.1f}C of capacity_kwh; at most {MAX_C_RATE}C")
        if (self.protocol == "modbus") != (self.unit_id is not None):
            raise ValueError("unit_id is required for protocol modbus and not allowed for mqtt")
        return self


class BatterySystemDef(_Strict):
    """A packs x cells battery system (cell-level physics), publishing telemetry and cells over MQTT."""

    id: DeviceId
    site: str
    lat: Latitude
    lon: Longitude
    packs: Annotated[int, Field(ge=1, le=1024)]
    cells_per_pack: Annotated[int, Field(ge=1, le=1024)]
    max_power_kw: Annotated[float, Field(gt=0.0, le=100_000.0)]
    initial_soc_pct: Annotated[float, Field(ge=10.0, le=90.0)] = 50.0


class FleetDefinition(_Strict):
    """A validated fleet: use load_fleet_definition / parse_fleet_definition to build one."""

    version: Annotated[int, Field(ge=DEFINITION_VERSION, le=DEFINITION_VERSION)]
    sites: Annotated[list[SiteDef], Field(min_length=1)]
    devices: list[BessDef]
    battery_systems: list[BatterySystemDef] = []

    @property
    def mqtt_devices(self) -> list[BessDef]:
        return [d for d in self.devices if d.protocol == "mqtt"]

    @property
    def modbus_devices(self) -> list[BessDef]:
        return [d for d in self.devices if d.protocol == "modbus"]

    def site(self, name: str) -> SiteDef:
        """The site called name (KeyError if there is none)."""
        for site in self.sites:
            if site.name == name:
                return site
        raise KeyError(name)


def _entry_name(data: Any, loc: tuple[Any, ...]) -> str:
    """``devices[3] (bess-0004)`` from a pydantic error location, or the top-level field."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        name = f"{loc[0]}[{loc[1]}]"
        try:
            entry_id = data[loc[0]][loc[1]].get("id") or data[loc[0]][loc[1]].get("name")
        except (KeyError, IndexError, TypeError, AttributeError):
            entry_id = None
        return f"{name} ({entry_id})" if isinstance(entry_id, str) else name
    return str(loc[0]) if loc else "definition"


def _cross_checks(definition: FleetDefinition) -> None:
    site_names = [s.name for s in definition.sites]
    seen_sites: set[str] = set()
    for index, site in enumerate(definition.sites):
        if site.name in seen_sites:
            raise FleetDefinitionError(f"sites[{index}] ({site.name})", "site name used twice")
        seen_sites.add(site.name)
    ids: set[str] = set()
    units: dict[int, str] = {}
    entries = [("devices", i, d) for i, d in enumerate(definition.devices)]
    entries += [("battery_systems", i, b) for i, b in enumerate(definition.battery_systems)]
    for group, index, entry in entries:
        name = f"{group}[{index}] ({entry.id})"
        if entry.id in ids:
            raise FleetDefinitionError(name, f"device id {entry.id} used twice")
        ids.add(entry.id)
        if entry.site not in site_names:
            raise FleetDefinitionError(name, f"unknown site {entry.site!r}; sites: {', '.join(site_names)}")
        unit_id = getattr(entry, "unit_id", None)
        if unit_id is not None:
            if unit_id in units:
                raise FleetDefinitionError(name, f"Modbus unit id {unit_id} is already used by {units[unit_id]}")
            units[unit_id] = entry.id
    if not ids:
        raise FleetDefinitionError("devices", "a fleet needs at least one device or battery system")


def parse_fleet_definition(data: Any) -> FleetDefinition:
    """Validate already parsed JSON; raises FleetDefinitionError naming the first bad entry."""
    try:
        definition = FleetDefinition.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        loc = tuple(first["loc"])
        field = ".".join(str(p) for p in loc[2:]) if len(loc) > 2 else ""
        message = first["msg"].removeprefix("Value error, ")  # pydantic's prefix for our own ValueErrors
        reason = f"{field}: {message}" if field else message
        raise FleetDefinitionError(_entry_name(data, loc), reason) from None
    _cross_checks(definition)
    return definition


def load_fleet_definition(path: str | Path | None = None) -> FleetDefinition:
    """Load and validate a fleet definition file (the shipped demo fleet when path is None)."""
    source = Path(path) if path is not None else DEMO_FLEET_PATH
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise FleetDefinitionError(str(source), f"cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FleetDefinitionError(str(source), f"not valid JSON: {exc}") from None
    return parse_fleet_definition(data)
