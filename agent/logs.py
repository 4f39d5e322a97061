"""Send podium's and AutoGluon's logs to the run's podium.log; the CLI decides what the terminal shows."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

LOGGERS = ("podium", "autogluon", "agent", "strategies", "optuna")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def run_log(path: Path, level: int = logging.INFO, quiet: bool = True):
    """Append every podium and AutoGluon record to `path` while the block runs.

    With `quiet`, library console handlers (AutoGluon installs one) are detached meanwhile, so the
    terminal shows only what the CLI chooses to show.
    """
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level)
    touched = []
    detached = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        touched.append((logger, logger.level))
        if quiet:
            for console in [h for h in logger.handlers if type(h) is logging.StreamHandler]:
                logger.removeHandler(console)
                detached.append((logger, console))
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, old_level in touched:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
        for logger, console in detached:
            logger.addHandler(console)
        handler.close()
