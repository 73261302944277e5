"""The device form: register a new device or edit one. The registry validates; the form shows each problem
next to its field and stays open with the user's input until the registry accepts it."""

from __future__ import annotations

from typing import Awaitable, Callable, Sequence

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QGridLayout, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from core.devices import KINDS, DeviceInfo, DeviceSpec, DeviceValidationError, FieldProblem
from core.errors import GridRoomError
from desktop.tasks import UiTasks
from desktop.theme import Abnormal, abnormal
from desktop.widgets.message_area import MessageArea

# (DeviceSpec field, label, placeholder). Each gets an editor and an error line under it.
TEXT_FIELDS = (
    ("device_id", "Device ID", "e.g. bess-0042 (letters, digits, _ - .)"),
    ("name", "Name", "e.g. Maasvlakte unit 42"),
    ("location", "Location", "optional: street, building, room"),
    ("latitude", "Latitude", "optional, degrees (-90..90)"),
    ("longitude", "Longitude", "optional, degrees (-180..180)"),
    ("capacity_kwh", "Capacity (kWh)", "usable energy, e.g. 200"),
    ("max_charge_kw", "Max charge (kW)", "e.g. 100"),
    ("max_discharge_kw", "Max discharge (kW)", "e.g. 100"),
    ("address", "Address (URL)", "mqtt://broker:8883/<device id>, modbus+tcp://host:502/1 or sim://profile"),
    ("packs", "Packs", "battery systems only: number of packs"),
    ("cells_per_pack", "Cells per pack", "battery systems only"),
)
FLOAT_FIELDS = {"latitude", "longitude", "capacity_kwh", "max_charge_kw", "max_discharge_kw"}
INT_FIELDS = {"packs", "cells_per_pack"}
OPTIONAL_FIELDS = {"latitude", "longitude", "packs", "cells_per_pack"}
LAYOUT_FIELDS = ("packs", "cells_per_pack")
ORDER = ("device_id", "name", "site_id", "kind", "location", "latitude", "longitude", "capacity_kwh",
         "max_charge_kw", "max_discharge_kw", "address", "packs", "cells_per_pack")
KIND_LABELS = {"bess": "BESS (one battery, no cell data)", "battery_system": "Battery system (packs and cells)"}

SaveFn = Callable[[DeviceSpec], Awaitable[DeviceInfo]]


def _parsed(field: str, text: str) -> object:
    """The typed value when the text reads as one; otherwise the text itself, so the registry's message
    names what was typed. Empty optional fields are None."""
    text = text.strip()
    if not text and field in OPTIONAL_FIELDS:
        return None
    try:
        if field in FLOAT_FIELDS:
            return float(text)
        if field in INT_FIELDS:
            return int(text)
    except ValueError:
        return text
    return text


def _number_text(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


class DeviceDialog(QDialog):
    """`save` stores the spec (register or update) and returns the stored device, or raises.
    On DeviceValidationError every problem is shown at its field; on success the dialog accepts."""

    def __init__(self, sites: Sequence[tuple[int, str]], save: SaveFn, existing: DeviceInfo | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._save = save
        self.saved: DeviceInfo | None = None
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        editing = existing is not None
        self.setWindowTitle(f"Edit device {existing.device_id}" if existing else "Register device")
        self.setMinimumWidth(560)

        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        for field, _label, placeholder in TEXT_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(field)
            edit.setPlaceholderText(placeholder)
            self.editors[field] = edit
        self.site = QComboBox()
        self.site.setObjectName("site_id")
        for site_id, name in sites:
            self.site.addItem(name, site_id)
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        for kind in KINDS:
            self.kind.addItem(KIND_LABELS.get(kind, kind), kind)
        self.kind.currentIndexChanged.connect(self._update_layout_fields)
        self.editors["site_id"] = self.site
        self.editors["kind"] = self.kind

        labels = {field: label for field, label, _ in TEXT_FIELDS} | {"site_id": "Site", "kind": "Kind"}
        # A grid, not a QFormLayout: a wrapped error message under its field then gets its full height.
        form = QGridLayout()
        form.setColumnStretch(1, 1)
        form.setVerticalSpacing(4)
        for row, field in enumerate(ORDER):
            error = QLabel()
            error.setObjectName(f"error_{field}")
            error.setWordWrap(True)
            error.setStyleSheet(f"color: {abnormal(Abnormal.CRITICAL).ink};")
            error.hide()
            self.errors[field] = error
            form.addWidget(QLabel(labels[field]), 2 * row, 0)
            form.addWidget(self.editors[field], 2 * row, 1)
            form.addWidget(error, 2 * row + 1, 1)

        self.message = MessageArea()
        intro = QLabel("The device ID names the device in MQTT topics, access rules and its certificate; "
                       "it cannot be changed later." if not editing else
                       "The device ID cannot be changed. Changes are checked as a whole and audited.")
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.addButton("Save changes" if editing else "Register device",
                                           QDialogButtonBox.ButtonRole.ActionRole)
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(lambda: self.tasks.start(self.submit()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        if existing is not None:
            self._fill(existing)
            self.editors["device_id"].setReadOnly(True)
        self._update_layout_fields()

    # -- the form's content ----------------------------------------------------------------------------
    def _fill(self, device: DeviceInfo) -> None:
        spec = device.spec
        for field, _label, _ in TEXT_FIELDS:
            self.editors[field].setText(_number_text(getattr(spec, field)))
        self.site.setCurrentIndex(max(self.site.findData(spec.site_id), 0))
        self.kind.setCurrentIndex(max(self.kind.findData(spec.kind), 0))

    def _update_layout_fields(self) -> None:
        # A BESS reports no cells, so its layout fields are not asked for (and are sent as None).
        has_layout = self.kind.currentData() != "bess"
        for field in LAYOUT_FIELDS:
            self.editors[field].setEnabled(has_layout)

    def spec(self) -> DeviceSpec:
        """The form as a DeviceSpec, unchecked: the registry decides what is valid."""
        values = {field: _parsed(field, self.editors[field].text()) for field, _label, _ in TEXT_FIELDS}
        for field in ("device_id", "name", "location", "address"):
            values[field] = self.editors[field].text().strip()
        if not self.editors["packs"].isEnabled():
            values["packs"] = values["cells_per_pack"] = None
        return DeviceSpec(site_id=self.site.currentData(), kind=self.kind.currentData(), **values)

    # -- saving ------------------------------------------------------------------------------------------
    async def submit(self) -> bool:
        """Ask `save` to store the form; True when stored (the dialog then accepts)."""
        self.clear_problems()
        self.ok_button.setEnabled(False)
        try:
            self.saved = await self._save(self.spec())
        except DeviceValidationError as exc:
            self.show_problems(exc.problems)
            return False
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return False
        finally:
            self.ok_button.setEnabled(True)
        self.accept()
        return True

    def show_problems(self, problems: Sequence[FieldProblem]) -> None:
        """Every problem at its field; problems about fields the form does not show go to the message line."""
        by_field: dict[str, list[str]] = {}
        for problem in problems:
            by_field.setdefault(problem.field, []).append(problem.reason)
        elsewhere = []
        for field, reasons in by_field.items():
            label = self.errors.get(field)
            if label is None:
                elsewhere.extend(f"{field}: {r}" for r in reasons)
                continue
            label.setText("\n".join(reasons))
            label.show()
        count = len(problems)
        summary = f"Nothing was saved: {count} problem{'s' if count != 1 else ''} to fix."
        self.message.show_error(" ".join([summary, *elsewhere]))
        # Grow to fit the wrapped messages: Qt does not apply a layout's height-for-width to a window by itself.
        needed = self.layout().heightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)
        first = next((f for f in ORDER if f in by_field), None)
        if first is not None:
            self.editors[first].setFocus()

    def clear_problems(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()
        self.message.clear_message()

    def problem_text(self, field: str) -> str:
        """What the form says about one field ('' when nothing): for tests and accessibility tools."""
        label = self.errors[field]
        return label.text() if label.isVisibleTo(self) else ""
