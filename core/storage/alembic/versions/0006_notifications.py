"""Notifications: per-user preferences, channel settings, escalation chain, delivery log of every attempt.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from core.storage.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("sms_number", sa.String(32)),
        sa.Column("email_enabled", sa.Boolean, nullable=False),
        sa.Column("sms_enabled", sa.Boolean, nullable=False),
        sa.Column("desktop_enabled", sa.Boolean, nullable=False),
        sa.Column("sound_enabled", sa.Boolean, nullable=False),
        sa.Column("min_priority", sa.String(16), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_notification_preferences"),
    )
    op.create_table(
        "notification_channels",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("settings_json", sa.Text, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_notification_channels"),
    )
    op.create_table(
        "notification_escalation",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("steps_json", sa.Text, nullable=False),
        sa.Column("priorities_json", sa.Text, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_escalation"),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("alarm_id", sa.String(255), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_kind", sa.String(16), nullable=False),
        sa.Column("step_index", sa.Integer),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("final", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
    )
    op.create_index("ix_notification_deliveries_at", "notification_deliveries", ["at"])
    op.create_index("ix_notification_deliveries_alarm_id", "notification_deliveries", ["alarm_id"])


def downgrade() -> None:
    op.drop_index("ix_notification_deliveries_alarm_id", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_at", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_escalation")
    op.drop_table("notification_channels")
    op.drop_table("notification_preferences")
