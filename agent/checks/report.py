"""Findings of the data checks, the report that holds them, and the error that stops a run."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.atomic import write_json
from agent.errors import InputError, PodiumError

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")
Action = Literal["skipped", "sampled"]


@dataclass(frozen=True)
class Finding:
    """One thing a check noticed: which check, how serious, what to do, on which columns, measured how."""

    check: str
    severity: Severity
    message: str
    columns: tuple[str, ...] = ()
    measured: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "severity": self.severity, "message": self.message,
                "columns": list(self.columns), "measured": self.measured}


@dataclass(frozen=True)
class Bound:
    """A check that did less than all its work, so nobody reads its silence as a pass: it was skipped, or it
    examined `used` of `total` columns (or rows, or trees) and problems outside that part went unseen.

    `deadline` tells a bound the run's time limit imposed from one a setting always imposes (the leakage
    checks' row sample): only the former says anything about this run being cut short.
    """

    check: str              # the check function's name, as in the report's `seconds`
    action: Action
    reason: str             # why: "deadline reached", the setting that capped it, ...
    unit: str | None = None  # what was counted: "columns", "labelled train rows", ...
    used: int | None = None
    total: int | None = None
    deadline: bool = True
    seed: int | None = None  # the seed of a random sample, to draw it again
    columns: tuple[str, ...] = ()  # the columns examined, when they were a sample

    def __post_init__(self) -> None:
        if self.action not in ("skipped", "sampled"):
            raise ValueError(f"action must be 'skipped' or 'sampled', not {self.action!r}")

    @property
    def detail(self) -> str:
        """How much, in words: "1,000 of 50,000 columns", or the reason a skipped check did not run."""
        if self.used is None or self.total is None:
            return self.reason
        return f"{self.used:,} of {self.total:,} {self.unit or 'items'}"

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "action": self.action, "detail": self.detail, "reason": self.reason,
                "unit": self.unit, "used": self.used, "total": self.total, "deadline": self.deadline,
                "seed": self.seed, "columns": list(self.columns)}


class QualityError(PodiumError):
    """The data checks found errors the user did not allow; training would learn from broken data."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        names = sorted({f.check for f in findings})
        listed = "; ".join(f"[{f.check}] {f.message.rstrip('.')}" for f in findings)
        super().__init__(
            f"The data checks found {len(findings)} error(s): {listed}",
            where="quality.json in the run directory has every finding with its numbers",
            fix=f"fix the data, or accept the risk with --allow {','.join(names)}")


@dataclass
class QualityReport:
    """Every finding of one pass of the data checks, with what was checked, how long it took, and which checks
    were skipped or ran on a sample (`bounds`) and the seconds they were given (`seconds_allowed`, None: no bound).
    """

    findings: list[Finding]
    checks: list[str]
    rows: dict[str, int]
    features: int
    seconds: dict[str, float]
    allow: frozenset[str] = frozenset()
    known_checks: frozenset[str] = frozenset()
    bounds: list[Bound] = field(default_factory=list)
    seconds_allowed: float | None = None

    def by_severity(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def errors(self) -> list[Finding]:
        return self.by_severity("error")

    def blocking(self, allow: Iterable[str] | None = None) -> list[Finding]:
        """The error findings that `allow` (check names; default: the report's own) does not excuse."""
        allowed = self._checked_allow(allow)
        return [f for f in self.errors if f.check not in allowed]

    def raise_for_errors(self, allow: Iterable[str] | None = None) -> None:
        """Stop here, with every blocking error in one message, unless all errors are allowed."""
        blocking = self.blocking(allow)
        if blocking:
            raise QualityError(blocking)

    @property
    def complete(self) -> bool:
        """Did every check run on everything it examines without a deadline? (Row caps set in the settings
        apply to every run and do not count.) False means `passed` speaks only for the work that was done."""
        return not any(bound.deadline for bound in self.bounds)

    def _checked_allow(self, allow: Iterable[str] | None) -> frozenset[str]:
        allowed = self.allow if allow is None else frozenset(allow)
        unknown = sorted(allowed - self.known_checks) if self.known_checks else []
        if unknown:
            raise InputError(f"--allow names unknown data check(s) {unknown}",
                             fix=f"use check names from quality.json: {', '.join(sorted(self.known_checks))}")
        return allowed

    def to_dict(self) -> dict[str, Any]:
        counts = {s: len(self.by_severity(s)) for s in SEVERITIES}
        findings = []
        for finding in self.findings:
            entry = finding.to_dict()
            if finding.severity == "error":
                entry["allowed"] = finding.check in self.allow
            findings.append(entry)
        return {
            "passed": not self.blocking(),
            "counts": counts,
            "allow": sorted(self.allow),
            "rows": self.rows,
            "features": self.features,
            "checks": self.checks,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "findings": findings,
            "complete": self.complete,
            "seconds_allowed": None if self.seconds_allowed is None else round(self.seconds_allowed, 3),
            "bounds": [bound.to_dict() for bound in self.bounds],
        }


def write_quality_report(report: QualityReport, path: str | os.PathLike) -> Path:
    """Write `quality.json` atomically: readers see the previous file or the whole new one."""
    return write_json(path, report.to_dict())
