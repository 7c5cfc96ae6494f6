"""The authorization matrix of linked ids: every form and API body field that names another
object, sent by an actor of region 1 naming an object of region 2, writes nothing.

Each row is sent three ways:
* naming an object of the actor's own region: the write happens (the row is a real write,
  so a refusal below is the link check's, not a bad form);
* naming region 2's object: refused, nothing written, no 5xx;
* (control) with the link check switched off (``LINK_CHECKS = False``): the rows that only
  ``permissions.linkable`` guards let region 2's object in — the matrix finds the hole.
Rows guarded as well by something else (the form's choices, a rule of the service) are
marked; the control case does not expect a hole there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import pytest
from sqlalchemy import select

from app.auth.models import Role, User
from app.booking import services as booking_services
from app.booking.models import Booking
from app.db import utcnow
from app.extensions import db
from app.labs.models import Offer, OfferPart, Session, Staff
from app.schools.models import SchoolClass
from app.timeutil import school_year_of
from app.transport.models import Bus, BusPlan, BusStop, BusType, RoadDistance
from tests import factories


@dataclass
class Row:
    actor: str
    method: str
    url: str
    body: Callable[[dict, object], dict]  # (world, linked id) -> form data or JSON
    written: Callable[[dict, object], bool]  # (world, linked id) -> did the write happen?
    own: str  # the world's key of the actor's own object
    other: str  # the world's key of region 2's object
    only_linkable: bool = True
    api: bool = False
    extra: dict = field(default_factory=dict)


def _session_staff(w, staff_id):
    s = db.session.get(Session, w["s1"])
    return any(p.id == staff_id for p in s.staff)


ROWS = {
    "offer part venue_id": Row(
        "coordinator",
        "POST",
        "/beheer/aanbod/{offer1}/deel",
        lambda w, x: {
            "position": "2",
            "title": "Op locatie",
            "location": "venue",
            "venue_id": str(x),
            "min_days": "3",
            "max_days": "30",
        },
        lambda w, x: (
            db.session.scalar(select(OfferPart.id).where(OfferPart.offer_id == w["offer1"], OfferPart.venue_id == x))
            is not None
        ),
        own="hotspot1",
        other="v2",
    ),
    "session staff_id": Row(
        "coordinator",
        "POST",
        "/beheer/les/{s1}/medewerker",
        lambda w, x: {"staff_id": str(x)},
        _session_staff,
        own="staff1",
        other="staff2",
    ),
    "API booking session_id": Row(
        "teacher",
        "POST",
        "/api/v1/bookings",
        lambda w, x: {"session_id": x, "groep": "6", "pupils": 20, "adults": 0},
        lambda w, x: (
            db.session.scalar(select(Booking.id).where(Booking.session_id == x, Booking.school_id == w["school1"]))
            is not None
        ),
        own="s1c",
        other="s2",
        only_linkable=False,
        api=True,
    ),
    "bus stop target type": Row(
        "coordinator",
        "POST",
        "/vervoer/halte/{stop1}/verplaatsen",
        lambda w, x: {"target": f"type:{x}"},
        # the moved class is pinned to its new bus (re-planning may then choose that bus's type)
        lambda w, x: (
            db.session.scalar(select(BusStop.id).where(BusStop.booking_id == w["booking1"], BusStop.pinned.is_(True)))
            is not None
        ),
        own="bt1b",
        other="bt2",
        only_linkable=False,
    ),
    "road distance venue": Row(
        "coordinator",
        "POST",
        "/vervoer/afstanden",
        lambda w, x: {"action": "one", "one-school": w["school1_code"], "one-venue": str(x), "one-km": "12.5"},
        lambda w, x: db.session.scalar(select(RoadDistance.id).where(RoadDistance.venue_id == x)) is not None,
        own="v1",
        other="v2",
        only_linkable=False,
    ),
    "invited coordinator venues": Row(
        "programme_leader",
        "POST",
        "/regiobeheer/gebruikers/nieuw",
        lambda w, x: {
            "email": f"nieuw{x}@example.org",
            "role": "coordinator",
            "region": str(w["r1"]),
            "venues": str(x),
            "locale": "nl",
            "name": "Nieuw",
        },
        lambda w, x: any(
            v.id == x
            for u in db.session.scalars(select(User).where(User.email == f"nieuw{x}@example.org"))
            for v in u.venues
        ),
        own="v1",
        other="v2",
        only_linkable=False,
    ),
    "offer venue_id": Row(
        "coordinator",
        "POST",
        "/beheer/aanbod/{offer1}",
        lambda w, x: {
            "title": "Robots",
            "kind": "workshop",
            "world": "hitech_science",
            "venue_id": str(x),
            "school_year": str(w["year"]),
            "groep_min": "5",
            "groep_max": "8",
            "duration_minutes": "120",
            "capacity_classes": "3",
            "capacity_pupils": "90",
            "adults_per_class": "0",
            "cancel_deadline_days": "14",
            "description": "",
            "preparation": "",
        },
        lambda w, x: db.session.get(Offer, w["offer1"]).venue_id == x,
        own="hotspot1",
        other="v2",
        only_linkable=False,
    ),
    "invited teacher school": Row(
        "programme_leader",
        "POST",
        "/regiobeheer/gebruikers/nieuw",
        lambda w, x: {
            "email": f"leerkracht{x}@example.org",
            "role": "teacher",
            "region": str(w["r1"]),
            "school": str(x),
            "locale": "nl",
            "name": "Juf",
        },
        lambda w, x: db.session.scalar(select(User.school_id).where(User.email == f"leerkracht{x}@example.org")) == x,
        own="school1b",
        other="school2",
        only_linkable=False,
    ),
    "booking override school": Row(
        "coordinator",
        "POST",
        "/boekingen/les/{s1b}/uitzondering",
        lambda w, x: {"school_code": w["codes"][x], "groep": "5", "pupils": "20", "adults": "0", "reason": "Afspraak"},
        lambda w, x: (
            db.session.scalar(select(Booking.id).where(Booking.session_id == w["s1b"], Booking.school_id == x))
            is not None
        ),
        own="school1b",
        other="school2",
        only_linkable=False,
    ),
    "invited school coordinator school": Row(
        "programme_leader",
        "POST",
        "/regiobeheer/gebruikers/nieuw",
        lambda w, x: {
            "email": f"icc{x}@example.org",
            "role": "school_coordinator",
            "region": str(w["r1"]),
            "school": str(x),
            "locale": "nl",
            "name": "ICC",
        },
        lambda w, x: db.session.scalar(select(User.school_id).where(User.email == f"icc{x}@example.org")) == x,
        own="school1b",
        other="school2",
        only_linkable=False,
    ),
    # the school coordinator: the id in the URL ({x}) names a teacher or a class of the own school only
    "school coordinator removes a teacher": Row(
        "school_coordinator",
        "POST",
        "/mijn-school/leerkrachten/{x}/verwijderen",
        lambda w, x: {},
        lambda w, x: not db.session.get(User, x).active,
        own="teacher1b",
        other="teacher2",
        only_linkable=False,
    ),
    "school coordinator removes a class": Row(
        "school_coordinator",
        "POST",
        "/mijn-school/klassen/{x}/verwijderen",
        lambda w, x: {},
        lambda w, x: db.session.get(SchoolClass, x) is None,
        own="class1",
        other="class2",
        only_linkable=False,
    ),
    # last: it moves the booking the bus stop above belongs to
    "booking move session_id": Row(
        "coordinator",
        "POST",
        "/boekingen/{booking1}/verplaatsen",
        lambda w, x: {"session_id": str(x), "reason": "Ziekte"},
        lambda w, x: db.session.get(Booking, w["booking1"]).session_id == x,
        own="s1b",
        other="s2",
        only_linkable=False,
    ),
}


def _world() -> dict:
    now = utcnow()
    r1, r2 = factories.region(), factories.region()
    v1, hotspot1, v2 = factories.venue(r1), factories.venue(r1, name="Kas"), factories.venue(r2)
    offer1 = factories.offer(r1, v1, capacity_classes=3, capacity_pupils=90, adults_per_class=0)
    offer2 = factories.offer(r2, v2, capacity_classes=3, capacity_pupils=90, adults_per_class=0)
    day = (now + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    s1, s1b, s1c = (factories.session(offer1, day + timedelta(days=i)) for i in (0, 1, 2))
    s2 = factories.session(offer2, day)
    # school 1 far from the venue, so its class needs a bus
    school1, school2 = factories.school(r1, latitude=52.30, longitude=5.13), factories.school(r2)
    school1b = factories.school(r1)
    staff1, staff2 = Staff(region_id=r1.id, name="Lesgever Een"), Staff(region_id=r2.id, name="Lesgever Twee")
    bt1, bt1b = (
        BusType(region_id=r1.id, name=n, carrier="Oost", seats=50, cost_per_trip=200, cost_per_km=1.5)
        for n in ("Touringcar", "Midibus")
    )
    bt2 = BusType(region_id=r2.id, name="Touringcar", carrier="West", seats=50, cost_per_trip=200, cost_per_km=1.5)
    db.session.add_all([staff1, staff2, bt1, bt1b, bt2])
    users = {
        "teacher": factories.teacher(school1),
        "coordinator": factories.user(Role.COORDINATOR, region=r1, venues=[v1, hotspot1]),
        "programme_leader": factories.user(Role.PROGRAMME_LEADER, region=r1),
        "school_coordinator": factories.user(Role.SCHOOL_COORDINATOR, region=r1, school=school1),
    }
    teacher1b, teacher2 = factories.teacher(school1), factories.teacher(school2)
    class1, class2 = (
        SchoolClass(school_id=s.id, school_year=school_year_of(now), name="7B", groep_min=7, groep_max=7, pupils=25)
        for s in (school1, school2)
    )
    db.session.add_all([class1, class2])
    db.session.flush()
    booking1 = booking_services.create_booking(
        users["teacher"],
        s1.id,
        booking_services.ClassDetails(school1.id, "7", 24, 2, contact_name="Juf", contact_email="juf@example.org"),
    )
    db.session.commit()
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == s1.id)) or BusPlan(session_id=s1.id)
    db.session.add(plan)
    stop = db.session.scalar(select(BusStop).where(BusStop.booking_id == booking1.id))
    if stop is None:  # the plan made after the booking's commit has it already, as a rule
        bus = Bus(plan=plan, bus_type=bt1)
        stop = BusStop(bus=bus, booking_id=booking1.id, position=1, seats=26)
        db.session.add_all([bus, stop])
    db.session.commit()
    w = dict(
        r1=r1.id,
        r2=r2.id,
        v1=v1.id,
        hotspot1=hotspot1.id,
        v2=v2.id,
        offer1=offer1.id,
        s1=s1.id,
        s1b=s1b.id,
        s1c=s1c.id,
        s2=s2.id,
        school1=school1.id,
        school1b=school1b.id,
        school2=school2.id,
        codes={s.id: s.location_code for s in (school1, school1b, school2)},
        year=offer1.school_year,
        school1_code=school1.location_code,
        staff1=staff1.id,
        staff2=staff2.id,
        teacher1b=teacher1b.id,
        teacher2=teacher2.id,
        class1=class1.id,
        class2=class2.id,
        bt1b=bt1b.id,
        bt2=bt2.id,
        booking1=booking1.id,
        plan1=plan.id,
        stop1=stop.id,
        headers={role: factories.auth_header(u) for role, u in users.items()},
        emails={role: u.email for role, u in users.items()},
    )
    db.session.commit()
    db.session.remove()
    return w


def _send(app, w, row: Row, linked_id):
    client = app.test_client()
    url = row.url.format(**w, x=linked_id)
    if row.api:
        resp = client.open(url, method=row.method, json=row.body(w, linked_id), headers=w["headers"][row.actor])
    else:
        signed_in = client.post("/inloggen", data={"email": w["emails"][row.actor], "password": factories.PASSWORD})
        assert signed_in.status_code == 302
        resp = client.open(url, method=row.method, data=row.body(w, linked_id))
    assert resp.status_code < 500, (url, resp.status_code, resp.get_data(as_text=True)[:500])
    db.session.remove()
    return resp


def _written(w, row: Row, linked_id) -> bool:
    db.session.remove()
    try:
        return bool(row.written(w, linked_id))
    finally:
        db.session.remove()


def test_cross_region_linked_ids_write_nothing(app):
    w = _world()
    holes, dead_rows = [], []
    for name, row in ROWS.items():
        _send(app, w, row, w[row.other])
        if _written(w, row, w[row.other]):
            holes.append(f"{name}: {row.actor} of region 1 linked region 2's {row.other}")
        _send(app, w, row, w[row.own])
        if not _written(w, row, w[row.own]):
            dead_rows.append(f"{name}: the write with the actor's own {row.own} did not happen either")
    assert not dead_rows, "rows that test nothing:\n  " + "\n  ".join(dead_rows)
    assert not holes, "cross-region links written:\n  " + "\n  ".join(holes)


def test_linked_ids_that_are_not_ids_are_form_errors_not_500s(app):
    w = _world()
    row = ROWS["offer part venue_id"]
    for junk in ("abc", "-1", "0", "9223372036854775808", "1e3", " "):
        resp = _send(app, w, row, junk)
        assert resp.status_code in (302, 400, 404, 422), junk
    row = ROWS["session staff_id"]
    for junk in ("abc", "99999999999999999999"):
        assert _send(app, w, row, junk).status_code in (302, 400, 404, 422)


def test_control_without_the_link_check_the_matrix_finds_the_holes(app):
    w = _world()
    app.config["LINK_CHECKS"] = False
    try:
        found = set()
        for name, row in ROWS.items():
            if not row.only_linkable:
                continue
            _send(app, w, row, w[row.other])
            if _written(w, row, w[row.other]):
                found.add(name)
    finally:
        app.config["LINK_CHECKS"] = True
    expected = {name for name, row in ROWS.items() if row.only_linkable}
    assert found == expected, f"the matrix missed holes: {sorted(expected - found)}"


@pytest.mark.parametrize("junk", ["abc", None, True, 0, -5, 2**40, "12abc"])
def test_linkable_refuses_what_is_not_an_id(app, junk):
    from app.auth.permissions import LinkError, linkable
    from app.labs.models import Venue

    admin = factories.user(Role.ADMIN)
    db.session.flush()
    with pytest.raises(LinkError) as exc:
        linkable(admin, Venue, junk, field="venue_id")
    assert exc.value.field == "venue_id" and exc.value.status == 422
