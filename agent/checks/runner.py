"""Run every data check in order, time each, and gather the findings into one report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from agent.checks import duplicates, leakage, relations, schema, shift
from agent.checks.context import CheckContext
from agent.checks.report import Bound, Finding, QualityReport
from agent.competition.inference import Competition
from agent.competition.tables import CompetitionData
from agent.config import QualitySettings
from agent.deadline import Deadline

log = logging.getLogger("podium.quality")
Check = Callable[[CheckContext], list[Finding]]

# (function, the check names its findings may carry): the names are what --allow accepts.
CHECKS: tuple[tuple[Check, tuple[str, ...]], ...] = (
    (schema.check_column_mismatch, ("column_mismatch",)),
    (schema.check_type_mismatch, ("type_mismatch",)),
    (duplicates.check_duplicate_ids, ("duplicate_ids",)),
    (duplicates.check_duplicate_rows, ("duplicate_rows", "train_test_duplicates")),
    (schema.check_constant_columns, ("constant_columns", "near_constant_columns")),
    (schema.check_missing_values, ("missing_values",)),
    (schema.check_missing_target, ("missing_target",)),
    (schema.check_high_cardinality, ("high_cardinality",)),
    (schema.check_unseen_categories, ("unseen_categories",)),
    (leakage.check_target_in_features, ("target_in_features",)),
    (leakage.check_single_feature_leak, ("single_feature_leak",)),
    (leakage.check_id_and_order, ("id_predicts_target", "row_order_predicts_target")),
    (relations.check_relation_keys, ("relation_coverage", "relation_repeated_keys")),
    (shift.check_adversarial_validation, ("adversarial_validation",)),
)
CHECK_NAMES: tuple[str, ...] = tuple(name for _, names in CHECKS for name in names)


def run_checks(competition: Competition, data: CompetitionData, settings: QualitySettings | None = None, *,
               allow: Iterable[str] = (), seed: int = 0, n_jobs: int = 1,
               deadline: Deadline | None = None) -> QualityReport:
    """Check the data before any training. `allow` (with `settings.allow`) names checks whose errors may pass.

    `n_jobs` is LightGBM's thread count for adversarial validation. One thread is the default: on busy
    shared cores, OpenMP threads stall each other (docs/benchmarks.md).

    `deadline` is the moment by which the checks must be done (None: no bound, every check
    on every column). A check that would start after it is skipped; each check that starts may use an equal
    share of the time left (what a quick check leaves over goes to the next ones), and the per-column checks
    examine at most `settings.max_columns` columns and stop at the end of their share. Everything skipped or
    sampled is in `report.bounds`, and as a finding (a warning for a skipped check, whose errors would go
    unseen; an info for a sample), so a check that did not run is never mistaken for one that passed.

    A check that crashes becomes a warning finding rather than stopping the run: the checks advise,
    and a bug in one must not cost the user their run.
    """
    if settings is None:
        from agent.config import load_settings

        settings = load_settings().quality
    report = QualityReport(findings=[], checks=list(CHECK_NAMES),
                           rows={"train": len(data.train), "test": len(data.test)},
                           features=len(competition.features), seconds={},
                           allow=frozenset(settings.allow) | frozenset(allow), known_checks=frozenset(CHECK_NAMES),
                           seconds_allowed=None if deadline is None else max(0.0, deadline.remaining()))
    report.blocking()  # an unknown name in allow fails now, before seconds are spent on checks
    ctx = CheckContext(competition, data.train, data.test, settings, seed=seed, n_jobs=n_jobs, deadline=deadline,
                       bounds=report.bounds, relations=data.relations.get("record", {}))
    started = time.perf_counter()
    for index, (check, names) in enumerate(CHECKS):
        key = check.__name__.removeprefix("check_")
        begun = time.perf_counter()
        if deadline is not None and deadline.passed():
            report.bounds.append(Bound(key, "skipped", "deadline reached"))
            report.findings.append(Finding(
                names[0], "warning", "Skipped: the data checks reached their deadline before this check started, "
                "so it did not run; any error it would have found is missing from this report", (),
                {"skipped": True, "reason": "deadline reached"}))
            report.seconds[key] = 0.0
            continue
        if deadline is not None:
            ctx.check_deadline = Deadline.after(deadline.remaining() / (len(CHECKS) - index))
        first_bound = len(report.bounds)
        try:
            report.findings.extend(check(ctx))
        except Exception as error:  # noqa: BLE001 - one broken check must not hide the others' findings
            log.exception("Data check %s failed", check.__name__)
            report.findings.append(Finding(
                names[0], "warning", f"The check could not run ({type(error).__name__}: {error}); its findings are "
                "missing from this report", (), {"exception": type(error).__name__}))
        report.findings.extend(_sampled_finding(names[0], bound) for bound in report.bounds[first_bound:]
                               if bound.deadline)
        report.seconds[key] = time.perf_counter() - begun
    report.seconds["total"] = time.perf_counter() - started
    counts = {s: len(report.by_severity(s)) for s in ("error", "warning", "info")}
    log.info("Data checks: %d error(s), %d warning(s), %d info in %.1fs", counts["error"], counts["warning"],
             counts["info"], report.seconds["total"])
    for finding in report.findings:
        if finding.severity != "info":
            log.log(logging.ERROR if finding.severity == "error" else logging.WARNING, "[%s] %s", finding.check,
                    finding.message)
    for bound in report.bounds:
        if bound.deadline and bound.action == "sampled":
            log.info("Data check %s ran on %s (%s)", bound.check, bound.detail, bound.reason)
    return report


def _sampled_finding(name: str, bound: Bound) -> Finding:
    """An info finding for a sample the deadline imposed: the run report shows findings, so it shows this."""
    return Finding(name, "info", f"Ran on {bound.detail} to stay within the data checks' deadline ({bound.reason}); "
                   "problems in the rest, errors included, are not reported", (),
                   {"sampled": True, "unit": bound.unit, "used": bound.used, "total": bound.total})
