"""One real (short) podium run shared by the report tests that need it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.arena.demo import build_from_corpus

_REAL: dict[str, Path] = {}


@pytest.fixture
def real_run(ray_local, tmp_path_factory) -> Path:
    """A real run directory: `podium run` on a 300-row titanic for 50 s (blend guard on), made once per session."""
    if "run" not in _REAL:
        from typer.testing import CliRunner

        from cli import app

        base = tmp_path_factory.mktemp("report-real")
        folder = build_from_corpus("titanic", base / "titanic", rows=300)
        config = base / "config.yaml"
        config.write_text("search:\n  blend_guard: true\n")  # the guard's record is in the report too
        result = CliRunner().invoke(app, ["run", str(folder), "--time-limit", "50", "--out", str(base / "runs"),
                                          "--config", str(config)])
        assert result.exit_code == 0, result.output
        _REAL["run"] = next((base / "runs" / "titanic").iterdir())
    return _REAL["run"]
