"""What is sent: the frozen AlarmNotification and its rendering as subject and body text.

Times are shown in UTC (ISO 8601) and, when the notification names the site's time zone, also in the
site's local time: the on-call engineer reads local time, the journal and the devices speak UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.alarms.escalation import Channel
from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.clock import ensure_utc
from core.notifications.errors import NotificationConfigError

_STATE_WORDS = {
    AlarmState.NORMAL: "returned to normal",
    AlarmState.ACTIVE_UNACKED: "active, unacknowledged",
    AlarmState.ACTIVE_ACKED: "active, acknowledged",
    AlarmState.RETURNED_UNACKED: "returned to normal, unacknowledged",
    AlarmState.SHELVED: "shelved",
    AlarmState.OUT_OF_SERVICE: "out of service",
}


@dataclass(frozen=True)
class AlarmNotification:
    """One alarm message for one recipient over one kind of channel.

    `step_index` is the escalation step that produced it (None when sent outside escalation);
    `site_timezone` is an IANA name such as "Europe/Brussels", or None to show UTC only.
    """

    alarm_id: str
    priority: Priority
    source: str
    rule: str
    message: str
    raised_at: datetime
    state: AlarmState
    recipient: str
    channel: Channel
    step_index: int | None = None
    site_timezone: str | None = None

    def __post_init__(self) -> None:
        for name in ("alarm_id", "source", "rule", "recipient"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise NotificationConfigError(f"AlarmNotification.{name} must be a non-empty string, got {value!r}")
        try:
            object.__setattr__(self, "priority", Priority(self.priority))
            object.__setattr__(self, "state", AlarmState(self.state))
            object.__setattr__(self, "channel", Channel(self.channel))
        except ValueError as exc:
            raise NotificationConfigError(f"AlarmNotification: {exc}") from exc
        try:
            object.__setattr__(self, "raised_at", ensure_utc(self.raised_at, "raised_at"))
        except (ValueError, AttributeError) as exc:
            raise NotificationConfigError(f"AlarmNotification.raised_at: {exc}") from exc
        if self.site_timezone is not None:
            site_zone(self.site_timezone)  # fail on a bad zone name now, not when rendering

    @property
    def key(self) -> str:
        """A stable identity for logs: alarm, recipient, channel kind and step."""
        step = "-" if self.step_index is None else str(self.step_index)
        return f"{self.alarm_id}|{self.recipient}|{self.channel.value}|{step}"


def site_zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA zone name; NotificationConfigError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise NotificationConfigError(f"unknown site time zone {name!r}") from exc


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a 'Z', to the second (what PagerDuty and log readers expect)."""
    return ensure_utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def time_text(moment: datetime, site_timezone: str | None) -> str:
    """'2026-01-01T12:00:00Z' or '2026-01-01T12:00:00Z (13:00:00 CET site time)'."""
    text = utc_iso(moment)
    if site_timezone:
        local = ensure_utc(moment).astimezone(site_zone(site_timezone))
        text += f" ({local.strftime('%Y-%m-%d %H:%M:%S')} {local.tzname()} site time)"
    return text


def state_text(state: AlarmState) -> str:
    """The alarm state in words an on-call engineer reads without the ISA-18.2 abbreviations."""
    return _STATE_WORDS[state]


def render_subject(n: AlarmNotification) -> str:
    """One line for an e-mail subject or chat header: priority, alarm id and source."""
    return f"[GridRoom {n.priority.value.upper()}] {n.alarm_id} on {n.source}"


def render_body(n: AlarmNotification) -> str:
    """Plain-text body: what, where, when, which state, and what to do."""
    lines = [
        f"Alarm:     {n.alarm_id}",
        f"Priority:  {n.priority.value}",
        f"Source:    {n.source}",
        f"Rule:      {n.rule}",
        f"State:     {state_text(n.state)}",
        f"Raised at: {time_text(n.raised_at, n.site_timezone)}",
    ]
    if n.message:
        lines += ["", n.message]
    if n.state is AlarmState.ACTIVE_UNACKED:
        lines += ["", "Acknowledge this alarm in GridRoom to stop further escalation."]
    return "\n".join(lines) + "\n"


def render_short(n: AlarmNotification, limit: int = 160) -> str:
    """A single SMS-sized line (at most `limit` characters), cut with an ellipsis when longer."""
    text = f"GridRoom {n.priority.value.upper()}: {n.alarm_id} on {n.source} at {utc_iso(n.raised_at)}"
    if n.message:
        text += f" - {n.message}"
    return text if len(text) <= limit else text[: limit - 1] + "…"
