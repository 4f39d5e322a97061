"""What podium's command lines print to, and the one way a command fails: one paragraph and an exit code."""

from __future__ import annotations

import typer
from rich.console import Console

from agent.errors import PodiumError

console = Console()
errors = Console(stderr=True)


def fail(error: BaseException, hint: str | None = None) -> typer.Exit:
    """Print an error as one paragraph; return the exit to raise (PodiumError's code, else 1)."""
    if isinstance(error, PodiumError):
        errors.print(f"[bold red]error:[/] {error.message}", highlight=False)
        return typer.Exit(error.exit_code)
    errors.print(f"[bold red]podium failed unexpectedly:[/] {type(error).__name__}: {error}", highlight=False)
    if hint:
        errors.print(hint, highlight=False)
    return typer.Exit(1)


def comma_list(text: str | None) -> tuple[str, ...]:
    """'a, b' -> ('a', 'b'): the options that take a comma-separated list (--allow)."""
    return tuple(name.strip() for name in (text or "").split(",") if name.strip())
