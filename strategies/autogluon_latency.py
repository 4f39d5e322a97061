"""The chosen AutoGluon model's single-row latency, timed in its fit's task while it is in memory.

Loading a stacked predictor again elsewhere can take half a minute; a deployment pays that once, at start,
so the model card's latency is measured where the model already is.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd

from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.competition.metrics import REGRESSION
from agent.deadline import Deadline
from agent.runtime.files import directory_bytes

log = logging.getLogger("podium.autogluon")
# Seconds of single-row calls timed while the chosen model is in memory.
IN_TASK_LATENCY_SECONDS = 5.0
PERSIST_MAX_MEMORY = 0.4  # share of the available memory the chosen model and its inputs may take, loaded
LATENCY_OVERHEAD_CALLS = 8  # the warm-up calls, the last timed call and a batch, counted in single calls


def served(predictor, problem_type: str, model: str | None = None):
    """What a deployment of the predictor answers (raw rows in, predictions out), for measure_latency."""
    predict = predictor.predict if problem_type == REGRESSION else predictor.predict_proba

    class Served:
        @staticmethod
        def predict(batch):
            return predict(pd.DataFrame([batch]) if isinstance(batch, dict) else pd.DataFrame(batch), model=model)

    return Served()


def persist(predictor, model: str, max_memory: float = PERSIST_MAX_MEMORY) -> bool:
    """Load `model` and the models it needs into memory, when their files take at most `max_memory` of the
    available memory. AutoGluon's own check (`persist(max_memory=...)`) sizes each model by pickling it and
    collecting garbage, seconds per large model (docs/time-plan.md): the files on disk hold the same bytes."""
    import psutil

    trainer = predictor._trainer
    folders = [Path(trainer.path) / name for name in trainer.get_minimum_model_set(model)]
    size = sum(map(directory_bytes, folders))
    if size > max_memory * psutil.virtual_memory().available:
        log.info("%s and its inputs take %.0f MB: not kept in memory", model, size / 1e6)
        return False
    return model in predictor.persist(models=[model], max_memory=None)


def latency_in_memory(predictor, competition: Competition, data: Dataset, model: str,
                       deadline: Deadline | None) -> dict | None:
    """The model card's latency block for `model`, timed in this task while it is in memory (the plan keeps a
    few seconds for it before `deadline`); None when the time left could not hold it, judged from
    one timed call (a stacked model can take a second a row, and the task must return before its deadline)."""
    from agent.runtime import measure_latency

    model_of = served(predictor, competition.problem_type, model)
    rows = data.X_test.head(200)
    try:
        started = time.perf_counter()
        model_of.predict(rows.iloc[0].to_dict())
        one_call = time.perf_counter() - started
        left = 4 * IN_TASK_LATENCY_SECONDS if deadline is None else deadline.remaining()
        # the warm-up, the last timed call and one batch call, and a second to hand the candidates back
        seconds = min(IN_TASK_LATENCY_SECONDS, left - LATENCY_OVERHEAD_CALLS * one_call - 1.0)
        if seconds < 1:
            return None
        report = measure_latency(model_of, rows, warmup=2, batch_size=min(100, len(rows)), repeats=1,
                                 max_seconds=seconds)
    except Exception as error:  # noqa: BLE001 - the card says it was not measured; the fit stands
        log.warning("Could not time %s in memory: %s", model, error)
        return None
    return report.card(f"AutoGluon's {model} in memory in its fit task, raw rows in; single-row calls capped "
                       f"at {seconds:.0f} s; batch of {report.batch_size}")
