"""An in-process amqtt broker for the stand-alone demo (when no broker is configured).

It runs on its own asyncio loop in its own thread, so it never competes with the runtime's or Qt's loop,
and it listens on 127.0.0.1 only: amqtt binds 0.0.0.0:1883 unless told otherwise (FACTS.md), which would
expose an anonymous broker to the network. It is for one machine's demo, not for production: amqtt moves
~5,600 msg/s in-process against Mosquitto's ~30,000 (FACTS.md).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from concurrent.futures import Future

log = logging.getLogger("gridroom.mqtt.embedded_broker")

LOOPBACK = "127.0.0.1"


def free_loopback_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the caller retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


class EmbeddedBroker:
    """``port = EmbeddedBroker().start()`` ... ``.stop()``. Anonymous, loopback-only, no persistence."""

    def __init__(self, start_timeout_s: float = 10.0, preferred_port: int | None = None) -> None:
        self._start_timeout_s = start_timeout_s
        # Tried first (then free ports): a stable port keeps device addresses stable across demo runs.
        self._preferred_port = preferred_port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker = None
        self.port: int | None = None

    @property
    def host(self) -> str:
        return LOOPBACK

    def start(self) -> int:
        """Start the broker on a free loopback port and return the port."""
        if self._thread is not None:
            raise RuntimeError("embedded broker already started")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gridroom-embedded-broker", daemon=True)
        self._thread.start()
        last_error: Exception | None = None
        for attempt in range(5):  # another process may grab the probed port before the broker binds it
            port = self._preferred_port if attempt == 0 and self._preferred_port else free_loopback_port()
            started: Future = asyncio.run_coroutine_threadsafe(self._start_broker(port), self._loop)
            try:
                started.result(self._start_timeout_s)
            except OSError as exc:
                last_error = exc
                continue
            except Exception as exc:
                # amqtt wraps bind errors in BrokerError; retry those too, give up on anything else at the end
                last_error = exc
                if "address already in use" not in str(exc).lower():
                    break
                continue
            self.port = port
            log.info("embedded MQTT broker listening on %s:%d", LOOPBACK, port)
            return port
        self.stop()
        raise RuntimeError(f"embedded MQTT broker failed to start: {last_error}")

    async def _start_broker(self, port: int) -> None:
        from amqtt.broker import Broker  # imported late: only the demo path pays for amqtt

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{LOOPBACK}:{port}", "max_connections": 0}},
            # Anonymous is acceptable only because nothing but this machine can reach the listener.
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        broker = Broker(config, loop=asyncio.get_running_loop())
        await broker.start()
        self._broker = broker

    def stop(self, timeout_s: float = 10.0) -> None:
        """Shut the broker down and end its thread. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._broker is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop).result(timeout_s)
            except Exception:  # shutting down a half-started broker may fail; the loop still stops below
                log.exception("embedded broker shutdown failed")
            self._broker = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        loop.close()
        self._loop = None
        self._thread = None
        self.port = None
