"""When a cell row carries SoC and SoH, and which samples are refused (no database involved)."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.telemetry.cell_codec import decode_cells
from core.telemetry.cell_rows import CellRowEncoder
from tests.core.telemetry.support import cells


def _carried(encoder, device, pack, at_s, soc=50.0, n=3):
    row = encoder.row(cells(device, pack, at_s, [3.7] * n, soc_pct=[soc] * n))
    assert (row["soc_pct"] is None) == (row["soh_pct"] is None)
    return row["soc_pct"] is not None


def test_soc_and_soh_once_a_period_per_pack():
    enc = CellRowEncoder(slow_period_ms=60_000)
    assert [_carried(enc, "a", 0, t) for t in range(0, 130, 2)] == [t % 60 == 0 for t in range(0, 130, 2)]
    assert _carried(enc, "a", 1, 2) and _carried(enc, "b", 0, 2)  # each (device, pack) has its own period


def test_a_move_of_the_threshold_is_stored_at_once_smaller_ones_wait():
    enc = CellRowEncoder(slow_period_ms=60_000)  # default threshold: 100 steps = 1 %
    assert _carried(enc, "a", 0, 0, soc=50.0)
    assert not _carried(enc, "a", 0, 2, soc=50.99)
    assert _carried(enc, "a", 0, 4, soc=51.0)  # 1 % since the stored 50.0
    assert not _carried(enc, "a", 0, 6, soc=50.1)  # 0.9 % below the stored 51.0
    assert _carried(enc, "a", 0, 8, soc=float("nan"))  # a reading went missing
    assert _carried(enc, "a", 0, 10, soc=50.1)  # and came back
    assert _carried(enc, "a", 0, 12, soc=50.1, n=4)  # cell count changed


def test_out_of_order_samples_carry_them_and_keep_the_newer_reference():
    enc = CellRowEncoder(slow_period_ms=60_000)
    assert _carried(enc, "a", 0, 100)
    assert _carried(enc, "a", 0, 50)
    assert not _carried(enc, "a", 0, 102)
    assert _carried(enc, "a", 0, 160)


def test_row_values_and_refusals():
    enc = CellRowEncoder()
    row = enc.row(cells("a", 2, 0, [3.7004, 3.2], temp_c=[25.04, -5.0], current_a=-123.456))
    assert row["pack"] == 2 and row["current_10ma"] == -12346
    assert decode_cells(row["voltage_v"], "voltage_v").tolist() == pytest.approx([3.700, 3.200])
    assert decode_cells(row["temp_c"], "temp_c").tolist() == pytest.approx([25.0, -5.0])
    for bad in (float("nan"), float("inf"), 2e6):
        assert enc.row(cells("a", 0, 2, [3.7], current_a=bad)) is None
    naive = cells("a", 0, 4, [3.7])
    naive = type(naive)(**{**{f: getattr(naive, f) for f in naive.__slots__}, "ts": datetime(2026, 1, 1)})
    assert enc.row(naive) is None


@pytest.mark.parametrize("period, change", [(0, 50), (60_000, 0)])
def test_nonsense_settings_are_refused(period, change):
    with pytest.raises(ValueError):
        CellRowEncoder(slow_period_ms=period, slow_change_codes=change)
