"""The admin's scheduled reports: a list of the stored schedules with Add and Remove, and the editor for a new
one. The dialogs hold no rules: what a valid schedule is lives in core.reporting (ReportSchedule checks each
field and names it), and the caller stores it through ReportScheduleStore, as `gridroom report schedule` does.

Both dialogs stay open while core answers: a refusal is shown in `message` and nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from core.reporting import ReportSchedule
from core.reporting.schedule import FORMATS, Cadence
from desktop.widgets.message_area import MessageArea

LIST_COLUMNS = ("Name", "Report", "Every", "Formats", "Folder", "E-mail to", "Runs as")


def split_recipients(text: str) -> tuple[str, ...]:
    """'a@x.org, b@y.org; c@z.org' -> the addresses (commas, semicolons or spaces between them)."""
    return tuple(part for part in text.replace(";", ",").replace(" ", ",").split(",") if part)


class ReportScheduleEditor(QDialog):
    """A new report schedule. `add_requested` asks the caller to store `schedule()`."""

    add_requested = Signal()

    def __init__(self, reports: Sequence[tuple[str, str]], run_as: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_as = run_as
        self.setWindowTitle("New scheduled report")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("ops-daily (lower-case letters, digits, - and _)")
        self.report = QComboBox()
        for name, title in reports:
            self.report.addItem(f"{title} ({name})", name)
        self.cadence = QComboBox()
        self.cadence.addItem("Daily (yesterday, after midnight)", Cadence.DAILY.value)
        self.cadence.addItem("Weekly (last ISO week, on Mondays)", Cadence.WEEKLY.value)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("an absolute folder path")
        self.choose_folder = QPushButton("Choose…")
        self.choose_folder.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.choose_folder)
        self.formats = {fmt: QCheckBox(fmt.upper()) for fmt in FORMATS}
        self.formats["pdf"].setChecked(True)
        formats_row = QHBoxLayout()
        for box in self.formats.values():
            formats_row.addWidget(box)
        formats_row.addStretch(1)
        self.recipients = QLineEdit()
        self.recipients.setPlaceholderText("ops@example.org, lead@example.org (empty: files only)")
        self.zone = QLineEdit("UTC")
        self.zone.setPlaceholderText("Europe/Berlin")
        form.addRow("Name", self.name)
        form.addRow("Report", self.report)
        form.addRow("Every", self.cadence)
        form.addRow("Folder", folder_row)
        form.addRow("Formats", formats_row)
        form.addRow("E-mail to", self.recipients)
        form.addRow("Time zone", self.zone)
        layout.addLayout(form)
        note = QLabel(f"The report runs with {run_as}'s permissions. E-mail goes through the notification "
                      "e-mail channel (File > Notification channels).")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.message = MessageArea()
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton("Add schedule", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setDefault(True)
        self.buttons.accepted.connect(self.add_requested.emit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.folder_dialog: QFileDialog | None = None

    def _choose_folder(self) -> None:
        # open(), never exec(): a nested loop would stall the qasync loop (desktop/tasks.py).
        dialog = QFileDialog(self, "Folder for the report files", self.folder.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder.setText)
        self.folder_dialog = dialog
        dialog.open()

    def schedule(self) -> ReportSchedule:
        """The schedule as typed; ReportScheduleError names the first wrong field."""
        return ReportSchedule(
            name=self.name.text().strip(), report=self.report.currentData(), cadence=self.cadence.currentData(),
            folder=self.folder.text().strip(), run_as=self.run_as,
            formats=tuple(fmt for fmt, box in self.formats.items() if box.isChecked()),
            recipients=split_recipients(self.recipients.text()), zone=self.zone.text().strip() or "UTC")


class ReportSchedulesDialog(QDialog):
    """The stored schedules. `add_requested` / `remove_requested(name)` ask the caller to change them."""

    add_requested = Signal()
    remove_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scheduled reports")
        self.resize(900, 360)
        layout = QVBoxLayout(self)
        intro = QLabel("Reports made after each day or week ends, written to a folder and optionally e-mailed.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(list(LIST_COLUMNS))
        self.table.setAlternatingRowColors(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        self.message = MessageArea()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        self.add_button.clicked.connect(self.add_requested.emit)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.selected_name() or ""))
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

    def show_schedules(self, schedules: Sequence[ReportSchedule]) -> None:
        self.table.clear()
        for s in schedules:
            item = QTreeWidgetItem([s.name, s.report, s.cadence.value, ",".join(s.formats), s.folder,
                                    ", ".join(s.recipients) or "—", s.run_as])
            self.table.addTopLevelItem(item)
        for column in range(len(LIST_COLUMNS)):
            self.table.resizeColumnToContents(column)
        self._selection_changed()

    def names(self) -> list[str]:
        return [self.table.topLevelItem(i).text(0) for i in range(self.table.topLevelItemCount())]

    def select(self, name: str) -> None:
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            item.setSelected(item.text(0) == name)

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].text(0) if items else None

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self.selected_name() is not None)
