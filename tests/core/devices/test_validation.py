"""Device spec validation (pure, no database): valid specs pass, each broken field is named."""

from __future__ import annotations

import dataclasses
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from core.devices import DeviceSpec, FieldProblem, is_valid_device_id, validate_spec
from tests.core.devices.strategies import BREAKERS, broken_specs, valid_specs


@settings(max_examples=300)
@given(valid_specs())
def test_valid_specs_have_no_problems(spec):
    assert validate_spec(spec) == []


@settings(max_examples=300)
@given(broken_specs())
def test_each_broken_field_is_named(case):
    spec, broken = case
    fields = {p.field for p in validate_spec(spec)}
    assert broken <= fields
    # A bad device_id also makes an mqtt address (which must end in the id) wrong; nothing else may appear.
    allowed_extra = {"address"} if "device_id" in broken else set()
    assert fields - broken <= allowed_extra


@given(st.text(max_size=70))
def test_device_id_rule_matches_the_mqtt_contract(text):
    # Independent restatement of drivers/mqtt/topics.DEVICE_ID_PATTERN, character by character.
    ok_chars = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
    expected = 1 <= len(text) <= 64 and text[0].isascii() and text[0].isalnum() and set(text) <= ok_chars
    assert is_valid_device_id(text) == expected


def _spec(**changes) -> DeviceSpec:
    base = DeviceSpec(
        device_id="bess-01", name="Alpha 1", site_id=1, kind="bess", capacity_kwh=100.0,
        max_charge_kw=50.0, max_discharge_kw=50.0, address="mqtt://broker:1883/bess-01",
    )
    return dataclasses.replace(base, **changes)


def test_c_rate_limit_names_the_units():
    problems = validate_spec(_spec(max_discharge_kw=1001.0))
    assert [p.field for p in problems] == ["max_discharge_kw"]
    assert "10 C" in problems[0].reason and "kW" in problems[0].reason
    assert validate_spec(_spec(max_discharge_kw=1000.0)) == []  # exactly 10 C is allowed


def test_addresses_of_each_scheme():
    good = ["modbus+tcp://10.0.0.5:502/1", "modbus+tcp://plc.local/0", "mqtt://broker/bess-01", "sim://default"]
    for address in good:
        assert validate_spec(_spec(address=address)) == [], address
    bad = {
        "modbus+tcp://10.0.0.5:502/": "unit id",
        "modbus+tcp://10.0.0.5:99999/1": "not a valid URL",
        "mqtt://broker:1883/bess-02": "ends in the device id",
        "mqtt://alice:pw@broker/bess-01": "keyring",
        "https://broker/bess-01": "scheme must be one of",
        "sim://": "profile",
    }
    for address, reason in bad.items():
        problems = validate_spec(_spec(address=address))
        assert len(problems) == 1 and problems[0].field == "address" and reason in problems[0].reason, address


def test_coordinates_come_in_pairs_and_in_range():
    assert {p.field for p in validate_spec(_spec(latitude=10.0))} == {"longitude"}
    assert {p.field for p in validate_spec(_spec(latitude=-90.5, longitude=180.5))} == {"latitude", "longitude"}
    assert validate_spec(_spec(latitude=-90.0, longitude=180.0)) == []
    assert {p.field for p in validate_spec(_spec(latitude=math.nan, longitude=0.0))} == {"latitude"}


def test_battery_systems_need_a_layout_and_bess_has_none():
    assert {p.field for p in validate_spec(_spec(kind="battery_system"))} == {"packs", "cells_per_pack"}
    assert validate_spec(_spec(kind="battery_system", packs=100, cells_per_pack=10)) == []
    assert {p.field for p in validate_spec(_spec(packs=4))} == {"packs"}


def test_problem_text_names_field_and_reason():
    assert str(FieldProblem("capacity_kwh", "must be > 0")) == "capacity_kwh: must be > 0"


def test_breakers_cover_every_spec_field():
    assert set(BREAKERS) == {f.name for f in dataclasses.fields(DeviceSpec)} - {"cells_per_pack"}
