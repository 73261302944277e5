"""Provisioning bundles: everything one device needs to join the broker, in one zip.

The zip holds the device's PRIVATE KEY unencrypted (devices rarely have a way to type a passphrase), so it is
written 0600 and should travel over a trusted channel and be deleted once the device is provisioned.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

from core.pki.ca import CertificateAuthority
from core.pki.errors import BundleExists
from core.pki.identity import check_device_id, device_topics

BUNDLE_SCHEMA_VERSION = 1
MQTT_PAYLOAD_VERSION = 1  # the "v" every payload carries (docs/mqtt-contract.md)
MEMBERS = ("device.crt", "device.key", "ca.crt", "device.json")


def provisioning_bundle(
    ca: CertificateAuthority,
    device_id: str,
    broker_host: str,
    broker_port: int,
    out_path: Path | str,
    *,
    overwrite: bool = False,
    valid_days: int = 825,
) -> Path:
    """Issue a fresh certificate for device_id and write its bundle zip to out_path; return the path.

    Members: device.crt, device.key, ca.crt and device.json (device id, broker host/port, tls, the topics the
    device may publish and subscribe to, schema versions, certificate serial and expiry). Raises BundleExists
    if out_path exists and overwrite is False; nothing is issued in that case.
    """
    check_device_id(device_id)
    if not broker_host or not 0 < int(broker_port) < 65536:
        raise ValueError(f"bad broker address {broker_host!r}:{broker_port!r}")
    out_path = Path(out_path)
    if out_path.exists() and not overwrite:
        raise BundleExists(f"{out_path} already exists; pass overwrite=True to replace it")
    issued = ca.issue_device_certificate(device_id, valid_days=valid_days)
    publish, subscribe = device_topics(device_id)
    manifest = {
        "schema_version": BUNDLE_SCHEMA_VERSION,
        "payload_schema_version": MQTT_PAYLOAD_VERSION,
        "device_id": device_id,
        "client_id": device_id,
        "broker": {"host": broker_host, "port": int(broker_port), "tls": True},
        "files": {"certificate": "device.crt", "key": "device.key", "ca": "ca.crt"},
        "topics": {"publish": list(publish), "subscribe": list(subscribe)},
        "certificate": {"serial": format(issued.serial, "X"), "not_after": issued.not_after.isoformat()},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("device.crt", issued.cert_pem)
        archive.writestr("device.key", issued.key_pem)
        archive.writestr("ca.crt", ca.cert_pem)
        archive.writestr("device.json", json.dumps(manifest, indent=2) + "\n")
    _write_private(out_path, buffer.getvalue(), overwrite)
    return out_path


def _write_private(path: Path, data: bytes, overwrite: bool) -> None:
    if overwrite:
        # Write beside it and rename, so a failure never leaves a half-written bundle where the old one was.
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.unlink(missing_ok=True)
        _create_0600(tmp, data)
        os.replace(tmp, path)
    else:
        try:
            _create_0600(path, data)
        except FileExistsError as exc:  # appeared between the check and now
            raise BundleExists(f"{path} already exists; pass overwrite=True to replace it") from exc


def _create_0600(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
