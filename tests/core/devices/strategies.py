"""Hypothesis strategies for device specs: valid ones, and valid ones with chosen fields broken."""

from __future__ import annotations

import dataclasses
import math

from hypothesis import strategies as st

from core.devices import DeviceSpec
from core.devices.validation import DEVICE_ID_PATTERN

device_ids = st.from_regex(rf"\A{DEVICE_ID_PATTERN}\Z", fullmatch=True)
names = st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=40)
hosts = st.sampled_from(["broker", "10.0.0.5", "plc-7.site.example", "localhost"])
ports = st.one_of(st.none(), st.integers(1, 65535))


@st.composite
def addresses(draw, device_id: str) -> str:
    scheme = draw(st.sampled_from(["modbus+tcp", "mqtt", "sim"]))
    if scheme == "sim":
        return f"sim://{draw(st.sampled_from(['default', 'hot-summer', 'fleet/alpha']))}"
    port = draw(ports)
    netloc = draw(hosts) + (f":{port}" if port else "")
    if scheme == "mqtt":
        return f"mqtt://{netloc}/{device_id}"
    return f"modbus+tcp://{netloc}/{draw(st.integers(0, 255))}"


@st.composite
def valid_specs(draw, site_id: int = 1) -> DeviceSpec:
    device_id = draw(device_ids)
    kind = draw(st.sampled_from(["bess", "battery_system"]))
    capacity = draw(st.floats(0.1, 1e5))
    coords = draw(st.one_of(st.none(), st.tuples(st.floats(-90, 90), st.floats(-180, 180))))
    return DeviceSpec(
        device_id=device_id,
        name=draw(names),
        site_id=site_id,
        kind=kind,
        capacity_kwh=capacity,
        max_charge_kw=capacity * draw(st.floats(0.01, 10.0)),
        max_discharge_kw=capacity * draw(st.floats(0.01, 10.0)),
        address=draw(addresses(device_id)),
        location=draw(st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=60)),
        latitude=coords[0] if coords else None,
        longitude=coords[1] if coords else None,
        packs=draw(st.integers(1, 1024)) if kind == "battery_system" else None,
        cells_per_pack=draw(st.integers(1, 1024)) if kind == "battery_system" else None,
    )


def _too_fast(spec: DeviceSpec) -> float:
    return spec.capacity_kwh * 10.5


# For each field: a strategy of (spec -> broken value). Each value is wrong on its own, whatever the rest is.
BREAKERS = {
    "device_id": st.sampled_from(["", "-lead", "has space", "a/b", "x" * 65, "wild+", "#", "é"]).map(lambda v: lambda s: v),
    "name": st.sampled_from(["", "   ", "n" * 129, "Alpha\x00"]).map(lambda v: lambda s: v),
    "site_id": st.sampled_from(["1", 1.5, None]).map(lambda v: lambda s: v),
    "kind": st.sampled_from(["ups", "", "BESS"]).map(lambda v: lambda s: v),
    "capacity_kwh": st.sampled_from([0.0, -1.0, math.nan, math.inf, "100"]).map(lambda v: lambda s: v),
    "max_charge_kw": st.sampled_from([0.0, -5.0, math.nan, None]).map(lambda v: lambda s: v) | st.just(_too_fast),
    "max_discharge_kw": st.sampled_from([0.0, -5.0, math.inf]).map(lambda v: lambda s: v) | st.just(_too_fast),
    "address": st.sampled_from(
        ["http://x/1", "modbus+tcp://host:502/", "modbus+tcp://:502/1", "modbus+tcp://h/999", "mqtt://broker/other id",
         "mqtt://u:p@broker/x", "sim://", "", "ftp://a/b"]
    ).map(lambda v: lambda s: v),
    "location": st.sampled_from(["l" * 256, "Hall\x002", "Yard\n7"]).map(lambda v: lambda s: v),
    "latitude": st.sampled_from([90.5, -91.0, math.nan]).map(lambda v: lambda s: v),
    "longitude": st.sampled_from([180.01, -181.0, math.inf]).map(lambda v: lambda s: v),
    "packs": st.just("packs"),  # handled below: depends on kind
}


@st.composite
def broken_specs(draw) -> tuple[DeviceSpec, set[str]]:
    """A valid spec with 1..4 fields broken, and the set of broken field names."""
    spec = draw(valid_specs())
    broken = set(draw(st.lists(st.sampled_from(sorted(BREAKERS)), min_size=1, max_size=4, unique=True)))
    # A broken capacity silences the C-rate check of the limits (it cannot be judged), which is intended;
    # keep the limits independent by breaking them with absolute values only in that case.
    changes: dict = {}
    for field in broken:
        if field == "packs":
            changes["packs"] = 3 if spec.kind == "bess" else 0
            continue
        make = draw(BREAKERS[field])
        if make is _too_fast and "capacity_kwh" in broken:
            make = lambda s: -1.0  # noqa: E731
        changes[field] = make(spec)
    if "kind" in broken:
        broken.discard("packs")  # with an unknown kind the layout is not judged
        changes.pop("packs", None)
    if ("latitude" in broken) != ("longitude" in broken) and spec.latitude is None:
        # Only one coordinate given: the pair rule names the missing one as well.
        broken.add("longitude" if "latitude" in broken else "latitude")
    return dataclasses.replace(spec, **changes), broken
