"""Many teachers press the button in the same second: no overbooking, ever.

Each thread has its own app context and database session (its own connection), like a
web process. After the rush the invariants are checked on the database itself. The
control case switches the locks off and shows the race they guard against.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from app.booking.errors import BookingError
from app.booking.models import HOLDS_PLACE, Booking, BookingStatus
from app.booking.services import ClassDetails, cancel_booking, create_booking
from app.extensions import db
from app.labs.models import Session
from app.auth.models import User
from tests import factories

THREADS = 24


def _setup(n_schools=THREADS, sessions=2, capacity_pupils=60, capacity_classes=3):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(
        region, venue, capacity_pupils=capacity_pupils, capacity_classes=capacity_classes, adults_per_class=0
    )
    start = datetime.now(timezone.utc) + timedelta(days=30)
    session_ids = [factories.session(offer, start + timedelta(days=i)).id for i in range(sessions)]
    teachers = []
    for _ in range(n_schools):
        school = factories.school(region)
        teachers.append((factories.teacher(school).id, school.id))
    db.session.commit()
    db.session.remove()  # release SQLite's write lock before the threads start
    return session_ids, teachers


def _check_invariants(session_ids):
    db.session.remove()
    for sid in session_ids:
        s = db.session.get(Session, sid)
        held = db.session.execute(
            select(func.count(Booking.id), func.coalesce(func.sum(Booking.pupils), 0)).where(
                Booking.session_id == sid, Booking.status.in_(HOLDS_PLACE)
            )
        ).one()
        assert (s.booked_classes, s.booked_pupils) == tuple(held), f"counters drifted on session {sid}"
        assert s.booked_classes <= s.capacity_classes and s.booked_pupils <= s.capacity_pupils
        dupes = db.session.execute(
            select(Booking.school_id)
            .where(Booking.session_id == sid, Booking.status.in_(HOLDS_PLACE + (BookingStatus.WAITLISTED,)))
            .group_by(Booking.school_id)
            .having(func.count() > 1)
        ).all()
        assert dupes == []
    db.session.remove()


def _book(app, teacher_id, school_id, session_id, pupils=20, waitlist=False):
    with app.app_context():
        try:
            user = db.session.get(User, teacher_id)
            b = create_booking(
                user,
                session_id,
                ClassDetails(school_id=school_id, groep="7", pupils=pupils, adults=0),
                waitlist=waitlist,
            )
            status = b.status.value
            db.session.commit()
            return status
        except BookingError as exc:
            db.session.rollback()
            return exc.code
        except DBAPIError as exc:  # the constraints' backstop, or a lock timeout
            db.session.rollback()
            return "db:" + exc.__class__.__name__
        finally:
            db.session.remove()


def test_concurrent_bookings_through_the_service(app):
    session_ids, teachers = _setup()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(
            pool.map(lambda i: _book(app, *teachers[i], session_ids[i % 2], waitlist=i % 3 == 0), range(THREADS))
        )
    assert results.count("confirmed") == 6  # 3 classes × 2 sessions
    assert set(results) <= {"confirmed", "waitlisted", "full"}
    _check_invariants(session_ids)


def test_same_school_many_times_at_once(app):
    session_ids, teachers = _setup(n_schools=1, sessions=1, capacity_classes=10, capacity_pupils=400)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: _book(app, *teachers[0], session_ids[0]), range(8)))
    assert results.count("confirmed") == 1 and results.count("already_booked") == 7
    _check_invariants(session_ids)


def test_concurrent_bookings_and_cancellations(app):
    session_ids, teachers = _setup(sessions=1, capacity_classes=4, capacity_pupils=80)
    first = [_book(app, *teachers[i], session_ids[0]) for i in range(4)]
    assert first == ["confirmed"] * 4
    with app.app_context():
        to_cancel = [b.id for b in db.session.scalars(select(Booking).order_by(Booking.id))][:2]
        db.session.remove()

    def cancel(booking_id):
        with app.app_context():
            try:
                booking = db.session.get(Booking, booking_id)
                user = db.session.get(User, booking.contact_user_id)
                cancel_booking(user, booking_id)
                db.session.commit()
                return "cancelled"
            except BookingError as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()

    jobs = [("cancel", bid) for bid in to_cancel * 2] + [("book", i) for i in range(4, THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(
            pool.map(
                lambda j: (
                    cancel(j[1]) if j[0] == "cancel" else _book(app, *teachers[j[1]], session_ids[0], waitlist=True)
                ),
                jobs,
            )
        )
    assert results[:4].count("cancelled") == 2 and results[:4].count("not_cancellable") == 2
    _check_invariants(session_ids)
    with app.app_context():
        s = db.session.get(Session, session_ids[0])
        assert s.booked_classes == 4  # the two freed places were taken (directly or by promotion)


def test_concurrent_bookings_through_the_http_api(app):
    session_ids, teachers = _setup(sessions=1, capacity_classes=3, capacity_pupils=60)
    with app.app_context():
        tokens = []
        for teacher_id, _ in teachers:
            tokens.append(factories.api_token(db.session.get(User, teacher_id)))
        db.session.commit()
        db.session.remove()

    def post(token):
        client = app.test_client()
        resp = client.post(
            "/api/v1/bookings",
            json={"session_id": session_ids[0], "groep": "7", "pupils": 20, "adults": 0},
            headers={"Authorization": f"Bearer {token}"},
        )
        return resp.status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(post, tokens))
    assert statuses.count(201) == 3 and statuses.count(409) == THREADS - 3, statuses
    _check_invariants(session_ids)


@pytest.mark.postgresql_only
def test_control_without_locks_the_race_overbooks(app, backend):
    """The control case: with the locks switched off, the same rush overbooks.

    Every thread reads the free places, waits at a barrier until all have read, then
    writes. Without the row lock each one saw a free place, so more classes are
    confirmed than the session holds; the counter update is lost (it writes an absolute
    value), which is also why the CHECK constraint on the counter cannot save it.
    SQLite cannot show this race: it serialises writers (BEGIN IMMEDIATE).
    """
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race exists only where writers run in parallel")
    session_ids, teachers = _setup(n_schools=6, sessions=1, capacity_classes=2, capacity_pupils=100)
    barrier = threading.Barrier(6)
    app.config.update(BOOKING_LOCKING=False, BOOKING_TEST_BARRIER=barrier)
    try:
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda i: _book(app, *teachers[i], session_ids[0]), range(6)))
    finally:
        app.config.update(BOOKING_LOCKING=True, BOOKING_TEST_BARRIER=None)
    with app.app_context():
        confirmed = db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.session_id == session_ids[0], Booking.status == BookingStatus.CONFIRMED
            )
        )
        s = db.session.get(Session, session_ids[0])
        assert confirmed > s.capacity_classes, results  # the race happened: overbooked
        assert s.booked_classes != confirmed  # and the counter lost updates
        db.session.remove()
    # the same rush with the locks on: test_concurrent_bookings_through_the_service
