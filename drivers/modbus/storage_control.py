"""GridRoom's contract for commanding a battery through SunSpec model 124 (storage controls).

Power sign: positive power_kw is discharge (delivered to the grid), negative is charge.

Model 124 has two rate limits, both in percent of WChaMax (124 has no separate discharge maximum,
so WChaMax is the reference for both), each enabled by a bit of StorCtl_Mod:
  - bit 0 (CHARGE):    InWRte  limits charging:    power >= -InWRte  % of WChaMax
  - bit 1 (DISCHARGE): OutWRte limits discharging: power <=  OutWRte % of WChaMax
A negative limit pushes past zero, so enabling both limits with In = -Out pins the power to one
value. That is how GridRoom commands a battery (the same recipe inverter vendors document):

  | command               | StorCtl_Mod | InWRte | OutWRte | resulting band (power, % WChaMax) |
  | charge at X %         | 3           |  X     | -X      | [-X, -X]                           |
  | discharge at X %      | 3           | -X     |  X      | [ X,  X]                           |
  | idle                  | 3           |  0     |  0      | [ 0,  0]                           |

"charge at P kW" is charge at 100 * P * 1000 / WChaMax %. A device left free inside its band holds
(chooses the power nearest zero): that is what `commanded_power_pct` computes and what GridRoom's
simulator does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from drivers.base import DriverError
from drivers.modbus.sunspec_models import STORAGE_CONTROL_MODEL_ID, load_model_def

_STORCTL = load_model_def(STORAGE_CONTROL_MODEL_ID).point("StorCtl_Mod")
CHARGE_LIMIT_BIT = 1 << _STORCTL.symbols["CHARGE"]
DISCHARGE_LIMIT_BIT = 1 << _STORCTL.symbols["DiSCHARGE"]  # sic: pysunspec2 spells it "DiSCHARGE"
BOTH_LIMITS = CHARGE_LIMIT_BIT | DISCHARGE_LIMIT_BIT

SETPOINT_KEYS = ("charge_rate_pct", "discharge_rate_pct", "power_kw")


class SetpointError(DriverError, ValueError):
    """A setpoint request that GridRoom cannot express as model 124 values."""


@dataclass(frozen=True, slots=True)
class StorageCommand:
    """Model 124 values for one command, in engineering units (percent of WChaMax)."""

    storctl_mod: int
    in_w_rte_pct: float
    out_w_rte_pct: float


def command_for(setpoints: Mapping[str, float], w_cha_max_w: float | None) -> StorageCommand:
    """Translate exactly one of charge_rate_pct / discharge_rate_pct / power_kw into model 124 values."""
    keys = [k for k in setpoints]
    unknown = [k for k in keys if k not in SETPOINT_KEYS]
    if unknown:
        raise SetpointError(f"unknown setpoint(s) {unknown}; use one of {', '.join(SETPOINT_KEYS)}")
    if len(keys) != 1:
        raise SetpointError(f"give exactly one of {', '.join(SETPOINT_KEYS)}, got {keys or 'none'}")
    key = keys[0]
    value = float(setpoints[key])
    if value != value:  # NaN
        raise SetpointError(f"{key} is NaN")
    if key == "power_kw":
        if not w_cha_max_w or w_cha_max_w <= 0:
            raise SetpointError(f"device reports WChaMax={w_cha_max_w}; cannot convert {value} kW to a rate")
        pct = 100.0 * value * 1000.0 / w_cha_max_w
        if abs(pct) > 100.0 + 1e-9:
            raise SetpointError(
                f"power_kw {value} exceeds the device's WChaMax of {w_cha_max_w / 1000.0:g} kW"
            )
        pct = max(-100.0, min(100.0, pct))
        return StorageCommand(BOTH_LIMITS, -pct, pct)  # positive = discharge
    if not 0.0 <= value <= 100.0:
        raise SetpointError(f"{key} must be within 0..100 %, got {value}")
    if key == "charge_rate_pct":
        return StorageCommand(BOTH_LIMITS, value, -value)
    return StorageCommand(BOTH_LIMITS, -value, value)


def commanded_power_pct(storctl_mod: int | None, in_w_rte_pct: float | None, out_w_rte_pct: float | None) -> float:
    """The power (percent of WChaMax, + = discharge) a holding device settles at under these limits."""
    mod = storctl_mod or 0
    low = -in_w_rte_pct if (mod & CHARGE_LIMIT_BIT and in_w_rte_pct is not None) else -100.0
    high = out_w_rte_pct if (mod & DISCHARGE_LIMIT_BIT and out_w_rte_pct is not None) else 100.0
    if low > high:  # contradictory limits: settle at the lower bound of discharge, the less aggressive one
        return high
    return min(max(0.0, low), high)


def describe(
    storctl_mod: int | None, in_w_rte_pct: float | None, out_w_rte_pct: float | None, w_cha_max_w: float | None
) -> dict[str, float]:
    """The command model 124 currently holds, in GridRoom's terms (what write() returns)."""
    pct = commanded_power_pct(storctl_mod, in_w_rte_pct, out_w_rte_pct)
    result = {
        "storctl_mod": float(storctl_mod or 0),
        "in_w_rte_pct": float("nan") if in_w_rte_pct is None else in_w_rte_pct,
        "out_w_rte_pct": float("nan") if out_w_rte_pct is None else out_w_rte_pct,
        "charge_rate_pct": max(0.0, -pct),
        "discharge_rate_pct": max(0.0, pct),
    }
    if w_cha_max_w:
        result["power_kw"] = pct / 100.0 * w_cha_max_w / 1000.0
    return result
