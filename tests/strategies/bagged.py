"""The check every bagged-model test shares: a model's out-of-fold predictions never come from a model that saw
the row."""

from __future__ import annotations

import numpy as np

from agent.competition.dataset import Dataset
from agent.competition.folds import fitted_on


def assert_folds_held_out(predictor, name: str, dataset: Dataset, method: str = "predict_proba",
                          atol: float = 0.0) -> None:
    """Fold model k of AutoGluon's bagged model `name` was fitted on as many rows as the run's fold k fits on
    (the other folds, or chaining forward the earlier ones) and predicted exactly the rows of fold k."""
    trainer = predictor._trainer
    bag = trainer.load_model(name)
    features = predictor.transform_features(dataset.X)
    oof = trainer.get_model_oof(name)
    assert len(bag.models) == dataset.n_folds
    for k, child in enumerate(bag.models):
        rows = dataset.folds == k
        model = bag.load_child(child)
        assert model.get_fit_metadata()["num_samples"] == fitted_on(dataset.folds, k).sum(), \
            f"fold model {child} of {name} was not fitted on the rows the run's fold {k} fits on"
        predicted = getattr(model, method)(features[rows])
        np.testing.assert_allclose(predicted, oof[rows], rtol=1e-6, atol=atol,
                                   err_msg=f"fold model {child} of {name} did not hold out the run's fold {k}")
