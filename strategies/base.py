"""The one contract between the agent and a search: `search(...) -> list[Candidate]`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.competition import Competition
from agent.dataset import Dataset


@dataclass(frozen=True)
class Budget:
    """Resources one search may use: wall-clock seconds, CPUs, memory, and a hard deadline.

    `deadline` is a Unix time (time.time(): the same on every process of a host, unlike monotonic clocks'
    zero across machines); a search stops starting work past it. None: `seconds` alone bounds it.
    """

    seconds: float
    cpus: int
    memory_gb: float
    deadline: float | None = None
    predict_deadline: float | None = None  # Unix time by which test predictions must be made, if any


@dataclass
class Candidate:
    """A fitted model: out-of-fold and test predictions (probabilities or values) and its OOF score.

    `test` may be None until a blend chooses the candidate: predicting the test set with every bagged model
    is costly, so AutoGluon's candidates are predicted only when chosen (`strategies.autogluon.predict_test`).
    """

    name: str
    strategy: str
    oof: np.ndarray
    test: np.ndarray | None
    score: float
    fit_seconds: float
    artifact: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "strategy": self.strategy, "oof_score": self.score,
                "fit_seconds": round(self.fit_seconds, 3), "artifact": self.artifact, **self.info}


class Strategy(ABC):
    """A way to search for models. It never touches the Kaggle client or the run directory layout."""

    name: str

    @abstractmethod
    def search(self, competition: Competition, data: Dataset, budget: Budget) -> list[Candidate]:
        """Fit models within `budget` and return them as candidates, best first."""
