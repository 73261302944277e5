"""The state of one simulated SunSpec battery, and how it maps to models 1, 802 and 124.

The fleet simulator pushes physics into a device with `update(...)`; clients change its model 124
setpoints over Modbus, which land in `storctl_mod`, `in_w_rte_pct`, `out_w_rte_pct` (and
`w_cha_max_w`) and trigger `on_setpoints`. Sign convention: current_a and power are positive when
discharging, as in GridRoom's storage-control contract.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from drivers.modbus import storage_control
from drivers.modbus.sunspec_image import RawValue, SunSpecValueError
from drivers.modbus.sunspec_models import (
    BATTERY_MODEL_ID,
    COMMON_MODEL_ID,
    STORAGE_CONTROL_MODEL_ID,
    load_model_def,
)

_EVT1_BITS = load_model_def(BATTERY_MODEL_ID).point("Evt1").symbols
_CHA_ST = load_model_def(BATTERY_MODEL_ID).point("ChaSt").symbols
RATE_SF = -2  # InOutWRte_SF: rates in 0.01 % steps

# Fields whose change alters what the device shows on the wire.
_WIRE_FIELDS = {
    "manufacturer", "model", "serial", "version", "soc_pct", "soh_pct", "voltage_v", "current_a",
    "capacity_kwh", "w_cha_max_w", "alarms", "storctl_mod", "in_w_rte_pct", "out_w_rte_pct",
}  # fmt: skip


def _pick_sf(values: list[float | None], bits: int, signed: bool, lowest: int) -> int:
    """The finest scale factor (>= lowest) at which every value fits the register type."""
    high = (1 << (bits - 1)) - 2 if signed else (1 << bits) - 2  # keep clear of the sentinels
    for sf in range(lowest, 11):
        if all(v is None or abs(round(v / 10.0**sf)) <= high for v in values):
            return sf
    raise SunSpecValueError(f"values {values} do not fit a {bits}-bit register at any scale factor")


def _raw(value: float | None, sf: int) -> int | None:
    return None if value is None else round(value / 10.0**sf)


@dataclass(eq=False)
class SimulatedSunSpecDevice:
    """One battery behind a simulated Modbus endpoint, addressed by unit_id."""

    unit_id: int = 1
    manufacturer: str = "GridRoom"
    model: str = "SimBattery"
    serial: str = "SIM-0001"
    version: str = "1.0"
    soc_pct: float = 50.0
    soh_pct: float = 100.0
    voltage_v: float = 700.0
    current_a: float = 0.0  # + = discharge
    temp_c: float = 25.0  # kept for the physics; model 802 has no temperature point to publish it
    capacity_kwh: float = 100.0
    w_cha_max_w: float = 50_000.0  # model 124 WChaMax: the reference for rate percentages
    alarms: frozenset[str] = frozenset()  # names of model 802 Evt1 bits, e.g. "OVER_TEMP_ALARM"
    # model 124 setpoints as last written by a client (idle: both limits at 0 %)
    storctl_mod: int = storage_control.BOTH_LIMITS
    in_w_rte_pct: float = 0.0
    out_w_rte_pct: float = 0.0
    setpoint_writes: int = 0
    # fault injection: answer every request with this Modbus exception code / do not answer at all
    exception_code: int | None = None
    silent: bool = False
    on_setpoints: Callable[["SimulatedSunSpecDevice"], None] | None = field(default=None, repr=False)
    wire_dirty: bool = field(default=True, repr=False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _WIRE_FIELDS:
            object.__setattr__(self, "wire_dirty", True)

    def update(self, **changes: Any) -> None:
        """Change state fields (soc_pct=..., current_a=..., alarms=...); unknown names raise TypeError."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise TypeError(f"SimulatedSunSpecDevice has no fields {sorted(unknown)}")
        if "alarms" in changes:
            changes["alarms"] = frozenset(changes["alarms"])
            bad = changes["alarms"] - set(_EVT1_BITS)
            if bad:
                raise ValueError(f"unknown model 802 Evt1 alarm names {sorted(bad)}")
        for name, value in changes.items():
            setattr(self, name, value)

    @property
    def power_w(self) -> float:
        return self.voltage_v * self.current_a

    def commanded_power_kw(self) -> float:
        """The power the written model 124 limits pin this device to (+ = discharge)."""
        pct = storage_control.commanded_power_pct(self.storctl_mod, self.in_w_rte_pct, self.out_w_rte_pct)
        return pct / 100.0 * self.w_cha_max_w / 1000.0

    # -- wire encoding -------------------------------------------------------------------------
    def model_values(self) -> list[tuple[int, Mapping[str, RawValue]]]:
        """Raw point values of models 1, 802 and 124, in image order."""
        return [
            (COMMON_MODEL_ID, self._common()),
            (BATTERY_MODEL_ID, self._battery()),
            (STORAGE_CONTROL_MODEL_ID, self._storage()),
        ]

    def _common(self) -> dict[str, RawValue]:
        return {"Mn": self.manufacturer, "Md": self.model, "Vr": self.version, "SN": self.serial, "DA": self.unit_id}

    def _charge_state(self) -> int:
        if self.soc_pct >= 100.0:
            return _CHA_ST["FULL"]
        if self.soc_pct <= 0.0:
            return _CHA_ST["EMPTY"]
        if self.current_a > 0:
            return _CHA_ST["DISCHARGING"]
        if self.current_a < 0:
            return _CHA_ST["CHARGING"]
        return _CHA_ST["HOLDING"]

    def _battery(self) -> dict[str, RawValue]:
        wh = self.capacity_kwh * 1000.0
        ah = wh / self.voltage_v if self.voltage_v > 0 else 0.0
        w_sf = _pick_sf([self.power_w], 16, True, 0)
        max_sf = _pick_sf([self.w_cha_max_w], 16, False, 0)
        a_sf = _pick_sf([self.current_a], 16, True, -1)
        evt1 = 0
        for name in self.alarms:
            evt1 |= 1 << _EVT1_BITS[name]
        return {
            "AHRtg": _raw(ah, _pick_sf([ah], 16, False, 0)), "AHRtg_SF": _pick_sf([ah], 16, False, 0),
            "WHRtg": _raw(wh, _pick_sf([wh], 16, False, 0)), "WHRtg_SF": _pick_sf([wh], 16, False, 0),
            "WChaRteMax": _raw(self.w_cha_max_w, max_sf), "WDisChaRteMax": _raw(self.w_cha_max_w, max_sf),
            "WChaDisChaMax_SF": max_sf,
            "SoC": _raw(self.soc_pct, -1), "SoH": _raw(self.soh_pct, -1), "SoC_SF": -1, "SoH_SF": -1,
            "ChaSt": self._charge_state(), "LocRemCtl": 0, "Typ": 4, "State": 3,
            "Evt1": evt1, "Evt2": 0, "EvtVnd1": 0, "EvtVnd2": 0, "AlmRst": 0,
            "V": _raw(self.voltage_v, -1), "V_SF": -1, "CellV_SF": -3, "AMax_SF": 0,
            "A": _raw(self.current_a, a_sf), "A_SF": a_sf,
            "W": _raw(self.power_w, w_sf), "W_SF": w_sf,
            "SetOp": 1, "SetInvState": 3,
        }  # fmt: skip

    def _storage(self) -> dict[str, RawValue]:
        max_sf = _pick_sf([self.w_cha_max_w], 16, False, 0)
        ah = self.capacity_kwh * 1000.0 / self.voltage_v if self.voltage_v > 0 else 0.0
        available_ah = ah * self.soc_pct / 100.0
        return {
            "WChaMax": _raw(self.w_cha_max_w, max_sf), "WChaMax_SF": max_sf,
            "WChaGra": 100, "WDisChaGra": 100, "WChaDisChaGra_SF": 0,
            "StorCtl_Mod": self.storctl_mod,
            "ChaState": _raw(self.soc_pct, -1), "ChaState_SF": -1,
            "StorAval": _raw(available_ah, _pick_sf([available_ah], 16, False, 0)),
            "StorAval_SF": _pick_sf([available_ah], 16, False, 0),
            "InBatV": _raw(self.voltage_v, -1), "InBatV_SF": -1,
            "ChaSt": self._charge_state(),
            "OutWRte": _raw(self.out_w_rte_pct, RATE_SF), "InWRte": _raw(self.in_w_rte_pct, RATE_SF),
            "InOutWRte_SF": RATE_SF,
            "InOutWRte_WinTms": 0, "InOutWRte_RvrtTms": 0, "InOutWRte_RmpTms": 0, "ChaGriSet": 1,
        }  # fmt: skip

    def accept_storage_write(self, raw: Mapping[str, RawValue]) -> str | None:
        """Take model 124 values written by a client; returns why they are refused, or None."""
        mod, in_raw, out_raw = raw.get("StorCtl_Mod"), raw.get("InWRte"), raw.get("OutWRte")
        if not isinstance(mod, int) or mod & ~storage_control.BOTH_LIMITS:
            return f"StorCtl_Mod {mod} has bits other than CHARGE/DISCHARGE"
        rate_sf = raw.get("InOutWRte_SF")
        sf = rate_sf if isinstance(rate_sf, int) else 0
        rates = {}
        for name, value in (("InWRte", in_raw), ("OutWRte", out_raw)):
            pct = 0.0 if value is None else float(value) * 10.0**sf  # type: ignore[arg-type]
            if not -100.0 <= pct <= 100.0 or math.isnan(pct):
                return f"{name} {pct} % is outside -100..100 %"
            rates[name] = pct
        max_raw, max_sf = raw.get("WChaMax"), raw.get("WChaMax_SF")
        if not isinstance(max_raw, int) or max_raw <= 0:
            return f"WChaMax {max_raw} must be positive"
        self.storctl_mod = mod
        self.in_w_rte_pct = rates["InWRte"]
        self.out_w_rte_pct = rates["OutWRte"]
        self.w_cha_max_w = max_raw * 10.0 ** (max_sf if isinstance(max_sf, int) else 0)
        self.setpoint_writes += 1
        if self.on_setpoints is not None:
            self.on_setpoints(self)
        return None
