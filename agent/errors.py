"""One error type for everything a user can fix: what is wrong, where, and what to do."""

from __future__ import annotations


class PodiumError(Exception):
    """An error the user can act on; the CLI prints it as one paragraph and exits non-zero."""

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None):
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.what.rstrip(".") + "."]
        if self.where:
            parts.append(f"Where: {self.where}.")
        if self.fix:
            parts.append(f"What to do: {self.fix.rstrip('.')}.")
        return " ".join(parts)


class InputError(PodiumError):
    """The competition's files or the user's options are not usable as given."""


class ConfigError(PodiumError):
    """A YAML configuration file is malformed or holds an unknown or invalid value."""


class SubmissionError(PodiumError):
    """A submission does not match the competition's format; nothing was written or sent."""


class RemoteError(PodiumError):
    """A Kaggle-compatible server refused or failed a request."""

    exit_code = 3


class BudgetError(PodiumError):
    """No candidate fits the requested latency or size budget."""
