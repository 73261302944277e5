"""Properties: export/import loses nothing; no input text makes import raise anything but ScheduleImportError."""

import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.schedules.errors import ScheduleImportError
from core.schedules.io import load_csv, load_json, parse_csv, parse_json, to_csv, to_json
from tests.core.schedules.factories import valid_entry_lists

FIELDS = st.one_of(
    st.sampled_from(["2026-11-23T14:00Z", "2026-11-23T14:00", "2026-11-23T14:00+05:30", "0001-01-01T00:00:00+14:00",
                     "9999-12-31T23:59:59-12:00", "2026-02-30T00:00Z", "1", "2", "charge", "DISCHARGE", "idle",
                     "nan", "inf", "-5", "1e400", "1_000", "0x10", "", " 12 ", '"7"', "\x00", "٣"]),
    st.text(max_size=12),
    st.floats().map(repr),
)
HEADERS = st.sampled_from(["start,end,mode,rate_kw", "rate_kw,mode,end,start", "start,end", "start,end,mode,rate_kw,x",
                           "start;end;mode;rate_kw", "", "START , End,mode,rate_kw"])


@settings(max_examples=300, deadline=None)
@given(entries=valid_entry_lists(), words=st.booleans())
def test_csv_round_trip_is_exact(entries, words):
    back = load_csv(to_csv(entries, mode_words=words))
    assert back == tuple(entries)
    assert [(e.start, e.end, e.mode, e.rate_kw) for e in back] == [(e.start, e.end, e.mode, e.rate_kw) for e in entries]
    assert all(e.start.tzinfo is timezone.utc and e.end.tzinfo is timezone.utc for e in back)


@settings(max_examples=300, deadline=None)
@given(entries=valid_entry_lists())
def test_json_round_trip_is_exact(entries):
    assert load_json(to_json(entries)) == tuple(entries)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=HEADERS, rows=st.lists(st.lists(FIELDS, min_size=0, max_size=5), max_size=8),
       newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_csv_like_text_raises_only_the_typed_error(header, rows, newline):
    text = newline.join([header, *(",".join(row) for row in rows)])
    result = parse_csv(text)
    assert not (result.entries and result.problems)  # never a partial import
    for problem in result.problems:
        assert str(problem) and (problem.line is None or problem.line >= 1)
    try:
        load_csv(text)
    except ScheduleImportError as exc:
        assert exc.problems == result.problems


@settings(max_examples=300, deadline=None)
@given(junk=st.text(max_size=300))
def test_arbitrary_text_raises_only_the_typed_error(junk):
    for load in (load_csv, load_json):
        try:
            load(junk)
        except ScheduleImportError as exc:
            assert exc.problems


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                               st.sampled_from(["start", "end", "mode", "rate_kw", "entries", "format", "x"]),
                               inner, max_size=5), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(document=JSON_VALUES)
def test_arbitrary_json_raises_only_the_typed_error(document):
    text = json.dumps(document)
    try:
        load_json(text)
    except ScheduleImportError:
        pass
    result = parse_json(text)
    assert not (result.entries and result.problems)


def test_offsets_are_converted_to_the_same_instant():
    text = "start,end,mode,rate_kw\n2026-11-23T15:30:00+05:30,2026-11-23T06:00:00-05:00,2,1\n"
    [entry] = load_csv(text)
    assert entry.start == datetime(2026, 11, 23, 10, tzinfo=timezone.utc)
    assert entry.end - entry.start == timedelta(hours=1)
