"""Revocation reasons and the signed certificate revocation list (CRL) the broker checks clients against.

Mosquitto reads its ``crlfile`` only when it starts, and OpenSSL refuses *every* client once the CRL's
next_update has passed ("CRL has expired"). So the CRL is rewritten on every revocation and whenever GridRoom
starts, the broker is restarted after a revocation, and next_update is generous (see DEFAULT_CRL_DAYS).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

from core.pki.index import IndexEntry

# Long enough that a control room left alone for months does not lock out its whole fleet by CRL expiry,
# short enough that a stale copy of the CRL on some broker eventually stops being trusted.
DEFAULT_CRL_DAYS = 180


class RevocationReason(str, enum.Enum):
    """Why a certificate was revoked (the RFC 5280 reasons that make sense for a device fleet).

    A revocation here is permanent: certificateHold and removeFromCRL are deliberately not offered.
    """

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"
    PRIVILEGE_WITHDRAWN = "privilege_withdrawn"

    @property
    def flag(self) -> x509.ReasonFlags:
        return _FLAGS[self]


_FLAGS = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.PRIVILEGE_WITHDRAWN: x509.ReasonFlags.privilege_withdrawn,
}


def parse_reason(reason: RevocationReason | str) -> RevocationReason:
    """The reason as an enum member; ValueError listing the accepted names for anything else."""
    try:
        return RevocationReason(reason)
    except ValueError:
        accepted = ", ".join(member.value for member in RevocationReason)
        raise ValueError(f"unknown revocation reason {reason!r}; use one of: {accepted}") from None


def crl_number_of(crl_pem: bytes) -> int | None:
    """The CRLNumber of an existing CRL, or None when it has none or cannot be read."""
    try:
        crl = x509.load_pem_x509_crl(crl_pem)
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (ValueError, x509.ExtensionNotFound):
        return None


def build_crl(
    *,
    ca_cert: x509.Certificate,
    ca_key: EllipticCurvePrivateKey,
    revoked: Iterable[IndexEntry],
    now: datetime,
    number: int,
    valid_days: int = DEFAULT_CRL_DAYS,
) -> x509.CertificateRevocationList:
    """A CRL signed by the CA listing every revoked entry, numbered ``number`` (must grow with each CRL)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now)
        .next_update(now + timedelta(days=valid_days))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for entry in revoked:
        if entry.revoked_at is None:
            continue
        revoked_cert = x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.revoked_at)
        reason = parse_reason(entry.reason or RevocationReason.UNSPECIFIED.value)
        # RFC 5280 5.3.1: omit the reason code rather than say "unspecified".
        if reason is not RevocationReason.UNSPECIFIED:
            revoked_cert = revoked_cert.add_extension(x509.CRLReason(reason.flag), critical=False)
        builder = builder.add_revoked_certificate(revoked_cert.build())
    return builder.sign(ca_key, hashes.SHA256())
