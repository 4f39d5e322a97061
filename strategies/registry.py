"""The searches a run may ask for, by name: the run reaches a search only through the contract of
strategies/base.py (`Strategy.search`, or `TwoPhaseSearch` for the production model), never its class.

Classes are named, not imported, as the runtimes are (agent/runtime/runtimes.py): asking for one search does
not import the libraries of the others.
"""

from __future__ import annotations

import importlib
from typing import Any

STRATEGIES: dict[str, str] = {
    "autogluon": "strategies.autogluon:AutoGluonStrategy",  # AutoGluon bagged on the run's folds
    "optuna": "strategies.optuna_search:OptunaStudies",  # one Optuna study per learner, side by side
    "production": "strategies.production.build:ProductionSearch",  # the production model (two phases)
}


def make_strategy(name: str, *args: Any, **options: Any):
    """The search called `name`, built with `options`."""
    if name not in STRATEGIES:
        raise ValueError(f"Unknown search {name!r}: podium knows {', '.join(sorted(STRATEGIES))}")
    module, cls = STRATEGIES[name].split(":")
    return getattr(importlib.import_module(module), cls)(*args, **options)
