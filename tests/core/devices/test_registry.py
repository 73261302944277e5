"""The device registry on SQLite and PostgreSQL: validation, nothing half-stored, permissions, audit."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.audit.trail import AuditFilter
from core.devices import DeviceRegistry, DeviceSpec, DeviceValidationError
from core.devices.tables import DeviceRow
from core.errors import Conflict, NotFound, PermissionDenied
from core.fleet.tables import SiteRow
from tests.core.devices.strategies import broken_specs, valid_specs

STRONG = "Correct-Horse-42"
FIXTURE_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def world(services):
    """A registry, two sites, and signed-in admin / operator / viewer principals."""
    users = services.users
    users.create_first_admin("root-admin", STRONG)
    admin = users.authenticate("root-admin", STRONG)
    people = {"admin": admin}
    for name, role in [("olga", "operator"), ("vic", "viewer")]:
        users.create_user(admin, name, role, STRONG)
        users.change_password(users.authenticate(name, STRONG), STRONG, STRONG + "!x")
        people[role] = users.authenticate(name, STRONG + "!x")
    now = services.clock.now()
    with services.db.session() as s:
        s.add_all([SiteRow(name="Alpha", location="Antwerp", created_at=now), SiteRow(name="Beta", created_at=now)])
        s.flush()
        sites = {row.name: row.id for row in s.execute(select(SiteRow)).scalars()}
    registry = DeviceRegistry(services.db, services.audit, services.authorizer, services.clock)
    return registry, people, sites, services


def _spec(site_id: int, device_id: str = "bess-01", **changes) -> DeviceSpec:
    spec = DeviceSpec(
        device_id=device_id, name="Alpha 1", site_id=site_id, kind="battery_system", capacity_kwh=500.0,
        max_charge_kw=250.0, max_discharge_kw=250.0, address=f"mqtt://broker:1883/{device_id}",
        location="Hall 2", latitude=51.2, longitude=4.4, packs=100, cells_per_pack=10,
    )
    return dataclasses.replace(spec, **changes)


def _device_count(services) -> int:
    with services.db.session() as s:
        return s.execute(select(func.count()).select_from(DeviceRow)).scalar_one()


def _audit(services, action: str):
    with services.db.session() as s:
        return services.audit.query(s, AuditFilter(action=action))


def test_register_stores_everything_and_audits_the_admin(world):
    registry, people, sites, services = world
    info = registry.register(people["admin"], _spec(sites["Alpha"]))
    assert info.spec == _spec(sites["Alpha"]) and info.active and info.site_name == "Alpha"
    assert info.created_at == services.clock.now() and info.decommissioned_at is None
    assert registry.get(people["viewer"], "bess-01") == info
    [entry] = _audit(services, "device.register")
    assert (entry.username, entry.resource, entry.result) == ("root-admin", "device:bess-01", "success")
    assert entry.detail["capacity_kwh"] == 500.0


@FIXTURE_SETTINGS
@given(spec=valid_specs())
def test_any_valid_spec_registers_and_reads_back(world, spec):
    registry, people, sites, services = world
    spec = dataclasses.replace(spec, site_id=sites["Beta"])
    existing = {d.device_id for d in registry.list(people["admin"])}
    if spec.device_id in existing:
        with pytest.raises(DeviceValidationError) as info:
            registry.register(people["admin"], spec)
        assert info.value.fields == {"device_id"}
        return
    assert registry.register(people["admin"], spec).spec == spec
    assert registry.get(people["admin"], spec.device_id).spec == spec


@FIXTURE_SETTINGS
@given(case=broken_specs())
def test_invalid_specs_name_each_field_and_store_nothing(world, case):
    registry, people, sites, services = world
    spec, broken = case
    if "site_id" not in broken:
        spec = dataclasses.replace(spec, site_id=sites["Alpha"])
    before, refusals = _device_count(services), len(_audit(services, "device.register"))
    with pytest.raises(DeviceValidationError) as info:
        registry.register(people["admin"], spec)
    assert broken <= info.value.fields
    for field in broken:
        assert field in str(info.value)
    assert _device_count(services) == before
    audits = _audit(services, "device.register")
    assert len(audits) == refusals + 1 and audits[0].result == "failure"


def test_duplicate_id_and_unknown_site_are_listed_together(world):
    registry, people, sites, services = world
    registry.register(people["admin"], _spec(sites["Alpha"]))
    with pytest.raises(DeviceValidationError) as info:
        registry.register(people["admin"], _spec(9999, capacity_kwh=-1.0))
    assert info.value.fields == {"device_id", "site_id", "capacity_kwh"}
    assert "already registered" in str(info.value) and "no site with id 9999" in str(info.value)
    assert _device_count(services) == 1


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operator_and_viewer_cannot_change_the_registry_and_are_audited(world, role):
    registry, people, sites, services = world
    registry.register(people["admin"], _spec(sites["Alpha"]))
    actor = people[role]
    attempts = [
        lambda: registry.register(actor, _spec(sites["Alpha"], "bess-02")),
        lambda: registry.update(actor, "bess-01", name="Renamed"),
        lambda: registry.decommission(actor, "bess-01"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    denials = _audit(services, "permission.denied")
    assert len(denials) == 3
    assert {d.username for d in denials} == {actor.username}
    assert {d.detail["permission"] for d in denials} == {"manage_devices"}
    assert [d.device_id for d in registry.list(actor)] == ["bess-01"]  # reading is allowed
    assert registry.get(actor, "bess-01").spec.name == "Alpha 1"


def test_update_revalidates_and_audits_old_and_new_values(world):
    registry, people, sites, services = world
    registry.register(people["admin"], _spec(sites["Alpha"]))
    info = registry.update(people["admin"], "bess-01", name="Alpha One", max_discharge_kw=400.0, certificate_serial="0A1B")
    assert info.spec.name == "Alpha One" and info.spec.max_discharge_kw == 400.0 and info.certificate_serial == "0A1B"
    [entry] = _audit(services, "device.update")
    assert entry.detail == {
        "name": ["Alpha 1", "Alpha One"],
        "max_discharge_kw": [250.0, 400.0],
        "certificate_serial": [None, "0A1B"],
    }
    with pytest.raises(DeviceValidationError) as bad:
        registry.update(people["admin"], "bess-01", max_charge_kw=6000.0, latitude=91.0)
    assert bad.value.fields == {"max_charge_kw", "latitude"}
    with pytest.raises(DeviceValidationError) as identity:
        registry.update(people["admin"], "bess-01", device_id="bess-99")
    assert identity.value.fields == {"device_id"}
    assert registry.get(people["admin"], "bess-01") == info  # refused updates changed nothing
    with pytest.raises(NotFound):
        registry.update(people["admin"], "ghost", name="x")


def test_decommission_keeps_the_row_flagged(world):
    registry, people, sites, services = world
    registry.register(people["admin"], _spec(sites["Alpha"]))
    registry.register(people["admin"], _spec(sites["Beta"], "sim-7", address="sim://default", kind="bess", packs=None, cells_per_pack=None))
    services.clock.advance(timedelta(days=3))
    info = registry.decommission(people["admin"], "bess-01")
    assert not info.active and info.decommissioned_at == services.clock.now()
    assert [s.device_id for s in registry.device_specs()] == ["sim-7"]
    assert [d.device_id for d in registry.list(people["admin"])] == ["bess-01", "sim-7"]
    assert [d.device_id for d in registry.list(people["admin"], include_decommissioned=False)] == ["sim-7"]
    with pytest.raises(Conflict):
        registry.decommission(people["admin"], "bess-01")
    with pytest.raises(Conflict):
        registry.update(people["admin"], "bess-01", name="back again")
    [entry] = _audit(services, "device.decommission")
    assert (entry.username, entry.resource) == ("root-admin", "device:bess-01")
    with pytest.raises(DeviceValidationError, match="already registered"):
        registry.register(people["admin"], _spec(sites["Alpha"]))  # an id is never reused


def test_list_filters_by_site_and_text(world):
    registry, people, sites, services = world
    registry.register(people["admin"], _spec(sites["Alpha"], "bess-01", location="Hall 2"))
    registry.register(people["admin"], _spec(sites["Alpha"], "bess-02", name="North yard", location="Yard"))
    registry.register(people["admin"], _spec(sites["Beta"], "mb-3", address="modbus+tcp://10.0.0.5:502/3"))
    admin = people["admin"]
    assert [d.device_id for d in registry.list(admin, site="Alpha")] == ["bess-01", "bess-02"]
    assert [d.device_id for d in registry.list(admin, site=sites["Beta"])] == ["mb-3"]
    assert [d.device_id for d in registry.list(admin, text="NORTH")] == ["bess-02"]
    assert [d.device_id for d in registry.list(admin, text="hall")] == ["bess-01", "mb-3"]
    assert registry.list(admin, text="100%_") == []  # wildcards are matched literally


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_device_specs_needs_no_actor_and_lists_active_devices(world, data):
    registry, people, sites, services = world
    before = {s.device_id for s in registry.device_specs()}
    spec = data.draw(valid_specs(site_id=sites["Alpha"]))
    if spec.device_id not in before and spec.device_id not in {d.device_id for d in registry.list(people["admin"])}:
        registry.register(people["admin"], spec)
        assert {s.device_id for s in registry.device_specs()} == before | {spec.device_id}
