"""GridRoom's own certificate authority for MQTT device authentication (DESIGN.md, "Device contracts").

Devices authenticate to the broker with client certificates issued here; the broker's ACL confines each
certificate's CN (its device id) to its own topics. Uses the ``cryptography`` package only.
"""

from core.pki.bundle import provisioning_bundle
from core.pki.ca import CertificateAuthority, IssuedCertificate
from core.pki.errors import (
    AlreadyRevoked,
    BundleExists,
    CAAlreadyExists,
    CAFolderCorrupt,
    CAFolderMissing,
    InvalidIdentity,
    PKIError,
    UnknownCertificate,
    UnknownDevice,
    WrongPassphrase,
)
from core.pki.identity import CONTROL_IDENTITY, DEVICE_ID_PATTERN, check_device_id, is_valid_device_id
from core.pki.index import IndexEntry
from core.pki.revocation import RevocationReason

__all__ = [
    "CONTROL_IDENTITY",
    "DEVICE_ID_PATTERN",
    "AlreadyRevoked",
    "BundleExists",
    "CAAlreadyExists",
    "CAFolderCorrupt",
    "CAFolderMissing",
    "CertificateAuthority",
    "IndexEntry",
    "InvalidIdentity",
    "IssuedCertificate",
    "PKIError",
    "RevocationReason",
    "UnknownCertificate",
    "UnknownDevice",
    "WrongPassphrase",
    "check_device_id",
    "is_valid_device_id",
    "provisioning_bundle",
]
