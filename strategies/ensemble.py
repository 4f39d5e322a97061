"""The leaderboard blend: greedy ensemble selection with replacement (Caruana et al., 2004) on OOF predictions.

Every candidate's out-of-fold predictions come from the run's one set of folds, so blending them is honest.
The blend starts from the best single candidate and keeps the best iteration, so its OOF score is never
worse than the best candidate's. For binary label metrics (accuracy, F1, MCC...) the decision threshold is
then tuned on the blend's OOF probabilities.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from agent.metrics import BINARY, Metric, score_prediction, to_codes
from strategies.base import Candidate


def greedy_ensemble(candidates: list[Candidate], y: np.ndarray, metric: Metric, iterations: int = 50,
                    problem_type: str | None = None) -> Candidate:
    """Blend candidates by repeatedly adding (with replacement) the one that most improves the OOF score."""
    if not candidates:
        raise ValueError("greedy_ensemble needs at least one candidate")
    oofs = [np.asarray(c.oof, dtype=float) for c in candidates]
    scores = [metric.signed(score_prediction(metric, y, oof)) for oof in oofs]
    first = int(np.argmax(scores))
    chosen = [first]
    total = oofs[first].copy()
    best_score, best_size = scores[first], 1
    for _ in range(iterations - 1):
        size = len(chosen) + 1
        trial_scores = [metric.signed(score_prediction(metric, y, (total + oof) / size)) for oof in oofs]
        pick = int(np.argmax(trial_scores))
        chosen.append(pick)
        total += oofs[pick]
        if trial_scores[pick] > best_score + 1e-12:
            best_score, best_size = trial_scores[pick], size
    counts = Counter(chosen[:best_size])
    weights = {candidates[i].name: n / best_size for i, n in counts.items()}
    oof = sum(w * oofs[i] for i, w in ((i, n / best_size) for i, n in counts.items()))
    test = sum(n / best_size * np.asarray(candidates[i].test, dtype=float) for i, n in counts.items())
    info: dict = {"weights": dict(sorted(weights.items(), key=lambda kv: -kv[1])), "iterations": iterations}
    threshold = None
    if problem_type == BINARY and metric.needs == "label":
        threshold, tuned = tune_threshold(y, oof, metric)
        info["threshold"] = threshold
        best_score = metric.signed(tuned)
    return Candidate(name="ensemble", strategy="ensemble", oof=oof, test=test, score=metric.signed(best_score),
                     fit_seconds=sum(candidates[i].fit_seconds for i in counts), info=info)


def tune_threshold(y: np.ndarray, probability: np.ndarray, metric: Metric) -> tuple[float, float]:
    """The decision threshold on P(positive) that scores best in a label metric; 0.5 unless another beats it."""
    best_threshold, best = 0.5, metric.score(y, to_codes(probability, 0.5))
    for threshold in np.unique(np.quantile(probability, np.linspace(0.02, 0.98, 97))):
        score = metric.score(y, to_codes(probability, threshold))
        if metric.is_better(score, best + (1e-12 if metric.greater_is_better else -1e-12)):
            best_threshold, best = float(threshold), score
    return best_threshold, best
