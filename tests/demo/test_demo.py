"""The demo region: real schools, every role, a school year of sessions, a history."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.auth.models import Role, User
from app.booking.models import HOLDS_PLACE, Booking, BookingStatus
from app.demo.regional import load_demo, reset_demo
from app.extensions import db
from app.labs.models import Offer, Session, World
from app.schools.holidays import holidays_for, is_school_holiday
from app.schools.models import School
from app.timeutil import to_local


def _summary():
    return (
        db.session.scalar(select(func.count(Session.id))),
        db.session.scalar(select(func.count(Booking.id))),
        db.session.scalar(select(func.sum(Booking.pupils))),
        tuple(db.session.scalars(select(Offer.title).order_by(Offer.title))),
    )


def test_demo_region(app):
    today = date(2026, 11, 22)
    summary = load_demo(seed=7, today=today, echo=lambda *_: None)
    assert summary.created
    region = summary.region
    schools = db.session.scalars(select(School).where(School.region_id == region.id)).all()
    assert 100 <= len(schools) <= 200
    teachers = {u.school_id for u in db.session.scalars(select(User).where(User.role == Role.TEACHER))}
    assert teachers == {s.id for s in schools}
    roles = set(db.session.scalars(select(User.role)))
    assert roles == set(Role)
    offers = db.session.scalars(select(Offer).where(Offer.region_id == region.id)).all()
    assert {o.world for o in offers} == set(World)
    series = [o for o in offers if len(o.parts) == 3]
    assert series and all(
        {s.part_id for s in db.session.scalars(select(Session).where(Session.offer_id == o.id))}
        == {p.id for p in o.parts}
        for o in series
    )

    # no session on a school holiday of the region, nor on a day its venue is closed
    sessions = db.session.scalars(select(Session)).all()
    periods = holidays_for(region.holiday_region, date(2025, 8, 1), date(2027, 7, 31))
    for s in sessions:
        day = to_local(s.starts_at).date()
        assert not is_school_holiday(day, periods), (s, day)
        assert day.isoweekday() <= 5
        if s.venue is not None:
            assert str(day.isoweekday()) in s.venue.opening_days

    # counters equal the bookings that hold a place; nothing overbooked; one per school
    for s in sessions:
        held = [
            b for b in db.session.scalars(select(Booking).where(Booking.session_id == s.id)) if b.status in HOLDS_PLACE
        ]
        assert s.booked_pupils == sum(b.pupils for b in held) <= s.capacity_pupils
        assert s.booked_classes == len(held) <= s.capacity_classes
    assert db.session.scalar(select(func.count(Booking.id)).where(Booking.status == BookingStatus.ATTENDED)) > 100
    reached = set(db.session.scalars(select(Booking.school_id).where(Booking.status == BookingStatus.ATTENDED)))
    assert 0 < len(reached) < len(schools)  # some schools are not reached: outreach has work

    # the upcoming sessions have bus plans: far classes on a bus, every bus within its seats
    from app.transport.models import Bus, BusPlan, PlanStatus

    buses = db.session.scalars(select(Bus)).all()
    assert buses and all(sum(st.seats for st in b.stops) <= b.bus_type.seats for b in buses)
    statuses = set(db.session.scalars(select(BusPlan.status).join(Bus, Bus.plan_id == BusPlan.id)))
    assert statuses == {PlanStatus.DRAFT, PlanStatus.FROZEN}

    first = _summary()
    assert not load_demo(seed=7, today=today, echo=lambda *_: None).created  # second run: no-op
    assert reset_demo()
    assert db.session.scalar(select(func.count(Session.id))) == 0
    load_demo(seed=7, today=today, echo=lambda *_: None)
    assert _summary() == first  # deterministic: the same seed gives the same data


def test_cli_prints_accounts(app, runner):
    result = runner.invoke(args=["demo", "load", "--password", "een-ander-wachtwoord"])
    assert result.exit_code == 0, result.output
    assert "programmaleider@demo.techlab.nl" in result.output and "een-ander-wachtwoord" in result.output
    listed = runner.invoke(args=["users", "list", "--role", "teacher"]).output.split()
    assert len(listed) >= 100 and all(e.startswith("leerkracht.") for e in listed)


def test_national_data_set(app):
    from app.auth.models import Region
    from app.demo.national import load_national
    from app.labs.models import Session

    load_national(years=1, seed=3, echo=lambda *_: None)
    regions = db.session.scalars(select(Region).where(Region.code.like("nodaal-%"))).all()
    assert len(regions) == 80
    assert db.session.scalar(select(func.count(School.id)).where(School.region_id.is_not(None))) >= 6000
    held = db.session.execute(
        select(Booking.session_id, func.count(), func.sum(Booking.pupils))
        .where(Booking.status.in_(HOLDS_PLACE))
        .group_by(Booking.session_id)
        .limit(200)
    ).all()
    for sid, n, pupils in held:
        s = db.session.get(Session, sid)
        assert (s.booked_classes, s.booked_pupils) == (n, pupils) and n <= s.capacity_classes
    load_national(years=1, seed=3, echo=lambda *_: None)  # a second run changes nothing
    assert db.session.scalar(select(func.count(Region.id))) == 80
