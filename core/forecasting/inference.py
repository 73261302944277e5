"""Run-time forecasts: onnxruntime only (no scikit-learn on this path), quantiles P10/P50/P90.

A model file is one ONNX graph with one output per quantile and its FeatureSchema, kind and quantiles in
the ONNX metadata, so the file alone says how to feed it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from core.forecasting.features import FeatureError, FeatureSchema

SCHEMA_KEY = "gridroom.feature_schema"
QUANTILES_KEY = "gridroom.quantiles"
KIND_KEY = "gridroom.kind"


class ModelFileError(ValueError):
    """A model file cannot be read or lacks GridRoom's metadata."""


@dataclass(frozen=True, eq=False)
class QuantileForecast:
    """P10/P50/P90 per row. `reordered_rows` counts rows whose quantiles crossed and were sorted."""

    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    reordered_rows: int


class ForecastModel:
    """A loaded quantile model. Thread-safe for predict (onnxruntime sessions are)."""

    def __init__(self, session: ort.InferenceSession, schema: FeatureSchema, quantiles: tuple[float, ...],
                 kind: str) -> None:
        self._session = session
        self.schema = schema
        self.quantiles = quantiles
        self.kind = kind
        self._input = session.get_inputs()[0].name
        self._outputs = [o.name for o in session.get_outputs()]

    @classmethod
    def load(cls, path: Path | str) -> "ForecastModel":
        """Load a model file. (Integrity against a manifest hash is the registry's job: ModelRegistry.load.)"""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ModelFileError(f"cannot read model file {path}: {exc}") from exc
        return cls.from_bytes(data, source=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> "ForecastModel":
        options = ort.SessionOptions()
        # Many small models share 2 cores with the UI and the broker: one intra-op thread each.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped Fail/InvalidProtobuf
            raise ModelFileError(f"{source} is not a loadable ONNX model: {exc}") from exc
        meta = session.get_modelmeta().custom_metadata_map
        try:
            schema = FeatureSchema.from_json(meta[SCHEMA_KEY])
            quantiles = tuple(float(q) for q in json.loads(meta[QUANTILES_KEY]))
            kind = meta[KIND_KEY]
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelFileError(f"{source} lacks GridRoom metadata ({exc})") from exc
        if len(session.get_outputs()) != len(quantiles):
            raise ModelFileError(f"{source}: {len(session.get_outputs())} outputs for {len(quantiles)} quantiles")
        return cls(session, schema, quantiles, kind)

    def predict_raw(self, features: np.ndarray) -> np.ndarray:
        """(n, len(quantiles)) model outputs in quantile order, before any reordering (for parity checks)."""
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[1] != len(self.schema.names):
            raise FeatureError(f"expected (n, {len(self.schema.names)}) features {self.schema.names}, "
                               f"got shape {features.shape}")
        features = np.ascontiguousarray(features, dtype=np.float32)
        if not np.isfinite(features).all():
            raise FeatureError("features hold NaN or infinite values")
        outputs = self._session.run(self._outputs, {self._input: features})
        return np.column_stack([np.asarray(o, dtype=np.float64).reshape(-1) for o in outputs])

    def predict(self, features: np.ndarray) -> QuantileForecast:
        """P10/P50/P90 for each feature row.

        Quantile models are trained independently, so on a few rows P10 can land above P50. The rows are
        then sorted (the "rearrangement" of Chernozhukov, Fernandez-Val and Galichon, 2010), which never
        makes a quantile forecast worse under pinball loss; the count is reported as reordered_rows.
        """
        stacked = self.predict_raw(features)
        ordered = np.sort(stacked, axis=1)
        reordered = int(np.count_nonzero((ordered != stacked).any(axis=1)))
        columns = {q: ordered[:, i] for i, q in enumerate(sorted(self.quantiles))}
        try:
            return QuantileForecast(columns[0.1], columns[0.5], columns[0.9], reordered)
        except KeyError as exc:
            raise ModelFileError(f"model quantiles {self.quantiles} lack P10/P50/P90") from exc
