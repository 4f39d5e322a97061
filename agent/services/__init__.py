"""The services: what works on a run's outputs after the run, apart from its pipeline.

`serve` (a production model over HTTP), `monitor` (drift of new data against the training profile), `retrain`
(the production recipe on new labelled rows) and `arena` (a Kaggle-compatible competition host); both HTTP
services run on the foundation's web server (agent/webserver.py). None of them imports the run's pipeline or search.
"""
