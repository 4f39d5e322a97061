"""What the server does, apart from HTTP: validate rows, predict, format the answer, log the inputs.

Kept free of sockets so it can be tested and reused: the uvicorn app and the Ray Serve replicas wrap it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from agent.competition.inference import CLASS_PROBABILITIES
from agent.config import ServeSettings
from agent.errors import InputError
from agent.runtime import ProductionModel, load_model
from agent.services.serve.payload import RequestError, extract_rows, parse_json, validate_rows
from agent.services.serve.request_log import RequestLog

log = logging.getLogger("podium.serve")


class PredictionService:
    """A loaded production model behind a lock, with its limits and the optional request log."""

    def __init__(self, model: ProductionModel, settings: ServeSettings, artifact_dir: Path | None = None):
        self.model = model
        self.settings = settings
        self.artifact_dir = artifact_dir
        spec = model.output
        inputs = model.schema.input_names
        columns = inputs + ([spec.id_column] if spec.id_column not in inputs else [])
        self.request_log = RequestLog(settings.request_log, columns) if settings.request_log else None
        # One prediction at a time: a LightGBM booster or an AutoGluon predictor is not promised to be thread
        # safe, a compact model answers in microseconds, and serving scales by processes (docs/serving.md).
        self._predict_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.started = time.monotonic()
        self.requests = 0
        self.predicted_rows = 0

    @classmethod
    def load(cls, artifact_dir: str | Path, settings: ServeSettings) -> PredictionService:
        artifact_dir = Path(artifact_dir)
        return cls(load_model(artifact_dir), settings, artifact_dir)

    def health(self) -> dict[str, Any]:
        spec = self.model.output
        return {
            "status": "ok", "model": self.model.name, "kind": getattr(self.model.runtime, "kind", None),
            "problem_type": spec.problem_type, "metric": spec.metric, "target": spec.target,
            "submission_format": spec.submission_format, "id_column": spec.id_column,
            "prediction_columns": list(spec.class_columns) if spec.submission_format == CLASS_PROBABILITIES
            else list(spec.prediction_columns[:1]),
            "features": input_features(self.model.schema),
            "unseen_categories": self.model.schema.unseen,
            "limits": {"max_rows": self.settings.max_rows, "max_body_bytes": self.settings.max_body_bytes},
            "request_log": self.request_log is not None, "pid": os.getpid(),
            "requests": self.requests, "predicted_rows": self.predicted_rows,
            "uptime_seconds": round(time.monotonic() - self.started, 1),
        }

    def predict_body(self, body: bytes) -> dict[str, Any]:
        """A request body in, the response out; RequestError (a 4xx) for anything wrong with the input."""
        rows = extract_rows(parse_json(body), self.settings.max_rows)
        try:
            derived = self.model.schema.derive(rows)  # dates into the parts the model reads
        except InputError as error:
            raise RequestError(422, "The rows do not match the model's input schema", [error.what],
                               fix=error.fix or "") from None
        warnings = validate_rows(derived, self.model.schema)
        with self._predict_lock:
            served = self.model.predict(derived, derived=True)
        if self.request_log is not None:
            self.request_log.append(rows)
        with self._count_lock:
            self.requests += 1
            self.predicted_rows += len(rows)
        response: dict[str, Any] = {"model": self.model.name, "predictions": self.format(rows, served)}
        if warnings:
            response["warnings"] = warnings
        return response

    def format(self, rows: list[dict[str, Any]], served: np.ndarray) -> list[dict[str, Any]]:
        """One submission row per input row: the id (when sent) and the prediction column(s)."""
        spec = self.model.output
        out = []
        for row, value in zip(rows, served, strict=True):
            record: dict[str, Any] = {spec.id_column: row[spec.id_column]} if spec.id_column in row else {}
            if spec.submission_format == CLASS_PROBABILITIES:
                record.update({c: _native(p) for c, p in zip(spec.class_columns, value, strict=True)})
            else:
                record[spec.prediction_columns[0]] = _native(value)
            out.append(record)
        return out

    def close(self) -> None:
        if self.request_log is not None:
            self.request_log.close()


def _native(value: Any) -> Any:
    """numpy scalars to JSON's types; a non-finite number (never expected) to null rather than invalid JSON."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def input_features(schema) -> list[dict[str, str]]:
    """The columns a caller sends, with their kinds: a date as one column, in its format; a side table's key
    (docs/several-tables.md) as a join key."""
    kinds = {c.name: c.kind for c in schema.columns}
    return [{"name": name, "kind": f"date ({schema.dates[name]})"} if name in schema.dates
            else {"name": name, "kind": kinds.get(name, "join key")} for name in schema.input_names]
