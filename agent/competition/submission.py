"""Write a submission in the sample submission's exact format, and refuse anything that is not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agent.atomic import write_csv
from agent.competition.inference import CLASS_PROBABILITIES, LABELS, PROBABILITY, VALUES, Competition
from agent.competition.labels import label_key
from agent.competition.metrics import to_codes
from agent.errors import SubmissionError

PROBABILITY_SUM_TOLERANCE = 1e-3


def build_submission(competition: Competition, sample: pd.DataFrame, test_ids: pd.Series,
                     prediction: np.ndarray, threshold: float = 0.5) -> pd.DataFrame:
    """Turn a model's prediction (probabilities or values, rows in test order) into the sample's format.

    `threshold` is the decision threshold on P(positive) when a binary competition wants labels.
    """
    position = {str(v): i for i, v in enumerate(test_ids)}
    order = np.array([position[str(v)] for v in sample[competition.id_column]])
    prediction = np.asarray(prediction)[order]
    frame = pd.DataFrame({competition.id_column: sample[competition.id_column].to_numpy()})
    columns = competition.prediction_columns
    fmt = competition.submission_format
    if fmt == VALUES:
        values = prediction.astype(float)
        floor = competition.metric.floor
        frame[columns[0]] = np.maximum(values, floor) if floor is not None else values
    elif fmt == PROBABILITY:
        frame[columns[0]] = np.clip(_positive_probability(prediction), 0.0, 1.0)
    elif fmt == CLASS_PROBABILITIES:
        matrix = _class_matrix(prediction, len(competition.classes))
        matrix = np.clip(matrix, 0.0, 1.0)
        matrix = matrix / matrix.sum(axis=1, keepdims=True)
        for i, column in enumerate(competition.class_columns):
            frame[column] = matrix[:, i]
    elif fmt == LABELS:
        codes = to_codes(prediction, threshold)
        frame[columns[0]] = [competition.classes[c] for c in codes]
    return frame[list(competition.submission_columns)]


def _positive_probability(prediction: np.ndarray) -> np.ndarray:
    return prediction[:, -1] if prediction.ndim == 2 else prediction


def _class_matrix(prediction: np.ndarray, classes: int) -> np.ndarray:
    if prediction.ndim == 1 and classes == 2:
        return np.column_stack([1 - prediction, prediction])
    return prediction


def validate_submission(frame: pd.DataFrame, competition: Competition, sample: pd.DataFrame) -> None:
    """Raise SubmissionError unless `frame` matches the sample submission's format exactly."""
    if list(frame.columns) != list(sample.columns):
        raise SubmissionError(f"The submission's columns {list(frame.columns)} differ from the sample submission's "
                              f"{list(sample.columns)} (names and order must match)")
    if len(frame) != len(sample):
        raise SubmissionError(f"The submission has {len(frame)} rows; the sample submission has {len(sample)}")
    ids = competition.id_column
    mismatched = np.flatnonzero(frame[ids].astype(str).to_numpy() != sample[ids].astype(str).to_numpy())
    if mismatched.size:
        row = int(mismatched[0])
        raise SubmissionError(f"The submission's ids differ from the sample submission's at {mismatched.size} rows, "
                              f"first at row {row + 2} ({frame[ids].iloc[row]!r} vs {sample[ids].iloc[row]!r})")
    values = frame[list(competition.prediction_columns)]
    if values.isna().any().any():
        column = values.columns[values.isna().any()][0]
        raise SubmissionError(f"The submission has {int(values[column].isna().sum())} missing values in '{column}'")
    fmt = competition.submission_format
    if fmt in (PROBABILITY, CLASS_PROBABILITIES, VALUES):
        numbers = values.apply(pd.to_numeric, errors="coerce")
        if numbers.isna().any().any() or not np.isfinite(numbers.to_numpy(dtype=float)).all():
            raise SubmissionError("The submission has non-numeric or infinite values where numbers are required")
        if fmt != VALUES:
            matrix = numbers.to_numpy(dtype=float)
            if matrix.min() < 0 or matrix.max() > 1:
                raise SubmissionError(
                    f"Probabilities must lie in [0, 1]; found {matrix.min():.4g} to {matrix.max():.4g}")
            if fmt == CLASS_PROBABILITIES:
                worst = float(np.abs(matrix.sum(axis=1) - 1).max())
                if worst > PROBABILITY_SUM_TOLERANCE:
                    raise SubmissionError(f"Class probabilities must sum to 1 in every row; off by up to {worst:.4g}")
    if fmt == LABELS:
        allowed = {label_key(c) for c in competition.classes}
        unknown = sorted({str(v) for v in values.iloc[:, 0] if label_key(v) not in allowed})
        if unknown:
            raise SubmissionError(f"The submission has labels {unknown[:5]} that are not among the training labels "
                                  f"{list(competition.classes)}")


def write_submission(frame: pd.DataFrame, competition: Competition, sample: pd.DataFrame, path: Path) -> Path:
    """Validate, then write atomically: an invalid submission never reaches disk."""
    validate_submission(frame, competition, sample)
    return write_csv(path, frame)
