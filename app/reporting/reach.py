"""Reach per school year: which classes and pupils were reached, against enrolment.

A class (school, groep range) counts once however many visits it had; its pupils are
the most that attended any of its visits. Attendance recorded by the coordinator is what
counts (status attended); aggregation happens in SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from sqlalchemy import func, select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Offer, Session
from app.schools.models import School
from app.timeutil import local_to_utc, school_year_bounds


@dataclass(frozen=True)
class SchoolReach:
    school_id: int
    classes: int
    pupils: int
    visits: int


def reach_by_school(region_id: int, school_year: int) -> dict[int, SchoolReach]:
    start, end = school_year_bounds(school_year)
    classes = (select(Booking.school_id, Booking.groep_min, Booking.groep_max,
                      func.max(Booking.attended_pupils).label("pupils"), func.count(Booking.id).label("visits"))
               .join(Session, Booking.session_id == Session.id).join(Offer, Session.offer_id == Offer.id)
               .where(Offer.region_id == region_id, Booking.status == BookingStatus.ATTENDED,
                      Session.starts_at >= local_to_utc(start, time(0)),
                      Session.starts_at < local_to_utc(end + timedelta(days=1), time(0)))
               .group_by(Booking.school_id, Booking.groep_min, Booking.groep_max).subquery())
    rows = db.session.execute(select(classes.c.school_id, func.count(), func.sum(classes.c.pupils),
                                     func.sum(classes.c.visits)).group_by(classes.c.school_id)).all()
    return {sid: SchoolReach(sid, n, int(p or 0), int(v or 0)) for sid, n, p, v in rows}


def schools_reached(region_id: int, school_year: int) -> tuple[int, int]:
    """(schools reached, schools in the region)."""
    total = db.session.scalar(select(func.count(School.id)).where(School.region_id == region_id)) or 0
    return len(reach_by_school(region_id, school_year)), total
