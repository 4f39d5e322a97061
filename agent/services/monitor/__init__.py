"""Drift monitoring: profile the training data once, compare new data with it later.

    from agent.services.monitor import REFERENCE_PROFILE, profile_frame
    profile_frame(train, features, bins=settings.monitor.profile_bins,
                  max_categories=settings.monitor.profile_max_categories).save(artifact_dir / REFERENCE_PROFILE)

    report = compare(Profile.load(artifact_dir / REFERENCE_PROFILE), new_rows, settings.monitor)
    report.verdict            # "ok", "warning" or "drift"
    report.write(out_dir)     # drift.json and drift.png, each atomic

Imported by agent/services/cli.py; imports the foundation, agent.competition and agent.runtime.
"""

from agent.runtime.profile import REFERENCE_PROFILE, FeatureProfile, Profile, profile_frame
from agent.services.monitor.drift import DriftReport, FeatureDrift, compare, psi
from agent.services.monitor.reader import read_new_data

__all__ = ["REFERENCE_PROFILE", "DriftReport", "FeatureDrift", "FeatureProfile", "Profile", "compare",
           "profile_frame", "psi", "read_new_data"]
