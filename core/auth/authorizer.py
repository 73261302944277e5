"""The single place where a core service asks: may this principal do this?"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.audit.trail import AuditResult, AuditTrail
from core.auth.principal import Principal
from core.auth.roles import Permission, Role, allows
from core.auth.tables import UserRow
from core.errors import AccountInactive, PasswordChangeRequired, PermissionDenied
from core.storage.database import Database


class Authorizer:
    """Checks permissions against the stored account, so role changes and deactivation apply at once.

    Every denial is written to the audit trail in its own transaction: the action it refused rolls back,
    the record of the refusal must not.
    """

    def __init__(self, db: Database, audit: AuditTrail) -> None:
        self.db = db
        self.audit = audit

    def require(self, actor: Principal, permission: Permission, resource: str = "") -> None:
        if actor.user_id is None:  # the local system principal (CLI bootstrap, runtime internals)
            return
        with self.db.session() as session:
            user = session.get(UserRow, actor.user_id)
            reason = self._refusal(user, permission)
        if reason is None:
            return
        kind, message = reason
        with self.db.session() as session:
            self.audit.append(
                session,
                actor,
                "permission.denied",
                resource,
                AuditResult.DENIED,
                {"permission": permission.value, "reason": kind},
            )
        raise {"inactive": AccountInactive, "password": PasswordChangeRequired}.get(kind, PermissionDenied)(message)

    def allowed(self, actor: Principal, permission: Permission) -> bool:
        """A quiet check for enabling controls; services still call require()."""
        if actor.user_id is None:
            return True
        with self.db.session() as session:
            return self._refusal(session.get(UserRow, actor.user_id), permission) is None

    @staticmethod
    def _refusal(user: UserRow | None, permission: Permission) -> tuple[str, str] | None:
        if user is None or not user.active:
            return "inactive", "this account is deactivated or no longer exists; sign in again"
        if user.must_change_password and permission is not Permission.CHANGE_OWN_PASSWORD:
            return "password", "set a new password before continuing (the current one is temporary)"
        role = Role(user.role)
        if not allows(role, permission):
            return "role", f"{user.username} ({role.value}) is not allowed to {permission.value.replace('_', ' ')}"
        return None
