"""Roles and the one permission matrix GridRoom enforces in its core services."""

from __future__ import annotations

import enum

from core.errors import UnknownRole


class Role(str, enum.Enum):
    ADMIN = "admin"
    OPERATOR = "operator"
    TRADER = "trader"
    VIEWER = "viewer"
    DEVICE = "device"  # a machine identity: never logs into the desktop

    @classmethod
    def parse(cls, name: str) -> "Role":
        try:
            return cls(name.strip().lower())
        except ValueError:
            known = ", ".join(r.value for r in cls)
            raise UnknownRole(f"unknown role {name!r}; known roles: {known}") from None


class Permission(str, enum.Enum):
    """What a principal may do. Values are stable: they appear in the audit trail."""

    VIEW_FLEET = "view_fleet"
    VIEW_HISTORY = "view_history"
    VIEW_REPORTS = "view_reports"
    EXPORT_REPORTS = "export_reports"
    VIEW_FINANCIALS = "view_financials"
    COMMAND_DEVICE = "command_device"
    EDIT_SCHEDULE = "edit_schedule"
    PROPOSE_SCHEDULE = "propose_schedule"
    APPROVE_SCHEDULE = "approve_schedule"
    DISTRIBUTE_SCHEDULE = "distribute_schedule"
    RUN_OPTIMIZATION = "run_optimization"
    MANAGE_MARKET_DATA = "manage_market_data"
    HANDLE_ALARMS = "handle_alarms"
    EDIT_ALARM_RULES = "edit_alarm_rules"
    MANAGE_DEVICES = "manage_devices"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    MANAGE_SETTINGS = "manage_settings"
    BACKUP_DATABASE = "backup_database"
    CHANGE_OWN_PASSWORD = "change_own_password"
    DEVICE_FETCH_SCHEDULE = "device_fetch_schedule"
    DEVICE_REPORT_STATUS = "device_report_status"
    DEVICE_SEND_ACK = "device_send_ack"


P = Permission
_READ = {P.VIEW_FLEET, P.VIEW_HISTORY, P.VIEW_REPORTS, P.EXPORT_REPORTS, P.CHANGE_OWN_PASSWORD}
_DEVICE = {P.DEVICE_FETCH_SCHEDULE, P.DEVICE_REPORT_STATUS, P.DEVICE_SEND_ACK}

# The matrix (DESIGN.md "Who uses it"). Admin holds every human permission; device permissions belong to
# machine identities only, so a stolen admin session cannot impersonate a device's acknowledgements.
PERMISSION_MATRIX: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(set(Permission) - _DEVICE),
    Role.OPERATOR: frozenset(
        _READ
        | {
            P.VIEW_FINANCIALS,
            P.COMMAND_DEVICE,
            P.EDIT_SCHEDULE,
            P.PROPOSE_SCHEDULE,
            P.APPROVE_SCHEDULE,
            P.DISTRIBUTE_SCHEDULE,
            P.HANDLE_ALARMS,
            P.RUN_OPTIMIZATION,  # issue #6: an operator may re-run the optimizer before approving its plan
        }
    ),
    Role.TRADER: frozenset(
        _READ | {P.VIEW_FINANCIALS, P.PROPOSE_SCHEDULE, P.RUN_OPTIMIZATION, P.MANAGE_MARKET_DATA}
    ),
    Role.VIEWER: frozenset(_READ),
    Role.DEVICE: frozenset(_DEVICE),
}


def allows(role: Role, permission: Permission) -> bool:
    """True when the matrix grants `permission` to `role`."""
    return permission in PERMISSION_MATRIX[role]
