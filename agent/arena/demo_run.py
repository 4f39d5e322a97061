"""`make run`: podium's whole job, offline, on a local arena.

Starts `podium arena serve` on a free port (demo competitions are built on its first start), adds a
user and accepts the rules for them, runs `podium run SLUG --kaggle-endpoint URL --submit` with the
rest of the budget, prints the arena's leaderboard and stops the arena. Every step is the podium command
a person would type; this script only wires them together.

    python -m agent.arena.demo_run [--slug titanic] [--budget 150] [--folder .demo]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

OVERHEAD_SECONDS = 25  # arena start, scoring, leaderboard: what the run's own time limit leaves out


def _podium() -> list[str]:
    script = Path(sys.executable).with_name("podium")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "import cli; cli.main()"]


def _start_arena(competitions: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with open(log, "a") as messages:  # the arena's request log; the terminal shows podium's run
        arena = subprocess.Popen([*_podium(), "arena", "serve", "--competitions", str(competitions), "--port", "0"],
                                 stdout=subprocess.PIPE, stderr=messages, text=True,
                                 env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = arena.stdout.readline()
        if not line:
            break
        print(line.rstrip(), flush=True)
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if match:
            return arena, match.group(0)
    arena.kill()
    raise SystemExit(f"the arena did not start (see {log})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slug", default="titanic", help="a demo competition (default titanic)")
    parser.add_argument("--budget", type=float, default=150, help="seconds for the whole demo")
    parser.add_argument("--folder", type=Path, default=Path(".demo"), help="where the arena and cache live")
    parser.add_argument("--out", type=Path, default=Path("runs"), help="where the run directory goes")
    args = parser.parse_args(argv)

    competitions = args.folder / "arena"
    config = args.folder / "demo-config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"kaggle:\n  cache_dir: {(args.folder / 'cache').resolve()}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}  # never the user's own account
    env["KAGGLE_CONFIG_DIR"] = str((args.folder / "kaggle").resolve())
    user = "demo-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S")

    arena, url = _start_arena(competitions, args.folder / "arena.log")
    try:
        added = subprocess.run([*_podium(), "arena", "add-user", user, "--competitions", str(competitions)],
                               capture_output=True, text=True, check=True, env={**env, "COLUMNS": "200"})
        env.update(KAGGLE_USERNAME=user, KAGGLE_KEY=added.stdout.split()[-1])
        print(f"Created arena user {user}", flush=True)
        subprocess.run([*_podium(), "arena", "accept-rules", args.slug, "--user", user, "--competitions",
                        str(competitions)], check=True, env=env)
        time_limit = max(30.0, args.budget - OVERHEAD_SECONDS)
        command = [*_podium(), "run", args.slug, "--kaggle-endpoint", url, "--submit", "--time-limit",
                   f"{time_limit:g}", "--out", str(args.out), "--config", str(config)]
        print("$ podium " + " ".join(command[len(_podium()):]), flush=True)
        code = subprocess.run(command, env=env).returncode
        subprocess.run([*_podium(), "arena", "leaderboard", args.slug, "--competitions", str(competitions)], env=env)
        return code
    finally:
        arena.send_signal(signal.SIGTERM)
        try:
            arena.wait(timeout=30)
        except subprocess.TimeoutExpired:
            arena.kill()


if __name__ == "__main__":
    sys.exit(main())
