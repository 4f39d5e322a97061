"""Data checks run before any training: schema, duplicates, leakage and train/test shift.

    from agent.checks import run_checks, write_quality_report
    report = run_checks(competition, data, settings.quality, allow={"single_feature_leak"})
    write_quality_report(report, run.file("quality.json"))
    report.raise_for_errors()   # QualityError (a PodiumError) listing the errors nobody allowed

Imported by the run (agent/run/pipeline.py) and retrain; imports the foundation and agent.competition only.
"""

from agent.checks.report import Bound, Finding, QualityError, QualityReport, Severity, write_quality_report
from agent.checks.runner import CHECK_NAMES, run_checks

__all__ = ["CHECK_NAMES", "Bound", "Finding", "QualityError", "QualityReport", "Severity", "run_checks",
           "write_quality_report"]
