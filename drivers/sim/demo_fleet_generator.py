"""Builds the demo fleet definition (resources/demo_fleet.json) from the demo sites, deterministically.

Run ``python -m drivers.sim.demo_fleet_generator`` to rewrite the shipped file after changing this
recipe; a test checks that the shipped file is what the recipe produces.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from core.demo import DEMO_SITES
from drivers.sim.fleet_definition import DEFINITION_VERSION, DEMO_FLEET_PATH

DEMO_MQTT_DEVICES = 210
DEMO_MODBUS_DEVICES = 5
# Typical containerised BESS sizes, and C-rates from energy-shifting (0.25C) to fast-reserve (1C) designs.
_CAPACITIES_KWH = (50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0)
_C_RATES = (0.25, 0.5, 0.5, 1.0)
_JITTER_DEG = 0.03  # ~3 km around the site centre


def _jittered(rng: random.Random, lat: float, lon: float) -> tuple[float, float]:
    return round(lat + rng.uniform(-_JITTER_DEG, _JITTER_DEG), 5), round(lon + rng.uniform(-_JITTER_DEG, _JITTER_DEG), 5)


def _bess(rng: random.Random, device_id: str, protocol: str, site: tuple, unit_id: int | None = None) -> dict[str, Any]:
    name, _location, lat, lon, _tz = site
    capacity = rng.choice(_CAPACITIES_KWH)
    c_rate = rng.choice(_C_RATES)
    d_lat, d_lon = _jittered(rng, lat, lon)
    entry: dict[str, Any] = {
        "id": device_id,
        "protocol": protocol,
        "site": name,
        "lat": d_lat,
        "lon": d_lon,
        "capacity_kwh": capacity,
        "max_charge_kw": capacity * c_rate,
        "max_discharge_kw": capacity * c_rate,
        "initial_soc_pct": round(rng.uniform(25.0, 75.0), 1),
    }
    if unit_id is not None:
        entry["unit_id"] = unit_id
    return entry


def demo_fleet(seed: int = 2026) -> dict[str, Any]:
    """The demo fleet definition as JSON-ready data: 210 MQTT BESS, 5 Modbus BESS, one 100 x 10 system."""
    rng = random.Random(seed)
    sites = [{"name": n, "lat": lat, "lon": lon, "timezone": tz} for n, _loc, lat, lon, tz in DEMO_SITES]
    devices = [
        _bess(rng, f"bess-{i:04d}", "mqtt", DEMO_SITES[(i - 1) % len(DEMO_SITES)])
        for i in range(1, DEMO_MQTT_DEVICES + 1)
    ]
    devices += [
        _bess(rng, f"mbs-{i:02d}", "modbus", DEMO_SITES[(i - 1) % len(DEMO_SITES)], unit_id=i)
        for i in range(1, DEMO_MODBUS_DEVICES + 1)
    ]
    name, _location, lat, lon, _tz = DEMO_SITES[0]
    bs_lat, bs_lon = _jittered(rng, lat, lon)
    battery_systems = [
        {"id": "bs-01", "site": name, "lat": bs_lat, "lon": bs_lon, "packs": 100, "cells_per_pack": 10,
         "max_power_kw": 150.0, "initial_soc_pct": 50.0},
    ]
    return {"version": DEFINITION_VERSION, "sites": sites, "devices": devices, "battery_systems": battery_systems}


def demo_fleet_json(seed: int = 2026) -> str:
    """The demo fleet as the text of resources/demo_fleet.json (one device per line, diff-friendly)."""
    data = demo_fleet(seed)
    lines = ['{"version": %d,' % data["version"], ' "sites": [']
    lines.append(",\n".join("  " + json.dumps(s) for s in data["sites"]) + "],")
    lines.append(' "devices": [')
    lines.append(",\n".join("  " + json.dumps(d) for d in data["devices"]) + "],")
    lines.append(' "battery_systems": [')
    lines.append(",\n".join("  " + json.dumps(b) for b in data["battery_systems"]) + "]}")
    return "\n".join(lines) + "\n"


def write_demo_fleet(path: Path = DEMO_FLEET_PATH) -> None:
    """Rewrite the shipped demo fleet file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(demo_fleet_json(), encoding="utf-8")


if __name__ == "__main__":
    write_demo_fleet()
    print(f"wrote {DEMO_FLEET_PATH}")
