"""Real local receivers for the notification tests: an HTTP server (asyncio streams) that records JSON
requests and answers with scripted status codes, and an aiosmtpd handler that records messages.
Both listen on 127.0.0.1 and free ports; tests wait on their queues, never on the clock."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone

from core.alarms.escalation import Channel
from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.notifications import AlarmNotification

WAIT_S = 10.0  # generous bound for one event on a loaded 2-core machine; reached only on failure


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: object


class HttpReceiver:
    """Answers each POST with the next scripted status (then 200); `hold` keeps answers back until set."""

    def __init__(self) -> None:
        self.statuses: deque[int] = deque()
        self.requests: list[HttpRequest] = []
        self.hold: asyncio.Event | None = None
        self._answered: asyncio.Queue[HttpRequest] = asyncio.Queue()
        self.arrived: asyncio.Queue[HttpRequest] = asyncio.Queue()  # before any answer (see `hold`)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?team=ops"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = HttpRequest(method, path, headers, json.loads(body.decode("utf-8")))
            self.requests.append(request)
            self.arrived.put_nowait(request)
            if self.hold is not None:
                await self.hold.wait()
            status = self.statuses.popleft() if self.statuses else 200
            text = b"ok" if status < 300 else b"receiver says no"
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(text)}\r\nConnection: close\r\n\r\n".encode()
                         + text)
            await writer.drain()
            self._answered.put_nowait(request)
        finally:
            writer.close()

    async def next_request(self, timeout_s: float = WAIT_S) -> HttpRequest:
        """The next request answered (in arrival order)."""
        return await asyncio.wait_for(self._answered.get(), timeout_s)


class RecordingSmtpHandler:
    """aiosmtpd handler: parses each message and hands it to the test's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.received: asyncio.Queue = asyncio.Queue()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self._loop.call_soon_threadsafe(self.received.put_nowait, (tuple(envelope.rcpt_tos), message))
        return "250 OK"

    async def next_message(self, timeout_s: float = WAIT_S):
        return await asyncio.wait_for(self.received.get(), timeout_s)


def make_notification(channel: Channel = Channel.WEBHOOK, priority: Priority = Priority.CRITICAL,
                      state: AlarmState = AlarmState.ACTIVE_UNACKED, recipient: str = "ann",
                      alarm_id: str = "cell_hot:bs1/pack01/cell01", **extra) -> AlarmNotification:
    """A notification with realistic defaults; any field can be overridden."""
    fields = dict(
        alarm_id=alarm_id, priority=priority, source=alarm_id.split(":", 1)[1], rule=alarm_id.split(":", 1)[0],
        message="Cell temperature above 55 °C (value 61.5)",
        raised_at=datetime(2026, 1, 15, 8, 58, 30, tzinfo=timezone.utc),
        state=state, recipient=recipient, channel=channel)
    fields.update(extra)
    return AlarmNotification(**fields)
