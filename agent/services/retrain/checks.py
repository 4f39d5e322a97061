"""The run's data checks on the new rows, before any retraining: a leak or a broken export stops it here.

The new rows' training part plays train and the holdout plays test. Rows carry their order in the file as
the id (an id column is optional in new data), so "row order predicts the target" still catches data
sorted by its label. Findings go to the new run's quality.json and report, as in `podium run`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from agent.checks import QualityReport, run_checks
from agent.competition.inference import Competition
from agent.competition.tables import CompetitionData
from agent.config import Settings
from agent.services.retrain.inputs import Labelled


def check_new_data(competition: Competition, train: Labelled, holdout: Labelled, settings: Settings,
                   allow: Iterable[str] = ()) -> QualityReport:
    """Every data check of `podium run` on the new rows; `allow` names checks whose errors may pass."""
    id_column = competition.id_column
    frame = _with_ids(train.X, id_column, 0)
    frame[competition.target] = train.labels.to_numpy()
    test = _with_ids(holdout.X, id_column, len(frame))
    data = CompetitionData(train=frame, test=test, sample_submission=test[[id_column]])
    return run_checks(competition, data, settings.quality, allow=allow, seed=settings.run.seed)


def _with_ids(X: pd.DataFrame, id_column: str, start: int) -> pd.DataFrame:
    frame = X.reset_index(drop=True).copy()
    frame.insert(0, id_column, np.arange(start, start + len(frame)))
    return frame
