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
