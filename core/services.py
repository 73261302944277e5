"""The core services wired together over one database: what the CLI, the runtime and the GUI share."""

from __future__ import annotations

from dataclasses import dataclass

from core.audit.service import AuditLog
from core.audit.trail import AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.users import UserService
from core.clock import Clock, SystemClock
from core.secrets import SecretStore
from core.storage.database import Database


@dataclass
class CoreServices:
    db: Database
    clock: Clock
    audit: AuditTrail
    audit_log: AuditLog
    authorizer: Authorizer
    users: UserService
    secrets: SecretStore

    @classmethod
    def build(cls, db: Database, clock: Clock | None = None, secrets: SecretStore | None = None) -> "CoreServices":
        clock = clock or SystemClock()
        audit = AuditTrail(clock)
        authorizer = Authorizer(db, audit)
        return cls(
            db=db,
            clock=clock,
            audit=audit,
            audit_log=AuditLog(db, audit, authorizer),
            authorizer=authorizer,
            users=UserService(db, audit, authorizer, clock),
            secrets=secrets or SecretStore(),
        )

    def close(self) -> None:
        self.db.dispose()
