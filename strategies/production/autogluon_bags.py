"""AutoGluon's own level-1 LightGBM bags, served as fold bags without AutoGluon.

AutoGluon fits every bagged model once per fold of the run's folds and has already scored it out of fold; its
best LightGBM bag is often within a fraction of a percent of the whole stack (docs/production.md). Each child
is a plain LightGBM booster reading AutoGluon's features; where those are the raw columns, podium's encoder
reproduces them (strategies/production/autogluon_features.py) and the children are served as one blend, like the
study's fold bags (strategies/production/fold_bag.py). A bag reading features AutoGluon derived is refused with
the reason, and so is one whose test predictions, served from raw rows, differ from AutoGluon's own.

A bag of 8 large boosters can exceed the budgets that one of them fits (a multiclass bag of 2,700 trees: 28 MB,
7.6 ms a row). It is then also served thinned: as many of its fold models as the budgets hold, those fitted on
the most rows first. So is a bag measured inside the latency budget but near its edge (EDGE): re-measured on a
busy moment it may miss, and the thinned one leaves room. Its bag's out-of-fold score stays its score: each
row's out-of-fold prediction came from one fold model, so it is exact for one and understates an average of
several.
"""

from __future__ import annotations

import gzip
import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from agent.columns import autogluon_name, with_encoded_names
from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.deadline import Deadline
from agent.runtime.blend import BlendRuntime
from agent.runtime.encoder import Encoder
from agent.runtime.runtimes import LightGBMRuntime
from agent.runtime.schema import Schema
from strategies.base import Candidate
from strategies.production.autogluon_features import AutoGluonFeatures, Unservable, keys_in_order
from strategies.production.candidate import FAILED, MB, SKIPPED, Budgets, ProductionCandidate
from strategies.production.fold_bag import UNSEEN, check_served, checked_rows
from strategies.production.gbm import link_for
from strategies.production.measure import package
from strategies.production.problem import Problem, serving_rows

log = logging.getLogger("podium.production")
FAMILY = "autogluon-bag"
MOST_BAGS = 2
MEASURE_SECONDS = 2.0  # cap on one bag's single-row timing: a large bag (16 boosters of 1,000s of trees) takes ms a row
THINNING_TRIES = 3  # thinned bags measured at most, each fewer fold models than the last
EDGE = 0.8  # a bag measured inside the latency budget but above this share of it is also served thinned to this share


def autogluon_bag_candidates(competition: Competition, dataset: Dataset, problem: Problem,
                             leaderboard: list[Candidate], predictor, features: AutoGluonFeatures, work: Path,
                             calls: int, deadline: Deadline,
                             budgets: Budgets | None = None) -> list[ProductionCandidate]:
    """Candidates for each of the best level-1 LightGBM bags of the leaderboard's AutoGluon fit (MOST_BAGS);
    with `budgets`, a bag outside them is also served thinned (`thinned`)."""
    served = servable_bags(leaderboard, predictor)
    served.sort(key=lambda c: -competition.metric.signed(c.score))
    out: list[ProductionCandidate] = []
    pace = Pace()
    for rank, parent in enumerate(served[:MOST_BAGS]):
        if deadline.passed():
            break
        try:
            out += _bag(competition, dataset, problem, predictor, features, parent, work, calls, budgets, deadline,
                        pace, thin=rank == 0)
        except Exception as error:  # noqa: BLE001 - a bag that cannot be served is one candidate less
            log.info("AutoGluon's %s is not served as a fold bag: %s", parent.model, error)
            out.append(ProductionCandidate(f"{FAMILY}/{parent.model}", FAMILY, status=FAILED,
                                           note=f"{type(error).__name__}: {error}"))
    return out


def servable_bags(leaderboard: list[Candidate], predictor) -> list[Candidate]:
    """The leaderboard's level-1 AutoGluon bags of a type served here."""
    return [c for c in leaderboard if c.strategy == "autogluon" and getattr(c, "level", 0) == 1
            and c.model and servable_type(predictor, c.model)]


def servable_type(predictor, model: str) -> bool:
    """Exactly AutoGluon's LightGBM (or podium's log-target one) in a bag: a subclass may transform its input."""
    from autogluon.core.models import BaggedEnsembleModel
    from autogluon.tabular.models import LGBModel

    from strategies.target_transform import LogTargetLGBModel

    trainer = predictor._trainer
    if not issubclass(trainer.get_model_attribute(model, "type"), BaggedEnsembleModel):
        return False
    return trainer.get_model_attribute(model, "type_inner", default=None) in (LGBModel, LogTargetLGBModel)


class Pace:
    """Seconds a bag took to serve per byte of its fold models' text, from the bags served so far: a bag of
    thousands of trees takes seconds to check, write and time, which a short run's last seconds may not hold."""

    def __init__(self):
        self.seconds = self.text_bytes = 0.0

    def add(self, seconds: float, text_bytes: int) -> None:
        self.seconds, self.text_bytes = self.seconds + seconds, self.text_bytes + text_bytes

    def expected(self, text_bytes: int) -> float | None:
        return self.seconds * text_bytes / self.text_bytes if self.text_bytes else None


def _bag(competition: Competition, dataset: Dataset, problem: Problem, predictor, features: AutoGluonFeatures,
         parent: Candidate, work: Path, calls: int, budgets: Budgets | None, deadline: Deadline,
         pace: Pace | None = None, thin: bool = True) -> list[ProductionCandidate]:
    """The whole bag, then, outside `budgets` or at their latency edge, thinned. A bag whose fold models' bytes
    on disk (their text, as compressible as the first one's) are already over the size budget is not written and
    timed whole (seconds for a bag of 28 MB, which a short run's last seconds lack): it is recorded skipped and
    served thinned only.
    A bag that the bags before it (`pace`) say would not be served before `deadline` is not started. Only the
    best bag is thinned (`thin`): thinning takes seconds the students need at the end of a short run."""
    from strategies.target_transform import LogTargetLGBModel

    started = time.monotonic()
    bag = predictor._trainer.load_model(parent.model)
    children = [bag.load_child(name) for name in bag.models]
    names = list(children[0].features)
    if any(list(child.features) != names for child in children):
        raise Unservable("its fold models read different features")
    texts = [child.model.model_to_string() for child in children]
    text_bytes = sum(map(len, texts))
    expected = pace.expected(text_bytes) if pace is not None else None
    if expected is not None and expected > deadline.remaining():
        return [ProductionCandidate(f"{FAMILY}/{parent.model}", FAMILY, status=SKIPPED,
                                    note=f"serving it would take about {expected:.0f} s (its trees' text is "
                                         f"{text_bytes / MB:.0f} MB); {max(0.0, deadline.remaining()):.0f} s left")]
    schema, encoder = _encoding(competition, problem, dataset, features, names, children[0].model)
    log_target = isinstance(children[0], LogTargetLGBModel)
    members = [LightGBMRuntime.from_text(text, link_for(problem), [0.0], log_target) for text in texts]
    _check_agreement(BlendRuntime(members, [1.0] * len(members)), encoder, dataset, predictor, parent, competition)
    oof = np.asarray(parent.oof, dtype=float)
    whole = ProductionCandidate(
        name=f"{FAMILY}/{parent.model}", family=FAMILY,
        params={"model": parent.model, "folds": len(members),
                "trees": sum(m.booster.num_trees() for m in members) // len(members),
                "fold_rows": [int(c.get_fit_metadata().get("num_samples") or 0) for c in children]},
        score=problem.score(oof), oof=oof, fit_seconds=parent.fit_seconds,
        score_source="out-of-fold: each training row predicted by the fold models of AutoGluon's bag that never "
                     "saw it (AutoGluon's own out-of-fold predictions, on the run's folds)")
    rows = serving_rows(dataset, schema, problem.seed)

    def serve(candidate: ProductionCandidate, kept: list[int]) -> ProductionCandidate:
        return package(problem, BlendRuntime([members[i] for i in kept], [1.0] * len(kept)), candidate, work, rows,
                       calls, max_seconds=MEASURE_SECONDS, schema=schema, encoder=encoder)

    # fold models differ in trees (each stops early on its own), not in how well their text compresses
    ratio = len(gzip.compress(texts[0].encode(), compresslevel=9, mtime=0)) / max(1, len(texts[0]))  # as saved
    bag_bytes = int(ratio * text_bytes)
    if budgets is None or bag_bytes <= budgets.size_bytes:
        out = [serve(whole, list(range(len(members))))]
        target = thinning_budgets(out[0], budgets) if budgets is not None and out[0].measured else None
        if target is None or not thin:
            if pace is not None:
                pace.add(time.monotonic() - started, text_bytes)
            return out
        budgets = target
        count = _count(out[0], len(members), budgets)
        measured = (len(members), out[0].latency.p99_ms)
    else:
        measured = None
        out = [replace(whole, status=SKIPPED, oof=None,
                       note=f"its {len(members)} fold models would take about {bag_bytes / MB:.1f} MB, over the "
                            f"size budget" + (": served thinned" if thin else ""))]
        if not thin:
            return out
        count = min(len(members) - 1, len(members) * budgets.size_bytes // bag_bytes)
    out += thinned(whole, count, budgets, deadline, serve, measured)
    if pace is not None:
        pace.add(time.monotonic() - started, text_bytes)
    log.info("AutoGluon's %s served in %.1f s: %s", parent.model, time.monotonic() - started,
             ", ".join(f"{c.name.rsplit('/', 1)[-1]} {c.status}" for c in out))
    return out


def thinning_budgets(whole: ProductionCandidate, budgets: Budgets) -> Budgets | None:
    """The budgets a thinned variant of the measured bag `whole` must fit: the budgets when it is outside them,
    EDGE of the latency budget when it fits near its edge (one measured 0.975 ms of 1 ms in the search, then 1.33
    and 1.84 ms on re-measurement, and was refused); None when it fits with room."""
    if not whole.fits(budgets):
        return budgets
    if whole.latency.p99_ms > EDGE * budgets.latency_ms:
        return replace(budgets, latency_ms=EDGE * budgets.latency_ms)
    return None


def _count(latest: ProductionCandidate, count: int, budgets: Budgets,
           before: tuple[int, float] | None = None) -> int:
    """Fewer fold models than `count`, scaled from `latest`'s measured latency and size against the budgets. With
    the latency of another count measured (`before`: count, p99), the latency is a fixed cost (deriving and
    encoding the row) plus a cost per fold model, both read from the two measurements."""
    share = min(budgets.latency_ms / latest.latency.p99_ms, budgets.size_bytes / latest.size_bytes)
    fitting = int(count * share)
    if before is not None and before[0] != count:
        per_fold = (before[1] - latest.latency.p99_ms) / (before[0] - count)
        if per_fold > 0:
            fixed = latest.latency.p99_ms - per_fold * count
            by_size = int(count * budgets.size_bytes / latest.size_bytes)
            fitting = min(by_size, int((budgets.latency_ms - fixed) / per_fold))
    return min(count - 1, fitting)


def thinned(whole: ProductionCandidate, count: int, budgets: Budgets, deadline: Deadline,
            serve, measured: tuple[int, float] | None = None) -> list[ProductionCandidate]:
    """`whole` (outside `budgets`) served with `count` of its fold models, those fitted on the most rows first,
    and fewer again (scaled from the last two measured: `measured` is the whole bag's count and p99, if it was)
    while that is still outside (THINNING_TRIES)."""
    folds = len(whole.params["fold_rows"])
    order = np.argsort(-np.asarray(whole.params["fold_rows"]), kind="stable")
    out: list[ProductionCandidate] = []
    per_fold = 0.0  # seconds the last thinned bag took to serve, per fold model
    for _ in range(THINNING_TRIES):
        if count < 1 or deadline.passed() or per_fold * count > deadline.remaining():
            break
        started = time.monotonic()
        kept = sorted(order[:count].tolist())
        candidate = ProductionCandidate(
            name=f"{whole.name}-{count}of{folds}", family=FAMILY,
            params={**whole.params, "folds": count, "kept_folds": kept,
                    "fold_rows": [whole.params["fold_rows"][i] for i in kept]},
            score=whole.score, oof=whole.oof, fit_seconds=whole.fit_seconds * count / folds,
            score_source=f"out-of-fold score of its bag: each row's prediction came from one fold model, so it is "
                         f"exact for one fold model and understates an average of {count}" if count > 1 else
                         "out-of-fold score of its bag: each row's prediction came from a fold model like this one, "
                         "fitted on the other folds")
        out.append(serve(candidate, kept))
        per_fold = (time.monotonic() - started) / count
        if not out[-1].measured or out[-1].fits(budgets):
            break
        count, measured = _count(out[-1], count, budgets, measured), (count, out[-1].latency.p99_ms)
    return out


def _encoding(competition: Competition, problem: Problem, dataset: Dataset, features: AutoGluonFeatures,
              names: list[str], booster) -> tuple[Schema, Encoder]:
    """A booster codes a category by its position in its own category order (`pandas_categorical`)."""
    if booster.num_feature() != len(names):
        raise Unservable(f"its boosters read {booster.num_feature()} features, its model lists {len(names)}")
    categorical = [f for f in names if f in features.sample.columns and features.is_categorical(f)]
    orders = booster.pandas_categorical or []
    if len(orders) != len(categorical):
        raise Unservable(f"its boosters list {len(orders)} category orders for {len(categorical)} categorical "
                         "features")
    by_feature = dict(zip(categorical, orders, strict=True))
    return features.encoding(competition, problem, dataset, names,
                             lambda f: (keys_in_order(features, f, by_feature[f]), UNSEEN))


def _check_agreement(runtime: BlendRuntime, encoder: Encoder, dataset: Dataset, predictor, parent: Candidate,
                     competition: Competition) -> None:
    """The bag, served from raw rows, must predict the test set as AutoGluon's bag does."""
    from strategies.autogluon_predict import as_prediction, predict_multi

    if len(dataset.X_test) == 0:
        return
    rows = checked_rows(dataset.X_test)
    X_test = dataset.X_test.iloc[rows]
    if parent.test is not None:
        expected = np.asarray(parent.test)[rows]
    else:
        frames = predict_multi(predictor, with_encoded_names(X_test, autogluon_name), [parent.model])
        expected = as_prediction(frames[parent.model], competition)
    check_served(runtime, encoder, X_test, expected, what="the bag", against="AutoGluon's bag",
                 error=Unservable)
