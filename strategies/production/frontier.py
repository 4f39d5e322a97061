"""frontier.png: validation score against single-row latency for every candidate; users would rather look."""

from __future__ import annotations

from pathlib import Path

from agent.atomic import write_with
from agent.competition.metrics import Metric
from strategies.production.candidate import MB, Budgets, ProductionCandidate

COLOURS = {"linear": "tab:gray", "lightgbm": "tab:blue", "distilled": "tab:green", "blend": "tab:purple",
           "fold-bag": "tab:brown", "autogluon-bag": "tab:olive", "catboost": "tab:pink", "autogluon": "tab:orange"}


def plot_frontier(path: Path, candidates: list[ProductionCandidate], chosen: ProductionCandidate | None,
                  budgets: Budgets, metric: Metric, leaderboard_score: float, title: str) -> Path:
    """Score vs p99 latency (log x), marker area by size, budget line, chosen and leaderboard marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [c for c in candidates if c.measured and c.score == c.score]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    for family, colour in COLOURS.items():
        group = [c for c in measured if c.family == family]
        if not group:
            continue
        ax.scatter([c.latency.p99_ms for c in group], [c.score for c in group],
                   s=[_area(c.size_bytes) for c in group], c=colour, alpha=0.55, edgecolors="k", linewidths=0.4,
                   label=family)
        for c in group:
            if c.size_bytes > budgets.size_bytes:  # over the size budget: crossed out
                ax.scatter([c.latency.p99_ms], [c.score], marker="x", c="red", s=25, linewidths=1)
    ax.axvline(budgets.latency_ms, color="red", linestyle="--", linewidth=1,
               label=f"latency budget {budgets.latency_ms:g} ms (size budget {budgets.size_bytes / MB:g} MB: "
               "red x = over)")
    ax.axhline(leaderboard_score, color="purple", linestyle=":", linewidth=1.2,
               label=f"leaderboard model {leaderboard_score:.5g}")
    for c in measured:
        if c.name.startswith("autogluon/best"):
            ax.annotate("AutoGluon best (as fitted)", (c.latency.p99_ms, c.score), textcoords="offset points",
                        xytext=(-8, 8), ha="right", fontsize=8, color="purple")
    if chosen is not None and chosen.measured:
        ax.scatter([chosen.latency.p99_ms], [chosen.score], marker="*", s=320, c="gold", edgecolors="k",
                   zorder=5, label=f"chosen: {chosen.name}")
    ax.set_xscale("log")
    ax.set_xlabel("p99 latency of one row, ms (log scale)")
    ax.set_ylabel(f"validation score: {metric.name} ({'higher' if metric.greater_is_better else 'lower'} is better)")
    ax.set_title(title + "  (marker area: size on disk)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    try:
        return write_with(path, lambda handle: fig.savefig(handle, format="png"), binary=True)
    finally:
        plt.close(fig)


def _area(size_bytes: int) -> float:
    return 20 + 300 * min(1.0, (size_bytes / MB) ** 0.5 / 10)
