"""The child's side of the pipe between a worker process (telemetry ingest, ack reader) and its parent."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection


def locked_sender(conn: Connection) -> Callable[[object], None]:
    """conn.send for several threads at once (paho's network thread and the worker's own)."""
    lock = threading.Lock()

    def send(message: object) -> None:
        with lock:
            conn.send(message)

    return send


def wait_for_stop(conn: Connection) -> None:
    """Block until the parent sends "stop" or goes away (its end of the pipe closes)."""
    try:
        while conn.recv() != "stop":
            pass
    except (EOFError, OSError):
        pass  # the parent is gone: stop too


def leave_interrupts_to_the_parent() -> None:
    """Ctrl+C in a terminal interrupts the whole process group; the parent decides when its workers stop (it
    sends "stop"), so a worker ignores SIGINT instead of dying mid-batch with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
