"""The one contract between the agent and a search: `search(...) -> SearchResult`, candidates and costs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.deadline import Deadline


@dataclass(frozen=True)
class Budget:
    """Resources one search may use: wall-clock seconds, CPUs, memory, and a hard deadline.

    `deadline`: a search starts no work past it; None: `seconds` alone bounds it.
    """

    seconds: float
    cpus: int
    memory_gb: float
    deadline: Deadline | None = None
    predict_deadline: Deadline | None = None  # by which test predictions must be made, if any


@dataclass
class Candidate:
    """A fitted model: out-of-fold and test predictions (probabilities or values) and its OOF score.

    `test` may be None until a blend chooses the candidate: predicting the test set with every bagged model
    is costly, so AutoGluon's candidates are predicted only when chosen (`strategies.autogluon.predict_test`).
    The typed fields below say what the blend and the run need to know of it; a strategy sets those that apply.
    """

    name: str
    strategy: str
    oof: np.ndarray
    test: np.ndarray | None
    score: float
    fit_seconds: float
    artifact: str | None = None
    family: str | None = None  # the kind of model (a production family, a learner)
    model: str | None = None  # the strategy's own name for it, to ask for its test predictions later
    # learnt from other models' OOF predictions (itself or through its inputs): its OOF score is optimistic
    # next to a level-1 model's (stacked information leakage)
    stacked: bool = False
    strategy_best: bool = False  # the strategy's own choice among its models (AutoGluon's best model)
    predict_seconds_estimate: float | None = None  # seconds to predict the test set once, when test is None
    # the hyperparameters a search chose; a study of the same `family` may start from them (warm start)
    params: dict[str, Any] | None = None
    trees: list[int] | None = None  # trees per fold model (early stopping)
    fold_models: str | None = None  # a file of the fold models as text, in fold order (a production fold bag)
    latency: dict[str, Any] | None = None  # the model card's latency block, when measured while in memory

    @property
    def decision_threshold(self) -> float:
        """P(positive) from which a binary label submission says positive."""
        return 0.5

    def strategy_fields(self) -> dict[str, Any]:
        """What only this candidate's strategy knows of it, for the manifest (a subclass's own fields)."""
        return {}

    def summary(self) -> dict[str, Any]:
        """What the manifest records: the common fields, then the typed ones that are set."""
        typed = {"family": self.family, "model": self.model, "params": self.params, "trees": self.trees,
                 "predict_seconds_estimate": self.predict_seconds_estimate, "latency": self.latency,
                 **self.strategy_fields()}
        return {"name": self.name, "strategy": self.strategy, "oof_score": self.score,
                "fit_seconds": round(self.fit_seconds, 3), "artifact": self.artifact,
                **{key: value for key, value in typed.items() if value is not None}}


@dataclass
class Blend(Candidate):
    """A weighted average of candidates chosen on their OOF predictions (strategies/ensemble.py)."""

    weights: dict[str, float] = field(default_factory=dict)  # candidate name -> weight, summing to 1
    iterations: int = 0
    threshold: float | None = None  # the decision threshold tuned for a binary label metric
    guard: dict[str, Any] | None = None  # the in-fold comparison of blend and best single candidate
    pool: dict[str, Any] | None = None  # which candidates it could choose from, and why

    @property
    def decision_threshold(self) -> float:
        return 0.5 if self.threshold is None else self.threshold

    def summary(self) -> dict[str, Any]:
        extra = {"weights": self.weights, "iterations": self.iterations, "threshold": self.threshold,
                 "guard": self.guard, "pool": self.pool}
        return {**super().summary(), **{key: value for key, value in extra.items() if value is not None}}


@dataclass
class SearchResult:
    """What a search hands back: its candidates (best first), what it cost, and what it did, for the manifest.

    `cpu_method` says how `cpu_seconds` was obtained (measured in the tasks, or CPUs held x wall time);
    `resumed` is true when the search picked up work a killed run had finished.
    """

    candidates: list[Candidate]
    cpu_seconds: float
    cpu_method: str
    summary: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False


class Strategy(ABC):
    """A way to search for models. It never touches the Kaggle client or the run directory layout: the folder
    it is given is its own, and it resumes from what it finds there."""

    name: str

    @abstractmethod
    def search(self, competition: Competition, data: Dataset, budget: Budget) -> SearchResult:
        """Fit models within `budget` (or reuse the finished work in the strategy's folder)."""

    def predict_test(self, competition: Competition, X_test, models: list[str]) -> dict[str, np.ndarray]:
        """Test predictions of candidates returned without them (`test` None), by their `model` names: a
        search whose models are costly to predict leaves it to the blend to ask for the ones it chose."""
        raise NotImplementedError(f"{self.name} returns its candidates with their test predictions")


class TwoPhaseSearch(ABC):
    """A search that runs on both sides of the leaderboard's: the production model's. Before it, the cheapest
    candidates at once (`floor`: the first submission comes from them) and a search within a deadline; after
    it, what needs the leaderboard model (its students, its own fast options), the choice within budgets and
    the export (`finish`). The run drives it through these methods only, in that order, and always `close`s it.
    """

    name: str

    @abstractmethod
    def floor(self) -> None:
        """The cheapest candidates, fitted at once."""

    @abstractmethod
    def search(self, deadline: Deadline) -> None:
        """Search until `deadline`, before the leaderboard's search starts."""

    @abstractmethod
    def leaderboard_candidates(self) -> list[Candidate]:
        """The best candidates so far, with test predictions, offered to the leaderboard's blend."""

    @abstractmethod
    def blend_latency(self, names: list[str]) -> dict[str, Any] | None:
        """What a blend of this search's candidates (by name) costs to predict one row, if they are all its own."""

    @abstractmethod
    def finish(self, leaderboard_candidates: list[Candidate], leaderboard_oof: np.ndarray, leaderboard_score: float,
               deadline: Deadline, **context: Any) -> Any:
        """Everything that needs the leaderboard model, the choice and the export, before `deadline`."""

    @abstractmethod
    def close(self) -> None:
        """Remove the search's scratch files."""
