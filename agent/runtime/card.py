"""model_card.json: what the production model scores, what it gave up, what it and the leaderboard model cost.

A typed record (agent/records.py). The production build assembles it (strategies/production/card.py) and
whoever knows the last of its facts writes it once: the run, after the leaderboard model's figures; a
retrain, after its holdout decision; `build_production_model` alone, at its end. Sections that a writer does
not know stay out of the file (the leaderboard model's costs, a retrain's decision).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from agent.records import Record
from agent.runtime.schema import EXPORT_AGAIN

MODEL_CARD = "model_card.json"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardCompetition(_Section):
    slug: str
    problem_type: str
    target: str
    submission_format: str


class CardModel(BaseModel):
    """The served model; its runtime adds what describes it (trees, features, coefficients...)."""

    model_config = ConfigDict(extra="allow")

    name: str
    family: str
    params: dict[str, Any] = {}
    note: str = ""


class CardValidation(_Section):
    metric: str
    greater_is_better: bool
    score: float | None
    method: str
    score_source: str


class CardLatency(_Section):
    """The one latency block both models' cards use (agent/runtime/latency.py, LatencyReport.card)."""

    p50_ms_batch1: float
    p99_ms_batch1: float
    calls: int
    throughput_rows_s_batch1000: float
    batch_size: int
    cpu_seconds_per_million: float
    cpu_seconds_per_million_single_row: float
    measured: str
    retimed_calls: int = 0  # single-row calls descheduled by other work and timed again


class Feature(_Section):
    feature: str
    importance: float
    std: float


class CardLeaderboard(_Section):
    """The leaderboard model: its score and what the production model gave up; its costs once measured."""

    score: float | None
    difference: float | None
    score_given_up: float | None
    explained: str
    unstacked: dict[str, Any] | None = None  # a stacked leaderboard model: the comparison with its best unstacked
    model: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    size: dict[str, Any] | None = None
    latency: CardLatency | None = None
    top_features: list[Feature] | None = None
    top_features_method: str | None = None


class CardBudgets(_Section):
    latency_ms_p99: float
    size_bytes: int
    throughput_rows_s: float | None
    within_budget: bool
    refused_on_export: list[str] = []


class CardSize(_Section):
    serving_bytes: int
    directory_bytes: int | None
    side_bytes: int | None = None  # the side tables' data (side/), apart from the model's bytes
    explained: str


class CardTraining(_Section):
    fit_seconds: float
    validation_seconds: float
    teacher_seconds: float
    retrain_seconds_estimate: float
    retrain_explained: str
    search_seconds: float
    candidates_measured: int
    cpu_seconds: float | None = None
    cpu_seconds_note: str | None = None


class BudgetPoint(_Section):
    """One candidate on the frontier, or the best any pair of budgets would have shipped."""

    name: str | None
    family: str | None = None
    score: float | None
    p99_ms: float | None
    size_bytes: int | None
    latency_ms_budget: float | None = None
    size_bytes_budget: int | None = None
    gain: float | None = None  # against the chosen model, higher-is-better scale


class CardBudgetValue(_Section):
    """What the budgets bought: each family's frontier, and the best score other budgets would have shipped."""

    frontier: dict[str, list[BudgetPoint]]
    other_budgets: list[BudgetPoint]
    explained: str


class CardData(_Section):
    rows: int
    columns: int
    sha256: str


class CardRetrain(_Section):
    parent_run: str
    decision: str
    reasons: list[str]
    metric: str
    holdout: dict[str, Any]
    holdout_score: float | None
    current_holdout_score: float | None
    recipe: str
    leaderboard_reference: str


class ModelCard(Record):
    FORMAT: ClassVar[str] = "podium.model_card"
    TITLE: ClassVar[str] = "model card (model_card.json)"
    FIX: ClassVar[str] = EXPORT_AGAIN

    created_at: str
    competition: CardCompetition
    model: CardModel
    validation: CardValidation
    leaderboard: CardLeaderboard
    budgets: CardBudgets
    latency: CardLatency
    size: CardSize
    training: CardTraining
    data: CardData
    top_features: list[Feature]
    top_features_method: str
    machine: dict[str, Any]
    versions: dict[str, str]
    monitoring: dict[str, Any]
    budget_value: CardBudgetValue | None = None
    onnx: dict[str, Any] | None = None  # whether `podium export --onnx` can write it, and why (not)
    retrain: CardRetrain | None = None

    def dumped(self) -> dict[str, Any]:
        """Only what was set: a section nobody measured is absent, not null."""
        return {"format": self.FORMAT, "version": self.VERSION, **self.model_dump(mode="json", exclude_unset=True)}

    LEGACY_FORMAT: ClassVar[str] = "podium-model-card/1"
