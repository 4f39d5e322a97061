"""A production candidate: a saved, loadable model with its out-of-fold score, measured latency and size."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.runtime.latency import LatencyReport

MB = 1_000_000
MEASURED, FAILED, SKIPPED = "measured", "failed", "skipped"
OOF_SOURCE = "out-of-fold on the run's folds"


@dataclass(frozen=True)
class Budgets:
    """The production budgets: p99 single-row latency, artifact bytes, optional rows/s at batch 1000."""

    latency_ms: float
    size_bytes: int
    throughput: float | None = None

    @classmethod
    def from_settings(cls, settings) -> Budgets:
        return cls(settings.latency_ms, int(settings.size_mb * MB), settings.throughput)

    def describe(self) -> str:
        parts = [f"p99 latency <= {self.latency_ms:g} ms", f"size <= {self.size_bytes / MB:g} MB"]
        if self.throughput:
            parts.append(f"throughput >= {self.throughput:g} rows/s")
        return ", ".join(parts)


@dataclass
class ProductionCandidate:
    """One measured model. `folder` holds its serving files (a work copy until the export)."""

    name: str
    family: str                      # linear | lightgbm | distilled | blend | autogluon
    params: dict[str, Any] = field(default_factory=dict)
    score: float = float("nan")
    oof: np.ndarray | None = field(default=None, repr=False)
    fit_seconds: float = 0.0         # the served model, fitted on every training row
    oof_seconds: float = 0.0         # the fold fits that validate it
    folder: Path | None = None
    latency: LatencyReport | None = None
    size_bytes: int | None = None
    status: str = MEASURED
    note: str = ""
    score_source: str = OOF_SOURCE
    teacher_seconds: float = 0.0     # a student needs its teacher refitted to be retrained
    members: list[ProductionCandidate] = field(default_factory=list, repr=False)  # a blend's, served together
    reports: list[LatencyReport] = field(default_factory=list, repr=False)  # every measurement, in order

    def measure(self, report: LatencyReport, stands: LatencyReport | None = None) -> None:
        """Record a latency measurement; `stands` (default: this one) is the report selection reads."""
        self.reports.append(report)
        self.latency = stands or report

    @property
    def p99_ms_measured(self) -> list[float]:
        """Every measurement's p99, in order (as candidates.json lists them)."""
        return [round(r.p99_ms, 6) for r in self.reports]

    @property
    def measured(self) -> bool:
        return self.status == MEASURED and self.latency is not None and self.size_bytes is not None

    def excess(self, budgets: Budgets) -> float:
        """How far outside the budgets: 1.0 or less fits; 2.0 means twice the tightest limit."""
        if not self.measured:
            return float("inf")
        ratios = [self.latency.p99_ms / budgets.latency_ms, self.size_bytes / budgets.size_bytes]
        if budgets.throughput:
            ratios.append(budgets.throughput / max(self.latency.throughput_rows_s, 1e-9))
        return max(ratios)

    def fits(self, budgets: Budgets) -> bool:
        return self.excess(budgets) <= 1.0

    def describe(self, metric_name: str) -> str:
        if not self.measured:
            return f"{self.name} ({self.status})"
        return (f"{self.name} ({metric_name} {self.score:.5g}, p99 {self.latency.p99_ms:.3g} ms, "
                f"{self.latency.throughput_rows_s:,.0f} rows/s, {self.size_bytes / MB:.3g} MB)")

    def to_dict(self, budgets: Budgets | None = None) -> dict[str, Any]:
        data = {"name": self.name, "family": self.family, "status": self.status,
                "score": None if math.isnan(self.score) else self.score,
                "score_source": self.score_source, "fit_seconds": round(self.fit_seconds, 3),
                "oof_seconds": round(self.oof_seconds, 3), "size_bytes": self.size_bytes,
                "latency": self.latency.to_dict() if self.latency else None, "params": self.params,
                "p99_ms_measured": self.p99_ms_measured,
                "note": self.note}
        if budgets is not None:
            data["within_budget"] = self.fits(budgets)
        return data
