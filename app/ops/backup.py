"""Database backup and restore, for PostgreSQL and SQLite.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists
--single-transaction``, so a restore is all or nothing and also works into an emptied
or freshly created database. The client tools must be at least the server's major
version (checked); ``PG_BIN_DIR`` points at another installation
(e.g. /usr/lib/postgresql/16/bin). The password goes to the tools in the environment,
never on the command line.

SQLite: the online backup API, which copies a consistent snapshot while the
application runs; a restore copies the backup back page by page.

A backup is written to ``FILE.partial`` and renamed when complete, so a failed backup
never leaves a truncated file under the real name.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.extensions import db

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    backend: str


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def describe_database() -> str:
    """The database, for messages: its address without password."""
    return _url().render_as_string(hide_password=True)


def backup_database(path: str | os.PathLike) -> BackupResult:
    url = _url()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if url.get_backend_name() == "postgresql":
            _check_pg_tool("pg_dump")
            _run_pg(["pg_dump", "--format=custom", "--file", str(partial)], url)
        elif url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, url.get_backend_name())


def restore_database(path: str | os.PathLike) -> None:
    """Replace the database's contents with the backup's. Stop web and scheduler first."""
    url = _url()
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    head = source.read_bytes()[:16] if source.stat().st_size < 16 else source.open("rb").read(16)
    db.session.remove()
    db.engine.dispose()  # our own pooled connections would hold locks the restore needs
    if url.get_backend_name() == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise BackupError(f"{source} is not a PostgreSQL custom-format backup (pg_dump -Fc)")
        _check_pg_tool("pg_restore")
        _run_pg(["pg_restore", "--list", str(source)], url, connect=False)
        _run_pg(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                str(source),
            ],
            url,
        )
    elif url.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite database backup")
        _sqlite_restore(source, _sqlite_path(url))
    else:
        raise BackupError(f"restores of {url.get_backend_name()} databases are not supported")
    db.engine.dispose()


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_bin(tool: str) -> str:
    bin_dir = current_app.config.get("PG_BIN_DIR") or os.environ.get("PG_BIN_DIR")
    if bin_dir:
        return str(Path(bin_dir) / tool)
    found = shutil.which(tool)
    if not found:
        raise BackupError(f"{tool} not found: install the PostgreSQL client (postgresql-client) or set PG_BIN_DIR")
    return found


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.(\d+))?", version_text)
    if not match:
        raise BackupError(f"cannot read a version from {version_text!r}")
    return int(match.group(1))


def _check_pg_tool(tool: str) -> None:
    """The tool must be at least the server's major version (pg_dump cannot dump newer servers)."""
    try:
        out = subprocess.run([_pg_bin(tool), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BackupError(f"{tool} cannot run: {exc}") from exc
    tool_major = _major(out.split(")", 1)[1] if ")" in out else out)  # "pg_dump (PostgreSQL) 15.20 (Debian …)"
    server_num = int(db.session.execute(text("SHOW server_version_num")).scalar())
    db.session.remove()
    server_major = server_num // 10000
    if tool_major < server_major:
        raise BackupError(
            f"{tool} {tool_major} is older than the server ({server_major}): install "
            f"postgresql-client-{server_major} or set PG_BIN_DIR to its bin directory"
        )


def _pg_env(url) -> dict:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    # a restore waits at most this long for a lock held by a running web process, then fails cleanly
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c lock_timeout=30s").strip()
    return env


def _libpq_uri(url) -> str:
    """The URL for libpq (postgresql://user@host:port/db?…), without password or driver."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run_pg(args: list[str], url, connect: bool = True) -> str:
    cmd = [_pg_bin(args[0]), *args[1:]]
    if connect:
        cmd.insert(1, f"--dbname={_libpq_uri(url)}")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_pg_env(url))
    if proc.returncode != 0:
        raise BackupError(f"{args[0]} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc.stdout


# --- SQLite -----------------------------------------------------------------------------


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _sqlite_restore(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        check = src.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{source} is damaged: {check}")
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"restoring {source} failed: {exc}") from exc
    finally:
        src.close()
