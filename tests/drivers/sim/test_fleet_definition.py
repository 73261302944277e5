"""The demo fleet definition loads as specified, and a bad entry is refused by name."""

from __future__ import annotations

import copy
import json

import pytest

from core.demo import DEMO_SITES
from drivers.sim.demo_fleet_generator import demo_fleet_json
from drivers.sim.fleet_definition import (
    DEMO_FLEET_PATH,
    FleetDefinitionError,
    load_fleet_definition,
    parse_fleet_definition,
)


@pytest.fixture(scope="module")
def demo_data() -> dict:
    return json.loads(DEMO_FLEET_PATH.read_text(encoding="utf-8"))


def test_demo_fleet_has_the_specified_devices():
    fleet = load_fleet_definition()
    mqtt = fleet.mqtt_devices
    assert len(mqtt) >= 200
    assert mqtt[0].id == "bess-0001" and all(d.id.startswith("bess-") for d in mqtt)
    assert [d.id for d in fleet.modbus_devices] == [f"mbs-0{i}" for i in range(1, 6)]
    assert sorted(d.unit_id for d in fleet.modbus_devices) == [1, 2, 3, 4, 5]
    (system,) = fleet.battery_systems
    assert (system.id, system.packs, system.cells_per_pack) == ("bs-01", 100, 10)
    capacities = {d.capacity_kwh for d in fleet.devices}
    assert min(capacities) >= 50 and max(capacities) <= 500 and len(capacities) >= 5
    assert len({d.max_charge_kw / d.capacity_kwh for d in fleet.devices}) >= 3  # varied C-rates


def test_demo_devices_are_spread_over_the_three_demo_sites_with_jitter():
    fleet = load_fleet_definition()
    assert [(s.name, s.lat, s.lon, s.timezone) for s in fleet.sites] == [
        (name, lat, lon, tz) for name, _loc, lat, lon, tz in DEMO_SITES
    ]
    per_site = {s.name: 0 for s in fleet.sites}
    for device in [*fleet.devices, *fleet.battery_systems]:
        site = fleet.site(device.site)
        per_site[site.name] += 1
        assert abs(device.lat - site.lat) <= 0.05 and abs(device.lon - site.lon) <= 0.05
    assert min(per_site.values()) >= 60
    assert len({(d.lat, d.lon) for d in fleet.devices}) == len(fleet.devices)  # jittered, not stacked


def test_shipped_demo_fleet_is_what_the_generator_produces():
    assert DEMO_FLEET_PATH.read_text(encoding="utf-8") == demo_fleet_json()


@pytest.mark.parametrize(
    ("mutate", "entry", "reason_part"),
    [
        (lambda d: d["devices"][3].update(capacity_kwh=-5.0), "devices[3] (bess-0004)", "capacity_kwh"),
        (lambda d: d["devices"][3].update(max_charge_kw=5000.0), "devices[3] (bess-0004)", "at most 4.0C"),
        (lambda d: d["devices"][7].update(capacity_kwh="200"), "devices[7] (bess-0008)", "valid number"),
        (lambda d: d["devices"][2].update(site="Atlantis"), "devices[2] (bess-0003)", "unknown site 'Atlantis'"),
        (lambda d: d["devices"][5].update(id="bess-0001"), "devices[5] (bess-0001)", "used twice"),
        (lambda d: d["devices"][9].update(firmware="1.0"), "devices[9] (bess-0010)", "firmware"),
        (lambda d: d["devices"][-1].update(unit_id=1), "devices[214] (mbs-05)", "already used by mbs-01"),
        (lambda d: d["devices"][-1].pop("unit_id"), "devices[214] (mbs-05)", "unit_id is required"),
        (lambda d: d["devices"][4].update(id="bess/4"), "devices[4] (bess/4)", "id"),
        (lambda d: d["battery_systems"][0].update(packs=0), "battery_systems[0] (bs-01)", "packs"),
        (lambda d: d["sites"][1].update(timezone="Mars/Olympus"), "sites[1] (Antwerp North)", "time zone"),
        (lambda d: d.update(version=2), "version", "less than or equal to 1"),
    ],
)
def test_a_bad_entry_is_refused_by_name(demo_data, mutate, entry, reason_part):
    data = copy.deepcopy(demo_data)
    mutate(data)
    with pytest.raises(FleetDefinitionError) as caught:
        parse_fleet_definition(data)
    assert caught.value.entry == entry
    assert reason_part in caught.value.reason


def test_unreadable_or_malformed_files_name_the_file(tmp_path):
    broken = tmp_path / "fleet.json"
    broken.write_text('{"version": 1,', encoding="utf-8")
    with pytest.raises(FleetDefinitionError, match="not valid JSON") as caught:
        load_fleet_definition(broken)
    assert caught.value.entry == str(broken)
    with pytest.raises(FleetDefinitionError, match="cannot read"):
        load_fleet_definition(tmp_path / "missing.json")
