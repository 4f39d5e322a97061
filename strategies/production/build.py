"""The production phase: search candidates cheap to rich, measure each, choose within budgets, export.

It runs in two halves (`ProductionSearch`), so the run's plan can put the cheap, teacher-free half first:
`search` fits the linear floor and the Optuna study of compact LightGBM models; `finish`, once the
leaderboard model exists, adds distilled students of the best in-budget shapes and AutoGluon's fast
options (when that much time is left), re-measures, and exports the best candidate that still fits the
budgets on the export's own measurement. `build_production_model` runs both halves in one time budget.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.atomic import write_text
from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.deadline import Deadline
from agent.errors import BudgetError
from agent.runtime import LatencyReport, load_model
from agent.runtime.card import MODEL_CARD, CardLeaderboard, CardRetrain, CardTraining, ModelCard
from strategies.base import Candidate, TwoPhaseSearch
from strategies.production import families
from strategies.production.candidate import Budgets, ProductionCandidate
from strategies.production.card import render_markdown
from strategies.production.export import ExportInputs, OutsideBudgets, export
from strategies.production.families import MIN_AUTOGLUON_SECONDS
from strategies.production.measure import remeasure
from strategies.production.problem import make_problem, serving_rows
from strategies.production.select import choose, frontier, ranked_within_budgets

log = logging.getLogger("podium.production")
EXPORT_SHARE = 0.35  # of the finishing half's time, kept for re-measurement, importance, card and plot
SEARCH_END_RESERVE = 0.15  # build_production_model: share of its budget the search leaves to the end
AUTOGLUON_SHARE = 0.3  # of the time budget, kept for AutoGluon's options when the predictor's path is given
REMEASURE_LIMIT = 12
BLEND_SHARE = 0.15  # of the finishing half's time (at least BLEND_SECONDS), kept from every model before it
BLEND_SECONDS = 2.0  # for the blend: it fits nothing and often ships (a fold bag ran into its time at 600 s); 6 s
# (room to choose a blend again after a miss) took from ames_house at 240 s the thinned bag and CatBoost: 1.9 -> 3.0%
IMPORTANCE_END_SHARE = 0.35  # of the export's reserve, left after importance for the profile, plot and card
LATE_EXPORTS = 3  # candidates still tried past the deadline when the chosen ones missed on export
REMEASURE_SHARE = 0.6  # of the export's reserve, left for the export itself when re-measurement ends
QUIET_CALLS = 1000  # selection and the card time 1000 single rows: p99 of 200 calls is noisy on a busy machine


@dataclass
class ProductionResult:
    """The exported production model: where it is, what was chosen, its card, and every candidate measured."""

    out_dir: Path
    chosen: ProductionCandidate
    card: ModelCard  # assembled by the export, written once by write_card
    candidates: list[ProductionCandidate]
    budgets: Budgets
    seconds: float

    def summary(self) -> dict[str, Any]:
        """For the run manifest."""
        card = self.card
        return {"path": str(self.out_dir), "model": self.chosen.name, "score": self.chosen.score,
                "leaderboard_score": card.leaderboard.score, "score_given_up": card.leaderboard.score_given_up,
                "p99_ms": card.latency.p99_ms_batch1, "size_bytes": card.size.serving_bytes,
                "within_budget": card.budgets.within_budget, "seconds": round(self.seconds, 1),
                "candidates": len(self.candidates)}

    def write_card(self, leaderboard: dict[str, Any] | None = None, training: dict[str, Any] | None = None,
                   retrain: dict[str, Any] | None = None) -> ModelCard:
        """Write model_card.json and model_card.md once, with what only the caller knows: the leaderboard
        model's costs (the run), the production phase's CPU (the run), a retrain's decision."""
        update: dict[str, Any] = {}
        if leaderboard:
            update["leaderboard"] = CardLeaderboard.model_validate(
                {**self.card.leaderboard.model_dump(exclude_unset=True), **leaderboard})
        if training:
            update["training"] = CardTraining.model_validate({**self.card.training.model_dump(), **training})
        if retrain:
            update["retrain"] = CardRetrain.model_validate(retrain)
        self.card = self.card.model_copy(update=update)
        self.card.write(self.out_dir / MODEL_CARD)
        write_text(self.out_dir / "model_card.md", render_markdown(self.card.dumped()))
        return self.card


class ProductionSearch(TwoPhaseSearch):
    """The production model's search (strategies/base.py TwoPhaseSearch): the encoded problem, candidates and a
    work folder between its two halves."""

    name = "production"

    def __init__(self, competition: Competition, dataset: Dataset, out_dir: Path, settings: Any,
                 executor: Any = None):
        self.competition, self.dataset, self.settings, self.executor = competition, dataset, settings, executor
        self.prod = getattr(settings, "production", settings)
        run = getattr(settings, "run", None)
        self.budgets = Budgets.from_settings(self.prod)
        self.out_dir = Path(out_dir)
        self.problem = make_problem(competition, dataset, seed=run.seed if run is not None else 0,
                                    unseen=self.prod.unseen_categories, max_features=self.prod.max_features,
                                    read_texts=not self.prod.require_onnx)  # no graph reads words
        if self.prod.require_onnx:
            families.refuse_unexportable_features(self.problem)
        self.rows = serving_rows(dataset, self.problem.schema, self.problem.seed)  # what serving reads
        self.calls = self.prod.latency_calls
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix=".production-work-", dir=self.out_dir.parent))
        self.candidates: list[ProductionCandidate] = []
        self._test: dict[str, np.ndarray] = {}  # test predictions of the candidates offered to the leaderboard
        self.started = time.monotonic()
        log.info("Production phase: budgets %s", self.budgets.describe())

    def floor(self) -> None:
        """The linear floor and a quick compact GBM, in this process: the first candidates and submission."""
        from strategies.production.search import quick_candidate

        self.candidates.append(families.linear_floor(self.problem, self.work, self.rows, self.calls))
        try:
            self.candidates.append(quick_candidate(self.problem, self.work, self.rows, self.calls))
        except Exception as error:  # noqa: BLE001 - the search below tries the same shape again
            log.warning("The quick compact GBM failed: %s", error)

    def search(self, deadline: Deadline) -> None:
        """The Optuna study of compact LightGBM models until `deadline`."""
        quick = any(c.name.startswith("lightgbm/quick") for c in self.candidates)
        self.candidates += families.compact_search(self.problem, self.budgets, self.rows, self.work, deadline,
                                                   self.prod, self.executor, self.calls, skip_first_seed=quick)
        log.info("Compact search done at %.1f s: %d candidates", time.monotonic() - self.started,
                 len(self.candidates))

    def best(self) -> list[ProductionCandidate]:
        """The best measured candidate of each family (linear, compact LightGBM), best first."""
        metric = self.competition.metric
        by_family: dict[str, ProductionCandidate] = {}
        for candidate in self.candidates:
            if candidate.measured and not math.isnan(candidate.score):
                held = by_family.get(candidate.family)
                if held is None or metric.signed(candidate.score) > metric.signed(held.score):
                    by_family[candidate.family] = candidate
        return sorted(by_family.values(), key=lambda c: -metric.signed(c.score))

    def leaderboard_candidates(self) -> list[Candidate]:
        """The best candidate of each family with its test predictions, for the leaderboard blend."""
        out = []
        for candidate in self.best():
            if candidate.name not in self._test:
                self._test[candidate.name] = np.asarray(load_model(candidate.folder).predict_raw(self.dataset.X_test))
            out.append(Candidate(name=f"production/{candidate.name}", strategy="production", oof=candidate.oof,
                                 test=self._test[candidate.name], score=candidate.score,
                                 fit_seconds=candidate.fit_seconds, family=candidate.family))
        return out

    def blend_latency(self, names: list[str]) -> dict[str, Any] | None:
        """A blend of this search's candidates (a leaderboard without AutoGluon), each called in turn: the sum of
        its members' measured latencies and CPU; None if a member is not one of them."""
        by_name = {f"production/{c.name}": c for c in self.candidates if c.measured}
        members = [by_name.get(name) for name in names]
        if not members or any(m is None for m in members):
            return None
        reports = [m.latency for m in members]
        total = LatencyReport(
            p50_ms=sum(r.p50_ms for r in reports), p99_ms=sum(r.p99_ms for r in reports),
            mean_ms=sum(r.mean_ms for r in reports), calls=min(r.calls for r in reports),
            batch_size=reports[0].batch_size,
            throughput_rows_s=1 / sum(1 / max(r.throughput_rows_s, 1e-9) for r in reports),
            cpu_seconds_per_million=sum(r.cpu_seconds_per_million for r in reports),
            cpu_seconds_per_million_single=sum(r.cpu_seconds_per_million_single for r in reports))
        return total.card("the sum over the blend's members, each a production candidate measured in-process "
                          "from raw rows (AutoGluon had no finished fit)")

    def finish(self, leaderboard_candidates: list[Candidate], leaderboard_oof: np.ndarray, leaderboard_score: float,
               deadline: Deadline, autogluon_path: Path | None = None,
               leaderboard_test: np.ndarray | None = None, leaderboard_stacked: bool = False) -> ProductionResult:
        """Students, AutoGluon's options, re-measurement, choice and export, all before `deadline`.

        `leaderboard_stacked`: the leaderboard model learnt from other models' OOF predictions, so its OOF score
        flatters it; the card then also compares with the best candidate that does not stack.

        Raises BudgetError, listing the nearest candidates, when none fits; nothing is written then.
        """
        dataset, prod = self.dataset, self.prod
        if np.shape(leaderboard_oof)[:1] != (len(dataset.y),):
            raise ValueError(f"leaderboard_oof has {np.shape(leaderboard_oof)[:1]} rows; the dataset has "
                             f"{len(dataset.y)}")
        window = max(0.0, deadline.remaining())
        export_reserve = max(4.0, EXPORT_SHARE * window)
        blend_reserve = max(BLEND_SECONDS, BLEND_SHARE * window) if prod.blend_members > 1 else 0.0
        autogluon_seconds = AUTOGLUON_SHARE * window if (
            autogluon_path is not None and prod.autogluon_options and not prod.require_onnx
            and AUTOGLUON_SHARE * window >= MIN_AUTOGLUON_SECONDS) else 0.0
        teacher_test = leaderboard_test if leaderboard_test is not None else \
            families.teacher_test(leaderboard_candidates, leaderboard_oof)
        # AutoGluon's bags first: seconds of loading and measuring, no fitting, often the best candidates
        level1 = families.AutoGluonLevel1(self.competition, dataset, self.problem, leaderboard_candidates,
                                          autogluon_path if prod.autogluon_level1 else None, self.work, self.calls,
                                          catboost=not prod.require_onnx)  # CatBoost has no ONNX form
        # The CatBoost model's score (its bag's OOF) is known before it is fitted: it goes before the students,
        # whose scores are not known until they are fitted, and is refitted only when it beats every candidate;
        # it goes before the bags too when it scored better than all of them
        catboost_first = level1.catboost_leads()
        served_by = deadline - export_reserve - blend_reserve  # the blend's seconds are kept from every model
        if not catboost_first:
            self.candidates += level1.bags(served_by, self.budgets)
        self.candidates += level1.catboost_served(self.candidates, served_by - autogluon_seconds, served_by)
        if catboost_first:
            self.candidates += level1.bags(served_by, self.budgets)
        if prod.distill:
            self.candidates += families.students(
                self.problem, dataset, self.candidates, self.budgets, leaderboard_oof, teacher_test,
                families.teacher_seconds(leaderboard_candidates), self.work, self.rows, self.calls,
                served_by - autogluon_seconds, prod.max_trees)
            log.info("Students done at %.1f s", time.monotonic() - self.started)
        self.candidates += families.fold_bags(self.competition, dataset, self.problem, leaderboard_candidates,
                                              self.work, self.calls, served_by)
        self.candidates += families.blend(self.problem, self.candidates, self.budgets, self.work, self.rows,
                                          self.calls, deadline - export_reserve, prod.blend_members)
        if autogluon_seconds:
            self.candidates += families.autogluon_options(
                self.problem, Path(autogluon_path), leaderboard_candidates, leaderboard_score, self.budgets,
                self.rows, self.work, deadline - export_reserve, self.calls, level1.predictor)
            log.info("AutoGluon options done at %.1f s", time.monotonic() - self.started)
        search_seconds = time.monotonic() - self.started
        _remeasure(self.candidates, self.budgets, self.competition, self.rows, self.calls,
                   deadline - REMEASURE_SHARE * export_reserve)
        inputs = ExportInputs(competition=self.competition, dataset=dataset, problem=self.problem,
                              budgets=self.budgets, rows=self.rows, leaderboard_score=leaderboard_score,
                              teacher_oof=leaderboard_oof, calls=max(self.calls, QUIET_CALLS),
                              importance_top=prod.importance_top, search_seconds=search_seconds,
                              monitor=getattr(self.settings, "monitor", None),
                              unstacked=best_unstacked(leaderboard_candidates, self.competition.metric)
                              if leaderboard_stacked else None)
        chosen, card = self._export(inputs, deadline - IMPORTANCE_END_SHARE * export_reserve, deadline)
        chosen.folder = self.out_dir
        return ProductionResult(self.out_dir, chosen, card, self.candidates, self.budgets,
                                time.monotonic() - self.started)

    def _export(self, inputs: ExportInputs, importance_deadline: Deadline,
                deadline: Deadline) -> tuple[ProductionCandidate, ModelCard]:
        """Export the best candidate that fits on the export's own measurement; the next one if it does not.

        A model that ships beats a phase that ends on time with none: past `deadline` a few more candidates
        are still tried (LATE_EXPORTS), without importance, each costing one measurement.
        """
        metric = self.competition.metric
        ranked = ranked_within_budgets(self.candidates, self.budgets, metric)
        if self.prod.require_onnx:
            ranked = families.exportable_to_onnx(ranked)
        if not ranked:
            try:
                choose(self.candidates, self.budgets, metric)  # raises the BudgetError naming the nearest
            except BudgetError as error:
                error.candidates = [c.to_dict(self.budgets) for c in self.candidates]
                raise
        refused: list[str] = []
        late = 0
        for chosen in ranked:
            if deadline.passed():
                late += 1
                if late > LATE_EXPORTS:
                    refused.append("no time left to try the next candidate")
                    break
            log.info("Chose %s", chosen.describe(self.competition.metric_name))
            try:
                return chosen, export(self.out_dir, chosen, self.candidates, inputs, importance_deadline,
                                      refused=refused)
            except OutsideBudgets as miss:
                log.warning("%s: %s; exporting the next candidate", chosen.name, miss)
                chosen.note = f"{chosen.note}; {miss}".strip("; ")
                refused.append(f"{chosen.name}: {miss}")
        error = BudgetError(
            f"No production candidate stayed within the budgets ({self.budgets.describe()}) on the export's "
            f"measurement: {'; '.join(refused)}", where="production phase (the leaderboard submission is unaffected)",
            fix="raise --latency-ms / --size-mb, or run on a quieter machine")
        error.candidates = [c.to_dict(self.budgets) for c in self.candidates]
        raise error

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def build_production_model(
    competition: Competition,
    dataset: Dataset,
    leaderboard_candidates: list[Candidate],
    leaderboard_oof: np.ndarray,
    leaderboard_score: float,
    out_dir: Path,
    settings: Any,
    executor: Any = None,
    autogluon_path: Path | None = None,
    time_budget_s: float = 300.0,
    leaderboard_test: np.ndarray | None = None,
    write_card: bool = True,
    leaderboard_stacked: bool = False,
) -> ProductionResult:
    """Both halves in one budget: the search gets `search_share` of it (of the 70% left when AutoGluon's options
    run), the rest goes to `finish`.

    `settings` is the run's Settings (or its `production` section). `leaderboard_test` is the leaderboard model's
    test prediction (the distillation teacher's); when omitted it is taken from the candidate whose OOF
    predictions equal `leaderboard_oof`. Raises BudgetError, listing the nearest candidates, when none fits;
    nothing is written then. `write_card=False` leaves the card to the caller (`result.write_card(...)`).
    `leaderboard_stacked`: see `ProductionSearch.finish`.
    """
    if np.shape(leaderboard_oof)[:1] != (len(dataset.y),):
        raise ValueError(f"leaderboard_oof has {np.shape(leaderboard_oof)[:1]} rows; the dataset has {len(dataset.y)}")
    if time_budget_s <= 0:
        raise ValueError(f"time_budget_s must be positive, got {time_budget_s}")
    deadline = Deadline.after(time_budget_s)
    production = ProductionSearch(competition, dataset, out_dir, settings, executor)
    prod = production.prod
    try:
        production.floor()
        autogluon_share = AUTOGLUON_SHARE if (autogluon_path is not None and prod.autogluon_options
                                              and AUTOGLUON_SHARE * time_budget_s >= MIN_AUTOGLUON_SECONDS) else 0.0
        search_end = deadline - (1 - prod.search_share * (1 - autogluon_share)) * time_budget_s
        production.search(min(search_end, deadline - max(5.0, SEARCH_END_RESERVE * time_budget_s)))
        result = production.finish(leaderboard_candidates, leaderboard_oof, leaderboard_score, deadline,
                                   autogluon_path=autogluon_path, leaderboard_test=leaderboard_test,
                                   leaderboard_stacked=leaderboard_stacked)
    finally:
        production.close()
    if write_card:
        result.write_card()
    return result


def best_unstacked(candidates: list[Candidate], metric) -> tuple[str, float] | None:
    """The best leaderboard candidate whose OOF score is honest (no stacking), as (name, score)."""
    honest = [c for c in candidates if not c.stacked and c.score is not None and np.isfinite(c.score)]
    if not honest:
        return None
    best = max(honest, key=lambda c: metric.signed(c.score))
    return best.name, float(best.score)


def _remeasure(candidates, budgets, competition, rows, calls: int, deadline: Deadline | None = None) -> None:
    """Measure again, quietly (no trials running), the candidates selection will look at, best first, until
    `deadline` (the export measures its choice once more in any case)."""
    front = frontier(candidates, competition.metric)
    near = [c for c in candidates if c.measured and c.excess(budgets) <= 1.5]
    picked = list({id(c): c for c in front + near if c.family != "autogluon"}.values())
    picked.sort(key=lambda c: -competition.metric.signed(c.score) if not math.isnan(c.score) else math.inf)
    for candidate in picked[:REMEASURE_LIMIT]:
        if deadline is not None and deadline.passed():
            log.info("Re-measurement stopped at its deadline")
            break
        remeasure(candidate, rows, max(calls, QUIET_CALLS), latency_ms=budgets.latency_ms)
