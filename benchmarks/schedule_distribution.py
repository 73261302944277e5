"""Schedule distribution with acks: GridRoom publishes one schedule version per device (retained, QoS 1),
N simulated devices receive and store it and answer with a receipt, run its one entry on a manual clock and
acknowledge it; GridRoom's ack listener (MQTT 5, persistent session) checks every receipt and ack and writes
the delivery states and the execution log (SQLite, a file in a temporary folder).

The broker is a private Mosquitto on a free port whose per-client queue holds 100,000 messages (the shared
broker's default of 1,000 drops QoS 1 messages to a client with 10,000 devices behind it); --broker uses an
existing one. The devices run in --processes worker processes (default 2, the machine's cores), each one MQTT
connection for its share of devices, as a gateway would; they use the fleet simulator's schedule agent and
client (drivers/sim), with their own manual clock.

Timed (wall clock; the device clocks are moved forward at once, so entry durations cost nothing):
- delivered_s: from the first publish until every device's receipt is checked and stored (its delivery
  `delivered`); it includes the broker confirmations (publish_s, in windows of --window) and marking the N
  versions distributed (each window once confirmed, while the next is on the wire; mark_distributed_s is
  the marking left after the last confirmation);
- acks_s: from the moment the devices' entries end (they queue the ack and flush) until every ack is checked
  and in the execution log;
- all_acked_s = delivered_s + acks_s (the DESIGN.md target: 10,000 devices all acked <= 5 s);
- per-device latency = its receipt latency (from the first publish) + its ack latency (from the flush);
  p50/p95/max reported, and for receipts and acks separately.
control_cpu_s is the CPU time of the control process (publisher, marking, listener, database) in those
windows (control_cpu_acks_s: in the ack phase alone), ack_reader_cpu_s that of the listener's reader process
(--ack-reader process, the default and what `gridroom serve` runs; --ack-reader thread reads in the control
process, as the desktop does), device_cpu_s that of each device process since it was ready and broker_cpu_s
Mosquitto's (private broker only); ack_handler_s is the wall time spent checking and storing batches. On a
shared 2-core machine these show who waits for a core.
Lost = devices without a stored receipt or ack at the end (waits up to --timeout s); rejected and duplicate
counts come from the schedule service. Preparing the N approved versions is not timed: they are inserted
directly (validating and approving 10,000 drafts one by one is operator time, not distribution).

    .venv/bin/python benchmarks/schedule_distribution.py [--devices 10000] [--processes 2] [--broker HOST:PORT]

Writes benchmarks/results/schedule_distribution.json (or --out), one entry per --devices value.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from benchmarks.private_broker import start_private_mosquitto  # noqa: E402

from core.auth.principal import SYSTEM  # noqa: E402
from core.clock import ManualClock  # noqa: E402
from core.schedules.model import DeviceLimits, Mode, ScheduleEntry, ScheduleState  # noqa: E402
from core.schedules.records import ScheduleReceipt, entries_to_json  # noqa: E402
from core.schedules.service import ScheduleService  # noqa: E402
from core.schedules.tables import ScheduleRow  # noqa: E402
from core.services import CoreServices  # noqa: E402
from core.storage.database import Database  # noqa: E402
from drivers.mqtt.broker_config import BrokerConfig  # noqa: E402
from drivers.mqtt.ack_listener import AckListener  # noqa: E402
from drivers.mqtt.schedule_publisher import SchedulePublisher, schedule_payload  # noqa: E402
from drivers.mqtt.topics import TopicKind, topic_for  # noqa: E402

SITE = {"name": "Bench", "lat": 51.0, "lon": 4.0, "timezone": "UTC"}
START = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
ENTRY = [ScheduleEntry(START + timedelta(minutes=1), START + timedelta(minutes=2), Mode.DISCHARGE, 50.0)]


# The second case asked for, ONE schedule version delivered to every device of a group, is not measured: this
# branch's ScheduleService refuses group targets (create_draft: "group schedules are applied per device:
# create one per member"), so a group distribution IS the per-device case above.
GROUP_CASE_NOT_RUN = {
    "case": "one group schedule version delivered to N devices",
    "why": "not supported in this branch: ScheduleService.create_draft refuses group targets (a group is "
           "distributed as one version per member, which is the per-device case measured in runs)"}


def fleet(ids: list[str]):
    from drivers.sim.fleet_definition import parse_fleet_definition
    devices = [{"id": d, "protocol": "mqtt", "site": "Bench", "lat": 51.0, "lon": 4.0, "capacity_kwh": 200.0,
                "max_charge_kw": 100.0, "max_discharge_kw": 100.0, "initial_soc_pct": 50.0} for d in ids]
    return parse_fleet_definition({"version": 1, "sites": [SITE], "devices": devices, "battery_systems": []})


# -- the device side: one worker process per share of the fleet -------------------------------------------------
def run_devices(host: str, port: int, prefix: str, first: int, count: int, folder: str) -> None:
    """Worker: hold, run and ack the schedules of devices first..first+count; driven by lines on stdin."""
    from drivers.sim.fleet_physics import FleetPhysics
    from drivers.sim.schedule_agent import ScheduleAgent, ScheduleStore
    from drivers.sim.schedule_client import ScheduleClient

    ids = [f"{prefix}-{i:05d}" for i in range(first, first + count)]
    clock = ManualClock(START)
    physics = FleetPhysics(fleet(ids))
    agent = ScheduleAgent(physics, clock, ScheduleStore(folder), lambda device_id: True, ids)
    client = ScheduleClient(BrokerConfig(host=host, port=port), agent)
    client.start(60.0)

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    cpu_ready = time.process_time()
    say("ready")
    for line in sys.stdin:
        command = line.strip()
        if command == "held":  # every device holds its schedule
            ok = agent.wait_until(lambda: agent.accepted >= count, 300)
            say(f"held {agent.accepted} {ok}")
        elif command == "start":  # entries start: power applied, then one physics step so it is measured
            clock.advance(timedelta(seconds=90))
            agent.tick()
            client.flush()  # also drops the confirmed receipts from the outboxes
            physics.step(1.0, clock.now())
            say("started")
        elif command == "end":  # entries end: one ack per device, flushed
            t = time.perf_counter()
            clock.advance(timedelta(seconds=60))
            agent.tick()
            ticked = time.perf_counter() - t
            client.flush()
            say(f"flushed {ticked:.3f} {time.perf_counter() - t:.3f} {time.process_time() - cpu_ready:.3f}")
        elif command == "stop":
            break
    client.stop()


class DeviceWorkers:
    def __init__(self, broker: BrokerConfig, prefix: str, n: int, processes: int, folder: Path) -> None:
        share = -(-n // processes)
        self.procs = []
        for k, first in enumerate(range(0, n, share)):
            count = min(share, n - first)
            self.procs.append(subprocess.Popen(
                [sys.executable, __file__, "--worker", f"{broker.host}:{broker.port}", prefix, str(first), str(count),
                 str(folder / f"devices-{k}")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        self.expect("ready")

    def send(self, command: str) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(command + "\n")
            p.stdin.flush()

    def expect(self, word: str) -> list[str]:
        lines = []
        for p in self.procs:
            assert p.stdout is not None
            line = p.stdout.readline().strip()
            if not line.startswith(word):
                raise SystemExit(f"device worker said {line!r}, expected {word!r}")
            lines.append(line)
        return lines

    def stop(self) -> None:
        for p in self.procs:
            try:
                self.send("stop")
            except (BrokenPipeError, ValueError):
                pass
            p.wait(60)


# -- the control side --------------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def approved_versions(core, ids: list[str]) -> list[tuple[int, str, int, str]]:
    """(row id, schedule_id, version, device) of one approved version per device, inserted in one statement."""
    entries = entries_to_json(tuple(ENTRY))
    rows = [{"schedule_id": f"sch-{d}", "version": 1, "target_kind": "device", "target_id": d,
             "state": ScheduleState.APPROVED.value, "source": "manual", "created_by": "bench", "approved_by": "bench",
             "created_at": START, "approved_at": START, "entries_json": entries} for d in ids]
    with core.db.session() as s:
        s.execute(insert(ScheduleRow), rows)
    with core.db.session() as s:
        found = s.execute(select(ScheduleRow.id, ScheduleRow.schedule_id, ScheduleRow.version, ScheduleRow.target_id)
                          .where(ScheduleRow.created_by == "bench")).all()
    return [tuple(r) for r in found]


async def distribute(publisher, svc, payloads, row_of, window: int):
    """Publish in windows and mark each window distributed once the broker confirmed it, while the next window
    is on the wire (the runtime does the same per version: confirmation first, then the mark).
    Returns (device -> error or None, seconds until the last confirmation, seconds marking after it)."""
    t0 = time.perf_counter()
    sent: dict[str, str | None] = {}
    marking = None
    for first in range(0, len(payloads), window):
        result = await publisher.publish_many(payloads[first:first + window])
        sent.update(result)
        if marking is not None:
            await marking
        confirmed = [(row_of[d], [d]) for d, error in result.items() if error is None]
        marking = asyncio.create_task(asyncio.to_thread(svc.mark_distributed_many, SYSTEM, confirmed))
    publish_s = time.perf_counter() - t0
    await marking
    return sent, publish_s, time.perf_counter() - t0 - publish_s


def cpu_of(pid: int | None) -> float | None:
    """CPU seconds (user + system) of another process so far, from /proc; None where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(n: int, processes: int, broker: BrokerConfig, broker_name: str, timeout_s: float, window: int,
        broker_pid: int | None = None, reader_process: bool = True) -> dict:
    clock = ManualClock(START)
    folder = Path(tempfile.mkdtemp(prefix="gridroom-bench-sched-"))
    # Each simulated device keeps its schedule in a file, renamed into place atomically. On this disk a rename
    # costs ~1.7 ms and 10,000 of them serialize in one place, which a fleet with a flash chip per device does
    # not: the device files go to tmpfs when there is one. The control side's database stays on disk.
    shm = Path("/dev/shm")
    device_folder = Path(tempfile.mkdtemp(prefix="gridroom-bench-devices-", dir=shm if shm.is_dir() else None))
    core = CoreServices.build(Database.open(f"sqlite:///{folder / 'bench.sqlite3'}"), clock=clock)
    limits = lambda d: DeviceLimits(d, 200.0, 100.0, 100.0, 5.0, 95.0, 1.0, 1.0, 50.0)  # noqa: E731
    svc = ScheduleService(core.db, core.audit, core.authorizer, clock, limits)
    prefix = f"bs{uuid.uuid4().hex[:6]}"
    ids = [f"{prefix}-{i:05d}" for i in range(n)]
    receipt_at: dict[str, float] = {}
    ack_at: dict[str, float] = {}
    batches: list[int] = []

    handler_s = [0.0]

    def record(batch) -> None:
        t = time.perf_counter()
        svc.record_acks(batch)
        now = time.perf_counter()
        handler_s[0] += now - t
        batches.append(len(batch))
        for device_id, message in batch:
            (receipt_at if isinstance(message, ScheduleReceipt) else ack_at).setdefault(device_id, now)

    session = f"gridroom-bench-acks-{prefix}"
    listener = AckListener(broker, record, timeout_s=60.0, session_id=session, reader_process=reader_process)
    publisher = SchedulePublisher(broker, timeout_s=120.0)
    t = time.perf_counter()
    versions = approved_versions(core, ids)
    prepare_s = time.perf_counter() - t
    workers = DeviceWorkers(broker, prefix, n, processes, device_folder)
    listener.start()
    publisher.start()
    try:
        payloads = [(device_id, schedule_payload(sid, version, ENTRY)) for _, sid, version, device_id in versions]
        row_of = {device_id: row_id for row_id, _, _, device_id in versions}
        cpu0, broker_cpu0, reader_cpu0 = time.process_time(), cpu_of(broker_pid), cpu_of(listener.reader_pid)
        t0 = time.perf_counter()
        sent, publish_s, mark_s = asyncio.run(distribute(publisher, svc, payloads, row_of, window))
        failed = [d for d, error in sent.items() if error]
        all_delivered = listener.wait_receipts(n, timeout_s)
        delivered_s = time.perf_counter() - t0
        workers.send("held")
        held = workers.expect("held")
        workers.send("start")
        workers.expect("started")
        clock.advance(timedelta(seconds=150))  # the control side's clock follows the devices'
        t1, cpu1 = time.perf_counter(), time.process_time()
        workers.send("end")
        all_acked = listener.wait_handled(n, timeout_s)
        acks_s = time.perf_counter() - t1
        control_cpu_s = time.process_time() - cpu0  # this process (all its threads), publish to last ack
        control_ack_cpu_s = time.process_time() - cpu1
        broker_cpu1, reader_cpu1 = cpu_of(broker_pid), cpu_of(listener.reader_pid)
        reader_cpu_s = None if reader_cpu1 is None else round(reader_cpu1 - reader_cpu0, 3)
        broker_cpu_s = None if broker_cpu1 is None else round(broker_cpu1 - broker_cpu0, 3)
        flushed = workers.expect("flushed")
        logged = len(svc.execution_log())
        receipt_lat = [receipt_at[d] - t0 for d in ids if d in receipt_at]
        ack_lat = [ack_at[d] - t1 for d in ids if d in ack_at]
        per_device = [receipt_at[d] - t0 + ack_at[d] - t1 for d in ids if d in receipt_at and d in ack_at]
        completed = sum(svc.get(row_id).state is ScheduleState.COMPLETED for row_id, *_ in versions[:100])
    finally:
        listener.stop()
        publisher.stop()
        workers.stop()
        clear = broker.make_client(session, role="bench-clear", clean_session=True)  # end the persistent session
        clear.connect(broker.host, broker.port)
        clear.loop_start()
        for info in [clear.publish(topic_for(d, TopicKind.SCHEDULE), b"", qos=1, retain=True) for d in ids]:
            info.wait_for_publish(30)  # leave no retained schedules behind on a shared broker
        clear.disconnect()
        clear.loop_stop()
        core.close()
        shutil.rmtree(device_folder, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    load1, load5, load15 = os.getloadavg()
    return {
        "case": f"{n:,} per-device schedules (one version per device)",
        "devices": n, "device_processes": len(workers.procs), "ack_reader": "process" if reader_process else "thread", "publish_window": window, "broker": broker_name, "database": "sqlite",
        "device_files": "tmpfs" if str(device_folder).startswith("/dev/shm") else "disk",
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "load_average_after": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "prepare_s": round(prepare_s, 3), "publish_s": round(publish_s, 3), "mark_distributed_s": round(mark_s, 3),
        "delivered_s": round(delivered_s, 3), "acks_s": round(acks_s, 3), "all_acked_s": round(delivered_s + acks_s, 3),
        "device_latency_p50_s": round(pct(per_device, 0.5), 4) if per_device else None,
        "device_latency_p95_s": round(pct(per_device, 0.95), 4) if per_device else None,
        "device_latency_max_s": round(max(per_device), 4) if per_device else None,
        "receipt_latency_p95_s": round(pct(receipt_lat, 0.95), 4) if receipt_lat else None,
        "ack_latency_p50_s": round(pct(ack_lat, 0.5), 4) if ack_lat else None,
        "ack_latency_p95_s": round(pct(ack_lat, 0.95), 4) if ack_lat else None,
        "ack_latency_max_s": round(max(ack_lat), 4) if ack_lat else None,
        "all_delivered": all_delivered, "all_acked": all_acked, "devices_holding": sum(int(h.split()[1]) for h in held),
        "lost_receipts": n - len(receipt_at), "lost_acks": n - len(ack_at), "execution_log_rows": logged,
        "send_failures": len(failed), "rejected": dict(svc.ack_rejects), "duplicates": svc.ack_duplicates,
        "device_tick_and_flush_s": [[float(x) for x in line.split()[1:3]] for line in flushed],
        "device_cpu_s": [float(line.split()[3]) for line in flushed],
        "broker_cpu_s": broker_cpu_s, "ack_reader_cpu_s": reader_cpu_s,
        "ack_handler_s": round(handler_s[0], 3), "control_cpu_s": round(control_cpu_s, 3), "control_cpu_acks_s": round(control_ack_cpu_s, 3), "ack_batches": len(batches), "largest_ack_batch": max(batches, default=0),
        "first_100_completed": completed,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        host, port = sys.argv[2].rsplit(":", 1)
        run_devices(host, int(port), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--processes", type=int, default=2, help="device worker processes")
    parser.add_argument("--broker", help="host:port of an existing broker (default: a private mosquitto)")
    parser.add_argument("--timeout", type=float, default=120.0)
    # Measured at 10,000 devices: one window 9.4 s, windows of 2,000 12.5 s (marking then competes with the
    # publishing for the one core this process gets).
    parser.add_argument("--window", type=int, default=0, help="schedules published per window, marked "
                        "distributed while the next window is on the wire (default 0: all in one)")
    parser.add_argument("--ack-reader", choices=("process", "thread"), default="process",
                        help="where the ack listener reads and decodes (default: its own process)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "schedule_distribution.json"))
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    workdir = Path(tempfile.mkdtemp(prefix="gridroom-bench-broker-"))
    broker_proc = None
    if args.broker:
        host, port = args.broker.rsplit(":", 1)
        name = args.broker
    else:
        broker_proc, port = start_private_mosquitto(workdir, "max_queued_messages 100000\nmax_inflight_messages 0")
        host, name = "127.0.0.1", "private mosquitto (max_queued_messages 100000)"
    broker = BrokerConfig(host=host, port=int(port))
    try:
        runs = [run(n, args.processes, broker, name, args.timeout, args.window or n,
                    broker_proc.pid if broker_proc else None, args.ack_reader == "process") for n in args.devices]
    finally:
        if broker_proc is not None:
            broker_proc.terminate()
            broker_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    result = {"benchmark": "schedule_distribution", "target": "10,000 devices all acked <= 5 s (DESIGN.md)",
              "load_average_before": load_before, "runs": runs, "cases_not_run": [GROUP_CASE_NOT_RUN]}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
