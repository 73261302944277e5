"""Admin device registry view (brief use case 8): the view and its dialogs call DeviceRegistry and
DeviceCertificates on a real SQLite database and a real CA in tmp_path, and show what they did or why not."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from cryptography import x509
from PySide6.QtCore import Qt

from core.audit.trail import AuditFilter, AuditResult
from core.demo import DEMO_USERS, seed_demo
from core.devices import DeviceRegistry, DeviceSpec
from core.errors import PermissionDenied
from core.pki.service import DeviceCertificates
from core.runtime.runtime import Runtime
from desktop.actions import ActionRegistry
from desktop.dialogs.device_dialog import DeviceDialog
from desktop.dialogs.onboarding_dialogs import BundleDialog, ConfirmDecommissionDialog, RevokeDialog
from desktop.main_window import MainWindow
from desktop.theme import apply_theme
from desktop.views.devices_model import COLUMNS, load_sites
from desktop.views.devices_view import DevicesView
from tests.support.qt_wait import until

pytestmark = pytest.mark.asyncio
ADMIN, OPERATOR = DEMO_USERS[0], DEMO_USERS[1]
SERIAL, STATUS, NAME, CAPACITY = (COLUMNS.index(c) for c in ("Certificate serial", "Status", "Name", "Capacity kWh"))
SCREENSHOTS = os.environ.get("GRIDROOM_SCREENSHOT_DIR")


@pytest.fixture
def demo(sqlite_services, memory_keyring):
    seed_demo(sqlite_services)
    return sqlite_services


@pytest.fixture
def admin(demo):
    return demo.users.authenticate(ADMIN.username, ADMIN.password, host="ws-01")


@pytest.fixture
def registry(demo):
    return DeviceRegistry(demo.db, demo.audit, demo.authorizer, demo.clock)


@pytest.fixture
def certificates(demo, registry, tmp_path):
    return DeviceCertificates(tmp_path / "pki", demo.db, demo.audit, demo.authorizer, demo.secrets, registry, demo.clock)


def _spec(demo, device_id: str = "bess-0042", site: str = "Rotterdam Harbour", **overrides) -> DeviceSpec:
    site_id = dict((name, id_) for id_, name in load_sites(demo.db))[site]
    values = dict(name="Unit 42", site_id=site_id, kind="bess", capacity_kwh=200.0, max_charge_kw=100.0,
                  max_discharge_kw=100.0, address=f"mqtt://broker.local:8883/{device_id}")
    return DeviceSpec(device_id, **(values | overrides))


async def _view(qtbot, demo, principal, registry, certificates) -> tuple[DevicesView, ActionRegistry]:
    view = DevicesView(demo, principal, registry, certificates)
    qtbot.addWidget(view)
    actions = ActionRegistry(view)
    actions.add_all(view.action_specs())
    view.use_actions(actions)
    actions.apply_permissions(principal, demo.authorizer)
    await view.refresh()
    return view, actions


async def _dialog_of(view, dialog_type):
    """Yield to the Qt loop until the action's task has opened its dialog (no timed waits in async tests)."""
    def opened():
        return next((d for d in view.findChildren(dialog_type) if d.isVisible()), None)
    await until(lambda: opened() is not None, what=f"a visible {dialog_type.__name__}")
    return opened()


def _fill(dialog: DeviceDialog, **texts: str) -> None:
    for field, text in texts.items():
        dialog.editors[field].setText(text)


async def _submit(qtbot, view: DevicesView, dialog: DeviceDialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    await dialog.tasks.idle()


def _cell(view: DevicesView, device_id: str, column: int) -> str:
    return view.model.index(view.model.row_of(device_id), column).data()


async def test_register_through_the_dialog_adds_the_row_and_audits(qtbot, demo, admin, registry, certificates):
    view, actions = await _view(qtbot, demo, admin, registry, certificates)
    assert view.model.device_ids() == []
    actions.action("devices.register").trigger()
    dialog = await _dialog_of(view, DeviceDialog)
    assert [dialog.site.itemText(i) for i in range(dialog.site.count())] == ["Antwerp North", "Lille Depot",
                                                                           "Rotterdam Harbour"]
    _fill(dialog, device_id="rack-07", name="Rack 7", location="Hall B", latitude="51.29", longitude="4.30",
          capacity_kwh="500", max_charge_kw="250", max_discharge_kw="250", address="modbus+tcp://10.0.0.7:502/1",
          packs="16", cells_per_pack="24")
    dialog.kind.setCurrentIndex(dialog.kind.findData("battery_system"))
    dialog.site.setCurrentIndex(dialog.site.findText("Antwerp North"))
    await _submit(qtbot, view, dialog)
    await view.tasks.idle()

    assert dialog.result() == DeviceDialog.DialogCode.Accepted
    assert view.model.device_ids() == ["rack-07"]
    assert [_cell(view, "rack-07", c) for c in range(len(COLUMNS))] == [
        "rack-07", "Rack 7", "Antwerp North", "battery_system", "500.0", "250.0", "250.0",
        "modbus+tcp://10.0.0.7:502/1", "none", "Active"]
    assert view.selected_device().device_id == "rack-07"
    assert "Registered rack-07 at Antwerp North" in view.message.text()
    stored = registry.get(admin, "rack-07").spec
    assert (stored.packs, stored.cells_per_pack, stored.latitude, stored.location) == (16, 24, 51.29, "Hall B")
    entries = demo.audit_log.query(admin, AuditFilter(action="device.register", resource="device:rack-07"))
    assert [e.result for e in entries] == [AuditResult.SUCCESS]


async def test_every_bad_field_is_shown_at_its_field_and_nothing_is_stored(qtbot, demo, admin, registry, certificates):
    view, actions = await _view(qtbot, demo, admin, registry, certificates)
    actions.action("devices.register").trigger()
    dialog = await _dialog_of(view, DeviceDialog)
    _fill(dialog, device_id="bad id!", name="  ", latitude="52.1", capacity_kwh="lots", max_charge_kw="-5",
          max_discharge_kw="100", address="http://10.0.0.9/x")
    await _submit(qtbot, view, dialog)

    assert dialog.isVisible() and dialog.result() == 0  # still open ...
    assert dialog.editors["device_id"].text() == "bad id!"  # ... with what was typed
    assert dialog.editors["capacity_kwh"].text() == "lots"
    assert "letters, digits" in dialog.problem_text("device_id")
    assert "must not be empty" in dialog.problem_text("name")
    assert "give both latitude and longitude" in dialog.problem_text("longitude")
    assert "got 'lots'" in dialog.problem_text("capacity_kwh")
    assert "> 0, got -5.0" in dialog.problem_text("max_charge_kw")
    assert "scheme must be one of" in dialog.problem_text("address")
    for fine in ("site_id", "kind", "location", "latitude", "max_discharge_kw", "packs"):
        assert dialog.problem_text(fine) == "", fine
    assert "Nothing was saved: 6 problems" in dialog.message.text()
    assert registry.list(admin) == []

    # Fixing the form in the same dialog clears the messages and registers the device.
    _fill(dialog, device_id="bess-0009", name="Unit 9", longitude="4.5", capacity_kwh="200", max_charge_kw="100",
          address="mqtt://broker.local:8883/bess-0009")
    await _submit(qtbot, view, dialog)
    await view.tasks.idle()
    assert not dialog.isVisible() and dialog.problem_text("device_id") == ""
    assert view.model.device_ids() == ["bess-0009"]
    refused = demo.audit_log.query(admin, AuditFilter(action="device.register", resource="device:bad id!"))
    assert [e.result for e in refused] == [AuditResult.FAILURE]


async def test_edit_keeps_the_id_and_saves_the_changes(qtbot, demo, admin, registry, certificates):
    registry.register(admin, _spec(demo))
    view, actions = await _view(qtbot, demo, admin, registry, certificates)
    assert not actions.action("devices.edit").isEnabled()  # nothing selected yet
    view.select("bess-0042")
    actions.action("devices.edit").trigger()
    dialog = await _dialog_of(view, DeviceDialog)
    assert dialog.editors["device_id"].isReadOnly() and dialog.editors["device_id"].text() == "bess-0042"
    assert dialog.editors["capacity_kwh"].text() == "200"
    assert not dialog.editors["packs"].isEnabled()  # a BESS has no cell layout
    _fill(dialog, name="Unit 42 (refurbished)", capacity_kwh="240")
    await _submit(qtbot, view, dialog)
    await view.tasks.idle()

    assert _cell(view, "bess-0042", NAME) == "Unit 42 (refurbished)"
    assert _cell(view, "bess-0042", CAPACITY) == "240.0"
    [entry] = demo.audit_log.query(admin, AuditFilter(action="device.update", resource="device:bess-0042"))
    assert entry.detail == {"name": ["Unit 42", "Unit 42 (refurbished)"], "capacity_kwh": [200.0, 240.0]}


async def test_decommission_asks_first_then_flags_the_device(qtbot, demo, admin, registry, certificates, clock):
    registry.register(admin, _spec(demo))
    registry.register(admin, _spec(demo, "bess-0043", site="Lille Depot"))
    view, actions = await _view(qtbot, demo, admin, registry, certificates)
    view.select("bess-0042")
    actions.action("devices.decommission").trigger()
    (await _dialog_of(view, ConfirmDecommissionDialog)).reject()
    await view.tasks.idle()
    assert registry.get(admin, "bess-0042").active  # cancelled: nothing changed

    actions.action("devices.decommission").trigger()
    (await _dialog_of(view, ConfirmDecommissionDialog)).accept()
    await view.tasks.idle()
    assert _cell(view, "bess-0042", STATUS) == f"Decommissioned {clock.now():%Y-%m-%d}"
    assert not actions.action("devices.edit").isEnabled()  # its record is read-only now
    assert not actions.action("devices.decommission").isEnabled()
    assert "Decommissioned bess-0042" in view.message.text()
    assert demo.audit_log.query(admin, AuditFilter(action="device.decommission", resource="device:bess-0042"))

    view.show_decommissioned.setChecked(False)
    await view.tasks.idle()
    assert view.model.device_ids() == ["bess-0043"]
    view.show_decommissioned.setChecked(True)
    view.site_filter.setCurrentIndex(view.site_filter.findText("Rotterdam Harbour"))
    await view.tasks.idle()
    assert view.model.device_ids() == ["bess-0042"]
    view.site_filter.setCurrentIndex(0)
    view.text_filter.setText("0043")
    await view.refresh()
    assert view.model.device_ids() == ["bess-0043"]


async def test_create_ca_issue_a_bundle_and_revoke(qtbot, demo, admin, registry, certificates, tmp_path):
    registry.register(admin, _spec(demo))
    view, actions = await _view(qtbot, demo, admin, registry, certificates)
    view.select("bess-0042")
    assert "No device CA yet" in view.ca_label.text()
    assert not actions.action("devices.issue_bundle").isEnabled()
    actions.action("devices.create_ca").trigger()
    await view.tasks.idle()
    assert view.ca.exists and not actions.action("devices.create_ca").isEnabled()
    assert "Created the device CA" in view.message.text()
    assert actions.action("devices.issue_bundle").isEnabled()

    actions.action("devices.issue_bundle").trigger()
    dialog = await _dialog_of(view, BundleDialog)
    out = tmp_path / "out" / "bess-0042.zip"
    out.parent.mkdir()
    dialog.broker_host.setText("broker.rotterdam.example")
    dialog.path.setText(str(out))
    dialog.accept()
    await view.tasks.idle()

    with zipfile.ZipFile(out) as bundle:
        manifest = json.loads(bundle.read("device.json"))
        cert = x509.load_pem_x509_certificate(bundle.read("device.crt"))
    assert manifest["broker"] == {"host": "broker.rotterdam.example", "port": 8883, "tls": True}
    assert _cell(view, "bess-0042", SERIAL) == str(cert.serial_number)
    assert str(out) in view.message.text() and str(cert.serial_number) in view.message.text()

    actions.action("devices.issue_bundle").trigger()  # the same path again: refused, nothing overwritten
    dialog = await _dialog_of(view, BundleDialog)
    dialog.path.setText(str(out))
    dialog.accept()
    await view.tasks.idle()
    assert view.message.kind == "error" and "already exists" in view.message.text()
    assert _cell(view, "bess-0042", SERIAL) == str(cert.serial_number)

    actions.action("devices.revoke").trigger()
    dialog = await _dialog_of(view, RevokeDialog)
    dialog.reason.setCurrentIndex(dialog.reason.findData("key_compromise"))
    dialog.accept()
    await view.tasks.idle()
    assert "Revoked 1 certificate of bess-0042" in view.message.text()
    assert "Restart the broker" in view.message.text()
    assert _cell(view, "bess-0042", SERIAL) == f"revoked · {cert.serial_number}"
    crl = x509.load_pem_x509_crl((tmp_path / "pki" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    [entry] = demo.audit_log.query(admin, AuditFilter(action="pki.revoke", resource="device:bess-0042"))
    assert entry.detail["reason"] == "key_compromise"


async def test_an_operator_gets_no_device_view_and_core_refuses_them(qtbot, demo, admin, registry, layout_settings):
    operator = demo.users.authenticate(OPERATOR.username, OPERATOR.password, host="ws-02")
    window = MainWindow(demo, Runtime(demo.clock), operator, settings=layout_settings)
    qtbot.addWidget(window)
    await window.idle()
    assert "devices" not in window.views
    assert not window.registry.action("view.devices").isEnabled()
    with pytest.raises(PermissionDenied):
        registry.register(operator, _spec(demo))
    assert registry.list(admin) == []

    admin_window = MainWindow(demo, Runtime(demo.clock), admin, settings=layout_settings)
    qtbot.addWidget(admin_window)
    await admin_window.idle()
    assert isinstance(admin_window.views["devices"], DevicesView)


async def test_screenshot_of_a_small_fleet(qtbot, qapp, demo, admin, registry, certificates, tmp_path):
    apply_theme(qapp)
    fleet = [
        _spec(demo, "bess-0042", name="Maasvlakte unit 42", location="Quay 7", capacity_kwh=2000.0,
              max_charge_kw=1000.0, max_discharge_kw=1000.0),
        _spec(demo, "bess-0043", name="Maasvlakte unit 43", location="Quay 7", capacity_kwh=2000.0,
              max_charge_kw=1000.0, max_discharge_kw=1000.0),
        _spec(demo, "rack-antwerp-1", site="Antwerp North", name="Antwerp rack 1", kind="battery_system",
              capacity_kwh=500.0, max_charge_kw=250.0, max_discharge_kw=250.0, packs=16, cells_per_pack=24,
              address="modbus+tcp://10.20.0.11:502/1"),
        _spec(demo, "rack-antwerp-2", site="Antwerp North", name="Antwerp rack 2", kind="battery_system",
              capacity_kwh=500.0, max_charge_kw=250.0, max_discharge_kw=250.0, packs=16, cells_per_pack=24,
              address="modbus+tcp://10.20.0.12:502/1"),
        _spec(demo, "lille-sim-1", site="Lille Depot", name="Lille test bench", capacity_kwh=100.0,
              max_charge_kw=50.0, max_discharge_kw=50.0, address="sim://depot-small"),
    ]
    for spec in fleet:
        registry.register(admin, spec)
    certificates.init_ca(admin)
    for device_id in ("bess-0042", "bess-0043", "rack-antwerp-1"):
        certificates.issue_bundle(admin, device_id, "broker.local", 8883, tmp_path / f"{device_id}.zip")
    certificates.revoke(admin, "bess-0043", "superseded")
    registry.decommission(admin, "bess-0043")

    view, actions = await _view(qtbot, demo, admin, registry, certificates)
    view.resize(1440, 560)
    view.show()
    view.select("rack-antwerp-1")
    await view.issue_bundle("rack-antwerp-2", "broker.local", 8883, tmp_path / "rack-antwerp-2.zip")
    assert view.model.rowCount() == 5 and view.message.kind == "info"

    actions.action("devices.register").trigger()
    dialog = await _dialog_of(view, DeviceDialog)
    _fill(dialog, device_id="bess 44", capacity_kwh="2000", max_charge_kw="30000", max_discharge_kw="1000",
          address="mqtt://broker.local:8883/bess-44")
    await _submit(qtbot, view, dialog)
    assert dialog.problem_text("max_charge_kw")
    for _ in range(5):  # let Qt lay the grown dialog out before the picture is taken
        await asyncio.sleep(0)

    for field in ("device_id", "max_charge_kw", "address"):  # wrapped messages get their full height
        label = dialog.errors[field]
        assert label.height() >= label.heightForWidth(label.width()) > label.fontMetrics().height(), field
    folder = Path(SCREENSHOTS or tempfile.mkdtemp(prefix="gridroom-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(folder / "devices_view.png"))
    assert dialog.grab().save(str(folder / "device_dialog_errors.png"))
    assert (folder / "devices_view.png").stat().st_size > 20_000
    dialog.reject()
    await view.tasks.idle()
