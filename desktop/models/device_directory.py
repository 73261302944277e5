"""Who a device is (name, site, capacity, limits), for labels and for checking a command before asking.

Sources, best first: the device registry (``FleetContext.device_info``, a blocking call: use it off the GUI
thread) and the metadata the device was registered with in LiveState.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from core.fleet.live_state import LiveState


@dataclass(frozen=True)
class DeviceMeta:
    device_id: str
    name: str = ""
    site: str = ""
    location: str = ""
    kind: str = ""
    capacity_kwh: float = math.nan
    max_charge_kw: float = math.nan
    max_discharge_kw: float = math.nan

    @property
    def limits_known(self) -> bool:
        return math.isfinite(self.max_charge_kw) and math.isfinite(self.max_discharge_kw)


def _pick(sources: list[Any], name: str, default: Any) -> Any:
    for source in sources:
        value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
        if value not in (None, ""):
            return value
    return default


class DeviceDirectory:
    def __init__(self, live_state: LiveState, device_info: Callable[[str], Any] | None = None) -> None:
        self._live = live_state
        self._device_info = device_info

    def describe(self, device_id: str) -> DeviceMeta:
        """Blocking when a registry is wired; a device the registry does not know keeps its LiveState meta."""
        sources: list[Any] = []
        if self._device_info is not None:
            try:
                info = self._device_info(device_id)
            except Exception:  # not onboarded (yet) or registry unreachable: fall back to live metadata
                info = None
            if info is not None:
                sources += [getattr(info, "spec", None) or {}, info]
        try:
            sources.append(self._live.meta(device_id))
        except KeyError:
            pass
        return DeviceMeta(
            device_id,
            name=str(_pick(sources, "name", "")),
            site=str(_pick(sources, "site_name", "") or _pick(sources, "site", "")),
            location=str(_pick(sources, "location", "")),
            kind=str(_pick(sources, "kind", "")),
            capacity_kwh=float(_pick(sources, "capacity_kwh", math.nan)),
            max_charge_kw=float(_pick(sources, "max_charge_kw", math.nan)),
            max_discharge_kw=float(_pick(sources, "max_discharge_kw", math.nan)),
        )

    def describe_many(self, device_ids: list[str]) -> dict[str, DeviceMeta]:
        return {device_id: self.describe(device_id) for device_id in device_ids}
