"""Turns the admin's set-up and the keyring's secrets into channel objects for the dispatcher.

A channel that cannot be built (a secret missing, no keyring) is left out and reported as a problem in
words, rather than keeping the alarm engine or the other channels from starting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.clock import Clock
from core.errors import KeyringUnavailable
from core.notifications.channel_settings import EmailSettings, NotificationSetup
from core.notifications.channels import (
    DesktopChannel,
    EmailChannel,
    NotificationChannel,
    SmsGatewayChannel,
    WebhookChannel,
)
from core.notifications.errors import NotificationConfigError
from core.notifications.messages import AlarmNotification

AddressLookup = Callable[[str], Iterable[str]]


@dataclass(frozen=True)
class BuiltChannels:
    channels: tuple[NotificationChannel, ...]
    problems: tuple[str, ...]


def email_channel(settings: EmailSettings, secret: Callable[[str], str | None], emails: AddressLookup, *,
                  clock: Clock | None = None, name: str = "email") -> EmailChannel:
    """The SMTP channel of the admin's e-mail settings, logging in with the keyring's SMTP password when a user
    is set. Alarm notifications and scheduled reports both send through this one configuration."""
    password = secret("email") if settings.username else None
    if settings.username and not password:
        raise NotificationConfigError(f"no SMTP password stored for user {settings.username!r}")
    return EmailChannel(settings.host, settings.port, settings.sender, emails, username=settings.username or None,
                        password=password, starttls=settings.security == "starttls",
                        use_tls=settings.security == "tls", timeout_s=settings.timeout_s, clock=clock, name=name)


def build_channels(setup: NotificationSetup, secret: Callable[[str], str | None], emails: AddressLookup,
                   sms_numbers: AddressLookup, desktop: Callable[[AlarmNotification], object]) -> BuiltChannels:
    """The desktop channel always; each enabled channel whose settings and secret are complete."""
    channels: list[NotificationChannel] = [DesktopChannel(desktop)]
    problems: list[str] = []

    def attempt(name: str, make: Callable[[], NotificationChannel]) -> None:
        try:
            channels.append(make())
        except (NotificationConfigError, KeyringUnavailable) as exc:
            problems.append(f"{name} channel not started: {exc}")

    e, sl, pd, sms = setup.email, setup.slack, setup.pagerduty, setup.sms
    if e.enabled:
        attempt("e-mail", lambda: email_channel(e, secret, emails))
    if sl.enabled:
        def slack() -> WebhookChannel:
            url = secret("slack")
            if not url:
                raise NotificationConfigError("no Slack webhook URL stored")
            return WebhookChannel(url, "slack", timeout_s=sl.timeout_s, name="slack")
        attempt("Slack", slack)
    if pd.enabled:
        attempt("PagerDuty", lambda: WebhookChannel(pd.url, "pagerduty", secret("pagerduty"),
                                                    timeout_s=pd.timeout_s, name="pagerduty"))
    if sms.enabled:
        attempt("SMS", lambda: SmsGatewayChannel(sms.url, secret("sms") or "", sms_numbers,
                                                 sender_id=sms.sender_id or None, timeout_s=sms.timeout_s))
    return BuiltChannels(tuple(channels), tuple(problems))
