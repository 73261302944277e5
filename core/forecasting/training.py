"""Training quantile models with scikit-learn, exporting them as one ONNX file, and backtesting them.

Only tools and the default-model script import this module; the run-time path uses inference.py.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import onnx
from onnx import compose, helper
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from core.forecasting.features import FeatureSchema, training_rows
from core.forecasting.inference import KIND_KEY, QUANTILES_KEY, SCHEMA_KEY, ForecastModel
from core.forecasting.metrics import DEFAULT_MAPE_FLOOR, floored_mape_pct, mae, smape_pct
from core.market.series import TimeSeries, to_datetime64_utc

QUANTILES = (0.1, 0.5, 0.9)
INPUT_NAME = "features"


@dataclass(frozen=True)
class TrainingConfig:
    """HistGradientBoosting settings; small trees keep the shipped model files well under 1 MB."""

    max_iter: int = 150
    learning_rate: float = 0.06
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 20
    random_state: int = 0
    threads: int = 1


@dataclass(frozen=True)
class BacktestResult:
    """Errors of the P50 forecast on a held-out window, and of the naive 'same hour yesterday' forecast."""

    rows: int
    mae: float
    mape_pct: float  # floored MAPE, see metrics.DEFAULT_MAPE_FLOOR
    smape_pct: float
    naive_mae: float
    naive_mape_pct: float
    naive_smape_pct: float
    p10_p90_coverage: float  # share of actuals inside [P10, P90]; ~0.8 when calibrated
    mape_floor: float = DEFAULT_MAPE_FLOOR

    @property
    def beats_naive(self) -> bool:
        return self.mae < self.naive_mae


@dataclass(frozen=True)
class TrainedModel:
    onnx_bytes: bytes
    schema: FeatureSchema
    training_start: datetime
    training_end: datetime
    backtest: BacktestResult
    estimators: dict  # quantile -> fitted scikit-learn estimator (for parity checks; not shipped)


def fit_quantile_models(X: np.ndarray, y: np.ndarray, quantiles: tuple[float, ...] = QUANTILES,
                        config: TrainingConfig = TrainingConfig()) -> dict[float, HistGradientBoostingRegressor]:
    """One HistGradientBoostingRegressor(loss='quantile') per quantile, fitted on float32 features."""
    X = np.asarray(X, dtype=np.float32)  # the ONNX model sees float32: train on exactly that
    # One OpenMP thread: on a busy 2-core machine HGB's default threads oversubscribe and run ~10x slower.
    with threadpool_limits(limits=config.threads):
        return {
            q: HistGradientBoostingRegressor(
                loss="quantile", quantile=q, max_iter=config.max_iter, learning_rate=config.learning_rate,
                max_leaf_nodes=config.max_leaf_nodes, min_samples_leaf=config.min_samples_leaf,
                random_state=config.random_state,
            ).fit(X, y)
            for q in quantiles
        }


def export_onnx(models: dict[float, HistGradientBoostingRegressor], schema: FeatureSchema, kind: str) -> bytes:
    """One ONNX graph: shared input 'features' (float32, n x k), one output per quantile, schema in metadata."""
    n_features = len(schema.names)
    nodes, initializers, outputs = [], [], []
    opsets: dict[str, int] = {}
    for q in sorted(models):
        with warnings.catch_warnings():
            # skl2onnx writes boolean ints into AttributeProto; protobuf 6 warns, protobuf 7 fails (FACTS.md,
            # hence the protobuf<7 pin). The warning is the known cause, repeated per tree: silenced here only.
            warnings.filterwarnings("ignore", message=".*Expected an int, got a boolean.*", category=DeprecationWarning)
            single = to_onnx(models[q], initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
                             target_opset={"": 17, "ai.onnx.ml": 3})
        prefixed = compose.add_prefix(single, prefix=f"q{round(q * 100):02d}_")
        graph_input = prefixed.graph.input[0].name
        for node in prefixed.graph.node:
            node.input[:] = [INPUT_NAME if name == graph_input else name for name in node.input]
            nodes.append(node)
        initializers.extend(prefixed.graph.initializer)
        outputs.extend(prefixed.graph.output)
        for opset in single.opset_import:
            opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
    graph_input = helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT, [None, n_features])
    graph = helper.make_graph(nodes, f"gridroom_{kind}_quantiles", [graph_input], outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                              producer_name="gridroom")
    model.ir_version = single.ir_version
    for key, value in ((SCHEMA_KEY, schema.to_json()), (QUANTILES_KEY, json.dumps(sorted(models))), (KIND_KEY, kind)):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model.SerializeToString()


def backtest(model: ForecastModel, X: np.ndarray, y: np.ndarray, naive: np.ndarray,
             mape_floor: float = DEFAULT_MAPE_FLOOR) -> BacktestResult:
    """Score the model's P50 (and the P10-P90 band) against actuals and a naive forecast on the same rows."""
    forecast = model.predict(X)
    return BacktestResult(
        rows=int(y.size), mae=mae(y, forecast.p50), mape_pct=floored_mape_pct(y, forecast.p50, mape_floor),
        smape_pct=smape_pct(y, forecast.p50), naive_mae=mae(y, naive),
        naive_mape_pct=floored_mape_pct(y, naive, mape_floor), naive_smape_pct=smape_pct(y, naive),
        p10_p90_coverage=float(np.mean((y >= forecast.p10) & (y <= forecast.p90))), mape_floor=mape_floor,
    )


def train_and_backtest(series: TimeSeries, schema: FeatureSchema, *, kind: str, train_start: datetime,
                       test_start: datetime, test_end: datetime, config: TrainingConfig = TrainingConfig()
                       ) -> TrainedModel:
    """Train on [train_start, test_start), backtest on [test_start, test_end) with the exported ONNX model.

    The naive baseline is the value one day earlier ('same hour yesterday'), taken from the history.
    Lags may reach back before train_start: they are inputs, not training targets.
    """
    X, y, starts = training_rows(schema, series)
    bounds = to_datetime64_utc([train_start, test_start, test_end])
    train = (starts >= bounds[0]) & (starts < bounds[1])
    test = (starts >= bounds[1]) & (starts < bounds[2])
    if train.sum() < 100 or test.sum() < 24:
        raise ValueError(f"too little data: {int(train.sum())} training rows, {int(test.sum())} test rows")
    models = fit_quantile_models(X[train], y[train], QUANTILES, config)
    onnx_bytes = export_onnx(models, schema, kind)
    day_steps = 86400 // schema.step_seconds
    naive_index = (starts[test] - series.start_utc[0]).astype(np.int64) // schema.step_seconds - day_steps
    if naive_index.min() < 0:
        raise ValueError("the test window starts less than a day after the history: no naive baseline")
    naive = series.values[naive_index]
    result = backtest(ForecastModel.from_bytes(onnx_bytes), X[test], y[test], naive)
    return TrainedModel(onnx_bytes, schema, train_start, test_start, result, models)
