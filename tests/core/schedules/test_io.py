"""Import/export: formats, UTC conversion, every bad line with its number, all-or-nothing."""

from datetime import datetime, timedelta, timezone

import pytest

from core.schedules.errors import ScheduleImportError
from core.schedules.io import ScheduleExportError, load_csv, load_json, parse_csv, parse_json, to_csv, to_json
from core.schedules.model import Mode, ScheduleEntry
from tests.core.schedules.factories import at, entry

HEADER = "start,end,mode,rate_kw\n"


def test_csv_with_words_numbers_and_offsets_converted_to_utc():
    text = ("\ufeffRate_kW, start ,end,MODE\n"
            "100,2026-11-23T14:00:00Z,2026-11-23T15:00:00+00:00,charge\n"
            "\n"
            "75.5,2026-11-23T16:00:00+01:00,2026-11-23T15:30Z,1\n")
    assert load_csv(text) == (entry(14, 15, rate_kw=100), entry(15, 15.5, mode=Mode.DISCHARGE, rate_kw=75.5))
    assert all(e.start.tzinfo is timezone.utc for e in load_csv(text))


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_imported():
    text = (HEADER +
            "2026-11-23T12:00Z,2026-11-23T13:00Z,2,10\n"
            "2026-11-23T13:00Z,2026-11-23T14:00Z,idle,10\n"
            "2026-11-23T14:00,2026-11-23T15:00Z,2,10\n"
            "2026-11-23T15:00Z,2026-11-23T16:00Z,2\n"
            "2026-11-23T16:00Z,tomorrow,1,1_000\n")
    result = parse_csv(text)
    assert result.entries == () and not result.ok
    assert [str(p) for p in result.problems] == [
        "line 3: mode 'idle' is not 1 (discharge) or 2 (charge)",
        "line 4: start '2026-11-23T14:00' has no UTC offset",
        "line 5: expected 4 fields (start,end,mode,rate_kw), found 3",
        "line 6: end 'tomorrow' is not an ISO 8601 time",
        "line 6: rate_kw '1_000' is not a number",
    ]
    with pytest.raises(ScheduleImportError) as caught:
        load_csv(text, source="plan.csv")
    assert caught.value.problems == result.problems
    assert str(caught.value).startswith("plan.csv: 5 problem(s), nothing imported:")


@pytest.mark.parametrize(("header", "message"), [
    ("start,end\n", "line 1: missing column(s) mode, rate_kw; expected start,end,mode,rate_kw"),
    ("start,end,mode,rate_kw,note\n", "line 1: unknown column(s) 'note'"),
    ("start,end,mode,rate_kw,mode\n", "line 1: column(s) mode appear more than once"),
    ("", "the file is empty; expected a header start,end,mode,rate_kw"),
])
def test_header_problems_name_the_columns(header, message):
    assert message in [str(p) for p in parse_csv(header).problems]


def test_overlapping_imported_entries_are_rejected_by_validation_with_the_line():
    text = HEADER + "2026-11-23T12:00Z,2026-11-23T14:00Z,2,10\n\n2026-11-23T13:00Z,2026-11-23T15:00Z,1,10\n"
    [problem] = parse_csv(text).problems
    assert problem.line == 4
    assert str(problem) == ("line 4: entry 2 (2026-11-23 13:00-15:00 UTC) overlaps entry 1 (2026-11-23 12:00-14:00 UTC) "
                            "(rule: no_overlap)")


def test_out_of_range_offsets_and_infinite_rates_are_problems_not_crashes():
    text = HEADER + "0001-01-01T00:00:00+14:00,2026-11-23T15:00Z,2,1e400\n"
    assert [str(p) for p in parse_csv(text).problems] == [
        "line 2: start '0001-01-01T00:00:00+14:00' is outside the representable time range",
        "line 2: rate_kw '1e400' is not a finite number",
    ]


def test_json_import_checks_types_and_fields_per_entry():
    text = ('{"format": "gridroom-schedule", "entries": ['
            '{"start": "2026-11-23T14:00Z", "end": "2026-11-23T15:00+01:00", "mode": "discharge", "rate_kw": 5},'
            '{"start": "2026-11-23T15:00Z", "end": "2026-11-23T16:00Z", "mode": "2", "rate_kw": "5"},'
            '{"start": "2026-11-23T16:00Z", "mode": 2, "rate_kw": 5, "colour": "red"},'
            '7]}')
    assert [str(p) for p in parse_json(text).problems] == [
        "entry 2: mode '2' is not 1 (discharge) or 2 (charge)",
        "entry 2: rate_kw '5' is not a number",
        "entry 3: missing field(s) end",
        "entry 3: unknown field(s) 'colour'",
        "entry 4: must be an object with start, end, mode, rate_kw",
    ]
    mode_true = text.replace('"mode": "2"', '"mode": true')
    assert "entry 2: mode True is not 1 (discharge) or 2 (charge)" in [str(p) for p in parse_json(mode_true).problems]
    # The first entry alone parses; its end (+01:00) is converted to 14:00 UTC... which equals its start.
    [problem] = parse_json(text.split(",{")[0] + "]}").problems
    assert "equals its end" in str(problem)


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"), ('{"entries": [{"start": NaN}]}', "not valid JSON"),
    ('{"format": "other", "entries": []}', "format 'other' is not 'gridroom-schedule'"),
    ('{"format_version": 2, "entries": []}', "format_version 2 is not supported"),
    ('{"items": []}', "missing key 'entries'"), ('"x"', "'entries' must be a list"),
])
def test_json_document_problems(text, message):
    assert any(message in str(p) for p in parse_json(text).problems)
    with pytest.raises(ScheduleImportError):
        load_json(text)


def test_export_forms():
    entries = [entry(14, 15, rate_kw=100), ScheduleEntry(at(15), at(16) + timedelta(microseconds=7), 1, 0.1)]
    csv_text = to_csv(entries, mode_words=True)
    assert csv_text.splitlines() == ["start,end,mode,rate_kw", "2026-11-23T14:00:00Z,2026-11-23T15:00:00Z,charge,100.0",
                                     "2026-11-23T15:00:00Z,2026-11-23T16:00:00.000007Z,discharge,0.1"]
    assert load_csv(csv_text) == load_json(to_json(entries)) == tuple(entries)
    assert load_json("[]") == ()  # a bare list is accepted too


def test_export_refuses_what_it_cannot_write_faithfully():
    with pytest.raises(ScheduleExportError, match="entry 1: start 2026-11-23T14:00:00 has no time zone"):
        to_csv([ScheduleEntry(datetime(2026, 11, 23, 14), at(15), 2, 1.0)])
    with pytest.raises(ScheduleExportError, match="not a finite number"):
        to_json([entry(14, 15, rate_kw=float("nan"))])


def test_unreadable_csv_and_non_text_input_are_problems():
    huge = HEADER + "2026-11-23T14:00Z,2026-11-23T15:00Z,2," + "1" * 200_000 + "\n"
    [problem] = parse_csv(huge).problems
    assert (problem.line, problem.message.startswith("unreadable CSV")) == (2, True)
    assert str(parse_csv(b"start").problems[0]) == "expected text, got bytes"
    assert str(parse_json(None).problems[0]) == "expected text, got NoneType"
