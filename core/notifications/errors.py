"""Typed errors of the notification layer. Delivery failures are results, not exceptions: these are
raised only for configuration that can never work, so it fails when GridRoom starts, not at 3 a.m."""

from __future__ import annotations

from core.errors import GridRoomError


class NotificationError(GridRoomError):
    """Base of notification errors."""


class NotificationConfigError(NotificationError, ValueError):
    """A channel, retry policy or notification built with values that cannot work; the message says which."""
