"""gridroom ca: a CA whose key passphrase lives in the keyring, bundles for registered devices, revocation,
and a Mosquitto configuration that a real Mosquitto accepts."""

from __future__ import annotations

import getpass
import json
import shutil
import subprocess
import zipfile

import pytest
from cryptography import x509

from core.audit.trail import AuditFilter
from core.auth.principal import SYSTEM
from core.demo import DEMO_USERS, seed_demo
from core.devices.registry import DeviceRegistry
from core.devices.validation import DeviceSpec
from core.errors import KeyringUnavailable, PermissionDenied
from core.fleet.tables import SiteRow
from core.pki.service import PASSPHRASE_SECRET, DeviceCertificates

ADMIN, OPERATOR = DEMO_USERS[0], DEMO_USERS[1]


@pytest.fixture
def certs(sqlite_services, tmp_path, memory_keyring):
    seed_demo(sqlite_services)
    registry = DeviceRegistry(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, sqlite_services.clock)
    with sqlite_services.db.session() as s:
        site = s.query(SiteRow).first().id
    registry.register(SYSTEM, DeviceSpec("bess-0042", "Unit 42", site, "bess", 200.0, 100.0, 100.0, "mqtt://127.0.0.1:8883/bess-0042"))
    return DeviceCertificates(tmp_path / "pki", sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer,
                              sqlite_services.secrets, registry, sqlite_services.clock), sqlite_services


def admin(services):
    return services.users.authenticate(ADMIN.username, ADMIN.password)


def test_issue_bundle_records_serial_and_audits(certs, tmp_path, memory_keyring):
    service, core = certs
    actor = admin(core)
    service.init_ca(actor)
    assert memory_keyring.get_password("gridroom", PASSPHRASE_SECRET)
    assert b"ENCRYPTED" in (tmp_path / "pki" / "ca.key").read_bytes()
    bundle = service.issue_bundle(actor, "bess-0042", "broker.site", 8883, tmp_path / "bess-0042.zip")
    with zipfile.ZipFile(bundle) as z:
        info = json.loads(z.read("device.json"))
        cert = x509.load_pem_x509_certificate(z.read("device.crt"))
    assert info["device_id"] == "bess-0042" and info["broker"] == {"host": "broker.site", "port": 8883, "tls": True}
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "bess-0042"
    assert service.registry.get(actor, "bess-0042").certificate_serial == str(cert.serial_number)
    serials = service.revoke(actor, "bess-0042", "key_compromise")
    assert serials == [cert.serial_number]
    crl = x509.load_pem_x509_crl((tmp_path / "pki" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    with core.db.session() as s:
        actions = [e.action for e in core.audit.query(s, AuditFilter(action="pki."))]
    assert actions == ["pki.revoke", "pki.issue", "pki.init"]


def test_operator_cannot_issue_and_unregistered_devices_get_nothing(certs, tmp_path):
    service, core = certs
    service.init_ca(admin(core))
    operator = core.users.authenticate(OPERATOR.username, OPERATOR.password)
    with pytest.raises(PermissionDenied):
        service.issue_bundle(operator, "bess-0042", "h", 8883, tmp_path / "x.zip")
    from core.errors import NotFound

    with pytest.raises(NotFound):
        service.issue_bundle(admin(core), "bess-9999", "h", 8883, tmp_path / "y.zip")
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "y.zip").exists()


def test_without_a_keyring_the_ca_is_not_created(certs, tmp_path):
    from keyring.backends.fail import Keyring as FailKeyring

    from core.secrets import SecretStore

    service, core = certs
    service.secrets = SecretStore(backend=FailKeyring())
    with pytest.raises(KeyringUnavailable):
        service.init_ca(admin(core))
    assert not (tmp_path / "pki").exists()


def test_broker_config_is_accepted_by_mosquitto(certs, tmp_path):
    from gridroom.cli import main

    service, core = certs
    service.init_ca(admin(core))
    mosquitto = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    out = tmp_path / "broker"
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    import io
    import sys

    sys.stdin = io.StringIO(ADMIN.password + "\n")
    try:
        rc = main(["--database", core.db.url, "ca", "broker-config", "--out", str(out), "--port", str(port),
                   "--ca-dir", str(tmp_path / "pki"), "--run-as", getpass.getuser(), "--admin", ADMIN.username, "--password-stdin"])
    finally:
        sys.stdin = sys.__stdin__
    assert rc == 0
    conf = (out / "mosquitto.conf").read_text()
    assert "require_certificate true" in conf and "acl_file" in conf
    assert "pattern write gridroom/v1/%u/telemetry" in (out / "acl").read_text()
    if mosquitto is None:
        from tests.support.services import unavailable

        unavailable("mosquitto binary")
    # Mosquitto's own config check: 2.0 has no -t, so start it and stop it at once. A thread drains its output
    # (a full pipe would block Mosquitto before it sees the signal) and flags the "running" line.
    import threading

    proc = subprocess.Popen([mosquitto, "-c", str(out / "mosquitto.conf"), "-v"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        for line in proc.stdout:
            lines.append(line)
            if " running" in line or "Error" in line:
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        assert ready.wait(20), "mosquitto said nothing"
        assert any(" running" in line for line in lines), "".join(lines)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
