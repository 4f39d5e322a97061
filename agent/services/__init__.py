"""agent/services: what works on a run's outputs after the run, apart from its pipeline.

`serve` (a production model over HTTP, on the foundation's agent/webserver.py), `monitor` (drift of new data
against the training profile) and `retrain` (the production recipe on new labelled rows). Imported by cli.py
only; imports the foundation, agent.runtime, agent.competition and (retrain) the checks, the report and the
run directory; never the run's pipeline or search, nor the arena (tests/test_architecture.py).
"""
