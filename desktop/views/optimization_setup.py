"""Wiring the Optimization view to the core services of this database and the live fleet (the desktop
cannot import the gridroom composition root, so the few services the view needs are built here)."""

from __future__ import annotations

import math

from core.auth.principal import Principal
from core.auth.roles import Permission
from core.fleet.context import FleetContext
from core.forecasting.db_registry import DbRecordStore, seed_from
from core.forecasting.default_model import shipped_registry
from core.forecasting.registry import ModelRegistry
from core.market.import_source import ImportSourceSettings
from core.market.service import MarketDataService
from core.optimization.service import OptimizationService
from core.schedules.model import DeviceLimits
from core.schedules.service import ScheduleService
from core.services import CoreServices
from core.settings import data_dir
from desktop.views.optimization_view import OptimizationView

# As the schedule runtime assumes for devices whose registry entry has no SoC window or efficiency.
SOC_MIN_PCT, SOC_MAX_PCT, EFFICIENCY = 5.0, 95.0, 0.95


def fleet_limits(fleet: FleetContext):
    def limits_of(device_id: str) -> DeviceLimits:
        if fleet.device_info is None:
            raise KeyError(f"{device_id}: no device registry is connected")
        info = fleet.device_info(device_id)
        if info is None:
            raise KeyError(f"{device_id} is not a registered device")
        spec = getattr(info, "spec", info)
        snap = fleet.live_state.snapshot()
        row = snap.row(device_id) if device_id in snap.device_ids else None
        soc = float(snap.soc_pct[row]) if row is not None else math.nan
        return DeviceLimits(device_id, spec.capacity_kwh, spec.max_charge_kw, spec.max_discharge_kw, SOC_MIN_PCT,
                            SOC_MAX_PCT, EFFICIENCY, EFFICIENCY, soc if math.isfinite(soc) else 50.0)
    return limits_of


def build_optimization_view(services: CoreServices, principal: Principal, fleet: FleetContext) -> OptimizationView:
    registry = ModelRegistry(data_dir() / "models", services.clock, DbRecordStore(services.db))
    if not registry.list("price"):
        with shipped_registry() as shipped:
            seed_from(registry, shipped)
    market = MarketDataService(services.db, services.audit, services.authorizer, services.clock)
    limits_of = fleet_limits(fleet)
    schedules = ScheduleService(services.db, services.audit, services.authorizer, services.clock, limits_of)
    optimizer = OptimizationService(services.db, services.audit, services.authorizer, market, registry, schedules,
                                    limits_of, services.clock)

    def device_ids() -> list[str]:
        snap = fleet.live_state.snapshot()
        if fleet.device_info is None:
            return []
        return [d for d in snap.device_ids if fleet.device_info(d) is not None]

    return OptimizationView(optimizer, market, principal, device_ids,
                            import_source=ImportSourceSettings(services.db, services.audit, services.authorizer),
                            can_set_import_source=services.authorizer.allowed(principal, Permission.MANAGE_MARKET_DATA))
