"""Searches that produce candidates: AutoGluon, Optuna-tuned GBMs, production models."""

from strategies.base import Candidate, Strategy

__all__ = ["Candidate", "Strategy"]
