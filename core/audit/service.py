"""Reading and verifying the audit trail, with the permission check in core."""

from __future__ import annotations

from core.audit.trail import AuditEntry, AuditFilter, AuditResult, AuditTrail, ChainReport
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.storage.database import Database


class AuditLog:
    def __init__(self, db: Database, trail: AuditTrail, authorizer: Authorizer) -> None:
        self.db = db
        self.trail = trail
        self.authorizer = authorizer

    def query(self, actor: Principal, flt: AuditFilter = AuditFilter()) -> list[AuditEntry]:
        self.authorizer.require(actor, Permission.VIEW_AUDIT, "audit")
        with self.db.session() as s:
            return self.trail.query(s, flt)

    def filter_choices(self, actor: Principal) -> dict[str, list[str]]:
        self.authorizer.require(actor, Permission.VIEW_AUDIT, "audit")
        with self.db.session() as s:
            return {col: self.trail.distinct_values(s, col) for col in ("username", "action")}

    def verify(self, actor: Principal) -> ChainReport:
        self.authorizer.require(actor, Permission.VIEW_AUDIT, "audit")
        with self.db.session() as s:
            report = self.trail.verify(s)
        with self.db.session() as s:
            self.trail.append(
                s, actor, "audit.verify", "audit",
                AuditResult.SUCCESS if report.intact else AuditResult.FAILURE,
                {"rows_checked": report.rows_checked, "problems": len(report.problems)},
            )
        return report

    def record_export(self, actor: Principal, flt: AuditFilter, fmt: str, rows: int, path: str) -> None:
        """Exports of the audit trail are themselves audited."""
        self.authorizer.require(actor, Permission.VIEW_AUDIT, "audit")
        with self.db.session() as s:
            self.trail.append(s, actor, "audit.export", path, detail={"format": fmt, "rows": rows, "filter": repr(flt)})
