"""The forecast model registry in the database: one row per model version; the ONNX file stays on disk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.base import Base
from core.storage.types import UtcDateTime


class ForecastModelRow(Base):
    """Version, training window, feature schema, file hash and backtest errors of one registered model."""

    __tablename__ = "forecast_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    training_start: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    training_end: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    feature_schema_json: Mapped[str] = mapped_column(Text, nullable=False)
    backtest_mae: Mapped[float] = mapped_column(Float, nullable=False)
    backtest_mape_pct: Mapped[float] = mapped_column(Float, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
