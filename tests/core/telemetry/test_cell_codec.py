"""The fixed-point cell codec: round trips within the stated resolution, sentinels, and both blob formats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.telemetry.cell_codec import (
    CODECS,
    FRAME,
    PLAIN,
    decode_cells,
    encode_cells,
    pack_codes,
    to_codes,
    unpack_codes,
)

METRICS = sorted(CODECS)


@st.composite
def in_range(draw, metric: str | None = None):
    metric = metric or draw(st.sampled_from(METRICS))
    c = CODECS[metric]
    values = draw(st.lists(st.floats(c.lowest, c.highest, allow_nan=False), max_size=40))
    return metric, values


@given(in_range())
def test_in_range_values_round_trip_within_half_a_step(case):
    metric, values = case
    got = decode_cells(encode_cells(values, metric), metric)
    assert got.dtype == np.dtype("<f4") and got.shape == (len(values),)
    want = np.asarray(values, dtype=np.float64)
    # half a step from the fixed point, plus float32 rounding of the decoded value
    tolerance = CODECS[metric].step / 2 * (1 + 1e-9) + np.abs(want) * 2.0**-23
    assert (np.abs(got.astype(np.float64) - want) <= tolerance).all()


@given(st.sampled_from(METRICS), st.lists(st.one_of(st.floats(allow_nan=True), st.sampled_from([np.inf, -np.inf, np.nan])), max_size=30))
def test_missing_and_out_of_range_values_are_never_made_plausible(metric, values):
    c = CODECS[metric]
    got = decode_cells(encode_cells(values, metric), metric).astype(np.float64)
    x = np.asarray(values, dtype=np.float64)
    step = c.step
    assert np.array_equal(np.isnan(got), np.isnan(x))
    above = x > c.highest + step / 2
    below = x < c.lowest - step / 2
    assert (got[above] == np.inf).all() and (got[below] == -np.inf).all()
    ok = ~np.isnan(x) & ~above & ~below & np.isfinite(x)
    assert (np.abs(got[ok] - x[ok]) <= step / 2 * (1 + 1e-9) + np.abs(x[ok]) * 2.0**-23).all()


@given(st.lists(st.integers(0, 0xFFFF), max_size=50))
def test_any_codes_survive_packing(codes):
    codes = np.array(codes, dtype=np.uint16)
    assert np.array_equal(unpack_codes(pack_codes(codes)), codes)


@given(st.integers(0, 0xFFFC - 254), st.lists(st.one_of(st.integers(0, 254), st.none()), min_size=1, max_size=40))
def test_a_narrow_pack_is_stored_as_base_plus_one_byte_per_cell(base, offsets):
    codes = np.array([0xFFFF if o is None else base + o for o in offsets], dtype=np.uint16)
    blob = pack_codes(codes)
    assert blob[0] == FRAME and len(blob) == 3 + len(codes)
    assert np.array_equal(unpack_codes(blob), codes)


def test_a_wide_or_faulty_pack_is_stored_plain():
    wide = to_codes([3.0, 3.3], "voltage_v")  # 300 mV apart: more than 254 steps
    assert pack_codes(wide)[0] == PLAIN and len(pack_codes(wide)) == 1 + 2 * 2
    faulty = to_codes([3.7, np.inf], "voltage_v")
    assert pack_codes(faulty)[0] == PLAIN
    assert list(decode_cells(pack_codes(faulty), "voltage_v")) == [pytest.approx(3.7), np.inf]


def test_stated_resolutions_and_ranges():
    assert decode_cells(encode_cells([3.7004, 3.7006], "voltage_v"), "voltage_v").tolist() == pytest.approx([3.700, 3.701])
    assert decode_cells(encode_cells([-20.04, 85.06], "temp_c"), "temp_c").tolist() == pytest.approx([-20.0, 85.1])
    assert decode_cells(encode_cells([99.994, 0.0], "soc_pct"), "soc_pct").tolist() == pytest.approx([99.99, 0.0])
    assert decode_cells(encode_cells([-0.1, 70.0], "voltage_v"), "voltage_v").tolist() == [-np.inf, np.inf]
    assert decode_cells(encode_cells([], "temp_c"), "temp_c").shape == (0,)


@pytest.mark.parametrize("blob", [b"", b"\x07\x00\x00", b"\x01\x00", b"\x02\x01"])
def test_malformed_blobs_are_refused(blob):
    with pytest.raises(ValueError):
        unpack_codes(blob)


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="voltage_v"):
        encode_cells([1.0], "power_kw")
