"""Turn a fitted runtime into a candidate: save it as an artifact, load it back, measure latency and size.

Every number comes from the saved-then-loaded artifact in this process, the way it will be served.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from agent.runtime.encoder import Encoder
from agent.runtime.files import artifact_size, staged_directory
from agent.runtime.latency import LatencyReport, measure_latency, median_report
from agent.runtime.model import ProductionModel, load_model
from agent.runtime.runtimes import Runtime
from agent.runtime.schema import Schema
from strategies.production.candidate import FAILED, ProductionCandidate
from strategies.production.problem import Problem

log = logging.getLogger("podium.production")
CHECK_ROWS = 50


def folder_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "model"


def package(problem: Problem, runtime: Runtime, candidate: ProductionCandidate, work: Path, rows: pd.DataFrame,
            calls: int = 200, max_seconds: float | None = None, schema: Schema | None = None,
            encoder: Encoder | None = None) -> ProductionCandidate:
    """Save, reload, check the reload predicts the same, then measure; a failure marks the candidate failed.

    `schema` and `encoder` replace the problem's for a model that reads its own encoding (a fold bag)."""
    encoder = (encoder or problem.encoder) if runtime.input == "matrix" else None
    model = ProductionModel(schema or problem.schema, encoder, runtime, problem.output, candidate.name,
                            info={"family": candidate.family, **runtime.describe()})
    folder = Path(work) / folder_name(candidate.name)
    try:
        with staged_directory(folder) as stage:
            model.save(stage)
        loaded = load_model(folder)
        sample = rows.iloc[:CHECK_ROWS]
        if not np.allclose(model.predict_raw(sample), loaded.predict_raw(sample), rtol=1e-9, atol=1e-12):
            raise RuntimeError("the reloaded model predicts differently from the fitted one")
        candidate.measure(measure_latency(loaded, rows, calls=calls, max_seconds=max_seconds, retime_preempted=True))
        candidate.size_bytes = artifact_size(folder)
        candidate.folder = folder
    except Exception as error:  # noqa: BLE001 - one broken candidate must not stop the search
        log.warning("Candidate %s could not be packaged: %s", candidate.name, error)
        candidate.status, candidate.note = FAILED, f"{type(error).__name__}: {error}"
    return candidate


def remeasure(candidate: ProductionCandidate, rows: pd.DataFrame, calls: int = 200,
              max_seconds: float | None = None, latency_ms: float | None = None) -> ProductionCandidate:
    """Measure again from disk (quietly, after the search), keeping the better-informed numbers.

    With `latency_ms` (the budget), a measurement that disagrees with the one before on whether the model fits
    is followed by a third, and the median of every measurement of the model stands: one slow moment of the
    machine (seen here: one measurement in eight of the same model at 3x its p99, on an idle machine) must not
    drop a model that fits, nor admit one that does not. Every one, not the last three: a blend measured 2.15
    and 1.28 ms when made, then 0.767 and 0.989, was admitted on the last three and measured 1.46, 1.1 and
    1.07 ms on export (refused then, with no time left to make another)."""
    if not (candidate.measured and candidate.folder is not None):
        return candidate
    model = load_model(candidate.folder)

    def measure() -> LatencyReport:
        return measure_latency(model, rows, calls=calls, max_seconds=max_seconds, retime_preempted=True)

    before, report = candidate.latency, measure()
    candidate.measure(report)
    if latency_ms is not None and (before.p99_ms <= latency_ms) != (report.p99_ms <= latency_ms):
        third = measure()
        candidate.measure(third, stands=median_report([*candidate.reports, third]))
        log.info("%s: p99 %.3g ms, then %.3g ms against a %g ms budget; %.3g ms on a third: %.3g ms stands "
                 "(the median of %s ms)", candidate.name, before.p99_ms, report.p99_ms, latency_ms, third.p99_ms,
                 candidate.latency.p99_ms, ", ".join(f"{p:.3g}" for p in candidate.p99_ms_measured))
    return candidate
