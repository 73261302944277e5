"""Each user's notification preferences: which channels reach them (e-mail address, SMS number, desktop),
the least urgent priority they want, and an optional sound for new critical alarms (off by default).

A user edits only their own preferences (an admin with MANAGE_USERS may edit anyone's); every change is
audited. Webhooks are team channels configured by the admin, so they are not a personal choice here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import select

from core.alarms.escalation import Channel, NotificationPreferences
from core.alarms.priorities import Priority
from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.auth.tables import UserRow
from core.clock import Clock
from core.notifications.errors import NotificationConfigError
from core.notifications.tables import NotificationPreferenceRow
from core.storage.database import Database

# Deliberately plain: the SMTP server is the judge of deliverability; this catches typos.
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+$")
# E.164: a plus, a country code that does not start with 0, 7 to 15 digits in all.
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")

# The webhook recipient: one Slack / PagerDuty message per escalation step, not one per user.
TEAM_RECIPIENT = "on-call-team"


def check_email(value: str, where: str = "e-mail address") -> str:
    """The address stripped; NotificationConfigError naming `where` when it is not an e-mail address."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or len(text) > 254 or not _EMAIL.match(text):
        raise NotificationConfigError(f"{where}: {value!r} is not an e-mail address like name@example.org")
    return text


def check_sms_number(value: str, where: str = "SMS number") -> str:
    """The number in E.164 form (+32470123456; spaces, dashes, dots and brackets dropped)."""
    text = _PHONE_SEPARATORS.sub("", value) if isinstance(value, str) else value
    if not isinstance(text, str) or not _E164.match(text):
        raise NotificationConfigError(
            f"{where}: {value!r} is not an international number like +32 470 12 34 56 (E.164: '+', country code, "
            "7 to 15 digits)")
    return text


@dataclass(frozen=True)
class UserNotificationSettings:
    """What one user chose. A channel reaches them only when it is enabled and has an address."""

    username: str
    email: str | None = None
    sms_number: str | None = None
    email_enabled: bool = False
    sms_enabled: bool = False
    desktop_enabled: bool = True
    sound_enabled: bool = False
    min_priority: Priority = Priority.WARNING

    def validated(self) -> UserNotificationSettings:
        """A cleaned copy; NotificationConfigError names the first field that is wrong."""
        try:
            priority = Priority(self.min_priority)
        except ValueError:
            raise NotificationConfigError(f"minimum priority: unknown priority {self.min_priority!r}") from None
        email = check_email(self.email) if self.email and self.email.strip() else None
        number = check_sms_number(self.sms_number) if self.sms_number and self.sms_number.strip() else None
        if self.email_enabled and email is None:
            raise NotificationConfigError("e-mail address: needed to receive alarms by e-mail")
        if self.sms_enabled and number is None:
            raise NotificationConfigError("SMS number: needed to receive alarms by SMS")
        return replace(self, email=email, sms_number=number, min_priority=priority)

    @property
    def channels(self) -> frozenset[Channel]:
        out = set()
        if self.desktop_enabled:
            out.add(Channel.DESKTOP)
        if self.email_enabled and self.email:
            out.add(Channel.EMAIL)
        if self.sms_enabled and self.sms_number:
            out.add(Channel.SMS)
        return frozenset(out)

    def preferences(self) -> NotificationPreferences:
        """The escalation policy's view of this user."""
        return NotificationPreferences(self.username, self.channels, self.min_priority)


def _from_row(row: NotificationPreferenceRow) -> UserNotificationSettings:
    return UserNotificationSettings(row.username, row.email, row.sms_number, row.email_enabled, row.sms_enabled,
                                    row.desktop_enabled, row.sound_enabled, Priority(row.min_priority))


@dataclass(frozen=True)
class Recipients:
    """Everyone notifications may reach, read in one query: preferences plus address books."""

    preferences: tuple[NotificationPreferences, ...]
    emails: dict[str, tuple[str, ...]]
    sms_numbers: dict[str, tuple[str, ...]]


class NotificationPreferenceService:
    """Reads and changes users' notification preferences, with permission checks and audit."""

    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, clock: Clock) -> None:
        self.db, self.audit, self.authorizer, self.clock = db, audit, authorizer, clock

    def get(self, actor: Principal, username: str | None = None) -> UserNotificationSettings:
        """`username`'s preferences (the actor's own by default); defaults when never saved."""
        username = username or actor.username
        self._require(actor, username)
        with self.db.session() as s:
            row = s.get(NotificationPreferenceRow, username)
            return _from_row(row) if row is not None else UserNotificationSettings(username)

    def save(self, actor: Principal, settings: UserNotificationSettings) -> UserNotificationSettings:
        """Store `settings` after validation; a refused change leaves the stored preferences as they were."""
        resource = f"notification_preferences:{settings.username}"
        self._require(actor, settings.username)
        try:
            clean = settings.validated()
        except NotificationConfigError as error:
            self._audit(actor, resource, AuditResult.FAILURE, {"reason": str(error)})
            raise
        with self.db.session() as s:
            row = s.get(NotificationPreferenceRow, clean.username) or NotificationPreferenceRow(username=clean.username)
            row.email, row.sms_number = clean.email, clean.sms_number
            row.email_enabled, row.sms_enabled = clean.email_enabled, clean.sms_enabled
            row.desktop_enabled, row.sound_enabled = clean.desktop_enabled, clean.sound_enabled
            row.min_priority, row.updated_at = clean.min_priority.value, self.clock.now()
            s.add(row)
            self.audit.append(s, actor, "notification.preferences_update", resource, AuditResult.SUCCESS, {
                "channels": sorted(c.value for c in clean.channels), "min_priority": clean.min_priority.value,
                "sound": clean.sound_enabled})
        return clean

    def recipients(self) -> Recipients:
        """Preferences and addresses of every active user who saved preferences (system use: the runtime)."""
        with self.db.session() as s:
            rows = list(s.execute(
                select(NotificationPreferenceRow).join(UserRow, UserRow.username == NotificationPreferenceRow.username)
                .where(UserRow.active.is_(True))).scalars())
            settings = [_from_row(r) for r in rows]
        return Recipients(
            tuple(x.preferences() for x in settings),
            {x.username: (x.email,) for x in settings if x.email},
            {x.username: (x.sms_number,) for x in settings if x.sms_number})

    def _require(self, actor: Principal, username: str) -> None:
        if username == actor.username:
            self.authorizer.require(actor, Permission.VIEW_FLEET, f"notification_preferences:{username}")
        else:
            self.authorizer.require(actor, Permission.MANAGE_USERS, f"notification_preferences:{username}")

    def _audit(self, actor: Principal, resource: str, result: AuditResult, detail: dict) -> None:
        with self.db.session() as s:
            self.audit.append(s, actor, "notification.preferences_update", resource, result, detail)
