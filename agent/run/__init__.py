"""One run, source to run directory: the pipeline and what it owns.

`pipeline` (one competition end to end), `planner` (the time plan: every deadline and CPU), `search` (the
leaderboard search: AutoGluon and the Optuna studies as Ray tasks, one blend), `figures` (what the leaderboard
model costs to run), `batch` (many runs on a Ray cluster).

Imported by cli.py only; imports everything before it (sources, competition, checks, kaggle, report) and
strategies, through their contract (strategies/registry.py). Nothing imports it back: kaggle, the report, the
sources and the services read a run directory through agent/rundir.py.
"""
