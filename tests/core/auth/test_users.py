"""Sign-in, lockout with an injected clock, password policy, and the admin's user management."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.audit.trail import AuditFilter
from core.auth.passwords import DEFAULT_POLICY, hash_password, verify_password
from core.auth.roles import Role
from core.auth.users import UserFilter
from core.errors import (
    AccountInactive,
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    GridRoomError,
    NotFound,
    PasswordPolicyError,
    UnknownRole,
)

STRONG = "Correct-Horse-42"


@pytest.fixture
def admin(services):
    services.users.create_first_admin("chief", STRONG, "Chief Admin")
    return services.users.authenticate("chief", STRONG)


def test_first_admin_only_once(services, admin):
    assert services.users.has_admin()
    with pytest.raises(Conflict, match="already exists"):
        services.users.create_first_admin("second", STRONG)


def test_passwords_are_argon2id_and_verify(services, admin):
    from core.auth.tables import UserRow

    with services.db.session() as s:
        stored = s.query(UserRow).filter_by(username="chief").one().password_hash
    assert stored.startswith("$argon2id$")
    assert STRONG not in stored


def test_lockout_after_five_failures_in_fifteen_minutes(services, admin, clock):
    users = services.users
    users.create_user(admin, "olga", "operator", STRONG)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            users.authenticate("olga", "wrong-password-1", host="ws-7")
        clock.advance(timedelta(minutes=2))
    with pytest.raises(AccountLocked) as locked:
        users.authenticate("olga", "wrong-password-1", host="ws-7")
    # Even the right password is refused while locked.
    with pytest.raises(AccountLocked, match="locked after 5 failed attempts"):
        users.authenticate("olga", STRONG)
    # The lock lifts 15 minutes after the first of the five failures.
    clock.advance(locked.value.until - clock.now() + timedelta(seconds=1))
    assert users.authenticate("olga", STRONG).username == "olga"
    with services.db.session() as s:
        failures = services.audit.query(s, AuditFilter(action="auth.login", username="olga", result="failure"))
        lockouts = services.audit.query(s, AuditFilter(action="auth.lockout", username="olga"))
        denied = services.audit.query(s, AuditFilter(action="auth.login", username="olga", result="denied"))
    assert len(failures) == 5 and all(e.host == "ws-7" for e in failures)
    assert len(lockouts) == 1 and len(denied) == 1


def test_failures_spread_beyond_the_window_do_not_lock(services, admin, clock):
    services.users.create_user(admin, "tom", "trader", STRONG)
    for _ in range(8):
        with pytest.raises(AuthenticationFailed):
            services.users.authenticate("tom", "nope-nope-123")
        clock.advance(timedelta(minutes=4))  # at most 4 failures in any 15-minute window
    assert services.users.authenticate("tom", STRONG).username == "tom"


def test_admin_unlock_and_reset_clear_the_lock(services, admin):
    services.users.create_user(admin, "vic", "viewer", STRONG)
    for _ in range(5):
        with pytest.raises((AuthenticationFailed, AccountLocked)):
            services.users.authenticate("vic", "bad-password-99")
    assert services.users.get_user(admin, "vic").locked_until is not None
    services.users.unlock(admin, "vic")
    assert services.users.get_user(admin, "vic").locked_until is None
    assert services.users.authenticate("vic", STRONG).must_change_password


def test_unknown_user_gets_the_same_message_and_is_logged(services, admin):
    with pytest.raises(AuthenticationFailed, match="wrong user name or password"):
        services.users.authenticate("nobody", STRONG)
    with services.db.session() as s:
        assert services.audit.query(s, AuditFilter(username="nobody", action="auth.login"))[0].result == "failure"


def test_deactivated_user_cannot_sign_in(services, admin):
    services.users.create_user(admin, "gone", "viewer", STRONG)
    services.users.deactivate(admin, "gone")
    with pytest.raises(AccountInactive, match="deactivated"):
        services.users.authenticate("gone", STRONG)


def test_device_accounts_cannot_sign_in_to_the_desktop(services, admin):
    services.users.create_user(admin, "bess-001", "device", STRONG)
    with pytest.raises(AuthenticationFailed, match="device accounts"):
        services.users.authenticate("bess-001", STRONG)


def test_last_admin_cannot_be_demoted_or_deactivated(services, admin):
    with pytest.raises(Conflict, match="last active administrator"):
        services.users.set_role(admin, "chief", "viewer")
    with pytest.raises(Conflict, match="last active administrator"):
        services.users.deactivate(admin, "chief")


def test_duplicate_user_name_and_unknown_role_are_refused(services, admin):
    services.users.create_user(admin, "olga", "operator", STRONG)
    with pytest.raises(Conflict, match="already taken"):
        services.users.create_user(admin, "OLGA", "viewer", STRONG)
    with pytest.raises(UnknownRole):
        services.users.create_user(admin, "zed", "superuser", STRONG)
    with pytest.raises(NotFound):
        services.users.set_role(admin, "nobody", "viewer")


def test_list_with_role_status_and_last_login_filters(services, admin, clock):
    for name, role in [("olga", "operator"), ("otto", "operator"), ("vic", "viewer")]:
        services.users.create_user(admin, name, role, STRONG)
    services.users.deactivate(admin, "otto")
    clock.advance(timedelta(minutes=1))
    cutoff = clock.now()
    clock.advance(timedelta(hours=1))
    services.users.authenticate("olga", STRONG)
    names = lambda flt: [u.username for u in services.users.list_users(admin, flt)]  # noqa: E731
    assert names(UserFilter(role=Role.OPERATOR)) == ["olga", "otto"]
    assert names(UserFilter(active=False)) == ["otto"]
    assert names(UserFilter(logged_in_since=cutoff)) == ["olga"]
    assert names(UserFilter(not_logged_in_since=cutoff)) == ["chief", "otto", "vic"]  # chief signed in before it
    assert "chief" not in names(UserFilter(not_logged_in_since=cutoff - timedelta(days=1)))


def test_admin_actions_are_audited(services, admin):
    services.users.create_user(admin, "olga", "operator", STRONG)
    services.users.set_role(admin, "olga", "trader")
    services.users.reset_password(admin, "olga", "Temporary-Pass-1")
    services.users.deactivate(admin, "olga")
    with services.db.session() as s:
        actions = [e.action for e in services.audit.query(s, AuditFilter(username="chief", action="user."))]
    assert actions == ["user.deactivate", "user.reset_password", "user.set_role", "user.create"]


def test_policy_messages_list_every_broken_rule():
    with pytest.raises(PasswordPolicyError) as info:
        DEFAULT_POLICY.check("olga", "olga")
    text = str(info.value)
    assert "at least 12 characters" in text and "user name" in text


@given(st.text(max_size=40), st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10))
def test_policy_never_crashes_and_is_consistent(password, username):
    problems = DEFAULT_POLICY.problems(password, username)
    if problems:
        with pytest.raises(PasswordPolicyError):
            DEFAULT_POLICY.check(password, username)
    else:
        assert len(password) >= 12 and username not in password.lower()


def test_bad_user_names_are_refused(services, admin):
    for bad in ["", "a", "has space", "x" * 80, "Ünïcode", "-dash-first"]:
        with pytest.raises(GridRoomError, match="user name"):
            services.users.create_user(admin, bad, "viewer", STRONG)


def test_hash_roundtrip():
    h = hash_password("Another-Good-One-9")
    assert verify_password(h, "Another-Good-One-9")
    assert not verify_password(h, "another-good-one-9")
    assert not verify_password("not-a-hash", "x")
