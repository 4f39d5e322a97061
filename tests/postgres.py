"""A real PostgreSQL server for tests and benchmarks: the machine's own binaries, in a temporary folder.

Why not a mock: what podium must get right (types, COPY streaming, statement_timeout, transactions, libpq's
password lookup) is the server's behaviour. The server runs as the `postgres` user (initdb refuses root), on a
free port, with its socket in the same temporary folder; it is small (few connections, small buffers) so it
does not disturb what else runs on the machine, and `stop()` removes everything.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD, DATABASE = "podium", "s3cr3t-Pw.42", "shop"
SMALL = ("-c max_connections=20 -c shared_buffers=16MB -c fsync=off -c synchronous_commit=off "
         "-c full_page_writes=off -c listen_addresses=127.0.0.1 -c log_min_messages=warning")


def binaries() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin that holds initdb and pg_ctl, or None (`make test` installs it)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    for pg_ctl in reversed(found):
        folder = Path(pg_ctl).parent
        if (folder / "initdb").is_file():
            return folder
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    """Run as the `postgres` user when root (initdb and postgres refuse root), as oneself otherwise."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@dataclass
class PostgresServer:
    """One running server: a database `shop` owned by user `podium` with a password (scram-sha-256 on TCP)."""

    folder: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        """The URL with the password in it (what a careless user types)."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def url_without_password(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)")
        folder = Path(tempfile.mkdtemp(prefix="podium-pg-"))
        os.chmod(folder, 0o755)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        data, password_file = folder / "data", folder / "pwfile"
        password_file.write_text("postgres-admin\n")
        os.chmod(password_file, 0o644)
        subprocess.run(_as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
                                    "--auth-host=scram-sha-256", f"--pwfile={password_file}", "-E", "UTF8",
                                    "--no-instructions"), check=True, capture_output=True)
        server = cls(folder, free_port(), bin_dir)
        subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                                    "-w", "-t", "60", "-o", f"-p {server.port} -k {folder} {SMALL}", "start"),
                       check=True, capture_output=True)
        server.admin(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'", f"CREATE DATABASE {DATABASE} OWNER {USER}")
        return server

    def admin(self, *statements: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the local socket (trusted); the output of the last statement."""
        out = ""
        for sql in statements:
            out = subprocess.run(_as_postgres(str(self.bin / "psql"), "-h", str(self.folder), "-p", str(self.port),
                                              "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt",
                                              "-c", sql), check=True, capture_output=True, text=True).stdout
        return out

    def sql(self, *statements: str) -> str:
        """Run SQL as the podium user in the `shop` database (over the socket)."""
        return self.admin(*[f"SET ROLE {USER}; {s}" for s in statements], database=DATABASE)

    def stop(self) -> None:
        subprocess.run(_as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w",
                                    "stop"), capture_output=True)
        for _ in range(50):
            if not (self.folder / "data" / "postmaster.pid").exists():
                break
            time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)
