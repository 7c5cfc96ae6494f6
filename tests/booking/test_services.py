"""The booking service's rules, one by one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.booking.errors import AlreadyBooked, InvalidInput, NotAllowed, Refused, SessionFull
from app.booking.models import Booking, BookingEvent, BookingStatus
from app.booking.services import (
    ClassDetails,
    cancel_booking,
    cancel_session,
    change_capacity,
    create_booking,
    create_series_booking,
    leave_waitlist,
    move_booking,
    record_attendance,
    waitlist_order,
)
from app.extensions import db
from tests import factories

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(app):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(
        region, venue, groep_min=6, groep_max=8, capacity_pupils=50, capacity_classes=2, adults_per_class=1
    )
    session = factories.session(offer, NOW + timedelta(days=30))
    schools = [factories.school(region) for _ in range(4)]
    teachers = [factories.teacher(s) for s in schools]
    coord = factories.user("coordinator", region=region, venues=[venue])
    return dict(
        region=region, venue=venue, offer=offer, session=session, schools=schools, teachers=teachers, coord=coord
    )


def details(school, groep="7", pupils=25, adults=2, **kw):
    return ClassDetails(school_id=school.id, groep=groep, pupils=pupils, adults=adults, **kw)


def test_confirmed_booking_counts_and_audit(world):
    s, t = world["session"], world["teachers"][0]
    b = create_booking(t, s.id, details(world["schools"][0], groep="7/8"), now=NOW)
    assert b.status == BookingStatus.CONFIRMED and (b.groep_min, b.groep_max) == (7, 8)
    assert (s.booked_pupils, s.booked_classes) == (25, 1)
    assert b.contact_email == t.email
    ev = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == b.id)).one()
    assert (ev.action, ev.from_status, ev.to_status, ev.actor_id) == ("create", None, "confirmed", t.id)


@pytest.mark.parametrize(
    "kw, code",
    [
        (dict(groep="5"), "groep_not_targeted"),
        (dict(groep="9"), "invalid_input"),
        (dict(groep="5/6"), "groep_not_targeted"),
        (dict(groep="6/8"), "invalid_input"),
        (dict(pupils=0), "invalid_input"),
        (dict(pupils=41), "invalid_input"),
        (dict(adults=0), "adults_required"),
        (dict(adults=11), "invalid_input"),
        (dict(girls=30), "invalid_input"),
    ],
)
def test_refusals_for_input_and_groep(world, kw, code):
    with pytest.raises((Refused, InvalidInput)) as exc:
        create_booking(world["teachers"][0], world["session"].id, details(world["schools"][0], **kw), now=NOW)
    assert exc.value.code == code
    assert db.session.scalar(select(Booking.id)) is None


def test_past_window_and_cancelled_sessions(world):
    s, t, school = world["session"], world["teachers"][0], world["schools"][0]
    with pytest.raises(Refused) as exc:
        create_booking(t, s.id, details(school), now=s.starts_at + timedelta(minutes=1))
    assert exc.value.code == "session_past"
    world["offer"].booking_opens_at = NOW + timedelta(days=1)
    with pytest.raises(Refused) as exc:
        create_booking(t, s.id, details(school), now=NOW)
    assert exc.value.code == "window_not_open"
    world["offer"].booking_opens_at = None
    world["offer"].booking_closes_at = NOW - timedelta(days=1)
    with pytest.raises(Refused) as exc:
        create_booking(t, s.id, details(school), now=NOW)
    assert exc.value.code == "window_closed"


def test_one_booking_per_school_per_session(world):
    s, t, school = world["session"], world["teachers"][0], world["schools"][0]
    create_booking(t, s.id, details(school, pupils=10), now=NOW)
    with pytest.raises(AlreadyBooked):
        create_booking(t, s.id, details(school, pupils=10), now=NOW)


def test_teacher_books_only_for_own_school(world):
    with pytest.raises(NotAllowed):
        create_booking(world["teachers"][0], world["session"].id, details(world["schools"][1]), now=NOW)


def test_full_then_waitlist_then_promotion_in_fair_order(world, mailbox):
    s, schools, teachers = world["session"], world["schools"], world["teachers"]
    b0 = create_booking(teachers[0], s.id, details(schools[0], pupils=30), now=NOW)
    create_booking(teachers[1], s.id, details(schools[1], pupils=20), now=NOW)
    with pytest.raises(SessionFull) as exc:
        create_booking(teachers[2], s.id, details(schools[2], pupils=10), now=NOW)
    assert exc.value.status == 409 and exc.value.code == "full"
    # school 2 waits first, but was reached this year elsewhere; school 3 waits later and was not
    other = factories.session(world["offer"], NOW + timedelta(days=10))
    create_booking(teachers[2], other.id, details(schools[2], pupils=10), now=NOW)
    w2 = create_booking(teachers[2], s.id, details(schools[2], pupils=10), waitlist=True, now=NOW)
    w3 = create_booking(
        teachers[3], s.id, details(schools[3], pupils=10), waitlist=True, now=NOW + timedelta(minutes=1)
    )
    assert w2.status == w3.status == BookingStatus.WAITLISTED
    assert [b.id for b in waitlist_order(s)] == [w3.id, w2.id]
    cancel_booking(teachers[0], b0.id, now=NOW)
    assert b0.status == BookingStatus.CANCELLED
    # one class place freed: the school not yet reached this year goes first
    assert (w3.status, w2.status) == (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)
    assert (s.booked_pupils, s.booked_classes) == (30, 2)


def test_promotion_respects_class_capacity(world):
    s, schools, teachers = world["session"], world["schools"], world["teachers"]
    b0 = create_booking(teachers[0], s.id, details(schools[0], pupils=20), now=NOW)
    create_booking(teachers[1], s.id, details(schools[1], pupils=20), now=NOW)
    w2 = create_booking(teachers[2], s.id, details(schools[2], pupils=10), waitlist=True, now=NOW)
    w3 = create_booking(
        teachers[3], s.id, details(schools[3], pupils=10), waitlist=True, now=NOW + timedelta(seconds=1)
    )
    cancel_booking(teachers[0], b0.id, now=NOW)
    assert (w2.status, w3.status) == (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)
    assert (s.booked_pupils, s.booked_classes) == (30, 2)
    events = [e.action for e in w2.events]
    assert events == ["create", "promote"]
    leave_waitlist(teachers[3], w3.id, now=NOW)
    assert w3.status == BookingStatus.CANCELLED


def test_cancellation_deadline(world):
    s, t, coord = world["session"], world["teachers"][0], world["coord"]
    b = create_booking(t, s.id, details(world["schools"][0]), now=NOW)
    late = s.starts_at - timedelta(days=13)
    with pytest.raises(Refused) as exc:
        cancel_booking(t, b.id, now=late)
    assert exc.value.code == "cancel_deadline_passed"
    with pytest.raises(InvalidInput):
        cancel_booking(coord, b.id, "", now=late)
    cancel_booking(coord, b.id, "Bus uitgevallen", now=late)
    assert b.status == BookingStatus.CANCELLED and (s.booked_pupils, s.booked_classes) == (0, 0)
    assert b.events[-1].reason == "Bus uitgevallen" and b.events[-1].actor_id == coord.id
    with pytest.raises(Refused):
        cancel_booking(coord, b.id, "nog eens", now=late)  # frees nothing twice
    assert s.booked_pupils == 0


def _series(world, gaps=((0, 0), (3, 30), (3, 30))):
    region = world["region"]
    hotspot = factories.venue(region, name="Hotspot")
    offer = factories.series_offer(
        region, world["venue"], hotspot, gaps=gaps, groep_min=7, groep_max=8, adults_per_class=1
    )
    p1, p2, p3 = offer.parts
    s1 = factories.session(offer, NOW + timedelta(days=20), part=p1)
    s2 = factories.session(offer, NOW + timedelta(days=27), part=p2)
    s3 = factories.session(offer, NOW + timedelta(days=34), part=p3)
    s3b = factories.session(offer, NOW + timedelta(days=80), part=p3)
    return offer, [s1, s2, s3, s3b]


def test_series_all_parts_or_nothing(world):
    offer, (s1, s2, s3, s3b) = _series(world)
    t, school = world["teachers"][0], world["schools"][0]
    with pytest.raises(Refused) as exc:
        create_booking(t, s1.id, details(school), now=NOW)
    assert exc.value.code == "series_only"
    with pytest.raises(Refused) as exc:
        create_series_booking(t, offer.id, [s1.id, s2.id, s3b.id], details(school), now=NOW)
    assert exc.value.code == "series_gap"
    with pytest.raises(Refused) as exc:
        create_series_booking(t, offer.id, [s2.id, s1.id, s3.id], details(school), now=NOW)
    assert exc.value.code == "series_order"
    s3.booked_pupils, s3.booked_classes = s3.capacity_pupils, s3.capacity_classes
    with pytest.raises(SessionFull) as exc:
        create_series_booking(t, offer.id, [s1.id, s2.id, s3.id], details(school), now=NOW)
    assert exc.value.extra["part"] == 3
    assert (s1.booked_pupils, s2.booked_pupils) == (0, 0)  # nothing half-written
    s3.booked_pupils = s3.booked_classes = 0
    series = create_series_booking(t, offer.id, [s1.id, s2.id, s3.id], details(school), now=NOW)
    assert [b.part_position for b in series.bookings] == [1, 2, 3]
    assert all(b.status == BookingStatus.CONFIRMED for b in series.bookings)
    cancel_booking(t, series.bookings[1].id, now=NOW)  # cancelling one part cancels all
    assert all(b.status == BookingStatus.CANCELLED for b in series.bookings)
    assert (s1.booked_pupils, s2.booked_pupils, s3.booked_pupils) == (0, 0, 0)


def test_move_keeps_series_order(world):
    offer, (s1, s2, s3, s3b) = _series(world, gaps=((0, 0), (3, 30), (3, 60)))
    t, coord, school = world["teachers"][0], world["coord"], world["schools"][0]
    series = create_series_booking(t, offer.id, [s1.id, s2.id, s3.id], details(school), now=NOW)
    part3 = series.bookings[2]
    moved = move_booking(coord, part3.id, s3b.id, "Bedrijf kan dan beter", now=NOW)
    assert moved.session_id == s3b.id and (s3.booked_pupils, s3b.booked_pupils) == (0, 25)
    assert moved.sequence == 1 and moved.events[-1].action == "move"
    early = factories.session(offer, NOW + timedelta(days=21), part=offer.parts[2])
    with pytest.raises(Refused) as exc:
        move_booking(coord, part3.id, early.id, "te vroeg", now=NOW)
    assert exc.value.code == "series_gap"


def test_capacity_changes(world):
    s, t, coord = world["session"], world["teachers"], world["coord"]
    create_booking(t[0], s.id, details(world["schools"][0], pupils=30), now=NOW)
    create_booking(t[1], s.id, details(world["schools"][1], pupils=20), now=NOW)
    w = create_booking(t[2], s.id, details(world["schools"][2], pupils=10), waitlist=True, now=NOW)
    with pytest.raises(Refused) as exc:
        change_capacity(coord, s.id, 40, 2, now=NOW)
    assert exc.value.code == "capacity_below_booked"
    change_capacity(coord, s.id, 60, 3, now=NOW)
    assert w.status == BookingStatus.CONFIRMED  # raising capacity promotes
    with pytest.raises(NotAllowed):
        change_capacity(t[0], s.id, 80, 3, now=NOW)


def test_cancel_session_frees_nothing_twice(world):
    s, t, coord = world["session"], world["teachers"], world["coord"]
    create_booking(t[0], s.id, details(world["schools"][0], pupils=30), now=NOW)
    create_booking(t[1], s.id, details(world["schools"][1], pupils=20), now=NOW)
    cancelled = cancel_session(coord, s.id, "Lokaal onder water", now=NOW)
    assert len(cancelled) == 2 and (s.booked_pupils, s.booked_classes) == (0, 0)
    assert cancel_session(coord, s.id, "nog eens", now=NOW) == []
    assert (s.booked_pupils, s.booked_classes) == (0, 0)


def test_attendance(world):
    s, t, coord = world["session"], world["teachers"], world["coord"]
    b = create_booking(t[0], s.id, details(world["schools"][0], pupils=25), now=NOW)
    with pytest.raises(Refused):
        record_attendance(coord, b.id, "attended", 24, now=NOW)
    after = s.starts_at + timedelta(hours=3)
    with pytest.raises(InvalidInput):
        record_attendance(coord, b.id, "attended", None, now=after)
    record_attendance(coord, b.id, "attended", 24, now=after)
    assert b.status == BookingStatus.ATTENDED and b.attended_pupils == 24 and s.booked_pupils == 25
    record_attendance(coord, b.id, "no_show", now=after)
    assert b.status == BookingStatus.NO_SHOW and s.booked_pupils == 0
