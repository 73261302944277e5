"""Issuing: the CA certificate's extensions, device/control/server certificates, chain, EKU, expiry, index."""

from __future__ import annotations

import ipaddress
import json
import stat
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from core.pki import CertificateAuthority, InvalidIdentity, IssuedCertificate


def load(issued: IssuedCertificate) -> x509.Certificate:
    return x509.load_pem_x509_certificate(issued.cert_pem)


def cn(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def client_verifier(ca: CertificateAuthority, clock):
    return PolicyBuilder().store(Store([ca.certificate])).time(clock.now()).build_client_verifier()


def test_ca_certificate_is_a_p256_ca_limited_to_signing_leaves(ca):
    cert = ca.certificate
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert cn(cert) == "GridRoom Device CA"
    cert.verify_directly_issued_by(cert)  # self-signed


def test_ca_validity_and_key_file_mode(tmp_path, clock):
    ca = CertificateAuthority.create(tmp_path / "ca", "Site 7 CA", valid_days=100, clock=clock)
    assert ca.not_after == (clock.now() + timedelta(days=100)).replace(microsecond=0)
    assert cn(ca.certificate) == "Site 7 CA"
    assert stat.S_IMODE((tmp_path / "ca" / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ca").stat().st_mode) == 0o700


def test_device_certificate_chains_to_the_ca_as_a_client(ca, clock):
    issued = ca.issue_device_certificate("bess-01")
    cert = load(issued)
    cert.verify_directly_issued_by(ca.certificate)
    chain = client_verifier(ca, clock).verify(cert, [])
    assert chain.chain[-1] == ca.certificate
    assert cn(cert) == "bess-01"
    assert issued.serial == cert.serial_number
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_device_key_matches_its_certificate_and_is_p256(ca):
    issued = ca.issue_device_certificate("bess-02")
    key = serialization.load_pem_private_key(issued.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert key.public_key().public_numbers() == load(issued).public_key().public_numbers()


def test_certificate_from_another_ca_does_not_verify(ca, tmp_path, clock):
    other = CertificateAuthority.create(tmp_path / "other", clock=clock)
    stranger = load(other.issue_device_certificate("bess-01"))
    with pytest.raises(VerificationError):
        client_verifier(ca, clock).verify(stranger, [])


def test_device_certificate_expiry(ca, clock):
    issued = ca.issue_device_certificate("bess-03", valid_days=30)
    assert issued.not_after == (clock.now() + timedelta(days=30)).replace(microsecond=0)
    assert issued.not_after.tzinfo is not None and issued.not_after.utcoffset() == timedelta(0)
    cert = load(issued)
    later = PolicyBuilder().store(Store([ca.certificate])).time(clock.now() + timedelta(days=31))
    with pytest.raises(VerificationError):
        later.build_client_verifier().verify(cert, [])


def test_leaf_never_outlives_the_ca(tmp_path, clock):
    ca = CertificateAuthority.create(tmp_path / "short", valid_days=10, clock=clock)
    issued = ca.issue_device_certificate("bess-04", valid_days=825)
    assert issued.not_after == ca.not_after == load(issued).not_valid_after_utc


def test_server_certificate_has_san_and_server_auth(ca, clock):
    issued = ca.issue_server_certificate(["localhost", "broker.site"], ["127.0.0.1", "::1"])
    cert = load(issued)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "broker.site"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    policy = PolicyBuilder().store(Store([ca.certificate])).time(clock.now())
    policy.build_server_verifier(x509.IPAddress(ipaddress.ip_address("127.0.0.1"))).verify(cert, [])
    with pytest.raises(VerificationError):  # not a client certificate
        client_verifier(ca, clock).verify(cert, [])
    with pytest.raises(VerificationError):  # and not valid for a host it does not name
        policy.build_server_verifier(x509.DNSName("evil.example")).verify(cert, [])


def test_server_certificate_rejects_bad_addresses(ca):
    with pytest.raises(InvalidIdentity):
        ca.issue_server_certificate(["localhost"], ["not-an-ip"])
    with pytest.raises(InvalidIdentity):
        ca.issue_server_certificate([], [])


def test_control_certificate_is_a_client_named_gridroom_control(ca, clock):
    cert = load(ca.issue_control_certificate())
    assert cn(cert) == "gridroom-control"
    client_verifier(ca, clock).verify(cert, [])


@pytest.mark.parametrize("bad", ["", "a/b", "dev+", "dev#", " dev", "-dev", "x" * 65, "dév"])
def test_invalid_device_ids_are_refused_and_not_recorded(ca, bad):
    with pytest.raises(InvalidIdentity):
        ca.issue_device_certificate(bad)
    assert ca.entries() == []


@pytest.mark.parametrize("reserved", ["gridroom-control", "GridRoom-Control", "gridroom-broker"])
def test_devices_cannot_take_gridroom_identities(ca, reserved):
    with pytest.raises(InvalidIdentity, match="reserved"):
        ca.issue_device_certificate(reserved)


def test_every_issue_is_recorded_in_the_index(ca, clock):
    first = ca.issue_device_certificate("bess-01")
    clock.advance(timedelta(hours=1))
    second = ca.issue_server_certificate()
    lines = (ca.folder / "index.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["serial"] for row in rows] == [format(first.serial, "X"), format(second.serial, "X")]
    assert rows[0]["device_id"] == "bess-01" and rows[0]["kind"] == "device"
    assert rows[1]["device_id"] == "gridroom-broker" and rows[1]["kind"] == "server"
    assert rows[0]["revoked_at"] is None and rows[0]["reason"] is None
    assert rows[0]["not_after"] == first.not_after.isoformat()
    entries = ca.entries()
    assert entries[1].issued_at - entries[0].issued_at == timedelta(hours=1)
    assert entries[0].not_after == first.not_after


def test_issued_files_are_written_with_a_private_key_mode(ca, tmp_path):
    issued = ca.issue_device_certificate("bess-05")
    issued.write_files(tmp_path / "d.crt", tmp_path / "d.key")
    assert (tmp_path / "d.crt").read_bytes() == issued.cert_pem
    assert stat.S_IMODE((tmp_path / "d.key").stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        issued.write_files(tmp_path / "d.crt", tmp_path / "d.key")
