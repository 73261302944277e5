"""Device groups: named sets of devices that schedules can target.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from core.storage.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_groups",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_device_groups"),
        sa.UniqueConstraint("group_id", name="uq_device_groups_group_id"),
    )
    op.create_table(
        "device_group_members",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("group_row_id", sa.Integer,
                  sa.ForeignKey("device_groups.id", name="fk_device_group_members_group_row_id_device_groups"),
                  nullable=False),
        sa.Column("device_id", sa.String(64),
                  sa.ForeignKey("devices.device_id", name="fk_device_group_members_device_id_devices"),
                  nullable=False),
        sa.Column("added_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_device_group_members"),
        sa.UniqueConstraint("group_row_id", "device_id", name="uq_device_group_members_group_row_id_device_id"),
    )
    op.create_index("ix_device_group_members_group_row_id", "device_group_members", ["group_row_id"])
    op.create_index("ix_device_group_members_device_id", "device_group_members", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_device_group_members_device_id", table_name="device_group_members")
    op.drop_index("ix_device_group_members_group_row_id", table_name="device_group_members")
    op.drop_table("device_group_members")
    op.drop_table("device_groups")
