"""Registered devices and signed-in demo users for the device-group and schedule-editor tests."""

from __future__ import annotations

from sqlalchemy import select

from core.auth.principal import SYSTEM
from core.demo import DEMO_USERS, seed_demo
from core.devices import DeviceRegistry, DeviceSpec
from core.fleet.tables import SiteRow


def demo_people(services) -> dict[str, object]:
    """Seed the demo sites and users; role name -> signed-in principal."""
    seed_demo(services)
    return {user.role.value: services.users.authenticate(user.username, user.password) for user in DEMO_USERS}


def register_devices(services, limits_kw: dict[str, float], capacity_kwh: float = 1000.0) -> None:
    """Register each device with charge and discharge limits of `limits_kw[device_id]` (system actor)."""
    registry = DeviceRegistry(services.db, services.audit, services.authorizer, services.clock)
    with services.db.session() as s:
        site_id = s.execute(select(SiteRow.id).order_by(SiteRow.id).limit(1)).scalar_one()
    for device_id, kw in limits_kw.items():
        registry.register(SYSTEM, DeviceSpec(device_id=device_id, name=device_id.title(), site_id=site_id, kind="bess",
                                             capacity_kwh=capacity_kwh, max_charge_kw=kw, max_discharge_kw=kw,
                                             address=f"mqtt://127.0.0.1:1883/{device_id}"))
