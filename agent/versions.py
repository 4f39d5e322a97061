"""The versions of Python, podium and the libraries a run's results depend on: recorded with every run and card."""

from __future__ import annotations

import sys
from importlib import metadata

from agent import __version__

PACKAGES = ("autogluon.tabular", "ray", "optuna", "lightgbm", "xgboost", "catboost", "scikit-learn", "pandas",
            "numpy", "kaggle", "kagglesdk")


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "podium": __version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
