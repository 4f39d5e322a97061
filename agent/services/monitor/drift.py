"""Compare new data with a reference profile: per-feature PSI, unseen categories, missing-rate change, a verdict."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.atomic import write_json
from agent.config import MonitorSettings
from agent.errors import InputError
from agent.runtime.profile import NUMERIC, FeatureProfile, Profile, category_keys, numeric_values
from agent.services.monitor.plot import write_psi_plot

log = logging.getLogger("podium.monitor")
OK, WARNING, DRIFT = "ok", "warning", "drift"
STATUS_ORDER = {OK: 0, WARNING: 1, DRIFT: 2}
EPSILON = 1e-4  # floor for a bin's share, so an empty bin gives a large but finite PSI term


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index: sum of (actual - expected) * ln(actual / expected) over bins."""
    expected = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    actual = np.clip(np.asarray(actual, dtype=float), EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass
class FeatureDrift:
    name: str
    kind: str
    status: str
    psi: float | None
    missing_reference: float
    missing_new: float
    unseen_share: float | None = None  # categorical: share of present new values training never saw
    not_numeric: int = 0               # numeric: present values that were not numbers (counted as missing)
    reasons: list[str] = field(default_factory=list)

    @property
    def missing_change(self) -> float:
        return self.missing_new - self.missing_reference


@dataclass
class DriftReport:
    """Drift of one batch of new data against the training profile."""

    features: list[FeatureDrift]
    verdict: str
    rows: int
    reference_rows: int
    thresholds: dict[str, float]
    notes: list[str] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)  # what was read: file or query, rows (never a password)

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.status == DRIFT]

    def to_dict(self) -> dict[str, Any]:
        features = []
        for feature in self.features:
            entry = asdict(feature)
            entry["missing_change"] = round(feature.missing_change, 6)
            features.append(entry)
        return {"verdict": self.verdict, "rows": self.rows, "reference_rows": self.reference_rows,
                "thresholds": self.thresholds, "drifted_features": [f.name for f in self.drifted],
                "notes": self.notes, "source": self.source, "features": features}

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write drift.json and drift.png into `out_dir`, each atomically."""
        out_dir = Path(out_dir)
        png = write_psi_plot(self, out_dir / "drift.png")
        return {"json": write_json(out_dir / "drift.json", self.to_dict()), "png": png}


def compare(profile: Profile, new_frame: pd.DataFrame, thresholds: MonitorSettings | None = None, *,
            where: str = "the new data") -> DriftReport:
    """Measure how far `new_frame` has moved from `profile`, feature by feature, and give one verdict."""
    thresholds = thresholds or MonitorSettings()
    absent = [name for name in profile.features if name not in new_frame.columns]
    if absent:
        raise InputError(f"The new data lacks {len(absent)} feature column(s) the model was trained on: {absent[:20]}",
                         where=where, fix="send rows with every feature column (same names as the training data)")
    if new_frame.empty:
        raise InputError("The new data holds no rows", where=where, fix="pass a file with at least one data row")
    features = []
    for name, reference in profile.features.items():
        drift = _numeric_drift(name, reference, new_frame[name]) if reference.kind == NUMERIC else \
            _categorical_drift(name, reference, new_frame[name])
        _judge(drift, thresholds)
        features.append(drift)
    features.sort(key=lambda f: (-STATUS_ORDER[f.status], -(f.psi or 0.0)))
    verdict = max((f.status for f in features), key=STATUS_ORDER.__getitem__, default=OK)
    notes = []
    if len(new_frame) < thresholds.min_rows:
        notes.append(f"Only {len(new_frame)} new rows (fewer than {thresholds.min_rows}): PSI is noisy on so few "
                     "rows; read the verdict with care")
    extra = [c for c in new_frame.columns if c not in profile.features]
    if extra:
        notes.append(f"{len(extra)} column(s) not in the reference were ignored: {extra[:10]}")
    log.info("Drift verdict %s on %d rows: %d feature(s) drifted", verdict, len(new_frame),
             sum(f.status == DRIFT for f in features))
    return DriftReport(features=features, verdict=verdict, rows=len(new_frame), reference_rows=profile.rows,
                       thresholds=thresholds.model_dump(), notes=notes)


def _numeric_drift(name: str, reference: FeatureProfile, values: pd.Series) -> FeatureDrift:
    numbers, not_numeric = numeric_values(values)
    present = numbers[np.isfinite(numbers)]
    value = None
    if len(present) and reference.proportions:
        bins = np.searchsorted(np.asarray(reference.edges), present, side="right")
        actual = np.bincount(bins, minlength=len(reference.proportions)) / len(present)
        value = psi(reference.proportions, actual)
    drift = FeatureDrift(name, NUMERIC, OK, value, reference.missing_rate, float(1 - len(present) / len(numbers)),
                         not_numeric=not_numeric)
    if not_numeric:
        drift.reasons.append(f"{not_numeric} value(s) are not numbers (counted as missing)")
    return drift


def _categorical_drift(name: str, reference: FeatureProfile, values: pd.Series) -> FeatureDrift:
    keys = category_keys(values)
    present = keys.dropna()
    value, unseen = None, None
    if len(present) and (reference.categories or reference.other):
        listed = list(reference.categories)
        shares = present.value_counts(normalize=True)
        actual = np.array([shares.get(k, 0.0) for k in listed] + [1 - shares.reindex(listed).fillna(0).sum()])
        value = psi(np.array([*reference.categories.values(), reference.other]), np.clip(actual, 0, 1))
    if len(present) and reference.values_complete:
        unseen = float((~present.isin(reference.known)).mean())
    return FeatureDrift(name, "categorical", OK, value, reference.missing_rate,
                        float(1 - len(present) / len(keys)), unseen_share=unseen)


def _judge(drift: FeatureDrift, t: MonitorSettings) -> None:
    """Set the feature's status from its worst measure, and say which measures crossed which line."""
    checks = [("PSI", drift.psi, t.psi_warning, t.psi_drift),
              ("unseen categories", drift.unseen_share, t.unseen_warning, t.unseen_drift),
              ("missing-rate change", abs(drift.missing_change), t.missing_warning, t.missing_drift)]
    status = OK
    for label, value, warning, drifted in checks:
        if value is None:
            continue
        if value >= drifted:
            status = DRIFT
            drift.reasons.append(f"{label} {value:.3f} >= {drifted:g}")
        elif value >= warning:
            status = max(status, WARNING, key=STATUS_ORDER.__getitem__)
            drift.reasons.append(f"{label} {value:.3f} >= {warning:g} (warning)")
    drift.status = status
