"""Every test here runs with HOME and KAGGLE_CONFIG_DIR in temp folders (kaggle_home is autouse)."""

from tests.arena.helpers import alice, arena, arena_template, competitions, kaggle_home, settings  # noqa: F401
