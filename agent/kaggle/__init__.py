"""Talking to Kaggle, or any server that speaks its API (the arena), through the official `kaggle` client.

- `endpoint`: the one seam that points the client elsewhere (kagglesdk has no setting for it).
- `timeouts`: per-socket timeouts for the client's requests (it sets none of its own).
- `retry`, `errors`: bounded backoff, and one clear PodiumError per failure.
- `client`: `KaggleRemote`, the client wrapped with all of the above.
- `unzip`: safe extraction of downloaded archives.
- `submit`: `submit_run`, the whole submit flow for a run directory.

Nothing here imports `kaggle` at module level: it authenticates and prints on import.

Imported by agent.sources (fetching), the run (`--submit`), `podium submit` and the arena's `podium arena
kaggle`; imports the foundation and agent.competition, never the run, the report or the services.
"""
