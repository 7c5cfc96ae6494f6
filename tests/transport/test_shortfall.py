"""A day that needs more buses than the fleet: the coordinator's choices do something.

Hiring extra buses of a type for the day puts the classes without a bus on hired buses (at the
type's hire price) and the shortfall warning goes; taking the hire back brings it back; asking
the school sends it a mail through the outbox. On the page and in the API alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.errors import PermissionDeniedError
from sqlalchemy import select

from app.extensions import db
from app.timeutil import to_local
from app.transport import shortfall
from app.transport.errors import TransportError
from app.transport.models import BusHire, BusPlan
from tests import factories
from tests.transport.conftest import book, drain, school_at


def _plans(*sessions):
    db.session.expire_all()
    return [db.session.scalar(select(BusPlan).where(BusPlan.session_id == s.id)) for s in sessions]


def _short(transport):
    """One coach in the contract, two classes of 30 at the same time in two sessions: one has no bus."""
    region, session, offer = transport["region"], transport["session"], transport["offer"]
    transport["coach"].available, transport["mini"].available = 1, 0
    transport["coach"].hire_price = 300.0
    other = factories.session(offer, session.starts_at + timedelta(minutes=30))
    db.session.commit()
    (s1, t1), (s2, t2) = (school_at(region, 12 + i, east=0.05 * i) for i in range(2))
    b1 = book(t1, s1, session, pupils=30)
    b2 = book(t2, s2, other, pupils=30)
    return other, b1, b2


def test_hiring_a_bus_for_the_day_carries_the_class_and_the_warning_goes(transport, client, login):
    session, coach, coord = transport["session"], transport["coach"], transport["coord"]
    other, b1, b2 = _short(transport)
    plans = _plans(session, other)
    lost = [w for p in plans for w in p.warnings if w["code"] == "no_bus"]
    assert len(lost) == 1
    day = to_local(session.starts_at).date()
    # the choices on the page: hire a coach (its price), move the session, ask the school
    login(coord)
    page = client.get(f"/vervoer/?datum={day.isoformat()}").get_data(as_text=True)
    assert 'data-choice="hire"' in page and "€ 300.00 per rit" in page
    assert 'data-choice="move_session"' in page and 'data-choice="ask_school"' in page
    # and in the API
    headers = factories.auth_header(coord)
    db.session.commit()
    body = client.get(f"/api/v1/transport/plans?date={day.isoformat()}", headers=headers).get_json()
    assert [s["booking_id"] for s in body["shortfall"]] == [lost[0]["booking_id"]]
    [warn] = [w for p in body["plans"] for w in p["warnings"] if w["code"] == "no_bus"]
    hire = next(c for c in warn["choices"] if c["code"] == "hire")
    assert hire["bus_type_id"] == coach.id and hire["price"] == 300.0 and hire["count"] == 1
    assert {c["code"] for c in warn["choices"]} == {"hire", "move_session", "ask_school"}
    # the coordinator hires one coach for the day (the page's button); the worker re-plans the day
    resp = client.post("/vervoer/huren", data={"datum": day.isoformat(), "bus_type": str(coach.id), "count": "1"})
    assert resp.status_code == 302
    drain()
    plans = _plans(session, other)
    assert not [w for p in plans for w in p.warnings if w["code"] == "no_bus"], "the shortfall warning is gone"
    buses = [bus for p in plans for bus in p.buses]
    assert len(buses) == 2 and sum(bus.hired for bus in buses) == 1, "one contract coach, one hired"
    hired = next(bus for bus in buses if bus.hired)
    assert hired.cost == pytest.approx(300.0 + coach.cost_per_km * hired.km, abs=0.01)  # the hire price, per km
    carried = {st.booking_id for bus in buses for st in bus.stops}
    assert carried == {b1.id, b2.id}
    page = client.get(f"/vervoer/?datum={day.isoformat()}").get_data(as_text=True)
    assert "gehuurd" in page
    body = client.get(f"/api/v1/transport/plans?date={day.isoformat()}", headers=headers).get_json()
    assert body["shortfall"] == [] and body["hired"] == [{"bus_type_id": coach.id, "name": coach.name, "count": 1}]
    assert sum(bus["hired"] for p in body["plans"] for bus in p["buses"]) == 1
    # taken back: the shortfall returns, never a bus beyond the fleet
    resp = client.post("/vervoer/huren", data={"datum": day.isoformat(), "bus_type": str(coach.id), "count": "0"})
    assert resp.status_code == 302
    drain()
    assert db.session.scalar(select(BusHire)) is None
    plans = _plans(session, other)
    assert len([bus for p in plans for bus in p.buses]) == 1
    assert len([w for p in plans for w in p.warnings if w["code"] == "no_bus"]) == 1


def test_hiring_is_for_types_with_a_price_of_the_own_region(transport):
    region, session, coach, mini, coord = (transport[k] for k in ("region", "session", "coach", "mini", "coord"))
    day = to_local(session.starts_at).date()
    with pytest.raises(TransportError) as err:
        shortfall.hire_buses(coord, region, day, mini.id, 1)  # no hire price, none for the region
    assert err.value.code == "not_for_hire"
    db.session.rollback()
    other_region = factories.region()
    foreign = factories.user("coordinator", region=other_region)
    db.session.commit()
    with pytest.raises(PermissionDeniedError):
        shortfall.hire_buses(foreign, region, day, coach.id, 1)
    db.session.rollback()
    coach.hire_price = 250.0
    db.session.commit()
    with pytest.raises(TransportError):
        shortfall.hire_buses(coord, region, day, coach.id, 99)
    db.session.rollback()


def test_asking_the_school_mails_its_contacts_through_the_outbox(transport, mailbox):
    session, coord = transport["session"], transport["coord"]
    other, b1, b2 = _short(transport)
    plans = _plans(session, other)
    plan, warn = next((p, w) for p in plans for w in p.warnings if w["code"] == "no_bus")
    mailbox.clear()
    shortfall.ask_school(coord, plan.id, warn["booking_id"])
    db.session.commit()
    assert not [m for m in mailbox if "zelf vervoer" in m.get_body(("plain",)).get_content()]  # not in the request
    drain()
    [mail] = [m for m in mailbox if "zelf vervoer" in m.get_body(("plain",)).get_content()]
    carried = b1 if warn["booking_id"] == b1.id else b2
    assert carried.contact_email in mail["To"] or carried.contact_user.email in mail["To"]
    # a class that has a bus: nothing to ask
    has_bus = b2.id if warn["booking_id"] == b1.id else b1.id
    with_bus_plan = next(p for p in plans if any(st.booking_id == has_bus for bus in p.buses for st in bus.stops))
    with pytest.raises(TransportError):
        shortfall.ask_school(coord, with_bus_plan.id, has_bus)
    db.session.rollback()
