"""Devices and telemetry: device registry, raw telemetry, 1-min and 15-min rollups, cell samples, status changes.

Revision ID: 0002
Revises: 0001

The bulk tables are WITHOUT ROWID on SQLite (their key is their only index; see core/telemetry/tables.py).
cell_samples holds fixed-point cell arrays keyed by a small integer device key (telemetry_device_keys);
formats in core/telemetry/cell_codec.py and core/telemetry/cell_rows.py.
"""

import sqlalchemy as sa
from alembic import op

from core.storage.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_RAW_METRICS = ("soc_pct", "power_kw", "voltage_v", "current_a", "temp_c", "soh_pct")
_ROLLUP_METRICS = ("soc_pct", "power_kw", "voltage_v", "temp_c")


def _rollup_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("bucket_start_ms", sa.BigInteger, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        *(sa.Column(f"{m}_{agg}", sa.Float, nullable=True) for m in _ROLLUP_METRICS for agg in ("min", "avg", "max")),
        sa.Column("energy_charged_kwh", sa.Float, nullable=False),
        sa.Column("energy_discharged_kwh", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("device_id", "bucket_start_ms", name=f"pk_{name}"),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", name="fk_devices_site_id_sites"), nullable=False),
        sa.Column("location", sa.String(255), nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("capacity_kwh", sa.Float, nullable=False),
        sa.Column("max_charge_kw", sa.Float, nullable=False),
        sa.Column("max_discharge_kw", sa.Float, nullable=False),
        sa.Column("address", sa.String(512), nullable=False),
        sa.Column("packs", sa.Integer),
        sa.Column("cells_per_pack", sa.Integer),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("decommissioned_at", UtcDateTime),
        sa.Column("certificate_serial", sa.String(128)),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
        sa.UniqueConstraint("device_id", name="uq_devices_device_id"),
    )
    op.create_index("ix_devices_site_id", "devices", ["site_id"])
    op.create_table(
        "telemetry_raw",
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        *(sa.Column(m, sa.Float, nullable=True) for m in _RAW_METRICS),
        sa.Column("mode", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("device_id", "ts_ms", name="pk_telemetry_raw"),
        sqlite_with_rowid=False,
    )
    _rollup_table("telemetry_1m")
    _rollup_table("telemetry_15m")
    op.create_table(
        "telemetry_device_keys",
        sa.Column("device_key", sa.Integer, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("device_key", name="pk_telemetry_device_keys"),
        sa.UniqueConstraint("device_id", name="uq_telemetry_device_keys_device_id"),
    )
    op.create_table(
        "cell_samples",
        sa.Column("device_key", sa.Integer, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("pack", sa.SmallInteger, nullable=False),
        sa.Column("current_10ma", sa.Integer, nullable=False),
        sa.Column("voltage_v", sa.LargeBinary, nullable=False),
        sa.Column("temp_c", sa.LargeBinary, nullable=False),
        sa.Column("soc_pct", sa.LargeBinary),
        sa.Column("soh_pct", sa.LargeBinary),
        sa.PrimaryKeyConstraint("device_key", "ts_ms", "pack", name="pk_cell_samples"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(255)),
        sa.PrimaryKeyConstraint("id", name="pk_status_changes"),
    )
    op.create_index("ix_status_changes_device_id_at_ms", "status_changes", ["device_id", "at_ms"])
    op.create_table(
        "rollup_marks",
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("done_until_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_rollup_marks"),
    )


def downgrade() -> None:
    op.drop_table("rollup_marks")
    op.drop_index("ix_status_changes_device_id_at_ms", "status_changes")
    op.drop_table("status_changes")
    op.drop_table("cell_samples")
    op.drop_table("telemetry_device_keys")
    op.drop_table("telemetry_15m")
    op.drop_table("telemetry_1m")
    op.drop_table("telemetry_raw")
    op.drop_index("ix_devices_site_id", "devices")
    op.drop_table("devices")
