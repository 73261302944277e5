"""Opening a CA folder (passphrase, missing and corrupt files) and revoking certificates into a signed CRL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509

from core.pki import (
    AlreadyRevoked,
    CAAlreadyExists,
    CAFolderCorrupt,
    CAFolderMissing,
    CertificateAuthority,
    RevocationReason,
    UnknownCertificate,
    UnknownDevice,
    WrongPassphrase,
)


def load_crl(ca: CertificateAuthority) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(ca.crl_path.read_bytes())


# ----- opening ----------------------------------------------------------------------------------------------------
def test_encrypted_ca_reopens_with_its_passphrase_and_keeps_issuing(tmp_path, clock):
    created = CertificateAuthority.create(tmp_path / "ca", passphrase=b"correct horse", clock=clock)
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "ca" / "ca.key").read_bytes()
    reopened = CertificateAuthority.open(tmp_path / "ca", passphrase=b"correct horse", clock=clock)
    assert reopened.certificate == created.certificate
    cert = x509.load_pem_x509_certificate(reopened.issue_device_certificate("bess-01").cert_pem)
    cert.verify_directly_issued_by(created.certificate)


def test_wrong_or_missing_passphrase_is_a_typed_error(tmp_path, clock):
    CertificateAuthority.create(tmp_path / "ca", passphrase=b"right", clock=clock)
    with pytest.raises(WrongPassphrase, match="does not decrypt"):
        CertificateAuthority.open(tmp_path / "ca", passphrase=b"wrong")
    with pytest.raises(WrongPassphrase, match="passphrase is needed"):
        CertificateAuthority.open(tmp_path / "ca")


def test_passphrase_for_an_unencrypted_key_is_refused(ca):
    with pytest.raises(WrongPassphrase, match="not encrypted"):
        CertificateAuthority.open(ca.folder, passphrase=b"anything")


def test_empty_passphrase_is_refused_at_creation(tmp_path):
    with pytest.raises(ValueError):
        CertificateAuthority.create(tmp_path / "ca", passphrase=b"")


def test_missing_folder_or_files(tmp_path, ca):
    with pytest.raises(CAFolderMissing, match="does not exist"):
        CertificateAuthority.open(tmp_path / "nowhere")
    (ca.folder / "ca.crt").unlink()
    with pytest.raises(CAFolderMissing, match="ca.crt"):
        CertificateAuthority.open(ca.folder)


def test_create_refuses_to_overwrite_a_ca(ca):
    key_before = (ca.folder / "ca.key").read_bytes()
    with pytest.raises(CAAlreadyExists):
        CertificateAuthority.create(ca.folder)
    assert (ca.folder / "ca.key").read_bytes() == key_before


def test_corrupt_certificate(ca):
    (ca.folder / "ca.crt").write_text("not a certificate")
    with pytest.raises(CAFolderCorrupt, match="ca.crt"):
        CertificateAuthority.open(ca.folder)


def test_key_of_another_ca_is_detected(tmp_path, ca, clock):
    other = CertificateAuthority.create(tmp_path / "other", clock=clock)
    (ca.folder / "ca.crt").write_bytes(other.cert_pem)
    with pytest.raises(CAFolderCorrupt, match="is not the key of"):
        CertificateAuthority.open(ca.folder)


def test_garbage_key_file(ca):
    (ca.folder / "ca.key").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(CAFolderCorrupt):
        CertificateAuthority.open(ca.folder)


def test_damaged_index_is_reported_with_its_line(ca):
    ca.issue_device_certificate("bess-01")
    with open(ca.folder / "index.jsonl", "a") as handle:
        handle.write("{not json\n")
    with pytest.raises(CAFolderCorrupt, match="line 2"):
        CertificateAuthority.open(ca.folder)


# ----- revoking ---------------------------------------------------------------------------------------------------
def test_fresh_ca_writes_an_empty_signed_crl(ca):
    crl = load_crl(ca)
    assert len(crl) == 0
    assert crl.is_signature_valid(ca.certificate.public_key())
    assert crl.issuer == ca.certificate.subject


def test_revoke_by_serial_lists_it_in_the_crl(ca, clock):
    keep = ca.issue_device_certificate("bess-01")
    gone = ca.issue_device_certificate("bess-02")
    clock.advance(timedelta(minutes=3))
    revoked = ca.revoke(gone.serial, RevocationReason.KEY_COMPROMISE)
    assert [entry.serial for entry in revoked] == [gone.serial]
    crl = load_crl(ca)
    assert crl.is_signature_valid(ca.certificate.public_key())
    listed = crl.get_revoked_certificate_by_serial_number(gone.serial)
    assert listed is not None
    assert listed.revocation_date_utc == clock.now().replace(microsecond=0)
    assert listed.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(keep.serial) is None
    assert crl.next_update_utc - crl.last_update_utc >= timedelta(days=30)


def test_revoke_by_device_id_revokes_all_of_its_live_certificates(ca):
    serials = {ca.issue_device_certificate("bess-01").serial for _ in range(2)}
    other = ca.issue_device_certificate("bess-02").serial
    revoked = ca.revoke("bess-01", "cessation_of_operation")
    assert {entry.serial for entry in revoked} == serials
    assert {entry.serial_number for entry in load_crl(ca)} == serials
    by_serial = {entry.serial: entry for entry in ca.entries()}
    assert by_serial[other].revoked_at is None
    assert all(by_serial[s].reason == "cessation_of_operation" and by_serial[s].revoked_at for s in serials)


def test_revocation_survives_reopening_and_crl_numbers_grow(ca, clock):
    first_number = load_crl(ca).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    serial = ca.issue_device_certificate("bess-01").serial
    ca.revoke(serial)
    reopened = CertificateAuthority.open(ca.folder, clock=clock)
    assert reopened.entries()[0].revoked
    crl = x509.load_pem_x509_crl(reopened.crl_pem())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == first_number + 2
    # "unspecified" is expressed by leaving the reason out (RFC 5280 5.3.1)
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    with pytest.raises(x509.ExtensionNotFound):
        entry.extensions.get_extension_for_class(x509.CRLReason)


def test_revocation_errors_say_why(ca):
    with pytest.raises(UnknownDevice):
        ca.revoke("never-seen")
    with pytest.raises(UnknownCertificate):
        ca.revoke(12345)
    serial = ca.issue_device_certificate("bess-01").serial
    ca.revoke("bess-01")
    with pytest.raises(AlreadyRevoked):
        ca.revoke(serial)
    with pytest.raises(AlreadyRevoked):
        ca.revoke("bess-01")
    with pytest.raises(ValueError, match="key_compromise"):
        ca.revoke(serial, "because")
    with pytest.raises(TypeError):
        ca.revoke(True)  # type: ignore[arg-type]
