"""Property tests: the CSV parser raises nothing but TimeSeriesImportError, and valid files round-trip."""

from datetime import datetime, timedelta, timezone

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.market.assembly import GapPolicy
from core.market.errors import TimeSeriesImportError
from core.market.price_csv import parse_price_csv

UTC = timezone.utc
ODD_NUMBERS = st.sampled_from(
    ["", "nan", "NaN", "inf", "-inf", "1e400", "-0", "0x10", "1_000", " 12 ", "1,5", "--3", "1e-320", "1.7976931348623157e308",
     "½", "٣", "NA", "null", "\"7\"", "12;3", "-140.5", "871"]
)
STAMPS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2020, 1, 3)).map(
        lambda d: d.replace(minute=0, second=0, microsecond=0).isoformat() + "Z"),
    st.sampled_from(["2022-10-30 02:00", "2022-03-27 02:30", "27mar2022 02:00:00", "30oct2022 02:00:00",
                     "0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-12:00", "2024-02-30T00:00Z", "x", ""]),
)
CELL = st.one_of(ODD_NUMBERS, st.text(max_size=8), st.floats(allow_nan=True).map(repr))
ROW = st.tuples(STAMPS, CELL).map(lambda r: ",".join(r))
HEADERS = st.sampled_from(["timestamp_utc,price_eur_per_mwh", "time,price [EUR/kWh]", "time,price", "", "a;b",
                           "time,price [XYZ]"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=HEADERS, rows=st.lists(ROW, max_size=12), duplicate=st.booleans(),
       zone=st.sampled_from([None, "Europe/Brussels", "UTC"]), fill=st.integers(0, 3))
def test_random_rows_raise_only_typed_errors(header, rows, duplicate, zone, fill):
    if duplicate and rows:
        rows = rows + rows[:2]
    text = "\n".join([header, *rows]) + "\n"
    try:
        series = parse_price_csv(text, zone=zone, unit=None if "[" in header or "eur" in header else "EUR/MWh",
                                 gaps=GapPolicy(max_interpolate_steps=fill))
    except TimeSeriesImportError as exc:
        assert exc.rule and str(exc)
    else:
        assert np.all(np.diff(series.start_utc.astype(np.int64)) == series.step_seconds)
        assert not np.isnan(series.values).any()  # default policy never keeps gaps


@settings(max_examples=200, deadline=None)
@given(junk=st.text(max_size=300))
def test_arbitrary_text_raises_only_typed_errors(junk):
    try:
        parse_price_csv(junk, zone="Europe/Brussels", unit="EUR/MWh")
    except TimeSeriesImportError:
        pass


@settings(max_examples=150, deadline=None)
@given(
    first_hour=st.integers(0, 24 * 365 * 3),
    step_minutes=st.sampled_from([15, 30, 60]),
    values=st.lists(st.floats(min_value=-1e4, max_value=1e5, allow_nan=False, allow_subnormal=False), min_size=2,
                    max_size=60),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_valid_generated_file_round_trips(first_hour, step_minutes, values, delimiter):
    start = datetime(2022, 1, 1, tzinfo=UTC) + timedelta(hours=first_hour)
    step = timedelta(minutes=step_minutes)
    lines = [f"timestamp_utc{delimiter}price_eur_per_mwh"]
    for i, value in enumerate(values):
        cell = repr(value).replace(".", ",") if delimiter == ";" else repr(value)
        lines.append(f"{(start + i * step).isoformat().replace('+00:00', 'Z')}{delimiter}{cell}")
    series = parse_price_csv("\n".join(lines) + "\n")
    assert series.values.tolist() == values
    assert series.start_datetimes()[0] == start and series.step == step and series.notes == ()
