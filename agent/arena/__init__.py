"""agent/arena: a local, Kaggle-compatible competition host (a folder per competition, like MLE-bench).

A stand-in for Kaggle used before a run: podium reaches it only through the official `kaggle` client, as it
reaches Kaggle, so no part of podium's run side imports it. Imported by cli.py (`podium arena ...`) and, to
prepare competition folders, by benchmarks and tests; its demo imports the development corpus (devcorpus/).
Imports the foundation (agent/webserver.py among it), agent.competition (inference, metrics, submission, tables)
and agent.kaggle (`podium arena kaggle`); never agent.run, agent.services, agent.runtime or strategies
(tests/test_architecture.py).
"""
