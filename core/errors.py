"""Typed errors that core services raise. Each says what was wrong and where, in operator terms."""

from __future__ import annotations


class GridRoomError(Exception):
    """Base of every error GridRoom shows to a person."""


class StorageError(GridRoomError):
    """The database cannot be used."""


class DatabaseUnreachable(StorageError):
    """The database URL points at a server that does not answer or refuses us."""


class CorruptDatabase(StorageError):
    """The file is not a readable GridRoom database."""


class SchemaTooNew(StorageError):
    """The database was written by a newer GridRoom; we refuse to touch it."""


class SchemaTooOld(StorageError):
    """The database needs `gridroom db upgrade` before this version can use it."""


class AuthError(GridRoomError):
    """Base of authentication and authorization failures."""


class AuthenticationFailed(AuthError):
    """Wrong user name or password. Deliberately does not say which."""


class AccountLocked(AuthError):
    """Too many failed attempts; the account is locked until `until`."""

    def __init__(self, message: str, until) -> None:
        super().__init__(message)
        self.until = until


class AccountInactive(AuthError):
    """The account has been deactivated by an administrator."""


class PasswordChangeRequired(AuthError):
    """The user holds a temporary password and must set their own before doing anything else."""


class PermissionDenied(AuthError):
    """The acting user's role does not allow the action."""


class PasswordPolicyError(GridRoomError):
    """A new password does not meet the policy; the message lists every rule it breaks."""


class UnknownRole(GridRoomError):
    """A role name that GridRoom does not know."""


class NotFound(GridRoomError):
    """The named record does not exist."""


class Conflict(GridRoomError):
    """The change clashes with what is stored (e.g. a user name already taken)."""


class KeyringUnavailable(GridRoomError):
    """No secure keyring backend is available on this machine."""
