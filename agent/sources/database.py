"""A competition that lives in a database: train and test tables (or queries), maybe a sample submission and
side tables, named on the command line or in competition.yaml, else found by Kaggle's naming habits among the
database's tables (train, test, sample_submission)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.errors import InputError
from agent.names import safe_component
from agent.sources.base import ROLES, FetchedCompetition, Source, match_roles
from agent.tables import Location, in_database, parse_database, redact


class DatabaseSource(Source):
    """`url` (a database), and per role a table name or a query (None: found among the database's tables)."""

    def __init__(self, url: str, roles: dict[str, str | None] | None = None, *, tables: dict[str, str] | None = None,
                 declared: dict[str, Any] | None = None, declared_by: str = "command line", slug: Any = None,
                 folder: Path | None = None, metadata: dict[str, Any] | None = None, where: str = "command line"):
        self.database = parse_database(url, "database")
        self.roles = {role: value for role, value in (roles or {}).items() if value}
        unknown = sorted(set(self.roles) - set(ROLES))
        if unknown:
            raise InputError(f"Unknown table role(s) {unknown}", where=where, fix=f"use {', '.join(ROLES)}")
        if tables is not None and not isinstance(tables, dict):
            raise InputError("`tables` must map names to tables or queries", where=where,
                             fix="write e.g. tables: {stores: stores, visits: SELECT * FROM visits}")
        self.side = dict(tables or {})
        self.declared, self.declared_by, self.where = dict(declared or {}), declared_by, where
        self.folder, self.metadata = folder, dict(metadata or {})
        self._slug = safe_component(slug if slug not in (None, "") else self.database.name, "competition slug",
                                    where)
        self.settings = Settings()

    @property
    def slug(self) -> str:
        return self._slug

    def configure(self, settings) -> None:
        self.settings = settings

    def fetch(self) -> FetchedCompetition:
        """Where each table is; the database is asked for its tables only when train or test is not named."""
        places = {role: in_database(self.database, value, role.replace("_", " ")) for role, value in self.roles.items()}
        if "train" not in places or "test" not in places:
            places = {**self._found(), **places}
        side = {str(name): in_database(self.database, value, f"table '{name}'") for name, value in self.side.items()}
        metadata = {**self.metadata, "source": "database", "database": self.database.shown}
        return FetchedCompetition(slug=self.slug, folder=self.folder or Path.cwd(), files=places,
                                  declared=self.declared, declared_by=self.declared_by, metadata=metadata, tables=side)

    def _found(self) -> dict[str, Location]:
        """train, test (and sample_submission) among the database's tables, by name."""
        from agent.tables.database import connection_error
        from agent.tables.drivers import connect

        try:
            driver = connect(self.database, self.settings.database.connect_timeout)
        except Exception as exc:  # noqa: BLE001 - the driver's own classes
            raise connection_error(exc, self.database.url, self.database.shown) from None
        try:
            names = driver.tables()
        finally:
            driver.close()
        found = match_roles(names)
        missing = [role for role in ("train", "test") if role not in found and role not in self.roles]
        if missing:
            raise InputError(f"The database has no {' and no '.join(missing)} table (its tables: "
                             f"{', '.join(names[:30]) or 'none'})", where=redact(self.database.url),
                             fix="name them: --train TABLE_OR_QUERY --test TABLE_OR_QUERY, or `train:` and `test:` "
                                 "in competition.yaml")
        return {role: in_database(self.database, name, role) for role, name in found.items()}
