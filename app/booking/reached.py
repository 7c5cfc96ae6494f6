"""What "reached" means — one definition for the fairness rules and the dashboard.

A school (or class) is **reached** in a school year when it has a booking in that year that
is *attended*, or *confirmed*: a visit still to come (or held, with its attendance not yet
recorded). Waiting, offered (not yet accepted), cancelled and no-show bookings do not reach
anyone. The priority window holds back reached schools; the waiting list puts schools not
yet reached first; the dashboard's recruitment list ("niet bereikt") lists the schools that
are not reached, and shows "geboekt, nog niet geweest" (confirmed, not yet visited) apart
from the schools that attended.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Offer, Session
from app.timeutil import local_to_utc, school_year_bounds

REACHED = (BookingStatus.CONFIRMED, BookingStatus.ATTENDED)


def year_window(school_year: int) -> tuple[datetime, datetime]:
    start, end = school_year_bounds(school_year)
    return local_to_utc(start, time(0)), local_to_utc(end + timedelta(days=1), time(0))


def reached_condition():
    """The SQL condition on Booking.status that makes a booking count as reaching its school."""
    return Booking.status.in_(REACHED)


def reached_schools(
    school_ids,
    school_year: int,
    *,
    region_id: int | None = None,
    exclude_booking_ids=(),
    exclude_session_id: int | None = None,
) -> set[int]:
    """The schools among ``school_ids`` reached in the school year (optionally within one region)."""
    school_ids = set(school_ids)
    if not school_ids:
        return set()
    start, end = year_window(school_year)
    stmt = (
        select(Booking.school_id)
        .distinct()
        .join(Session, Booking.session_id == Session.id)
        .where(
            Booking.school_id.in_(school_ids), reached_condition(), Session.starts_at >= start, Session.starts_at < end
        )
    )
    if region_id is not None:
        stmt = stmt.join(Offer, Session.offer_id == Offer.id).where(Offer.region_id == region_id)
    if exclude_booking_ids:
        stmt = stmt.where(Booking.id.not_in(list(exclude_booking_ids)))
    if exclude_session_id is not None:
        stmt = stmt.where(Session.id != exclude_session_id)
    return set(db.session.scalars(stmt))


def is_reached(school_id: int, region_id: int, school_year: int, exclude_booking_ids=()) -> bool:
    return school_id in reached_schools(
        {school_id}, school_year, region_id=region_id, exclude_booking_ids=exclude_booking_ids
    )
