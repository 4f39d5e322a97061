"""The run report: report.md and a self-contained report.html, built from a run directory alone.

    from agent.report import write_report
    paths = write_report(run_dir)   # {"markdown": ..., "html": ..., "<figure>": ...}

`podium report RUN_DIR` rebuilds it. Sections: what went wrong (when something did), the competition and
settings with where each value came from, data-check findings, the leaderboard model's candidates and
ensemble, the production model and its frontier, both models side by side, time per phase, the submission.

Imported by the run (at its end), `podium report` and retrain; reads a run directory through the foundation's
records and imports agent.competition; never strategies, the run, the services or the arena.
"""

from agent.report.build import build_report, failure_reported, report_run, write_report

__all__ = ["build_report", "failure_reported", "report_run", "write_report"]
