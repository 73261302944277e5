"""A private Mosquitto running GridRoom's generated TLS + certificate + ACL + CRL configuration, for tests.

It runs in the foreground (subprocess) on 127.0.0.1 and a free port, logs to stderr, and is stopped by pid.
Readiness is read from its log ("mosquitto version ... running"), never slept for.
"""

from __future__ import annotations

import getpass
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

from core.pki import CertificateAuthority
from drivers.mqtt.broker_security import acl_file, mosquitto_conf
from drivers.mqtt.embedded_broker import free_loopback_port


class SecureMosquitto:
    """``start()`` ... ``restart()`` (re-reads the CRL) ... ``stop()``; ``log`` holds what Mosquitto said."""

    def __init__(
        self, workdir: Path, ca: CertificateAuthority, device_ids: Iterable[str], *, listed_only: bool = False
    ) -> None:
        self.workdir = workdir
        self.ca = ca
        self.port = free_loopback_port()
        server = ca.issue_server_certificate(["localhost"], ["127.0.0.1"])
        self.server_cert, self.server_key = workdir / "server.crt", workdir / "server.key"
        server.write_files(self.server_cert, self.server_key)
        self.acl = workdir / "acl"
        self.acl.write_text(acl_file(device_ids, listed_only=listed_only))
        self.conf = workdir / "mosquitto.conf"
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._changed = threading.Condition()

    def _write_conf(self) -> None:
        # Started as root, Mosquitto drops to user "mosquitto", which cannot read keys in a 0700 test folder
        # (FACTS.md). Naming the current user keeps it as is; for a non-root user the line is ignored.
        extra = ["persistence false", "log_dest stderr", f"user {getpass.getuser()}"]
        extra += [f"log_type {kind}" for kind in ("error", "warning", "notice", "information")]
        self.conf.write_text(
            mosquitto_conf(
                self.port, self.ca.cert_path, self.server_cert, self.server_key, self.ca.crl_path, self.acl,
                extra_global=extra,
            )
        )

    @property
    def log(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for_log(self, text: str, timeout_s: float = 10.0) -> bool:
        """Block until a log line containing text has appeared (True) or timeout_s passed (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: any(text in line for line in self._lines), timeout_s)

    def start(self, timeout_s: float = 10.0, attempts: int = 3) -> None:
        """Start and return once Mosquitto listens; RuntimeError with its log if it does not."""
        for _ in range(attempts):
            self._write_conf()
            if self._start_once(timeout_s):
                return
            if "Address already in use" not in self.log:
                break
            self.port = free_loopback_port()  # someone took the probed port: try another
        raise RuntimeError(f"mosquitto did not start on port {self.port}:\n{self.log}")

    def _start_once(self, timeout_s: float) -> bool:
        with self._changed:
            self._lines.clear()
        proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        self.proc = proc
        ended = threading.Event()

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                with self._changed:
                    self._lines.append(line)
                    self._changed.notify_all()
            ended.set()
            with self._changed:
                self._changed.notify_all()

        threading.Thread(target=read, name=f"mosquitto-log-{self.port}", daemon=True).start()
        # " running" is logged after every listener is bound and listening ("Opening ... socket" comes before).
        marker = " running"
        with self._changed:
            self._changed.wait_for(lambda: ended.is_set() or any(marker in line for line in self._lines), timeout_s)
        if proc.poll() is None and marker in self.log:
            return True
        self.stop()
        return False

    def stop(self) -> None:
        """Terminate this broker process (by its pid) and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        """Stop and start on the same port: how Mosquitto picks up a new CRL."""
        self.stop()
        self.start(attempts=1)
