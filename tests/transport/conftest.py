"""A region with bus types, a venue, and schools at chosen road distances from it."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from app.booking.services import ClassDetails, create_booking
from app.extensions import db
from app.transport.distance import road_km
from app.transport.models import BusType
from app.transport.planning import Limits, PlanRequest, VehicleType
from tests import factories

VENUE = (52.0, 6.3)
KM_PER_DEGREE = 111.19508
START = datetime(2026, 3, 10, 8, 30, tzinfo=timezone.utc)
COACH = VehicleType(1, 50, 180.0, 1.9, available=20, name="Touringcar 50")
MINI = VehicleType(2, 19, 95.0, 1.1, available=20, name="Minibus 19")


def road_distance(a, b, c, d):
    return road_km(a, b, c, d, 1.3)


def plan_request(stops, *, start=START, types=(COACH, MINI), venue=VENUE, limits=None, **kw) -> PlanRequest:
    """The planner's input for a two-hour session at ``venue`` (the planner's own tests)."""
    return PlanRequest(
        venue[0],
        venue[1],
        start,
        start + timedelta(hours=2),
        tuple(stops),
        tuple(types),
        road_distance,
        limits or Limits(time_limit_seconds=0.5),
        **kw,
    )


def lat_at(road_km: float, factor: float = 1.3) -> float:
    """A latitude due north of the venue at this road distance (great-circle × factor)."""
    return VENUE[0] + road_km / factor / KM_PER_DEGREE


@contextmanager
def planners_meet_before_writing(parties: int = 2):
    """The control tests' seam, outside the production code: each thread's first flush that writes
    waits until every planner got there, so all of them read the plans before any of them writes."""
    barrier, mine = threading.Barrier(parties), threading.local()

    def meet(_session, _context, _instances):
        if not getattr(mine, "met", False):
            mine.met = True
            barrier.wait(timeout=30)

    event.listen(OrmSession, "before_flush", meet)
    try:
        yield
    finally:
        event.remove(OrmSession, "before_flush", meet)


@pytest.fixture
def transport(app):
    app.config.update(TRANSPORT_SOLVER_SECONDS=0.3)
    region = factories.region(bus_threshold_km=6.0, road_factor=1.3)
    venue = factories.venue(region, latitude=VENUE[0], longitude=VENUE[1])
    offer = factories.offer(
        region, venue, groep_min=5, groep_max=8, capacity_pupils=200, capacity_classes=8, adults_per_class=1
    )
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
    session = factories.session(offer, start)
    coach = BusType(
        region_id=region.id,
        name="Touringcar 50",
        carrier="Achterhoek Tours",
        seats=50,
        cost_per_trip=180.0,
        cost_per_km=1.9,
        available=6,
    )
    mini = BusType(
        region_id=region.id,
        name="Minibus 19",
        carrier="Taxi Oost",
        seats=19,
        cost_per_trip=95.0,
        cost_per_km=1.1,
        available=8,
    )
    db.session.add_all([coach, mini])
    coord = factories.user("coordinator", region=region, venues=[venue])
    db.session.commit()
    return dict(region=region, venue=venue, offer=offer, session=session, coach=coach, mini=mini, coord=coord)


def school_at(region, road_km: float, east: float = 0.0, **kw):
    s = factories.school(region, latitude=lat_at(road_km), longitude=VENUE[1] + east, **kw)
    return s, factories.teacher(s)


def drain() -> int:
    """What the outbox worker does after a commit: the queued re-plans (and mails)."""
    from app.outbox.worker import drain as deliver

    db.session.commit()
    return deliver()


def book(teacher, school, session, pupils=20, adults=2, *, replan=True):
    """Book and commit; then the worker's re-plan (``replan=False``: a missed one)."""
    b = create_booking(teacher, session.id, ClassDetails(school_id=school.id, groep="7", pupils=pupils, adults=adults))
    db.session.commit()
    if replan:
        drain()
    return b


def short_day(transport):
    """A day that needs more than the fleet (one coach, one minibus): at 09:00 a class nearby and
    one from 70 km (longer than the ride limit), a school at (0, 0) and one without coordinates;
    at 09:30 another class that finds no bus left, and two classes pinned together on one bus
    although they are far apart (a pin that breaks the ride rule). Returns the named bookings."""
    from app.transport.models import BusPlan
    from sqlalchemy import select

    region, session, offer = transport["region"], transport["session"], transport["offer"]
    transport["coach"].available, transport["mini"].available = 1, 1
    region.bus_hire_price = 240.0
    later = factories.session(offer, session.starts_at + timedelta(minutes=30))
    db.session.commit()
    out = {}
    s, t = school_at(region, 12, name="Basisschool Dichtbij")
    out["near"] = book(t, s, session, pupils=28)
    s, t = school_at(region, 70, name="Basisschool Verweg")
    out["far"] = book(t, s, session, pupils=14, adults=1)
    s = factories.school(region, name="Basisschool Nergens", latitude=0.0, longitude=0.0)
    out["nowhere"] = book(factories.teacher(s), s, session)
    s = factories.school(region, name="Basisschool Zonder", latitude=None, longitude=None)
    out["unknown"] = book(factories.teacher(s), s, session)
    s, t = school_at(region, 14, east=0.03, name="Basisschool Achteraan")
    out["late"] = book(t, s, later, pupils=28)
    db.session.expire_all()
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == session.id))
    return out, later, plan
