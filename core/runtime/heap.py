"""Settle the heap once a long-running process has started, so garbage collection stays cheap at ingest rates.

A full (oldest-generation) collection walks every tracked object. After start-up that is mostly what the
imports created (SQLAlchemy, pydantic, Qt wrappers, numpy): hundreds of thousands of objects that live as long
as the process. ``gc.freeze()`` moves them to a permanent generation that collections skip, which made the
full collections during MQTT ingest several times cheaper (benchmarks/mqtt_ingest.py measures it).

Call it once per process from an entry point, after composition: objects frozen here are never collected as
cycles, so it is not for code that starts and stops runtimes repeatedly (tests).
"""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Collect what start-up left behind, then freeze the survivors; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
