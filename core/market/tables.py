"""Market data in the database: UTC interval points with unit and source, and the record of every import run.

One row per (series, interval start). The unique key is what makes a second import of the same period an
update of the stored points, never a second copy of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.base import Base
from core.storage.types import UtcDateTime


class MarketImportRunRow(Base):
    """One import of one file: who, what, how many points, the repairs the importer reported, or why it failed."""

    __tablename__ = "market_import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(Text, nullable=False)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # price / load_pv / entsoe
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)  # manual / watched_folder
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # imported / failed
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inserted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    replaced: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    repairs_json: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    error: Mapped[str | None] = mapped_column(Text)
    error_line: Mapped[int | None] = mapped_column(Integer)


class MarketPointRow(Base):
    """One interval value of a stored series (e.g. 'price', 'load', 'pv'), in `unit`, starting at start_utc."""

    __tablename__ = "market_points"
    __table_args__ = (
        UniqueConstraint("series", "start_utc", name="uq_market_points_series_start_utc"),
        Index("ix_market_points_import_run_id", "import_run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(64), nullable=False)
    start_utc: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    step_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    import_run_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("market_import_runs.id"))
