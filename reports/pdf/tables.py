"""Long tables that split across pages with the header row repeated, number formatting with units, and a
compact figures table for report summaries. Abnormal cells get colour and bold text; everything else is grey."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import LongTable, Paragraph, Table, TableStyle

from reports.pdf import theme
from reports.pdf.document import escape

Level = Literal["warn", "alarm"] | None
MISSING = "–"  # en dash (in the standard fonts' encoding), for a value that does not exist
_FONT_SIZE = 7.5
_PAD = 3


def format_number(value: float | int | None, decimals: int = 1, unit: str = "", thousands: bool = True) -> str:
    """'1,234.5 kWh'; None or NaN gives an en dash so a gap is never printed as zero."""
    if value is None or value != value:
        return MISSING
    text = f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # "-0.0" reads as a deviation that is not there
    return f"{text} {unit}" if unit else text


@dataclass(frozen=True)
class Column:
    """One table column: `key` into the row records, a title, the unit shown in the header, and layout."""

    key: str
    title: str
    width_mm: float
    unit: str = ""
    decimals: int | None = None  # set for numeric columns: right-aligned, formatted with thousands separators
    wrap: bool = False  # long text wraps inside the cell instead of being cut
    formatter: Callable[[Any], str] | None = None

    @property
    def header(self) -> str:
        return f"{self.title} ({self.unit})" if self.unit else self.title

    def text(self, value: Any) -> str:
        if self.formatter is not None:
            return self.formatter(value)
        if self.decimals is not None:
            return format_number(value, self.decimals)
        return MISSING if value is None else str(value)


def _fit(text: str, width: float, font: str) -> str:
    # Cut with an ellipsis rather than let text run into the next column; wrap=True columns never get here.
    if stringWidth(text, font, _FONT_SIZE) <= width:
        return text
    while text and stringWidth(text + "…", font, _FONT_SIZE) > width:
        text = text[:-1]
    return text + "…"


def data_table(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    level: Callable[[Mapping[str, Any], Column], Level] | None = None,
) -> LongTable:
    """A table of `rows` (records keyed by column key) that splits across pages, repeating its header row.

    `level(row, column)` marks a cell abnormal ("warn" amber, "alarm" red); abnormal text is also bold so the
    mark survives greyscale printing.
    """
    header_style = theme.CELL.clone("gr-cell-head", fontName=theme.FONT_BOLD)
    data: list[list[Any]] = [[Paragraph(escape(c.header), header_style) for c in columns]]
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), theme.FONT, _FONT_SIZE),
        ("TEXTCOLOR", (0, 0), (-1, -1), theme.TEXT),
        ("BACKGROUND", (0, 0), (-1, 0), theme.HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, theme.RULE),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, theme.GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
    ]
    for ci, col in enumerate(columns):
        if col.decimals is not None:
            commands.append(("ALIGN", (ci, 0), (ci, -1), "RIGHT"))
    if len(rows) > 1:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [None, theme.ZEBRA_FILL]))
    widths = [c.width_mm * mm for c in columns]
    bold_style = theme.CELL.clone("gr-cell-bold", fontName=theme.FONT_BOLD)
    for ri, row in enumerate(rows, start=1):
        cells: list[Any] = []
        for ci, col in enumerate(columns):
            mark = level(row, col) if level is not None else None
            text = col.text(row.get(col.key))
            font = theme.FONT_BOLD if mark else theme.FONT
            if col.wrap:
                cells.append(Paragraph(escape(text), bold_style if mark else theme.CELL))
            else:
                cells.append(_fit(text, widths[ci] - 2 * _PAD, font))
            if mark:
                fill = theme.ABNORMAL_ALARM_FILL if mark == "alarm" else theme.ABNORMAL_WARN_FILL
                commands += [("BACKGROUND", (ci, ri), (ci, ri), fill), ("FONT", (ci, ri), (ci, ri), font, _FONT_SIZE)]
        data.append(cells)
    table = LongTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


@dataclass(frozen=True)
class Figure:
    """One headline figure of a summary: label, formatted value, and whether it is abnormal."""

    label: str
    value: str
    level: Level = None
    note: str = ""


def figures_table(figures: Sequence[Figure], width: float) -> Table:
    """The summary block: label | value | note, abnormal values coloured."""
    label_w, value_w = 62 * mm, 40 * mm
    data = [[f.label, f.value, Paragraph(escape(f.note), theme.SMALL)] for f in figures]
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), theme.FONT, 8.5),
        ("FONT", (1, 0), (1, -1), theme.FONT_BOLD, 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), theme.TEXT),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, theme.GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for ri, f in enumerate(figures):
        if f.level:
            fill = theme.ABNORMAL_ALARM_FILL if f.level == "alarm" else theme.ABNORMAL_WARN_FILL
            commands.append(("BACKGROUND", (1, ri), (1, ri), fill))
    table = Table(data, colWidths=[label_w, value_w, max(width - label_w - value_w, 20 * mm)], hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table
