"""Table model of the device registry for the admin's device view, and the site list its filters offer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from PySide6.QtCore import Qt
from sqlalchemy import select

from core.devices import DeviceInfo
from core.fleet.tables import SiteRow
from core.pki.errors import CAFolderMissing
from core.pki.service import DeviceCertificates
from core.storage.database import Database
from desktop.models.record_table_model import RecordTableModel
from desktop.theme import DISABLED_TEXT, qcolor

COLUMNS = ("Device ID", "Name", "Site", "Kind", "Capacity kWh", "Max charge kW", "Max discharge kW",
           "Address", "Certificate serial", "Status")
NUMERIC_COLUMNS = {4, 5, 6}
STATUS_COLUMN = COLUMNS.index("Status")


def load_sites(db: Database) -> list[tuple[int, str]]:
    """(id, name) of every site, by name: what the site filter and the device form choose from."""
    with db.session() as s:
        return [(row.id, row.name) for row in s.execute(select(SiteRow).order_by(SiteRow.name)).scalars()]


@dataclass(frozen=True)
class CaStatus:
    """Whether the device CA exists, a line about it for the view, and the serials it has revoked."""

    exists: bool
    summary: str
    revoked_serials: frozenset[str] = field(default_factory=frozenset)


def read_ca_status(certificates: DeviceCertificates) -> CaStatus:
    """Open the CA (blocking: reads files and the keyring). A missing CA is a state, not an error;
    a damaged one, or one whose key cannot be unlocked, raises the PKI error that says why."""
    try:
        ca = certificates.open_ca()
    except CAFolderMissing:
        return CaStatus(False, f"No device CA yet in {certificates.folder}: create it before issuing certificates.")
    revoked = frozenset(str(e.serial) for e in ca.entries() if e.revoked_at is not None)
    issued = len(ca.entries())
    return CaStatus(True, f"Device CA in {ca.folder}, valid until {ca.not_after:%Y-%m-%d}; "
                          f"{issued} certificate{'s' if issued != 1 else ''} issued, {len(revoked)} revoked.", revoked)


def device_status(device: DeviceInfo) -> str:
    if device.active:
        return "Active"
    when = device.decommissioned_at
    return f"Decommissioned {when:%Y-%m-%d}" if when else "Decommissioned"


def _kw(value: float) -> str:
    return f"{value:,.1f}"


class DevicesTableModel(RecordTableModel[DeviceInfo]):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._revoked: frozenset[str] = frozenset()

    def set_devices(self, devices: Sequence[DeviceInfo], revoked_serials: frozenset[str] = frozenset()) -> None:
        self._revoked = revoked_serials
        self.set_records(devices)

    def device_at(self, row: int) -> DeviceInfo:
        return self.record_at(row)

    def device_ids(self) -> list[str]:
        return [d.device_id for d in self._records]

    def row_of(self, device_id: str) -> int:
        return self.device_ids().index(device_id)

    def cell(self, device: DeviceInfo, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(device, column)
        if role == Qt.ItemDataRole.ToolTipRole and column in (7, 8):
            return self._display(device, column)  # long URLs and serials are elided in the cell
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and not device.active:
            return qcolor(DISABLED_TEXT)  # decommissioned devices recede; not an alarm, so no colour
        return None

    def _display(self, device: DeviceInfo, column: int) -> str:
        spec = device.spec
        values = (
            spec.device_id,
            spec.name,
            device.site_name,
            spec.kind,
            _kw(spec.capacity_kwh),
            _kw(spec.max_charge_kw),
            _kw(spec.max_discharge_kw),
            spec.address,
            self._serial_text(device.certificate_serial),
        )
        return values[column] if column < len(values) else device_status(device)

    def _serial_text(self, serial: str | None) -> str:
        if serial is None:
            return "none"
        # The prefix stays visible when a long serial is elided in its cell.
        return f"revoked · {serial}" if serial in self._revoked else serial
