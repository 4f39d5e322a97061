"""The leaderboard model: every candidate with its out-of-fold score, the chart, the blend and the studies."""

from __future__ import annotations

import logging

from agent.report import fmt
from agent.report.charts import Bar, score_chart
from agent.report.document import Figure, Section, Table, Text
from agent.report.inputs import RunInputs

log = logging.getLogger("podium.report")
SCORES_PNG = "leaderboard_scores.png"


def leaderboard_section(inputs: RunInputs) -> Section:
    m = inputs.manifest
    section = Section("Leaderboard model", "leaderboard")
    board = m.get("leaderboard")
    if not isinstance(board, dict):
        phase = fmt.mapping(fmt.mapping(m.get("phases")).get("leaderboard"))
        why = "the leaderboard phase failed" if phase.get("status") == "failed" else "the run stopped before it"
        return section.add(Text(f"Leaderboard candidates and ensemble: not produced ({why}).", "missing"))
    validation = fmt.mapping(m.get("validation"))
    metric = fmt.plain(validation.get("metric") or fmt.mapping(m.get("competition")).get("metric_name"))
    better = validation.get("greater_is_better")
    candidates = [c for c in board.get("candidates") or [] if isinstance(c, dict)]
    ensemble = fmt.mapping(board.get("ensemble"))
    weights = fmt.mapping(ensemble.get("weights"))
    direction = {True: "higher is better", False: "lower is better"}.get(better, "")
    section.add(Text(
        f"Submitted predictions come from {fmt.plain(validation.get('model') or 'ensemble')}: {metric} "
        f"{fmt.score(validation.get('score'))} ({direction + ', ' if direction else ''}"
        f"{fmt.plain(validation.get('method') or 'out-of-fold')}). The best single candidate, "
        f"{fmt.plain(fmt.mapping(validation.get('best_single')).get('name'))}, scored "
        f"{fmt.score(fmt.mapping(validation.get('best_single')).get('oof_score'))}."))
    figure = _chart(candidates, ensemble, metric, better)
    if figure is not None:
        section.add(figure)
    section.add(*_ensemble_blocks(ensemble, weights, candidates))
    if candidates:
        rows = [(str(i), fmt.plain(c.get("name"), 80), fmt.plain(c.get("strategy")), fmt.score(c.get("oof_score")),
                 fmt.seconds(c.get("fit_seconds")), _weight(weights.get(c.get("name"))))
                for i, c in enumerate(candidates, 1)]
        section.add(Table(("#", "candidate", "strategy", f"OOF {metric}", "fit time", "ensemble weight"), rows,
                          caption=f"All {len(candidates)} candidates, best first", numeric=(0, 3, 4, 5)))
    else:
        section.add(Text("Candidates: none recorded.", "missing"))
    section.add(*_search_blocks(board))
    return section


def _chart(candidates: list[dict], ensemble: dict, metric: str, better) -> Figure | None:
    bars = [Bar(fmt.plain(c.get("name"), 80), float(c["oof_score"]), fmt.plain(c.get("strategy")))
            for c in candidates if fmt.number(c.get("oof_score")) is not None]
    if fmt.number(ensemble.get("oof_score")) is not None:
        bars.insert(0, Bar(fmt.plain(ensemble.get("name") or "ensemble"), float(ensemble["oof_score"]), "ensemble"))
    if not bars:
        return None
    if better is not None:
        bars.sort(key=lambda b: -b.value if better else b.value)
    try:
        png = score_chart(bars, metric, better)
    except Exception as error:  # noqa: BLE001 - a chart is never worth the report
        log.warning("The candidate chart failed: %s", error)
        return None
    return Figure(SCORES_PNG, png, alt=f"Out-of-fold {metric} of each leaderboard candidate and the ensemble",
                  caption="Out-of-fold score per candidate (green: the ensemble that made the submission)")


def _ensemble_blocks(ensemble: dict, weights: dict, candidates: list[dict]) -> list:
    if not ensemble:
        return [Text("Ensemble: not produced.", "missing")]
    scores = {c.get("name"): c.get("oof_score") for c in candidates}
    blocks: list = []
    facts = [f"out-of-fold score {fmt.score(ensemble.get('oof_score'))}"]
    if ensemble.get("iterations") is not None:
        facts.append(f"{fmt.plain(ensemble.get('iterations'))} greedy selection steps")
    pool = fmt.mapping(ensemble.get("pool"))
    if pool:
        facts.append(f"chosen from {fmt.plain(pool.get('candidates'))} candidates: {fmt.plain(pool.get('rule'))}")
    if ensemble.get("threshold") is not None:
        facts.append(f"decision threshold {fmt.score(ensemble.get('threshold'))} (tuned on out-of-fold predictions)")
    blocks.append(Text(f"Ensemble ({fmt.plain(ensemble.get('name') or 'ensemble')}): " + "; ".join(facts) + "."))
    guard = fmt.mapping(ensemble.get("guard"))
    if guard:
        blocks.append(Text(
            f"Kept: the {fmt.plain(guard.get('kept'))}. Selected inside the folds and scored on the fold left out, "
            f"the blend scored {fmt.score(guard.get('blend_in_folds'))} and the best single candidate "
            f"{fmt.score(guard.get('best_single_in_folds'))}; the blend is kept only when it wins there."))
    if weights:
        rows = [(fmt.plain(name, 80), _weight(weight), fmt.score(scores.get(name)))
                for name, weight in sorted(weights.items(), key=lambda kv: -(fmt.number(kv[1]) or 0.0))]
        blocks.append(Table(("candidate", "weight", "its OOF score"), rows, caption="Ensemble weights",
                            numeric=(1, 2)))
    return blocks


def _search_blocks(board: dict) -> list:
    blocks: list = []
    studies = [s for s in board.get("studies") or [] if isinstance(s, dict)]
    if studies:
        rows = [(fmt.plain(s.get("learner")), fmt.plain(s.get("trials")), fmt.plain(s.get("complete")),
                 fmt.plain(s.get("pruned")), fmt.plain(s.get("fail")), fmt.plain(s.get("stopped")),
                 fmt.seconds(s.get("seconds")),
                 fmt.seconds(s.get("cpu_seconds")), fmt.score(s.get("best_oof_score"))) for s in studies]
        blocks.append(Table(("Optuna study", "trials", "complete", "pruned", "failed", "stopped at deadline",
                             "wall time", "CPU time", "best OOF"), rows, numeric=(1, 2, 3, 4, 5, 6, 7, 8)))
    timings, costs = fmt.mapping(board.get("timings")), fmt.mapping(board.get("costs"))
    if timings or costs:
        rows = [(f"{k} (wall clock)", fmt.seconds(v)) for k, v in timings.items()]
        rows += [(k.replace("_cpu_seconds", "").replace("cpu_seconds", "all searches") + " (CPU)", fmt.seconds(v))
                 for k, v in costs.items()]
        blocks.append(Table(("leaderboard search", "seconds"), rows, numeric=(1,),
                            caption="Time spent searching: wall clock, and CPU-seconds (measured inside the "
                                    "tasks; for AutoGluon's parallel folds, the CPUs it held times its wall time)"))
    return blocks


def _weight(value) -> str:
    x = fmt.number(value)
    return fmt.DASH if x is None else f"{x:.3f}"
