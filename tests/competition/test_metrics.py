import numpy as np
import pytest
from sklearn import metrics as skm

from agent.competition.metrics import get_metric, known_metrics, score_prediction
from agent.errors import InputError

rng = np.random.default_rng(0)
Y_BIN = rng.integers(0, 2, 300)
P_BIN = np.clip(Y_BIN * 0.6 + rng.random(300) * 0.5, 0.01, 0.99)
Y_MULTI = rng.integers(0, 3, 300)
P_MULTI = rng.dirichlet([1, 1, 1], 300)
P_MULTI[np.arange(300), Y_MULTI] += 0.5
P_MULTI /= P_MULTI.sum(axis=1, keepdims=True)
Y_REG = rng.gamma(2.0, 10.0, 300)
P_REG = Y_REG * rng.normal(1.0, 0.1, 300)


@pytest.mark.parametrize(("name", "y", "pred", "expected"), [
    ("AUC", Y_BIN, P_BIN, skm.roc_auc_score(Y_BIN, P_BIN)),
    ("AUC", Y_MULTI, P_MULTI, skm.roc_auc_score(Y_MULTI, P_MULTI, multi_class="ovr")),
    ("Log Loss", Y_BIN, P_BIN, skm.log_loss(Y_BIN, P_BIN)),
    ("Multiclass Log Loss", Y_MULTI, P_MULTI, skm.log_loss(Y_MULTI, P_MULTI)),
    ("Categorization Accuracy", Y_MULTI, P_MULTI.argmax(1), skm.accuracy_score(Y_MULTI, P_MULTI.argmax(1))),
    ("F1", Y_BIN, (P_BIN > 0.5).astype(int), skm.f1_score(Y_BIN, P_BIN > 0.5)),
    ("Mean F-Score", Y_MULTI, P_MULTI.argmax(1), skm.f1_score(Y_MULTI, P_MULTI.argmax(1), average="macro")),
    ("Matthews Correlation Coefficient", Y_BIN, (P_BIN > 0.5).astype(int),
     skm.matthews_corrcoef(Y_BIN, P_BIN > 0.5)),
    ("Quadratic Weighted Kappa", Y_MULTI, P_MULTI.argmax(1),
     skm.cohen_kappa_score(Y_MULTI, P_MULTI.argmax(1), weights="quadratic")),
    ("RMSE", Y_REG, P_REG, np.sqrt(skm.mean_squared_error(Y_REG, P_REG))),
    ("RMSLE", Y_REG, P_REG, np.sqrt(skm.mean_squared_log_error(Y_REG, P_REG))),
    ("MSE", Y_REG, P_REG, skm.mean_squared_error(Y_REG, P_REG)),
    ("MAE", Y_REG, P_REG, skm.mean_absolute_error(Y_REG, P_REG)),
    ("MAPE", Y_REG, P_REG, skm.mean_absolute_percentage_error(Y_REG, P_REG)),
    ("R2", Y_REG, P_REG, skm.r2_score(Y_REG, P_REG)),
])
def test_metric_matches_scikit_learn(name, y, pred, expected):
    assert get_metric(name).score(y, pred) == pytest.approx(expected, rel=1e-9)


def test_hand_computed_values():
    assert get_metric("RMSE").score([0, 0, 3], [0, 0, 0]) == pytest.approx(np.sqrt(3))
    assert get_metric("Categorization Accuracy").score([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    # RMSLE floors negative predictions at 0, as submissions are clipped
    assert get_metric("RMSLE").score([0.0], [-5.0]) == 0.0


SAMPLES = {"binary": (Y_BIN, P_BIN), "multiclass": (Y_MULTI, P_MULTI), "regression": (Y_REG, P_REG)}


@pytest.mark.parametrize("metric", known_metrics(), ids=lambda m: m.name)
def test_autogluon_scorer_agrees_with_the_metric(metric):
    """AutoGluon optimises what the leaderboard scores: its scorer must give the same number."""
    for task in sorted(metric.tasks):
        y, pred = SAMPLES[task]
        scorer = metric.ag_scorer(task)
        if metric.needs == "label":
            pred = (pred > 0.5).astype(int) if pred.ndim == 1 else pred.argmax(1)
        ours = metric.score(y, pred)
        theirs = scorer.convert_score_to_original(scorer(y, pred))
        assert theirs == pytest.approx(ours, rel=1e-6), (metric.name, task)


def test_names_and_aliases_are_case_and_punctuation_insensitive():
    assert get_metric("root mean squared logarithmic error") is get_metric("RMSLE")
    assert get_metric("Area Under Receiver Operating Characteristic Curve") is get_metric("auc")
    assert get_metric("multiclass-log-loss").name == "Multiclass Log Loss"


def test_unknown_metric_lists_the_known_ones():
    with pytest.raises(InputError) as info:
        get_metric("Mean Average Precision @ 5")
    assert "Root Mean Squared Error" in str(info.value) and "AUC" in str(info.value)


def test_metric_refuses_the_wrong_problem_type():
    with pytest.raises(InputError, match="does not fit a regression problem"):
        get_metric("AUC").check_task("regression")


def test_direction_and_signed_scores():
    rmse, auc = get_metric("RMSE"), get_metric("AUC")
    assert rmse.is_better(1.0, 2.0) and not rmse.is_better(2.0, 1.0)
    assert auc.is_better(0.9, 0.8)
    assert rmse.signed(2.0) == -2.0


def test_score_prediction_thresholds_probabilities_for_label_metrics():
    accuracy = get_metric("Categorization Accuracy")
    assert score_prediction(accuracy, np.array([0, 1, 1]), np.array([0.2, 0.7, 0.4])) == pytest.approx(2 / 3)
    assert score_prediction(accuracy, np.array([2, 0]), np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])) == 1.0
