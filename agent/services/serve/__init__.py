"""Serving a production model over HTTP: `podium serve ARTIFACT_DIR --port 8080` (docs/serving.md).

    from agent.services.serve import PredictionService, make_server, serve_settings
    service = PredictionService.load("runs/titanic/<run-id>/production", serve_settings(port=0))
    server = make_server(service, "127.0.0.1", 0).start()   # server.url; server.stop()

FastAPI on uvicorn (agent/services/serve/app.py); importing this never imports Ray or AutoGluon (agent.runtime's
promise); `--ray-address` imports Ray Serve only when asked (agent/services/serve/ray_serve.py).
Imported by cli.py (`podium serve`); imports the foundation (agent/webserver.py among it), agent.runtime,
agent.competition and agent/services/jsontext.py; never the run, the search or the arena.
"""

from agent.services.serve.app import build_app
from agent.services.serve.command import make_server, run_server, serve_settings
from agent.services.serve.listening import Listening, Stopper
from agent.services.serve.payload import RequestError
from agent.services.serve.server import PredictionServer
from agent.services.serve.service import PredictionService

__all__ = ["Listening", "PredictionServer", "PredictionService", "RequestError", "Stopper", "build_app",
           "make_server", "run_server", "serve_settings"]
