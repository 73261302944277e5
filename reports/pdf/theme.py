"""The report look: a calm grey ISA-101 palette where colour is kept for abnormal values, and the text styles.

Colours are always written with six hex digits: reportlab reads "#eef" as 0x000eef (blue), not #eeeeff.
"""

from __future__ import annotations

from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle

TEXT = HexColor("#333333")
TEXT_MUTED = HexColor("#6b6b6b")
RULE = HexColor("#9e9e9e")
GRID = HexColor("#c8c8c8")
HEADER_FILL = HexColor("#e4e4e4")
ZEBRA_FILL = HexColor("#f5f5f5")
PANEL_FILL = HexColor("#f0f0f0")

# Data series in charts stay neutral; two shades so two series can be told apart in greyscale print too.
SERIES = (HexColor("#5a6470"), HexColor("#a3acb6"), HexColor("#2f3a44"))

# Abnormal values only (ISA-101): amber for "look at this", red for "act on this".
ABNORMAL_WARN_FILL = HexColor("#fbe3a7")
ABNORMAL_ALARM_FILL = HexColor("#f4b6b0")
ABNORMAL_WARN = HexColor("#c98a00")
ABNORMAL_ALARM = HexColor("#b3261e")

FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"

TITLE = ParagraphStyle("gr-title", fontName=FONT_BOLD, fontSize=16, leading=20, textColor=TEXT, spaceAfter=4)
HEADING = ParagraphStyle(
    "gr-heading", fontName=FONT_BOLD, fontSize=11.5, leading=15, textColor=TEXT, spaceBefore=10, spaceAfter=4
)
SUBHEADING = ParagraphStyle(
    "gr-subheading", fontName=FONT_BOLD, fontSize=9, leading=12, textColor=TEXT, spaceBefore=6, spaceAfter=2
)
BODY = ParagraphStyle("gr-body", fontName=FONT, fontSize=9, leading=12, textColor=TEXT, alignment=TA_LEFT)
SMALL = ParagraphStyle("gr-small", parent=BODY, fontSize=8, leading=10, textColor=TEXT_MUTED)
CELL = ParagraphStyle("gr-cell", fontName=FONT, fontSize=7.5, leading=9, textColor=TEXT)
EMPTY = ParagraphStyle(
    "gr-empty", fontName=FONT_BOLD, fontSize=11, leading=15, textColor=TEXT_MUTED, spaceBefore=16, spaceAfter=16
)
