"""The one-way flow of docs/architecture.md, enforced: which package may import which.

Every import counts, the ones inside functions too (podium imports heavy libraries lazily). A rule names a
package (or module) and the prefixes it must never import; a new import that crosses the flow fails here
with the file and the line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEARCH_LIBRARIES = ("ray", "autogluon", "optuna")
SERVICES = ("agent.services",)
ARENA = ("agent.arena",)
THE_RUN = ("agent.run",)
FOUNDATION = ("agent.config", "agent.errors", "agent.atomic", "agent.logs", "agent.records",
              "agent.executor", "agent.versions", "agent.names", "agent.columns", "agent.outputs", "agent.webserver",
              "agent.rundir", "agent.deadline", "agent.console")
RULES = {
    # the searches know the competition and where work runs, never where data comes from or goes
    "strategies": ("agent.kaggle", "agent.sources", *SERVICES, *THE_RUN, "agent.report", *ARENA, "cli"),
    # the production runtime: what a deployment loads (AutoGluon only in the runtime of an AutoGluon artifact)
    "agent.runtime": (*SEARCH_LIBRARIES, "strategies", *THE_RUN, *SERVICES, "agent.checks", "agent.executor", *ARENA),
    # tables wherever they live (files, databases): below the competition, beside the foundation
    "agent.tables": ("strategies", *THE_RUN, *SERVICES, "agent.report", "agent.checks", "agent.kaggle",
                     "agent.runtime", *ARENA, "agent.competition", "agent.sources", *SEARCH_LIBRARIES),
    # the competition and its checks come before any search
    # (a metric names its AutoGluon scorer, imported when asked for)
    "agent.competition": ("strategies", *THE_RUN, *SERVICES, "agent.report", "agent.checks", "agent.kaggle",
                          "agent.runtime", *ARENA, "ray", "optuna"),
    "agent.checks": ("strategies", *THE_RUN, *SERVICES, "agent.report", "agent.kaggle", "agent.runtime", *ARENA),
    # podium reaches the arena only through the kaggle client, as it reaches Kaggle
    "agent.sources": ("strategies", *THE_RUN, *SERVICES, "agent.report", "agent.checks", "agent.runtime", *ARENA),
    # the Kaggle client fetches, and submits what a run directory holds
    "agent.kaggle": ("strategies", *THE_RUN, *SERVICES, "agent.report", "agent.checks", "agent.runtime", *ARENA),
    # a run never reaches into the arena (only through the kaggle client)
    "agent.run": ARENA,
    # services work on what runs leave behind (a run directory): never the pipeline, the search, a batch or the arena
    "agent.services": (*THE_RUN, *ARENA),
    "agent.services.serve": ("strategies", "agent.run", "autogluon", "optuna"),
    "agent.services.monitor": ("strategies", "agent.run", *SEARCH_LIBRARIES),
    # the arena, a Kaggle stand-in used before a run: never podium's run side, its services or the production runtime
    "agent.arena": ("strategies", *THE_RUN, *SERVICES, "agent.runtime", "agent.report", "agent.checks",
                    "agent.sources", *SEARCH_LIBRARIES),
    # the report reads a run directory
    "agent.report": ("strategies", *THE_RUN, *SERVICES, *ARENA, *SEARCH_LIBRARIES),
    # the foundation everything stands on (the run directory's records among it: kaggle, the report and the
    # services read a run directory without importing the run)
    **{module: ("strategies", *THE_RUN, *SERVICES, "agent.report", "agent.checks", "agent.runtime", *ARENA,
                "agent.competition", "agent.kaggle", "agent.sources", "agent.tables")
       for module in FOUNDATION},
    # the development corpus is data: it imports nothing of podium (the arena's demo builds competitions from it)
    "devcorpus": ("agent", "strategies", "cli"),
}
EXCEPTIONS = {
    # loads an AutoGluon artifact: imported only when such an artifact is loaded
    ("agent.runtime.autogluon_runtime", "autogluon"),
    # `podium serve --ray-address`: the same app as Ray Serve replicas, imported only with that option
    ("agent.services.serve.ray_serve", "ray"),
}


def modules() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.glob("agent/**/*.py"), *ROOT.glob("strategies/**/*.py"), *ROOT.glob("devcorpus/**/*.py"),
                 ROOT / "cli.py"]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path) -> list[tuple[str, int]]:
    """Every module `path` imports, with the line, whether at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_every_rule_names_real_code():
    names = modules()
    for owner in RULES:
        assert any(within(name, owner) for name in names), f"the rule for {owner} names no module"


@pytest.mark.parametrize("owner", sorted(RULES))
def test_the_flow_is_one_way(owner):
    crossings = []
    for name, path in modules().items():
        if not within(name, owner):
            continue
        for imported, line in imports(path):
            for forbidden in RULES[owner]:
                if within(imported, forbidden) and (name, forbidden) not in EXCEPTIONS:
                    crossings.append(f"{path.relative_to(ROOT)}:{line} imports {imported} ({owner} must not "
                                     f"import {forbidden})")
    assert not crossings, "\n".join(crossings)


def test_imports_inside_functions_are_seen(tmp_path):
    source = tmp_path / "lazy.py"
    source.write_text("import os\n\n\ndef later():\n    from agent.run.pipeline import run_competition\n")
    assert ("agent.run.pipeline", 5) in imports(source)
    assert within("agent.run.pipeline", "agent.run") and not within("agent.runtime", "agent.run")


def imported_modules(name: str, path: Path, names: dict[str, Path]) -> set[str]:
    """The project's modules `name` imports: `from package import module` is an arrow to that module, any other
    name an arrow to the module it is imported from (a package's __init__ included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                found.add(target if target in names else node.module)
    return (found & set(names)) - {name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, directly or around a loop (Tarjan's strongly connected
    components of more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_in_a_loop():
    """Imports inside functions and for type hints count: a loop through either still ties two modules."""
    names = modules()
    graph = {name: imported_modules(name, path, names) for name, path in names.items()}
    assert not cycles(graph), "\n".join(" <-> ".join(group) for group in cycles(graph))


def test_the_runtime_loads_no_database_driver():
    """`podium predict` and the serving runtime import agent.tables; its drivers load only when a database is read."""
    import subprocess
    import sys

    code = ("import sys, agent.runtime, agent.runtime.predict, agent.tables; "
            "print([m for m in sys.modules if m.split('.')[0] in ('adbc_driver_postgresql', 'adbc_driver_manager', "
            "'duckdb', 'connectorx', 'psycopg', 'sqlalchemy')])")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_a_loop_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
