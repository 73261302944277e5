"""The child's side of the pipe between a worker process (telemetry ingest, ack reader) and its parent."""

from __future__ import annotations

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
