"""Retraining a run's production model on new labelled data (docs/retraining.md).

    from agent.services.retrain import retrain
    result = retrain("runs/titanic/<run-id>", "new_train.csv")     # a new run directory beside the old one
    result.decision.keep        # "retrained" or "current"; result.decision.reasons says why
    result.production           # the folder to serve: runs/titanic/<new-run-id>/production

Imported by agent/services/cli.py; imports the foundation, agent.competition, agent.checks, agent.runtime,
agent.report and strategies/production.
"""

from agent.services.retrain.compare import CURRENT, RETRAINED, Decision
from agent.services.retrain.runner import RetrainResult, retrain

__all__ = ["CURRENT", "RETRAINED", "Decision", "RetrainResult", "retrain"]
