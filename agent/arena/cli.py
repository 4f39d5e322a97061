"""`podium arena ...`: host Kaggle-style competitions from folders. Every command takes --competitions DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agent.console import console, fail

arena_app = typer.Typer(help="Host Kaggle-compatible competitions: prepare, serve, users, rules, leaderboards.",
                        no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
Competitions = Annotated[Path, typer.Option("--competitions", "-C", envvar="PODIUM_ARENA",
                                            help="The arena's folder: one sub-folder per competition, plus its "
                                                 "state (.arena/). Env: PODIUM_ARENA.")]



def _store(competitions: Path):
    from agent.arena.store import Store
    from agent.errors import InputError

    if not competitions.is_dir():
        raise InputError("The competitions folder does not exist", where=str(competitions),
                         fix="create it, or start `podium arena serve --competitions DIR` once (it seeds demos)")
    return Store(competitions)


def _competition(competitions: Path, slug: str):
    from agent.arena.catalog import Catalog
    from agent.errors import InputError

    store = _store(competitions)
    competition = Catalog(competitions, store.state / "blobs").get(slug)
    if competition is None:
        raise InputError(f"No competition '{slug}' in the arena", where=str(competitions),
                         fix="see `podium arena list`, or build one with `podium arena prepare`")
    return store, competition


@arena_app.command("prepare")
def prepare_command(
    labelled: Annotated[str, typer.Argument(help="A table with the target column filled in: a CSV or Parquet file, "
                                            "or a database table or query (postgresql://USER@HOST/DB#TABLE).")],
    target: Annotated[str, typer.Option("--target", help="The column to predict.")],
    metric: Annotated[str, typer.Option("--metric", help="Kaggle's metric name, e.g. AUC, RMSE, 'Log Loss'.")],
    out: Annotated[Path, typer.Option("--out", help="The new competition folder: DIR/SLUG.")],
    id_column: Annotated[str | None, typer.Option("--id-column", help="Row id column (default: add 'id').")] = None,
    task: Annotated[str | None, typer.Option("--task", help="binary, multiclass or regression.")] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    test_fraction: Annotated[float, typer.Option("--test-fraction", help="Share of rows held out.")] = 0.25,
    public_fraction: Annotated[float, typer.Option("--public-fraction", help="Share of held-out rows scored "
                                                   "on the public leaderboard.")] = 0.5,
    max_daily: Annotated[int, typer.Option("--max-daily-submissions")] = 5,
    deadline: Annotated[str | None, typer.Option("--deadline", help="ISO date, e.g. 2026-12-31T23:59:00Z "
                                                 "(default: a year from now).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Fixes the shuffle and the public/private split.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite")] = False,
    split: Annotated[str, typer.Option("--split", help="How the test rows are drawn: random, time:COLUMN (the "
                                       "latest rows) or group:COLUMN (whole entities).")] = "random",
) -> None:
    """Build a competition folder from a labelled table: shuffle, split, sample submission, hidden answers.

    Example: podium arena prepare churn.csv --target churned --metric AUC --out arena/churn-2026
    """
    from agent.arena.catalog import parse_date
    from agent.arena.prepare import prepare_competition
    from agent.competition.tables import read_table
    from agent.errors import InputError

    try:
        try:
            moment = parse_date(deadline)
        except ValueError as exc:
            raise InputError(f"--deadline '{deadline}' is not an ISO date", fix="e.g. 2026-12-31T23:59:00Z") from exc
        folder = prepare_competition(
            read_table(labelled, "labelled"), target, metric, out, id_column=id_column, task=task, title=title,
            test_fraction=test_fraction, public_fraction=public_fraction, seed=seed, max_daily_submissions=max_daily,
            deadline=moment, overwrite=overwrite, split=split)
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    console.print(f"Prepared {folder}: public/ is what participants download, private/answers.csv stays hidden.")


@arena_app.command("demo")
def demo_command(
    task: Annotated[str, typer.Argument(help="A task of the development corpus, e.g. titanic, deliveries.")],
    out: Annotated[Path, typer.Option("--out", help="The new competition folder.")],
    rows: Annotated[int | None, typer.Option("--rows", help="At most this many labelled rows (default: all).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Fixes the shuffle and the split.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite")] = False,
) -> None:
    """Build one competition from the packaged development corpus (the dev extra), for a demo or a test bed.

    Example: podium arena demo titanic --out .demo/titanic
    """
    from agent.arena.demo import build_from_corpus

    try:
        folder = build_from_corpus(task, out, rows=rows, seed=seed, overwrite=overwrite)
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    console.print(f"Prepared {folder}: public/ is what participants download, private/answers.csv stays hidden.")


@arena_app.command("serve")
def serve_command(
    competitions: Competitions,
    port: Annotated[int, typer.Option("--port", "-p", help="0 picks a free port.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Interface to bind; 0.0.0.0 exposes the arena "
                                      "to the network.")] = "127.0.0.1",
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Seed the demo competitions when the folder "
                                       "holds none.")] = True,
    upload_limit_mb: Annotated[float, typer.Option("--upload-limit-mb", help="Largest submission file.")] = 100,
    throttle: Annotated[int, typer.Option("--throttle", help="Answer the first N API calls with 429 (to try "
                                          "a client's retries).")] = 0,
) -> None:
    """Serve the competitions over the Kaggle API until Ctrl-C.

    Example: podium arena serve --competitions arena --port 8000
    """
    import logging

    from agent.arena.demo import has_competitions, seed_demo
    from agent.arena.server import ArenaServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        competitions.mkdir(parents=True, exist_ok=True)
        if demo and not has_competitions(competitions):
            built = seed_demo(competitions)
            console.print(f"Seeded {len(built)} demo competitions: {', '.join(built)}")
        server = ArenaServer(competitions, host=host, port=port, upload_limit=int(upload_limit_mb * 2**20))
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    server.faults.throttle(throttle)
    count = len(server.catalog.all())
    console.print(f"Arena serving {count} competition{'' if count == 1 else 's'} from {competitions} at "
                  f"{server.url}", highlight=False,
                  soft_wrap=True)
    console.file.flush()
    server.serve_forever()  # until Ctrl-C or `kill` (SIGTERM): requests in flight finish first
    console.print("Arena stopped.")


@arena_app.command("add-user")
def add_user_command(name: Annotated[str, typer.Argument(help="Letters, digits, - and _.")],
                     competitions: Competitions) -> None:
    """Create a participant; prints their API key once (the arena keeps only its hash).

    Example: podium arena add-user alice --competitions arena
    """
    try:
        key = _store(competitions).add_user(name)
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    console.print(f"Created user {name}. Use KAGGLE_USERNAME={name} and this key (shown once): {key}",
                  highlight=False, soft_wrap=True)


@arena_app.command("host-key")
def host_key_command(competitions: Competitions) -> None:
    """Make a new host key, for the private leaderboards on the arena's pages; prints it once.

    Example: podium arena host-key --competitions arena
    """
    try:
        key = _store(competitions).new_host_key()
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    console.print("New host key (shown once; any earlier one stops working). Sign in with it at /host on the "
                  f"arena's pages: {key}", highlight=False, soft_wrap=True)


@arena_app.command("accept-rules")
def accept_rules_command(slug: str, user: Annotated[str, typer.Option("--user", help="The participant.")],
                         competitions: Competitions) -> None:
    """Record that USER accepted SLUG's rules: needed before downloading or submitting.

    Example: podium arena accept-rules titanic --user alice --competitions arena
    """
    from agent.errors import InputError

    try:
        store, competition = _competition(competitions, slug)
        participant = store.user(user)
        if participant is None:
            raise InputError(f"No user '{user}' in the arena", fix=f"create it: podium arena add-user {user}")
        store.accept_rules(participant, competition.slug)
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    console.print(f"{user} accepted the rules of {slug}.")


@arena_app.command("list")
def list_command(competitions: Competitions) -> None:
    """List the arena's competitions.

    Example: podium arena list --competitions arena
    """
    from agent.arena.catalog import Catalog

    try:
        store = _store(competitions)
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    table = Table("slug", "title", "metric", "deadline", "daily", "entrants")
    for c in Catalog(competitions, store.state / "blobs").all():
        table.add_row(c.slug, c.title, c.evaluation_metric, str(c.deadline or "-"), str(c.max_daily_submissions),
                      str(store.entrants(c.slug)))
    console.print(table)


@arena_app.command("leaderboard")
def leaderboard_command(slug: str, competitions: Competitions,
                        private: Annotated[bool, typer.Option("--private", help="Rank by the hidden private "
                                                              "scores (the host's view).")] = False) -> None:
    """Print a competition's leaderboard: each user's best score.

    Example: podium arena leaderboard titanic --competitions arena
    """
    from agent.arena.ranking import leaderboard
    from agent.competition.metrics import get_metric

    try:
        store, competition = _competition(competitions, slug)
        rows = leaderboard(store, competition, private=private or None)
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    direction = "higher" if get_metric(competition.evaluation_metric).greater_is_better else "lower"
    table = Table("rank", "user", "score", "submission", "date",
                  title=f"{competition.title}: {'private' if private else 'public'} leaderboard "
                        f"({competition.evaluation_metric}, {direction} is better)")
    for rank, row in enumerate(rows, 1):
        table.add_row(str(rank), row["user"], f"{row['score']:.6g}", str(row["ref"]), row["date"])
    console.print(table if rows else f"{competition.title}: no scored submissions yet.")


@arena_app.command("kaggle", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def kaggle_command(
    ctx: typer.Context,
    endpoint: Annotated[str | None, typer.Option("--endpoint", envvar="PODIUM_KAGGLE_ENDPOINT",
                                                 help="The arena's address.")] = None,
) -> None:
    """Run the official kaggle command-line tool against an arena (or any Kaggle-compatible endpoint).

    Example: podium arena kaggle --endpoint http://127.0.0.1:8000 competitions list
    """
    from agent.kaggle.kaggle_cli import run

    try:
        code = run(list(ctx.args), endpoint)
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    raise typer.Exit(code)
