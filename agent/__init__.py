"""podium: everything but the searches. The modules directly here are the foundation every package stands on:
settings (`config`), typed records (`records`, the run directory's `rundir`), the one clock for deadlines
(`deadline`), Ray or this process (`executor`), errors, atomic writes, logs, names, column names, output
checks, the web server under serve and the arena, the command line's console.

The foundation imports no package of agent/ nor strategies/ (tests/test_architecture.py); every other
package may import it. The packages beside it follow one run's flow: sources and kaggle, competition,
checks, run (which drives strategies/), runtime, report, services; the arena stands apart.
"""

__version__ = "0.1.0"
