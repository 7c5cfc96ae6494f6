"""Test fixtures.

Every test that uses ``app`` (or ``db_session``, ``client``) runs twice: on SQLite and
on PostgreSQL. The PostgreSQL run uses a database of its own, made for this pytest
process on TEST_DATABASE_URL's server and dropped at the end. Without a reachable
server the PostgreSQL runs are skipped with the reason shown; with REQUIRE_POSTGRES=1
(CI) that is an error instead.

On SQLite every transaction takes the write lock first (BEGIN IMMEDIATE): a test must
end its own transaction (commit, then db.session.remove()) before other threads or a
live server write, or they wait for it.

Between tests every table a test wrote to is emptied (a DELETE, not a TRUNCATE: see
``_empty_all_tables``), so tests may commit (they must, to test concurrency) and still
start clean.
"""

from __future__ import annotations

import os
import secrets
import threading
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("APP_ENV", "testing")

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"
TEST_PASSWORD_METHOD = "pbkdf2:sha256:1"


# The test files that take longest (seconds summed over their tests, setup and teardown included:
# the junit report of a whole `make test` on the quiet 2-core machine, 2026-11-30, browser tests in
# the headless shell), run first. `make test` keeps a file on one worker (--dist loadfile) and
# hands out files in collection order (--no-loadscope-reorder): the browser files first, longest
# first, so that the two workers run them side by side, then the other long files, then the many
# short ones to even out the workers' ends. The page fuzzing beside the accessibility pages took
# 135 s instead of 80 (the browser's processes and the fuzzing's Python share the two cores
# badly); this order took 6 min 15 s against 6 min 27 s (655 against 690 CPU-seconds).
# xdist's own order (most tests first) left the outbox, demo and fuzz files for the end.
LONGEST_FIRST = (
    "tests/e2e/test_accessibility.py",  # 133 s
    "tests/e2e/test_change_cancel_approval.py",  # 52
    "tests/e2e/test_journeys.py",  # 32
    "tests/e2e/test_desk_journey.py",  # 20
    "tests/e2e/test_region_change_journey.py",  # 18
    "tests/e2e/test_coordinator_journey.py",  # 16
    "tests/e2e/test_teacher_journeys.py",  # 15
    "tests/e2e/test_keyboard_booking.py",  # 12
    "tests/e2e/test_bus_warnings.py",  # 12
    "tests/e2e/test_school_coordinator_journey.py",  # 10
    "tests/e2e/test_oidc_journey.py",  # 10
    "tests/e2e/test_series_journey.py",
    "tests/e2e/test_smoke.py",
    "tests/test_page_fuzz.py",  # 79
    "tests/demo/test_demo.py",  # 64
    "tests/outbox/test_outbox.py",  # 40
    "tests/api/test_api_fuzz.py",  # 35
    "tests/auth/test_authorization_matrix.py",  # 34
    "tests/ops/test_processes.py",  # 33
    "tests/schools/test_duo_import.py",  # 11
    "tests/transport/test_services.py",  # 10
    "tests/ops/test_backup.py",  # 9
    "tests/test_migrations.py",  # 9
)


def pytest_collection_modifyitems(session, config, items):
    """Files in LONGEST_FIRST order, then the others by their number of tests, most first
    (a stable sort: the tests of a file keep their order)."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    per_file: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        per_file[path] = per_file.get(path, 0) + 1

    def key(item):
        path = item.nodeid.split("::", 1)[0]
        return (0, rank[path]) if path in rank else (1, -per_file[path])

    items.sort(key=key)


def _pg_admin_conn():
    import psycopg

    return psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True, connect_timeout=3)


_pg_state: dict = {}


def _pg_database_url() -> str:
    """Create this process's PostgreSQL test database once; its SQLAlchemy URL."""
    if "url" in _pg_state:
        return _pg_state["url"]
    if "error" in _pg_state:
        pytest.skip(_pg_state["error"])
    try:
        conn = _pg_admin_conn()
    except Exception as exc:
        _pg_state["error"] = f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"
        if REQUIRE_PG:
            pytest.fail(_pg_state["error"] + " (REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(_pg_state["error"])
    name = f"techlab_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _pg_state["name"] = name
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1) if PG_URL.startswith("postgresql://") else PG_URL
    _pg_state["url"] = base.rsplit("/", 1)[0] + "/" + name
    return _pg_state["url"]


def pytest_sessionfinish(session, exitstatus):
    name = _pg_state.get("name")
    if name:
        from app.extensions import db  # noqa: F401  (engines are disposed with the apps)

        try:
            with _pg_admin_conn() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:
            pass


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on localhost that keeps what it receives."""
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.messages: list = []
            self.lock = threading.Lock()

        async def handle_DATA(self, server, session, envelope):
            from email import message_from_bytes
            from email.policy import default

            msg = message_from_bytes(envelope.content, policy=default)
            with self.lock:
                self.messages.append(msg)
            return "250 OK"

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    """The messages the test SMTP server received during this test."""
    with smtp_server.lock:
        smtp_server.messages.clear()
    return smtp_server.messages


@pytest.fixture
def drain_outbox(app):
    """drain_outbox(): deliver what the outbox holds now, as the worker process would
    (mails to the test SMTP server, bus re-plans); the number of entries handled. Mail
    and re-planning happen after the commit, in the worker: a test calls this after the
    request or service call whose mails or plans it checks."""
    from app.extensions import db
    from app.outbox.worker import drain

    def _drain(now=None) -> int:
        db.session.commit()
        return drain(now)

    return _drain


_apps: dict = {}


def _make_app(backend: str, tmp_root: Path, smtp_port: int):
    from app import create_app
    from app.extensions import db

    if backend not in _apps:
        if backend == "sqlite":
            url = "sqlite:///" + str(tmp_root / "test.sqlite3")
        else:
            url = _pg_database_url()
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": secrets.token_urlsafe(32),
                "SQLALCHEMY_DATABASE_URI": url,
                "WTF_CSRF_ENABLED": False,
                "MAIL_BACKEND": "smtp",
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": smtp_port,
                "SERVER_NAME": None,
                "MATERIALS_DIR": str(tmp_root / f"materials-{backend}"),  # offers' preparation files
                # one round of PBKDF2 instead of scrypt (~0.1 s per hash and per check) for the
                # suite's accounts and sign-ins; a TESTING app only (auth.services.password_method),
                # and test_auth checks that an app out of TESTING hashes with scrypt
                "PASSWORD_HASH_METHOD": TEST_PASSWORD_METHOD,
            }
        )

        @app.before_request
        def _fresh_login_state():
            # a test keeps one app context open across its requests, so ``g`` outlives a
            # request; every request must load its own user, as it does in production
            from flask import g
            from flask_babel import refresh

            g.pop("_login_user", None)
            refresh()  # the language, too, is the request's own

        with app.app_context():
            db.create_all()
        _apps[backend] = app
    return _apps[backend]


def _empty_all_tables(app):
    """Empty the tables a test wrote to, and restart their id sequences.

    One probe finds the tables that hold rows; only those are emptied, children first.
    On PostgreSQL a DELETE of a few small tables costs ~10 ms where a TRUNCATE of every
    table costs ~150-700 ms (it replaces each table's files), and a test touches few tables.
    """
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        try:
            _delete_used_rows(db.engine, tables)
        except Exception:
            with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    names = ", ".join(f'"{t.name}"' for t in tables)
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                else:
                    raise


def _delete_used_rows(engine, tables):
    """DELETE the rows of the tables that hold any (children first); restart their ids."""
    from sqlalchemy import text

    with engine.begin() as conn:
        probe = " UNION ALL ".join(
            f"SELECT '{t.name}' AS name WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
        )
        used = {row.name for row in conn.execute(text(probe))}
        for t in tables:
            if t.name in used:
                conn.execute(t.delete())
        if conn.dialect.name == "postgresql":
            for t in tables:
                if t.name in used and "id" in t.c and t.c.id.autoincrement in (True, "auto"):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), 1, false) "
                            f"WHERE pg_get_serial_sequence('\"{t.name}\"', 'id') IS NOT NULL"
                        )
                    )
        elif used:
            # SQLite: AUTOINCREMENT tables keep their counter in sqlite_sequence
            has_seq = conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sqlite_sequence'")
            ).first()
            if has_seq:
                conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture(scope="session")
def _tmp_root(tmp_path_factory):
    return tmp_path_factory.mktemp("db")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def app(backend, _tmp_root, smtp_server):
    """The app on one backend, in an app context, on empty tables."""
    application = _make_app(backend, _tmp_root, smtp_server.port)
    application.config["BOOKING_LOCKING"] = True
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        from app.extensions import db

        db.session.remove()
        ctx.pop()
        _empty_all_tables(application)


@pytest.fixture
def db_session(app):
    from app.extensions import db

    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """login(user, password=factories.PASSWORD): sign the test client in."""
    from tests import factories

    def _login(user, password: str = factories.PASSWORD):
        resp = client.post("/inloggen", data={"email": user.email, "password": password})
        assert resp.status_code == 302, resp.data[:500]
        return client

    return _login
