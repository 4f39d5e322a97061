"""podium's command line. Heavy libraries load inside commands, so `podium --help` is instant."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Enter a tabular ML competition with one command: a leaderboard submission and a production model.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


def fail(error: BaseException, hint: str | None = None) -> typer.Exit:
    """Print an error as one paragraph; return the exit to raise (PodiumError's code, else 1)."""
    from agent.errors import PodiumError

    if isinstance(error, PodiumError):
        errors.print(f"[bold red]error:[/] {error.message}", highlight=False)
        return typer.Exit(error.exit_code)
    errors.print(f"[bold red]podium failed unexpectedly:[/] {type(error).__name__}: {error}", highlight=False)
    if hint:
        errors.print(hint, highlight=False)
    return typer.Exit(1)


@app.command("run")
def run_command(
    source: Annotated[str, typer.Argument(help="A competition folder (train.csv, test.csv, sample_submission.csv).")],
    time_limit: Annotated[float | None, typer.Option("--time-limit", "-t", help="Wall-clock seconds for the whole "
                                                    "run (default from configs/default.yaml).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML over configs/default.yaml.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where run directories go (default runs/).")] = None,
    metric: Annotated[str | None, typer.Option("--metric", help="Kaggle metric name, e.g. 'AUC' or 'RMSLE'.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for folds and models.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Override the inferred target column.")] = None,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Override the inferred id column.")] = None,
    task: Annotated[str | None, typer.Option("--task", help="binary, multiclass or regression.")] = None,
    cpus: Annotated[int | None, typer.Option("--cpus", help="CPUs to use (default: all).")] = None,
    memory_gb: Annotated[float | None, typer.Option("--memory-gb", help="Memory (default: 90% of free).")] = None,
) -> None:
    """Enter a competition end to end and write runs/<competition>/<run-id>/.

    Example: podium run ./titanic --time-limit 600 --metric AUC
    """
    from agent.pipeline import RunOptions, run_competition

    options = RunOptions(
        source=source, config_file=config, out=out, time_limit=time_limit, seed=seed, cpus=cpus, memory_gb=memory_gb,
        competition={"evaluation_metric": metric, "target": target, "id_column": id_column, "task": task},
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
    table.add_row("validation score", f"{validation.get('score', float('nan')):.5f}  "
                  f"({validation.get('metric')}, {direction}, {validation.get('method')})")
    table.add_row("model", str(validation.get("model")))
    table.add_row("time used", f"{manifest.get('seconds', 0):.1f} s of {manifest.get('time_limit')} s")
    table.add_row("submission", str(manifest.get("artifacts", {}).get("submission")))
    table.add_row("run directory", str(run.path))
    console.print(table)


@app.command("metrics")
def metrics_command() -> None:
    """List the evaluation metrics podium knows, by Kaggle's names.

    Example: podium metrics
    """
    from agent.metrics import aliases, known_metrics

    table = Table("Kaggle name", "direction", "scores", "fits", "aliases")
    for metric in known_metrics():
        table.add_row(metric.name, "max" if metric.greater_is_better else "min", metric.needs,
                      ", ".join(sorted(metric.tasks)), ", ".join(aliases(metric)))
    console.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
