"""Market and forecasting data: UTC price/load/PV series with units, import runs, and the forecast model registry.

Revision ID: 0005
Revises: 0004
"""

from alembic import op  # noqa: F401  (used once this revision has tables)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
