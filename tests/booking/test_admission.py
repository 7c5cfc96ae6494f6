"""The admission decision on each path: classes, held-back promotion, offers, honest answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.booking.admission import Admit, ClassRef, Refuse, Wait, decide, waiting_info
from app.booking.errors import AlreadyBooked, Refused
from app.booking.jobs import expire_offers
from app.booking.models import Booking, BookingEvent, BookingStatus, FairnessRule, RuleKind
from app.booking.services import (
    ClassDetails,
    cancel_booking,
    change_capacity,
    create_booking,
    decline_offer,
    move_booking,
    switch_rule_off,
)
from app.extensions import db
from app.timeutil import school_year_of
from tests import factories

NOW = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def w(app):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, capacity_classes=2, capacity_pupils=60, adults_per_class=0)
    far = factories.session(offer, NOW + timedelta(days=30))
    near = factories.session(offer, NOW + timedelta(days=5))  # inside the 14-day cancellation deadline
    schools = [factories.school(region) for _ in range(4)]
    teachers = [factories.teacher(s) for s in schools]
    coord = factories.user("coordinator", region=region, venues=[venue])
    admin = factories.user("admin")
    return dict(
        region=region, offer=offer, far=far, near=near, schools=schools, teachers=teachers, coord=coord, admin=admin
    )


def cls(school, name="", groep="7", pupils=20):
    return ClassDetails(school.id, groep, pupils, 0, class_name=name)


def _reach(w, school):
    past = factories.session(w["offer"], NOW - timedelta(days=10))
    db.session.add(
        Booking(
            session_id=past.id,
            school_id=school.id,
            status=BookingStatus.ATTENDED,
            groep_min=8,
            groep_max=8,
            class_name="8",
            pupils=20,
            adults=0,
        )
    )
    past.booked_classes, past.booked_pupils = 1, 20


def _window(w):
    rule = FairnessRule(
        region_id=w["region"].id,
        school_year=school_year_of(NOW),
        kind=RuleKind.PRIORITY_WINDOW,
        window_start=NOW - timedelta(days=1),
        window_end=NOW + timedelta(days=3),
    )
    db.session.add(rule)
    db.session.flush()
    return rule


def test_two_classes_7a_and_7b_of_one_school_book_one_offer(w):
    school, t = w["schools"][0], w["teachers"][0]
    a = create_booking(t, w["far"].id, cls(school, "7A"), now=NOW)
    with pytest.raises(Refused) as exc:  # the region's default: one class of a school per session
        create_booking(t, w["far"].id, cls(school, "7B"), now=NOW)
    assert exc.value.code == "classes_per_school_session"
    b = create_booking(t, w["near"].id, cls(school, "7B"), now=NOW)  # another session of the offer: fine
    assert a.status == b.status == BookingStatus.CONFIRMED and (a.class_name, b.class_name) == ("7A", "7B")
    w["region"].classes_per_school_session = 2  # the region allows more classes per session
    c = create_booking(t, w["far"].id, cls(school, "7B"), now=NOW)
    assert c.status == BookingStatus.CONFIRMED
    with pytest.raises(AlreadyBooked):  # but never the same class twice
        create_booking(t, w["near"].id, cls(school, "7b"), now=NOW)


def test_class_name_defaults_to_the_groep(w):
    b = create_booking(w["teachers"][0], w["far"].id, cls(w["schools"][0], "", groep="7/8"), now=NOW)
    assert b.class_name == "7/8"


def test_held_back_class_waits_with_the_rule_not_full(w):
    school, t = w["schools"][0], w["teachers"][0]
    _reach(w, school)
    _window(w)
    with pytest.raises(Refused) as exc:
        create_booking(t, w["far"].id, cls(school), now=NOW)
    assert exc.value.code == "priority_window" and exc.value.extra["release_at"] and exc.value.extra["what_to_do"]
    waiting = create_booking(t, w["far"].id, cls(school), waitlist=True, now=NOW)
    info = waiting_info(waiting, NOW)
    assert waiting.status == BookingStatus.WAITLISTED
    assert (info.rule, info.position) == ("priority_window", 1) and info.until is not None
    assert "vol" not in info.message and "nog niet bereikt" in info.message


def test_promotion_skips_held_back_then_release_and_switch_off(w):
    s = w["far"]
    reached, fresh = w["schools"][0], w["schools"][1]
    _reach(w, reached)
    rule = _window(w)
    first = create_booking(w["teachers"][2], s.id, cls(w["schools"][2]), now=NOW)
    create_booking(w["teachers"][3], s.id, cls(w["schools"][3]), now=NOW)
    held = create_booking(w["teachers"][0], s.id, cls(reached), waitlist=True, now=NOW)
    later = create_booking(w["teachers"][1], s.id, cls(fresh), waitlist=True, now=NOW + timedelta(minutes=1))
    cancel_booking(w["teachers"][2], first.id, now=NOW)
    # the held-back school is skipped; the next (not reached) class gets the place
    assert (held.status, later.status) == (BookingStatus.WAITLISTED, BookingStatus.CONFIRMED)
    change_capacity(w["coord"], s.id, 100, 3, now=NOW)
    assert held.status == BookingStatus.WAITLISTED  # room, but the window still holds it back
    switch_rule_off(w["admin"], rule.id, now=NOW)
    assert held.status == BookingStatus.CONFIRMED  # switched off: the class gets the free place


def test_promotion_inside_the_deadline_is_an_offer_accept_decline_expire(w, mailbox):
    s = w["near"]
    t = w["teachers"]
    first = create_booking(t[0], s.id, cls(w["schools"][0]), now=NOW)
    create_booking(t[1], s.id, cls(w["schools"][1]), now=NOW)
    w2 = create_booking(t[2], s.id, cls(w["schools"][2]), waitlist=True, now=NOW)
    w3 = create_booking(t[3], s.id, cls(w["schools"][3]), waitlist=True, now=NOW + timedelta(minutes=1))
    cancel_booking(w["coord"], first.id, "Ziek", now=NOW)
    assert w2.status == BookingStatus.OFFERED and w2.offer_expires_at == NOW + timedelta(hours=48)
    assert (s.booked_classes, w3.status) == (2, BookingStatus.WAITLISTED)  # the offer holds the place
    decline_offer(t[2], w2.id, now=NOW)
    assert (w2.status, w3.status) == (BookingStatus.CANCELLED, BookingStatus.OFFERED)  # to the next class
    db.session.commit()
    assert expire_offers(NOW + timedelta(hours=49)) == 1
    assert expire_offers(NOW + timedelta(hours=49)) == 0  # safe to run twice
    db.session.refresh(w3)
    assert w3.status == BookingStatus.CANCELLED and w3.events[-1].action == "offer_expired"
    # accepting: a new waiting class, an offer, accepted within the time
    w4 = create_booking(t[0], s.id, cls(w["schools"][0], "7B"), waitlist=True, now=NOW)
    assert w4.status == BookingStatus.OFFERED or w4.status == BookingStatus.CONFIRMED
    db.session.commit()


def test_accept_offer_confirms_and_api(w, client):
    s = w["near"]
    t = w["teachers"]
    first = create_booking(t[0], s.id, cls(w["schools"][0]), now=NOW)
    create_booking(t[1], s.id, cls(w["schools"][1]), now=NOW)
    waiting = create_booking(t[2], s.id, cls(w["schools"][2]), waitlist=True, now=NOW)
    cancel_booking(w["coord"], first.id, "Ziek", now=NOW)
    assert waiting.status == BookingStatus.OFFERED
    header = factories.auth_header(t[2])
    booking_id = waiting.id
    db.session.commit()
    resp = client.post(f"/api/v1/bookings/{booking_id}/accept", headers=header)
    assert resp.status_code == 200 and resp.get_json()["status"] == "confirmed"
    resp = client.post(f"/api/v1/bookings/{booking_id}/decline", headers=header)
    assert resp.status_code == 422 and resp.get_json()["code"] == "not_offered"


def test_api_waiting_and_problem_body_name_the_rule(w, client):
    school = w["schools"][0]
    _reach(w, school)
    _window(w)
    header = factories.auth_header(w["teachers"][0])
    sid = w["far"].id
    db.session.commit()
    resp = client.post("/api/v1/bookings", json={"session_id": sid, "groep": "7", "pupils": 20}, headers=header)
    body = resp.get_json()
    assert resp.status_code == 422 and body["code"] == "priority_window" and body["release_at"] and body["rule_id"]
    resp = client.post(
        "/api/v1/bookings",
        json={"session_id": sid, "groep": "7", "pupils": 20, "waitlist": True, "class_name": "7A"},
        headers=header,
    )
    body = resp.get_json()
    assert resp.status_code == 201 and body["status"] == "waitlisted" and body["class_name"] == "7A"
    assert body["waiting"]["rule"] == "priority_window" and body["waiting"]["position"] == 1


def test_override_is_the_only_way_past_the_rules_and_is_recorded(w):
    school = w["schools"][0]
    _reach(w, school)
    _window(w)
    with pytest.raises(Refused):
        create_booking(w["teachers"][0], w["far"].id, cls(school), now=NOW)
    b = create_booking(w["coord"], w["far"].id, cls(school), now=NOW, override_reason="Speciale situatie")
    assert b.status == BookingStatus.CONFIRMED and b.override_reason == "Speciale situatie"
    ev = db.session.scalars(
        select(BookingEvent).where(BookingEvent.booking_id == b.id, BookingEvent.action == "override")
    ).one()
    assert ev.actor_id == w["coord"].id and ev.reason == "Speciale situatie"
    from app.booking.errors import NotAllowed

    with pytest.raises(NotAllowed):  # a teacher cannot override
        create_booking(w["teachers"][1], w["far"].id, cls(w["schools"][1]), now=NOW, override_reason="ik wil")


def test_move_asks_the_gate(w):
    reached = w["schools"][0]
    b = create_booking(w["teachers"][0], w["far"].id, cls(reached), now=NOW)
    other = factories.session(w["offer"], NOW + timedelta(days=31))
    create_booking(w["teachers"][0], other.id, cls(reached, "7B"), now=NOW)
    _window(w)  # now the school is reached (it holds two places): the window holds a new place back
    with pytest.raises(Refused) as exc:
        move_booking(w["coord"], b.id, w["near"].id, "Andere dag", now=NOW)
    assert exc.value.code == "priority_window"


def test_decide_answers_admit_wait_refuse(w):
    school = w["schools"][0]
    klass = ClassRef(school.id, "7A", 7, 7, 20, 0)
    assert isinstance(decide(school, klass, [w["far"]], NOW), Admit)
    w["far"].booked_classes = w["far"].capacity_classes
    assert isinstance(decide(school, klass, [w["far"]], NOW), Wait)
    assert isinstance(decide(school, ClassRef(school.id, "3A", 3, 3, 20, 0), [w["far"]], NOW), Refuse)


def test_pages_say_which_rule_holds_the_class_back_never_full(w, client, login, mailbox, drain_outbox):
    school, teacher = w["schools"][0], w["teachers"][0]
    _reach(w, school)
    _window(w)
    sid = w["far"].id
    db.session.commit()
    login(teacher)
    page = client.get(f"/boekingen/nieuw?session_id={sid}").text
    assert "Een spelregel van de regio houdt uw school nu tegen" in page and "nog niet bereikt" in page
    form = {
        "groep": "7",
        "class_name": "7A",
        "pupils": "20",
        "adults": "2",
        "contact_name": "Juf Anna",
        "contact_email": "anna@school.nl",
    }
    resp = client.post(f"/boekingen/nieuw?session_id={sid}", data=form)  # no waiting list asked: refused, saying why
    assert resp.status_code == 422 and "nog niet bereikt" in resp.text and "Deze les is vol" not in resp.text
    resp = client.post(f"/boekingen/nieuw?session_id={sid}", data={**form, "waitlist": "y"}, follow_redirects=True)
    assert "nummer 1" in resp.text and "spelregel" in resp.text and "Deze les is vol" not in resp.text
    assert "Volgorde van de wachtlijst" in resp.text
    drain_outbox()
    mail = [m for m in mailbox if "wachtlijst" in m["Subject"].lower()]
    body = mail[-1].get_body().get_content()
    assert "nog niet bereikt" in body and "nummer 1" in body and "De les is vol" not in body


def test_offer_is_accepted_on_the_booking_page(w, client, login, mailbox, drain_outbox):
    s, t = w["near"], w["teachers"]
    first = create_booking(t[0], s.id, cls(w["schools"][0]), now=NOW)
    create_booking(t[1], s.id, cls(w["schools"][1]), now=NOW)
    waiting = create_booking(t[2], s.id, cls(w["schools"][2]), waitlist=True, now=NOW)
    cancel_booking(w["coord"], first.id, "Ziek")
    booking_id = waiting.id
    db.session.commit()
    drain_outbox()
    offered = [m for m in mailbox if m["Subject"].startswith("Er is plaats: wilt u")]
    assert offered and "Aannemen of afslaan" in offered[-1].get_body().get_content()
    login(t[2])
    page = client.get(f"/boekingen/{booking_id}").text
    assert "Plaats aannemen" in page and "Plaats afslaan" in page
    resp = client.post(f"/boekingen/{booking_id}/aanbod/aannemen", follow_redirects=True)
    assert "U heeft de plaats aangenomen" in resp.text
    assert db.session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
