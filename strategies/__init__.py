"""Searches that produce candidates: AutoGluon, Optuna-tuned GBMs, production models.

Imported by the run (agent/run), retrain and the benchmarks; imports the foundation, agent.competition and
agent.runtime; never where data comes from or goes (sources, kaggle, the run, the report, the services, the
arena).
"""

from strategies.base import Candidate, Strategy

__all__ = ["Candidate", "Strategy"]
