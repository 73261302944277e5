"""Fixtures for the MQTT driver tests: the shared Mosquitto, private Mosquitto processes, unique ids."""

from __future__ import annotations

import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.embedded_broker import free_loopback_port
from tests.support.services import require_mosquitto


@pytest.fixture
def shared_broker() -> BrokerConfig:
    """The machine's Mosquitto (127.0.0.1:1883). Tests use unique device ids so runs never collide."""
    host, port = require_mosquitto()
    return BrokerConfig(host=host, port=port, reconnect_min_delay_s=0.2, reconnect_max_delay_s=2.0)


@pytest.fixture
def uid() -> str:
    """A short unique prefix for device ids and client ids of one test."""
    return "t" + uuid.uuid4().hex[:10]


class MosquittoProcess:
    """A private Mosquitto in the foreground on 127.0.0.1 and a free port, killable mid-test."""

    def __init__(self, workdir: Path, extra: str = "", allow_anonymous: bool = True) -> None:
        self.port = free_loopback_port()
        self.conf = workdir / "mosquitto.conf"
        # No pid file, no persistence, log to stderr: nothing for the dropped-privilege user to write.
        self.conf.write_text(
            f"{extra}\nlistener {self.port} 127.0.0.1\nallow_anonymous {str(allow_anonymous).lower()}\npersistence false\n"
            "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "max_queued_messages 0\n"
        )
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start and block until Mosquitto reports it is listening (read from its log, no sleeping)."""
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        ready = threading.Event()
        proc = self.proc

        def watch() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                if f"Opening ipv4 listen socket on port {self.port}" in line or " running" in line:
                    ready.set()
            ready.set()  # process ended: let the caller see the failure

        threading.Thread(target=watch, daemon=True).start()
        if not ready.wait(timeout_s) or proc.poll() is not None:
            raise RuntimeError(f"private mosquitto did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: the broker vanishes without saying goodbye, like a crashed server."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def config(self) -> BrokerConfig:
        return BrokerConfig(host="127.0.0.1", port=self.port, reconnect_min_delay_s=0.2, reconnect_max_delay_s=1.0)


@pytest.fixture
def private_mosquitto(tmp_path):
    """A started private Mosquitto; killed at the end of the test."""
    broker = MosquittoProcess(tmp_path)
    broker.start()
    yield broker
    broker.kill()
