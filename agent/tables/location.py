"""Where a table lives, as a user writes it: a file path, or a database URL with a table name or a query.

    train.csv, data/test.parquet, new_rows.csv.gz                        a file
    postgresql://ana@db.example:5432/shop#orders                          a table (a schema: #sales.orders)
    postgresql://ana@db.example/shop#SELECT * FROM orders WHERE year > 2024   a query (SELECT or WITH)
    sqlite:///data/shop.db#orders   duckdb:///data/shop.duckdb#orders     a database file (four slashes: absolute)

URLs are SQLAlchemy's (`postgresql+psycopg://` and `postgres://` are accepted too: the driver part is ignored,
podium picks its own); the part after the first `#` names the table or holds the query. The URL may carry a
password; `shown` never does (agent/tables/secrets.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from agent.errors import InputError
from agent.tables.secrets import redact

POSTGRESQL, SQLITE, DUCKDB = "postgresql", "sqlite", "duckdb"
SCHEMES = {"postgresql": POSTGRESQL, "postgres": POSTGRESQL, "sqlite": SQLITE, "duckdb": DUCKDB}
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_QUERY = re.compile(r"^\s*(SELECT|WITH|VALUES|TABLE)\b", re.IGNORECASE)
_NAME = re.compile(r'^(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)(?:\.(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*))?$')
URL_FIX = ("write postgresql://USER@HOST:PORT/DATABASE#TABLE, sqlite:///PATH.db#TABLE or duckdb:///PATH.duckdb#TABLE "
           "(after # a table name or a SELECT)")


def is_url(text: object) -> bool:
    """Whether `text` is written as a URL (scheme://...), as opposed to a path."""
    return isinstance(text, str) and _URL.match(text) is not None


@dataclass(frozen=True)
class Database:
    """A database to connect to: its kind, the URL as given (maybe holding a password), and a file for the
    embedded kinds."""

    kind: str
    url: str

    @property
    def shown(self) -> str:
        """The URL without its password: what the manifest, the logs and the messages say."""
        return redact(self.url)

    @property
    def file(self) -> Path:
        """The database file of SQLite and DuckDB (sqlite:///relative.db, sqlite:////absolute.db)."""
        path = unquote(urlsplit(self.url).path)
        return Path(path[1:] if path.startswith("/") else path).expanduser()

    @property
    def name(self) -> str:
        """The database's name (PostgreSQL) or its file's stem (SQLite, DuckDB): a competition's default slug."""
        if self.kind == POSTGRESQL:
            return unquote(urlsplit(self.url).path.strip("/")) or "database"
        return self.file.stem

    @property
    def libpq_url(self) -> str:
        """The URL libpq understands: `postgresql://`, without SQLAlchemy's `+driver`."""
        return re.sub(r"^[^:]+://", "postgresql://", self.url)


@dataclass(frozen=True)
class Location:
    """A table: a file (`path`), or a database and what to read from it (`sql`: a table's name or a query)."""

    path: Path | None = None
    database: Database | None = None
    what: str | None = None  # a table name or a query, as written

    @property
    def is_file(self) -> bool:
        return self.path is not None

    @property
    def is_query(self) -> bool:
        return self.what is not None and _QUERY.match(self.what) is not None

    @property
    def table(self) -> str:
        """The table's name (refused for a query: only a named table can be written)."""
        if self.what is None or self.is_query:
            raise InputError("A query cannot be written to", where=self.shown,
                             fix="name a table after #, e.g. postgresql://USER@HOST/DB#predictions")
        return self.what

    @property
    def sql(self) -> str:
        """What to run: the query as written, or SELECT * of the table."""
        if self.is_query:
            return self.what.strip().rstrip(";").strip()
        return f"SELECT * FROM {quote_name(self.table)}"

    @property
    def shown(self) -> str:
        """For people and records: the path, or the URL without its password and what is read."""
        if self.path is not None:
            return str(self.path)
        return f"{self.database.shown}#{self.what}"


def quote_name(name: str) -> str:
    """A table name as SQL: `orders` -> "orders", `sales.orders` -> "sales"."orders" (already quoted: kept)."""
    parts = re.findall(r'"[^"]+"|[^.]+', name)
    return ".".join(part if part.startswith('"') else f'"{part}"' for part in parts)


def parse_location(given: str | Path, role: str = "table") -> Location:
    """What the user typed as a Location; an InputError (the URL shown without its password) when it is
    neither a path nor a database URL podium can read."""
    if isinstance(given, Path) or not is_url(given):
        return Location(path=Path(given).expanduser())
    base, _, what = given.partition("#")  # the rest as typed: a query's `LIKE '%20%'` is no URL escape
    return in_database(parse_database(base, role), what, role)


def in_database(database: Database, what: object, role: str = "table") -> Location:
    """A table name or a query in `database` as a Location; refused when it is neither."""
    what = str(what).strip() if what is not None else ""
    if not what:
        raise InputError(f"The {role} names no table or query", where=database.shown, fix=URL_FIX)
    if not _QUERY.match(what) and not _NAME.match(what):
        raise InputError(f"The {role} is neither a table name nor a query ({what[:60]!r})", where=database.shown,
                         fix="write a table name (orders, sales.orders) or a query (SELECT ... or WITH ...)")
    return Location(database=database, what=what)


def parse_database(url: str, role: str = "database") -> Database:
    """A database URL as a Database; an InputError naming the schemes podium reads."""
    match = _URL.match(url)
    scheme = match["scheme"].lower().split("+")[0] if match else ""
    if scheme not in SCHEMES:
        raise InputError(f"The {role} URL's scheme '{scheme}' is not a database podium reads", where=redact(url),
                         fix=f"use postgresql://, sqlite:/// or duckdb:///; {URL_FIX}")
    kind = SCHEMES[scheme]
    database = Database(kind=kind, url=url.split("#", 1)[0])
    if kind in (SQLITE, DUCKDB):
        if not str(database.file) or str(database.file) == ".":
            raise InputError(f"The {role} URL names no database file", where=database.shown,
                             fix=f"write {kind}:///relative/path or {kind}:////absolute/path")
        if not database.file.is_file():
            raise InputError(f"The {kind} database file does not exist", where=str(database.file),
                             fix="check the path: three slashes then a relative path, four for an absolute one")
    return database  # PostgreSQL without a host: libpq's defaults apply (PGHOST, the local socket), as in psql


def is_database_url(text: object) -> bool:
    """Whether `text` is a URL of a database podium reads (not an http(s) competition URL, say)."""
    match = _URL.match(text) if isinstance(text, str) else None
    return match is not None and match["scheme"].lower().split("+")[0] in SCHEMES
