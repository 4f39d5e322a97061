"""podium's orchestrator: sources, competition inference, metrics, runs, submission, Ray."""

__version__ = "0.1.0"
