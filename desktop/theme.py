"""A calm, ISA-101-style theme: grey surfaces and dark text; colour is reserved for abnormal states.

High-performance HMI practice (ISA-101, the ASM Consortium guidelines): a normal plant looks grey and
quiet, so that the one abnormal thing on screen is the one thing that catches the eye. GridRoom therefore
uses no decorative colour at all. The abnormal palette is defined here once and used everywhere:

- critical  red     (#c8102e): alarm priority 1, failed or refused actions, a broken audit chain
- warning   amber   (#e6a100): alarm priority 2, locked accounts, degraded services (e.g. no keyring)
- info      blue    (#2f6fa8): alarm priority 3 / advisory, deliberately cooler than the two above
- offline   magenta (#a0309f): lost communication or stale data; magenta is the usual HMI colour for
                               "value cannot be trusted", distinct from every process-alarm colour
Each colour has a text colour chosen for contrast when it is used as a background.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

# Normal-state greys.
WINDOW = "#d4d4d4"  # window background and toolbars
PANEL = "#e6e6e6"  # tables, cards, input fields
PANEL_ALT = "#dcdcdc"  # alternate table rows
TEXT = "#1f1f1f"
TEXT_MUTED = "#555555"
BORDER = "#a6a6a6"
SELECTION = "#b4b4b4"  # selection stays grey: selecting a row is not an abnormal state
DISABLED_TEXT = "#8c8c8c"


class Abnormal(enum.Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"
    OFFLINE = "offline"


@dataclass(frozen=True)
class AbnormalColour:
    background: str
    text: str  # readable on `background`
    ink: str  # the colour used as text on a grey panel


ABNORMAL: dict[Abnormal, AbnormalColour] = {
    Abnormal.CRITICAL: AbnormalColour("#c8102e", "#ffffff", "#a50d25"),
    Abnormal.WARNING: AbnormalColour("#e6a100", "#1f1f1f", "#8a5a00"),
    Abnormal.INFO: AbnormalColour("#2f6fa8", "#ffffff", "#245b8c"),
    Abnormal.OFFLINE: AbnormalColour("#a0309f", "#ffffff", "#86287f"),
}


def abnormal(kind: Abnormal) -> AbnormalColour:
    return ABNORMAL[kind]


def qcolor(hex_colour: str) -> QColor:
    return QColor(hex_colour)


STYLESHEET = f"""
QMainWindow, QDialog {{ background: {WINDOW}; }}
QToolBar {{ background: {WINDOW}; border: none; border-bottom: 1px solid {BORDER}; spacing: 4px; padding: 2px; }}
QDockWidget::title {{ background: {WINDOW}; padding: 4px 6px; }}
QTabBar::tab {{ background: {WINDOW}; border: 1px solid {BORDER}; border-bottom: none; padding: 4px 14px; min-width: 80px; }}
QTabBar::tab:selected {{ background: {PANEL}; font-weight: bold; }}
QTableView {{ background: {PANEL}; alternate-background-color: {PANEL_ALT}; gridline-color: {BORDER};
              selection-background-color: {SELECTION}; selection-color: {TEXT}; border: 1px solid {BORDER}; }}
QHeaderView::section {{ background: {WINDOW}; color: {TEXT}; border: none; border-right: 1px solid {BORDER};
                        border-bottom: 1px solid {BORDER}; padding: 3px 6px; font-weight: bold; }}
QFrame#card {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 2px; }}
QLabel#cardTitle {{ font-weight: bold; color: {TEXT}; }}
QLabel#muted {{ color: {TEXT_MUTED}; }}
QLabel#viewTitle {{ font-size: 15px; font-weight: bold; }}
QStatusBar {{ background: {WINDOW}; border-top: 1px solid {BORDER}; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QPushButton, QToolButton {{ padding: 3px 10px; }}
"""


def build_palette() -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: PANEL,
        QPalette.ColorRole.AlternateBase: PANEL_ALT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: WINDOW,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: SELECTION,
        QPalette.ColorRole.HighlightedText: TEXT,
        QPalette.ColorRole.ToolTipBase: PANEL,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: TEXT_MUTED,
        QPalette.ColorRole.Link: TEXT,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    return pal


def apply_theme(app: QApplication) -> None:
    """Fusion style (identical on every platform), the grey palette and the small stylesheet."""
    app.setStyle("Fusion")
    app.setPalette(build_palette())
    font = QFont(app.font())
    font.setPointSize(max(font.pointSize(), 10))
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
