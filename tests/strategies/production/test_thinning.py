"""strategies/production/autogluon_bags.py: how many fold models a thinned bag keeps, from its measurements."""

from __future__ import annotations

from agent.runtime.latency import LatencyReport
from strategies.production.autogluon_bags import EDGE, _count, thinning_budgets
from strategies.production.candidate import MEASURED, Budgets, ProductionCandidate


def measured(p99_ms: float, size_bytes: int) -> ProductionCandidate:
    latency = LatencyReport(p50_ms=p99_ms / 2, p99_ms=p99_ms, mean_ms=p99_ms / 2, calls=100, batch_size=1000,
                            throughput_rows_s=1e4, cpu_seconds_per_million=1.0, cpu_seconds_per_million_single=1.0)
    return ProductionCandidate("autogluon-bag/b", "autogluon-bag", status=MEASURED, latency=latency,
                               size_bytes=size_bytes)


def test_one_measurement_scales_the_count_in_proportion():
    budgets = Budgets(1.0, 10**9)
    assert _count(measured(1.6, 1000), 8, budgets) == 5  # 8 x 1/1.6
    assert _count(measured(1.05, 1000), 8, budgets) == 7  # never the same count again


def test_two_measurements_separate_the_fixed_cost_from_the_cost_per_fold_model():
    """A row's deriving and encoding costs the same whatever the count: 0.47 ms here, 0.1375 ms a fold model.
    In proportion 5 x 1/1.1575 gives 4 (1.02 ms: over); the two measurements give 3 (0.88 ms)."""
    budgets = Budgets(1.0, 10**9)
    latest = measured(0.47 + 5 * 0.1375, 1000)
    assert _count(latest, 5, budgets) == 4
    assert _count(latest, 5, budgets, before=(8, 0.47 + 8 * 0.1375)) == 3
    # the size still binds: 5 fold models take 1,000 bytes, the budget holds 400
    assert _count(latest, 5, Budgets(1.0, 400), before=(8, 0.47 + 8 * 0.1375)) == 2
    # measurements that do not fall with the count (noise) fall back to the proportion
    assert _count(latest, 5, budgets, before=(8, 0.5)) == 4


def test_a_bag_is_thinned_when_it_misses_or_fits_only_at_the_edge_of_the_latency_budget():
    budgets = Budgets(1.0, 1000)
    assert thinning_budgets(measured(1.6, 500), budgets) == budgets  # outside: thinned to the budgets
    assert thinning_budgets(measured(0.5, 2000), budgets) == budgets  # outside by size
    assert thinning_budgets(measured(0.7, 500), budgets) is None  # fits with room: served whole only
    edge = thinning_budgets(measured(0.975, 500), budgets)  # fits, but a busy moment would refuse it
    assert edge == Budgets(EDGE, 1000)
    assert _count(measured(0.975, 500), 8, edge) == 6  # 8 x 0.8 / 0.975
