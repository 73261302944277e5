"""Schedules: versions (entries as JSON), per-device delivery state, and the execution log of acknowledged entries.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from core.storage.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("schedule_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("approved_at", UtcDateTime),
        sa.Column("distributed_at", UtcDateTime),
        sa.Column("entries_json", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
        sa.UniqueConstraint("schedule_id", "version", name="uq_schedules_schedule_id_version"),
    )
    op.create_index("ix_schedules_target_id", "schedules", ["target_id"])
    op.create_table(
        "schedule_deliveries",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("schedule_row_id", sa.Integer,
                  sa.ForeignKey("schedules.id", name="fk_schedule_deliveries_schedule_row_id_schedules"), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sent_at", UtcDateTime),
        sa.Column("delivered_at", UtcDateTime),
        sa.Column("last_ack_at", UtcDateTime),
        sa.Column("acked_entries", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_deliveries"),
        sa.UniqueConstraint("schedule_row_id", "device_id", name="uq_schedule_deliveries_schedule_row_id_device_id"),
    )
    op.create_index("ix_schedule_deliveries_device_id", "schedule_deliveries", ["device_id"])
    op.create_table(
        "schedule_acks",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("schedule_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("entry_index", sa.Integer, nullable=False),
        sa.Column("actual_rate_kw", sa.Float, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("ended_at", UtcDateTime),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_acks"),
        sa.UniqueConstraint("schedule_id", "version", "device_id", "entry_index",
                            name="uq_schedule_acks_schedule_id_version_device_id_entry_index"),
    )
    op.create_index("ix_schedule_acks_device_id", "schedule_acks", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_schedule_acks_device_id", table_name="schedule_acks")
    op.drop_table("schedule_acks")
    op.drop_index("ix_schedule_deliveries_device_id", table_name="schedule_deliveries")
    op.drop_table("schedule_deliveries")
    op.drop_index("ix_schedules_target_id", table_name="schedules")
    op.drop_table("schedules")
