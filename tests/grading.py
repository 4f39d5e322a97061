"""Score a submission, or test predictions, against a competition folder's hidden answers.

A submission is graded by agent.arena.grading, the product's one grader; `hidden_score` scores podium's own
test predictions (in its internal format, not a submission's) and `constant_submission` writes a baseline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agent.arena.grading import class_column
from agent.arena.grading import grade as arena_grade
from agent.competition.inference import CLASS_PROBABILITIES, LABELS, PROBABILITY, Competition
from agent.competition.metrics import score_prediction


def grade(competition: Competition, folder: Path, submission: pd.DataFrame) -> float:
    """`submission` scored on the folder's hidden answers by podium's one grader, the arena's."""
    return arena_grade(competition, pd.read_csv(Path(folder) / "private" / "answers.csv", low_memory=False),
                       submission)


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
        for label, p in zip(competition.classes, prior, strict=True):
            frame[class_column(competition, label)] = p
    else:
        frame[competition.prediction_columns[0]] = float(labels.median())
    return frame
