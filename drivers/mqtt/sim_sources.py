"""Value sources for the simulated MQTT fleet, and the fast JSON the simulator publishes.

A source is any callable ``source(device_id, now) -> {soc_pct, power_kw, voltage_v, current_a, temp_c,
soh_pct, mode}``; the physics model in core/batteries can be plugged in the same way. RandomWalkSource
is the stand-in: plausible, bounded, deterministic for a seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from datetime import datetime

TelemetrySource = Callable[[str, datetime], Mapping[str, float]]
CellSource = Callable[[str, int, int, datetime], Mapping[str, object]]


def iso_utc(ts: datetime) -> str:
    """ISO 8601 UTC with millisecond precision and a 'Z', as the contract writes times."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def telemetry_json(ts: datetime, values: Mapping[str, float]) -> bytes:
    """A telemetry payload (schema v1) for already validated-range values."""
    return json.dumps(
        {
            "v": 1,
            "ts": iso_utc(ts),
            "soc_pct": round(float(values["soc_pct"]), 3),
            "power_kw": round(float(values["power_kw"]), 3),
            "voltage_v": round(float(values["voltage_v"]), 3),
            "current_a": round(float(values["current_a"]), 3),
            "temp_c": round(float(values["temp_c"]), 3),
            "soh_pct": round(float(values["soh_pct"]), 3),
            "mode": int(values["mode"]),
        },
        separators=(",", ":"),
    ).encode()


def cells_json(ts: datetime, pack: int, arrays: Mapping[str, object]) -> bytes:
    """A cells/<pack> payload (schema v1)."""
    body = {"v": 1, "ts": iso_utc(ts), "pack": pack}
    for name in ("voltage_v", "temp_c", "soc_pct", "soh_pct"):
        body[name] = [round(float(x), 4) for x in arrays[name]]  # type: ignore[union-attr]
    body["current_a"] = round(float(arrays["current_a"]), 3)  # type: ignore[arg-type]
    return json.dumps(body, separators=(",", ":")).encode()


def status_json(online: bool, reason: str | None = None, ts: datetime | None = None) -> bytes:
    """A status payload; the last will is status_json(False, reason) without a time."""
    body: dict[str, object] = {"v": 1, "state": "online" if online else "offline"}
    if reason:
        body["reason"] = reason
    if ts is not None:
        body["ts"] = iso_utc(ts)
    return json.dumps(body, separators=(",", ":")).encode()


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


class RandomWalkSource:
    """Bounded random walks per device: power drifts, SoC follows power, voltage follows SoC."""

    def __init__(self, seed: int = 0, rated_kw: float = 500.0, capacity_kwh: float = 1000.0, step_s: float = 1.0):
        self._rng = random.Random(seed)
        self._rated_kw = rated_kw
        self._capacity_kwh = capacity_kwh
        self._step_h = step_s / 3600.0
        self._state: dict[str, list[float]] = {}

    def __call__(self, device_id: str, now: datetime) -> Mapping[str, float]:
        rng = self._rng
        state = self._state.get(device_id)
        if state is None:  # soc, power, temp, soh
            state = [rng.uniform(20, 80), 0.0, rng.uniform(18, 30), rng.uniform(85, 100)]
            self._state[device_id] = state
        soc, power, temp, soh = state
        power = _clip(power + rng.gauss(0, self._rated_kw * 0.05), -self._rated_kw, self._rated_kw)
        if (soc <= 5 and power > 0) or (soc >= 95 and power < 0):
            power = -power  # turn around before the battery's bounds, as a real controller would
        soc = _clip(soc - power * self._step_h / self._capacity_kwh * 100, 0.0, 100.0)
        temp = _clip(temp + rng.gauss(0, 0.05) + abs(power) / self._rated_kw * 0.01 - (temp - 25) * 0.01, -20, 60)
        state[:] = [soc, power, temp, soh]
        voltage = 700.0 + 1.6 * soc
        mode = 0 if abs(power) < 1.0 else (1 if power > 0 else 2)
        return {
            "soc_pct": soc,
            "power_kw": power,
            "voltage_v": voltage,
            "current_a": power * 1000.0 / voltage,
            "temp_c": temp,
            "soh_pct": soh,
            "mode": mode,
        }

    def cells(self, device_id: str, pack: int, cells: int, now: datetime) -> Mapping[str, object]:
        """Cell arrays scattered around the device's SoC and temperature."""
        rng = self._rng
        soc, power, temp, soh = self._state.get(device_id) or [50.0, 0.0, 25.0, 95.0]
        cell_soc = [_clip(soc + rng.gauss(0, 1.0), 0, 100) for _ in range(cells)]
        return {
            "soc_pct": cell_soc,
            "voltage_v": [3.0 + 0.012 * s + rng.gauss(0, 0.002) for s in cell_soc],
            "temp_c": [_clip(temp + rng.gauss(0, 0.8), -40, 120) for _ in range(cells)],
            "soh_pct": [_clip(soh + rng.gauss(0, 0.5), 0, 100) for _ in range(cells)],
            "current_a": power * 1000.0 / (700.0 + 1.6 * soc),
        }
