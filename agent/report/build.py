"""Build report.md and report.html from a run directory alone, and write them atomically.

Everything is read and rendered in memory first; only then are files replaced, each atomically, so an
error leaves the previous report as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.atomic import write_bytes, write_text
from agent.errors import PodiumError
from agent.report import fmt
from agent.report.checks import checks_section
from agent.report.comparison import comparison_section
from agent.report.document import Report, Section, Text
from agent.report.inputs import RunInputs, read_run
from agent.report.leaderboard import SCORES_PNG, leaderboard_section
from agent.report.overview import competition_section, problems_section, status_text, summary
from agent.report.production import FRONTIER_PNG, production_section
from agent.report.relations import relations_section
from agent.report.render_html import render_html
from agent.report.render_markdown import FIGURES_DIR, render_markdown
from agent.report.retrain import retrain_section
from agent.report.submission import submission_section
from agent.report.timings import PHASES_PNG, timings_section

log = logging.getLogger("podium.report")
REPORT_MD, REPORT_HTML = "report.md", "report.html"
KNOWN_FIGURES = (SCORES_PNG, FRONTIER_PNG, PHASES_PNG)
SECTIONS: tuple[tuple[str, str, Callable[[RunInputs], Section | None]], ...] = (  # None: not for this run
    ("Retrain decision", "retrain", retrain_section),
    ("Competition and settings", "competition", competition_section),
    ("Side tables", "relations", relations_section),
    ("Data checks", "checks", checks_section),
    ("Leaderboard model", "leaderboard", leaderboard_section),
    ("Production model", "production", production_section),
    ("Both models side by side", "comparison", comparison_section),
    ("Time per phase", "timings", timings_section),
    ("Submission", "submission", submission_section),
)


def build_report(inputs: RunInputs) -> Report:
    """The report's content; a section that cannot be built says why instead of sinking the others."""
    m = inputs.manifest
    problems = problems_section(inputs)
    sections = [problems] if problems is not None else []
    for title, anchor, build in SECTIONS:
        try:
            section = build(inputs)
            if section is not None:
                sections.append(section)
        except Exception as error:  # noqa: BLE001 - one odd field must not cost the whole report
            log.warning("The report's %r section failed: %s", title, error, exc_info=True)
            sections.append(Section(title, anchor, [Text(
                f"This section could not be built from the run's files ({type(error).__name__}: {error}).",
                "error")]))
    title = f"podium run report: {fmt.plain(m.get('competition_slug'))} / {fmt.plain(m.get('run_id'))}"
    return Report(title=title, summary=summary(inputs), sections=sections,
                  status=status_text(m).split()[0])


def write_report(run_dir: Path) -> dict[str, Path]:
    """Rebuild report.md, report.html and report_figures/ in `run_dir`; return the files by name.

    InputError when `run_dir` is not a podium run directory. Works on failed and unfinished runs: what
    is missing is shown as "not produced".
    """
    started = time.monotonic()
    inputs = read_run(Path(run_dir))
    report = build_report(inputs)
    markdown, html = render_markdown(report), render_html(report)
    folder = inputs.path / FIGURES_DIR
    written: dict[str, Path] = {}
    for figure in report.figures:
        written[Path(figure.name).stem] = write_bytes(folder / figure.name, figure.png)
    for name in KNOWN_FIGURES:  # a figure this report no longer shows must not linger beside it
        if Path(name).stem not in written:
            (folder / name).unlink(missing_ok=True)
    written["markdown"] = write_text(inputs.path / REPORT_MD, markdown)
    written["html"] = write_text(inputs.path / REPORT_HTML, html)
    log.info("Wrote %s and %s in %.1f s", written["markdown"], written["html"], time.monotonic() - started)
    return written


@contextmanager
def failure_reported(run, logger: logging.Logger, what: str) -> Iterator[None]:
    """A failure inside is logged (a PodiumError by its message alone), marks the run failed, gets the
    report written, and goes on up."""
    try:
        yield
    except BaseException as error:
        if isinstance(error, PodiumError):
            logger.error("%s failed: %s", what, error.message)
        else:
            logger.exception("%s failed", what)
        run.fail(error)
        report_run(run)
        raise


def report_run(run) -> None:
    """Write a run's report and record it in the manifest; a report that cannot be built never fails the run."""
    try:
        written = write_report(run.path)
        run.update(artifacts={**run.manifest.get("artifacts", {}), "report": str(written["html"])})
    except Exception:  # noqa: BLE001 - the run's outcome stands; the log says what went wrong
        log.exception("Could not write the run report (rebuild it with `podium report %s`)", run.path)
