"""User accounts: sign-in with lockout, first admin, and the admin's user management."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.passwords import DEFAULT_POLICY, PasswordPolicy, hash_password, needs_rehash, verify_password
from core.auth.principal import SYSTEM, Principal, this_host
from core.auth.roles import Permission, Role
from core.auth.tables import LoginAttemptRow, UserRow
from core.clock import Clock, SystemClock
from core.errors import (
    AccountInactive,
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    GridRoomError,
    NotFound,
)
from core.storage.database import Database

MAX_FAILED_ATTEMPTS = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Verified against when the user name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-0")


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None


@dataclass(frozen=True)
class UserFilter:
    role: Role | None = None
    active: bool | None = None
    logged_in_since: datetime | None = None  # last login at or after
    not_logged_in_since: datetime | None = None  # never, or last login before
    text: str | None = None  # substring of user name or display name


def validate_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise GridRoomError(
            f"user name {username!r} is not valid: use 2-64 characters a-z, 0-9, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class UserService:
    """Every method that changes accounts checks the actor's permission here, in core, and is audited."""

    def __init__(
        self,
        db: Database,
        audit: AuditTrail,
        authorizer: Authorizer,
        clock: Clock | None = None,
        policy: PasswordPolicy = DEFAULT_POLICY,
    ) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock or SystemClock()
        self.policy = policy

    # -- first run -----------------------------------------------------------------------------
    def has_admin(self) -> bool:
        with self.db.session() as s:
            stmt = select(func.count()).select_from(UserRow).where(UserRow.role == Role.ADMIN.value, UserRow.active)
            return s.execute(stmt).scalar_one() > 0

    def create_first_admin(self, username: str, password: str, display_name: str = "") -> UserInfo:
        """Create the first administrator. Refused once any active admin exists."""
        if self.has_admin():
            raise Conflict("an administrator already exists; ask them to create your account")
        return self._create(SYSTEM, username, Role.ADMIN, password, display_name, temporary=False)

    # -- sign-in -------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str, host: str | None = None) -> Principal:
        """Check a user name and password. Raises AuthenticationFailed, AccountLocked or AccountInactive."""
        host = host or this_host()
        name = username.strip().lower()
        now = self.clock.now()
        with self.db.session() as s:
            user = s.execute(select(UserRow).where(UserRow.username == name)).scalar_one_or_none()
            if user is None:
                verify_password(_DUMMY_HASH, password)
                self._record_attempt(s, name, None, False, host, "unknown_user")
                self.audit.append(s, name, "auth.login", f"user:{name}", AuditResult.FAILURE, {"reason": "unknown user"}, host)
                failure: GridRoomError = AuthenticationFailed("wrong user name or password")
            else:
                failure = self._check_user(s, user, password, host, now)
                if failure is None:
                    return Principal(user.id, user.username, Role(user.role), user.must_change_password, host)
        raise failure

    def _check_user(self, s: Session, user: UserRow, password: str, host: str, now: datetime) -> GridRoomError | None:
        locked_until = self._locked_until(s, user, now)
        resource = f"user:{user.username}"
        if locked_until is not None:
            self._record_attempt(s, user.username, user.id, False, host, "locked")
            self.audit.append(s, user.username, "auth.login", resource, AuditResult.DENIED, {"reason": "locked"}, host)
            return AccountLocked(self._locked_message(locked_until), locked_until)
        if not verify_password(user.password_hash, password):
            self._record_attempt(s, user.username, user.id, False, host, "bad_password")
            self.audit.append(s, user.username, "auth.login", resource, AuditResult.FAILURE, {"reason": "bad password"}, host)
            locked_until = self._locked_until(s, user, now)
            if locked_until is not None:
                self.audit.append(
                    s, user.username, "auth.lockout", resource, AuditResult.SUCCESS,
                    {"failed_attempts": MAX_FAILED_ATTEMPTS, "until": locked_until.isoformat()}, host,
                )
                return AccountLocked("wrong password; " + self._locked_message(locked_until), locked_until)
            return AuthenticationFailed("wrong user name or password")
        if not user.active:
            self._record_attempt(s, user.username, user.id, False, host, "inactive")
            self.audit.append(s, user.username, "auth.login", resource, AuditResult.DENIED, {"reason": "inactive"}, host)
            return AccountInactive(f"account {user.username!r} is deactivated; ask an administrator")
        if Role(user.role) is Role.DEVICE:
            self._record_attempt(s, user.username, user.id, False, host, "device_account")
            self.audit.append(s, user.username, "auth.login", resource, AuditResult.DENIED, {"reason": "device account"}, host)
            return AuthenticationFailed("device accounts cannot sign in to the control room")
        self._record_attempt(s, user.username, user.id, True, host, "")
        user.last_login_at = now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        self.audit.append(s, user.username, "auth.login", resource, AuditResult.SUCCESS, {}, host)
        return None

    def _locked_message(self, until: datetime) -> str:
        return (
            f"account locked after {MAX_FAILED_ATTEMPTS} failed attempts until "
            f"{until.strftime('%Y-%m-%d %H:%M UTC')}; an administrator can unlock it"
        )

    def _locked_until(self, s: Session, user: UserRow, now: datetime) -> datetime | None:
        since = now - LOCKOUT_WINDOW
        if user.lockout_cleared_at and user.lockout_cleared_at > since:
            since = user.lockout_cleared_at
        last_success = s.execute(
            select(func.max(LoginAttemptRow.at)).where(LoginAttemptRow.user_id == user.id, LoginAttemptRow.success)
        ).scalar_one()
        if last_success and last_success > since:
            since = last_success
        failures = (
            s.execute(
                select(LoginAttemptRow.at)
                .where(
                    LoginAttemptRow.user_id == user.id,
                    LoginAttemptRow.reason == "bad_password",
                    LoginAttemptRow.at > since,
                )
                .order_by(LoginAttemptRow.at.desc())
                .limit(MAX_FAILED_ATTEMPTS)
            )
            .scalars()
            .all()
        )
        if len(failures) < MAX_FAILED_ATTEMPTS:
            return None
        return failures[-1] + LOCKOUT_WINDOW

    def _record_attempt(self, s: Session, username: str, user_id: int | None, ok: bool, host: str, reason: str) -> None:
        s.add(LoginAttemptRow(username=username, user_id=user_id, at=self.clock.now(), success=ok, host=host, reason=reason))
        s.flush()

    def logout(self, actor: Principal) -> None:
        with self.db.session() as s:
            self.audit.append(s, actor, "auth.logout", f"user:{actor.username}")

    # -- own password --------------------------------------------------------------------------
    def change_password(self, actor: Principal, old_password: str, new_password: str) -> Principal:
        """Change the actor's own password; clears the temporary-password flag."""
        self.authorizer.require(actor, Permission.CHANGE_OWN_PASSWORD, f"user:{actor.username}")
        with self.db.session() as s:
            user = self._get(s, actor.username)
            if not verify_password(user.password_hash, old_password):
                self.audit.append(s, actor, "user.change_password", f"user:{user.username}", AuditResult.FAILURE, {"reason": "wrong current password"})
                failure: GridRoomError = AuthenticationFailed("the current password is wrong")
            elif verify_password(user.password_hash, new_password):
                failure = GridRoomError("the new password must differ from the current one")
            else:
                self.policy.check(new_password, user.username)
                user.password_hash = hash_password(new_password)
                user.must_change_password = False
                user.password_changed_at = self.clock.now()
                self.audit.append(s, actor, "user.change_password", f"user:{user.username}")
                return Principal(user.id, user.username, Role(user.role), False, actor.host)
        raise failure

    # -- administration ------------------------------------------------------------------------
    def create_user(
        self, actor: Principal, username: str, role: Role | str, temporary_password: str, display_name: str = ""
    ) -> UserInfo:
        """Create an account with a temporary password the user must change at first sign-in."""
        role = role if isinstance(role, Role) else Role.parse(role)
        self.authorizer.require(actor, Permission.MANAGE_USERS, f"user:{username}")
        return self._create(actor, username, role, temporary_password, display_name, temporary=True)

    def _create(self, actor: Principal, username: str, role: Role, password: str, display_name: str, temporary: bool) -> UserInfo:
        name = validate_username(username)
        self.policy.check(password, name)
        with self.db.session() as s:
            if s.execute(select(UserRow.id).where(UserRow.username == name)).first():
                raise Conflict(f"user name {name!r} is already taken")
            now = self.clock.now()
            row = UserRow(
                username=name, display_name=display_name.strip(), role=role.value,
                password_hash=hash_password(password), must_change_password=temporary,
                active=True, created_at=now, password_changed_at=now,
            )
            s.add(row)
            s.flush()
            self.audit.append(s, actor, "user.create", f"user:{name}", detail={"role": role.value, "temporary_password": temporary})
            return self._info(s, row)

    def set_role(self, actor: Principal, username: str, role: Role | str) -> UserInfo:
        role = role if isinstance(role, Role) else Role.parse(role)
        self.authorizer.require(actor, Permission.MANAGE_USERS, f"user:{username}")
        with self.db.session() as s:
            user = self._get(s, username)
            old = user.role
            if old == Role.ADMIN.value and role is not Role.ADMIN:
                self._keep_one_admin(s, user)
            user.role = role.value
            self.audit.append(s, actor, "user.set_role", f"user:{user.username}", detail={"from": old, "to": role.value})
            return self._info(s, user)

    def deactivate(self, actor: Principal, username: str) -> UserInfo:
        """Revoke access at once; the account's data and audit history stay."""
        self.authorizer.require(actor, Permission.MANAGE_USERS, f"user:{username}")
        with self.db.session() as s:
            user = self._get(s, username)
            if user.role == Role.ADMIN.value:
                self._keep_one_admin(s, user)
            user.active = False
            user.deactivated_at = self.clock.now()
            self.audit.append(s, actor, "user.deactivate", f"user:{user.username}")
            return self._info(s, user)

    def reactivate(self, actor: Principal, username: str) -> UserInfo:
        self.authorizer.require(actor, Permission.MANAGE_USERS, f"user:{username}")
        with self.db.session() as s:
            user = self._get(s, username)
            user.active = True
            user.deactivated_at = None
            self.audit.append(s, actor, "user.reactivate", f"user:{user.username}")
            return self._info(s, user)

    def reset_password(self, actor: Principal, username: str, temporary_password: str) -> UserInfo:
        """Set a temporary password (to be changed at next sign-in) and clear any lockout."""
        self.authorizer.require(actor, Permission.MANAGE_USERS, f"user:{username}")
        with self.db.session() as s:
            user = self._get(s, username)
            self.policy.check(temporary_password, user.username)
            user.password_hash = hash_password(temporary_password)
            user.must_change_password = True
            user.lockout_cleared_at = self.clock.now()
            self.audit.append(s, actor, "user.reset_password", f"user:{user.username}")
            return self._info(s, user)

    def unlock(self, actor: Principal, username: str) -> UserInfo:
        self.authorizer.require(actor, Permission.MANAGE_USERS, f"user:{username}")
        with self.db.session() as s:
            user = self._get(s, username)
            user.lockout_cleared_at = self.clock.now()
            self.audit.append(s, actor, "user.unlock", f"user:{user.username}")
            return self._info(s, user)

    def list_users(self, actor: Principal, flt: UserFilter = UserFilter()) -> list[UserInfo]:
        self.authorizer.require(actor, Permission.MANAGE_USERS, "users")
        with self.db.session() as s:
            stmt = select(UserRow).order_by(UserRow.username)
            if flt.role:
                stmt = stmt.where(UserRow.role == flt.role.value)
            if flt.active is not None:
                stmt = stmt.where(UserRow.active == flt.active)
            if flt.logged_in_since:
                stmt = stmt.where(UserRow.last_login_at >= flt.logged_in_since)
            if flt.not_logged_in_since:
                stmt = stmt.where((UserRow.last_login_at.is_(None)) | (UserRow.last_login_at < flt.not_logged_in_since))
            if flt.text:
                needle = flt.text.strip().lower()
                stmt = stmt.where(
                    UserRow.username.contains(needle, autoescape=True)
                    | func.lower(UserRow.display_name).contains(needle, autoescape=True)
                )
            return [self._info(s, u) for u in s.execute(stmt).scalars()]

    def get_user(self, actor: Principal, username: str) -> UserInfo:
        if actor.username != username.strip().lower():
            self.authorizer.require(actor, Permission.MANAGE_USERS, f"user:{username}")
        with self.db.session() as s:
            return self._info(s, self._get(s, username))

    # -- helpers -------------------------------------------------------------------------------
    def _get(self, s: Session, username: str) -> UserRow:
        user = s.execute(select(UserRow).where(UserRow.username == username.strip().lower())).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user named {username!r}")
        return user

    def _keep_one_admin(self, s: Session, leaving: UserRow) -> None:
        others = s.execute(
            select(func.count()).select_from(UserRow).where(
                UserRow.role == Role.ADMIN.value, UserRow.active, UserRow.id != leaving.id
            )
        ).scalar_one()
        if others == 0:
            raise Conflict(f"{leaving.username} is the last active administrator; appoint another first")

    def _info(self, s: Session, u: UserRow) -> UserInfo:
        return UserInfo(
            id=u.id, username=u.username, display_name=u.display_name, role=Role(u.role), active=u.active,
            must_change_password=u.must_change_password, created_at=u.created_at, last_login_at=u.last_login_at,
            locked_until=self._locked_until(s, u, self.clock.now()),
        )
