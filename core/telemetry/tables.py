"""Telemetry tables (SQLAlchemy Core: written in bulk by the storage writer, read by queries).

Layout choices, all for narrow rows (DESIGN.md target: <= 300 MB per day for 1,000 cells at 2 s):
- Time is an integer count of milliseconds since the Unix epoch (``ts_ms``, ``bucket_start_ms``), not a
  datetime column: 6 bytes in SQLite instead of a 26-character string, and bucket arithmetic
  (``ts_ms - ts_ms % 60000``) is the same integer expression on SQLite and PostgreSQL. The Python API takes
  and returns aware UTC datetimes (core/telemetry/timecodes.py); storage is millisecond-precise.
- The primary key is the only index. On SQLite the bulk tables are WITHOUT ROWID, so the key is stored once
  (in the table's own B-tree) instead of twice (table + unique index). Every read and delete is a range on
  the key's prefix (device_id, then time), so no second index is needed.
- device_id is the registry's text id, with no foreign key: telemetry may arrive before a device is
  registered (auto-registration) and must stay readable after it is decommissioned.
- Cell readings are one row per pack per sample, not one row per cell; see ``cell_samples`` below.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)

from core.storage.base import Base

metadata = Base.metadata

RAW_METRICS = ("soc_pct", "power_kw", "voltage_v", "current_a", "temp_c", "soh_pct")
# Metrics with min/avg/max in the rollups.
ROLLUP_METRICS = ("soc_pct", "power_kw", "voltage_v", "temp_c")
CELL_ARRAYS = ("voltage_v", "temp_c", "soc_pct", "soh_pct")

telemetry_raw = Table(
    "telemetry_raw",
    metadata,
    Column("device_id", String(64), nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    # Nullable: a device without a sensor (SunSpec model 802 has no temperature) stores NULL, not a made-up 0.
    *(Column(name, Float, nullable=True) for name in RAW_METRICS),
    Column("mode", SmallInteger, nullable=False),
    # A re-delivered sample (same device, same instant) is ignored on insert: this key makes it a duplicate.
    PrimaryKeyConstraint("device_id", "ts_ms", name="pk_telemetry_raw"),
    sqlite_with_rowid=False,
)


def _rollup_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("device_id", String(64), nullable=False),
        Column("bucket_start_ms", BigInteger, nullable=False),
        Column("n", Integer, nullable=False),  # raw samples in the bucket
        *(Column(f"{m}_{agg}", Float, nullable=True) for m in ROLLUP_METRICS for agg in ("min", "avg", "max")),
        Column("energy_charged_kwh", Float, nullable=False),
        Column("energy_discharged_kwh", Float, nullable=False),
        PrimaryKeyConstraint("device_id", "bucket_start_ms", name=f"pk_{name}"),
        sqlite_with_rowid=False,
    )


telemetry_1m = _rollup_table("telemetry_1m")
telemetry_15m = _rollup_table("telemetry_15m")

# Small integer keys for the device ids in cell_samples: 1 byte per row on SQLite instead of the id's text.
# Assigned on first use by the writer; never deleted (a key outlives the device's rows).
telemetry_device_keys = Table(
    "telemetry_device_keys",
    metadata,
    Column("device_key", Integer, nullable=False),
    Column("device_id", String(64), nullable=False),
    PrimaryKeyConstraint("device_key", name="pk_telemetry_device_keys"),
    UniqueConstraint("device_id", name="uq_telemetry_device_keys_device_id"),
)

# One row per pack per sample (benchmarks/db_growth.py, 24 h on SQLite: 54.9 B per row of 10 cells, 5.49 B
# per cell-sample, 237 MB for 1,000 cells at 2 s; float32 arrays with text ids took 227.6 B per row). A pack
# spread wider than 254 mV or 25.4 C is stored plain (+8 B per array for 10 cells; about 71 B per row).
# - The arrays are fixed-point codes, frame-of-reference packed (core/telemetry/cell_codec.py): 1 mV, 0.1 C,
#   0.01 %. Voltage and temperature are in every row; SoC and SoH only about once a minute and NULL
#   otherwise (core/telemetry/cell_rows.py); queries fill them in from the pack's newest row that has them.
# - current_10ma is the pack current in 10 mA steps (an integer: 2-3 bytes on SQLite instead of an 8-byte
#   REAL).
# - Key (device_key, ts_ms, pack): one device's packs at one instant are neighbours (a heat map frame and the
#   newest readings are one short range), deleting old rows is one range per device. Measured on SQLite:
#   pages end up ~83 % full with this order and with (device_key, pack, ts_ms) alike (WITHOUT ROWID tables
#   split pages the same way wherever the insert lands), so the order was chosen for the queries. One pack
#   over a long range reads every pack's rows of that range; long cell trends need a per-pack rollup.
cell_samples = Table(
    "cell_samples",
    metadata,
    Column("device_key", Integer, nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    Column("pack", SmallInteger, nullable=False),
    Column("current_10ma", Integer, nullable=False),
    Column("voltage_v", LargeBinary, nullable=False),
    Column("temp_c", LargeBinary, nullable=False),
    Column("soc_pct", LargeBinary),  # NULL: unchanged since the pack's last row that has it
    Column("soh_pct", LargeBinary),
    PrimaryKeyConstraint("device_key", "ts_ms", "pack", name="pk_cell_samples"),
    sqlite_with_rowid=False,
)

status_changes = Table(
    "status_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("online", Boolean, nullable=False),
    Column("reason", String(255)),
    Index("ix_status_changes_device_id_at_ms", "device_id", "at_ms"),
)

# How far each rollup is complete: raw rows before the 1-min mark may be purged.
rollup_marks = Table(
    "rollup_marks",
    metadata,
    Column("name", String(16), nullable=False),
    Column("done_until_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("name", name="pk_rollup_marks"),
)
