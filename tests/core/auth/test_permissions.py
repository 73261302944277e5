"""The permission matrix, role by action, enforced inside core services and audited when it refuses."""

from __future__ import annotations

import pytest

from core.audit.trail import AuditFilter
from core.auth.principal import Principal
from core.auth.roles import PERMISSION_MATRIX, Permission, Role, allows
from core.errors import AccountInactive, PasswordChangeRequired, PermissionDenied, UnknownRole

STRONG = "Correct-Horse-42"

EXPECTED = {
    # permission: roles that hold it
    Permission.MANAGE_USERS: {Role.ADMIN},
    Permission.VIEW_AUDIT: {Role.ADMIN},
    Permission.MANAGE_DEVICES: {Role.ADMIN},
    Permission.EDIT_ALARM_RULES: {Role.ADMIN},
    Permission.COMMAND_DEVICE: {Role.ADMIN, Role.OPERATOR},
    Permission.APPROVE_SCHEDULE: {Role.ADMIN, Role.OPERATOR},
    Permission.DISTRIBUTE_SCHEDULE: {Role.ADMIN, Role.OPERATOR},
    Permission.HANDLE_ALARMS: {Role.ADMIN, Role.OPERATOR},
    Permission.PROPOSE_SCHEDULE: {Role.ADMIN, Role.OPERATOR, Role.TRADER},
    Permission.RUN_OPTIMIZATION: {Role.ADMIN, Role.OPERATOR, Role.TRADER},
    Permission.VIEW_FINANCIALS: {Role.ADMIN, Role.OPERATOR, Role.TRADER},
    Permission.VIEW_FLEET: {Role.ADMIN, Role.OPERATOR, Role.TRADER, Role.VIEWER},
    Permission.VIEW_REPORTS: {Role.ADMIN, Role.OPERATOR, Role.TRADER, Role.VIEWER},
    Permission.DEVICE_SEND_ACK: {Role.DEVICE},
    Permission.DEVICE_FETCH_SCHEDULE: {Role.DEVICE},
}


@pytest.mark.parametrize("permission", list(EXPECTED))
@pytest.mark.parametrize("role", list(Role))
def test_matrix_role_by_action(role, permission):
    assert allows(role, permission) == (role in EXPECTED[permission])


def test_every_role_has_an_entry_and_viewer_is_read_only():
    assert set(PERMISSION_MATRIX) == set(Role)
    writes = {p for p in Permission if not p.value.startswith(("view_", "export_", "change_own", "device_"))}
    assert not (PERMISSION_MATRIX[Role.VIEWER] & writes)


def test_unknown_role_names_the_known_ones():
    with pytest.raises(UnknownRole, match="known roles: admin, operator, trader, viewer, device"):
        Role.parse("superuser")


@pytest.fixture
def people(sqlite_services):
    users = sqlite_services.users
    admin = users.create_first_admin("root-admin", STRONG)
    admin_p = users.authenticate("root-admin", STRONG)
    for name, role in [("olga", "operator"), ("tom", "trader"), ("vic", "viewer")]:
        users.create_user(admin_p, name, role, STRONG)
        p = users.authenticate(name, STRONG)
        users.change_password(p, STRONG, STRONG + "!x")
    return {
        "admin": admin_p,
        **{n: users.authenticate(n, STRONG + "!x") for n in ("olga", "tom", "vic")},
    }


@pytest.mark.parametrize("who", ["olga", "tom", "vic"])
def test_non_admin_cannot_manage_users_and_the_denial_is_audited(sqlite_services, people, who):
    with pytest.raises(PermissionDenied, match="not allowed to manage users"):
        sqlite_services.users.create_user(people[who], "mallory", "admin", STRONG)
    with sqlite_services.db.session() as s:
        denied = sqlite_services.audit.query(s, AuditFilter(action="permission.denied", username=who))
    assert len(denied) == 1
    assert denied[0].result == "denied"
    assert denied[0].detail["permission"] == "manage_users"
    assert denied[0].resource == "user:mallory"


def test_role_change_takes_effect_immediately(sqlite_services, people):
    authz = sqlite_services.authorizer
    vic = people["vic"]
    assert not authz.allowed(vic, Permission.COMMAND_DEVICE)
    sqlite_services.users.set_role(people["admin"], "vic", Role.OPERATOR)
    # The principal object still says viewer; the stored role decides.
    assert vic.role is Role.VIEWER
    authz.require(vic, Permission.COMMAND_DEVICE, "device:x")


def test_deactivation_revokes_access_at_once_and_keeps_data(sqlite_services, people):
    olga = people["olga"]
    sqlite_services.authorizer.require(olga, Permission.COMMAND_DEVICE)
    sqlite_services.users.deactivate(people["admin"], "olga")
    with pytest.raises(AccountInactive):
        sqlite_services.authorizer.require(olga, Permission.VIEW_FLEET)
    info = sqlite_services.users.get_user(people["admin"], "olga")
    assert info.active is False and info.role is Role.OPERATOR
    with sqlite_services.db.session() as s:
        assert sqlite_services.audit.query(s, AuditFilter(username="olga", action="auth.login"))


def test_temporary_password_blocks_everything_but_changing_it(sqlite_services, people):
    sqlite_services.users.create_user(people["admin"], "newbie", "operator", STRONG)
    newbie = sqlite_services.users.authenticate("newbie", STRONG)
    assert newbie.must_change_password
    with pytest.raises(PasswordChangeRequired):
        sqlite_services.authorizer.require(newbie, Permission.VIEW_FLEET)
    fresh = sqlite_services.users.change_password(newbie, STRONG, "Brand-New-Pass-7")
    assert not fresh.must_change_password
    sqlite_services.authorizer.require(fresh, Permission.VIEW_FLEET)


def test_system_principal_bypasses_checks_for_bootstrap(sqlite_services):
    from core.auth.principal import SYSTEM

    sqlite_services.authorizer.require(SYSTEM, Permission.MANAGE_USERS)
    ghost = Principal(user_id=999, username="ghost", role=Role.ADMIN)
    with pytest.raises(AccountInactive):
        sqlite_services.authorizer.require(ghost, Permission.VIEW_FLEET)
