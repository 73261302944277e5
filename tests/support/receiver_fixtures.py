"""pytest fixtures for a real local SMTP server (aiosmtpd) and HTTP receiver, shared by the notification,
notification-runtime and scheduled-report tests. Import the fixtures into a test module or conftest by name."""

from __future__ import annotations

import asyncio

import pytest_asyncio
from aiosmtpd.controller import Controller

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
