"""GridRoom's own small certificate authority: one CA key, device/control/server certificates, revocation.

Keys are EC P-256 (ECDSA with SHA-256). Chosen over RSA 3072 because it gives the same ~128-bit security with
32-byte keys, generates in microseconds instead of up to a second (a fleet is provisioned in bulk), makes small
TLS handshakes for constrained battery controllers, and is supported by every TLS stack a device is likely to
run (OpenSSL, mbedTLS, wolfSSL, BearSSL) and by Mosquitto.

Folder layout: ``ca.key`` (0600, PKCS#8, encrypted when a passphrase is given), ``ca.crt``, ``index.jsonl``
(see core/pki/index.py) and ``crl.pem`` (rewritten on every revocation). Device keys are generated here and
handed to the device in its provisioning bundle; the CA keeps only the certificate record, never the key.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from core.clock import Clock, SystemClock
from core.pki import index as idx
from core.pki.errors import (
    AlreadyRevoked,
    CAAlreadyExists,
    CAFolderCorrupt,
    CAFolderMissing,
    InvalidIdentity,
    UnknownCertificate,
    UnknownDevice,
    WrongPassphrase,
)
from core.pki.identity import BROKER_IDENTITY, CONTROL_IDENTITY, check_control_name, check_device_id
from core.pki.revocation import DEFAULT_CRL_DAYS, RevocationReason, build_crl, crl_number_of, parse_reason

KEY_FILE = "ca.key"
CERT_FILE = "ca.crt"
CRL_FILE = "crl.pem"
# Certificates start a few minutes in the past so a peer whose clock is slightly behind still accepts them.
CLOCK_SKEW = timedelta(minutes=5)
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A freshly issued certificate and its private key (PEM). ``not_after`` is aware UTC."""

    cert_pem: bytes
    key_pem: bytes
    serial: int
    not_after: datetime

    def write_files(self, cert_path: Path, key_path: Path) -> None:
        """Write the certificate and the key (0600, refusing to replace an existing key file)."""
        Path(cert_path).write_bytes(self.cert_pem)
        _write_secret(Path(key_path), self.key_pem)


def _write_secret(path: Path, data: bytes) -> None:
    # O_EXCL: never clobber a key; mode 0600 from the first byte, not chmod-ed afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _urn_san(kind: str, name: str) -> x509.SubjectAlternativeName:
    # The broker reads the CN, but RFC 5280 path validators (cryptography's included) want a SAN on a leaf;
    # a URN names the identity without pretending the device is a DNS host.
    return x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"urn:gridroom:{kind}:{name}")])


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey, passphrase: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


class CertificateAuthority:
    """A CA living in one folder. Build with ``create`` or ``open``; thread-safe within one process."""

    def __init__(self, folder: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, clock: Clock) -> None:
        self._folder = folder
        self._cert = cert
        self._key = key
        self._clock = clock
        self._lock = threading.RLock()

    # ----- lifecycle -------------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        folder: Path | str,
        common_name: str = "GridRoom Device CA",
        valid_days: int = 3650,
        *,
        passphrase: bytes | None = None,
        clock: Clock | None = None,
    ) -> CertificateAuthority:
        """Make a new CA in folder (created 0700 if missing). Refuses a folder that already holds a CA.

        passphrase encrypts the CA key at rest (PKCS#8, best available cipher); None stores it plainly,
        protected only by the file mode.
        """
        if passphrase is not None and (not isinstance(passphrase, bytes) or not passphrase):
            raise ValueError("passphrase must be non-empty bytes, or None for an unencrypted CA key")
        if valid_days < 1:
            raise ValueError("valid_days must be at least 1")
        folder = Path(folder)
        if (folder / KEY_FILE).exists() or (folder / CERT_FILE).exists():
            raise CAAlreadyExists(f"{folder} already holds a CA; refusing to overwrite its key")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        clock = clock or SystemClock()
        now = clock.now().astimezone(timezone.utc)
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "GridRoom"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + timedelta(days=valid_days))
            # pathlen 0: this CA signs end-entity certificates only, never another CA.
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_secret(folder / KEY_FILE, _key_pem(key, passphrase))
        _write_atomic(folder / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))
        (folder / idx.INDEX_FILE).touch()
        ca = cls(folder, cert, key, clock)
        ca.crl_pem()  # Mosquitto needs a CRL file from the first start, even an empty one
        return ca

    @classmethod
    def open(
        cls, folder: Path | str, *, passphrase: bytes | None = None, clock: Clock | None = None
    ) -> CertificateAuthority:
        """Load the CA in folder; raise CAFolderMissing, CAFolderCorrupt or WrongPassphrase saying why."""
        folder = Path(folder)
        if not folder.is_dir():
            raise CAFolderMissing(f"CA folder {folder} does not exist")
        for needed in (KEY_FILE, CERT_FILE):
            if not (folder / needed).is_file():
                raise CAFolderMissing(f"CA folder {folder} has no {needed}")
        try:
            cert = x509.load_pem_x509_certificate((folder / CERT_FILE).read_bytes())
        except ValueError as exc:
            raise CAFolderCorrupt(f"{folder / CERT_FILE} is not a PEM certificate: {exc}") from exc
        key = _load_key(folder / KEY_FILE, passphrase)
        if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
            raise CAFolderCorrupt(f"{folder / KEY_FILE} is not the key of {folder / CERT_FILE}")
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise CAFolderCorrupt(f"{folder / CERT_FILE} is not a CA certificate")
        idx.read_index(folder)  # fail now, not at the first revocation, if the index is damaged
        return cls(folder, cert, key, clock or SystemClock())

    # ----- what the CA is --------------------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    @property
    def cert_pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_path(self) -> Path:
        return self._folder / CERT_FILE

    @property
    def crl_path(self) -> Path:
        return self._folder / CRL_FILE

    @property
    def not_after(self) -> datetime:
        return self._cert.not_valid_after_utc

    def entries(self) -> list[idx.IndexEntry]:
        """Every certificate this CA issued, oldest first, as recorded in the index."""
        with self._lock:
            return idx.read_index(self._folder)

    # ----- issuing ---------------------------------------------------------------------------------------------
    def issue_device_certificate(self, device_id: str, valid_days: int = 825) -> IssuedCertificate:
        """A client certificate with CN = device_id (the broker user name the ACL confines to its topics)."""
        device_id = check_device_id(device_id)
        return self._issue("device", device_id, valid_days, [CLIENT_AUTH], san=_urn_san("device", device_id))

    def issue_control_certificate(self, name: str = CONTROL_IDENTITY, valid_days: int = 825) -> IssuedCertificate:
        """A client certificate for the control room itself (CN = name; the ACL gives it the whole tree)."""
        name = check_control_name(name)
        return self._issue("control", name, valid_days, [CLIENT_AUTH], san=_urn_san("control", name))

    def issue_server_certificate(
        self,
        hostnames: Iterable[str] = ("localhost",),
        ips: Iterable[str] = ("127.0.0.1",),
        valid_days: int = 825,
    ) -> IssuedCertificate:
        """A broker certificate (serverAuth) valid for these DNS names and IP addresses (the SAN)."""
        names = [x509.DNSName(host) for host in hostnames]
        try:
            names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        except ValueError as exc:
            raise InvalidIdentity(f"not an IP address: {exc}") from exc
        if not names:
            raise InvalidIdentity("a server certificate needs at least one host name or IP address")
        # CN is a fixed reserved name: should the broker's certificate ever be presented as a client, it maps to
        # a broker user no device can be named after and that the ACL grants nothing.
        return self._issue(
            "server", BROKER_IDENTITY, valid_days, [SERVER_AUTH], san=x509.SubjectAlternativeName(names)
        )

    def _issue(
        self,
        kind: str,
        common_name: str,
        valid_days: int,
        usages: list[x509.ObjectIdentifier],
        san: x509.SubjectAlternativeName | None = None,
    ) -> IssuedCertificate:
        if valid_days < 1:
            raise ValueError("valid_days must be at least 1")
        now = self._clock.now().astimezone(timezone.utc)
        # A certificate cannot be trusted longer than the CA that signed it: cap it so the record tells the truth.
        not_after = min(now + timedelta(days=valid_days), self.not_after)
        key = _new_key()
        ca_ski = self._cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        entry = idx.IndexEntry(
            serial=cert.serial_number,
            kind=kind,
            device_id=common_name,
            issued_at=now,
            not_after=cert.not_valid_after_utc,
        )
        with self._lock:
            idx.append_entry(self._folder, entry)
        return IssuedCertificate(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=_key_pem(key),
            serial=cert.serial_number,
            not_after=cert.not_valid_after_utc,
        )

    # ----- revoking --------------------------------------------------------------------------------------------
    def revoke(
        self, target: int | str, reason: RevocationReason | str = RevocationReason.UNSPECIFIED
    ) -> list[idx.IndexEntry]:
        """Revoke one certificate (int: its serial) or every live certificate of a device (str: its id).

        Rewrites the index and crl.pem; the broker must be restarted to read the new CRL. Returns the entries
        revoked now. Raises UnknownCertificate / UnknownDevice, or AlreadyRevoked when nothing was left to revoke.
        """
        why = parse_reason(reason)
        if isinstance(target, bool) or not isinstance(target, (int, str)):
            raise TypeError("revoke takes a serial number (int) or a device id (str)")
        with self._lock:
            entries = idx.read_index(self._folder)
            if isinstance(target, int):
                matches = [i for i, entry in enumerate(entries) if entry.serial == target]
                if not matches:
                    raise UnknownCertificate(f"this CA never issued a certificate with serial {target:X}")
                what = f"certificate {target:X}"
            else:
                matches = [i for i, entry in enumerate(entries) if entry.device_id == target]
                if not matches:
                    raise UnknownDevice(f"no certificate was ever issued for device {target!r}")
                what = f"every certificate of {target!r}"
            live = [i for i in matches if not entries[i].revoked]
            if not live:
                raise AlreadyRevoked(f"{what} is already revoked")
            now = self._clock.now().astimezone(timezone.utc)
            for i in live:
                entries[i] = entries[i].revoke(now, why.value)
            idx.write_index(self._folder, entries)
            self._write_crl(entries, DEFAULT_CRL_DAYS)
            return [entries[i] for i in live]

    def crl_pem(self, valid_days: int = DEFAULT_CRL_DAYS) -> bytes:
        """Sign a fresh CRL of every revoked certificate, write it to crl.pem and return it (PEM)."""
        with self._lock:
            return self._write_crl(idx.read_index(self._folder), valid_days)

    def _write_crl(self, entries: list[idx.IndexEntry], valid_days: int) -> bytes:
        previous = crl_number_of(self.crl_path.read_bytes()) if self.crl_path.exists() else None
        crl = build_crl(
            ca_cert=self._cert,
            ca_key=self._key,
            revoked=[entry for entry in entries if entry.revoked],
            now=self._clock.now().astimezone(timezone.utc),
            number=(previous or 0) + 1,
            valid_days=valid_days,
        )
        pem = crl.public_bytes(serialization.Encoding.PEM)
        _write_atomic(self.crl_path, pem)
        return pem


def _load_key(path: Path, passphrase: bytes | None) -> ec.EllipticCurvePrivateKey:
    data = path.read_bytes()
    encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
    if encrypted and passphrase is None:
        raise WrongPassphrase(f"{path} is encrypted: a passphrase is needed to open this CA")
    if not encrypted and passphrase is not None:
        raise WrongPassphrase(f"{path} is not encrypted, but a passphrase was given: is this the right CA folder?")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except ValueError as exc:
        if encrypted:
            raise WrongPassphrase(f"the passphrase does not decrypt {path}") from exc
        raise CAFolderCorrupt(f"{path} is not a PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CAFolderCorrupt(f"{path} is not an EC key")
    return key
