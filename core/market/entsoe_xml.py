"""Import ENTSO-E day-ahead prices (Publication_MarketDocument, document type A44) from XML.

Elements are matched by namespace URI and local name, never by prefix. DOCTYPE and entity declarations
are refused before anything is expanded (the defusedxml rules), so a hostile file cannot blow up memory
or reach the network.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from core.market.assembly import GapPolicy, Point, assemble
from core.market.errors import TimeSeriesImportError, note
from core.market.series import ResampleRule, TimeSeries
from core.market.units import convert

NAMESPACE_PREFIX = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:"
_RESOLUTIONS = {"PT15M": timedelta(minutes=15), "PT30M": timedelta(minutes=30), "PT60M": timedelta(hours=1),
                "PT1H": timedelta(hours=1)}
_CURRENCY_UNITS = {("EUR", "MWH"): "EUR/MWh", ("EUR", "KWH"): "EUR/kWh"}
MAX_XML_BYTES = 50 * 1024 * 1024


@dataclass
class _Node:
    uri: str
    local: str
    line: int
    children: list["_Node"] = field(default_factory=list)
    text: str = ""

    def find(self, local: str) -> "_Node | None":
        # Children share the document's namespace; match on it, not on whatever prefix the file used.
        return next((c for c in self.children if c.local == local and c.uri == self.uri), None)

    def find_all(self, local: str) -> list["_Node"]:
        return [c for c in self.children if c.local == local and c.uri == self.uri]


def _parse_tree(raw: bytes, source: str) -> _Node:
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[_Node] = []
    root: list[_Node] = []

    def refuse(what: str):
        def handler(*_args):
            raise TimeSeriesImportError(source, parser.CurrentLineNumber, "no DOCTYPE or entities",
                                        f"{what} refused: ENTSO-E documents never need one and it can be an attack")
        return handler

    def start(name: str, _attrs) -> None:
        uri, _, local = name.rpartition(" ")
        node = _Node(uri, local, parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartDoctypeDeclHandler = refuse("DOCTYPE")
    parser.EntityDeclHandler = refuse("entity declaration")
    parser.ExternalEntityRefHandler = refuse("external entity")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(raw, True)
    except xml.parsers.expat.ExpatError as exc:
        raise TimeSeriesImportError(source, exc.lineno, "well-formed XML", xml.parsers.expat.errors.messages[exc.code]
                                    if exc.code in xml.parsers.expat.errors.messages else str(exc)) from exc
    return root[0]


def import_entsoe_prices(path: Path | str, *, step: timedelta | None = None, gaps: GapPolicy = GapPolicy(),
                         output_unit: str = "EUR/MWh") -> TimeSeries:
    """Import exactly the XML file at `path`. See parse_entsoe_prices."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_XML_BYTES:
            raise TimeSeriesImportError(str(path), None, "file size", f"more than {MAX_XML_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise TimeSeriesImportError(str(path), None, "readable file", f"cannot read file: {exc}") from exc
    return parse_entsoe_prices(raw, source=str(path), step=step, gaps=gaps, output_unit=output_unit)


def parse_entsoe_prices(raw: bytes | str, *, source: str = "<xml>", step: timedelta | None = None,
                        gaps: GapPolicy = GapPolicy(), output_unit: str = "EUR/MWh") -> TimeSeries:
    """Parse an A44 Publication_MarketDocument into one price series.

    Every TimeSeries/Period is read: timeInterval start, resolution (PT15M, PT30M, PT60M), Points by
    position. Curve type A03 lists a point only where the price changes: a missing position repeats the
    previous price (noted). Curve A01 needs every position: a missing one is a gap under `gaps`.
    Periods of different resolutions are brought to the finest one (or `step`) by repeating each price
    over its interval (noted). Overlapping periods follow the duplicate rules of the CSV import.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if re.search(rb"<!(DOCTYPE|ENTITY)", raw, re.IGNORECASE):
        line = raw[: re.search(rb"<!(DOCTYPE|ENTITY)", raw, re.IGNORECASE).start()].count(b"\n") + 1
        raise TimeSeriesImportError(source, line, "no DOCTYPE or entities",
                                    "DOCTYPE/ENTITY refused: ENTSO-E documents never need one and it can be an attack")
    root = _parse_tree(raw, source)
    if root.local != "Publication_MarketDocument" or not root.uri.startswith(NAMESPACE_PREFIX):
        reason = ""
        if root.local == "Acknowledgement_MarketDocument":
            texts = [n.text.strip() for r in root.find_all("Reason") for n in r.children if n.local == "text"]
            reason = f" ({'; '.join(texts)})" if texts else ""
        raise TimeSeriesImportError(source, root.line, "A44 publication document",
                                    f"root is {{{root.uri}}}{root.local}, not a Publication_MarketDocument{reason}")
    doc_type = _text(root, "type", source)
    if doc_type != "A44":
        raise TimeSeriesImportError(source, root.find("type").line, "document type A44",
                                    f"document type {doc_type!r} is not A44 (day-ahead prices)")
    notes: list[str] = []
    periods: list[tuple[timedelta, list[Point], str]] = []
    units: set[str] = set()
    for series in root.find_all("TimeSeries"):
        units.add(_series_unit(series, source))
        curve = series.find("curveType").text.strip() if series.find("curveType") is not None else "A01"
        for period in series.find_all("Period"):
            periods.append(_read_period(period, curve, source, notes))
    if not periods:
        raise TimeSeriesImportError(source, root.line, "at least one Period", "the document holds no price periods")
    if len(units) != 1:
        raise TimeSeriesImportError(source, root.line, "one unit", f"time series use different units {sorted(units)}")
    target = step or min(p[0] for p in periods)
    points: list[Point] = []
    for resolution, period_points, where in periods:
        points.extend(_to_step(period_points, resolution, target, where, source, notes))
    unit = units.pop()
    series = assemble(points, name="day-ahead price", unit=unit, source=source, step=target, gaps=gaps, notes=notes)
    if unit != output_unit:
        values = convert(series.values, unit, output_unit)
        series = TimeSeries(series.name, output_unit, series.step, series.start_utc, values,
                            series.notes + (note(None, f"converted {unit} to {output_unit}", "output unit"),))
    return series


def _text(node: _Node, local: str, source: str) -> str:
    child = node.find(local)
    if child is None:
        raise TimeSeriesImportError(source, node.line, "schema", f"<{node.local}> lacks <{local}>")
    return child.text.strip()


def _series_unit(series: _Node, source: str) -> str:
    currency = _text(series, "currency_Unit.name", source).upper()
    measure = _text(series, "price_Measure_Unit.name", source).upper()
    unit = _CURRENCY_UNITS.get((currency, measure))
    if unit is None:
        raise TimeSeriesImportError(source, series.find("currency_Unit.name").line, "known units",
                                    f"unknown unit {currency}/{measure}; known: {', '.join(_CURRENCY_UNITS.values())}")
    return unit


def _parse_instant(text: str, line: int, source: str) -> datetime:
    # ENTSO-E writes 'yyyy-mm-ddThh:mmZ' (no seconds); fromisoformat reads both forms.
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimeSeriesImportError(source, line, "ISO 8601 UTC instants", f"{text.strip()!r} is not a time") from None
    if value.tzinfo is None:
        raise TimeSeriesImportError(source, line, "ISO 8601 UTC instants", f"{text.strip()!r} has no 'Z' or offset")
    return value.astimezone(timezone.utc)


def _read_period(period: _Node, curve: str, source: str, notes: list[str]) -> tuple[timedelta, list[Point], str]:
    interval = period.find("timeInterval")
    if interval is None:
        raise TimeSeriesImportError(source, period.line, "schema", "<Period> lacks <timeInterval>")
    start = _parse_instant(_text(interval, "start", source), interval.line, source)
    end = _parse_instant(_text(interval, "end", source), interval.line, source)
    resolution_text = _text(period, "resolution", source)
    resolution = _RESOLUTIONS.get(resolution_text)
    if resolution is None:
        raise TimeSeriesImportError(source, period.find("resolution").line, "known resolutions",
                                    f"resolution {resolution_text!r}; known: {', '.join(_RESOLUTIONS)}")
    count = int((end - start) / resolution)
    if end <= start or start + count * resolution != end:
        raise TimeSeriesImportError(source, interval.line, "whole intervals",
                                    f"{start:%Y-%m-%dT%H:%MZ}..{end:%Y-%m-%dT%H:%MZ} is not a whole number of {resolution_text}")
    by_position: dict[int, tuple[float, int]] = {}
    for point in period.find_all("Point"):
        position_text = _text(point, "position", source)
        price_text = _text(point, "price.amount", source)
        try:
            position, price = int(position_text), float(price_text)
        except ValueError:
            raise TimeSeriesImportError(source, point.line, "numeric values",
                                        f"position {position_text[:20]!r} / price {price_text[:20]!r}") from None
        if not 1 <= position <= count or not np.isfinite(price):
            raise TimeSeriesImportError(source, point.line, "position within period",
                                        f"position {position} outside 1..{count} or price not finite")
        if position in by_position:
            raise TimeSeriesImportError(source, point.line, "unique positions",
                                        f"position {position} also on line {by_position[position][1]}")
        by_position[position] = (price, point.line)
    points: list[Point] = []
    previous: tuple[float, int] | None = None
    for position in range(1, count + 1):
        when = start + (position - 1) * resolution
        if position in by_position:
            previous = by_position[position]
            points.append(Point(previous[1], when, previous[0]))
        elif curve == "A03" and previous is not None:
            points.append(Point(previous[1], when, previous[0]))
            notes.append(note(previous[1], f"position {position} ({when:%Y-%m-%dT%H:%MZ}) missing: "
                                           f"price {previous[0]:g} repeated", "curve A03 repeats the previous price"))
        elif curve == "A03":
            raise TimeSeriesImportError(source, period.line, "curve A03 starts at position 1",
                                        "position 1 is missing, so there is no price to repeat")
        # Curve A01: a missing position stays absent and becomes a gap for the gap policy.
    return resolution, points, f"period at line {period.line} ({resolution_text})"


def _to_step(points: list[Point], resolution: timedelta, target: timedelta, where: str, source: str,
             notes: list[str]) -> list[Point]:
    if resolution == target:
        return points
    if resolution < target or resolution % target:
        raise TimeSeriesImportError(source, points[0].line if points else None, "one resolution",
                                    f"{where} cannot be brought to {target}")
    factor = resolution // target
    notes.append(note(None, f"{where} repeated to {target}", f"prices hold for their whole interval ({ResampleRule.REPEAT.value})"))
    return [Point(p.line, p.start + k * target, p.value) for p in points for k in range(factor)]
