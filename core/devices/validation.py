"""What a device registration must say, and every rule it is checked against (pure: no database)."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.errors import GridRoomError

# The same rule as the MQTT contract (drivers/mqtt/topics.DEVICE_ID_PATTERN), re-stated here because core
# never imports drivers: letters, digits, '_', '-', '.'; starts with a letter or digit; at most 64
# characters. It keeps MQTT wildcards, '/' and control characters out of topics, ACLs and certificate names.
DEVICE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_DEVICE_ID_RE = re.compile(rf"^{DEVICE_ID_PATTERN}\Z")

KINDS = ("bess", "battery_system")
SCHEMES = ("modbus+tcp", "mqtt", "sim")
MAX_C_RATE = 10.0  # power limit / capacity above this is a typo (kW entered as W, MWh as kWh), not a battery
MAX_PACKS = 1024  # pack indices 0..1023, as in the MQTT cells/<pack> topics
MAX_CELLS_PER_PACK = 1024
MAX_NAME_CHARS = 128
MAX_LOCATION_CHARS = 255
MAX_ADDRESS_CHARS = 512


@dataclass(frozen=True)
class DeviceSpec:
    """Everything an administrator states when onboarding a device.

    address is a URL: ``modbus+tcp://host:port/unit``, ``mqtt://broker:port/<device_id>`` or ``sim://profile``.
    packs and cells_per_pack describe a battery system's cell layout; a plain BESS leaves them None.
    """

    device_id: str
    name: str
    site_id: int
    kind: str
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    address: str
    location: str = ""
    latitude: float | None = None
    longitude: float | None = None
    packs: int | None = None
    cells_per_pack: int | None = None


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class DeviceValidationError(GridRoomError):
    """A device spec breaks one or more rules; ``problems`` names each field and why."""

    def __init__(self, problems: list[FieldProblem] | tuple[FieldProblem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("device not valid: " + "; ".join(str(p) for p in self.problems))

    @property
    def fields(self) -> set[str]:
        return {p.field for p in self.problems}


def is_valid_device_id(device_id: object) -> bool:
    """True when device_id may be used as an MQTT topic segment, in ACLs and as a certificate name."""
    return isinstance(device_id, str) and _DEVICE_ID_RE.match(device_id) is not None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_text(problems: list[FieldProblem], field: str, value: object, limit: int, required: bool) -> None:
    if not isinstance(value, str):
        problems.append(FieldProblem(field, "must be text"))
    elif required and not value.strip():
        problems.append(FieldProblem(field, "must not be empty"))
    elif len(value) > limit:
        problems.append(FieldProblem(field, f"at most {limit} characters"))
    elif any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        # NUL cannot be stored in PostgreSQL text; other control characters garble lists and reports.
        problems.append(FieldProblem(field, "must not contain control characters"))


def _check_positive(problems: list[FieldProblem], field: str, value: object) -> bool:
    if not _is_number(value) or value <= 0:
        problems.append(FieldProblem(field, f"must be a finite number > 0, got {value!r}"))
        return False
    return True


def _check_coordinates(problems: list[FieldProblem], spec: DeviceSpec) -> None:
    lat, lon = spec.latitude, spec.longitude
    if (lat is None) != (lon is None):
        missing = "latitude" if lat is None else "longitude"
        problems.append(FieldProblem(missing, "give both latitude and longitude, or neither"))
    if lat is not None and (not _is_number(lat) or not -90.0 <= lat <= 90.0):
        problems.append(FieldProblem("latitude", f"must be between -90 and 90 degrees, got {lat!r}"))
    if lon is not None and (not _is_number(lon) or not -180.0 <= lon <= 180.0):
        problems.append(FieldProblem("longitude", f"must be between -180 and 180 degrees, got {lon!r}"))


def _check_limits(problems: list[FieldProblem], spec: DeviceSpec) -> None:
    capacity_ok = _check_positive(problems, "capacity_kwh", spec.capacity_kwh)
    for field in ("max_charge_kw", "max_discharge_kw"):
        value = getattr(spec, field)
        if _check_positive(problems, field, value) and capacity_ok and value > MAX_C_RATE * spec.capacity_kwh:
            problems.append(
                FieldProblem(
                    field,
                    f"{value:g} kW is more than {MAX_C_RATE:g} C for {spec.capacity_kwh:g} kWh "
                    "(check the units: kW and kWh)",
                )
            )


def _check_layout(problems: list[FieldProblem], spec: DeviceSpec) -> None:
    if spec.kind not in KINDS:
        problems.append(FieldProblem("kind", f"must be one of {', '.join(KINDS)}, got {spec.kind!r}"))
        return
    layout = (("packs", spec.packs, MAX_PACKS), ("cells_per_pack", spec.cells_per_pack, MAX_CELLS_PER_PACK))
    for field, value, limit in layout:
        if spec.kind == "bess":
            if value is not None:
                problems.append(FieldProblem(field, "only battery systems have a cell layout; leave it empty for a bess"))
        elif not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
            problems.append(FieldProblem(field, f"a battery system needs a whole number 1..{limit}, got {value!r}"))


def address_problem(address: object, device_id: str) -> str | None:
    """Why the address URL is not usable for this device, or None when it is."""
    if not isinstance(address, str) or not address.strip():
        return "must be a URL such as mqtt://broker:1883/<device_id>"
    if len(address) > MAX_ADDRESS_CHARS:
        return f"at most {MAX_ADDRESS_CHARS} characters"
    try:
        url = urlsplit(address)
        port = url.port  # raises ValueError when not a number in 0..65535
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    scheme = url.scheme.lower()
    if scheme not in SCHEMES:
        return f"scheme must be one of {', '.join(s + '://' for s in SCHEMES)}, got {url.scheme or 'none'!r}"
    if url.username is not None or url.password is not None:
        # Credentials belong in the keyring (DESIGN.md, Storage), never in a stored URL.
        return "must not carry a user name or password; credentials live in the keyring"
    if url.query or url.fragment:
        return "must not have a query or fragment"
    if scheme == "sim":
        return None if (url.netloc + url.path).strip("/") else "a simulator address names a profile: sim://<profile>"
    if not url.hostname:
        return f"{scheme}:// needs a host"
    if port == 0:
        return "port must be 1..65535"
    if scheme == "modbus+tcp":
        unit = url.path.strip("/")
        if not unit.isdigit() or not 0 <= int(unit) <= 255:
            return "modbus+tcp needs the unit id as the path: modbus+tcp://host:port/<unit 0..255>"
        return None
    if url.path != f"/{device_id}":
        return f"an mqtt address ends in the device id: mqtt://{url.netloc}/{device_id}"
    return None


def validate_spec(spec: DeviceSpec) -> list[FieldProblem]:
    """Every problem with the spec itself (not uniqueness or the site: the registry checks those)."""
    problems: list[FieldProblem] = []
    if not is_valid_device_id(spec.device_id):
        problems.append(
            FieldProblem(
                "device_id",
                "use 1-64 characters: letters, digits, '_', '-' or '.', starting with a letter or digit",
            )
        )
    _check_text(problems, "name", spec.name, MAX_NAME_CHARS, required=True)
    _check_text(problems, "location", spec.location, MAX_LOCATION_CHARS, required=False)
    if not isinstance(spec.site_id, int) or isinstance(spec.site_id, bool):
        problems.append(FieldProblem("site_id", f"must be a site id, got {spec.site_id!r}"))
    _check_coordinates(problems, spec)
    _check_limits(problems, spec)
    _check_layout(problems, spec)
    reason = address_problem(spec.address, spec.device_id if isinstance(spec.device_id, str) else "")
    if reason:
        problems.append(FieldProblem("address", reason))
    return problems
