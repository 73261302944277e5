"""Compact device telemetry: integer device key and fixed-point columns.

Revision ID: 0008
Revises: 0007
"""

from alembic import op  # noqa: F401  (used once this revision has tables)

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
