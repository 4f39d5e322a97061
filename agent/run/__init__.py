"""One run, source to run directory: the pipeline and what it owns.

`pipeline` (one competition end to end), `planner` (the time plan: every deadline and CPU), `search` (the
leaderboard search: AutoGluon and the Optuna studies as Ray tasks, one blend), `figures` (what the leaderboard
model costs to run), `rundir` (the run directory and its manifest), `batch` (many runs on a Ray cluster).
"""
