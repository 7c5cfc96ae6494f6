"""Offer settings (issue 17): booking horizon, minimum notice, change deadline, approval; changing a booking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking.errors import InvalidInput, NotAllowed, Refused, SessionFull
from app.booking.models import Booking, BookingEvent, BookingStatus
from app.booking.reached import is_reached
from app.booking.services import (
    ClassDetails,
    approve_booking,
    cancel_booking,
    change_booking,
    competing,
    create_booking,
    create_series_booking,
    decline_request,
    pending_requests,
)
from app.db import utcnow
from app.extensions import db
from app.outbox.models import OutboxEntry
from app.timeutil import school_year_of
from tests import factories


@pytest.fixture
def w(app):
    now = utcnow().replace(microsecond=0)
    region = factories.region()
    venue = factories.venue(region, contact_name="Lab Piet", contact_email="lab@techlab.nl", contact_phone="010 123")
    offer = factories.offer(
        region,
        venue,
        groep_min=6,
        groep_max=8,
        capacity_pupils=50,
        capacity_classes=2,
        adults_per_class=1,
        cancel_deadline_days=14,
    )
    session = factories.session(offer, now + timedelta(days=30))
    schools = [factories.school(region) for _ in range(3)]
    teachers = [factories.teacher(s) for s in schools]
    coord = factories.user("coordinator", region=region, venues=[venue])
    db.session.commit()
    return dict(
        now=now,
        region=region,
        venue=venue,
        offer=offer,
        session=session,
        schools=schools,
        teachers=teachers,
        coord=coord,
    )


def details(school, groep="7", pupils=25, adults=2, **kw):
    return ClassDetails(school_id=school.id, groep=groep, pupils=pupils, adults=adults, **kw)


def _mails(kind):
    return [e for e in db.session.scalars(select(OutboxEntry)) if (e.payload or {}).get("template") == kind]


# ------------------------------------------------------------------ horizon and notice


def test_minimum_notice_refuses_late_bookings_with_its_rule(w):
    w["offer"].min_notice_days = 31
    with pytest.raises(Refused) as exc:
        create_booking(w["teachers"][0], w["session"].id, details(w["schools"][0]), now=w["now"])
    assert exc.value.code == "min_notice"
    assert "Boeken kan tot uiterlijk 31 dagen van tevoren" in exc.value.message
    assert db.session.scalar(select(Booking.id)) is None
    w["offer"].min_notice_days = 29  # 30 days ahead: in time
    assert (
        create_booking(w["teachers"][0], w["session"].id, details(w["schools"][0]), now=w["now"]).status
        == BookingStatus.CONFIRMED
    )


def test_booking_horizon_refuses_bookings_too_far_ahead(w):
    w["offer"].booking_horizon_weeks = 2
    with pytest.raises(Refused) as exc:
        create_booking(w["teachers"][0], w["session"].id, details(w["schools"][0]), now=w["now"])
    assert exc.value.code == "booking_horizon"
    assert "hoogstens 2 weken van tevoren" in exc.value.message
    assert exc.value.extra["booking_horizon_weeks"] == 2
    later = w["session"].starts_at - timedelta(days=13)
    assert (
        create_booking(w["teachers"][0], w["session"].id, details(w["schools"][0]), now=later).status
        == BookingStatus.CONFIRMED
    )


def test_horizon_and_notice_hold_for_series_and_waiting_list_too(w):
    hotspot = factories.venue(w["region"])
    series = factories.series_offer(w["region"], w["venue"], hotspot, min_notice_days=40)
    parts = series.parts
    sessions = [factories.session(series, w["now"] + timedelta(days=30 + 7 * i), part=p) for i, p in enumerate(parts)]
    with pytest.raises(Refused) as exc:
        create_series_booking(
            w["teachers"][0], series.id, [s.id for s in sessions], details(w["schools"][0]), now=w["now"]
        )
    assert exc.value.code == "min_notice"
    w["offer"].booking_horizon_weeks = 1
    with pytest.raises(Refused) as exc:  # a refusal is not a wait: not even the waiting list
        create_booking(w["teachers"][0], w["session"].id, details(w["schools"][0]), waitlist=True, now=w["now"])
    assert exc.value.code == "booking_horizon"


def test_offer_settings_are_checked_when_saved(w):
    from app.labs.services import LabError
    from app.labs.services import save_offer

    with pytest.raises(LabError) as exc:
        save_offer(w["coord"], w["offer"], {"booking_horizon_weeks": 1, "min_notice_days": 14})
    assert exc.value.field == "booking_horizon_weeks"


# ------------------------------------------------------------------ changing a booking


def test_change_pupils_rechecks_capacity_and_writes_mail_and_replan(w):
    s = w["session"]
    a = create_booking(w["teachers"][0], s.id, details(w["schools"][0], pupils=25), now=w["now"])
    create_booking(w["teachers"][1], s.id, details(w["schools"][1], pupils=20), now=w["now"])
    db.session.commit()
    with pytest.raises(SessionFull) as exc:  # 30 + 20 > 50
        change_booking(w["teachers"][0], a.id, {"pupils": 31}, now=w["now"])
    assert exc.value.field == "pupils"
    db.session.rollback()
    db.session.refresh(s)
    assert (s.booked_pupils, db.session.get(Booking, a.id).pupils) == (45, 25)
    db.session.query(OutboxEntry).delete()
    changed = change_booking(w["teachers"][0], a.id, {"pupils": 30, "remarks": "Rolstoel"}, now=w["now"])
    db.session.flush()
    assert changed.pupils == 30 and s.booked_pupils == 50 and changed.sequence >= 1
    event = db.session.scalars(
        select(BookingEvent).where(BookingEvent.booking_id == a.id, BookingEvent.action == "change")
    ).one()
    assert event.data["changes"] == {"pupils": [25, 30], "remarks": ["", "Rolstoel"]}
    mail = _mails("updated")
    assert len(mail) == 1 and mail[0].payload["extra"]["changes"]["pupils"] == [25, 30]
    assert db.session.scalar(select(OutboxEntry).where(OutboxEntry.key == f"replan:{s.id}")) is not None


def test_fewer_pupils_free_places_for_the_waiting_list(w):
    s = w["session"]
    a = create_booking(w["teachers"][0], s.id, details(w["schools"][0], pupils=30), now=w["now"])
    create_booking(w["teachers"][1], s.id, details(w["schools"][1], pupils=20), now=w["now"])
    waiting = create_booking(
        w["teachers"][2], s.id, details(w["schools"][2], pupils=10, adults=1), waitlist=True, now=w["now"]
    )
    assert waiting.status == BookingStatus.WAITLISTED
    s.capacity_classes = 3
    change_booking(w["teachers"][0], a.id, {"pupils": 20}, now=w["now"])
    assert waiting.status == BookingStatus.CONFIRMED and s.booked_pupils == 50


def test_change_deadline_and_rules_of_a_new_booking(w):
    w["offer"].change_deadline_days = 31  # the session is 30 days ahead: too late for the teacher
    a = create_booking(w["teachers"][0], w["session"].id, details(w["schools"][0]), now=w["now"])
    with pytest.raises(Refused) as exc:
        change_booking(w["teachers"][0], a.id, {"pupils": 20}, now=w["now"])
    assert exc.value.code == "change_deadline_passed"
    # the coordinator may still change it, through the same admission rules
    with pytest.raises(Refused) as exc:
        change_booking(w["coord"], a.id, {"groep": "5"}, now=w["now"])
    assert exc.value.code == "groep_not_targeted"
    with pytest.raises(Refused) as exc:
        change_booking(w["coord"], a.id, {"adults": 0}, now=w["now"])
    assert exc.value.code == "adults_required"
    with pytest.raises(InvalidInput):
        change_booking(w["coord"], a.id, {"session_id": 3}, now=w["now"])
    changed = change_booking(w["coord"], a.id, {"groep": "8", "contact_email": "nieuw@school.nl"}, now=w["now"])
    assert (changed.groep_min, changed.class_name, changed.contact_email) == (8, "8", "nieuw@school.nl")
    # old and new address both hear of it
    assert set(_mails("updated")[-1].payload["to"]) >= {"nieuw@school.nl", w["teachers"][0].email}


def test_a_class_name_already_booked_is_refused_and_others_may_not_change(w):
    s = w["session"]
    a = create_booking(w["teachers"][0], s.id, details(w["schools"][0], class_name="7A"), now=w["now"])
    w["region"].classes_per_school_session = 2
    create_booking(w["teachers"][0], s.id, details(w["schools"][0], class_name="7B"), now=w["now"])
    with pytest.raises(Exception) as exc:
        change_booking(w["teachers"][0], a.id, {"class_name": "7b"}, now=w["now"])
    assert exc.value.code == "already_booked"
    with pytest.raises(NotAllowed):
        change_booking(w["teachers"][1], a.id, {"pupils": 20}, now=w["now"])
    same = change_booking(w["teachers"][0], a.id, {"pupils": 25}, now=w["now"])  # nothing changed: no event
    assert not [e for e in same.events if e.action == "change"]


# ------------------------------------------------------------------ approval


def test_request_holds_the_place_is_not_reached_and_mails_both(w):
    w["offer"].approval_required = True
    s = w["session"]
    b = create_booking(w["teachers"][0], s.id, details(w["schools"][0]), now=w["now"])
    assert b.status == BookingStatus.REQUESTED and s.booked_pupils == 25 and s.booked_classes == 1
    assert not is_reached(w["schools"][0].id, w["region"].id, school_year_of(s.starts_at))
    assert _mails("requested")[0].payload["to"] == [w["teachers"][0].email]
    assert _mails("request_received")[0].payload["to"] == [w["coord"].email]
    assert db.session.scalar(select(OutboxEntry).where(OutboxEntry.key == f"replan:{s.id}")) is None
    other = create_booking(w["teachers"][1], s.id, details(w["schools"][1]), now=w["now"])
    assert [x.id for x in pending_requests(w["coord"])] == [b.id, other.id]
    assert [x.id for x in competing(b)] == [other.id]
    with pytest.raises(NotAllowed):
        approve_booking(w["teachers"][0], b.id, now=w["now"])
    approve_booking(w["coord"], b.id, now=w["now"])
    assert b.status == BookingStatus.CONFIRMED and s.booked_pupils == 50
    assert is_reached(w["schools"][0].id, w["region"].id, school_year_of(s.starts_at))
    assert _mails("approved")[0].payload["to"] == [w["teachers"][0].email]
    assert db.session.scalar(select(OutboxEntry).where(OutboxEntry.key == f"replan:{s.id}")) is not None
    with pytest.raises(Refused) as exc:
        approve_booking(w["coord"], b.id, now=w["now"])
    assert exc.value.code == "not_requested"


def test_decline_frees_the_place_through_promotion(w):
    w["offer"].approval_required = True
    s = w["session"]
    s.capacity_classes = 1
    b = create_booking(w["teachers"][0], s.id, details(w["schools"][0]), now=w["now"])
    waiting = create_booking(w["teachers"][1], s.id, details(w["schools"][1]), waitlist=True, now=w["now"])
    assert waiting.status == BookingStatus.WAITLISTED  # the request holds the one class place
    with pytest.raises(InvalidInput):
        decline_request(w["coord"], b.id, "  ", now=w["now"])
    decline_request(w["coord"], b.id, "Techlab gesloten voor onderhoud", now=w["now"])
    assert b.status == BookingStatus.CANCELLED and b.cancel_reason == "Techlab gesloten voor onderhoud"
    # the promoted class is on an offer with approval too: it waits for the coordinator, holding the place
    assert waiting.status == BookingStatus.REQUESTED and s.booked_classes == 1
    assert _mails("request_declined")[0].payload["to"] == [w["teachers"][0].email]


def test_teacher_withdraws_a_request_and_coordinator_books_without_approval(w):
    w["offer"].approval_required = True
    b = create_booking(w["teachers"][0], w["session"].id, details(w["schools"][0]), now=w["now"])
    cancel_booking(w["teachers"][0], b.id, now=w["now"])
    assert b.status == BookingStatus.CANCELLED and b.events[-1].action == "withdraw_request"
    assert w["session"].booked_pupils == 0
    direct = create_booking(
        w["coord"], w["session"].id, details(w["schools"][1]), override_reason="telefonisch", now=w["now"]
    )
    assert direct.status == BookingStatus.CONFIRMED


def test_series_request_is_approved_as_a_whole(w):
    hotspot = factories.venue(w["region"])
    series = factories.series_offer(w["region"], w["venue"], hotspot, approval_required=True)
    sessions = [
        factories.session(series, w["now"] + timedelta(days=30 + 7 * i), part=p) for i, p in enumerate(series.parts)
    ]
    sb = create_series_booking(
        w["teachers"][0], series.id, [s.id for s in sessions], details(w["schools"][0]), now=w["now"]
    )
    assert sb.status == BookingStatus.REQUESTED and {b.status for b in sb.bookings} == {BookingStatus.REQUESTED}
    assert [b.id for b in pending_requests(w["coord"])] == [sb.bookings[0].id]
    approve_booking(w["coord"], sb.bookings[1].id, now=w["now"])
    assert sb.status == BookingStatus.CONFIRMED and {b.status for b in sb.bookings} == {BookingStatus.CONFIRMED}
