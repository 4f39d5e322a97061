"""Score a submission file, or test predictions, against a competition folder's hidden answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition.inference import CLASS_PROBABILITIES, LABELS, PROBABILITY, Competition
from agent.competition.metrics import score_prediction


def prediction_from_submission(competition: Competition, submission: pd.DataFrame) -> np.ndarray:
    fmt = competition.submission_format
    column = competition.prediction_columns[0]
    if fmt == LABELS:
        return competition.encode_target(submission[column])
    if fmt == CLASS_PROBABILITIES:
        return submission[list(competition.class_columns)].to_numpy(dtype=float)
    if fmt == PROBABILITY:
        return submission[column].to_numpy(dtype=float)
    return submission[column].to_numpy(dtype=float)


def grade(competition: Competition, folder: Path, submission: pd.DataFrame) -> float:
    answers = pd.read_csv(Path(folder) / "private" / "answers.csv")
    merged = answers.merge(submission, on=competition.id_column, how="left", suffixes=("_true", ""))
    truth = merged[competition.target + "_true"] if competition.target in submission.columns else \
        merged[competition.target]
    return competition.metric.score(competition.encode_target(truth),
                                    prediction_from_submission(competition, merged))


def hidden_score(competition: Competition, test_ids: pd.Series, answers: pd.DataFrame, prediction) -> float:
    """Test predictions (in `test_ids` order, podium's convention) scored on the hidden answers."""
    position = {str(v): i for i, v in enumerate(test_ids)}
    order = np.array([position[str(v)] for v in answers[competition.id_column]])
    truth = competition.encode_target(answers[competition.target])
    return score_prediction(competition.metric, truth, np.asarray(prediction)[order])


def constant_submission(competition: Competition, folder: Path, sample: pd.DataFrame) -> pd.DataFrame:
    """The best prediction that ignores every feature: class prior, majority label, or the mean."""
    train = pd.read_csv(Path(folder) / "public" / "train.csv")
    frame = sample.copy()
    labels = train[competition.target]
    if competition.submission_format == LABELS:
        frame[competition.prediction_columns[0]] = labels.mode().iloc[0]
    elif competition.submission_format == PROBABILITY:
        frame[competition.prediction_columns[0]] = float(np.mean(competition.encode_target(labels) == 1))
    elif competition.submission_format == CLASS_PROBABILITIES:
        prior = np.bincount(competition.encode_target(labels), minlength=len(competition.classes)) / len(labels)
        for column, p in zip(competition.class_columns, prior, strict=True):
            frame[column] = p
    else:
        frame[competition.prediction_columns[0]] = float(labels.median())
    return frame
