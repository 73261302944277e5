"""Forecasts of prices, load and PV: features, training (scikit-learn -> ONNX), inference (onnxruntime only),
a model registry with integrity checks, A/B comparison and drift monitoring.

Nothing is imported here on purpose: the run-time path (inference) must not pull in scikit-learn.
"""
