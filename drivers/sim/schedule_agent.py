"""What a simulated device's firmware does with its ``schedule``: keep it, check it, run it, acknowledge it.

Protocol logic only (bytes in, AckPayloads queued out); schedule_client carries it over MQTT. As a real
device would:
- the schedule and the execution progress live in a small JSON file per device (ScheduleStore), so a
  restarted device resumes where it was: an entry already started is not started again, an entry already
  acknowledged is not acknowledged again;
- a payload that breaks the contract, a rate over the device's limit, or a schedule whose every entry has
  already ended is refused with one negative ack (entry 0, ok false, error "rejected: <why>");
- a schedule it accepts is answered with a receipt (``ack`` with ``kind: "receipt"``): the control side then
  knows the device holds it (delivery ``delivered``) before any entry runs;
- the same or an older version of the held schedule_id is ignored (retained re-deliveries, QoS 1 duplicates);
- entries run on the device's own clock (tick): the power is applied at the entry's start, and at its end
  an ack reports the measured rate; an entry the device never got to run (it was off) is acked as failed;
- acks wait in an ordered outbox (persisted too) until the broker confirms them, so a device that is off
  the network keeps executing and flushes its acks in order when it is back; the outbox is keyed by
  (schedule_id, version, entry), so an ack is never queued twice.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from core.clock import Clock
from drivers.mqtt.codec import PayloadRejected, decode_parsed, encode
from drivers.mqtt.payloads import AckPayload, ReceiptPayload, SchedulePayload
from drivers.mqtt.topics import ParsedTopic, TopicKind, topic_for
from drivers.sim.fleet_physics import FleetPhysics

log = logging.getLogger("gridroom.sim.schedules")

REJECT_PREFIX = "rejected: "  # the same prefix core.schedules.records reads
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}\Z")
AckKey = tuple[str, int, int]  # (schedule_id, version, entry); entry RECEIPT for the receipt
RECEIPT = -1


class ScheduleStore:
    """One JSON file per device in `folder`; written atomically (temp file + rename)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, device_id: str) -> Path:
        return self.folder / f"{device_id}.json"

    def load(self, device_id: str) -> dict | None:
        try:
            return json.loads(self._path(device_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def save(self, device_id: str, state: dict) -> None:
        tmp = self._path(device_id).with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self._path(device_id))


class ScheduleAgent:
    """Holds, checks, executes and acknowledges the schedules of every device of one simulated fleet."""

    def __init__(self, physics: FleetPhysics, clock: Clock, store: ScheduleStore,
                 is_listening: Callable[[str], bool], device_ids: list[str]) -> None:
        self._physics = physics
        self._clock = clock
        self._store = store
        self._is_listening = is_listening
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.device_ids = list(device_ids)
        self._known = frozenset(self.device_ids)
        self._states: dict[str, dict] = {}
        for device_id in self.device_ids:
            state = store.load(device_id)
            if state is not None:
                state["driving"] = None  # after a restart the power is applied again (not a new start)
                self._states[device_id] = state
        self.accepted = 0  # schedules taken on by this process (benchmarks wait on it)
        self.starts: dict[AckKey, int] = {}  # how often each entry was started by this process (tests: never 2)

    # -- receiving ---------------------------------------------------------------------------------
    def handle(self, device_id: str, payload: bytes) -> bool:
        """A ``schedule`` message for device_id (ignored while the device is off the network).

        True when it queued a receipt or a negative ack (the caller then flushes this device's outbox)."""
        if device_id not in self._known or not self._is_listening(device_id):
            return False
        if not payload:
            return False  # a cleared retained message
        topic = topic_for(device_id, TopicKind.SCHEDULE)
        with self._lock:
            state = self._states.get(device_id) or {"outbox": []}
            try:
                message = decode_parsed(ParsedTopic(device_id, TopicKind.SCHEDULE), topic, payload)
            except PayloadRejected as exc:
                ids = _ids_of(payload)
                if ids is not None:
                    self._reject(device_id, state, *ids, f"{exc.reason}: {exc.detail}")
                return ids is not None
            assert isinstance(message, SchedulePayload)
            if state.get("schedule_id") == message.schedule_id and message.version <= state.get("version", 0):
                return False  # the one we hold, or an older one: idempotent
            why = self._refusal(device_id, message)
            if why:
                self._reject(device_id, state, message.schedule_id, message.version, why)
                return True
            state.update(schedule_id=message.schedule_id, version=message.version, started={}, acked=[],
                         entries=[{"start": e.start.isoformat(), "end": e.end.isoformat(), "mode": e.mode,
                                   "rate_kw": e.rate_kw} for e in message.entries])
            self._queue(device_id, state, ReceiptPayload(v=1, kind="receipt", schedule_id=message.schedule_id,
                                                         version=message.version, received_at=self._clock.now()))
            self._states[device_id] = state
            self._store.save(device_id, state)
            self.accepted += 1
            self._changed.notify_all()
            log.debug("%s: holds schedule %s v%d (%d entries)", device_id, message.schedule_id, message.version,
                      len(message.entries))
            return True

    def _refusal(self, device_id: str, message: SchedulePayload) -> str:
        limits = self._physics.limits(device_id)
        for index, entry in enumerate(message.entries):
            limit = limits.max_discharge_kw if entry.mode == 1 else limits.max_charge_kw
            if entry.rate_kw > limit:
                return f"entry {index}: rate_kw {entry.rate_kw:g} exceeds the limit {limit:g} of {device_id}"
        if message.entries and message.entries[-1].end <= self._clock.now():
            return "schedule expired: every entry has already ended"
        return ""

    def _reject(self, device_id: str, state: dict, schedule_id: str, version: int, why: str) -> None:
        now = self._clock.now()
        ack = AckPayload(v=1, schedule_id=schedule_id, version=version, entry=0, actual_rate_kw=0.0, started_at=now,
                         ended_at=now, ok=False, error=(REJECT_PREFIX + why)[:500])
        log.warning("%s: refused schedule %s v%d: %s", device_id, schedule_id, version, why)
        self._queue(device_id, state, ack)
        self._states[device_id] = state
        self._store.save(device_id, state)

    # -- executing ---------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> None:
        """Run every device's schedule up to `now`: ack what ended, start what is due, idle after the end."""
        now = now or self._clock.now()
        with self._lock:
            for device_id, state in self._states.items():
                if "entries" in state and self._run(device_id, state, now):
                    self._store.save(device_id, state)

    def _run(self, device_id: str, state: dict, now: datetime) -> bool:
        changed = False
        entries, started, acked = state["entries"], state["started"], state["acked"]
        key = (state["schedule_id"], state["version"])
        measured = None  # read from the physics only when an entry ends (telemetry costs ~0.1 ms a device)
        running = None
        for index, entry in enumerate(entries):
            if index in acked:
                continue
            start, end = datetime.fromisoformat(entry["start"]), datetime.fromisoformat(entry["end"])
            if end <= now:
                ran = str(index) in started
                if measured is None:
                    measured = abs(self._physics.telemetry(device_id)["power_kw"])
                ack = AckPayload(v=1, schedule_id=key[0], version=key[1], entry=index,
                                 actual_rate_kw=measured if ran else 0.0,
                                 started_at=datetime.fromisoformat(started[str(index)]) if ran else start,
                                 ended_at=end, ok=ran, error=None if ran else "missed: the device was not running")
                self._queue(device_id, state, ack)
                acked.append(index)
                changed = True
            elif start <= now:
                running = index
                if str(index) not in started:
                    started[str(index)] = now.isoformat()
                    self.starts[(*key, index)] = self.starts.get((*key, index), 0) + 1
                    changed = True
                if state.get("driving") != index:
                    kind = "discharge" if entry["mode"] == 1 else "charge"
                    self._physics.command(device_id, kind, entry["rate_kw"])
                    state["driving"] = index
                    changed = True
        if running is None and state.get("driving") is not None:
            self._physics.command(device_id, "idle", 0.0)  # between entries and after the last one
            state["driving"] = None
            changed = True
        return changed

    # -- the outbox ----------------------------------------------------------------------------------
    def _queue(self, device_id: str, state: dict, ack: AckPayload | ReceiptPayload) -> None:
        outbox = state.setdefault("outbox", [])
        ack_key = [ack.schedule_id, ack.version, ack.entry if isinstance(ack, AckPayload) else RECEIPT]
        if any(item["key"] == ack_key for item in outbox):
            return
        outbox.append({"key": ack_key, "payload": encode(ack).decode()})

    def pending(self, device_id: str | None = None) -> list[tuple[str, AckKey, str, bytes]]:
        """(device_id, key, topic, payload) of every unconfirmed ack of devices on the network (or of one
        device), in order."""
        with self._lock:
            states = self._states.items() if device_id is None else \
                [(device_id, self._states[device_id])] if device_id in self._states else []
            return [(device_id, tuple(item["key"]), topic_for(device_id, TopicKind.ACK), item["payload"].encode())
                    for device_id, state in states if state.get("outbox") and self._is_listening(device_id)
                    for item in state["outbox"]]

    def confirmed(self, device_id: str, key: AckKey) -> None:
        """The broker has the ack (PUBACK): drop it from the outbox."""
        self.confirmed_many(device_id, [key])

    def confirmed_many(self, device_id: str, keys: list[AckKey]) -> None:
        """The broker has these acks of one device: drop them from its outbox (one write of its file)."""
        gone = {tuple(key) for key in keys}
        with self._lock:
            state = self._states.get(device_id)
            if state is None:
                return
            before = len(state.get("outbox", []))
            state["outbox"] = [item for item in state.get("outbox", []) if tuple(item["key"]) not in gone]
            if len(state["outbox"]) != before:
                self._store.save(device_id, state)

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        """Block until predicate() holds after a received schedule (tests wait on this, never sleep)."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout_s)

    def held(self, device_id: str) -> tuple[str, int] | None:
        """(schedule_id, version) the device holds, if any."""
        with self._lock:
            state = self._states.get(device_id)
            return None if not state or "schedule_id" not in state or "entries" not in state else \
                (state["schedule_id"], state["version"])


def _ids_of(payload: bytes) -> tuple[str, int] | None:
    """schedule_id and version of an invalid schedule, when usable to answer to."""
    try:
        data = json.loads(payload)
        sid, version = data.get("schedule_id"), data.get("version")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    if isinstance(sid, str) and _ID.match(sid) and isinstance(version, int) and not isinstance(version, bool) \
            and version >= 1:
        return sid, version
    return None
