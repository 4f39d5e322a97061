"""The logistic stacker: a classification blend's members combined on the log scale by a fitted linear layer.

Averaging probabilities (the plain blend) gives each member one weight for every class; a (multinomial) logistic
regression on the members' log-probabilities can trust one member on one class and another on the next, and
correct a confidence the members share. Serving it costs one small matrix product a row. The layer is fitted in
strategies/production/stacker.py; this module only applies it, with numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.runtime.runtimes import SIGMOID, SOFTMAX, apply_link

EPSILON = 1e-6  # probabilities are clipped to [EPSILON, 1 - EPSILON] before the log: a member's 0 stays finite


def stack_features(outputs: list[np.ndarray], link: str) -> np.ndarray:
    """The stacker's inputs from the members' predictions (podium's convention): each member's log-odds for a
    binary problem (one column each), its log-probabilities for a multiclass one (one column per class each)."""
    if link not in (SIGMOID, SOFTMAX):
        raise ValueError(f"a logistic stacker combines classifiers, not a {link!r} link")
    columns = []
    for output in outputs:
        p = np.clip(np.asarray(output, dtype=float), EPSILON, 1.0 - EPSILON)
        columns.append((np.log(p) - np.log(1.0 - p)).reshape(-1, 1) if link == SIGMOID else np.log(p))
    return np.hstack(columns)


class LogisticStacker:
    """`link(features @ coef.T + intercept)`: coef has one row per output (one for binary, one per class)."""

    kind = "logistic"

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, link: str):
        self.coef = np.atleast_2d(np.asarray(coef, dtype=float))
        self.intercept = np.atleast_1d(np.asarray(intercept, dtype=float))
        self.link = link
        if self.coef.shape[0] != len(self.intercept):
            raise ValueError(f"a stacker needs one intercept per row of coefficients: {self.coef.shape[0]} rows, "
                             f"{len(self.intercept)} intercepts")
        if link == SIGMOID and len(self.intercept) != 1:
            raise ValueError("a binary stacker has one row of coefficients")

    def combine(self, outputs: list[np.ndarray]) -> np.ndarray:
        features = stack_features(outputs, self.link)
        if features.shape[1] != self.coef.shape[1]:
            raise ValueError(f"the stacker reads {self.coef.shape[1]} inputs, its members gave {features.shape[1]}")
        scores = features @ self.coef.T + self.intercept
        if self.link == SIGMOID:
            scores = scores.reshape(len(features))
        return apply_link(scores, self.link)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "link": self.link}

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> LogisticStacker | None:
        if not config:
            return None
        if config.get("kind") != cls.kind:
            raise ValueError(f"unknown stacker kind {config.get('kind')!r}")
        return cls(np.asarray(config["coef"]), np.asarray(config["intercept"]), config["link"])

    def describe(self) -> dict[str, Any]:
        scale = "log-odds" if self.link == SIGMOID else "log-probabilities"
        return {"combiner": f"logistic regression on the members' {scale}", "inputs": int(self.coef.shape[1])}


def combined(outputs: list[np.ndarray], weights: list[float], stacker: LogisticStacker | None) -> np.ndarray:
    """The blend's prediction from its members' outputs: the stacker's when it has one, else the weighted mean."""
    if stacker is not None:
        return stacker.combine(outputs)
    out = weights[0] * np.asarray(outputs[0], dtype=float)
    for weight, output in zip(weights[1:], outputs[1:], strict=True):
        out = out + weight * np.asarray(output, dtype=float)
    return out
