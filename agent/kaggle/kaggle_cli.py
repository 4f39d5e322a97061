"""The official `kaggle` command-line tool, pointed at another endpoint (an arena) through podium's one seam.

    python -m agent.kaggle.kaggle_cli --endpoint http://127.0.0.1:8000 competitions list
    podium arena kaggle --endpoint http://127.0.0.1:8000 competitions download titanic

Everything after the endpoint goes to kaggle's own CLI unchanged; credentials work as they do for `kaggle`.
"""

from __future__ import annotations

import sys

from agent.kaggle.endpoint import pointed_at, resolve_endpoint
from agent.kaggle.timeouts import default_timeouts


def run(args: list[str], endpoint: str | None = None, connect: float = 10, read: float = 120) -> int:
    """Run `kaggle ARGS` in this process with the client pointed at `endpoint`; return its exit code."""
    saved = sys.argv
    sys.argv = ["kaggle", *args]  # the client decides from argv[0] that it runs as the CLI
    try:
        with pointed_at(resolve_endpoint(endpoint)), default_timeouts(connect, read):
            from kaggle.cli import main

            main()
        return 0
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = saved


def main() -> None:
    args = sys.argv[1:]
    endpoint = None
    if args and args[0].startswith("--endpoint"):
        if "=" in args[0]:
            endpoint, args = args[0].split("=", 1)[1], args[1:]
        elif len(args) > 1:
            endpoint, args = args[1], args[2:]
    sys.exit(run(args, endpoint))


if __name__ == "__main__":
    main()
