"""Notification channels: e-mail (SMTP), webhooks (Slack, PagerDuty), an SMS gateway and the desktop.

A channel turns one AlarmNotification into one delivery attempt and reports the outcome as a
DeliveryResult; it never retries (the dispatcher does) and never raises for a failed delivery.
Blocking network calls run in a worker thread via asyncio.to_thread, each bounded by `timeout_s`.
Credentials are constructor parameters taken from the keyring (core.secrets) by the caller.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal, Protocol, runtime_checkable

from core.alarms.escalation import Channel
from core.alarms.priorities import Priority
from core.clock import Clock, SystemClock
from core.notifications.errors import NotificationConfigError
from core.notifications.http_post import HttpOutcome, check_http_url, post_json
from core.notifications.messages import AlarmNotification, render_body, render_subject
from core.notifications.payloads import pagerduty_payload, slack_payload, sms_payload

AddressBook = Callable[[str], Iterable[str]] | Mapping[str, Iterable[str]]


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome of one attempt. `retryable` says whether trying again later could succeed."""

    ok: bool
    detail: str = ""
    retryable: bool = False

    @classmethod
    def success(cls, detail: str = "") -> DeliveryResult:
        return cls(True, detail, False)

    @classmethod
    def failure(cls, error: str, retryable: bool) -> DeliveryResult:
        return cls(False, error, retryable)


@runtime_checkable
class NotificationChannel(Protocol):
    """Something that can deliver a notification. `kind` is the escalation channel it serves."""

    name: str
    kind: Channel

    async def send(self, message: AlarmNotification) -> DeliveryResult:
        """Try once to deliver `message`; report failure in the result rather than raising."""
        ...


def _check_timeout(timeout_s: float, what: str) -> float:
    if not isinstance(timeout_s, (int, float)) or not 0 < timeout_s <= 600:
        raise NotificationConfigError(f"{what}: timeout_s must be in (0, 600] seconds, got {timeout_s!r}")
    return float(timeout_s)


def _lookup(book: AddressBook, user: str) -> list[str]:
    found = book.get(user, ()) if isinstance(book, Mapping) else book(user)
    return [a for a in (found or ()) if isinstance(a, str) and a.strip()]


def _http_result(outcome: HttpOutcome, what: str) -> DeliveryResult:
    if outcome.ok:
        return DeliveryResult.success(f"{what} answered HTTP {outcome.status}")
    excerpt = f": {outcome.body.strip()}" if outcome.body.strip() else ""
    return DeliveryResult.failure(f"{what} answered HTTP {outcome.status}{excerpt}", outcome.retryable)


async def _post(url: str, payload: dict, timeout_s: float, what: str, headers: dict[str, str] | None = None,
                ssl_context: ssl.SSLContext | None = None) -> DeliveryResult:
    try:
        outcome = await asyncio.to_thread(post_json, url, payload, timeout_s, headers, ssl_context)
    except ssl.SSLCertVerificationError as exc:
        return DeliveryResult.failure(f"{what}: TLS certificate rejected: {exc}", retryable=False)
    except OSError as exc:  # refused, unreachable, timed out: the receiver may come back
        return DeliveryResult.failure(f"{what} unreachable: {exc!r}", retryable=True)
    return _http_result(outcome, what)


class EmailChannel:
    """E-mail over SMTP (smtplib in a worker thread), optional STARTTLS or implicit TLS and login."""

    kind = Channel.EMAIL

    def __init__(self, host: str, port: int, sender: str, recipients_for_user: AddressBook, *,
                 username: str | None = None, password: str | None = None, starttls: bool = False,
                 use_tls: bool = False, timeout_s: float = 10.0, ssl_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None, clock: Clock | None = None, name: str = "email") -> None:
        if not host or not isinstance(port, int) or not 0 < port < 65536:
            raise NotificationConfigError(f"email: need a host and a port in 1..65535, got {host!r}:{port!r}")
        if not sender or "@" not in sender:
            raise NotificationConfigError(f"email: sender must be an e-mail address, got {sender!r}")
        if starttls and use_tls:
            raise NotificationConfigError("email: choose STARTTLS or implicit TLS, not both")
        if (username is None) != (password is None):
            raise NotificationConfigError("email: give both username and password, or neither")
        self.name = name
        self._host, self._port, self._sender = host, port, sender
        self._book = recipients_for_user
        self._username, self._password = username, password
        self._starttls, self._use_tls = starttls, use_tls
        self._timeout_s = _check_timeout(timeout_s, "email")
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._clock = clock or SystemClock()

    def __repr__(self) -> str:  # never show the password
        return f"EmailChannel({self._host}:{self._port}, sender={self._sender!r})"

    def build_message(self, n: AlarmNotification, to: list[str]) -> EmailMessage:
        """The e-mail for `n` addressed to `to`."""
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = render_subject(n)
        msg["Date"] = format_datetime(self._clock.now())
        # An explicit domain: make_msgid would otherwise ask DNS for our FQDN, which can hang.
        msg["Message-ID"] = make_msgid(domain="gridroom.invalid")
        msg["X-GridRoom-Alarm-Id"] = n.alarm_id
        msg["X-GridRoom-Priority"] = n.priority.value
        if n.priority is Priority.CRITICAL:
            msg["Importance"] = "high"
        msg.set_content(render_body(n))
        return msg

    async def send(self, message: AlarmNotification) -> DeliveryResult:
        """Send one e-mail to every address the recipient has."""
        to = _lookup(self._book, message.recipient)
        if not to:
            return DeliveryResult.failure(f"email: no e-mail address for user {message.recipient!r}", False)
        return await self.send_message(self.build_message(message, to), to)

    async def send_message(self, msg: EmailMessage, to: list[str]) -> DeliveryResult:
        """Send a ready-made e-mail (e.g. a scheduled report with attachments) to `to`, with the same error
        handling as alarm notifications. Missing From, Date and Message-ID headers are filled in."""
        if msg["From"] is None:
            msg["From"] = self._sender
        if msg["Date"] is None:
            msg["Date"] = format_datetime(self._clock.now())
        if msg["Message-ID"] is None:
            msg["Message-ID"] = make_msgid(domain="gridroom.invalid")
        try:
            refused = await asyncio.to_thread(self._send_blocking, msg, to)
        except smtplib.SMTPAuthenticationError as exc:
            return DeliveryResult.failure(f"email: SMTP login refused ({exc.smtp_code})", retryable=False)
        except smtplib.SMTPNotSupportedError as exc:
            return DeliveryResult.failure(f"email: server lacks a required feature: {exc}", retryable=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            return DeliveryResult.failure(f"email: all recipients refused {exc.recipients!r}",
                                          retryable=all(400 <= c < 500 for c in codes))
        except smtplib.SMTPResponseException as exc:
            return DeliveryResult.failure(f"email: SMTP {exc.smtp_code} {exc.smtp_error!r}",
                                          retryable=400 <= exc.smtp_code < 500)
        except ssl.SSLCertVerificationError as exc:
            return DeliveryResult.failure(f"email: TLS certificate rejected: {exc}", retryable=False)
        except OSError as exc:  # refused, timed out, disconnected (SMTPException is an OSError)
            return DeliveryResult.failure(f"email: SMTP server {self._host}:{self._port} unreachable: {exc!r}",
                                          retryable=True)
        detail = f"sent to {len(to) - len(refused)} address(es)"
        if refused:
            detail += f"; refused {sorted(refused)}"
        return DeliveryResult.success(detail)

    def _send_blocking(self, msg: EmailMessage, to: list[str]) -> dict:
        context = self._ssl_context or ssl.create_default_context()
        if self._use_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self._host, self._port, local_hostname=self._local_hostname,
                                                  timeout=self._timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(self._host, self._port, local_hostname=self._local_hostname, timeout=self._timeout_s)
        with smtp:
            if self._starttls:
                smtp.starttls(context=context)
            if self._username is not None:
                smtp.login(self._username, self._password or "")
            return smtp.send_message(msg, from_addr=self._sender, to_addrs=to)


class WebhookChannel:
    """A chat or incident webhook: Slack-style ({"text", "blocks"}) or PagerDuty Events API v2."""

    kind = Channel.WEBHOOK

    def __init__(self, url: str, style: Literal["slack", "pagerduty"] = "slack", routing_key: str | None = None,
                 *, timeout_s: float = 10.0, ssl_context: ssl.SSLContext | None = None, name: str | None = None):
        if style not in ("slack", "pagerduty"):
            raise NotificationConfigError(f"webhook: style must be 'slack' or 'pagerduty', got {style!r}")
        if style == "pagerduty" and not (isinstance(routing_key, str) and routing_key.strip()):
            raise NotificationConfigError("webhook: PagerDuty needs the integration's routing_key")
        self.url = check_http_url(url, f"{style} webhook")
        self.style = style
        self.name = name or style
        self._routing_key = routing_key
        self._timeout_s = _check_timeout(timeout_s, "webhook")
        self._ssl_context = ssl_context

    def __repr__(self) -> str:  # Slack URLs and routing keys are secrets
        return f"WebhookChannel(style={self.style!r}, name={self.name!r})"

    def payload(self, n: AlarmNotification) -> dict:
        """The JSON body this channel posts for `n`."""
        if self.style == "pagerduty":
            return pagerduty_payload(n, self._routing_key or "")
        return slack_payload(n)

    async def send(self, message: AlarmNotification) -> DeliveryResult:
        """POST the payload once."""
        return await _post(self.url, self.payload(message), self._timeout_s, f"{self.name} webhook",
                           ssl_context=self._ssl_context)


class SmsGatewayChannel:
    """SMS through a generic JSON gateway (POST {"to", "message", "reference"} with a bearer key).

    SMS wakes people up, so only critical alarms go out this way; others are refused with a reason.
    """

    kind = Channel.SMS

    def __init__(self, url: str, api_key: str, numbers_for_user: AddressBook, *, sender_id: str | None = None,
                 timeout_s: float = 10.0, ssl_context: ssl.SSLContext | None = None, name: str = "sms") -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise NotificationConfigError("sms: the gateway API key is empty")
        self.url = check_http_url(url, "sms gateway")
        self.name = name
        self._api_key = api_key
        self._book = numbers_for_user
        self._sender_id = sender_id
        self._timeout_s = _check_timeout(timeout_s, "sms")
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"SmsGatewayChannel(name={self.name!r})"

    async def send(self, message: AlarmNotification) -> DeliveryResult:
        """POST one SMS request for all of the recipient's numbers."""
        if message.priority is not Priority.CRITICAL:
            return DeliveryResult.failure(
                f"sms: only critical alarms are sent by SMS; {message.alarm_id} is {message.priority.value}",
                retryable=False)
        numbers = _lookup(self._book, message.recipient)
        if not numbers:
            return DeliveryResult.failure(f"sms: no phone number for user {message.recipient!r}", retryable=False)
        payload = sms_payload(message, numbers, self._sender_id)
        return await _post(self.url, payload, self._timeout_s, "sms gateway",
                           headers={"Authorization": f"Bearer {self._api_key}"}, ssl_context=self._ssl_context)


class DesktopChannel:
    """Hands notifications to the desktop through a callback the GUI registers.

    The callback runs on the dispatcher's event-loop thread, so it must be thread-safe (a queued Qt
    signal, or loop.call_soon_threadsafe); it must return quickly. Core never imports Qt.
    """

    kind = Channel.DESKTOP

    def __init__(self, callback: Callable[[AlarmNotification], object], name: str = "desktop") -> None:
        if not callable(callback):
            raise NotificationConfigError(f"desktop: callback must be callable, got {callback!r}")
        self.name = name
        self._callback = callback

    async def send(self, message: AlarmNotification) -> DeliveryResult:
        """Call the callback once; an exception in it is a failed (retryable) delivery."""
        try:
            self._callback(message)
        except Exception as exc:  # the GUI's bug must not kill the dispatcher
            return DeliveryResult.failure(f"desktop callback raised {exc!r}", retryable=True)
        return DeliveryResult.success("shown on the desktop")
