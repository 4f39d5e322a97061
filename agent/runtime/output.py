"""From a model's raw prediction (podium's convention) to the competition's submission format.

Raw predictions follow agent/competition/metrics.py: P(class 1) for binary, an (n, K) matrix for multiclass, values for
regression. The served prediction follows the submission format: labels, P(positive), a class-probability
matrix (columns in `class_columns` order) or values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from agent.competition.inference import CLASS_PROBABILITIES, LABELS, PROBABILITY, VALUES, Competition


@dataclass(frozen=True)
class OutputSpec:
    """The few facts about the competition that serving needs (kept in production.json)."""

    problem_type: str
    submission_format: str
    metric: str
    target: str
    id_column: str
    prediction_columns: tuple[str, ...]
    classes: tuple[Any, ...] = ()
    class_columns: tuple[str, ...] = ()
    floor: float | None = None

    @classmethod
    def from_competition(cls, competition: Competition) -> OutputSpec:
        return cls(problem_type=competition.problem_type, submission_format=competition.submission_format,
                   metric=competition.metric_name, target=competition.target, id_column=competition.id_column,
                   prediction_columns=competition.prediction_columns, classes=tuple(competition.classes),
                   class_columns=tuple(competition.class_columns), floor=competition.metric.floor)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = [c.item() if isinstance(c, np.generic) else c for c in self.classes]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputSpec:
        tuples = ("prediction_columns", "classes", "class_columns")
        return cls(**{k: tuple(v) if k in tuples else v for k, v in data.items()})

    def format(self, raw: np.ndarray) -> np.ndarray:
        """Raw prediction to submission values: labels, P(positive), (n, K) probabilities or values."""
        raw = np.asarray(raw)
        fmt = self.submission_format
        if fmt == VALUES:
            values = raw.astype(float)
            return np.maximum(values, self.floor) if self.floor is not None else values
        if fmt == PROBABILITY:
            return np.clip(raw[:, -1] if raw.ndim == 2 else raw, 0.0, 1.0)
        if fmt == CLASS_PROBABILITIES:
            matrix = np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw
            matrix = np.clip(matrix, 0.0, 1.0)
            return matrix / matrix.sum(axis=1, keepdims=True)
        if fmt == LABELS:
            codes = (raw >= 0.5).astype(int) if raw.ndim == 1 else raw.argmax(axis=1)
            return np.asarray(self.classes, dtype=object)[codes]
        raise ValueError(f"unknown submission format {fmt!r}")

    def frame(self, served: np.ndarray, ids: pd.Series | None = None) -> pd.DataFrame:
        """Submission-shaped table: the id column (when known) and the prediction column(s)."""
        columns = list(self.class_columns) if self.submission_format == CLASS_PROBABILITIES else \
            list(self.prediction_columns[:1])
        data = served if served.ndim == 2 else served.reshape(-1, 1)
        frame = pd.DataFrame(data, columns=columns)
        if ids is not None:
            frame.insert(0, self.id_column, ids.to_numpy())
        return frame
