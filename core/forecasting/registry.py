"""Model registry: a directory of ONNX files plus their records, in a JSON manifest (the shipped models) or in
the database (an installation's own models: db_registry.DbRecordStore).

Each record holds the version, kind, training window, feature schema, sha256 of the file, backtest errors and
creation time. Loading verifies the hash, so a file changed after registration is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.clock import Clock, ensure_utc
from core.forecasting.features import FeatureSchema
from core.forecasting.inference import ForecastModel

MANIFEST = "manifest.json"
KINDS = ("price", "load", "pv")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ModelRegistryError(ValueError):
    """A registry request cannot be served (unknown version, bad manifest, duplicate version)."""


class ModelIntegrityError(ModelRegistryError):
    """A model file's sha256 differs from the manifest: it was changed or corrupted after registration."""


@dataclass(frozen=True)
class ModelRecord:
    version: str
    kind: str
    file_name: str
    sha256: str
    training_start: datetime
    training_end: datetime
    feature_schema: FeatureSchema
    backtest_mae: float
    backtest_mape_pct: float
    created_at: datetime

    def to_json(self) -> dict:
        data = asdict(self)
        data["feature_schema"] = json.loads(self.feature_schema.to_json())
        for key in ("training_start", "training_end", "created_at"):
            data[key] = getattr(self, key).isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> "ModelRecord":
        return cls(
            version=data["version"], kind=data["kind"], file_name=data["file_name"], sha256=data["sha256"],
            training_start=datetime.fromisoformat(data["training_start"]),
            training_end=datetime.fromisoformat(data["training_end"]),
            feature_schema=FeatureSchema.from_json(json.dumps(data["feature_schema"])),
            backtest_mae=float(data["backtest_mae"]), backtest_mape_pct=float(data["backtest_mape_pct"]),
            created_at=datetime.fromisoformat(data["created_at"]),
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RecordStore(Protocol):
    """Where a registry keeps its records (the files themselves always stay in the registry's directory)."""

    def read_all(self) -> list[ModelRecord]: ...

    def add(self, record: ModelRecord) -> None: ...


class JsonManifestStore:
    """Records in `manifest.json` next to the model files: portable, used for the models shipped in resources/."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read_all(self) -> list[ModelRecord]:
        path = self.directory / MANIFEST
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return [ModelRecord.from_json(entry) for entry in data["models"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelRegistryError(f"{path} is not a readable model manifest: {exc}") from exc

    def add(self, record: ModelRecord) -> None:
        records = self.read_all() + [record]
        path = self.directory / MANIFEST
        temporary = path.with_suffix(".json.tmp")
        text = json.dumps({"schema_version": 1, "models": [r.to_json() for r in records]}, indent=2, sort_keys=True)
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, path)  # atomic: a crash leaves the old manifest, never half a new one


class ModelRegistry:
    """Models of one installation, in `directory`. Not safe for concurrent writers (one trainer at a time)."""

    def __init__(self, directory: Path | str, clock: Clock, store: RecordStore | None = None) -> None:
        self.directory = Path(directory)
        self._clock = clock
        self._store = store if store is not None else JsonManifestStore(self.directory)

    def _read_manifest(self) -> list[ModelRecord]:
        return self._store.read_all()

    def register(self, onnx_bytes: bytes, *, version: str, kind: str, training_start: datetime,
                 training_end: datetime, backtest_mae: float, backtest_mape_pct: float) -> ModelRecord:
        """Store a model file and its record. The schema is read from the file itself, so they cannot disagree."""
        if kind not in KINDS:
            raise ModelRegistryError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")
        if not _VERSION.match(version):
            raise ModelRegistryError(f"version {version!r} must be 1-64 letters, digits, '.', '_' or '-'")
        records = self._read_manifest()
        if any(r.version == version for r in records):
            raise ModelRegistryError(f"version {version!r} is already registered")
        model = ForecastModel.from_bytes(onnx_bytes, source=version)
        if model.kind != kind:
            raise ModelRegistryError(f"the file is a {model.kind!r} model, not {kind!r}")
        self.directory.mkdir(parents=True, exist_ok=True)
        file_name = f"{version}.onnx"
        (self.directory / file_name).write_bytes(onnx_bytes)
        record = ModelRecord(
            version=version, kind=kind, file_name=file_name, sha256=hashlib.sha256(onnx_bytes).hexdigest(),
            training_start=ensure_utc(training_start, "training_start"),
            training_end=ensure_utc(training_end, "training_end"), feature_schema=model.schema,
            backtest_mae=float(backtest_mae), backtest_mape_pct=float(backtest_mape_pct),
            created_at=self._clock.now(),
        )
        self._store.add(record)
        return record

    def list(self, kind: str | None = None) -> tuple[ModelRecord, ...]:
        """Records, oldest first, optionally of one kind."""
        return tuple(r for r in self._read_manifest() if kind is None or r.kind == kind)

    def get(self, version: str) -> ModelRecord:
        for record in self._read_manifest():
            if record.version == version:
                return record
        raise ModelRegistryError(f"no model version {version!r} in {self.directory}")

    def latest(self, kind: str) -> ModelRecord:
        """The most recently created model of `kind`."""
        records = self.list(kind)
        if not records:
            raise ModelRegistryError(f"no {kind!r} model in {self.directory}")
        return max(records, key=lambda r: r.created_at)

    def load(self, version: str) -> ForecastModel:
        """Load a model after checking its sha256 against the manifest; a changed file is refused."""
        record = self.get(version)
        path = self.directory / record.file_name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelRegistryError(f"cannot read {path}: {exc}") from exc
        actual = hashlib.sha256(data).hexdigest()
        if actual != record.sha256:
            raise ModelIntegrityError(f"{path} has sha256 {actual}, the manifest says {record.sha256}: refused")
        model = ForecastModel.from_bytes(data, source=str(path))
        if model.schema != record.feature_schema:
            raise ModelIntegrityError(f"{path}: embedded feature schema differs from the manifest")
        return model
