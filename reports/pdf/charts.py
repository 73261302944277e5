"""Vector charts drawn with reportlab's own graphics (no Qt, no matplotlib): bar and line charts in a Drawing.

Series are grey; a bar is coloured only when the caller marks it abnormal (ISA-101).
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import LineLegend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.pdf import theme

_TITLE_H = 14
_AXIS_FONT = 7


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 x 10^n) so tick labels read cleanly."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _thin_labels(labels: Sequence[str], max_labels: int) -> list[str]:
    # Too many category labels overlap; keep every k-th one so the axis stays readable.
    k = max(1, -(-len(labels) // max_labels))
    return [label if i % k == 0 else "" for i, label in enumerate(labels)]


def _frame(width: float, height: float, title: str, value_label: str) -> Drawing:
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName=theme.FONT_BOLD, fontSize=9, fillColor=theme.TEXT))
    if value_label:
        drawing.add(String(0, height - 21, value_label, fontName=theme.FONT, fontSize=_AXIS_FONT,
                           fillColor=theme.TEXT_MUTED))
    return drawing


def _style_axes(chart, value_max: float, value_format: str) -> None:
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = value_max
    chart.valueAxis.valueStep = value_max / 5
    chart.valueAxis.labels.fontName = theme.FONT
    chart.valueAxis.labels.fontSize = _AXIS_FONT
    chart.valueAxis.labelTextFormat = value_format
    chart.valueAxis.strokeColor = theme.RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = theme.GRID
    chart.valueAxis.gridStrokeWidth = 0.3
    chart.categoryAxis.labels.fontName = theme.FONT
    chart.categoryAxis.labels.fontSize = _AXIS_FONT
    chart.categoryAxis.labels.fillColor = theme.TEXT
    chart.categoryAxis.strokeColor = theme.RULE


def bar_chart(
    categories: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    value_label: str = "",
    highlight: Sequence[bool] | None = None,
    horizontal: bool = False,
    width_mm: float = 180,
    height_mm: float = 62,
    value_format: str = "%.0f",
    max_labels: int = 24,
) -> Drawing:
    """One series of bars (vertical, or horizontal for long category names such as alarm ids).

    `highlight[i]` colours bar i amber: an abnormal bin such as low state of health.
    """
    width, height = width_mm * mm, height_mm * mm
    drawing = _frame(width, height, title, value_label)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    label_room = max((len(c) for c in categories), default=4) * 3.6 + 6 if horizontal else 0
    chart.x = 34 + label_room
    chart.y = 22 if not horizontal else 16
    chart.width = width - chart.x - 8
    chart.height = height - chart.y - _TITLE_H - 14
    data = [float(v) for v in values] or [0.0]
    chart.data = [data]
    _style_axes(chart, _nice_max(max(data)), value_format)
    chart.categoryAxis.categoryNames = list(categories) if horizontal else _thin_labels(categories, max_labels)
    if horizontal:
        # Top entry first, as a ranked list reads.
        chart.categoryAxis.reverseDirection = True
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -3
    else:
        slot = chart.width / max(len(categories), 1)
        widest = max((stringWidth(c, theme.FONT, _AXIS_FONT) for c in categories), default=0.0)
        if widest > 0.9 * slot:
            # Slanted labels when upright ones would run into each other; the plot gives up height for them.
            rise = min(widest * 0.5, 40)
            chart.y += rise
            chart.height -= rise
            chart.categoryAxis.labels.angle = 30
            chart.categoryAxis.labels.boxAnchor = "ne"
            chart.categoryAxis.labels.dy = -2
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = theme.SERIES[0]
    chart.barSpacing = 1
    chart.groupSpacing = 4
    for i, marked in enumerate(highlight or ()):
        if marked:
            chart.bars[(0, i)].fillColor = theme.ABNORMAL_WARN
    drawing.add(chart)
    return drawing


def line_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    value_label: str = "",
    width_mm: float = 180,
    height_mm: float = 65,
    value_format: str = "%.0f",
    max_labels: int = 12,
) -> Drawing:
    """Named series over the same categories (e.g. days), with a legend; grey shades, markers on points."""
    width, height = width_mm * mm, height_mm * mm
    drawing = _frame(width, height, title, value_label)
    chart = HorizontalLineChart()
    chart.x, chart.y = 40, 22
    chart.width = width - chart.x - 8
    chart.height = height - chart.y - _TITLE_H - 14
    chart.data = [[float(v) for v in values] for _, values in series] or [[0.0]]
    peak = max((v for row in chart.data for v in row), default=0.0)
    _style_axes(chart, _nice_max(peak), value_format)
    chart.categoryAxis.categoryNames = _thin_labels(categories, max_labels)
    chart.joinedLines = 1
    for i in range(len(chart.data)):
        chart.lines[i].strokeColor = theme.SERIES[i % len(theme.SERIES)]
        chart.lines[i].strokeWidth = 1.4
        if i == 1:
            chart.lines[i].strokeDashArray = (3, 2)  # tells the series apart in greyscale print
    drawing.add(chart)
    legend = LineLegend()
    legend.x, legend.y = width - 8, height - 4
    legend.alignment = "right"
    legend.boxAnchor = "ne"
    legend.columnMaximum = 1
    legend.deltax = 70
    legend.dx, legend.dy = 16, 2  # short line swatches, as the series are lines
    legend.fontName, legend.fontSize = theme.FONT, _AXIS_FONT
    legend.colorNamePairs = [(theme.SERIES[i % len(theme.SERIES)], name) for i, (name, _) in enumerate(series)]
    drawing.add(legend)
    return drawing
