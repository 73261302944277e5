"""Fixtures: a local HTTP receiver, a local SMTP server, a manual clock and the scheduler driven by it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from core.clock import ManualClock
from core.notifications import ManualScheduler
from tests.core.notifications.receivers import HttpReceiver, RecordingSmtpHandler, free_port


@pytest_asyncio.fixture
async def http_receiver():
    receiver = HttpReceiver()
    await receiver.start()
    yield receiver
    await receiver.close()


@pytest_asyncio.fixture
async def smtp_server():
    handler = RecordingSmtpHandler(asyncio.get_running_loop())
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 15, 9, 0, tzinfo=timezone.utc))


@pytest.fixture
def scheduler(clock) -> ManualScheduler:
    return ManualScheduler(clock)
