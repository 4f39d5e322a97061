"""podium's command line. Heavy libraries load inside commands, so `podium --help` is instant."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agent.console import comma_list, console, errors, fail

app = typer.Typer(
    help="Enter a tabular ML competition with one command: a leaderboard submission and a production model.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)


@app.command("run")
def run_command(
    source: Annotated[str | None, typer.Argument(
        help="A competition folder (train, test, sample_submission: CSV or Parquet; or a competition.yaml naming a "
             "database), a database URL (postgresql://USER@HOST:PORT/DB, sqlite:///PATH, duckdb:///PATH), or a "
             "Kaggle slug or URL.")] = None,
    train: Annotated[str | None, typer.Option("--train", help="With a database URL: the train table, or a SELECT "
                                              "(default: the table named train).")] = None,
    test: Annotated[str | None, typer.Option("--test", help="With a database URL: the test table or a SELECT "
                                             "(default: the table named test).")] = None,
    sample_submission: Annotated[str | None, typer.Option(
        "--sample-submission", help="With a database URL: the sample submission's table or SELECT (default: the "
                                    "table so named, else built from the test ids and the target).")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", "-t", help="Wall-clock seconds for the whole "
                                                    "run (default from configs/default.yaml).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML over configs/default.yaml.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where run directories go (default runs/).")] = None,
    metric: Annotated[str | None, typer.Option("--metric", help="Kaggle metric name, e.g. 'AUC' or 'RMSLE'.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for folds and models.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Override the inferred target column.")] = None,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Override the inferred id column.")] = None,
    task: Annotated[str | None, typer.Option("--task", help="binary, multiclass or regression.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="How the test set was drawn, which the folds mirror: "
                                              "random, time:COLUMN, group:COLUMN or group_time:GROUP,TIME "
                                              "(default: inferred from train and test).")] = None,
    cpus: Annotated[int | None, typer.Option("--cpus", help="CPUs to use (default: all).")] = None,
    memory_gb: Annotated[float | None, typer.Option("--memory-gb", help="Memory (default: 80% of free).")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Join this Ray cluster instead of "
                                                    "starting a local Ray (also RAY_ADDRESS).")] = None,
    resume: Annotated[Path | None, typer.Option("--resume", help="Continue a stopped run from its directory: "
                                                "finished work (AutoGluon fit, Optuna trials) is kept.")] = None,
    submit: Annotated[bool, typer.Option("--submit", help="Submit submission.csv and wait for the public "
                                         "score.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Download the competition again, not from the "
                                          "cache.")] = False,
    kaggle_endpoint: Annotated[str | None, typer.Option("--kaggle-endpoint", envvar="PODIUM_KAGGLE_ENDPOINT",
                                                        help="A Kaggle-compatible server, e.g. an arena at "
                                                        "http://127.0.0.1:8000.")] = None,
    allow: Annotated[str | None, typer.Option("--allow", help="Comma-separated data-check names whose errors "
                                              "should not stop the run, e.g. single_feature_leak.")] = None,
    latency_ms: Annotated[float | None, typer.Option("--latency-ms", help="Production budget: p99 ms of one "
                                                     "single-row prediction (default 1.0).")] = None,
    size_mb: Annotated[float | None, typer.Option("--size-mb", help="Production budget: MB on disk "
                                                  "(default 5).")] = None,
    throughput: Annotated[float | None, typer.Option("--throughput", help="Production budget: rows/s at "
                                                     "batch 1000 (default: none).")] = None,
    require_onnx: Annotated[bool, typer.Option("--require-onnx", help="Ship only a production model that "
                                               "`podium export --onnx` can write.")] = False,
) -> None:
    """Enter a competition end to end and write runs/<competition>/<run-id>/.

    Example: podium run ./titanic --time-limit 600 --metric AUC

    Resume a killed run: podium run --resume runs/titanic/20261128-101500-1a2b3c

    From Kaggle, submitting at the end: podium run titanic --submit (docs/running.md)

    From a database (the password from PGPASSWORD or ~/.pgpass, as psql):
    podium run postgresql://ana@db:5432/shop --train train --test "SELECT * FROM test WHERE year = 2026" --target y
    """
    from agent.run.pipeline import RunOptions, run_competition

    options = RunOptions(
        started=_process_started,  # the time limit holds around the whole command, its imports included
        source=source, config_file=config, out=out, time_limit=time_limit, seed=seed, cpus=cpus, memory_gb=memory_gb,
        ray_address=ray_address, resume=resume,
        allow=comma_list(allow),
        submit=submit, refresh=refresh, kaggle_endpoint=kaggle_endpoint,
        tables={"train": train, "test": test, "sample_submission": sample_submission},
        production={"latency_ms": latency_ms, "size_mb": size_mb, "throughput": throughput,
                    "require_onnx": True if require_onnx else None},
        competition={"evaluation_metric": metric, "target": target, "id_column": id_column, "task": task,
                     "split": split},
    )
    try:
        with console.status("Starting", spinner="dots") as status:
            run = run_competition(options, notify=lambda message: status.update(f"{message}..."))
    except BaseException as error:  # noqa: BLE001 - every failure becomes one message and an exit code
        if isinstance(error, KeyboardInterrupt):
            errors.print("[bold red]interrupted[/]")
            raise typer.Exit(130) from None
        raise fail(error, "The run directory's podium.log has the details.") from None
    _print_run(run)



def _print_run(run) -> None:
    manifest = run.manifest
    table = Table(title=f"podium: {manifest['competition_slug']}", show_header=False)
    validation = manifest.get("validation") or {}
    direction = "higher is better" if validation.get("greater_is_better") else "lower is better"
    inferred = (manifest.get("competition") or {}).get("provenance", {}).get("evaluation_metric", "")
    metric = validation.get("metric") + (" [inferred: no metric given]" if inferred.startswith("inferred") else "")
    table.add_row("validation score", f"{validation.get('score', float('nan')):.5f}  "
                  f"({metric}, {direction}, {validation.get('method')})")
    table.add_row("model", str(validation.get("model")))
    table.add_row("time used", f"{manifest.get('seconds', 0):.1f} s of {manifest.get('time_limit')} s")
    table.add_row("submission", str(manifest.get("artifacts", {}).get("submission")))
    if manifest.get("submission"):
        table.add_row("leaderboard", _submission_text(manifest["submission"]))
    table.add_row("production model", _production_text(manifest.get("production") or {}))
    table.add_row("report", str(manifest.get("artifacts", {}).get("report", "not written (see podium.log)")))
    table.add_row("run directory", str(run.path))
    console.print(table)


def _production_text(record: dict) -> str:
    if record.get("error"):
        return f"[bold yellow]not produced:[/] {record['error']}"
    if not record:
        return "not produced"
    return (f"{record['model']}: score {record['score']:.5g} (gave up {record['score_given_up']:+.4g}), "
            f"p99 {record['p99_ms']:.3f} ms, {record['size_bytes'] / 2**20:.2f} MB -> {record['path']}")


def _submission_text(record: dict) -> str:
    score = record.get("public_score")
    shown = f"public score {score:.5f}" if score is not None else (record.get("error") or "not scored yet")
    return f"{record.get('status')} (ref {record.get('ref')}): {shown}"


@app.command("submit")
def submit_command(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory (holds manifest.json and "
                                            "submission.csv).")],
    message: Annotated[str | None, typer.Option("--message", "-m", help="The submission's description.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Submit again although this run was submitted.")] = False,
    kaggle_endpoint: Annotated[str | None, typer.Option("--kaggle-endpoint", envvar="PODIUM_KAGGLE_ENDPOINT",
                                                        help="Default: where the run's data came from.")] = None,
    wait: Annotated[float | None, typer.Option("--wait", help="Seconds to wait for the score "
                                               "(default kaggle.poll_wait).")] = None,
) -> None:
    """Submit a run's submission.csv, wait for its public score and record it in the run's manifest.

    Example: podium submit runs/titanic/20261128-101500-1a2b3c -m "AutoGluon, 10 minutes"
    """
    from agent.config import load_settings
    from agent.kaggle.submit import submit_run

    try:
        with console.status("Submitting", spinner="dots"):
            record = submit_run(run_dir, message=message, force=force, endpoint=kaggle_endpoint,
                                settings=load_settings().kaggle, wait=wait)
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    console.print(f"Submitted {run_dir}: {_submission_text(record)}", highlight=False)


@app.command("batch")
def batch_command(
    batch_file: Annotated[Path, typer.Argument(help="YAML: `competitions: [{source: ..., time_limit: ...}, ...]`.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where run directories go (default runs/).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML over configs/default.yaml.")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Join this Ray cluster (also "
                                                    "RAY_ADDRESS); run directories must be on shared storage.")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", "-t", min=1, help="Seconds per competition, "
                                                     "replacing the batch file's time limits.")] = None,
) -> None:
    """Run many competitions, each as its own Ray task; failures never stop the others.

    Example: podium batch configs/batch/example.yaml --out runs/
    On a cluster: ray job submit -- podium batch configs/batch/example.yaml --out /shared/runs
    """
    from agent.config import load_settings
    from agent.executor import RayExecutor
    from agent.run.batch import run_batch

    try:
        settings = load_settings()
        executor = RayExecutor(address=ray_address or settings.ray.address,
                               object_store_gb=settings.ray.object_store_gb)
        try:
            with console.status("Running the batch", spinner="dots") as status:
                rows, folder = run_batch(batch_file, out or Path(settings.run.out), executor, config,
                                         notify=lambda message: status.update(message), time_limit=time_limit)
        finally:
            executor.shutdown()
    except Exception as error:  # noqa: BLE001
        raise fail(error) from None
    table = Table("competition", "status", "metric", "validation score", "time (s)", "submission / error")
    for row in rows:
        score = f"{row.validation_score:.5f}" if row.validation_score is not None else "-"
        seconds = f"{row.seconds:.0f}" if row.seconds is not None else "-"
        detail = row.submission if row.status == "succeeded" else f"[red]{row.error}[/]"
        table.add_row(row.competition, row.status, row.metric or "-", score, seconds, detail)
    console.print(table)
    console.print(f"batch table: {folder / 'batch.csv'}")
    if any(row.status != "succeeded" for row in rows):
        raise typer.Exit(1)


@app.command("metrics")
def metrics_command() -> None:
    """List the evaluation metrics podium knows, by Kaggle's names.

    Example: podium metrics
    """
    from agent.competition.metrics import aliases, known_metrics

    table = Table("Kaggle name", "direction", "scores", "fits", "aliases")
    for metric in known_metrics():
        table.add_row(metric.name, "max" if metric.greater_is_better else "min", metric.needs,
                      ", ".join(sorted(metric.tasks)), ", ".join(aliases(metric)))
    console.print(table)


def _add_commands() -> None:
    """The commands on a run's outputs and the arena's, from their packages (typer and rich only at import:
    `podium --help` stays instant)."""
    from agent.arena.cli import arena_app
    from agent.services.cli import add_service_commands

    add_service_commands(app)
    app.add_typer(arena_app, name="arena")


_add_commands()


_process_started: float | None = None  # set by main(): a command run in a process of its own counts from its start


def main() -> None:
    global _process_started
    from agent.deadline import process_started

    _process_started = process_started()  # not when `app` is called in a longer-lived process (tests)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
