"""Grade a submission against a competition's hidden answers: podium's one grader.

The arena grades each upload with `grade_file` (a public and a private score); tests and benchmarks score
podium's submissions with `grade` (one score on all the hidden answers), so both judge by the same rules.
`submission_prediction` says what a submission predicts: label codes, P(positive) of a binary competition in
any of its formats (a probability column, or one column per class), a class-probability matrix, or values.
The competition's format comes from podium's own inference on the public files (with the folder's
`grading:` section as overrides), so the arena judges by the same conventions podium writes by: labels
compared through `Competition.encode_target`, codes and probabilities scored by `agent.competition.metrics`.
Rows are matched by id, in any order. Anything wrong raises GradingError with a message meant for the
participant (it becomes the submission's errorDescription), never a server path.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from agent.arena.catalog import ArenaCompetition
from agent.competition.inference import BINARY, CLASS_PROBABILITIES, LABELS, Competition, infer_competition
from agent.competition.labels import label_key
from agent.competition.metrics import score_prediction
from agent.competition.submission import validate_submission
from agent.competition.tables import CompetitionData
from agent.errors import PodiumError

PUBLIC, PRIVATE = "Public", "Private"


class GradingError(Exception):
    """The submission cannot be scored; the message says why, for the participant."""


@dataclass(frozen=True)
class Grade:
    """None for a part the competition does not have (answers.csv without Usage: everything is public)."""

    public: float | None
    private: float | None


@dataclass(frozen=True)
class _Key:
    """What grading one competition needs, read once per change of its files."""

    competition: Competition
    sample: pd.DataFrame
    truth: np.ndarray      # target codes (or values), in the sample submission's row order
    usage: np.ndarray      # Public / Private, same order


_cache: dict[str, tuple[tuple[float, ...], _Key]] = {}
_lock = threading.Lock()


def _answer_key(competition: ArenaCompetition) -> _Key:
    public = competition.folder / "public"
    paths = [public / "train.csv", public / "test.csv", public / "sample_submission.csv", competition.answers,
             competition.folder / "competition.yaml"]
    stamp = tuple(p.stat().st_mtime for p in paths)
    with _lock:
        cached = _cache.get(str(competition.folder))
        if cached and cached[0] == stamp:
            return cached[1]
    train, test, sample = (pd.read_csv(p, low_memory=False) for p in paths[:3])
    grading = competition.grading
    overrides = {"evaluation_metric": competition.evaluation_metric, "id_column": grading.get("id_column"),
                 "target": grading.get("target"), "task": grading.get("task"),
                 "positive_class": grading.get("positive_class")}
    inferred = infer_competition(competition.slug, CompetitionData(train, test, sample), overrides,
                                 dict.fromkeys(overrides, "competition.yaml"))
    answers = pd.read_csv(competition.answers, low_memory=False)
    ids = inferred.id_column
    answers.index = answers[ids].astype(str)
    order = sample[ids].astype(str)
    if set(order) != set(answers.index) or answers.index.duplicated().any():
        raise RuntimeError(f"{competition.answers} does not hold exactly one answer per sample submission row")
    answers = answers.loc[order]
    usage = answers["Usage"].astype(str).to_numpy() if "Usage" in answers.columns else np.full(len(answers), PUBLIC)
    key = _Key(inferred, sample, inferred.encode_target(answers[inferred.target]), usage)
    with _lock:
        _cache[str(competition.folder)] = (stamp, key)
    return key


def grade_file(competition: ArenaCompetition, path: Path) -> Grade:
    """Score `path`; raise GradingError for a file that does not fit the competition."""
    key = _answer_key(competition)
    prediction = _checked_prediction(_read(path), key.competition, key.sample)
    scores = {}
    for part in (PUBLIC, PRIVATE):
        mask = key.usage == part
        scores[part] = _score(key.competition, key.truth[mask], prediction[mask], part) if mask.any() else None
    return Grade(public=scores[PUBLIC], private=scores[PRIVATE])


def grade(competition: Competition, answers: pd.DataFrame, submission: pd.DataFrame) -> float:
    """One score of `submission` on every row of `answers` (the hidden test set, with the target column).

    The arena's rules on a table in memory: rows matched by id in any order, the file checked as an upload is
    (GradingError where the arena would refuse it), then scored as `grade_file` scores each part.
    """
    ids = competition.id_column
    expected = answers[[ids]].reset_index(drop=True).reindex(columns=list(competition.submission_columns))
    prediction = _checked_prediction(submission, competition, expected)
    return _score(competition, competition.encode_target(answers[competition.target]), prediction, "hidden")


def _checked_prediction(frame: pd.DataFrame, competition: Competition, sample: pd.DataFrame) -> np.ndarray:
    """What `frame` predicts, in `sample`'s row order, once it passed the checks of an upload."""
    aligned = _align(frame, competition, sample)
    try:
        validate_submission(aligned, competition, sample)
    except PodiumError as error:
        raise GradingError(error.what) from None
    return submission_prediction(aligned, competition)


def _read(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise GradingError(f"The file is not a readable CSV table ({type(exc).__name__}: {exc})") from None
    if frame.empty:
        raise GradingError("The file has no rows")
    return frame


def _align(frame: pd.DataFrame, competition: Competition, sample: pd.DataFrame) -> pd.DataFrame:
    """The submission's rows in the sample's order, its columns in the sample's order."""
    expected = list(sample.columns)
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected]
    if missing or extra:
        raise GradingError(f"The submission's columns must be {expected}"
                           + (f"; missing {missing}" if missing else "") + (f"; unexpected {extra}" if extra else ""))
    ids = competition.id_column
    submitted = frame[ids].astype(str)
    if submitted.duplicated().any():
        raise GradingError(f"The submission repeats ids in '{ids}', e.g. {submitted[submitted.duplicated()].iloc[0]!r}")
    wanted = sample[ids].astype(str)
    unknown = sorted(set(submitted) - set(wanted))
    absent = sorted(set(wanted) - set(submitted))
    if unknown or absent:
        raise GradingError(f"The submission has {len(frame)} rows; the test set has {len(wanted)}"
                           + (f"; {len(absent)} test ids are missing, e.g. {absent[:3]}" if absent else "")
                           + (f"; {len(unknown)} ids are not in the test set, e.g. {unknown[:3]}" if unknown else ""))
    aligned = frame.set_index(submitted).loc[wanted, expected].reset_index(drop=True)
    aligned[ids] = sample[ids].to_numpy()
    return aligned


def submission_prediction(frame: pd.DataFrame, competition: Competition) -> np.ndarray:
    """What a submission predicts, as agent.competition.metrics scores it (a binary competition: P(positive))."""
    columns = list(competition.prediction_columns)
    if competition.submission_format == LABELS:
        return competition.encode_target(frame[columns[0]])
    if competition.submission_format == CLASS_PROBABILITIES:
        if competition.problem_type == BINARY:
            return frame[class_column(competition, competition.positive_class)].to_numpy(dtype=float)
        return frame[list(competition.class_columns)].to_numpy(dtype=float)
    return frame[columns[0]].to_numpy(dtype=float)


def class_column(competition: Competition, label) -> str:
    """The class-probability column that names `label` (as `label` or `<target>_<label>`)."""
    target = re.escape(competition.target)
    for column in competition.class_columns:
        name = re.sub(rf"^{target}[_\-. ]?", "", column) if column.startswith(competition.target) else column
        if label_key(name) == label_key(label):
            return column
    raise GradingError(f"No column of the submission holds the probability of class {label!r}")


def _score(competition: Competition, truth: np.ndarray, prediction: np.ndarray, part: str) -> float:
    metric = competition.metric
    try:
        value = (metric.score(truth, prediction) if competition.submission_format == LABELS
                 else score_prediction(metric, truth, prediction))
    except ValueError as exc:
        raise GradingError(f"{metric.name} cannot be computed on the {part.lower()} part: {exc}") from None
    if not np.isfinite(value):
        raise GradingError(f"{metric.name} is undefined on the {part.lower()} part of the test set")
    return float(value)
