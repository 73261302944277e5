"""Device certificates as an admin action: permission checked here, every issue and revocation audited,
the CA key's passphrase kept in the OS keyring (never in a file)."""

from __future__ import annotations

import secrets as pysecrets
from pathlib import Path

from core.audit.trail import AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock
from core.devices.registry import DeviceRegistry
from core.pki.bundle import provisioning_bundle
from core.pki.ca import CertificateAuthority
from core.pki.errors import CAFolderMissing
from core.secrets import SecretStore
from core.storage.database import Database

PASSPHRASE_SECRET = "pki:ca-passphrase"


class DeviceCertificates:
    def __init__(
        self, folder: Path, db: Database, audit: AuditTrail, authorizer: Authorizer, secrets: SecretStore,
        registry: DeviceRegistry, clock: Clock,
    ) -> None:
        self.folder = Path(folder)
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.secrets = secrets
        self.registry = registry
        self.clock = clock

    def init_ca(self, actor: Principal, common_name: str = "GridRoom Device CA") -> CertificateAuthority:
        """Create the CA; its key is encrypted with a random passphrase stored in the keyring.
        Without a secure keyring this refuses (KeyringUnavailable) rather than leave the key unprotected."""
        self.authorizer.require(actor, Permission.MANAGE_DEVICES, "pki:ca")
        passphrase = pysecrets.token_urlsafe(32)
        self.secrets.set(PASSPHRASE_SECRET, passphrase)
        ca = CertificateAuthority.create(self.folder, common_name, passphrase=passphrase.encode(), clock=self.clock)
        self._audit(actor, "pki.init", "pki:ca", {"common_name": common_name, "not_after": ca.not_after.isoformat()})
        return ca

    def open_ca(self) -> CertificateAuthority:
        if not self.folder.is_dir():
            raise CAFolderMissing(f"no CA in {self.folder}: run `gridroom ca init` first")
        passphrase = self.secrets.get(PASSPHRASE_SECRET)
        return CertificateAuthority.open(self.folder, passphrase=passphrase.encode() if passphrase else None, clock=self.clock)

    def issue_bundle(self, actor: Principal, device_id: str, broker_host: str, broker_port: int, out: Path) -> Path:
        """Issue a client certificate for a registered device and write its provisioning bundle."""
        self.authorizer.require(actor, Permission.MANAGE_DEVICES, f"device:{device_id}")
        self.registry.get(actor, device_id)  # only registered devices get certificates
        ca = self.open_ca()
        path = provisioning_bundle(ca, device_id, broker_host, broker_port, out)
        serial = max((e for e in ca.entries() if e.device_id == device_id), key=lambda e: e.serial).serial
        self.registry.update(actor, device_id, certificate_serial=str(serial))
        self._audit(actor, "pki.issue", f"device:{device_id}", {"serial": str(serial), "bundle": str(path)})
        return path

    def revoke(self, actor: Principal, device_id: str, reason: str = "unspecified") -> list[int]:
        """Revoke every live certificate of the device and rewrite the CRL (restart the broker to apply it)."""
        self.authorizer.require(actor, Permission.MANAGE_DEVICES, f"device:{device_id}")
        revoked = self.open_ca().revoke(device_id, reason)
        serials = [e.serial for e in revoked]
        self._audit(actor, "pki.revoke", f"device:{device_id}", {"serials": [str(s) for s in serials], "reason": reason})
        return serials

    def _audit(self, actor: Principal, action: str, resource: str, detail: dict) -> None:
        with self.db.session() as s:
            self.audit.append(s, actor, action, resource, detail=detail)
