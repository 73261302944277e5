"""Alarms: the ISA-18.2 transition journal, admin rule overrides, devices out of service.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from core.storage.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarm_transitions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("alarm_id", sa.String(255), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(191), nullable=False),
        sa.Column("from_state", sa.String(8), nullable=False),
        sa.Column("to_state", sa.String(8), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("username", sa.String(64)),
        sa.Column("comment", sa.Text),
        sa.Column("shelved_until", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_transitions"),
    )
    op.create_index("ix_alarm_transitions_alarm_id_id", "alarm_transitions", ["alarm_id", "id"])
    op.create_index("ix_alarm_transitions_source_id", "alarm_transitions", ["source_id"])
    op.create_index("ix_alarm_transitions_at", "alarm_transitions", ["at"])
    op.create_table(
        "alarm_rule_overrides",
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("threshold", sa.Float),
        sa.Column("deadband", sa.Float),
        sa.Column("on_delay_s", sa.Float),
        sa.Column("priority", sa.String(16)),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("rule_id", name="pk_alarm_rule_overrides"),
    )
    op.create_table(
        "alarm_out_of_service",
        sa.Column("device_id", sa.String(191), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("since", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("device_id", name="pk_alarm_out_of_service"),
    )


def downgrade() -> None:
    op.drop_table("alarm_out_of_service")
    op.drop_table("alarm_rule_overrides")
    op.drop_index("ix_alarm_transitions_at", "alarm_transitions")
    op.drop_index("ix_alarm_transitions_source_id", "alarm_transitions")
    op.drop_index("ix_alarm_transitions_alarm_id_id", "alarm_transitions")
    op.drop_table("alarm_transitions")
