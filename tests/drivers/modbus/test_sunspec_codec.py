"""GridRoom's SunSpec encoding checked against pysunspec2's own, point by point."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sunspec2 import device as ss_device

from drivers.modbus.sunspec_image import (
    SunSpecValueError,
    build_image,
    decode_model,
    decode_point,
    encode_model,
    encode_point,
    unscale,
)
from drivers.modbus.sunspec_models import SunSpecModelError, load_model_def

MODELS = (1, 802, 124)
SIGNED = {"int16", "sunssf", "int32"}
SENTINELS = {"int16": -0x8000, "sunssf": -0x8000, "uint16": 0xFFFF, "enum16": 0xFFFF, "bitfield16": 0xFFFF,
             "uint32": 0xFFFFFFFF, "bitfield32": 0xFFFFFFFF, "count": 0xFFFF}  # fmt: skip


def _raw_strategy(point):
    if point.type == "string":
        return st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=2 * point.size)
    if point.type == "pad":
        return st.none()
    bits = 16 * point.size
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if point.type in SIGNED else (0, (1 << bits) - 1)
    if point.type == "sunssf":
        low, high = -10, 10
    sentinel = SENTINELS.get(point.type)
    return st.one_of(st.none(), st.integers(low, high).filter(lambda v: v != sentinel))


def _model_values(model_id):
    model = load_model_def(model_id)
    body = {name: p for name, p in model.points.items() if name not in ("ID", "L")}
    return st.fixed_dictionaries({name: _raw_strategy(p) for name, p in body.items()})


def test_definitions_come_from_pysunspec2_json():
    for model_id in MODELS:
        ours = load_model_def(model_id)
        theirs = ss_device.Model(model_id)
        assert ours.total_registers == theirs.len
        for name, point in ours.points.items():
            assert point.offset == theirs.points[name].offset, (model_id, name)
            assert point.size == theirs.points[name].len, (model_id, name)
    assert load_model_def(124).point("InWRte").sf == "InOutWRte_SF"
    assert load_model_def(802).point("SoC").mandatory


def test_unknown_model_and_point_are_typed_errors():
    with pytest.raises(SunSpecModelError, match="no definition for SunSpec model 9999"):
        load_model_def(9999)
    with pytest.raises(SunSpecModelError, match="model 802 .* no point 'Temp'"):
        load_model_def(802).point("Temp")


@pytest.mark.parametrize("model_id", MODELS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_our_registers_decode_identically_in_pysunspec2(model_id, data):
    raw = data.draw(_model_values(model_id))
    registers = encode_model(load_model_def(model_id), raw)
    theirs = ss_device.Model(model_id, data=struct.pack(f">{len(registers)}H", *registers))
    for name, value in raw.items():
        if load_model_def(model_id).point(name).type == "pad":
            continue
        assert theirs.points[name].value == value, name
    ours = decode_model(load_model_def(model_id), registers).raw
    assert (ours["ID"], ours["L"]) == (model_id, load_model_def(model_id).length)
    for name, value in raw.items():
        if load_model_def(model_id).point(name).type != "pad":
            assert ours[name] == value, name


@pytest.mark.parametrize("model_id", (802, 124))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_we_decode_pysunspec2_registers_identically(model_id, data):
    model = load_model_def(model_id)
    words = data.draw(st.lists(st.integers(0, 0xFFFF), min_size=model.total_registers, max_size=model.total_registers))
    theirs = ss_device.Model(model_id, data=struct.pack(f">{len(words)}H", *words))
    ours = decode_model(model, words)
    for name, point in model.points.items():
        if point.type in ("pad", "string") or name in ("ID", "L"):  # pysunspec2 fills ID and L from the definition
            continue
        assert ours.raw[name] == theirs.points[name].value, name


def test_unimplemented_values_decode_to_none():
    model = load_model_def(802)
    registers = encode_model(model, {})
    values = decode_model(model, registers)
    assert registers[model.point("A").offset] == 0x8000  # int16 sentinel
    assert registers[model.point("SoC").offset] == 0xFFFF  # uint16 sentinel
    assert values.raw["SoC"] is None and values.scaled("SoC") is None and values.scaled("A") is None


def test_scale_factors_apply_and_out_of_range_values_are_refused():
    model = load_model_def(124)
    values = decode_model(model, encode_model(model, {"InWRte": -2550, "InOutWRte_SF": -2, "WChaMax": 5, "WChaMax_SF": 4}))
    assert values.scaled("InWRte") == pytest.approx(-25.5)
    assert values.scaled("WChaMax") == pytest.approx(50_000)
    with pytest.raises(SunSpecValueError, match="InWRte.*outside int16"):
        unscale(model.point("InWRte"), 400.0, -2)
    with pytest.raises(SunSpecValueError, match="StorCtl_Mod: raw value 70000"):
        encode_point(model.point("StorCtl_Mod"), 70000)
    with pytest.raises(SunSpecValueError, match="longer than 32 bytes"):
        encode_point(load_model_def(1).point("Mn"), "x" * 33)
    with pytest.raises(SunSpecValueError, match="needs 2 registers"):
        decode_point(load_model_def(802).point("Evt1"), [0])


def test_image_layout_has_marker_models_and_end_model():
    image = build_image([(1, {"Mn": "Acme"}), (802, {}), (124, {})], base_address=50000)
    assert image.read(50000, 2) == [0x5375, 0x6E53]
    assert image.model_addresses == {1: 50002, 802: 50070, 124: 50134}
    assert image.read(50134 + 26, 2) == [0xFFFF, 0]
    assert image.read(50002, 2) == [1, 66]
