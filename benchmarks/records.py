"""The whole-run benchmark's records: what a run wrote, read back; the tables and the summaries against targets.

One JSON line per system run: podium (`system` "podium", or "podium:LABEL" for a variant run with a
configuration file) or a peer ("ag:best_quality", "ag:best_quality_v150": AutoGluon alone with that preset).
Lines written before peers had records of their own (a podium record with `ag_score`) are read as a podium
record and a best_quality peer record.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

TIE = 1e-3  # normalised difference below which two systems tie, unless --tie says otherwise
PODIUM = "podium"
ABBREVIATIONS = {"titanic": "titanic", "telco_churn": "telco", "adult_income": "adult", "hpc_class": "hpc",
                 "rodent_species": "rodent", "ames_house": "ames", "diamonds_price": "diamonds",
                 "deliveries": "deliver", "autogluon": "ag", "leaderboard": "lb", "production": "prod",
                 "optuna": "opt", "figures": "fig", "leaderboard_figures": "fig", "submission": "sub",
                 "lightgbm": "lgbm", "distilled": "distil", "ag:best_quality": "bq",
                 "ag:best_quality_v150": "v150"}


# ---------------------------------------------------------------- reading a run

def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def number(value: Any) -> float | None:
    """A finite float, or None (missing, null, text, NaN)."""
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def section(data: Any, *keys: str) -> dict[str, Any]:
    """data[k1][k2]... as a dict, {} wherever something is missing or not a dict."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def from_manifest(manifest: dict[str, Any], run_dir: Path | None) -> dict[str, Any]:
    """The record's fields read from manifest.json and the production model card; None where absent."""
    production = section(manifest, "production")
    card_dir = production.get("path") or section(manifest, "artifacts").get("production") or (
        run_dir / "production" if run_dir else None)
    card = read_json(Path(card_dir) / "model_card.json") if card_dir else {}
    latency, size, model = section(card, "latency"), section(card, "size"), section(card, "model")
    board_latency = section(manifest, "leaderboard", "figures", "latency")
    within = production.get("within_budget", section(card, "budgets").get("within_budget"))
    split = section(manifest, "competition", "split")
    return {
        "split": ":".join(filter(None, (split.get("kind"), split.get("column"), split.get("time")))) or None,
        "prod_model": production.get("model") or model.get("name"),
        "prod_family": model.get("family"),
        "prod_score": number(production.get("score")),
        "prod_leaderboard_score": number(production.get("leaderboard_score")),
        "prod_score_given_up": number(production.get("score_given_up")),
        "prod_p50_ms": number(latency.get("p50_ms_batch1")),
        "prod_p99_ms": number(first(production.get("p99_ms"), latency.get("p99_ms_batch1"))),
        "prod_size_bytes": number(first(production.get("size_bytes"), size.get("serving_bytes"))),
        "prod_within_budget": within if isinstance(within, bool) else None,
        "prod_error": production.get("error"),
        **best_by_family(Path(card_dir) / "candidates.json" if card_dir else None, card),
        "lb_latency_measured": bool(board_latency),
        "lb_p99_ms": number(board_latency.get("p99_ms_batch1", board_latency.get("p99_ms"))),
        **leaderboard(manifest),
        **submissions(manifest.get("submissions")),
        "plan": plan(manifest.get("plan")),
        "phases": {name: {"seconds": number(p.get("seconds")), "status": p.get("status")}
                   for name, p in section(manifest, "phases").items() if isinstance(p, dict)},
    }


def leaderboard(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the leaderboard search did: candidates by strategy, the blend's members and OOF score."""
    board = section(manifest, "leaderboard")
    candidates = board.get("candidates") if isinstance(board.get("candidates"), list) else []
    by_strategy: dict[str, int] = defaultdict(int)
    for candidate in candidates:
        if isinstance(candidate, dict):
            by_strategy[str(candidate.get("strategy"))] += 1
    blend = section(board, "ensemble")
    return {"lb_candidates": dict(by_strategy) or None, "lb_oof": number(blend.get("oof_score")),
            "lb_blend": sorted(section(blend, "weights")) or None}


def first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def submissions(entries: Any) -> dict[str, Any]:
    """The first valid submission's second: a numeric at_seconds and an out-of-fold score, no error."""
    entries = entries if isinstance(entries, list) else []
    valid = [e for e in entries if isinstance(e, dict) and number(e.get("at_seconds")) is not None
             and number(e.get("oof_score")) is not None and not e.get("error") and e.get("valid", True) is not False]
    earliest = min(valid, key=lambda e: number(e["at_seconds"])) if valid else {}
    return {"submissions": len(entries) if entries else None,
            "first_submission_s": number(earliest.get("at_seconds")), "first_submission_source": earliest.get("source")}


def plan(data: Any) -> dict[str, Any] | None:
    """The plan's pieces with planned (deadline - start) and actual (end - start) seconds."""
    if not isinstance(data, dict):
        return None
    pieces = []
    for piece in data.get("pieces") or []:
        if not isinstance(piece, dict):
            continue
        actual = piece.get("actual") if isinstance(piece.get("actual"), dict) else {}
        start, deadline = number(piece.get("start")), number(piece.get("deadline"))
        began, end = number(actual.get("start")), number(actual.get("end"))
        pieces.append({"name": piece.get("name"), "cpus": piece.get("cpus"),
                       "planned_s": round(deadline - start, 1) if None not in (start, deadline) else None,
                       "actual_s": round(end - began, 1) if None not in (began, end) else None,
                       "status": actual.get("status"), "note": actual.get("note")})
    return {"time_limit": number(data.get("time_limit")), "pieces": pieces}


# The families a run's production phase compares: single compact models, and the richer ones built from them
SINGLE_FAMILIES = ("linear", "lightgbm", "distilled")


def best_by_family(listing: Path | None, card: dict[str, Any]) -> dict[str, Any]:
    """From candidates.json: the best in-budget score of each family, so one run shows what each family
    (the blend, the fold bag) bought over the best single compact model, with the same leaderboard."""
    data = read_json(listing) if listing is not None and listing.is_file() else {}
    if not data:
        return {}
    sign = 1.0 if data.get("greater_is_better", True) else -1.0
    best: dict[str, float] = {}
    for c in data.get("candidates", []):
        if c.get("status") != "measured" or not c.get("within_budget") or c.get("score") is None:
            continue
        family = "single" if c["family"] in SINGLE_FAMILIES else c["family"]
        if family not in best or sign * c["score"] > sign * best[family]:
            best[family] = c["score"]
    return {"prod_best": best}


def given_up(production: float | None, board: float | None, higher_is_better: bool | None = None) -> float | None:
    """|production - leaderboard| / |leaderboard|; with the metric's direction, signed: below 0 when the
    production model scored better (out of fold it cannot, by construction of the choice; on the hidden answers
    it can)."""
    if production is None or board is None or board == 0:
        return None
    if higher_is_better is None:
        return abs(production - board) / abs(board)
    return ((board - production) if higher_is_better else (production - board)) / abs(board)


# ---------------------------------------------------------------- loading

def system_of(record: dict[str, Any]) -> str:
    return record.get("system") or PODIUM


def score_of(record: dict[str, Any]) -> float | None:
    return number(record.get("podium_score") if system_of(record).startswith(PODIUM) else record.get("score"))


def split_legacy(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A line from before peers had records of their own: the podium record, and its best_quality peer."""
    if "system" in record:
        return [record]
    podium = {**record, "system": PODIUM}
    if record.get("ag_score") is None and record.get("ag_error") is None:
        return [podium]
    keys = ("task", "seed", "budget", "started_at", "git_commit", "git_dirty", "machine", "rows", "metric",
            "higher_is_better")
    peer = {key: record.get(key) for key in keys}
    peer.update(system="ag:best_quality", score=record.get("ag_score"), wall_s=record.get("ag_wall_s"),
                error=record.get("ag_error"))
    return [podium, peer]


def load_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            try:
                records += split_legacy(json.loads(line))
            except ValueError:
                print(f"skipping a line that is not JSON: {line[:80]}", file=sys.stderr)
    return records


def latest(records: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """The latest record of each (system, task, seed, budget)."""
    return {(system_of(r), r.get("task"), r.get("seed"), r.get("budget")): r for r in records}


# ---------------------------------------------------------------- comparing

def gain(score: Any, peer: Any, higher_is_better: Any) -> float | None:
    """How much better `score` is than `peer`, as a share of |peer|: positive is better, whatever the metric."""
    score, peer = number(score), number(peer)
    if score is None or peer is None:
        return None
    signed = (score - peer) if higher_is_better else (peer - score)
    return signed / (abs(peer) or 1.0)


def outcome(value: float | None, tie: float) -> str | None:
    if value is None:
        return None
    return "tie" if abs(value) < tie else "win" if value > 0 else "loss"


def noise(records: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    """|normalised difference| between repeated runs of one system on one competition and budget (podium's: of
    one commit, so that a change of code is not counted as noise)."""
    runs: dict[tuple, list[float]] = defaultdict(list)
    directions: dict[tuple, bool] = {}
    for r in records:
        value = score_of(r)
        if value is not None:
            code = r.get("git_commit") if system_of(r).startswith(PODIUM) else None
            key = (system_of(r), r.get("task"), r.get("seed"), r.get("budget"), code)
            runs[key].append(value)
            directions[key] = bool(r.get("higher_is_better"))
    spreads = []
    for key, values in runs.items():
        if len(values) > 1:
            later = values[1:]
            spreads += [(key[0], key[1], abs(gain(v, values[0], directions[key]) or 0.0)) for v in later]
    return spreads


def pairs(records: list[dict[str, Any]], system: str = PODIUM) -> list[dict[str, Any]]:
    """One row per competition and budget: `system`'s score and each peer's, and the normalised gains."""
    table = latest(records)
    keys = sorted({(k[1], k[2], k[3]) for k in table if k[0] == system}, key=lambda k: (number(k[2]) or 0, k[1], k[0]))
    peers = sorted({k[0] for k in table if k[0].startswith("ag:")})
    rows = []
    for task, seed, budget in keys:
        mine = table[(system, task, seed, budget)]
        higher = bool(mine.get("higher_is_better"))
        row = {"task": task, "seed": seed, "budget": budget, "higher": higher, system: score_of(mine)}
        for peer in peers:
            theirs = table.get((peer, task, seed, budget))
            row[peer] = score_of(theirs) if theirs else None
            row[f"gain:{peer}"] = gain(row[system], row[peer], higher) if theirs else None
        rows.append(row)
    return rows


def comparison(records: list[dict[str, Any]], tie: float, system: str = PODIUM) -> list[str]:
    """Per budget and peer: win/tie/loss over the pairs, per-competition means over seeds, the mean gain."""
    rows = pairs(records, system)
    peers = sorted({k[5:] for r in rows for k in r if k.startswith("gain:")})
    lines = []
    for budget in sorted({r["budget"] for r in rows}, key=lambda b: number(b) or 0):
        group = [r for r in rows if r["budget"] == budget]
        lines.append(f"budget {fmt(budget, 'g')} s, {system} on {len(group)} competition/seed pairs "
                     f"(tie: |gain| < {100 * tie:.2g}%):")
        for peer in peers:
            gains = [r[f"gain:{peer}"] for r in group if r.get(f"gain:{peer}") is not None]
            if not gains:
                continue
            results = [outcome(g, tie) for g in gains]
            by_task: dict[str, list[float]] = defaultdict(list)
            for r in group:
                if r.get(f"gain:{peer}") is not None:
                    by_task[r["task"]].append(r[f"gain:{peer}"])
            losing = [f"{short(t)} {100 * statistics.mean(v):+.2f}%" for t, v in by_task.items()
                      if outcome(statistics.mean(v), tie) == "loss"]
            wins = results.count("win")
            two_thirds = "ok" if 3 * wins >= 2 * len(gains) else "NOT MET"
            lines.append(f"  vs {peer}: win/tie/loss {wins}/{results.count('tie')}/{results.count('loss')} "
                         f"({wins}/{len(gains)} won, target >= 2/3: {two_thirds}); "
                         f"mean gain {100 * statistics.mean(gains):+.3f}% "
                         f"({'ok' if statistics.mean(gains) > 0 else 'NOT MET'}); competitions lost on average "
                         f"over seeds: {len(losing)}/{len(by_task)}" + (f" ({', '.join(losing)})" if losing else ""))
    return lines


def comparison_table(records: list[dict[str, Any]], system: str = PODIUM) -> pd.DataFrame:
    out = []
    for r in pairs(records, system):
        row = {"task": short(r["task"]), "s": r["seed"], "lim": fmt(r["budget"], "g"),
               short(system): fmt(r[system], ".5g")}
        for key in [k for k in r if k.startswith("ag:")]:
            row[short(key)] = fmt(r[key], ".5g")
            row[f"vs {short(key)} %"] = fmt(100 * r[f"gain:{key}"] if r.get(f"gain:{key}") is not None else None,
                                            "+.3f")
        out.append(row)
    return pd.DataFrame(out)


# ---------------------------------------------------------------- the production targets

def fmt(value: Any, spec: str = ".4g", none: str = "-") -> str:
    value = number(value)
    return none if value is None else format(value, spec)


def yes_no(value: Any) -> str:
    return "-" if value is None else ("y" if value else "n")


def plan_text(data: Any) -> str:
    pieces = (data or {}).get("pieces") or []
    return " ".join(f"{short(p.get('name'))} {fmt(p.get('planned_s'), '.0f')}/{fmt(p.get('actual_s'), '.0f')}"
                    for p in pieces) or "-"


def short(name: Any, width: int = 10) -> str:
    name = str(name) if name is not None else "?"
    return ABBREVIATIONS.get(name, name[:width].strip())


def run_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """podium's runs: the production model and the plan, one row per run."""
    rows = []
    for r in records:
        size = number(r.get("prod_size_bytes"))
        rows.append({
            "task": short(r.get("task")), "s": r.get("seed"), "lim": fmt(r.get("budget"), "g"),
            "podium": fmt(r.get("podium_score"), ".5g"),
            "fam": short(r.get("prod_family"), 9) if r.get("prod_family") else "-",
            "KB": fmt(size / 1024 if size is not None else None, ".0f"),
            "p50/p99": f"{ms(r.get('prod_p50_ms'))}/{ms(r.get('prod_p99_ms'))}",
            "inB": yes_no(r.get("prod_within_budget")),
            "gu%": fmt(100 * r["given_up_norm"] if number(r.get("given_up_norm")) is not None else None, ".2f"),
            "gu% hid": fmt(100 * r["given_up_hidden"] if number(r.get("given_up_hidden")) is not None else None,
                           ".2f"),
            "lbm": yes_no(r.get("lb_latency_measured")),
            "1st": fmt(r.get("first_submission_s"), ".0f"),
            "w/l": fmt(r.get("wall_over_limit"), ".2f"),
            "rc": "-" if r.get("podium_exit_code") is None else str(r.get("podium_exit_code")),
            "plan": plan_text(r.get("plan")),
        })
    return pd.DataFrame(rows)


def ms(value: Any) -> str:
    value = number(value)
    return "-" if value is None else f"{value:.2f}" if value < 10 else f"{value:.0f}"


def markdown(frame: pd.DataFrame) -> str:
    cells = [[str(c) for c in frame.columns]] + [[str(v).replace("|", "\\|") for v in row] for row in frame.values]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in frame.columns) + "|")
    return "\n".join(lines)


def production_summary(records: list[dict[str, Any]]) -> list[str]:
    """Per budget, each target of a whole run: how many runs meet it, and which miss."""
    lines = []
    for budget in sorted({r.get("budget") for r in records}, key=lambda b: number(b) or 0):
        group = [r for r in records if r.get("budget") == budget]
        n = len(group)
        gu = [number(r.get("given_up_norm")) for r in group]
        within_1 = sum(g is not None and g <= 0.01 for g in gu)
        within_3, tail_3 = meeting(group, lambda r: at_most(r.get("given_up_norm"), 0.03),
                                   lambda r: fmt(100 * r["given_up_norm"], ".2f") + "%"
                                   if number(r.get("given_up_norm")) is not None else "none")
        budget_ok, tail_b = meeting(group, lambda r: r.get("prod_within_budget") is True,
                                    lambda r: "no model" if r.get("prod_within_budget") is None else "")
        measured, tail_m = meeting(group, lambda r: bool(r.get("lb_latency_measured")))
        early, tail_e = meeting(group, lambda r: at_most(r.get("first_submission_s"), 60),
                                lambda r: fmt(r.get("first_submission_s"), ".1f", "none"))
        wall, tail_w = meeting(group, lambda r: at_most(r.get("wall_over_limit"), 1.1),
                               lambda r: fmt(r.get("wall_over_limit"), ".2f") + "x")
        lines += [
            f"budget {fmt(budget, 'g')} s, {n} run{'s' if n != 1 else ''}:",
            f"  production gives up <= 1%: {within_1}/{n}, <= 3% on every run: {within_3}/{n} "
            f"{ok(within_3, n)}{tail_3}",
            f"  shipped model within budgets on every run: {budget_ok}/{n} {ok(budget_ok, n)}{tail_b}",
            f"  leaderboard model measured on every run: {measured}/{n} {ok(measured, n)}{tail_m}",
            f"  first submission <= 60 s on every run: {early}/{n} {ok(early, n)}{tail_e}",
            f"  wall <= 1.1x limit on every run: {wall}/{n} {ok(wall, n)}{tail_w}",
        ]
    return lines


def at_most(value: Any, limit: float) -> bool:
    value = number(value)
    return value is not None and value <= limit


def meeting(group: list[dict[str, Any]], test, detail=None) -> tuple[int, str]:
    """How many records pass `test`, and ' (miss: task/seed detail, ...)' for the others."""
    misses = [r for r in group if not test(r)]
    if not misses:
        return len(group), ""
    names = [f"{short(r.get('task'))}/{r.get('seed')}" + (f" {detail(r)}".rstrip() if detail else "")
             for r in misses]
    return len(group) - len(misses), " (miss: " + ", ".join(names) + ")"


def ok(met: int, n: int) -> str:
    return "ok" if met == n else "NOT MET"


def validation_gap(oof: float | None, hidden: float | None) -> float | None:
    """How far the out-of-fold estimate was from the hidden score, relative to it."""
    if oof is None or hidden is None or hidden == 0:
        return None
    return abs(oof - hidden) / abs(hidden)


def validation_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Per podium run that recorded its split: the split, the blend's OOF score, the hidden score, the gap."""
    rows = [{"task": r.get("task"), "seed": r.get("seed"), "budget": r.get("budget"), "system": system_of(r),
             "split": r.get("split"), "oof": r.get("lb_oof"), "hidden": score_of(r),
             "gap %": None if (gap := validation_gap(r.get("lb_oof"), score_of(r))) is None else round(100 * gap, 2)}
            for r in records if r.get("split")]
    return pd.DataFrame(rows)


def show(path: Path, as_markdown: bool, every: bool, tie: float, system: str = PODIUM) -> None:
    """Print the leaderboard comparison and the production table of the records at `path`."""
    if not Path(path).is_file():
        raise SystemExit(f"no records at {path}")
    records = load_records(path)
    if not records:
        raise SystemExit(f"no records in {path}")
    commits = sorted({(r.get("git_commit") or "?")[:8] + ("+dirty" if r.get("git_dirty") else "")
                      for r in records if system_of(r).startswith(PODIUM)})
    print(f"{len(records)} system runs from {path} (podium at commits {', '.join(commits)})\n")
    spreads = noise(records)
    if spreads:
        values = sorted(s for _, _, s in spreads)
        print(f"run-to-run noise, {len(values)} repeats: median {100 * statistics.median(values):.3f}%, "
              f"largest {100 * values[-1]:.3f}% (" + ", ".join(f"{short(sys_)} {short(t)} {100 * s:.3f}%"
                                                          for sys_, t, s in spreads) + ")\n")
    frame = comparison_table(records, system)
    render = markdown if as_markdown else (lambda f: f.to_string(index=False))
    print(render(frame))
    print()
    print("\n".join(comparison(records, tie, system)))
    gaps = validation_table([r for r in records if system_of(r).startswith(PODIUM)])
    if not gaps.empty:
        print("\nvalidation gap |OOF - hidden| / |hidden| of every podium run (a split the run mirrored, or not):")
        print(render(gaps))
    podium_runs = [r for r in (records if every else latest(records).values()) if system_of(r) == system]
    if podium_runs:
        print()
        print(render(run_table(podium_runs)))
        print()
        print("\n".join(textwrap.fill(line, 120, subsequent_indent=" " * 6, break_on_hyphens=False)
                        for line in production_summary(podium_runs)))
