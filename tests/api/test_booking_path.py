"""The booking request's path stays lean: statements, transactions, no reloads after the commit."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from app.extensions import db
from tests import factories

NOW = datetime.now(timezone.utc)


@contextlib.contextmanager
def sql_counter(app):
    """Counts what the request sends to the database: statements, transactions (commits and
    rollbacks), and checkouts of a pooled connection (each one a ping when pre-ping is on)."""
    engine = db.engine
    seen = {"statements": [], "commits": 0, "rollbacks": 0, "checkouts": 0, "after_commit": []}

    def on_exec(conn, cursor, statement, params, context, executemany):
        seen["statements"].append(statement)
        if seen["commits"]:
            seen["after_commit"].append(statement)

    def on_commit(conn):
        seen["commits"] += 1

    def on_rollback(conn):
        seen["rollbacks"] += 1

    def on_checkout(dbapi_conn, record, proxy):
        seen["checkouts"] += 1

    event.listen(engine, "before_cursor_execute", on_exec)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_exec)
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "rollback", on_rollback)
        event.remove(engine.pool, "checkout", on_checkout)


def _setup(classes=2, teachers=3):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, capacity_classes=classes, capacity_pupils=30 * classes, adults_per_class=1)
    session = factories.session(offer, NOW + timedelta(days=30))
    teachers = [factories.teacher(factories.school(region)) for _ in range(teachers)]
    headers = [factories.auth_header(t) for t in teachers]
    ids = dict(session=session.id, teachers=[t.id for t in teachers])
    db.session.commit()
    db.session.remove()
    return ids, headers


def _book(client, ids, header, **kw):
    body = {"session_id": ids["session"], "groep": "7", "pupils": 24, "adults": 2, **kw}
    return client.post("/api/v1/bookings", json=body, headers=header)


# A booking with a fresh token: token+user (1), lock school and session with offer, venue and
# the region's rules (2; they set the lock timeout themselves), already booked (1), counters, booking, event
# (3), the mail's pickup times (1). Was 22 statements in 2 transactions (+2 pings) before.
# Writes to the outbox (issue 13 part A: the mail and the re-plan as rows) are counted apart.
MAX_STATEMENTS = 12
MAX_OUTBOX_STATEMENTS = 3


def _statements(seen, verb):
    return [s for s in seen["statements"] if s.lstrip().upper().startswith(verb)]


def _booking_path(seen):
    return [s for s in seen["statements"] if "outbox" not in s.lower()]


def test_one_booking_request_is_one_transaction_with_few_statements(client, app, capsys):
    app.config["TRANSPORT_REPLAN_AFTER_COMMIT"] = False  # the re-plan is the outbox's (issue 13 part A)
    try:
        ids, headers = _setup()
        with sql_counter(app) as first:
            resp = _book(client, ids, headers[0])
        assert resp.status_code == 201, resp.get_json()
        db.session.remove()
        from app.auth.tokens import user_for_token

        user_for_token(headers[1]["Authorization"].split()[1])  # the token of teacher 1 is now fresh
        db.session.commit()
        db.session.remove()
        with sql_counter(app) as seen:
            resp = _book(client, ids, headers[1])
        assert resp.status_code == 201, resp.get_json()
        with capsys.disabled():
            print(
                f"\n[{db.engine.dialect.name}] POST /api/v1/bookings: {len(seen['statements'])} statements "
                f"(stale token: {len(first['statements'])}), {seen['commits']} commit, {seen['checkouts']} checkout"
            )
        # one connection, one transaction, nothing after its commit (no reloads for the answer or the log)
        assert seen["commits"] == 1 and seen["checkouts"] == 1 and first["checkouts"] == 1
        assert seen["after_commit"] == [] and first["after_commit"] == []
        assert len(_booking_path(seen)) <= MAX_STATEMENTS - 2
        assert len(seen["statements"]) - len(_booking_path(seen)) <= MAX_OUTBOX_STATEMENTS
        # a fresh token is not written back; a stale one is, once, in the same transaction
        assert not _statements(seen, "UPDATE USERS") and not _statements(seen, "UPDATE API_TOKENS")
        assert len(_statements(first, "UPDATE API_TOKENS")) == 1 and len(_statements(first, "UPDATE USERS")) == 1
        assert len(_booking_path(first)) <= MAX_STATEMENTS
        # the control: a full session answers 409 and writes nothing
        db.session.remove()
        with sql_counter(app) as refused:
            resp = _book(client, ids, headers[2])
        assert resp.status_code == 409 and resp.get_json()["code"] == "full"
        assert not _statements(refused, "INSERT")
    finally:
        app.config["TRANSPORT_REPLAN_AFTER_COMMIT"] = True


def test_answer_and_log_line_need_no_reload(client, app, caplog):
    """The JSON answer is the booking the service returned; the log line has the token user's id;
    neither reads the database after the commit."""
    import logging

    app.config["TRANSPORT_REPLAN_AFTER_COMMIT"] = False
    try:
        ids, headers = _setup()
        with sql_counter(app) as seen, caplog.at_level(logging.INFO, logger="app.request"):
            resp = _book(client, ids, headers[0], contact_name="Juf Anna")
        assert resp.status_code == 201, resp.get_json()
        body = resp.get_json()
        assert body["status"] == "confirmed" and body["pupils"] == 24 and body["contact_name"] == "Juf Anna"
        assert body["title"] and body["venue"]["id"] and body["starts_at"] and body["created_at"]
        assert body["sequence"] == 0 and body["cancelled_at"] is None
        # the commit was the last thing the request sent: no reload of the booking or the user after it
        assert seen["commits"] == 1 and seen["after_commit"] == [] and seen["checkouts"] == 1
        lines = [r for r in caplog.records if getattr(r, "event", None) == "request"]
        assert lines and lines[-1].user_id == ids["teachers"][0] and lines[-1].status == 201
        # and what was answered is what was stored
        db.session.remove()
        stored = client.get(resp.headers["Location"], headers=headers[0]).get_json()
        assert stored == body
        # cancelling answers from the objects too (no reload after the commit)
        db.session.remove()
        with sql_counter(app) as cancel:
            gone = client.delete(resp.headers["Location"], headers=headers[0])
        assert gone.status_code == 200 and gone.get_json()["status"] == "cancelled"
        assert gone.get_json()["cancelled_at"] and gone.get_json()["sequence"] == 1
        assert cancel["commits"] == 1 and cancel["checkouts"] == 1 and cancel["after_commit"] == []
    finally:
        app.config["TRANSPORT_REPLAN_AFTER_COMMIT"] = True


def test_token_last_used_is_written_at_most_once_a_minute(app):
    from app.auth.models import ApiToken, User
    from app.auth.tokens import LAST_USED_EVERY, user_for_token

    region = factories.region()
    teacher = factories.teacher(factories.school(region))
    secret = factories.api_token(teacher)
    db.session.commit()
    teacher_id = teacher.id
    db.session.remove()
    assert user_for_token(secret).id == teacher_id
    db.session.commit()
    db.session.remove()
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == teacher_id))
    first = token.last_used_at
    assert first is not None and db.session.get(User, teacher_id).last_seen_at is not None
    db.session.remove()
    with sql_counter(app) as seen:
        assert user_for_token(secret).id == teacher_id
        db.session.commit()
    assert not _statements(seen, "UPDATE")  # used again within the minute: nothing written
    db.session.remove()
    # a minute later it is stale: written again, once
    older = first - LAST_USED_EVERY
    db.session.execute(db.update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=older))
    db.session.execute(db.update(User).where(User.id == teacher_id).values(last_seen_at=older))
    db.session.commit()
    db.session.remove()
    with sql_counter(app) as seen:
        assert user_for_token(secret).id == teacher_id
        db.session.commit()
    assert len(_statements(seen, "UPDATE API_TOKENS")) == 1 and len(_statements(seen, "UPDATE USERS")) == 1
    db.session.remove()
    assert db.session.get(ApiToken, token.id).last_used_at > older
    assert db.session.get(User, teacher_id).last_seen_at > older
    # a revoked token is refused whatever its write-back
    db.session.get(ApiToken, token.id).revoked_at = first
    db.session.commit()
    db.session.remove()
    assert user_for_token(secret) is None


def test_series_answer_needs_no_reload(client, app):
    app.config["TRANSPORT_REPLAN_AFTER_COMMIT"] = False
    try:
        region = factories.region()
        venue, hotspot = factories.venue(region), factories.venue(region, name="Hotspot")
        series = factories.series_offer(region, venue, hotspot, groep_min=7, groep_max=8, adults_per_class=1)
        parts = [
            factories.session(series, NOW + timedelta(days=20 + 7 * i), part=p).id for i, p in enumerate(series.parts)
        ]
        header = factories.auth_header(factories.teacher(factories.school(region)))
        series_id = series.id
        db.session.commit()
        db.session.remove()
        body = {"offer_id": series_id, "session_ids": parts, "groep": "7/8", "pupils": 25, "adults": 2}
        with sql_counter(app) as seen:
            resp = client.post("/api/v1/series-bookings", json=body, headers=header)
        assert resp.status_code == 201, resp.get_json()
        answer = resp.get_json()
        assert [b["part"] for b in answer["bookings"]] == [1, 2, 3] and answer["status"] == "confirmed"
        assert [b["session_id"] for b in answer["bookings"]] == parts and all(b["id"] for b in answer["bookings"])
        assert seen["commits"] == 1 and seen["after_commit"] == [] and seen["checkouts"] == 1
    finally:
        app.config["TRANSPORT_REPLAN_AFTER_COMMIT"] = True


def test_pool_recycles_instead_of_pinging_every_checkout(monkeypatch, tmp_path):
    from app.config import load_config

    monkeypatch.delenv("DB_POOL_PRE_PING", raising=False)
    monkeypatch.delenv("DB_POOL_RECYCLE", raising=False)
    options = load_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is False and options["pool_recycle"] == 1800
    monkeypatch.setenv("DB_POOL_PRE_PING", "1")
    monkeypatch.setenv("DB_POOL_RECYCLE", "300")
    options = load_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True and options["pool_recycle"] == 300


def test_gunicorn_defaults_fit_the_cores(monkeypatch):
    import multiprocessing
    import runpy
    from pathlib import Path

    for name in ("WEB_CONCURRENCY", "WORKERS", "THREADS", "WORKER_CLASS"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert conf["workers"] == max(2, multiprocessing.cpu_count()) and conf["threads"] == 4
    assert conf["worker_class"] == "gthread"
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("THREADS", "1")
    monkeypatch.setenv("WORKER_CLASS", "sync")
    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (3, 1, "sync")


# The booking rush's two requests, with a fresh token, statement by statement (what
# bench/booking_cpu.py measures), outbox rows included. Upper bounds: the real figures when they
# were set, so a statement more on the hot path fails here (see the README's benchmarks).
# POST: token and user; lock the school; lock the session with offer, parts, region and the
# region's rules, venue; classes of the school already in it; counters; booking; its event; the
# re-plan and the mail (one INSERT). SQLite adds BEGIN IMMEDIATE (its lock, see app/__init__.py).
# DELETE: token; the booking; the schools waiting for its session; lock the session; the booking
# again under the lock; event; counters; booking; re-plan and mail; who waits for the session;
# where else the school waits. Before this bound: POST 11, DELETE 13 on both databases.
RUSH_STATEMENTS = {
    ("sqlite", "POST"): 9,
    ("postgresql", "POST"): 8,
    ("sqlite", "DELETE"): 12,
    ("postgresql", "DELETE"): 11,
}


def test_the_rush_requests_statement_by_statement(client, app, capsys):
    ids, headers = _setup(classes=2, teachers=2)
    header = headers[0]
    from app.auth.tokens import user_for_token

    user_for_token(header["Authorization"].split()[1])  # the token is fresh, as in a rush
    db.session.commit()
    db.session.remove()
    dialect = db.engine.dialect.name
    with sql_counter(app) as booked:
        resp = _book(client, ids, header)
    assert resp.status_code == 201, resp.get_json()
    db.session.remove()
    with sql_counter(app) as cancelled:
        gone = client.delete(resp.headers["Location"], headers=header)
    assert gone.status_code == 200 and gone.get_json()["status"] == "cancelled"
    db.session.remove()
    for verb, seen in (("POST", booked), ("DELETE", cancelled)):
        listing = "\n".join(" ".join(s.split())[:110] for s in seen["statements"])
        with capsys.disabled():
            print(f"\n[{dialect}] {verb}: {len(seen['statements'])} statements\n{listing}")
        assert seen["commits"] == 1 and seen["checkouts"] == 1 and seen["after_commit"] == []
        assert len(seen["statements"]) <= RUSH_STATEMENTS[(dialect, verb)], listing
    # what the statements wrote: one booking, its two events, the counters back to zero
    from app.booking.models import Booking, BookingEvent
    from app.labs.models import Session

    session = db.session.get(Session, ids["session"])
    assert (session.booked_pupils, session.booked_classes) == (0, 0)
    assert db.session.scalar(db.select(db.func.count()).select_from(Booking)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(BookingEvent)) == 2
