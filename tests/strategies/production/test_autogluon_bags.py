"""Slow: AutoGluon's own level-1 models from a tiny real fit (two LightGBM bags, a CatBoost bag, a linear model),
served from raw rows without AutoGluon."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from agent.deadline import Deadline
from agent.runtime import load_model
from agent.runtime.catboost_runtime import CatBoostRuntime
from agent.runtime.onnx import onnx_exportable
from strategies.production import families
from strategies.production.candidate import FAILED, SKIPPED, Budgets
from strategies.production.problem import make_problem

pytestmark = pytest.mark.slow
BAG, CATBOOST = "autogluon-bag", "catboost"
TEXT = ["name", "ticket", "cabin", "home.dest"]  # titanic's free-text columns, from which AutoGluon derives features


def fit(corpus, folder):
    from strategies.autogluon import AutoGluonStrategy
    from strategies.base import Budget

    strategy = AutoGluonStrategy(folder / "ag", verbosity=0, fold_fitting="sequential_local",
                                 hyperparameters={"GBM": [{}, {"extra_trees": True, "ag_args": {"name_suffix": "XT"}}],
                                                  "CAT": {"iterations": 60}, "LR": {}})
    return strategy.search(corpus.competition, corpus.dataset, Budget(60, 1, 4.0)).candidates


def served(corpus, board, folder, work, deadline: float = 120):
    problem = make_problem(corpus.competition, corpus.dataset)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", work, 100)
    end = Deadline.after(deadline)
    return problem, level1.bags(end) + level1.catboost(end)


@pytest.fixture(scope="module", params=["titanic", "hpc"])
def fitted(request, tmp_path_factory):
    """A binary table with categories and two-valued columns (titanic without its free text), and a multiclass
    one with integer and categorical columns."""
    corpus = request.getfixturevalue(request.param)
    if request.param == "titanic":  # the deck: a category missing on most rows, which AutoGluon fills with ''
        data = corpus.dataset
        data = replace(data, X=data.X.drop(columns=TEXT).assign(deck=data.X["cabin"].str[0]),
                       X_test=data.X_test.drop(columns=TEXT).assign(deck=data.X_test["cabin"].str[0]))
        corpus = replace(corpus, dataset=data)
    folder = tmp_path_factory.mktemp(f"ag-level1-{request.param}")
    return corpus, fit(corpus, folder), folder


def test_each_lightgbm_bag_is_served_from_raw_rows_as_autogluon_predicts_it(fitted, tmp_path):
    corpus, board, folder = fitted
    problem, found = served(corpus, board, folder, tmp_path)
    bags = [c for c in found if c.family == BAG]
    assert len(bags) == 2 and all(b.measured for b in bags), [(b.name, b.note) for b in found]
    assert all("LightGBM" in b.name for b in bags)  # only LightGBM bags are served as bags
    parents = {f"{BAG}/{c.model}": c for c in board if c.strategy == "autogluon"}
    for bag in bags:
        parent = parents[bag.name]
        assert bag.score == pytest.approx(parent.score, rel=1e-9)  # AutoGluon's own out-of-fold score
        model = load_model(bag.folder)
        assert model.runtime.kind == "blend" and len(model.runtime.members) == problem.n_folds
        table = model.predict_raw(corpus.dataset.X_test)
        if parent.test is not None:
            np.testing.assert_allclose(table, parent.test, rtol=1e-6, atol=1e-9)
        one = model.predict_raw(corpus.dataset.X_test.head(1).to_dict("records")[0])
        np.testing.assert_allclose(one[0], table[0], rtol=1e-9)
    from agent.runtime.onnx import export_onnx  # checked against load_model on probe rows before it is written

    assert export_onnx(bags[0].folder, tmp_path / "bag.onnx").path.stat().st_size > 0


def test_a_bag_outside_the_budgets_is_also_served_thinned_to_the_fold_models_they_hold(fitted, tmp_path):
    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path, 100)
    end = Deadline.after(120)
    bag = level1.bags(end)[0]
    budgets = Budgets(latency_ms=1e3, size_bytes=int(0.6 * bag.size_bytes))  # about 60% of its fold models fit
    found = level1.bags(end, budgets)
    full = next(c for c in found if c.name == bag.name)
    thin = [c for c in found if c.name.startswith(f"{bag.name}-")]
    assert not full.fits(budgets) and thin and thin[-1].measured and thin[-1].fits(budgets)
    kept = thin[-1].params["kept_folds"]
    assert 1 <= len(kept) < problem.n_folds and thin[-1].name.endswith(f"-{len(kept)}of{problem.n_folds}")
    assert full.status == SKIPPED or full.measured  # skipped when its fold models' bytes alone are over the budget
    assert thin[-1].score == bag.score  # its bag's out-of-fold score: exact for one fold model, low for more
    assert ("understates" in thin[-1].score_source) == (len(kept) > 1)
    whole, served = load_model(bag.folder), load_model(thin[-1].folder)
    assert len(served.runtime.members) == len(kept)
    matrix, _ = whole.encoder.encode(whole.schema.derive(corpus.dataset.X_test))
    expected = np.mean([whole.runtime.members[i].raw(matrix) for i in kept], axis=0)
    np.testing.assert_allclose(served.predict_raw(corpus.dataset.X_test), expected, rtol=1e-9)
    roomy = level1.bags(end, Budgets(latency_ms=1e3, size_bytes=10**9))  # inside the budgets: no thinning
    assert [c.name for c in roomy] == [c.name for c in level1.bags(end)]
    import gzip

    parent = level1.predictor._trainer.load_model(bag.params["model"])
    texts = [parent.load_child(child).model.model_to_string() for child in parent.models]
    ratio = len(gzip.compress(texts[0].encode(), compresslevel=9, mtime=0)) / len(texts[0])
    over = level1.bags(end, Budgets(latency_ms=1e3, size_bytes=int(ratio * sum(map(len, texts))) - 1))
    assert over[0].name == bag.name and over[0].status == SKIPPED and "over the size budget" in over[0].note
    assert over[1].name == f"{bag.name}-{problem.n_folds - 1}of{problem.n_folds}"  # not written whole: thinned
    slow = level1.bags(end, Budgets(latency_ms=0.5 * bag.latency.p99_ms, size_bytes=10**9))
    assert slow[0].name == bag.name and slow[0].measured and not slow[0].fits(Budgets(0.5 * bag.latency.p99_ms, 10**9))
    assert any(c.name.startswith(f"{bag.name}-") for c in slow)  # timed whole, then thinned by its latency
    second = level1.bags(end)[1].name
    assert second in {c.name for c in slow} and not any(c.name.startswith(f"{second}-") for c in slow)  # best only


def test_a_blend_holding_autogluons_bag_serves_whole_models_each_encoding_the_raw_row(fitted, tmp_path):
    """The bag reads AutoGluon's encoding, the linear floor podium's: the blend averages the two whole models."""
    from agent.runtime.onnx import onnx_exportable
    from strategies.production import blend as blend_module
    from strategies.production.problem import serving_rows

    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    rows = serving_rows(corpus.dataset, problem.schema)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path, 100)
    bag = level1.bags(Deadline.after(120))[0]
    linear = families.linear_floor(problem, tmp_path, rows, 100)
    budgets = Budgets(latency_ms=1e3, size_bytes=10**9)
    assert {c.name for c in blend_module._pool(problem, [bag, linear], budgets)} == {bag.name, linear.name}
    chosen = blend_module.select([np.asarray(bag.oof), np.asarray(linear.oof)], problem.y, problem, [0.1, 0.1],
                                 [1, 1], budgets, 2)  # the greedy choice, whatever it makes of them
    blends = blend_module.blend_candidates(problem, [bag, linear], budgets, tmp_path, rows, 100, Deadline.after(60), 2)
    if len(chosen) < 2:
        assert blends == []  # one of them alone was the best blend
        return
    [blend] = blends  # within the roomy budgets: no second choice
    assert blend.measured and blend.score == problem.score(blend.oof)
    served = load_model(blend.folder)
    assert served.runtime.kind == "models" and [m.name for m in served.runtime.models] == [m.name for m in
                                                                                           blend.members]
    weights = blend.params["members"]
    expected = sum(weights[m.name] * load_model(m.folder).predict_raw(corpus.dataset.X_test) for m in blend.members)
    table = served.predict_raw(corpus.dataset.X_test)
    np.testing.assert_allclose(table, expected, rtol=1e-5)  # the card's weights are rounded to 6 digits
    one = served.predict_raw(corpus.dataset.X_test.head(1).to_dict("records")[0])
    np.testing.assert_allclose(one[0], table[0], rtol=1e-9)
    exportable, why = onnx_exportable(blend.folder)
    assert not exportable and "different encodings" in why


def test_whole_models_blend_as_their_weighted_mean_and_load_back(fitted, tmp_path):
    """The runtime alone, with fixed weights: AutoGluon's bag and the linear floor, saved, loaded, predicting."""
    from agent.runtime.models_blend import ModelsBlendRuntime
    from strategies.production.measure import package
    from strategies.production.problem import serving_rows

    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    rows = serving_rows(corpus.dataset, problem.schema)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path, 100)
    bag = level1.bags(Deadline.after(120))[0]
    linear = families.linear_floor(problem, tmp_path, rows, 100)
    models = [load_model(bag.folder), load_model(linear.folder)]
    blend = package(problem, ModelsBlendRuntime(models, [3.0, 1.0]),
                    replace(linear, name="blend/test", family="blend", folder=None, latency=None), tmp_path, rows, 100)
    assert blend.measured, blend.note
    served = load_model(blend.folder)
    X = corpus.dataset.X_test
    np.testing.assert_allclose(served.predict_raw(X), 0.75 * models[0].predict_raw(X) + 0.25 * models[1].predict_raw(X),
                               rtol=1e-9)
    assert blend.size_bytes >= bag.size_bytes + linear.size_bytes - 10_000  # both whole models, in model/m0, m1
    with pytest.raises(ValueError, match="one weight per model"):
        ModelsBlendRuntime(models, [1.0])
    # the same whole models combined by a logistic stacker: saved with it, loaded back, predicting with it
    from strategies.production.gbm import link_for
    from strategies.production.stacker import fit_stacker

    outputs = [m.predict_raw(corpus.dataset.X) for m in models]
    stacker = fit_stacker(outputs, problem.y, link_for(problem), problem.n_classes)
    stacked = package(problem, ModelsBlendRuntime(models, [3.0, 1.0], stacker),
                      replace(linear, name="blend/stacked", family="blend", folder=None, latency=None), tmp_path,
                      rows, 100)
    assert stacked.measured, stacked.note
    np.testing.assert_allclose(load_model(stacked.folder).predict_raw(X),
                               stacker.combine([m.predict_raw(X) for m in models]), rtol=1e-9)


def test_the_catboost_bag_is_refitted_and_served_from_raw_rows(fitted, tmp_path):
    corpus, board, folder = fitted
    _, found = served(corpus, board, folder, tmp_path)
    refit = next(c for c in found if c.family == CATBOOST)
    assert refit.measured, refit.note
    parent = next(c for c in board if c.model == refit.params["model"])
    assert refit.score == pytest.approx(parent.score, rel=1e-9) and "refit_full" in refit.score_source
    model = load_model(refit.folder)
    assert model.runtime.kind == "catboost"
    table = model.predict_raw(corpus.dataset.X_test)
    # served by CatBoost's exported formula, compiled, and to CatBoost's own numbers
    assert model.runtime.describe()["served_by"] == "compiled formula"
    matrix, _ = model.encoder.encode(corpus.dataset.X_test)
    by_catboost = CatBoostRuntime(model.runtime.model, model.runtime.link, model.runtime.categorical)
    np.testing.assert_allclose(table, by_catboost.raw(matrix), rtol=1e-9, atol=1e-12)
    rows = corpus.dataset.X_test.head(3).to_dict("records")
    np.testing.assert_allclose(np.vstack([model.predict_raw(r) for r in rows]).reshape(np.shape(table[:3])),
                               table[:3], rtol=1e-9)
    if parent.test is not None:  # one model on every row against the bag's average: close, not equal
        assert np.corrcoef(np.ravel(table), np.ravel(parent.test))[0, 1] > 0.8
    exportable, why = onnx_exportable(refit.folder)
    assert not exportable and "CatBoost" in why


def test_a_bag_that_predicts_otherwise_than_autogluon_is_refused_with_the_reason(fitted, tmp_path):
    corpus, board, folder = fitted
    parent = next(c for c in board if c.strategy == "autogluon" and (c.model or "").startswith("LightGBM"))
    test = parent.test if parent.test is not None else np.zeros(len(corpus.dataset.X_test))
    broken = type(parent)(**{**parent.__dict__, "test": np.roll(np.asarray(test), 1, axis=0) + 0.01})
    _, found = served(corpus, [broken], folder, tmp_path, deadline=60)
    assert found[0].status == FAILED and "differently from AutoGluon" in found[0].note


def test_models_reading_features_podium_does_not_recompute_are_refused_with_the_reason(titanic, tmp_path):
    """AutoGluon's text features are recomputed (test_autogluon_text.py); where its pipeline was configured in a
    way podium does not reproduce (n-grams per column, say), every model reading them is refused, saying why."""
    board = fit(titanic, tmp_path)
    problem = make_problem(titanic.competition, titanic.dataset)
    level1 = families.AutoGluonLevel1(titanic.competition, titanic.dataset, problem, board, tmp_path / "ag",
                                      tmp_path / "work", 100)
    level1.features.text, level1.features.text_refused = None, "its n-grams are counted per column"
    found = level1.bags(Deadline.after(60)) + level1.catboost(Deadline.after(60))
    assert {c.family for c in found} == {BAG, CATBOOST}
    assert all(c.status == FAILED and "features AutoGluon derived" in c.note and "name." in c.note
               and "counted per column" in c.note for c in found)


def test_the_catboost_bag_is_refitted_only_when_it_beats_every_candidate_so_far(fitted, tmp_path):
    """Else its fold model serves (no fitting: a blend may still use it), with no refit record."""
    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path, 100)
    assert level1.parent is not None and level1.parent.model.startswith("CatBoost")
    end = Deadline.after(600)
    metric = corpus.competition.metric
    better = replace(level1.bags(end)[0], score=level1.parent.score + (0.1 if metric.greater_is_better else -0.1))
    worse = replace(better, score=level1.parent.score - (0.1 if metric.greater_is_better else -0.1))
    assert [("-fold" in c.name, c.measured) for c in level1.catboost_served([better], end, end)] == [(True, True)]
    assert [(c.name.endswith("-refit"), c.measured) for c in level1.catboost_served([worse], end, end)] == \
        [(True, True)]


def test_without_time_for_the_refit_the_fold_model_on_the_most_rows_serves_as_it_is(fitted, tmp_path):
    """No fitting: the skipped refit is recorded, and the bag's own fold model serves, scored by its bag."""
    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path, 100)
    skipped, fold = level1.catboost_served([], Deadline.after(0.0), Deadline.after(120))
    assert skipped.status == SKIPPED and "its fold model serves" in skipped.note
    assert fold.measured, fold.note
    assert fold.score == pytest.approx(level1.parent.score, rel=1e-9) and "fold model like this one" in \
        fold.score_source
    bag = level1.predictor._trainer.load_model(level1.parent.model)
    rows = [bag.load_child(c).get_fit_metadata()["num_samples"] for c in bag.models]
    assert fold.params["rows"] == max(rows) < len(corpus.dataset.y)
    child = bag.load_child(fold.params["fold_model"])
    model = load_model(fold.folder)
    assert model.runtime.kind == "catboost" and model.runtime.model.tree_count_ == child.model.tree_count_
    table = model.predict_raw(corpus.dataset.X_test)
    one = model.predict_raw(corpus.dataset.X_test.head(1).to_dict("records")[0])
    np.testing.assert_allclose(one[0], table[0], rtol=1e-9)
    assert fold.fit_seconds == pytest.approx(level1.parent.fit_seconds / len(rows))
    assert [c.status for c in level1.catboost_served([], Deadline.after(0.0), Deadline.after(0.0))] == [SKIPPED]


def test_a_category_missing_on_most_rows_reads_as_autogluon_filled_it(fitted, tmp_path):
    corpus, board, folder = fitted
    if "deck" not in corpus.dataset.X.columns:
        pytest.skip("the titanic table carries the deck")
    _, found = served(corpus, board, folder, tmp_path)
    bag = next(c for c in found if c.family == BAG and c.measured)
    model = load_model(bag.folder)
    assert "deck" in model.encoder.missing_code  # AutoGluon's '' category, not LightGBM's missing
    rows = corpus.dataset.X_test[corpus.dataset.X_test["deck"].isna()].head(5).to_dict("records")
    table = model.predict_raw(corpus.dataset.X_test)
    missing = np.flatnonzero(corpus.dataset.X_test["deck"].isna().to_numpy())[:5]
    np.testing.assert_allclose(np.ravel([model.predict_raw(r) for r in rows]), table[missing], rtol=1e-9)


def test_without_catboost_no_refit_is_tried(fitted, tmp_path):
    """`require_onnx` leaves the CatBoost refit out (it has no ONNX form): no time is kept or spent on it."""
    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path,
                                      100, catboost=False)
    end = Deadline.after(120)
    assert level1.catboost_served([], end, end) == [] and level1.catboost(end) == []
    assert any(c.family == BAG and c.measured for c in level1.bags(end))


def test_the_catboost_bag_is_served_first_when_it_scored_better_than_every_lightgbm_bag(fitted, tmp_path):
    """Thinning a LightGBM bag can take the seconds a short run has left: the better of the two goes first."""
    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    metric = corpus.competition.metric
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path, 100)
    assert level1.parent is not None
    bags = [c for c in board if c.strategy == "autogluon" and "LightGBM" in (c.model or "") and c.level == 1]
    best_bag, worst_bag = (max(bags, key=lambda c: f(metric.signed(c.score))) for f in (lambda s: s, lambda s: -s))
    level1.parent = replace(level1.parent, score=best_bag.score)  # level with the best bag: not better
    assert not level1.catboost_leads()
    better = best_bag.score + (1e-3 if metric.greater_is_better else -1e-3)
    level1.parent = replace(level1.parent, score=better)
    assert level1.catboost_leads()
    level1.parent = replace(level1.parent, score=worst_bag.score)
    assert not level1.catboost_leads() or len(bags) == 1
