"""Read queries the lab coordinator's pages show (the views stay thin: load, check, call, render)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Kit, KitLoan, Offer, PartLocation, Session, Staff, Venue
from app.timeutil import local_to_utc


def region_venues(region_id: int | None) -> list[Venue]:
    return db.session.scalars(select(Venue).where(Venue.region_id == region_id).order_by(Venue.name)).all()


def offer_sessions(offer_id: int, period: str, now: datetime) -> list[Session]:
    """An offer's sessions: to come (``toekomst``), past (``verleden``, latest first) or all."""
    stmt = select(Session).where(Session.offer_id == offer_id)
    if period == "toekomst":
        stmt = stmt.where(Session.starts_at >= now).order_by(Session.starts_at)
    elif period == "verleden":
        stmt = stmt.where(Session.starts_at < now).order_by(Session.starts_at.desc())
    else:
        stmt = stmt.order_by(Session.starts_at)
    return db.session.scalars(stmt).all()


def active_staff(region_id: int) -> list[Staff]:
    return db.session.scalars(
        select(Staff).where(Staff.region_id == region_id, Staff.active.is_(True)).order_by(Staff.name)
    ).all()


def region_staff(region_id: int | None) -> list[Staff]:
    """Everyone of the region, the active first."""
    return db.session.scalars(
        select(Staff).where(Staff.region_id == region_id).order_by(Staff.active.desc(), Staff.name)
    ).all()


def venue_sessions(venue_ids: list[int], first: date, last: date) -> list[Session]:
    """The sessions at (or of offers of) these venues from ``first`` through ``last`` (local days)."""
    return db.session.scalars(
        select(Session)
        .join(Offer, Session.offer_id == Offer.id)
        .where(or_(Session.venue_id.in_(venue_ids), Offer.venue_id.in_(venue_ids)))
        .options(selectinload(Session.offer), selectinload(Session.venue))
        .where(
            Session.starts_at >= local_to_utc(first, time(0)),
            Session.starts_at < local_to_utc(last + timedelta(days=1), time(0)),
        )
        .order_by(Session.starts_at)
    ).all()


def schools_at_school(sessions: list[Session]) -> dict[int, list]:
    """Per session held at school: the schools with a confirmed booking (where the lab goes)."""
    at_school = [s.id for s in sessions if s.location == PartLocation.AT_SCHOOL]
    schools: dict[int, list] = {}
    if at_school:
        for b in db.session.scalars(
            select(Booking).where(Booking.session_id.in_(at_school), Booking.status == BookingStatus.CONFIRMED)
        ):
            schools.setdefault(b.session_id, []).append(b.school)
    return schools


def day_sessions(venue_id: int, day: date) -> list[Session]:
    """A venue's sessions of one local day (its own, and its offers' without a venue of their own)."""
    return db.session.scalars(
        select(Session)
        .join(Offer, Session.offer_id == Offer.id)
        .where(
            or_(Session.venue_id == venue_id, (Offer.venue_id == venue_id) & (Session.venue_id.is_(None))),
            Session.starts_at >= local_to_utc(day, time(0)),
            Session.starts_at < local_to_utc(day + timedelta(days=1), time(0)),
        )
        .order_by(Session.starts_at)
    ).all()


def attending(sessions: list[Session]) -> dict[int, list[Booking]]:
    """Per session the classes that come (confirmed or attended), in one query."""
    found: dict[int, list[Booking]] = {s.id: [] for s in sessions}
    if found:
        for b in db.session.scalars(
            select(Booking)
            .where(
                Booking.session_id.in_(list(found)),
                Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.ATTENDED)),
            )
            .order_by(Booking.id)
        ):
            found[b.session_id].append(b)
    return found


def region_kits(region_id: int | None) -> list[Kit]:
    if not region_id:
        return []
    return db.session.scalars(
        select(Kit).where(Kit.region_id == region_id, Kit.active.is_(True)).order_by(Kit.title)
    ).all()


def kit_loans(region_id: int | None, school_id: int | None = None, limit: int = 200) -> list[KitLoan]:
    """The region's loans, latest first; only one school's when ``school_id`` is given."""
    if not region_id:
        return []
    return db.session.scalars(
        select(KitLoan)
        .join(Kit, KitLoan.kit_id == Kit.id)
        .where(Kit.region_id == region_id, *([KitLoan.school_id == school_id] if school_id is not None else []))
        .order_by(KitLoan.starts_on.desc())
        .limit(limit)
    ).all()
