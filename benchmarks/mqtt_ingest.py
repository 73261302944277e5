"""MQTT telemetry ingest throughput: raw paho receive rate vs. broker -> decode/validate -> LiveState.

Both are measured in the same run against the same private Mosquitto (127.0.0.1, a free port, unlimited
queues so the broker itself does not drop), with the same load: ``--messages`` QoS 0 telemetry messages
from ``--devices`` devices, published as fast as possible by 2 publisher processes. The rate is
messages received / (last received - publishers told to go). Loss = sent - received.

    .venv/bin/python benchmarks/mqtt_ingest.py [--messages 200000] [--devices 1000] [--broker host:port]

Writes benchmarks/results/mqtt_ingest.json. Targets (DESIGN.md): >= 20,000 msg/s and >= 65 % of raw.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from benchmarks.private_broker import start_private_mosquitto  # noqa: E402

from core.fleet import LiveState  # noqa: E402
from core.runtime.heap import settle_heap  # noqa: E402
from core.storage.database import Database  # noqa: E402
from core.telemetry.writer import TelemetryWriter  # noqa: E402
from drivers.mqtt.broker_config import BrokerConfig  # noqa: E402
from drivers.mqtt.ingest import TelemetryIngest  # noqa: E402
from drivers.mqtt.ingest_pool import TelemetryIngestPool  # noqa: E402
from drivers.mqtt.sim_sources import RandomWalkSource, telemetry_json  # noqa: E402
from drivers.mqtt.topics import fleet_filter, telemetry_topic, TopicKind  # noqa: E402

PUBLISHERS = 2
IDLE_TIMEOUT_S = 5.0  # no message for this long after publishing ended: the rest is lost


def device_ids(count: int) -> list[str]:
    return [f"bench-{i:05d}" for i in range(count)]


# -- publisher process ------------------------------------------------------------------------------
def run_publisher(host: str, port: int, first: int, devices: int, messages: int) -> None:
    """Connect, say 'ready', wait for 'go' on stdin, publish, flush, report 'sent N seconds'."""
    ids = device_ids(first + devices)[first:]
    source = RandomWalkSource(seed=first)
    now = datetime.now(timezone.utc)
    n = len(ids)
    # Every round carries a later timestamp, so stored rows are distinct (the database ignores re-deliveries).
    pairs = [
        (telemetry_topic(ids[i % n]), telemetry_json(now + timedelta(seconds=i // n), source(ids[i % n], now)))
        for i in range(messages)
    ]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{first}-{os.getpid()}")
    client.max_queued_messages_set(0)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect(host, port, keepalive=120)
    client.loop_start()
    if not connected.wait(10):
        raise SystemExit("publisher could not connect")
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    publish = client.publish
    for topic, payload in pairs:
        publish(topic, payload, qos=0)
    client.disconnect()  # the network thread sends everything queued before it closes
    client.loop_stop()
    print(f"sent {messages} {time.perf_counter() - started:.4f}", flush=True)


class Publishers:
    """The publisher processes of one phase."""

    def __init__(self, host: str, port: int, devices: int, messages: int) -> None:
        per_devices, per_messages = devices // PUBLISHERS, messages // PUBLISHERS
        self.procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--publisher", host, str(port), str(k * per_devices), str(per_devices),
                 str(per_messages)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )
            for k in range(PUBLISHERS)
        ]
        for proc in self.procs:
            if proc.stdout.readline().strip() != "ready":  # type: ignore[union-attr]
                raise RuntimeError("publisher failed to start")

    def go(self) -> float:
        started = time.perf_counter()
        for proc in self.procs:
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        return started

    def finish(self) -> tuple[int, float]:
        sent, slowest = 0, 0.0
        for proc in self.procs:
            _, count, seconds = proc.stdout.readline().split()  # type: ignore[union-attr]
            sent += int(count)
            slowest = max(slowest, float(seconds))
            proc.wait(30)
        return sent, slowest


def wait_for_count(get_count, expected: int) -> float:
    """Wait until get_count() reaches expected or stops moving; returns the time of the last progress."""
    last, last_change = -1, time.perf_counter()
    while True:
        count = get_count()
        now = time.perf_counter()
        if count != last:
            last, last_change = count, now
        if count >= expected or now - last_change > IDLE_TIMEOUT_S:
            return last_change
        time.sleep(0.005)  # a benchmark driver polling a counter, not a test


class ProcessCost:
    """CPU seconds of this process and wall seconds spent in garbage collection, over one phase."""

    def __init__(self) -> None:
        self.gc_s = 0.0
        self.full_collections = 0
        self._gc_started = 0.0
        self._cpu0 = time.process_time()
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_s += time.perf_counter() - self._gc_started
            self.full_collections += info["generation"] == 2

    def result(self, messages: int, worker_cpu_s: float = 0.0) -> dict:
        """CPU per message counts this process and, for the worker pool, its worker processes."""
        gc.callbacks.remove(self._on_gc)
        cpu_s = time.process_time() - self._cpu0 + worker_cpu_s
        return {"cpu_us_per_msg": round(cpu_s / messages * 1e6, 2) if messages else None,
                "gc_s": round(self.gc_s, 3), "full_gc_collections": self.full_collections}


# -- phases -----------------------------------------------------------------------------------------
def raw_phase(host: str, port: int, devices: int, messages: int) -> dict:
    """A paho subscriber whose on_message only counts: the ceiling for this machine and broker."""
    received = [0]
    last_at = [0.0]

    def on_message(client, userdata, message) -> None:
        received[0] += 1
        last_at[0] = time.perf_counter()

    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{os.getpid()}")
    client.on_message = on_message
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(host, port, keepalive=120)
    client.loop_start()
    client.subscribe(fleet_filter(TopicKind.TELEMETRY), qos=0)
    subscribed.wait(10)
    publishers = Publishers(host, port, devices, messages)
    cost = ProcessCost()
    started = publishers.go()
    wait_for_count(lambda: received[0], messages)
    process_cost = cost.result(received[0])
    sent, publish_s = publishers.finish()
    client.disconnect()
    client.loop_stop()
    return {**summarize("raw paho receive (count only)", sent, received[0], last_at[0] - started, publish_s),
            **process_cost}


def ingest_phase(host: str, port: int, devices: int, messages: int, flush_mode: str) -> dict:
    """TelemetryIngest into LiveState, and with mode "...+db" through the storage writer into a fresh SQLite
    file: the rate then counts until the last sample is committed."""
    store = flush_mode.endswith("+db")
    flush_mode = flush_mode.removesuffix("+db")
    state = LiveState(initial_capacity=devices)
    for device in device_ids(devices):
        state.register(device)
    sunk = [0]
    writer = None
    if store:
        db = Database.open(f"sqlite:///{tempfile.mkdtemp(prefix='gridroom-bench-db-')}/bench.sqlite3")
        writer = TelemetryWriter(db, flush_interval_s=1.0)

    def sink(batch) -> None:
        sunk[0] += len(batch)
        if writer is not None:
            writer.submit_samples(batch)

    def rows_sink(rows) -> None:
        sunk[0] += len(rows)
        if writer is not None:
            writer.submit_rows(rows)

    config = BrokerConfig(host=host, port=port, keepalive_s=120)
    if flush_mode.startswith("workers"):  # "workersN": N decoding processes on a shared subscription
        ingest = TelemetryIngestPool(config, state, workers=int(flush_mode.removeprefix("workers")),
                                     row_sink=rows_sink)
        ingest.start()
        if not ingest.wait_subscribed(60):
            raise RuntimeError("ingest workers did not subscribe")
    else:
        ingest = TelemetryIngest(config, state, sink=sink, filters=[fleet_filter(TopicKind.TELEMETRY)],
                                 flush_mode=flush_mode)  # type: ignore[arg-type]
        ingest.start()
        ingest.wait_subscribed(10)
    publishers = Publishers(host, port, devices, messages)
    cost = ProcessCost()
    started = publishers.go()
    last_progress = wait_for_count(lambda: ingest.counters.snapshot().messages, messages)
    sent, publish_s = publishers.finish()
    before_stop = os.times()  # the publishers are reaped: children time from here on is the ingest workers'
    ingest.stop()
    after_stop = os.times()
    worker_cpu_s = (after_stop.children_user + after_stop.children_system
                    - before_stop.children_user - before_stop.children_system)
    committed = None
    if writer is not None:
        writer.flush(300)
        last_progress = time.perf_counter()  # end to end: until the last sample is committed
    process_cost = cost.result(ingest.counters.snapshot().messages, worker_cpu_s)
    if writer is not None:
        committed = writer.stats().committed_rows
        writer.stop(60)
    counters = ingest.counters.snapshot()
    how = f"{flush_mode} processes" if flush_mode.startswith("workers") else f"{flush_mode} flush"
    name = f"ingest -> LiveState{' -> SQLite' if store else ''} ({how})"
    result = summarize(name, sent, counters.messages, last_progress - started, publish_s)
    result.update(decoded=counters.decoded, rejected=counters.rejected, sunk=sunk[0], batches=counters.batches,
                  max_queue_depth=counters.max_queue_depth, live_state_version=state.version,
                  committed_rows=committed, **process_cost)
    return result


def summarize(name: str, sent: int, received: int, seconds: float, publish_s: float) -> dict:
    return {
        "name": name,
        "sent": sent,
        "received": received,
        "lost": sent - received,
        "seconds": round(seconds, 3),
        "msg_per_s": round(received / seconds) if seconds > 0 else None,
        "publish_msg_per_s": round(sent / publish_s) if publish_s > 0 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=1_000)
    parser.add_argument("--broker", help="host:port of an existing broker (default: a private mosquitto)")
    parser.add_argument("--modes", default="thread,thread+db,workers2,workers2+db,workers3+db",
                        help="ingest flush modes to measure; +db adds the storage writer into SQLite")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mqtt_ingest.json"))
    args = parser.parse_args()

    settle_heap()  # as `gridroom serve` and the desktop do after start-up
    workdir = Path(tempfile.mkdtemp(prefix="gridroom-bench-mqtt-"))
    broker_proc = None
    if args.broker:
        host, port = args.broker.rsplit(":", 1)[0], int(args.broker.rsplit(":", 1)[1])
    else:
        broker_proc, port = start_private_mosquitto(workdir, "max_queued_messages 0\nmax_queued_bytes 0")
        host = "127.0.0.1"
    try:
        raw = raw_phase(host, port, args.devices, args.messages)
        print(json.dumps(raw))
        ingests = []
        for mode in args.modes.split(","):
            ingests.append(ingest_phase(host, port, args.devices, args.messages, mode))
            print(json.dumps(ingests[-1]))
    finally:
        if broker_proc is not None:
            broker_proc.kill()
            broker_proc.wait(10)
    # The target is end to end (broker -> LiveState -> database): the headline is the best mode that stores.
    stored = [r for r in ingests if r["committed_rows"] is not None] or ingests
    best = max(stored, key=lambda r: r["msg_per_s"] or 0)
    ratio = best["msg_per_s"] / raw["msg_per_s"] if raw["msg_per_s"] else None
    report = {
        "benchmark": "mqtt_ingest",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    # The machine is shared: a high load average means both figures are CPU-starved.
                    "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
        "broker": "private mosquitto" if broker_proc is not None else args.broker,
        "load": {"messages": args.messages, "devices": args.devices, "publisher_processes": PUBLISHERS, "qos": 0},
        "raw": raw,
        "ingest": ingests,
        "best_ingest": best["name"],
        "ratio_to_raw": round(ratio, 3) if ratio else None,
        "targets": {"msg_per_s": 20_000, "ratio_to_raw": 0.65},
        "meets_targets": bool(best["msg_per_s"] and best["msg_per_s"] >= 20_000 and ratio and ratio >= 0.65
                              and best["lost"] == 0),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"raw {raw['msg_per_s']} msg/s, best ingest {best['msg_per_s']} msg/s ({best['name']}), "
          f"ratio {report['ratio_to_raw']}, lost {best['lost']}; wrote {args.out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--publisher":
        run_publisher(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    else:
        main()
