"""Submit a finished run's submission.csv and record what the server made of it in the run's manifest.

The flow: validate the file against the competition's sample (nothing is sent if it is wrong), check the
day's allowance, upload (a failed upload comes back as ref 0 and "Could not submit to competition", not an
exception), then poll until the server scores it or `poll_wait` runs out. `manifest.json` gets a
`submission` record before the upload and after every step, so a second `podium submit` can refuse to send
the same run twice, even after a crash.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from agent.competition.inference import Competition
from agent.competition.submission import validate_submission
from agent.competition.tables import read_table
from agent.config import KaggleSettings
from agent.deadline import Deadline
from agent.errors import InputError, PodiumError, RemoteError, SubmissionError
from agent.kaggle.client import UPLOAD_FAILED, KaggleRemote
from agent.kaggle.endpoint import resolve_endpoint
from agent.rundir import Run, utc_now

log = logging.getLogger("podium.kaggle")
MAX_POLL_INTERVAL = 15.0
PENDING, COMPLETE, ERROR = "PENDING", "COMPLETE", "ERROR"
FAILED, INTERRUPTED = "failed", "interrupted"  # never reached the server / may or may not have


def submit_run(run_dir: str | Path, message: str | None = None, force: bool = False, endpoint: str | None = None,
               settings: KaggleSettings | None = None, wait: float | None = None) -> dict[str, Any]:
    """Submit the run's submission.csv; return the manifest's `submission` record (ref, status, scores, error)."""
    settings = settings or KaggleSettings()
    run = Run.load(Path(run_dir))
    manifest = run.manifest
    slug = manifest.get("competition_slug")
    previous = manifest.get("submission") or {}
    if previous and not force:
        _refuse_second_submit(previous, run.path)
    path, competition = _validated_file(run)
    endpoint = resolve_endpoint(endpoint, settings.endpoint) or (manifest.get("host_metadata") or {}).get("endpoint")
    remote = KaggleRemote(endpoint, settings)
    _check_allowance(remote, slug)

    record: dict[str, Any] = {
        "competition": slug, "endpoint": endpoint, "file": str(path), "message": message or _default_message(run),
        "status": INTERRUPTED, "ref": None, "public_score": None, "private_score": None, "error": None,
        "started_at": utc_now(), "submitted_at": None, "scored_at": None,
    }
    if previous:
        record["replaces"] = {k: previous.get(k) for k in ("ref", "status", "public_score")}
    run.update(submission=record)  # before the upload: a crash from here on must not allow a silent resubmit
    try:
        response = remote.submit(str(path), record["message"], slug)
    except PodiumError as error:
        record.update(status=FAILED if _refused(error) else INTERRUPTED, error=error.message)
        run.update(submission=record)
        raise
    ref = int(getattr(response, "ref", 0) or 0)
    if not ref or getattr(response, "message", "") == UPLOAD_FAILED:
        record.update(status=FAILED, error=f"the server answered ref {ref} and {response.message!r}")
        run.update(submission=record)
        raise RemoteError(f"{remote.label} did not accept the upload of {path.name} (ref {ref}: "
                          f"'{response.message}'); nothing was submitted",
                          fix="check the file's size against the server's upload limit, then run "
                              f"`podium submit {run.path}` again")
    record.update(ref=ref, status=PENDING, submitted_at=utc_now())
    run.update(submission=record)
    log.info("Submitted %s to %s as ref %d", path, remote.label, ref)

    _poll(remote, slug, record, settings.poll_wait if wait is None else wait, settings.poll_interval, run)
    if record["status"] == ERROR:
        raise RemoteError(f"{remote.label} could not score submission {ref}: {record['error']}",
                          where=str(path), fix="fix the file (the error names the problem) and submit with --force")
    return record


def _refuse_second_submit(previous: dict[str, Any], run_path: Path) -> None:
    status = previous.get("status")
    if status == FAILED and not previous.get("ref"):
        return  # the server never accepted it: submitting again is not a second submission
    if previous.get("ref"):
        score = previous.get("public_score")
        detail = f"ref {previous['ref']}, status {status}" + (f", public score {score}" if score is not None else "")
        raise SubmissionError(f"This run was already submitted ({detail})", where=str(run_path / "manifest.json"),
                              fix="pass --force to submit it again (it uses another of today's submissions)")
    raise SubmissionError("A previous submit of this run was interrupted: the server may or may not have it",
                          where=str(run_path / "manifest.json"),
                          fix=f"check with `kaggle competitions submissions {previous.get('competition')}`, then "
                              "pass --force to submit anyway")


def _validated_file(run: Run) -> tuple[Path, Competition]:
    """The run's submission.csv, checked against the sample submission it was written for."""
    manifest = run.manifest
    path = Path((manifest.get("artifacts") or {}).get("submission") or run.file("submission.csv"))
    if not path.is_file():
        raise InputError("This run has no submission.csv to submit", where=str(run.path),
                         fix="submit a run that finished (status succeeded), or run the competition again")
    if "competition" not in manifest:
        raise InputError("The run's manifest has no inferred competition, so its submission cannot be checked",
                         where=str(run.file("manifest.json")))
    competition = Competition.from_dict(manifest["competition"])
    sample_path = Path((manifest.get("competition_files") or {}).get("sample_submission", ""))
    if not sample_path.is_file():
        raise InputError("The competition's sample submission is gone, so the file cannot be checked",
                         where=str(sample_path), fix="run `podium run SLUG --refresh` to fetch the files again")
    validate_submission(read_table(path, "submission"), competition, read_table(sample_path, "sample submission"))
    return path, competition


def _check_allowance(remote: KaggleRemote, slug: str) -> None:
    limits = remote.limits(slug)
    # Kaggle answers all zeros for someone not on a team yet: that is "unknown", not "none left".
    if limits.num_allowed_now <= 0 and (limits.num_today or limits.num_total):
        cap = " (the competition's lifetime cap)" if limits.limited_by_total else ""
        raise RemoteError(f"No submissions left today on {remote.label}{cap}: {limits.num_today} made today, "
                          f"{limits.num_total} in all", fix="submit after 00:00 UTC with `podium submit RUN_DIR`")


def _poll(remote: KaggleRemote, slug: str, record: dict[str, Any], wait: float, interval: float, run: Run) -> None:
    """Update `record` from the server until it is scored or `wait` seconds pass (then it stays PENDING)."""
    deadline = Deadline.after(wait)
    while True:
        submission = remote.submission(record["ref"], slug)
        status = submission.status.name if submission.status is not None else PENDING
        record.update(status=status, public_score=_number(submission.public_score),
                      private_score=_number(submission.private_score),
                      error=(submission.error_description or "").strip() or None)
        if status != PENDING:
            record["scored_at"] = utc_now()
            run.update(submission=record)
            return
        if interval > deadline.remaining():
            log.warning("Submission %s is not scored after %.0f s; it stays PENDING in the manifest",
                        record["ref"], wait)
            run.update(submission=record)
            return
        time.sleep(interval)
        interval = min(MAX_POLL_INTERVAL, interval * 1.5)


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _refused(error: PodiumError) -> bool:
    """True when the server answered with a 4xx: the submission certainly was not created."""
    status = getattr(getattr(error.__cause__, "response", None), "status_code", None)
    return status is not None and 400 <= status < 500


def _default_message(run: Run) -> str:
    validation = run.manifest.get("validation") or {}
    score = validation.get("score")
    shown = f" {validation.get('metric')} {score:.5f}" if isinstance(score, int | float) else ""
    return f"podium {run.manifest.get('run_id')}: {validation.get('model') or 'model'}{shown} (out-of-fold)"
