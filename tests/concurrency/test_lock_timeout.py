"""A booking that meets a row lock held too long answers 409 "busy" after the lock timeout,
instead of waiting (PostgreSQL; SQLite serialises writers at BEGIN IMMEDIATE).

The hot locks (the school, then the sessions) set the timeout in their own statement (app.locking.
SETS_LOCK_TIMEOUT) rather than in a SET LOCAL before it: these tests hold each row lock in
another connection and prove the timeout is in force while the statement waits, for the
first lock of a booking (the school), a later one (the session) and a cancel's first (the session).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from app.extensions import db
from tests import factories

NOW = datetime.now(timezone.utc)
TIMEOUT_MS = 300


def _setup():
    region = factories.region()
    offer = factories.offer(region, factories.venue(region), capacity_classes=4, capacity_pupils=120)
    session = factories.session(offer, NOW + timedelta(days=30))
    school = factories.school(region)
    header = factories.auth_header(factories.teacher(school))
    ids = {"session": session.id, "school": school.id}
    db.session.commit()
    db.session.remove()
    return ids, header


def _book(client, ids, header):
    body = {"session_id": ids["session"], "groep": "7", "pupils": 24, "adults": 2}
    return client.post("/api/v1/bookings", json=body, headers=header)


class _HeldLock:
    """A row lock held by another connection until the block ends, or at most ``release_after``
    seconds (so a booking that does not time out waits that long and then goes through,
    rather than hanging the test)."""

    def __init__(self, table: str, row_id: int, release_after: float = 4.0):
        self.table, self.row_id, self.release_after = table, row_id, release_after
        self._released = threading.Lock()
        self._done = False

    def __enter__(self):
        self.conn = db.engine.connect()
        self.conn.execute(text(f"SELECT id FROM {self.table} WHERE id = :id FOR UPDATE"), {"id": self.row_id})
        self.timer = threading.Timer(self.release_after, self.release)
        self.timer.start()
        return self

    def release(self):
        with self._released:
            if not self._done:
                self._done = True
                self.conn.rollback()
                self.conn.close()

    def __exit__(self, *exc):
        self.timer.cancel()
        self.release()


@pytest.fixture
def short_timeout(app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite has no row locks: a writer waits at BEGIN IMMEDIATE (busy timeout)")
    before = app.config.get("LOCK_TIMEOUT_MS")
    app.config["LOCK_TIMEOUT_MS"] = TIMEOUT_MS
    yield
    app.config["LOCK_TIMEOUT_MS"] = before if before is not None else 5000


def _timed(call):
    t0 = time.monotonic()
    resp = call()
    return resp, time.monotonic() - t0


@pytest.mark.parametrize("table", ["schools", "sessions"])
def test_a_booking_waits_no_longer_than_the_lock_timeout(client, app, short_timeout, table):
    ids, header = _setup()
    with _HeldLock(table, ids["school" if table == "schools" else "session"]):
        resp, took = _timed(lambda: _book(client, ids, header))
        db.session.remove()
    assert resp.status_code == 409 and resp.get_json()["code"] == "busy", resp.get_json()
    assert TIMEOUT_MS / 1000 * 0.9 <= took < 3.0
    # the lock released, the same booking goes through, and nothing of the busy one was kept
    resp = _book(client, ids, header)
    assert resp.status_code == 201, resp.get_json()


def test_a_cancel_waits_no_longer_than_the_lock_timeout(client, app, short_timeout):
    ids, header = _setup()
    booked = _book(client, ids, header)
    assert booked.status_code == 201
    db.session.remove()
    with _HeldLock("sessions", ids["session"]):
        resp, took = _timed(lambda: client.delete(booked.headers["Location"], headers=header))
        db.session.remove()
    assert resp.status_code == 409 and resp.get_json()["code"] == "busy", resp.get_json()
    assert TIMEOUT_MS / 1000 * 0.9 <= took < 3.0
    resp = client.delete(booked.headers["Location"], headers=header)
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"


def test_control_without_a_timeout_the_booking_waits_for_the_lock(client, app, short_timeout):
    """The control: with the timeout off (0 = wait for ever) the booking waits while the lock is
    held; here it is released after 1.5 s and the booking then goes through."""
    app.config["LOCK_TIMEOUT_MS"] = 0
    ids, header = _setup()
    with _HeldLock("schools", ids["school"], release_after=1.5):
        resp, took = _timed(lambda: _book(client, ids, header))
        db.session.remove()
    assert resp.status_code == 201, resp.get_json()
    assert took >= 1.4
