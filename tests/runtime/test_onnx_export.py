"""agent/runtime/onnx and `podium export --onnx`: the graph, run by ONNX Runtime from raw rows, gives what
load_model gives, for every problem type and family; what cannot be exported is refused with nothing written."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from agent.errors import InputError, PodiumError
from agent.runtime.model import ProductionModel, load_model
from agent.runtime.onnx import export_onnx, onnx_exportable, onnx_feeds
from agent.runtime.onnx.check import relative_difference, run_graph
from cli import app
from strategies.production.gbm import fit_booster, hard_target
from strategies.production.linear import fit_linear_runtime
from strategies.production.problem import make_problem
from tests.artifacts import corpus_from_folder, make_corpus
from tests.conftest import write_competition

RTOL = 1e-6
PARAMS = {"num_leaves": 15, "n_estimators": 40, "min_child_samples": 5}


def build_artifact(corpus, family: str, folder):
    """A production folder as the search writes one: the run's problem, a model fitted on folds 1.. (fold 0
    held out), saved by ProductionModel.save. Returns the folder and the held-out rows."""
    problem = make_problem(corpus.competition, corpus.dataset, read_texts=False)  # a graph reads no words
    rows = np.flatnonzero(problem.folds != 0)
    runtime = fit_booster(problem, PARAMS, rows, hard_target(problem)) if family == "lightgbm" else \
        fit_linear_runtime(problem, rows)
    ProductionModel(problem.schema, problem.encoder, runtime, problem.output, name=folder.name).save(folder)
    return folder, corpus.dataset.X[problem.folds == 0][problem.schema.names]


def roughen(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Held-out rows as callers send them: ~10% missing per column, unseen categories, padded and blank text."""
    rng = np.random.default_rng(seed)
    frame = frame.copy().reset_index(drop=True)
    for name in frame.columns:
        pick = rng.random(len(frame))
        if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]):
            frame[name] = frame[name].astype(float).mask(pick < 0.1)
            continue
        values = frame[name].astype(object)
        values[pick < 0.08] = None
        values[(pick >= 0.08) & (pick < 0.14)] = "never-seen-in-training"
        values[(pick >= 0.14) & (pick < 0.2)] = values[(pick >= 0.14) & (pick < 0.2)].map(lambda v: f"  {v} ")
        values[(pick >= 0.2) & (pick < 0.22)] = "   "
        frame[name] = values
    return frame


def assert_graph_matches(folder, onnx_path, rows: pd.DataFrame) -> None:
    model = load_model(folder)
    prediction, submission = run_graph(onnx_path.read_bytes(), onnx_feeds(rows, model.schema))
    expected = model.predict_raw(rows)
    assert prediction.shape == expected.shape
    assert relative_difference(expected, prediction) <= RTOL
    served = model.predict(rows)
    if served.dtype == object:
        assert [str(v) for v in submission.tolist()] == [str(v) for v in served]
    else:
        np.testing.assert_allclose(submission, served, rtol=RTOL, atol=0)


@pytest.fixture(scope="module")
def diamonds(corpus_root):
    return make_corpus("diamonds_price", corpus_root, rows=400)


CORPORA = {"titanic": "binary", "hpc": "multiclass", "diamonds": "regression", "ames": "regression, log target"}


@pytest.mark.parametrize("family", ["lightgbm", "linear"])
@pytest.mark.parametrize("corpus_name", list(CORPORA))
def test_the_graph_gives_what_load_model_gives_on_held_out_rows(corpus_name, family, request, tmp_path):
    corpus = request.getfixturevalue(corpus_name)
    folder, held_out = build_artifact(corpus, family, tmp_path / "production")
    model = load_model(folder)
    assert model.output.problem_type == CORPORA[corpus_name].split(",")[0]
    assert model.runtime.log_target == ("log target" in CORPORA[corpus_name])
    result = export_onnx(folder, tmp_path / "model.onnx")
    assert result.agreement.max_relative_difference <= RTOL
    for rows in (roughen(held_out), roughen(corpus.test[model.schema.names], seed=1), held_out.iloc[:1]):
        assert_graph_matches(folder, tmp_path / "model.onnx", rows)


@pytest.fixture(scope="module")
def awkward(tmp_path_factory):
    """A table built to reach every rule: NaN seen and unseen in training, booleans, integer-like categories
    (sent as 1.0 by other languages), a rare level ("other"), text with spaces, a label target."""
    rng = np.random.default_rng(3)
    n = 900
    x = rng.normal(size=n)
    holes = np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))
    level = rng.choice(["a", "b", "c", "d", "e", "rare"], size=n, p=[0.3, 0.25, 0.2, 0.15, 0.097, 0.003])
    town = rng.choice(["New York", "Los Angeles", "Paris"], size=n)
    code = rng.choice(np.array([1, 2, 3, "x"], dtype=object), size=n)
    flag = rng.random(n) < 0.5
    score = x + np.nan_to_num(holes) + (level == "a") - (level == "d") + (town == "Paris") + flag
    label = np.where(score > 0.5, "yes", "no")
    frame = pd.DataFrame({"id": np.arange(n), "x": x, "holes": holes, "level": level, "town": town, "code": code,
                          "flag": flag, "label": label})
    folder = write_competition(tmp_path_factory.mktemp("awkward") / "awkward", frame[:700], frame[700:].drop(
        columns="label"), pd.DataFrame({"id": frame["id"][700:], "label": "no"}),
        declared={"target": "label", "evaluation_metric": "Categorization Accuracy"})
    return corpus_from_folder(folder)


@pytest.mark.parametrize("family", ["lightgbm", "linear"])
def test_every_encoding_and_splitting_rule_on_a_table_built_for_them(awkward, family, tmp_path):
    folder, held_out = build_artifact(awkward, family, tmp_path / "production")
    model = load_model(folder)
    if family == "lightgbm":  # the rules the converter maps must all occur, or this test proves nothing
        dump = json.dumps(model.runtime.booster.dump_model())
        assert '"decision_type": "=="' in dump and '"missing_type": "NaN"' in dump and '"missing_type": "None"' in dump
    export_onnx(folder, tmp_path / "model.onnx")
    rows = pd.concat([roughen(held_out), awkward.test[model.schema.names]], ignore_index=True)
    rows.loc[:9, "holes"] = np.nan
    rows.loc[10:19, "x"] = np.nan                       # never missing in training
    rows.loc[20:29, "code"] = [1.0, 2.0, "3", " x ", "x", 7, "7", None, "", 1]
    rows.loc[30:35, "flag"] = [True, False, "true", "FALSE", " True", None]
    rows.loc[36:40, "town"] = ["  New York ", "New  York", "Paris ", "New York City", "los angeles"]
    rows.loc[41:44, "level"] = ["rare", " rare", "zzz", "a b"]
    assert_graph_matches(folder, tmp_path / "model.onnx", rows)
    assert model.output.submission_format == "labels"  # the submission output here is the class label


def test_a_blend_is_the_weighted_mean_of_its_members(titanic, tmp_path):
    """A saved blend artifact (agent/runtime/blend.py): its graph against the members' own predictions."""
    from agent.runtime.blend import BlendRuntime

    problem = make_problem(titanic.competition, titanic.dataset, read_texts=False)  # a graph reads no words
    rows = np.arange(len(problem.y))
    members = [fit_booster(problem, PARAMS, rows, hard_target(problem)), fit_linear_runtime(problem, rows)]
    folder = tmp_path / "production"
    ProductionModel(problem.schema, problem.encoder, BlendRuntime(members, [0.7, 0.3]), problem.output).save(folder)
    assert onnx_exportable(folder) == (True, "the encoder and every model of the artifact convert to ONNX")
    export_onnx(folder, tmp_path / "blend.onnx")
    sent = roughen(titanic.test[problem.schema.names])
    prediction, _ = run_graph((tmp_path / "blend.onnx").read_bytes(), onnx_feeds(sent, problem.schema))
    matrix, _ = problem.encoder.encode(sent)
    expected = 0.7 * members[0].raw(matrix) + 0.3 * members[1].raw(matrix)
    assert relative_difference(expected, prediction) <= RTOL
    assert relative_difference(load_model(folder).predict_raw(sent), prediction) <= RTOL
    assert relative_difference(members[0].raw(matrix), prediction) > 1e-3  # both members count


@pytest.mark.parametrize("corpus_name", ["titanic", "hpc"])
def test_a_stacked_blend_is_its_stacker_on_its_members(corpus_name, request, tmp_path):
    """A classification blend with a logistic stacker (agent/runtime/stacker.py): its graph gives what
    load_model gives, on rows with missing values and unseen categories."""
    from agent.runtime.blend import BlendRuntime
    from strategies.production.gbm import link_for
    from strategies.production.stacker import fit_stacker

    corpus = request.getfixturevalue(corpus_name)
    problem = make_problem(corpus.competition, corpus.dataset, read_texts=False)
    rows = np.arange(len(problem.y))
    members = [fit_booster(problem, PARAMS, rows, hard_target(problem)), fit_linear_runtime(problem, rows)]
    outputs = [member.raw(problem.X) for member in members]
    stacker = fit_stacker(outputs, problem.y, link_for(problem), problem.n_classes)
    folder = tmp_path / "production"
    ProductionModel(problem.schema, problem.encoder, BlendRuntime(members, [0.5, 0.5], stacker),
                    problem.output).save(folder)
    assert onnx_exportable(folder)[0]
    export_onnx(folder, tmp_path / "stacked.onnx")
    sent = roughen(corpus.test[problem.schema.names])
    assert_graph_matches(folder, tmp_path / "stacked.onnx", sent)
    matrix, _ = problem.encoder.encode(sent)
    mean = 0.5 * members[0].raw(matrix) + 0.5 * members[1].raw(matrix)
    assert relative_difference(mean, load_model(folder).predict_raw(sent)) > 1e-3  # the stacker, not the mean


@pytest.fixture(scope="module")
def lightgbm_artifact(titanic, tmp_path_factory):
    return build_artifact(titanic, "lightgbm", tmp_path_factory.mktemp("onnx") / "production")[0]


def unsupported(source, tmp_path, change: str):
    folder = tmp_path / change
    shutil.copytree(source, folder)
    if change == "autogluon":
        manifest = json.loads((folder / "production.json").read_text())
        manifest["runtime"] = {"kind": "autogluon", "path": "model/autogluon"}
        (folder / "production.json").write_text(json.dumps(manifest))
    else:
        schema = json.loads((folder / "schema.json").read_text())
        schema["dates"] = {"boarded": "%Y-%m-%d"}
        (folder / "schema.json").write_text(json.dumps(schema))
    return folder


@pytest.mark.parametrize(("change", "reason"), [("autogluon", "AutoGluon model is a Python predictor"),
                                                ("dates", "date column(s) ['boarded']")])
def test_an_unsupported_artifact_is_refused_clearly_and_nothing_is_written(lightgbm_artifact, tmp_path, change,
                                                                           reason):
    folder = unsupported(lightgbm_artifact, tmp_path, change)
    ok, why = onnx_exportable(folder)
    assert not ok and reason in why
    out = tmp_path / "out" / "model.onnx"
    result = CliRunner().invoke(app, ["export", str(folder), "--onnx", str(out)])
    assert result.exit_code == 2
    assert "cannot be exported to ONNX" in result.output and reason in " ".join(result.output.split())
    assert not out.exists() and not (out.parent.exists() and list(out.parent.iterdir()))


def test_exportable_reads_a_loaded_model_too(lightgbm_artifact):
    model = load_model(lightgbm_artifact)
    assert onnx_exportable(model)[0] and onnx_exportable(lightgbm_artifact)[0]
    joined = ProductionModel(model.schema.model_copy(update={"relations": ("a join",)}), model.encoder,
                             model.runtime, model.output)
    ok, why = onnx_exportable(joined)
    assert not ok and "joins side tables" in why
    assert onnx_exportable(lightgbm_artifact.parent) == (False, f"{lightgbm_artifact.parent} is not a podium "
                                                                "production artifact (no production.json)")


def test_the_cli_writes_the_graph_whole_and_replaces_an_old_one(lightgbm_artifact, tmp_path):
    out = tmp_path / "model.onnx"
    out.write_bytes(b"an older export")
    result = CliRunner().invoke(app, ["export", str(lightgbm_artifact), "--onnx", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "agrees with the artifact" in result.output
    import onnx

    model = onnx.load(str(out))
    inputs = json.loads({p.key: p.value for p in model.metadata_props}["podium.inputs"])
    names = load_model(lightgbm_artifact).schema.names
    assert [i["name"] for i in inputs] == [i.name for i in model.graph.input] == names
    assert [o.name for o in model.graph.output] == ["prediction", "submission"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no temporary file left


def test_a_graph_that_disagrees_is_never_written(lightgbm_artifact, tmp_path, monkeypatch):
    """The export's own check can fail: a converter off by 1e-3 is caught, and the old file stays."""
    import agent.runtime.onnx.converters as converters

    real = converters.CONVERTERS["lightgbm"]

    def off(graph, matrix, runtime):
        return graph.op("Add", [real(graph, matrix, runtime), graph.const(1e-3, "off")])

    monkeypatch.setitem(converters.CONVERTERS, "lightgbm", off)
    out = tmp_path / "model.onnx"
    out.write_bytes(b"an older export")
    with pytest.raises(PodiumError, match="disagrees with load_model"):
        export_onnx(lightgbm_artifact, out)
    assert out.read_bytes() == b"an older export" and sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
    result = CliRunner().invoke(app, ["export", str(lightgbm_artifact), "--onnx", str(out)])
    assert result.exit_code == 2 and out.read_bytes() == b"an older export"


def test_a_refused_lightgbm_feature_names_itself():
    from agent.runtime.onnx.graph import Graph
    from agent.runtime.onnx.lightgbm import tree_scores

    dump = {"num_tree_per_iteration": 1, "tree_info": [{"tree_index": 0, "tree_structure": {
        "split_feature": 0, "decision_type": "<=", "threshold": 1.0, "missing_type": "Zero", "default_left": True,
        "left_child": {"leaf_value": 1.0}, "right_child": {"leaf_value": 2.0}}}]}
    with pytest.raises(InputError, match="missing_type 'Zero'"):
        tree_scores(Graph(), "x", dump)


def test_what_the_graph_does_not_trim_is_documented_and_counts_as_unseen(awkward, tmp_path):
    """Tabs around a category: podium's loader trims them, the graph cannot (docs/production.md#onnx-export)."""
    folder, held_out = build_artifact(awkward, "lightgbm", tmp_path / "production")
    export_onnx(folder, tmp_path / "model.onnx")
    model = load_model(folder)
    rows = pd.concat([held_out.iloc[[0]]] * 3, ignore_index=True)
    rows["town"] = ["Paris\t", "never-seen", "Paris"]
    graph, _ = run_graph((tmp_path / "model.onnx").read_bytes(), onnx_feeds(rows, model.schema))
    podium = model.predict_raw(rows)
    assert graph[0] == graph[1] and podium[0] == podium[2] and graph[0] != podium[0]
