"""Serving a production model: load an artifact folder and predict from raw rows.

    from agent.runtime import load_model
    model = load_model("runs/titanic/<run-id>/production")
    model.predict({"pclass": 3, "sex": "male", "age": None, ...})

Importing this package never imports Ray or AutoGluon; an artifact that chose an AutoGluon model imports it
when loaded.

Imported by strategies/production (which exports what it loads), the run, the report and the services; imports
the foundation and agent.competition only: never Ray, strategies, the run or the services
(tests/test_architecture.py).
"""

from agent.runtime.files import artifact_size, directory_bytes, staged_directory
from agent.runtime.latency import LatencyReport, measure_latency
from agent.runtime.model import ProductionModel, load_model
from agent.runtime.schema import Schema, ValidationReport

__all__ = ["LatencyReport", "ProductionModel", "Schema", "ValidationReport", "artifact_size", "directory_bytes",
           "load_model", "measure_latency", "staged_directory"]
