"""Helpers for operations tests: fresh databases of their own and real processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests import conftest as root

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh_database(tmp_path):
    """make(backend) -> SQLAlchemy URL of an empty database of this test's own (dropped after)."""
    made: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return "sqlite:///" + str(tmp_path / f"ops-{uuid.uuid4().hex[:6]}.sqlite3")
        root._pg_database_url()  # skips (or fails under REQUIRE_POSTGRES=1) without PostgreSQL
        name = f"techlab_ops_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with root._pg_admin_conn() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return root._pg_state["url"].rsplit("/", 1)[0] + "/" + name

    yield make
    for name in made:
        with root._pg_admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_schema(url: str) -> None:
    """The full schema in a fresh database, from another app than the test's."""
    from app import create_app
    from app.extensions import db

    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url, "LOG_HANDLER": False})
    with app.app_context():
        db.create_all()
        db.engine.dispose()


def process_env(url: str, **extra) -> dict:
    env = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY="ops-test-" + uuid.uuid4().hex,
        DATABASE_URL=url,
        MAIL_BACKEND="null",
        SESSION_COOKIE_SECURE="0",
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    env.pop("TEST_DATABASE_URL", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(cmd: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    out = log_path.open("wb")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def gunicorn(port: int, env: dict, log_path: Path) -> subprocess.Popen:
    env = dict(env, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", THREADS="2")
    return start([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"], env, log_path)


def get(url: str, headers: dict | None = None, timeout: float = 5) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def wait_for_http(url: str, proc: subprocess.Popen, log_path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process ended ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            get(url, timeout=2)
            return
        except (OSError, ValueError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s:\n{log_path.read_text()[-3000:]}")


def stop(*procs: subprocess.Popen, timeout: float = 30) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def json_lines(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
    return lines
