"""Secrets (database passwords, tokens, SMTP credentials) live in the OS keyring, never in files."""

from __future__ import annotations

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from core.errors import KeyringUnavailable

SERVICE = "gridroom"

_NO_KEYRING_HELP = (
    "No secure keyring is available on this machine, so GridRoom cannot store secrets. "
    "On a Linux desktop install and unlock GNOME Keyring or KWallet (with Secret Service); on a headless "
    "field box set PYTHON_KEYRING_BACKEND to a backend you trust. Secrets were not saved."
)


def _is_insecure(backend: KeyringBackend) -> bool:
    # The fail and null backends store nothing; plaintext files are not a secure store.
    name = f"{type(backend).__module__}.{type(backend).__name__}".lower()
    return backend.priority <= 0 or "fail" in name or "null" in name or "plaintext" in name


class SecretStore:
    """Get and set secrets by name under the `gridroom` service in the keyring."""

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE) -> None:
        self._backend = backend
        self.service = service

    @property
    def backend(self) -> KeyringBackend:
        return self._backend or keyring.get_keyring()

    def available(self) -> tuple[bool, str]:
        """(True, backend name) when a secure keyring is usable, else (False, what to do about it)."""
        backend = self.backend
        if _is_insecure(backend):
            return False, _NO_KEYRING_HELP
        return True, type(backend).__name__

    def _require(self) -> KeyringBackend:
        ok, message = self.available()
        if not ok:
            raise KeyringUnavailable(message)
        return self.backend

    def set(self, name: str, value: str) -> None:
        try:
            self._require().set_password(self.service, name, value)
        except (NoKeyringError, KeyringError) as exc:
            raise KeyringUnavailable(f"{_NO_KEYRING_HELP} ({exc})") from exc

    def get(self, name: str) -> str | None:
        """The secret, or None when it was never stored. Raises KeyringUnavailable without a keyring."""
        try:
            return self._require().get_password(self.service, name)
        except (NoKeyringError, KeyringError) as exc:
            raise KeyringUnavailable(f"{_NO_KEYRING_HELP} ({exc})") from exc

    def delete(self, name: str) -> None:
        try:
            self._require().delete_password(self.service, name)
        except PasswordDeleteError:
            pass
        except (NoKeyringError, KeyringError) as exc:
            raise KeyringUnavailable(f"{_NO_KEYRING_HELP} ({exc})") from exc
