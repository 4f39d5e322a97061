"""The production search: the most accurate model that fits a latency and a size budget, exported with a card.

    result = build_production_model(competition, dataset, leaderboard_candidates, ensemble.oof, ensemble.score,
                                     run.file("production"), settings, executor=executor,
                                     autogluon_path=run.file("models"), time_budget_s=120,
                                     leaderboard_test=ensemble.test)

Serving lives in agent/runtime (`load_model`), which never imports this package.

Imported by the run and retrain (through strategies/registry.py); imports what strategies/ may.
"""

from strategies.production.build import ProductionResult, ProductionSearch, build_production_model
from strategies.production.candidate import Budgets, ProductionCandidate

__all__ = ["Budgets", "ProductionCandidate", "ProductionResult", "ProductionSearch", "build_production_model"]
