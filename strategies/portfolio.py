"""AutoGluon portfolios merged into one: the model configurations of several, fitted in one stack.

AutoGluon 1.6.3 ships two CPU portfolios of best quality that win on different tasks: `zeroshot` (the
`best_quality` preset: LightGBM, CatBoost, XGBoost, random forests and extra trees, chosen to be stacked) and
`zeroshot_2025_12_18_cpu` (`best_quality_v150`: CatBoost and LightGBM, half of them TabPrep-LightGBM with
arithmetic, categorical-pair and out-of-fold target-encoding features, chosen for one level). A merged
portfolio takes each one's configurations in its own order of priority and deals them out in turn, so
whatever the time limit lets AutoGluon fit holds the best of each; the blend then chooses between them on the
run's folds. Which portfolios a fit merges depends on whether AutoGluon stacks (`stack_levels`): each
portfolio where it was built to run (docs/leaderboard.md).
"""

from __future__ import annotations

import copy
import json
from typing import Any

# AutoGluon's name for each preset's portfolio, so a setting may name either.
PRESET_PORTFOLIOS = {"best_quality": "zeroshot", "best_quality_v150": "zeroshot_2025_12_18_cpu"}
NAME_KEYS = ("name_suffix", "name_prefix", "priority", "name")  # ag_args that name or order a model, not fit it


def portfolio(name: str) -> dict[str, list[dict[str, Any]]]:
    """One AutoGluon portfolio by its name or its preset's name: {model type: [configuration, ...]}."""
    from autogluon.tabular.configs.hyperparameter_configs import get_hyperparameter_config

    config = get_hyperparameter_config(PRESET_PORTFOLIOS.get(name, name))
    return {kind: [dict(c) for c in (configs if isinstance(configs, list) else [configs])]
            for kind, configs in config.items()}


def ranked(configs: dict[str, list[dict[str, Any]]], problem_type: str,
           excluded: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """(model type, configuration) in the order AutoGluon would fit them: highest priority first, ties in
    listing order; types in `excluded` and configurations meant for other problem types left out."""
    from autogluon.tabular.registry import ag_model_registry

    entries = []
    for kind, items in configs.items():
        if kind in excluded:
            continue
        default = ag_model_registry.key_to_cls(kind).ag_priority if kind in ag_model_registry.keys else 0
        for item in items:
            args = item.get("ag_args", {})
            if problem_type not in args.get("problem_types", [problem_type]):
                continue
            entries.append((-float(args.get("priority", default)), len(entries), kind, item))
    return [(kind, item) for _, _, kind, item in sorted(entries, key=lambda e: e[:2])]


def merge(names: list[str], problem_type: str, excluded: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The portfolios in `names` dealt out in turn (the first's best, the second's best, the first's second...),
    a configuration that fits like one already dealt left out, each given the priority of its place."""
    queues = [ranked(portfolio(name), problem_type, set(excluded or [])) for name in names]
    merged: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    names_taken: set[tuple[str, str]] = set()
    place = 0
    for depth in range(max((len(q) for q in queues), default=0)):
        for source, queue in enumerate(queues):
            if depth >= len(queue):
                continue
            kind, item = queue[depth]
            key = _fit_key(kind, item)
            if key in seen:
                continue
            seen.add(key)
            item = copy.deepcopy(item)
            args = item.setdefault("ag_args", {})
            suffix = args.get("name_suffix", "")
            if (kind, suffix) in names_taken:  # two portfolios may reuse a suffix for the same model type
                suffix = f"{suffix}_p{source + 1}"
                args["name_suffix"] = suffix
            names_taken.add((kind, suffix))
            args["priority"] = -place
            merged.setdefault(kind, []).append(item)
            place += 1
    return merged


def _fit_key(kind: str, item: dict[str, Any]) -> str:
    """What a configuration fits, without what only names or orders it."""
    args = {k: v for k, v in item.get("ag_args", {}).items() if k not in NAME_KEYS}
    rest = {k: v for k, v in item.items() if k != "ag_args"}
    return json.dumps([kind, rest, args], sort_keys=True, default=str)


def stack_levels(problem_type: str, train_rows: int, folds: int, configured: int | None) -> int:
    """The stack levels of a bagged fit without dynamic stacking: `configured`, or AutoGluon's own rule (one
    level for multiclass and regression from 750 rows, none for binary), asked of AutoGluon itself."""
    if configured is not None:
        return configured
    from autogluon.tabular.configs.pipeline_presets import get_validation_and_stacking_method

    decided = get_validation_and_stacking_method(
        num_bag_folds=folds, num_bag_sets=1, use_bag_holdout=False, holdout_frac=None, auto_stack=True,
        num_stack_levels=None, dynamic_stacking=False, refit_full=False, num_train_rows=train_rows,
        problem_type=problem_type, hpo_enabled=False, n_samples_minority_class=None)
    return int(decided[2])


def size(configs: dict[str, list[dict[str, Any]]]) -> int:
    return sum(len(items) for items in configs.values())
