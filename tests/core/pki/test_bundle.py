"""Provisioning bundles: a zip a device can be set up from, never silently overwritten."""

from __future__ import annotations

import json
import stat
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from core.pki import BundleExists, InvalidIdentity, provisioning_bundle


def test_bundle_holds_a_working_identity_and_its_contract(ca, tmp_path):
    path = provisioning_bundle(ca, "bess-01", "broker.site", 8883, tmp_path / "bess-01.zip")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["ca.crt", "device.crt", "device.json", "device.key"]
        cert = x509.load_pem_x509_certificate(archive.read("device.crt"))
        key = serialization.load_pem_private_key(archive.read("device.key"), password=None)
        assert archive.read("ca.crt") == ca.cert_pem
        manifest = json.loads(archive.read("device.json"))
    cert.verify_directly_issued_by(ca.certificate)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    assert cert.subject.rfc4514_string() == "CN=bess-01"
    assert manifest["device_id"] == "bess-01"
    assert manifest["broker"] == {"host": "broker.site", "port": 8883, "tls": True}
    assert manifest["schema_version"] == 1 and manifest["payload_schema_version"] == 1
    assert set(manifest["topics"]["publish"]) == {
        "gridroom/v1/bess-01/status",
        "gridroom/v1/bess-01/telemetry",
        "gridroom/v1/bess-01/cells/+",
        "gridroom/v1/bess-01/ack",
        "gridroom/v1/bess-01/cmd/result",
    }
    assert set(manifest["topics"]["subscribe"]) == {"gridroom/v1/bess-01/schedule", "gridroom/v1/bess-01/cmd"}
    assert manifest["certificate"]["serial"] == format(cert.serial_number, "X")
    assert [entry.serial for entry in ca.entries()] == [cert.serial_number]


def test_existing_bundle_is_not_overwritten_unless_asked(ca, tmp_path):
    target = tmp_path / "b.zip"
    target.write_bytes(b"precious")
    with pytest.raises(BundleExists):
        provisioning_bundle(ca, "bess-01", "127.0.0.1", 8883, target)
    assert target.read_bytes() == b"precious"
    assert ca.entries() == []  # nothing issued for a bundle that was never written
    provisioning_bundle(ca, "bess-01", "127.0.0.1", 8883, target, overwrite=True)
    assert zipfile.is_zipfile(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_bundle_validates_its_inputs(ca, tmp_path):
    with pytest.raises(InvalidIdentity):
        provisioning_bundle(ca, "bad/id", "127.0.0.1", 8883, tmp_path / "x.zip")
    with pytest.raises(ValueError):
        provisioning_bundle(ca, "bess-01", "127.0.0.1", 0, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
