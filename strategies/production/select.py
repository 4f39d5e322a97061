"""Selection: the best validation score among candidates inside every budget, or a clear BudgetError."""

from __future__ import annotations

import math

from agent.competition.metrics import Metric
from agent.errors import BudgetError
from strategies.production.candidate import Budgets, ProductionCandidate

NEAREST = 3


def frontier(candidates: list[ProductionCandidate], metric: Metric) -> list[ProductionCandidate]:
    """Measured candidates no other beats on score, p99 latency and size at once, cheapest first."""
    measured = [c for c in candidates if c.measured and not math.isnan(c.score)]

    def dominates(a: ProductionCandidate, b: ProductionCandidate) -> bool:
        no_worse = (metric.signed(a.score) >= metric.signed(b.score) and a.latency.p99_ms <= b.latency.p99_ms
                    and a.size_bytes <= b.size_bytes)
        better = (metric.signed(a.score) > metric.signed(b.score) or a.latency.p99_ms < b.latency.p99_ms
                  or a.size_bytes < b.size_bytes)
        return no_worse and better

    front = [c for c in measured if not any(dominates(o, c) for o in measured if o is not c)]
    return sorted(front, key=lambda c: c.latency.p99_ms)


def ranked_within_budgets(candidates: list[ProductionCandidate], budgets: Budgets,
                           metric: Metric) -> list[ProductionCandidate]:
    """Measured candidates inside every budget, best score first (ties: the faster)."""
    fitting = [c for c in candidates if c.measured and not math.isnan(c.score) and c.fits(budgets)]
    return sorted(fitting, key=lambda c: (-metric.signed(c.score), c.latency.p99_ms))


def choose(candidates: list[ProductionCandidate], budgets: Budgets, metric: Metric) -> ProductionCandidate:
    """Best score within budgets (ties: the faster); BudgetError naming the nearest frontier candidates."""
    fitting = ranked_within_budgets(candidates, budgets, metric)
    if fitting:
        return fitting[0]
    measured = [c for c in candidates if c.measured]
    front = sorted(frontier(candidates, metric), key=lambda c: c.excess(budgets))
    on_front = {id(c) for c in front}
    rest = sorted((c for c in measured if id(c) not in on_front), key=lambda c: c.excess(budgets))
    nearest = (front + rest)[:NEAREST]  # the frontier first, then whatever else came nearest
    listed = "; ".join(c.describe(metric.name) for c in nearest) or "none could be measured"
    raise BudgetError(
        f"No production candidate fits the budgets ({budgets.describe()}) among {len(measured)} measured; "
        f"nearest (frontier first): {listed}",
        where="production phase (the leaderboard submission is unaffected)",
        fix="raise --latency-ms / --size-mb (or production.latency_ms / size_mb in the config), drop the "
        "throughput budget, or give the production phase more time")


SCALES = ((0.5, 1.0), (2.0, 1.0), (4.0, 1.0), (1.0, 0.5), (1.0, 2.0))  # (latency, size) budget multipliers
FRONTIER_POINTS = 8


def budget_value(candidates: list[ProductionCandidate], chosen: ProductionCandidate, budgets: Budgets,
                 metric: Metric) -> dict:
    """What the budgets bought, for the card: each family's frontier (score against p99 latency and size), and
    the best candidate other budgets would have shipped, with its gain over the chosen model.

    Only measured candidates count: a richer model the search never tried is not on it, so a gain above the
    budgets is a lower bound of what more time or budget would buy."""
    def point(c: ProductionCandidate, **extra) -> dict:
        return {"name": c.name, "family": c.family, "score": c.score, "p99_ms": c.latency.p99_ms,
                "size_bytes": c.size_bytes, **extra}

    families = sorted({c.family for c in candidates if c.measured})
    front = {family: [point(c) for c in frontier([c for c in candidates if c.family == family], metric)
                      ][:FRONTIER_POINTS] for family in families}
    other = []
    for latency_scale, size_scale in SCALES:
        scaled = Budgets(budgets.latency_ms * latency_scale, int(budgets.size_bytes * size_scale), budgets.throughput)
        ranked = ranked_within_budgets(candidates, scaled, metric)
        limits = {"latency_ms_budget": scaled.latency_ms, "size_bytes_budget": scaled.size_bytes}
        if not ranked:
            other.append({"name": None, "score": None, "p99_ms": None, "size_bytes": None, **limits})
            continue
        best = ranked[0]
        other.append(point(best, gain=metric.signed(best.score) - metric.signed(chosen.score), **limits))
    return {"frontier": front, "other_budgets": other,
            "explained": "frontier: per family, the measured candidates no other of the family beats on score, "
                         "p99 latency and size at once, cheapest first; other_budgets: the best measured candidate "
                         "within half, twice and four times the latency budget and half and twice the size budget, "
                         "and its gain over the chosen model on a higher-is-better scale (positive: better). Only "
                         "measured candidates count, so a gain above the budgets is a lower bound."}
