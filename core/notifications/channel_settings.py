"""The admin's notification set-up: SMTP server, Slack-style and PagerDuty webhooks, the SMS gateway, and
the escalation chain. Non-secret settings go to the database; every secret (SMTP password, the Slack
webhook URL, which carries its token, the PagerDuty routing key, the gateway's API key) goes to the OS
keyring through core.secrets and nowhere else. Changes need MANAGE_SETTINGS and are audited.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Literal

from core.alarms.escalation import Channel, EscalationPolicy, EscalationPolicyError, EscalationStep, default_escalation
from core.alarms.priorities import Priority
from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Permission
from core.clock import Clock
from core.notifications.errors import NotificationConfigError
from core.notifications.http_post import check_http_url
from core.notifications.preferences import check_email
from core.notifications.tables import NotificationChannelRow, NotificationEscalationRow
from core.secrets import SecretStore
from core.storage.database import Database

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SECRET_NAMES = {
    "email": "notify:smtp-password",
    "slack": "notify:slack-webhook-url",
    "pagerduty": "notify:pagerduty-routing-key",
    "sms": "notify:sms-api-key",
}


@dataclass(frozen=True)
class EmailSettings:
    """SMTP server. `security`: "none", "starttls" or "tls" (implicit TLS, usually port 465)."""

    enabled: bool = False
    host: str = ""
    port: int = 587
    sender: str = ""
    username: str = ""
    security: Literal["none", "starttls", "tls"] = "starttls"
    timeout_s: float = 10.0
    channel = "email"

    def validated(self) -> EmailSettings:
        if not self.enabled:
            return self
        if not self.host.strip():
            raise NotificationConfigError("SMTP host: required when e-mail is enabled")
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise NotificationConfigError(f"SMTP port: must be 1..65535, got {self.port!r}")
        check_email(self.sender, "SMTP sender address")
        if self.security not in ("none", "starttls", "tls"):
            raise NotificationConfigError(f"SMTP security: must be none, starttls or tls, got {self.security!r}")
        _check_timeout(self.timeout_s, "SMTP timeout")
        return EmailSettings(True, self.host.strip(), self.port, self.sender.strip(), self.username.strip(),
                             self.security, float(self.timeout_s))


@dataclass(frozen=True)
class SlackSettings:
    """A Slack-style incoming webhook. Its URL is the secret (it carries the token), so it is not here."""

    enabled: bool = False
    timeout_s: float = 10.0
    channel = "slack"

    def validated(self) -> SlackSettings:
        _check_timeout(self.timeout_s, "Slack timeout")
        return self


@dataclass(frozen=True)
class PagerDutySettings:
    """PagerDuty Events API v2: the endpoint here, the integration's routing key in the keyring."""

    enabled: bool = False
    url: str = PAGERDUTY_EVENTS_URL
    timeout_s: float = 10.0
    channel = "pagerduty"

    def validated(self) -> PagerDutySettings:
        if self.enabled:
            check_http_url(self.url, "PagerDuty URL")
        _check_timeout(self.timeout_s, "PagerDuty timeout")
        return self


@dataclass(frozen=True)
class SmsSettings:
    """A JSON SMS gateway: its URL and sender id here, its API key in the keyring."""

    enabled: bool = False
    url: str = ""
    sender_id: str = ""
    timeout_s: float = 10.0
    channel = "sms"

    def validated(self) -> SmsSettings:
        if self.enabled:
            check_http_url(self.url, "SMS gateway URL")
        if len(self.sender_id) > 11 and not self.sender_id.lstrip("+").isdigit():
            raise NotificationConfigError(f"SMS sender id: at most 11 characters, got {self.sender_id!r}")
        _check_timeout(self.timeout_s, "SMS timeout")
        return self


ChannelSettings = EmailSettings | SlackSettings | PagerDutySettings | SmsSettings
_TYPES: dict[str, type] = {"email": EmailSettings, "slack": SlackSettings, "pagerduty": PagerDutySettings,
                           "sms": SmsSettings}


def _check_timeout(value: object, where: str) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 < value <= 600:
        raise NotificationConfigError(f"{where}: must be in (0, 600] seconds, got {value!r}")


@dataclass(frozen=True)
class NotificationSetup:
    """Everything the admin configured. `secrets_stored` says which secrets exist, never their values."""

    email: EmailSettings = EmailSettings()
    slack: SlackSettings = SlackSettings()
    pagerduty: PagerDutySettings = PagerDutySettings()
    sms: SmsSettings = SmsSettings()
    escalation: EscalationPolicy = field(default_factory=default_escalation)
    secrets_stored: frozenset[str] = frozenset()


def policy_to_json(policy: EscalationPolicy) -> tuple[str, str]:
    steps = [{"channel": s.channel.value, "after_min": s.after_min} for s in policy.steps]
    return json.dumps(steps), json.dumps(sorted(p.value for p in policy.priorities))


def policy_from_json(steps_json: str, priorities_json: str) -> EscalationPolicy:
    steps = tuple(EscalationStep(Channel(s["channel"]), float(s["after_min"])) for s in json.loads(steps_json))
    return EscalationPolicy(steps, frozenset(Priority(p) for p in json.loads(priorities_json)))


class NotificationSetupService:
    """Loads and changes the admin's notification set-up (MANAGE_SETTINGS, audited)."""

    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, clock: Clock,
                 secrets: SecretStore) -> None:
        self.db, self.audit, self.authorizer, self.clock, self.secrets = db, audit, authorizer, clock, secrets

    def load(self, actor: Principal = SYSTEM) -> NotificationSetup:
        """The stored set-up (defaults for what was never saved)."""
        self.authorizer.require(actor, Permission.MANAGE_SETTINGS, "notification_setup")
        values: dict[str, object] = {}
        with self.db.session() as s:
            for row in s.query(NotificationChannelRow).all():
                kind = _TYPES.get(row.channel)
                if kind is None:
                    continue
                raw = json.loads(row.settings_json)
                raw["enabled"] = row.enabled
                values[row.channel] = kind(**{k: v for k, v in raw.items() if k in kind.__dataclass_fields__})
            esc = s.get(NotificationEscalationRow, 1)
            if esc is not None:
                values["escalation"] = policy_from_json(esc.steps_json, esc.priorities_json)
        stored = frozenset(name for name, key in SECRET_NAMES.items() if self._has_secret(key))
        return NotificationSetup(**values, secrets_stored=stored)

    def secret(self, channel: str) -> str | None:
        """The channel's secret from the keyring (system use, when building the channels)."""
        return self.secrets.get(SECRET_NAMES[channel])

    def save_channel(self, actor: Principal, settings: ChannelSettings, secret: str | None = None) -> ChannelSettings:
        """Store one channel's settings; `secret` None keeps the stored secret, "" deletes it.

        Validation happens before anything is written, so a refused change loses nothing stored. The secret
        goes to the keyring first: without a keyring the whole change is refused (KeyringUnavailable).
        """
        resource = f"notification_channel:{settings.channel}"
        self.authorizer.require(actor, Permission.MANAGE_SETTINGS, resource)
        try:
            clean = settings.validated()
            if settings.channel in ("slack",) and secret:
                check_http_url(secret, "Slack webhook URL")
            if clean.enabled and secret is None and not self._has_secret(SECRET_NAMES[clean.channel]) \
                    and clean.channel != "email":
                raise NotificationConfigError(f"{clean.channel}: enabling it needs its "
                                              f"{_SECRET_WORDS[clean.channel]}")
            if secret is not None:
                if secret:
                    self.secrets.set(SECRET_NAMES[clean.channel], secret)
                else:
                    self.secrets.delete(SECRET_NAMES[clean.channel])
        except Exception as error:
            self._audit(actor, resource, AuditResult.FAILURE, {"reason": str(error)})
            raise
        body = {k: v for k, v in asdict(clean).items() if k != "enabled"}
        with self.db.session() as s:
            row = s.get(NotificationChannelRow, clean.channel) or NotificationChannelRow(channel=clean.channel)
            row.enabled, row.settings_json = clean.enabled, json.dumps(body)
            row.changed_by, row.changed_at = actor.username, self.clock.now()
            s.add(row)
            self.audit.append(s, actor, "notification.channel_update", resource, AuditResult.SUCCESS,
                              {"enabled": clean.enabled, "settings": body,
                               "secret": "unchanged" if secret is None else ("replaced" if secret else "deleted")})
        return clean

    def save_escalation(self, actor: Principal, steps: list[tuple[Channel | str, float]],
                        priorities: set[Priority | str]) -> EscalationPolicy:
        """Store the escalation chain: e.g. [(desktop, 0), (email, 5), (sms, 15)] for {critical}."""
        resource = "notification_escalation"
        self.authorizer.require(actor, Permission.MANAGE_SETTINGS, resource)
        try:
            try:
                built = tuple(EscalationStep(Channel(c), float(m)) for c, m in steps)
                prios = frozenset(Priority(p) for p in priorities)
            except (ValueError, TypeError) as exc:
                raise EscalationPolicyError(f"escalation: {exc}") from None
            if not prios:
                raise EscalationPolicyError("escalation: choose at least one priority it applies to")
            policy = EscalationPolicy(built, prios)
        except EscalationPolicyError as error:
            self._audit(actor, resource, AuditResult.FAILURE, {"reason": str(error)}, "notification.escalation_update")
            raise
        steps_json, prio_json = policy_to_json(policy)
        with self.db.session() as s:
            row = s.get(NotificationEscalationRow, 1) or NotificationEscalationRow(id=1)
            row.steps_json, row.priorities_json = steps_json, prio_json
            row.changed_by, row.changed_at = actor.username, self.clock.now()
            s.add(row)
            self.audit.append(s, actor, "notification.escalation_update", resource, AuditResult.SUCCESS,
                              {"steps": json.loads(steps_json), "priorities": json.loads(prio_json)})
        return policy

    def _has_secret(self, key: str) -> bool:
        ok, _ = self.secrets.available()
        return ok and bool(self.secrets.get(key))

    def _audit(self, actor: Principal, resource: str, result: AuditResult, detail: dict,
               action: str = "notification.channel_update") -> None:
        with self.db.session() as s:
            self.audit.append(s, actor, action, resource, result, detail)


_SECRET_WORDS = {"email": "SMTP password", "slack": "webhook URL", "pagerduty": "routing key", "sms": "API key"}
