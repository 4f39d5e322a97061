"""The production blend: a few candidates averaged, when the budgets hold them together.

A single compact model uses a fraction of its budgets (p99 0.1-0.3 ms of 1 ms, under 1 MB of 5), so two or
three of them fit side by side, and averaging models of different kinds (a linear model, a shallow and a deep
GBM, a student) gains what blending gains on the leaderboard. Members are chosen greedily with replacement
(Caruana et al., as the leaderboard blend) among the best measured candidates, at most
`production.blend_members` distinct ones, and only while their measured p99 latencies and sizes, added up,
stay inside the budgets. A blend's own p99 is below the sum of its members' (a row is derived once, and the
members' slow calls rarely coincide), so the sum may fill the whole latency budget; the blend is then measured
(once more when it misses, a third time when the two disagree: the median stands), and when it misses, its
members are chosen again with headroom. When it fits and time is left, a blend whose
members' sum reaches 1.5x the budget is tried too (members measured on a busy machine read slower than they
serve), and kept beside it. Nothing is refitted: members are
served as they are, from the one encoded row, or, when one of them reads an encoding of its own (AutoGluon's
bags and CatBoost model, the study's fold bags), as whole models that each encode the raw row
(agent/runtime/models_blend.py).

Weights chosen on the OOF predictions they are scored on flatter the blend, so its score is the one the
same selection earns inside the folds: for each group of the run's folds, members and weights are chosen on
the other groups and predict the group left out. That nested OOF score is what selection compares with a
single candidate's.

For a classification problem the chosen members are also combined by a logistic stacker (a logistic regression on
their log-probabilities, agent/runtime/stacker.py), scored the same nested way; the stacked blend replaces the
weighted mean when its nested score is better.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition.folds import scored
from agent.deadline import Deadline
from agent.runtime.blend import BlendRuntime
from agent.runtime.model import load_model
from agent.runtime.models_blend import ModelsBlendRuntime
from agent.runtime.runtimes import IDENTITY
from agent.runtime.schema import Schema
from agent.runtime.stacker import LogisticStacker
from strategies.production.candidate import SKIPPED, Budgets, ProductionCandidate
from strategies.production.gbm import link_for
from strategies.production.measure import package, remeasure
from strategies.production.problem import Problem
from strategies.production.stacker import fit_stacker

log = logging.getLogger("podium.production")
SHARED_ENCODING = ("linear", "lightgbm", "distilled")  # families that read the problem's encoded matrix
OWN_ENCODING = ("autogluon-bag", "catboost", "fold-bag")  # families that read encodings of their own
POOL = 6  # the best candidates of the pool, at most one per shape, bound the selection's cost
ITERATIONS = 15
GROUPS = 4  # groups of the run's folds for the nested score
LATENCY_HEADROOMS = (1.0, 0.8)  # shares of the budgets the members' p99s (and sizes) may add up to: the second when
# the blend chosen under the first, measured, misses the budgets
AMBITIOUS_HEADROOM = 1.5  # tried after a blend that fits, while time is left: members measured on a busy machine
# read up to 3.7x their quiet p99, and a blend's own p99 is 55-60% of its members' sum


def select(oofs: list[np.ndarray], y: np.ndarray, problem: Problem, latency_ms: list[float], sizes: list[int],
           budgets: Budgets, max_members: int, iterations: int = ITERATIONS,
           headroom: float = LATENCY_HEADROOMS[-1]) -> dict[int, float]:
    """Members (pool indices) and weights: greedy with replacement, at most `max_members` distinct, their summed
    p99 latency within `headroom` of the latency budget and summed size within it of the size budget (never over
    it: a size is exact, and a blend's files weigh a little more than its members'). The best single
    candidate alone when nothing improves on it."""
    scores = [problem.signed(problem.score_rows(y, oof)) for oof in oofs]
    first = int(np.argmax(scores))
    chosen, total = [first], oofs[first].astype(float).copy()
    best, best_size = scores[first], 1
    for _ in range(iterations - 1):
        distinct = set(chosen)
        allowed = [i for i in range(len(oofs)) if i in distinct or (
            len(distinct) < max_members
            and sum(latency_ms[j] for j in distinct) + latency_ms[i] <= headroom * budgets.latency_ms
            and sum(sizes[j] for j in distinct) + sizes[i] <= min(headroom, 1.0) * budgets.size_bytes)]
        size = len(chosen) + 1
        trial = {i: problem.signed(problem.score_rows(y, (total + oofs[i]) / size)) for i in allowed}
        pick = max(trial, key=trial.get)
        chosen.append(pick)
        total += oofs[pick]
        if trial[pick] > best + 1e-12:
            best, best_size = trial[pick], size
    counts = Counter(chosen[:best_size])
    return {i: n / best_size for i, n in sorted(counts.items())}


def nested_oof(oofs: list[np.ndarray], problem: Problem, latency_ms: list[float], sizes: list[int],
               budgets: Budgets, max_members: int, headroom: float = LATENCY_HEADROOMS[-1],
               stacked: bool = False, deadline: Deadline | None = None) -> np.ndarray | None:
    """The blend's honest OOF predictions: chosen on the other groups of folds, predicting the one left out
    (the rows the folds never score stay without). `stacked`: the chosen members combined by a logistic stacker
    fitted on those groups too. None when `deadline` passes before every group is predicted."""
    choices = nested_choices(oofs, problem, latency_ms, sizes, budgets, max_members, headroom)
    return nested_predictions(oofs, problem, choices, stacked, deadline)


def nested_choices(oofs: list[np.ndarray], problem: Problem, latency_ms: list[float], sizes: list[int],
                   budgets: Budgets, max_members: int,
                   headroom: float) -> list[tuple[np.ndarray, np.ndarray, dict[int, float]]]:
    """For each group of the run's folds: the rows of the other groups, the group's rows, and the members and
    weights chosen on the other groups."""
    group = np.where(scored(problem.folds), problem.folds % GROUPS, -1)
    choices = []
    for left in np.unique(group[group >= 0]):
        inside, left_out = (group >= 0) & (group != left), group == left
        choices.append((inside, left_out, select([o[inside] for o in oofs], problem.y[inside], problem, latency_ms,
                                                 sizes, budgets, max_members, headroom=headroom)))
    return choices


def nested_predictions(oofs: list[np.ndarray], problem: Problem, choices, stacked: bool = False,
                       deadline: Deadline | None = None) -> np.ndarray | None:
    """Each group's rows predicted by the members and weights chosen without them (`nested_choices`), averaged
    or, `stacked`, combined by a stacker fitted without them too; None when `deadline` passes first."""
    out = np.full_like(oofs[0], np.nan, dtype=float)
    for inside, left_out, weights in choices:
        if deadline is not None and deadline.passed():
            return None
        stacker = _stacker([oofs[i][inside] for i in weights], problem.y[inside], problem) if stacked else None
        if stacker is not None:
            out[left_out] = stacker.combine([oofs[i][left_out] for i in weights])
        else:
            out[left_out] = sum(w * oofs[i][left_out] for i, w in weights.items())
    return out


def _stacker(outputs: list[np.ndarray], y: np.ndarray, problem: Problem) -> LogisticStacker | None:
    link = link_for(problem)
    return None if link == IDENTITY else fit_stacker(outputs, y, link, problem.n_classes)


def blend_candidates(problem: Problem, candidates: list[ProductionCandidate], budgets: Budgets, work: Path,
                     rows: pd.DataFrame, calls: int, deadline: Deadline,
                     max_members: int = 3) -> list[ProductionCandidate]:
    """The budget-bounded blend of the best measured candidates, packaged and measured; none when fewer than two
    fit the budgets or when one candidate alone is the best blend; a skipped record when no time is left. A blend
    whose members' p99s fill the latency budget and that misses it when measured is chosen again with headroom;
    one that fits is followed, while as much time is left as it took, by one whose members' p99s may add up to
    AMBITIOUS_HEADROOM of the budget (every blend made is kept; selection takes the best that fits)."""
    if deadline.passed():
        return [ProductionCandidate("blend", "blend", status=SKIPPED, note="no time left")]
    pool = _pool(problem, candidates, budgets)
    log.info("Production blend pool: %s", ", ".join(f"{c.name} ({problem.metric.name} {c.score:.5g}, p99 "
                                                   f"{c.latency.p99_ms:.3g} ms)" for c in pool) or "empty")
    if len(pool) < 2 or max_members < 2:
        return []
    blends: list[ProductionCandidate] = []
    for headroom in LATENCY_HEADROOMS:
        if blends and deadline.passed():
            break
        started = time.monotonic()
        blend = _blend(problem, pool, budgets, work, rows, calls, max_members, headroom, deadline, blends)
        if blend is None:
            break
        blends.append(blend)
        if blend.measured and blend.latency.p99_ms > budgets.latency_ms:  # its members' p99s said it fits
            remeasure(blend, rows, calls, latency_ms=budgets.latency_ms)
        if not blend.measured or blend.fits(budgets):
            break
        log.info("The production blend %s missed the budgets when measured (p99 %.3g ms, %.3g MB): choosing "
                 "again within %.0f%% of the budgets", blend.name, blend.latency.p99_ms,
                 blend.size_bytes / 1e6, 100 * LATENCY_HEADROOMS[-1])
    if blends and blends[-1].measured and blends[-1].fits(budgets) and blends[-1].params[
            "latency_headroom"] == LATENCY_HEADROOMS[0] and deadline.remaining() > time.monotonic() - started:
        ambitious = _blend(problem, pool, budgets, work, rows, calls, max_members, AMBITIOUS_HEADROOM, deadline,
                           blends)
        if ambitious is not None:
            blends.append(ambitious)
    return blends


def _blend(problem: Problem, pool: list[ProductionCandidate], budgets: Budgets, work: Path, rows: pd.DataFrame,
           calls: int, max_members: int, headroom: float, deadline: Deadline,
           made: list[ProductionCandidate]) -> ProductionCandidate | None:
    """The blend chosen within `headroom`, packaged and measured; None when it keeps one candidate or is one
    already `made` (same members, same weights: its seconds go to the measurements after it)."""
    started = time.monotonic()
    oofs = [np.asarray(c.oof, dtype=float) for c in pool]
    latency_ms = [c.latency.p99_ms for c in pool]
    sizes = [c.size_bytes for c in pool]
    kept = scored(problem.folds)
    weights = select([o[kept] for o in oofs], problem.y[kept], problem, latency_ms, sizes, budgets, max_members,
                     headroom=headroom)
    if len(weights) < 2:
        log.info("The production blend kept one candidate: no blend")
        return None
    chosen = {pool[i].name: round(w, 6) for i, w in weights.items()}
    if any(b.params["members"] == chosen for b in made):
        log.info("The production blend within %.0f%% of the latency budget is the one already made", 100 * headroom)
        return None
    choices = nested_choices(oofs, problem, latency_ms, sizes, budgets, max_members, headroom)
    honest = nested_predictions(oofs, problem, choices)
    stacker, honest = _stacked(problem, oofs, weights, choices, honest, deadline)
    members = [pool[i] for i in weights]
    if all(m.family in SHARED_ENCODING for m in members):
        runtime = BlendRuntime([load_model(m.folder).runtime for m in members], list(weights.values()), stacker)
    else:
        runtime = ModelsBlendRuntime([load_model(m.folder) for m in members], list(weights.values()), stacker)
    name = "blend/" + "+".join(m.name.split("/", 1)[-1] for m in members) + ("-stacked" if stacker else "")
    combined = "members, weights and the stacker" if stacker else "members and weights"
    candidate = ProductionCandidate(
        name=name, family="blend", params={"members": chosen, "latency_headroom": headroom,
                                           "combiner": "logistic stacker" if stacker else "weighted mean"},
        score=problem.score(honest), oof=honest, fit_seconds=sum(m.fit_seconds for m in members),
        oof_seconds=sum(m.oof_seconds for m in members) + time.monotonic() - started,
        teacher_seconds=max(m.teacher_seconds for m in members), members=members,
        score_source=f"out-of-fold, nested: {combined} chosen on {GROUPS - 1} of {GROUPS} groups of the "
                     "run's folds, scored on the group left out (strategies/production/blend.py)")
    candidate = package(problem, runtime, candidate, work, rows, calls)
    log.info("Production blend %s: %s %.5g, p99 %s ms, in %.1f s", name, problem.metric.name, candidate.score,
             f"{candidate.latency.p99_ms:.3g}" if candidate.measured else "-", time.monotonic() - started)
    return candidate


def _stacked(problem: Problem, oofs: list[np.ndarray], weights: dict[int, float], choices, honest: np.ndarray,
             deadline: Deadline) -> tuple[LogisticStacker | None, np.ndarray]:
    """The stacker of the chosen members and the nested OOF predictions that go with it (on the weighted mean's
    nested `choices`), when its nested score beats the weighted mean's (`honest`) and it is fitted before
    `deadline`; else no stacker and `honest`."""
    if link_for(problem) == IDENTITY or deadline.passed():
        return None, honest
    stacked = nested_predictions(oofs, problem, choices, stacked=True, deadline=deadline)
    if stacked is None or deadline.passed():
        log.info("The production blend's stacker was not fitted before its deadline: the weighted mean serves")
        return None, honest
    if not problem.signed(problem.score(stacked)) > problem.signed(problem.score(honest)):
        return None, honest
    kept = scored(problem.folds)
    stacker = _stacker([oofs[i][kept] for i in weights], problem.y[kept], problem)
    return (stacker, stacked) if stacker is not None else (None, honest)


def _pool(problem: Problem, candidates: list[ProductionCandidate], budgets: Budgets) -> list[ProductionCandidate]:
    """The best measured candidates inside the budgets, one per name, best first."""
    fitting = [c for c in candidates if c.family in SHARED_ENCODING + OWN_ENCODING and c.measured
               and c.oof is not None and not math.isnan(c.score) and c.fits(budgets) and c.folder is not None
               and (c.family in SHARED_ENCODING or _reads_inputs_of(c, problem))]
    fitting.sort(key=lambda c: -problem.signed(c.score))
    linear = [c for c in fitting if c.family == "linear"][:1]  # a different kind of model: kept in the pool
    pool = list({c.name: c for c in fitting[:POOL] + linear}.values())
    return pool


def _reads_inputs_of(candidate: ProductionCandidate, problem: Problem) -> bool:
    """A model with an encoding of its own joins a blend served from the problem's input columns only if it reads
    none but those (AutoGluon may read a column the problem set aside)."""
    own = Schema.read(Path(candidate.folder) / "schema.json").input_names
    return set(own) <= set(problem.schema.input_names)
