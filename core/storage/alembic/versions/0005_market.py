"""Market and forecasting data: UTC price/load/PV series with units, import runs, and the forecast model registry.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from core.storage.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_import_runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.String(64)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("inserted", sa.Integer, nullable=False),
        sa.Column("replaced", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("repairs_json", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("error_line", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_market_import_runs"),
    )
    op.create_table(
        "market_points",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("series", sa.String(64), nullable=False),
        sa.Column("start_utc", UtcDateTime, nullable=False),
        sa.Column("step_seconds", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("import_run_id", sa.Integer,
                  sa.ForeignKey("market_import_runs.id", name="fk_market_points_import_run_id_market_import_runs")),
        sa.PrimaryKeyConstraint("id", name="pk_market_points"),
        sa.UniqueConstraint("series", "start_utc", name="uq_market_points_series_start_utc"),
    )
    op.create_index("ix_market_points_import_run_id", "market_points", ["import_run_id"])
    op.create_table(
        "forecast_models",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("training_start", UtcDateTime, nullable=False),
        sa.Column("training_end", UtcDateTime, nullable=False),
        sa.Column("feature_schema_json", sa.Text, nullable=False),
        sa.Column("backtest_mae", sa.Float, nullable=False),
        sa.Column("backtest_mape_pct", sa.Float, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forecast_models"),
        sa.UniqueConstraint("version", name="uq_forecast_models_version"),
    )


def downgrade() -> None:
    op.drop_table("forecast_models")
    op.drop_index("ix_market_points_import_run_id", table_name="market_points")
    op.drop_table("market_points")
    op.drop_table("market_import_runs")
