"""Bad input gets a typed error naming the line and the rule; repairs happen only by reported rules."""

import pytest

from core.market.assembly import GapPolicy
from core.market.errors import TimeSeriesImportError
from core.market.price_csv import import_price_csv, parse_price_csv

HEADER = "timestamp_utc,price_eur_per_mwh\n"


def test_clean_file_has_no_notes_and_right_values():
    series = parse_price_csv(HEADER + "2024-01-01T00:00:00Z,10.5\n2024-01-01T01:00:00Z,-3\n")
    assert series.unit == "EUR/MWh" and series.values.tolist() == [10.5, -3.0] and series.notes == ()


def test_gap_rejected_with_line_and_rule():
    text = HEADER + "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n2024-01-01T03:00:00Z,4\n"
    with pytest.raises(TimeSeriesImportError) as info:
        parse_price_csv(text)
    assert info.value.line == 4 and info.value.rule == "no gaps" and "2024-01-01T02:00Z" in str(info.value)


def test_short_gap_filled_by_interpolation_and_reported():
    text = HEADER + "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n2024-01-01T03:00:00Z,4\n"
    series = parse_price_csv(text, gaps=GapPolicy(max_interpolate_steps=2))
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert series.notes == ("line 4: gap 2024-01-01T02:00Z (1 step(s)) filled by linear interpolation "
                            "(rule: fill gaps <= 2 steps)",)


def test_identical_duplicate_dropped_with_note():
    text = HEADER + "2024-01-01T00:00:00Z,1\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n"
    series = parse_price_csv(text)
    assert series.values.tolist() == [1.0, 2.0]
    assert series.notes[0].startswith("line 3: duplicate of line 2")


def test_conflicting_duplicate_names_both_lines():
    text = HEADER + "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n2024-01-01T00:00:00Z,7\n"
    with pytest.raises(TimeSeriesImportError) as info:
        parse_price_csv(text)
    assert "line 2" in str(info.value) and "line 4" in str(info.value)
    assert info.value.rule == "no conflicting duplicates"


def test_non_numeric_value_rejected_with_line():
    text = HEADER + "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,twelve\n"
    with pytest.raises(TimeSeriesImportError) as info:
        parse_price_csv(text)
    assert info.value.line == 3 and info.value.rule == "numeric values" and "'twelve'" in str(info.value)


def test_unknown_unit_in_header_is_named():
    with pytest.raises(TimeSeriesImportError, match="'USD/MWh'") as info:
        parse_price_csv("time_utc,price [USD/MWh]\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,1\n")
    assert info.value.rule == "known units"


def test_unknown_unit_argument_is_named():
    with pytest.raises(TimeSeriesImportError, match="'bananas'"):
        parse_price_csv("time_utc,price\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,1\n", unit="bananas")


def test_header_and_argument_units_must_agree():
    with pytest.raises(TimeSeriesImportError) as info:
        parse_price_csv(HEADER + "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,1\n", unit="EUR/kWh")
    assert info.value.rule == "one unit"


def test_unreadable_timestamp_rejected_with_line():
    with pytest.raises(TimeSeriesImportError) as info:
        parse_price_csv(HEADER + "2024-01-01T00:00:00Z,1\nyesterday,1\n")
    assert info.value.line == 3 and info.value.rule == "readable timestamps"


def test_semicolon_and_decimal_comma_with_ct_per_kwh_converted_and_noted():
    text = "Zeit (UTC);Preis [ct/kWh]\n2024-01-01T00:00:00Z;1,5\n2024-01-01T01:00:00Z;-0,25\n"
    series = parse_price_csv(text)
    assert series.values.tolist() == [15.0, -2.5]
    assert series.notes[-1] == "converted ct/kWh to EUR/MWh (rule: output unit)"


def test_offset_timestamps_become_utc():
    text = "time,price [EUR/MWh]\n2024-07-01T02:00:00+02:00,5\n2024-07-01T03:00:00+02:00,6\n"
    series = parse_price_csv(text)
    assert str(series.start_utc[0]) == "2024-07-01T00:00:00"


def test_unsorted_rows_are_sorted_and_reported():
    text = HEADER + "2024-01-01T01:00:00Z,2\n2024-01-01T00:00:00Z,1\n"
    series = parse_price_csv(text)
    assert series.values.tolist() == [1.0, 2.0] and "sorted by time" in series.notes[0]


def test_missing_file_and_non_utf8_file_are_typed_errors(tmp_path):
    with pytest.raises(TimeSeriesImportError) as info:
        import_price_csv(tmp_path / "absent.csv")
    assert info.value.rule == "readable file"
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(HEADER.encode() + b"2024-01-01T00:00:00Z,1\n\xe9\n")
    with pytest.raises(TimeSeriesImportError) as info:
        import_price_csv(bad)
    assert info.value.line == 3 and info.value.rule == "UTF-8 text"


def test_full_real_utc_file_imports_without_repairs(fixtures):
    series = import_price_csv(fixtures / "be_day_ahead_prices_utc_2024-03_2024-05.csv")
    assert len(series) == 2208 and series.notes == () and series.values.min() < 0
