"""Typed errors of GridRoom's certificate authority. Each carries a ``reason`` an operator can act on."""

from __future__ import annotations

from core.errors import GridRoomError


class PKIError(GridRoomError):
    """Base of every certificate-authority failure; ``reason`` says what was wrong in operator terms."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CAFolderMissing(PKIError):
    """The CA folder, or one of the files a CA needs in it, does not exist."""


class CAFolderCorrupt(PKIError):
    """The CA folder holds files that cannot be read as a GridRoom CA (bad PEM, key/cert mismatch, bad index)."""


class CAAlreadyExists(PKIError):
    """``create`` was pointed at a folder that already holds a CA; we never overwrite a CA key."""


class WrongPassphrase(PKIError):
    """The CA key could not be decrypted with the passphrase given (or needs one and none was given)."""


class InvalidIdentity(PKIError):
    """A device id or control name breaks the syntax rule, or is a name reserved for GridRoom itself."""


class UnknownDevice(PKIError):
    """No certificate was ever issued for this device id."""


class UnknownCertificate(PKIError):
    """No certificate with this serial number was issued by this CA."""


class AlreadyRevoked(PKIError):
    """The certificate (or every certificate of the device) is already revoked."""


class BundleExists(PKIError):
    """The provisioning bundle's path already exists and overwriting was not asked for."""
