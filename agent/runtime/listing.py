"""candidates.json: every production candidate the search measured, beside the chosen model (a typed record).

Written by the export (strategies/production/export.py), read by the run report; a score is null where a
candidate failed before it was scored.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from agent.records import Record
from agent.runtime.latency import LatencyReport
from agent.runtime.schema import EXPORT_AGAIN

CANDIDATES = "candidates.json"


class ListedBudgets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: float
    size_bytes: int
    throughput: float | None = None


class ListedCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    family: str
    status: str
    score: float | None
    score_source: str
    fit_seconds: float
    oof_seconds: float
    size_bytes: int | None
    latency: LatencyReport | None  # agent/runtime/latency.py's measurement, as measured
    p99_ms_measured: list[float] = []  # every measurement's p99 in order (search, re-measurements); `latency` stands
    params: dict[str, Any]
    note: str = ""
    within_budget: bool | None = None


class CandidateListing(Record):
    """What the production search measured, and which candidate it chose."""

    FORMAT: ClassVar[str] = "podium.production_candidates"
    TITLE: ClassVar[str] = "production candidates listing (candidates.json)"
    FIX: ClassVar[str] = EXPORT_AGAIN

    budgets: ListedBudgets
    metric: str
    greater_is_better: bool
    leaderboard_score: float | None
    chosen: str
    candidates: list[ListedCandidate]

    UNVERSIONED_KEY: ClassVar[str] = "candidates"
