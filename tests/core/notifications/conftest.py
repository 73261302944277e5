"""Fixtures: a local HTTP receiver, a local SMTP server, a manual clock and the scheduler driven by it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.clock import ManualClock
from core.notifications import ManualScheduler
from tests.support.receiver_fixtures import http_receiver, smtp_server  # noqa: F401  (pytest fixtures)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 15, 9, 0, tzinfo=timezone.utc))


@pytest.fixture
def scheduler(clock) -> ManualScheduler:
    return ManualScheduler(clock)
