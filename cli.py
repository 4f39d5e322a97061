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
    source: Annotated[str | None, typer.Argument(
        help="A competition folder (train.csv, test.csv, sample_submission.csv), or a Kaggle slug or URL.")] = None,
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
) -> None:
    """Enter a competition end to end and write runs/<competition>/<run-id>/.

    Example: podium run ./titanic --time-limit 600 --metric AUC

    Resume a killed run: podium run --resume runs/titanic/20261128-101500-1a2b3c

    From Kaggle, submitting at the end: podium run titanic --submit (docs/running.md)
    """
    from agent.run.pipeline import RunOptions, run_competition

    options = RunOptions(
        source=source, config_file=config, out=out, time_limit=time_limit, seed=seed, cpus=cpus, memory_gb=memory_gb,
        ray_address=ray_address, resume=resume,
        allow=_names(allow),
        submit=submit, refresh=refresh, kaggle_endpoint=kaggle_endpoint,
        production={"latency_ms": latency_ms, "size_mb": size_mb, "throughput": throughput},
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


def _names(text: str | None) -> tuple[str, ...]:
    """'a, b' -> ('a', 'b'): the --allow lists."""
    return tuple(name.strip() for name in (text or "").split(",") if name.strip())


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


@app.command("monitor")
def monitor_command(
    artifact_dir: Annotated[Path, typer.Argument(help="The production model's folder (holds reference_profile.json).")],
    new_data: Annotated[Path, typer.Argument(help="New rows: a CSV, or a JSON-lines request log.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where drift.json and drift.png go "
                                             "(default ARTIFACT_DIR/monitor).")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="PSI at or above which a feature has "
                                                    "drifted (default monitor.psi_drift, 0.25).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML over configs/default.yaml.")] = None,
) -> None:
    """Compare new data with a production model's training data; exit 0 ok, 1 drift, 2 bad input.

    Example: podium monitor runs/titanic/RUN_ID/production new_rows.csv --out drift/ --threshold 0.2
    """
    try:
        from agent.services.monitor.command import drift_table, monitor_settings, run_monitor

        report, paths = run_monitor(artifact_dir, new_data, out, monitor_settings(config, threshold))
    except Exception as error:  # noqa: BLE001 - exit 1 means drift to cron and CI, so every failure exits 2
        fail(error)
        raise typer.Exit(2) from None
    console.print(drift_table(report))
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"wrote {paths['json']} and {paths['png']}", highlight=False)
    if report.verdict == "drift":
        raise typer.Exit(1)


@app.command("predict")
def predict_command(
    artifact_dir: Annotated[Path, typer.Argument(help="A production model folder (runs/<competition>/<run-id>/"
                                                 "production).")],
    data: Annotated[Path, typer.Argument(help="A CSV of rows with the training columns (strings and blanks ok).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the predictions CSV.")],
    strict: Annotated[bool, typer.Option("--strict", help="Refuse categories never seen in training "
                                         "(default: treat them like rare ones, with a warning).")] = False,
) -> None:
    """Predict with a production model: validate DATA against its schema.json, write OUTPUT atomically.

    Example: podium predict runs/titanic/RUN_ID/production new_rows.csv -o predictions.csv
    """
    try:
        from agent.runtime.predict import predict_file

        report = predict_file(artifact_dir, data, output, strict=strict)
    except Exception as error:  # noqa: BLE001 - every failure becomes one message and an exit code
        raise fail(error) from None
    for warning in report.warnings:
        errors.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(f"wrote {report.rows} predictions to {report.output}", highlight=False)


@app.command("serve")
def serve_command(
    artifact_dir: Annotated[Path, typer.Argument(help="A production model folder (runs/<competition>/<run-id>/"
                                                 "production).")],
    port: Annotated[int | None, typer.Option("--port", "-p", help="TCP port (default serve.port, 8080; 0 picks a "
                                             "free one).")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1: this machine "
                                             "only).")] = None,
    request_log: Annotated[Path | None, typer.Option("--request-log", help="Append each request's input rows to "
                                                     "this JSON-lines file, for `podium monitor` (default: off).")
                           ] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Most rows per request (default "
                                                 "1000).")] = None,
    max_body_bytes: Annotated[int | None, typer.Option("--max-body-bytes", help="Largest request body (default "
                                                       "1000000).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Processes sharing the port (default "
                                                "1; one per core).")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Deploy on this Ray cluster with Ray "
                                                    "Serve instead ('auto': the local one).")] = None,
    replicas: Annotated[int | None, typer.Option("--replicas", help="Ray Serve replicas (default 1; with "
                                                 "--max-replicas, the least).")] = None,
    max_replicas: Annotated[int | None, typer.Option("--max-replicas", help="Ray Serve autoscales up to this many "
                                                     "replicas (default: a fixed count).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML over configs/default.yaml "
                                                "(its serve: section).")] = None,
) -> None:
    """Serve a production model over HTTP: POST /predict with JSON rows, GET /health, GET /metrics, GET /docs
    (docs/serving.md).

    Example: podium serve runs/titanic/RUN_ID/production --port 8080 --request-log requests.jsonl

    Then: curl -s localhost:8080/predict -H 'Content-Type: application/json' -d '{"rows": [{"pclass": 3, ...}]}'
    """
    try:
        from agent.services.serve import run_server, serve_settings

        settings = serve_settings(config, host=host, port=port, max_rows=max_rows, max_body_bytes=max_body_bytes,
                                  request_log=str(request_log) if request_log else None, workers=workers,
                                  ray_address=ray_address, replicas=replicas, max_replicas=max_replicas)

        def ready(listening) -> None:
            log_text = settings.request_log or "off"
            workers = f"{listening.workers} {listening.unit}; " if listening.workers > 1 else ""
            console.print(f"serving {listening.model} on {listening.url} (POST /predict, GET /health, GET /metrics, "
                          f"GET /docs); {workers}request log: {log_text}; Ctrl+C stops", highlight=False,
                          soft_wrap=True)

        answered = run_server(artifact_dir, settings, ready=ready)
    except Exception as error:  # noqa: BLE001 - every failure becomes one message and an exit code
        raise fail(error) from None
    console.print("stopped" if answered is None else f"stopped after {answered} prediction request(s)",
                  highlight=False)


@app.command("retrain")
def retrain_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with a production model (runs/<competition>/"
                                            "<run-id>).")],
    data: Annotated[Path, typer.Option("--data", "-d", help="New labelled rows: the original train.csv's columns "
                                       "(features and target; id optional).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where the new run directory goes (default: "
                                             "beside RUN_DIR, runs/<competition>/<new-run-id>).")] = None,
    holdout: Annotated[float | None, typer.Option("--holdout", help="Share of the new rows held back to compare "
                                                  "both models (default retrain.holdout, 0.2).")] = None,
    holdout_data: Annotated[Path | None, typer.Option("--holdout-data", help="Score both models on this labelled "
                                                      "file instead (trusted labels); all of --data trains.")
                            ] = None,
    time_budget: Annotated[float | None, typer.Option("--time-budget", help="Seconds for the production search "
                                                      "(default: the run's production.time_share x "
                                                      "time_limit).")] = None,
    allow: Annotated[str | None, typer.Option("--allow", help="Comma-separated data-check names whose errors "
                                              "may pass (as for podium run).")] = None,
) -> None:
    """Retrain a run's production model on new data; keep the current one if the retrained one is worse.

    Example: podium retrain runs/titanic/20261128-101500-1a2b3c --data new_train.csv --holdout 0.2

    Exit 0 whichever model is kept (the new run's production/ holds it), 2 for bad input (docs/retraining.md).
    """
    try:
        from agent.services.retrain import retrain

        with console.status("Retraining", spinner="dots") as status:
            result = retrain(run_dir, data, out=out, holdout=holdout, holdout_data=holdout_data,
                             time_budget_s=time_budget, allow=_names(allow),
                             notify=lambda message: status.update(f"{message}..."))
    except BaseException as error:  # noqa: BLE001 - every failure becomes one message and an exit code
        if isinstance(error, KeyboardInterrupt):
            errors.print("[bold red]interrupted[/]")
            raise typer.Exit(130) from None
        raise fail(error, "The new run directory's podium.log has the details.") from None
    _print_retrain(result)


def _print_retrain(result) -> None:
    decision, record = result.decision, result.run.manifest.get("retrain", {})
    direction = "higher is better" if decision.greater_is_better else "lower is better"
    table = Table(title=f"podium retrain: {decision.metric} ({direction}), {decision.holdout_rows} holdout rows")
    for header, justify in (("", "left"), ("model", "left"), ("holdout score", "right"),
                            ("own validation", "right"), ("decision", "left")):
        table.add_column(header, justify=justify)
    kept = decision.keep == "current"
    for role, score, shipped in (("current", decision.current_score, kept),
                                 ("retrained", decision.retrained_score, not kept)):
        validation = (record.get(role) or {}).get("validation_score")
        name = result.current_model if role == "current" else (result.retrained_model or "(none)")
        table.add_row(role, name, "-" if score is None else f"{score:.6g}",
                      "-" if validation is None else f"{validation:.6g}",
                      ("[green]kept[/]" if kept else "[green]ships[/]") if shipped else
                      ("replaced" if role == "current" else "rejected"))
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    for reason in decision.reasons:
        console.print(reason, highlight=False, soft_wrap=True)
    console.print(f"new run: {result.run.path}\nproduction model: {result.production}", highlight=False,
                  soft_wrap=True)


@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (holds manifest.json), finished, failed or "
                                            "partial.")],
) -> None:
    """Rebuild a run's report.md and self-contained report.html from its directory (docs/report.md).

    Example: podium report runs/titanic/20261128-101500-1a2b3c
    """
    try:
        from agent.report import write_report

        paths = write_report(run_dir)
    except Exception as error:  # noqa: BLE001 - every failure becomes one message and an exit code
        raise fail(error) from None
    console.print(f"wrote {paths['html']} and {paths['markdown']}", highlight=False, soft_wrap=True)


def _add_arena() -> None:
    from agent.arena.cli import arena_app  # typer and rich only: `podium --help` stays instant

    app.add_typer(arena_app, name="arena")


_add_arena()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
