"""ENTSO-E A44 import: two periods of different resolution, curve A03 repeats, hostile XML refused."""

from datetime import datetime, timedelta, timezone

import pytest

from core.market.entsoe_xml import import_entsoe_prices, parse_entsoe_prices
from core.market.errors import TimeSeriesImportError

UTC = timezone.utc


def test_two_periods_joined_at_finest_resolution(fixtures):
    series = import_entsoe_prices(fixtures / "entsoe_a44_two_periods.xml")
    assert series.step == timedelta(minutes=15) and series.unit == "EUR/MWh"
    assert len(series) == 23 * 4 + 96  # the DST day has 23 hours
    assert series.first_start == datetime(2024, 3, 30, 23, tzinfo=UTC)
    assert series.value_at(datetime(2024, 3, 30, 23, 45, tzinfo=UTC)) == 78.21
    assert any("PT60M" in n and "repeated to" in n for n in series.notes)


def test_missing_position_repeats_previous_under_a03_and_is_noted(fixtures):
    series = import_entsoe_prices(fixtures / "entsoe_a44_two_periods.xml")
    assert series.value_at(datetime(2024, 3, 31, 3, tzinfo=UTC)) == 66.02  # position 5 missing
    assert series.value_at(datetime(2024, 3, 31, 4, tzinfo=UTC)) == 64.5
    assert any("position 5" in n and "curve A03" in n for n in series.notes)


def _doc(period: str, prefix: str = "", curve: str = "A03", unit: str = "MWH") -> str:
    p = f"{prefix}:" if prefix else ""
    ns = f"xmlns:{prefix}" if prefix else "xmlns"
    return f"""<?xml version="1.0"?>
<{p}Publication_MarketDocument {ns}="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:0">
<{p}type>A44</{p}type>
<{p}TimeSeries><{p}currency_Unit.name>EUR</{p}currency_Unit.name>
<{p}price_Measure_Unit.name>{unit}</{p}price_Measure_Unit.name><{p}curveType>{curve}</{p}curveType>
{period.replace("<", "<" + p).replace("<" + p + "/", "</" + p)}
</{p}TimeSeries></{p}Publication_MarketDocument>"""


PERIOD = ("<Period><timeInterval><start>2024-01-01T00:00Z</start><end>2024-01-01T03:00Z</end></timeInterval>"
          "<resolution>PT60M</resolution>{points}</Period>")


def _points(*pairs):
    return "".join(f"<Point><position>{p}</position><price.amount>{v}</price.amount></Point>" for p, v in pairs)


def test_prefix_does_not_matter_only_the_namespace_uri():
    plain = parse_entsoe_prices(_doc(PERIOD.format(points=_points((1, 5), (2, 6), (3, 7)))))
    prefixed = parse_entsoe_prices(_doc(PERIOD.format(points=_points((1, 5), (2, 6), (3, 7))), prefix="pub"))
    assert plain.values.tolist() == prefixed.values.tolist() == [5.0, 6.0, 7.0]


def test_trailing_missing_positions_repeat_under_a03():
    series = parse_entsoe_prices(_doc(PERIOD.format(points=_points((1, 5)))))
    assert series.values.tolist() == [5.0, 5.0, 5.0] and len(series.notes) == 2


def test_missing_position_under_a01_is_a_gap():
    with pytest.raises(TimeSeriesImportError) as info:
        parse_entsoe_prices(_doc(PERIOD.format(points=_points((1, 5), (3, 7))), curve="A01"))
    assert info.value.rule == "no gaps"


def test_doctype_and_entities_refused():
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            "<Publication_MarketDocument>&lol2;</Publication_MarketDocument>")
    with pytest.raises(TimeSeriesImportError) as info:
        parse_entsoe_prices(bomb)
    assert info.value.rule == "no DOCTYPE or entities" and info.value.line == 1


def test_wrong_document_and_unknown_unit_and_bad_number_are_typed():
    with pytest.raises(TimeSeriesImportError, match="Publication_MarketDocument"):
        parse_entsoe_prices('<Acknowledgement_MarketDocument xmlns="urn:x"/>')
    with pytest.raises(TimeSeriesImportError, match="USD|MW") as info:
        parse_entsoe_prices(_doc(PERIOD.format(points=_points((1, 5))), unit="GJ"))
    assert info.value.rule == "known units"
    with pytest.raises(TimeSeriesImportError) as info:
        parse_entsoe_prices(_doc(PERIOD.format(points=_points((1, "abc")))))
    assert info.value.rule == "numeric values" and info.value.line is not None
    with pytest.raises(TimeSeriesImportError) as info:
        parse_entsoe_prices("<Publication_MarketDocument><unclosed>")
    assert info.value.rule == "well-formed XML"
