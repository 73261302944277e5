"""A private Mosquitto for a benchmark: 127.0.0.1, a free port, no persistence, no log, plus the queue settings the
benchmark needs (the shared broker's defaults would drop messages and measure the broker, not GridRoom)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from drivers.mqtt.embedded_broker import free_loopback_port


def start_private_mosquitto(workdir: Path, queue_settings: str) -> tuple[subprocess.Popen, int]:
    port = free_loopback_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
                    f"{queue_settings}\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        try:
            probe.connect("127.0.0.1", port)
            probe.disconnect()
            return proc, port
        except OSError:
            time.sleep(0.05)  # a benchmark, not a test: polling for the broker's socket is fine here
    proc.kill()
    raise RuntimeError("private mosquitto did not start")
