"""The arena's state in one SQLite file inside the competitions folder: users, rules, uploads, submissions.

Keys are random 128-bit tokens stored only as SHA-256 digests (high-entropy tokens need no slow hash), so
a copy of the database cannot be used to sign in. Every call opens its own connection: the HTTP server's
threads and the grading worker share nothing but the file (WAL mode, busy timeout).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import InputError

STATE_DIR = ".arena"
DATABASE = "arena.sqlite3"
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
PENDING, COMPLETE, ERROR = "PENDING", "COMPLETE", "ERROR"
UPLOAD_TTL = dt.timedelta(hours=1)  # an upload not turned into a submission by then is deleted
log = logging.getLogger("podium.arena")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL,
    key_digest TEXT UNIQUE NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (user_id INTEGER NOT NULL, slug TEXT NOT NULL, accepted_at TEXT NOT NULL,
    PRIMARY KEY (user_id, slug));
CREATE TABLE IF NOT EXISTS uploads (token TEXT PRIMARY KEY, user_id INTEGER NOT NULL, slug TEXT NOT NULL,
    file_name TEXT NOT NULL, declared_bytes INTEGER NOT NULL, bytes INTEGER, created_at TEXT NOT NULL,
    completed_at TEXT, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS submissions (ref INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL,
    slug TEXT NOT NULL, date TEXT NOT NULL, day TEXT NOT NULL, description TEXT, file_name TEXT,
    total_bytes INTEGER, status TEXT NOT NULL, public_score REAL, private_score REAL, error TEXT, scored_at TEXT);
CREATE INDEX IF NOT EXISTS submissions_by_user ON submissions (slug, user_id, day);
CREATE TABLE IF NOT EXISTS downloads (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL,
    slug TEXT NOT NULL, file TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso(moment: dt.datetime | None) -> str | None:
    """Kaggle's date format: ISO 8601 with milliseconds and Z (UTC)."""
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    name: str


class LimitReached(Exception):
    """The user has used today's submissions."""


class Store:
    """The arena's database; `Store(folder)` creates it (and the state folder) on first use."""

    def __init__(self, competitions: Path):
        self.root = Path(competitions).resolve()
        self.state = self.root / STATE_DIR
        self.path = self.state / DATABASE
        self.created = not self.path.exists()
        for sub in ("uploads", "submissions", "blobs"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            for secret in ("signing_key", "session_key"):  # download links; the pages' session cookies
                db.execute("INSERT OR IGNORE INTO settings VALUES (?, ?)", (secret, secrets.token_hex(32)))

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    def _setting(self, name: str) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def signing_key(self) -> bytes:
        return self._setting("signing_key").encode()

    def session_key(self) -> bytes:
        return self._setting("session_key").encode()

    # --- the host ---------------------------------------------------------------------------------

    def new_host_key(self) -> str:
        """A new key for the host's pages (the private leaderboard); it replaces any earlier one."""
        key = secrets.token_hex(16)
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES ('host_key', ?)", (digest(key),))
        return key

    def host_key_digest(self) -> str | None:
        """The digest of the host key, or None before `podium arena host-key` made one."""
        return self._setting("host_key")

    def is_host_key(self, key: str) -> bool:
        held = self.host_key_digest()
        return bool(key) and held is not None and hmac.compare_digest(held, digest(key))

    # --- users and rules --------------------------------------------------------------------------

    def add_user(self, name: str) -> str:
        """Create a user and return their key: the only time it exists outside a digest."""
        if not USER_NAME.match(name or ""):
            raise InputError(f"'{name}' is not a valid user name", fix="use letters, digits, - and _ (up to 40)")
        key = secrets.token_hex(16)
        with self._connect() as db:
            try:
                db.execute("INSERT INTO users (name, key_digest, created_at) VALUES (?, ?, ?)",
                           (name, digest(key), iso(now())))
            except sqlite3.IntegrityError:
                raise InputError(f"The user '{name}' already exists", where=str(self.path),
                                 fix="pick another name") from None
        return key

    def user(self, name: str) -> User | None:
        with self._connect() as db:
            row = db.execute("SELECT id, name FROM users WHERE name=?", (name,)).fetchone()
        return User(row["id"], row["name"]) if row else None

    def users(self) -> list[User]:
        with self._connect() as db:
            return [User(r["id"], r["name"]) for r in db.execute("SELECT id, name FROM users ORDER BY id")]

    def authenticate(self, name: str | None, key: str) -> User | None:
        """Basic auth (name and key) or a bearer token (key alone); constant-time digest comparison."""
        with self._connect() as db:
            row = db.execute("SELECT id, name, key_digest FROM users WHERE key_digest=?", (digest(key),)).fetchone()
        if row is None or not hmac.compare_digest(row["key_digest"], digest(key)):
            return None
        if name is not None and name != row["name"]:
            return None
        return User(row["id"], row["name"])

    def accept_rules(self, user: User, slug: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO rules VALUES (?, ?, ?)", (user.id, slug, iso(now())))

    def has_accepted(self, user: User, slug: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM rules WHERE user_id=? AND slug=?", (user.id, slug)).fetchone() is not None

    def entrants(self, slug: str) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM rules WHERE slug=?", (slug,)).fetchone()[0]

    # --- downloads and uploads --------------------------------------------------------------------

    def log_download(self, user_id: int, slug: str, file: str) -> None:
        with self._connect() as db:
            db.execute("INSERT INTO downloads (user_id, slug, file, at) VALUES (?, ?, ?, ?)",
                       (user_id, slug, file, iso(now())))

    def downloads(self, slug: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT u.name AS user, d.slug, d.file, d.at FROM downloads d JOIN users u ON u.id = d.user_id"
        with self._connect() as db:
            rows = db.execute(query + (" WHERE d.slug=?" if slug else ""), (slug,) if slug else ()).fetchall()
        return [dict(r) for r in rows]

    def start_upload(self, user: User, slug: str, file_name: str, declared_bytes: int) -> str:
        self.expire_uploads()
        token = secrets.token_urlsafe(24)
        with self._connect() as db:
            db.execute("INSERT INTO uploads (token, user_id, slug, file_name, declared_bytes, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (token, user.id, slug, file_name, declared_bytes, iso(now())))
        return token

    def expire_uploads(self, older_than: dt.timedelta = UPLOAD_TTL) -> int:
        """Forget uploads never turned into a submission within `older_than`, and delete their files."""
        cutoff = iso(now() - older_than)
        with self._connect() as db:
            stale = [r["token"] for r in db.execute("SELECT token FROM uploads WHERE used=0 AND created_at < ?",
                                                    (cutoff,)).fetchall()]
            for token in stale:
                self.upload_path(token).unlink(missing_ok=True)
                db.execute("DELETE FROM uploads WHERE token=?", (token,))
        if stale:
            log.info("Expired %d unused upload(s) older than %s", len(stale), older_than)
        return len(stale)

    def upload(self, token: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM uploads WHERE token=?", (token,)).fetchone()
        return dict(row) if row else None

    def upload_path(self, token: str) -> Path:
        return self.state / "uploads" / f"{digest(token)[:32]}.csv"

    def complete_upload(self, token: str, size: int) -> None:
        with self._connect() as db:
            db.execute("UPDATE uploads SET bytes=?, completed_at=? WHERE token=?", (size, iso(now()), token))

    # --- submissions ------------------------------------------------------------------------------

    def submission_path(self, ref: int) -> Path:
        return self.state / "submissions" / f"{int(ref)}.csv"

    def create_submission(self, user: User, slug: str, token: str, description: str | None,
                          daily_limit: int) -> int:
        """Turn a finished upload into a PENDING submission, unless today's allowance is used up."""
        moment = now()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # the count and the insert must not interleave with another submit
            try:
                upload = db.execute("SELECT * FROM uploads WHERE token=? AND user_id=? AND slug=? AND used=0 "
                                    "AND completed_at IS NOT NULL", (token, user.id, slug)).fetchone()
                if upload is None:
                    raise KeyError(token)
                today = db.execute("SELECT COUNT(*) FROM submissions WHERE slug=? AND user_id=? AND day=?",
                                   (slug, user.id, moment.date().isoformat())).fetchone()[0]
                if today >= daily_limit:
                    raise LimitReached(daily_limit)
                cursor = db.execute(
                    "INSERT INTO submissions (user_id, slug, date, day, description, file_name, total_bytes, status) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (user.id, slug, iso(moment), moment.date().isoformat(),
                                                       description, upload["file_name"], upload["bytes"], PENDING))
                ref = cursor.lastrowid
                db.execute("UPDATE uploads SET used=1 WHERE token=?", (token,))
                self.upload_path(token).replace(self.submission_path(ref))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return ref

    def record_score(self, ref: int, public: float | None, private: float | None, error: str | None) -> None:
        with self._connect() as db:
            db.execute("UPDATE submissions SET status=?, public_score=?, private_score=?, error=?, scored_at=? "
                       "WHERE ref=?", (ERROR if error else COMPLETE, public, private, error, iso(now()), ref))

    def submission(self, ref: int) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT s.*, u.name AS user FROM submissions s JOIN users u ON u.id = s.user_id "
                             "WHERE s.ref=?", (ref,)).fetchone()
        return dict(row) if row else None

    def submissions(self, slug: str, user: User | None = None, status: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT s.*, u.name AS user FROM submissions s JOIN users u ON u.id = s.user_id WHERE s.slug=?"
        args: list[Any] = [slug]
        if user is not None:
            query, args = query + " AND s.user_id=?", [*args, user.id]
        if status is not None:
            query, args = query + " AND s.status=?", [*args, status]
        with self._connect() as db:
            return [dict(r) for r in db.execute(query + " ORDER BY s.ref DESC", args)]

    def pending(self) -> list[int]:
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT ref FROM submissions WHERE status=? ORDER BY ref", (PENDING,))]

    def counts(self, user: User, slug: str) -> tuple[int, int]:
        """(submissions today, submissions in all) for this user in this competition."""
        with self._connect() as db:
            today = db.execute("SELECT COUNT(*) FROM submissions WHERE slug=? AND user_id=? AND day=?",
                               (slug, user.id, now().date().isoformat())).fetchone()[0]
            total = db.execute("SELECT COUNT(*) FROM submissions WHERE slug=? AND user_id=?",
                               (slug, user.id)).fetchone()[0]
        return today, total
