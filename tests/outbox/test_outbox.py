"""The outbox: nothing lost after the commit, each mail once, bad data one dead letter,
re-plans coalesced. With the real test SMTP server (and a second one we stop and start)."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.auth.models import Role, User
from app.booking.errors import BookingError
from app.booking.models import Booking, BookingStatus
from app.booking.services import ClassDetails, cancel_session, create_booking
from app.db import utcnow
from app.extensions import db
from app.jobs import JobRun
from app.mail import queue_mail
from app.outbox import worker
from app.outbox.models import OutboxEntry, OutboxStatus
from app.transport import planning
from app.transport.models import BusType
from tests import factories
from tests.transport.conftest import VENUE, lat_at

LATER = timedelta(days=2)  # past every backoff of these tests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SecondSmtp:
    """A test SMTP server on a port of our own, to stop and start again."""

    def __init__(self, handler):
        self.handler, self.port, self.controller = handler, _free_port(), None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def _world(capacity_classes=30, title=None):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(
        region,
        venue,
        capacity_pupils=30 * capacity_classes,
        capacity_classes=capacity_classes,
        adults_per_class=0,
        **({"title": title} if title else {}),
    )
    session = factories.session(offer, datetime.now(timezone.utc) + timedelta(days=30))
    teachers = []
    for _ in range(capacity_classes):
        school = factories.school(region)
        teachers.append((factories.teacher(school).id, school.id))
    db.session.commit()
    return region, session.id, teachers


def _book(app, teacher_id, school_id, session_id, pupils=20, adults=0):
    with app.app_context():
        try:
            b = create_booking(
                db.session.get(User, teacher_id),
                session_id,
                ClassDetails(school_id=school_id, groep="7", pupils=pupils, adults=adults),
            )
            db.session.commit()
            return b.status.value
        except BookingError as exc:
            db.session.rollback()
            return exc.code
        finally:
            db.session.remove()


def _rush(app, teachers, session_id, threads=8, **kw):
    db.session.remove()  # SQLite: release the write lock before the threads start
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda t: _book(app, *t, session_id, **kw), teachers))


def _entries(status=None, kind=None):
    db.session.expire_all()
    stmt = select(OutboxEntry).order_by(OutboxEntry.id)
    if status is not None:
        stmt = stmt.where(OutboxEntry.status == status)
    if kind is not None:
        stmt = stmt.where(OutboxEntry.kind == kind)
    return list(db.session.scalars(stmt))


def test_smtp_down_during_a_rush_loses_no_mail_and_sends_each_once(app, smtp_server):
    second = SecondSmtp(type(smtp_server)())
    app.config.update(MAIL_PORT=second.port)  # nothing listens there yet: the server is down
    try:
        _region, session_id, teachers = _world(capacity_classes=12)
        results = _rush(app, teachers, session_id)
        assert results == ["confirmed"] * 12  # the requests never waited for the mail server
        assert worker.drain() == 13  # 12 mails tried and put back; the session's re-plan done
        mails = _entries(kind="mail")
        assert len(mails) == 12 and all(e.status == OutboxStatus.PENDING and e.attempts == 1 for e in mails)
        assert all("ConnectionRefused" in e.last_error and e.next_attempt_at > utcnow() for e in mails)
        assert worker.drain() == 0  # not due again before the backoff
        health = app.test_client().get("/health").get_json()["outbox"]
        assert health["pending"] == 12 and health["dead"] == 0 and 0 <= health["oldest_pending_age_seconds"] < 600

        second.start()  # the server is back
        assert worker.drain(utcnow() + LATER) == 12
        assert worker.drain(utcnow() + 2 * LATER) == 0  # a later run sends nothing again
        got = second.handler.messages
        assert len(got) == 12
        emails = {db.session.get(User, tid).email for tid, _sid in teachers}
        assert Counter(m["To"] for m in got) == Counter(emails)  # each confirmation exactly once
        assert len({m["Message-ID"] for m in got}) == 12
        assert all(m["Subject"].startswith("Bevestiging") for m in got)
        assert {e.status for e in _entries()} == {OutboxStatus.DONE}
    finally:
        second.stop()
        app.config.update(MAIL_PORT=smtp_server.port)


def _queue(n):
    for i in range(n):
        queue_mail(f"school{i}@example.org", f"Bericht {i}", "Hallo")
    db.session.commit()
    db.session.remove()


def _two_workers(app, claim, batch):
    app.config["OUTBOX_TEST_BARRIER"] = threading.Barrier(2)

    def run(_):
        with app.app_context():
            try:
                return worker.deliver_batch(batch=batch, claim=claim)
            finally:
                db.session.remove()

    try:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(run, range(2)))
    finally:
        app.config.pop("OUTBOX_TEST_BARRIER")


def test_two_workers_on_postgresql_send_each_mail_once(app, backend, mailbox):
    if backend != "postgresql":
        pytest.skip("SQLite runs one worker: its write lock lets one transaction at a time claim")
    _queue(30)
    assert sorted(_two_workers(app, claim=True, batch=15)) == [15, 15]  # each claimed its own half
    assert worker.drain() == 0
    assert len(mailbox) == 30
    assert Counter(m["To"] for m in mailbox).most_common(1)[0][1] == 1
    assert len({m["Message-ID"] for m in mailbox}) == 30


def test_control_without_claiming_two_workers_send_the_same_mails(app, backend, mailbox):
    """The control case: workers that read the due rows without FOR UPDATE SKIP LOCKED both send them."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one worker: its write lock lets one transaction at a time claim")
    _queue(30)
    assert _two_workers(app, claim=False, batch=15) == [15, 15]
    worker.drain()
    assert len(mailbox) == 45  # the first 15 went out twice
    assert Counter(m["To"] for m in mailbox).most_common(1)[0][1] == 2


def test_dead_letter_after_n_failures_then_retried_from_the_admin_page(app, client, login, smtp_server, mailbox):
    app.config.update(MAIL_PORT=_free_port(), OUTBOX_MAX_ATTEMPTS=3)
    try:
        queue_mail("juf@example.org", "Bevestiging: Robots", "Hallo")
        queue_mail("meester@example.org", "Bevestiging: Lego", "Hallo")
        db.session.commit()
        now = utcnow()
        for n in range(3):
            worker.drain(now + n * LATER)
        dead = _entries(OutboxStatus.DEAD)
        assert len(dead) == 2 and all(e.attempts == 3 for e in dead)
        health = client.get("/health").get_json()
        assert health["outbox"]["dead"] == 2 and health["outbox"]["pending"] == 0
        assert health["status"] == "degraded"
        worker.drain(now + 10 * LATER)
        assert mailbox == []  # a dead letter is not tried again by itself
    finally:
        app.config.update(MAIL_PORT=smtp_server.port, OUTBOX_MAX_ATTEMPTS=8)

    admin = factories.user(Role.ADMIN)
    coord = factories.user(Role.PROGRAMME_LEADER, region=factories.region())
    db.session.commit()
    login(coord)
    assert client.get("/regiobeheer/wachtrij/").status_code == 403
    assert client.post(f"/regiobeheer/wachtrij/{dead[0].id}/opnieuw").status_code == 403
    client.post("/uitloggen")
    login(admin)
    page = client.get("/regiobeheer/wachtrij/")
    assert page.status_code == 200 and "Bevestiging: Robots" in page.text and "ConnectionRefused" in page.text
    resp = client.post(f"/regiobeheer/wachtrij/{dead[0].id}/opnieuw", follow_redirects=True)
    assert "opnieuw verstuurd" in resp.text
    resp = client.post(f"/regiobeheer/wachtrij/{dead[1].id}/weggooien", follow_redirects=True)
    assert "weggegooid" in resp.text
    assert worker.drain() == 1
    assert [m["To"] for m in mailbox] == ["juf@example.org"]
    assert {e.key: e.status for e in _entries()} == {
        dead[0].key: OutboxStatus.DONE,
        dead[1].key: OutboxStatus.DISCARDED,
    }
    assert client.get("/health").get_json()["outbox"] == {"pending": 0, "dead": 0, "oldest_pending_age_seconds": None}


def test_a_mail_that_cannot_be_built_is_one_dead_letter_and_the_booking_stands(app, client, mailbox):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(
        region, venue, title="Robots\r\nBcc: iedereen@example.org", capacity_classes=3, capacity_pupils=90
    )
    session = factories.session(offer, datetime.now(timezone.utc) + timedelta(days=30))
    school = factories.school(region)
    header = factories.auth_header(factories.teacher(school))
    db.session.commit()
    resp = client.post(
        "/api/v1/bookings", headers=header, json={"session_id": session.id, "groep": "7", "pupils": 20, "adults": 2}
    )
    assert resp.status_code == 201
    worker.drain()
    dead = _entries(OutboxStatus.DEAD)
    assert len(dead) == 1 and "cannot build" in dead[0].last_error and mailbox == []
    assert db.session.scalar(select(func.count(Booking.id)).where(Booking.status == BookingStatus.CONFIRMED)) == 1


def test_one_bad_address_does_not_stop_the_other_mails_of_a_cancellation(app, mailbox):
    region, session_id, teachers = _world(capacity_classes=3)
    for tid, sid in teachers:
        create_booking(
            db.session.get(User, tid), session_id, ClassDetails(school_id=sid, groep="7", pupils=20, adults=0)
        )
    db.session.commit()
    worker.drain()
    mailbox.clear()
    bad = db.session.scalars(select(Booking).order_by(Booking.id)).first()
    bad.contact_email = "juf@example.org\r\nBcc: iedereen@example.org"  # older data, from before the door checked it
    bad.contact_user_id = None
    coord = factories.user(Role.ADMIN)
    db.session.commit()
    assert len(cancel_session(coord, session_id, "Het lokaal wordt verbouwd")) == 3
    db.session.commit()
    worker.drain()
    assert len(_entries(OutboxStatus.DEAD)) == 1
    assert len(mailbox) == 2 and all(m["Subject"].startswith("Geannuleerd") for m in mailbox)


def test_reminders_are_marked_with_their_mail_queued_and_the_job_run_finishes(app, mailbox):
    from app.scheduler import run_job

    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, capacity_classes=3, capacity_pupils=90, adults_per_class=0)
    soon = factories.session(offer, utcnow() + timedelta(days=2))
    ids = []
    for _i in range(3):
        school = factories.school(region)
        b = create_booking(
            factories.teacher(school), soon.id, ClassDetails(school.id, "7", 20, 0), now=utcnow() - timedelta(days=30)
        )
        ids.append(b.id)
    db.session.commit()
    worker.drain()
    mailbox.clear()
    b = db.session.get(Booking, ids[0])
    b.contact_email, b.contact_user_id = "juf@example.org\nBcc: x@example.org", None
    db.session.commit()
    at = utcnow().replace(microsecond=0)
    assert run_job("booking.send_reminders", at)
    run = db.session.scalar(select(JobRun).where(JobRun.name == "booking.send_reminders"))
    assert run.finished_at is not None and run.result == "ok: 3"
    reminders = [e for e in _entries(OutboxStatus.PENDING, "mail") if e.payload["template"] == "reminder"]
    assert len(reminders) == 3  # every reminder marked sent has its mail in the outbox
    assert all(db.session.get(Booking, i).reminder_sent_at is not None for i in ids)
    worker.drain()
    assert len([m for m in mailbox if m["Subject"].startswith("Herinnering")]) == 2
    assert len(_entries(OutboxStatus.DEAD)) == 1


def test_replans_are_coalesced_per_session(app):
    _region, session_id, teachers = _world(capacity_classes=5)
    for tid, sid in teachers:
        create_booking(
            db.session.get(User, tid), session_id, ClassDetails(school_id=sid, groep="7", pupils=20, adults=0)
        )
        db.session.commit()
    replans = _entries(kind="replan")
    assert [(e.key, e.status) for e in replans] == [(f"replan:{session_id}", OutboxStatus.PENDING)]


def test_a_rush_of_100_far_bookings_runs_the_solver_a_handful_of_times(app, backend, monkeypatch):
    # a short solver limit: the test is about coalescing re-plans, not about the solver. When the
    # limit comes before CP-SAT's first solution, the rule-of-thumb plan it started from is the plan
    # (before that fallback, a session planned mid-rush at this limit once got no plan at all)
    app.config.update(TRANSPORT_SOLVER_SECONDS=0.2, OUTBOX_POLL_SECONDS=0.05)
    region = factories.region(bus_threshold_km=6.0, road_factor=1.3)
    venue = factories.venue(region, latitude=VENUE[0], longitude=VENUE[1])
    offer = factories.offer(
        region, venue, groep_min=5, groep_max=8, capacity_pupils=2000, capacity_classes=100, adults_per_class=0
    )
    session = factories.session(
        offer, datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
    )
    db.session.add(
        BusType(
            region_id=region.id,
            name="Touringcar 50",
            carrier="Achterhoek Tours",
            seats=50,
            cost_per_trip=180.0,
            cost_per_km=1.9,
            available=40,
        )
    )
    teachers = []
    for i in range(100):
        s = factories.school(region, latitude=lat_at(8 + (i % 10)), longitude=VENUE[1] + 0.004 * (i // 10))
        teachers.append((factories.teacher(s).id, s.id))
    db.session.commit()
    session_id = session.id
    runs: list[int] = []
    real = planning.plan_day

    def counting(reqs):
        runs.append(sum(len(r.stops) for r in reqs))
        return real(reqs)

    monkeypatch.setattr(planning, "plan_day", counting)
    stop = threading.Event()
    # the worker runs during the rush, as in production; SQLite has one writer, and the day's
    # planning holds its write lock while the solver runs, so there the worker comes after the rush
    thread = worker.start_thread(app, stop) if backend == "postgresql" else None
    try:
        results = _rush(app, teachers, session_id, pupils=12)
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=60)
    assert results == ["confirmed"] * 100
    worker.drain()
    assert 1 <= len(runs) <= 10, runs  # not 100
    from app.transport.models import BusPlan, BusStop, Bus

    db.session.expire_all()
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == session_id))
    seated = dict(
        db.session.execute(
            select(BusStop.booking_id, func.sum(BusStop.seats))
            .join(Bus)
            .where(Bus.plan_id == plan.id)
            .group_by(BusStop.booking_id)
        ).all()
    )
    confirmed = db.session.scalars(
        select(Booking.id).where(Booking.session_id == session_id, Booking.status == BookingStatus.CONFIRMED)
    ).all()
    assert len(confirmed) == 100 and seated == {bid: 12 for bid in confirmed}
    assert _entries(OutboxStatus.PENDING) == []


def test_the_worker_command_drains_and_exits_with_once(app, runner, mailbox):
    queue_mail("juf@example.org", "Hallo", "Tekst")
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0 and "handled: 1" in result.output
    assert [m["To"] for m in mailbox] == ["juf@example.org"]
    result = runner.invoke(args=["outbox", "status"])
    assert "'pending': 0" in result.output and "'dead': 0" in result.output
