"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

from core.errors import PasswordPolicyError

# OWASP's argon2id baseline (19 MiB, t=2, p=1) keeps a login well under a second on a 2-core laptop.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)

_COMMON = {"password", "passw0rd", "123456789012", "qwertyuiop12", "gridroom", "letmein", "administrator"}


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 12
    max_length: int = 256
    min_character_classes: int = 2  # of lower, upper, digit, symbol

    def problems(self, password: str, username: str = "") -> list[str]:
        """Every rule the password breaks, as sentences; empty when it is acceptable."""
        issues = []
        if len(password) < self.min_length:
            issues.append(f"must be at least {self.min_length} characters (has {len(password)})")
        if len(password) > self.max_length:
            issues.append(f"must be at most {self.max_length} characters")
        classes = sum(
            [
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            ]
        )
        if classes < self.min_character_classes:
            issues.append(
                f"must mix at least {self.min_character_classes} of: lower case, upper case, digits, symbols"
            )
        if username and username.lower() in password.lower():
            issues.append("must not contain the user name")
        if password.lower() in _COMMON or password.strip() == "":
            issues.append("is too common")
        return issues

    def check(self, password: str, username: str = "") -> None:
        issues = self.problems(password, username)
        if issues:
            raise PasswordPolicyError("password " + "; ".join(issues))


DEFAULT_POLICY = PasswordPolicy()
