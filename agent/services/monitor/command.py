"""`podium monitor`: load the reference profile, read the new rows, compare, write drift.json and drift.png."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from agent.config import MonitorSettings, load_settings, read_yaml
from agent.errors import InputError
from agent.outputs import output_folder
from agent.runtime.profile import REFERENCE_PROFILE, Profile
from agent.runtime.schema import Schema
from agent.services.monitor.drift import DRIFT, DriftReport, compare
from agent.services.monitor.reader import read_monitored

DEFAULT_OUT = "monitor"  # under the artifact folder, unless --out says otherwise


def monitor_settings(config_file: str | os.PathLike | None = None, threshold: float | None = None) -> MonitorSettings:
    """configs/default.yaml's `monitor:` section, under an optional --config file, with --threshold on top."""
    settings = load_settings(*([(str(config_file), read_yaml(Path(config_file)))] if config_file else [])).monitor
    if threshold is None:
        return settings
    try:
        return MonitorSettings.model_validate({**settings.model_dump(), "psi_drift": threshold,
                                               "psi_warning": min(settings.psi_warning, threshold)})
    except ValidationError as exc:
        raise InputError(f"--threshold {threshold} is not a valid PSI threshold",
                         fix="pass a positive number such as 0.25 (0.1: moderate shift, 0.25: large)") from exc


def run_monitor(artifact_dir: str | os.PathLike, new_data: str | os.PathLike, out: str | os.PathLike | None = None,
                settings: MonitorSettings | None = None) -> tuple[DriftReport, dict[str, Path]]:
    """Compare `new_data` with the model's training profile and write the results; nothing is half-written."""
    artifact_dir = Path(artifact_dir)
    if not artifact_dir.is_dir():
        raise InputError("The artifact folder does not exist", where=str(artifact_dir),
                         fix=f"pass the production model's folder (the one holding {REFERENCE_PROFILE})")
    profile = Profile.load(artifact_dir / REFERENCE_PROFILE)
    folder = output_folder(out if out is not None else artifact_dir / DEFAULT_OUT, "--out")
    new = read_monitored(new_data)
    frame = new.frame
    schema_path = artifact_dir / "schema.json"
    if schema_path.is_file():  # the profile is of the parts the model reads a date as: so are the new rows
        frame = Schema.read(schema_path).derive(frame, where=new.record["source"])
    report = compare(profile, frame, settings or load_settings().monitor, where=new.record["source"])
    report.source = new.record
    if new.record.get("sampled"):
        report.notes.append(f"The new data was read as a sample: {new.record['note']}")
    paths = report.write(folder)
    return report, paths


def drift_table(report: DriftReport, limit: int = 30):
    """A Rich table of the features, worst first, for the terminal."""
    from rich.table import Table

    colours = {"ok": "green", "warning": "yellow", DRIFT: "red"}
    table = Table(title=f"drift: [{colours[report.verdict]}]{report.verdict}[/] "
                        f"({report.rows} new rows vs {report.reference_rows} training rows)")
    for header, justify in (("feature", "left"), ("kind", "left"), ("PSI", "right"), ("unseen", "right"),
                            ("missing: train → new", "right"), ("status", "left")):
        table.add_column(header, justify=justify)
    for feature in report.features[:limit]:
        table.add_row(
            feature.name, feature.kind, "-" if feature.psi is None else f"{feature.psi:.3f}",
            "-" if feature.unseen_share is None else f"{100 * feature.unseen_share:.1f}%",
            f"{100 * feature.missing_reference:.1f}% → {100 * feature.missing_new:.1f}%",
            f"[{colours[feature.status]}]{feature.status}[/]")
    if len(report.features) > limit:
        table.caption = f"{len(report.features) - limit} more feature(s) in drift.json"
    return table
