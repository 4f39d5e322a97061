"""The commands that work on what a run left behind: predict, serve, export, monitor, retrain, report.

Each loads what it needs inside the command, so `podium --help` stays instant; `cli.py` adds them to podium's
command line (`add_service_commands`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agent.console import comma_list, console, errors, fail


def add_service_commands(app: typer.Typer) -> None:
    """Add this module's commands to `app`, in the order `podium --help` lists them."""
    for name, command in (("monitor", monitor_command), ("predict", predict_command), ("serve", serve_command),
                          ("export", export_command), ("retrain", retrain_command), ("report", report_command)):
        app.command(name)(command)



def monitor_command(
    artifact_dir: Annotated[Path, typer.Argument(help="The production model's folder (holds reference_profile.json).")],
    new_data: Annotated[str, typer.Argument(help="New rows: a CSV or Parquet file, a JSON-lines request log, or a "
                                            "database table or query (postgresql://USER@HOST/DB#TABLE).")],
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


def predict_command(
    artifact_dir: Annotated[Path, typer.Argument(help="A production model folder (runs/<competition>/<run-id>/"
                                                 "production).")],
    data: Annotated[str, typer.Argument(help="Rows with the training columns: a CSV or Parquet file, or a database "
                                        "table or query (postgresql://USER@HOST/DB#TABLE, ...#SELECT ...).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write the predictions: a .csv or .parquet "
                                        "file, or a database table (postgresql://USER@HOST/DB#TABLE), replaced in "
                                        "one transaction.")],
    strict: Annotated[bool, typer.Option("--strict", help="Refuse categories never seen in training "
                                         "(default: treat them like rare ones, with a warning).")] = False,
) -> None:
    """Predict with a production model: validate DATA against its schema.json, write OUTPUT atomically.

    Example: podium predict runs/titanic/RUN_ID/production new_rows.csv -o predictions.csv

    From and to a database: podium predict runs/shop/RUN_ID/production "postgresql://ana@db/shop#SELECT * FROM
    visits WHERE day = current_date" -o "postgresql://ana@db/shop#predictions"
    """
    try:
        from agent.runtime.predict import predict_file

        report = predict_file(artifact_dir, data, output, strict=strict)
    except Exception as error:  # noqa: BLE001 - every failure becomes one message and an exit code
        raise fail(error) from None
    for warning in report.warnings:
        errors.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(f"wrote {report.rows} predictions to {report.output}", highlight=False)


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


def export_command(
    artifact_dir: Annotated[Path, typer.Argument(help="A production model folder (runs/<competition>/<run-id>/"
                                                 "production).")],
    onnx: Annotated[Path, typer.Option("--onnx", help="Where to write the ONNX graph (e.g. model.onnx); written "
                                       "whole or not at all.")],
) -> None:
    """Export a production model, encoder included, as one ONNX graph that ONNX Runtime serves from raw rows
    (docs/production.md#onnx-export): one input per column, outputs `prediction` and `submission`.

    Example: podium export runs/titanic/RUN_ID/production --onnx titanic.onnx

    The graph is checked against the artifact (load_model) on probe rows before it is written; a model that
    cannot be exported (AutoGluon, date columns, side-table joins) exits 2 with the reason.
    """
    try:
        from agent.runtime.onnx import export_onnx

        result = export_onnx(artifact_dir, onnx)
    except Exception as error:  # noqa: BLE001 - every failure becomes one message and an exit code
        raise fail(error) from None
    inputs = ", ".join(f"{i['name']} ({i['type']})" for i in result.inputs)
    console.print(f"wrote {result.path} ({result.bytes:,} bytes); inputs: {inputs}; outputs: prediction, "
                  f"submission; agrees with the artifact on {result.agreement.rows} probe rows (largest relative "
                  f"difference {result.agreement.max_relative_difference:.1e})", highlight=False, soft_wrap=True)


def retrain_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with a production model (runs/<competition>/"
                                            "<run-id>).")],
    data: Annotated[str, typer.Option("--data", "-d", help="New labelled rows: the original train.csv's columns "
                                      "(features and target; id optional): a CSV or Parquet file, or a database "
                                      "table or query (postgresql://USER@HOST/DB#TABLE).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where the new run directory goes (default: "
                                             "beside RUN_DIR, runs/<competition>/<new-run-id>).")] = None,
    holdout: Annotated[float | None, typer.Option("--holdout", help="Share of the new rows held back to compare "
                                                  "both models (default retrain.holdout, 0.2).")] = None,
    holdout_data: Annotated[str | None, typer.Option("--holdout-data", help="Score both models on these labelled "
                                                     "rows instead (trusted labels; a file or a database "
                                                     "URL#table); all of --data trains.")] = None,
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
                             time_budget_s=time_budget, allow=comma_list(allow),
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
