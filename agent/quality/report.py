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
    """Every finding of one pass of the data checks, with what was checked and how long it took."""

    findings: list[Finding]
    checks: list[str]
    rows: dict[str, int]
    features: int
    seconds: dict[str, float]
    allow: frozenset[str] = frozenset()
    known_checks: frozenset[str] = frozenset()

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
        }


def write_quality_report(report: QualityReport, path: str | os.PathLike) -> Path:
    """Write `quality.json` atomically: readers see the previous file or the whole new one."""
    return write_json(path, report.to_dict())
