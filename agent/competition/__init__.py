"""What a competition is and asks for: its tables read safely, the task inferred, its metric, the learning
problem with its folds, and the submission format it accepts.

`tables` (reading train, test, sample submission and side tables through agent/tables), `inference` (id, target,
problem type, metric, submission format: the `Competition`), `metrics` (Kaggle's metrics by name), `dataset`
(features, target and the run's folds), `submission` (building and validating a submission file), `relations`
(side tables related to the rows with evidence, their features in DuckDB, and the one join code serving shares).

Imported by every later step (checks, the run, strategies, runtime, report, services, the arena); imports the
foundation and agent.tables only.
"""
