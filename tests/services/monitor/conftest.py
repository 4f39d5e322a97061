"""A reference profile of a real corpus table, and new data that is or is not shifted from it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import devcorpus
from agent.services.monitor import REFERENCE_PROFILE, profile_frame


@pytest.fixture(scope="session")
def diamonds_split() -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Training rows and held-out rows of the diamonds table (shuffled), with the feature names."""
    frame = devcorpus.load("diamonds_price")
    features = [c for c in frame.columns if c != "price"]
    return frame.iloc[:30_000].reset_index(drop=True), frame.iloc[30_000:].reset_index(drop=True), features


@pytest.fixture(scope="session")
def reference(diamonds_split):
    train, _, features = diamonds_split
    return profile_frame(train, features)


@pytest.fixture(scope="session")
def unshifted(diamonds_split) -> pd.DataFrame:
    return diamonds_split[1].sample(2000, random_state=1).reset_index(drop=True)


@pytest.fixture(scope="session")
def shifted(diamonds_split) -> pd.DataFrame:
    """Held-out rows with heavier stones and fewer 'Ideal' cuts: what a change of supplier might look like."""
    frame = diamonds_split[1].sample(2000, random_state=2).reset_index(drop=True)
    frame["carat"] = frame["carat"] * 1.4
    frame["cut"] = frame["cut"].replace({"Ideal": "Good"})
    return frame


@pytest.fixture
def artifact_dir(tmp_path, reference) -> Path:
    folder = tmp_path / "production"
    reference.save(folder / REFERENCE_PROFILE)
    return folder
