"""The check every bagged-model test shares: a model's out-of-fold predictions never come from a model that saw
the row."""

from __future__ import annotations

import numpy as np

from agent.competition.dataset import Dataset


def assert_folds_held_out(predictor, name: str, dataset: Dataset, method: str = "predict_proba",
                          atol: float = 0.0) -> None:
    """Fold model k of AutoGluon's bagged model `name` predicted exactly the rows of the run's fold k."""
    trainer = predictor._trainer
    bag = trainer.load_model(name)
    features = predictor.transform_features(dataset.X)
    oof = trainer.get_model_oof(name)
    assert len(bag.models) == dataset.n_folds
    for k, child in enumerate(bag.models):
        rows = dataset.folds == k
        predicted = getattr(bag.load_child(child), method)(features[rows])
        np.testing.assert_allclose(predicted, oof[rows], rtol=1e-6, atol=atol,
                                   err_msg=f"fold model {child} of {name} did not hold out the run's fold {k}")
