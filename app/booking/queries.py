"""Read queries the booking pages show (the views stay thin: load, check, call, render)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.booking.models import Booking
from app.extensions import db
from app.labs.models import Session, SessionStatus


def school_bookings(school_id: int) -> list[Booking]:
    """A school's bookings, by the date of their session."""
    return db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.school_id == school_id)
        .order_by(Session.starts_at)
    ).all()


def session_bookings(session_id: int) -> list[Booking]:
    """A session's bookings in the order they came in (the roster)."""
    return db.session.scalars(
        select(Booking).where(Booking.session_id == session_id).order_by(Booking.created_at)
    ).all()


def other_dates(session: Session, now: datetime, limit: int = 100) -> list[Session]:
    """The later dates of the same offer (and part) a booking may move to."""
    same_part = Session.part_id.is_(None) if session.part_id is None else Session.part_id == session.part_id
    return db.session.scalars(
        select(Session)
        .where(
            Session.offer_id == session.offer_id,
            Session.status != SessionStatus.CANCELLED,
            same_part,
            Session.id != session.id,
            Session.starts_at > now,
        )
        .order_by(Session.starts_at)
        .limit(limit)
    ).all()


def region_schools(region_id: int, limit: int = 2000):
    """A region's schools by name (the override's school picker)."""
    from app.schools.models import School

    return db.session.scalars(
        select(School).where(School.region_id == region_id).order_by(School.name).limit(limit)
    ).all()


def region_overrides(region_id: int, limit: int = 100) -> list[Booking]:
    """The region's bookings made outside the rules, latest first (the audit on the rules page)."""
    from app.labs.models import Offer

    return db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .where(Offer.region_id == region_id, Booking.override_reason != "")
        .order_by(Booking.created_at.desc())
        .limit(limit)
    ).all()


def region_rounds(region_id: int):
    """The region's request rounds, the latest deadline first."""
    from app.booking.models import RequestRound

    return db.session.scalars(
        select(RequestRound).where(RequestRound.region_id == region_id).order_by(RequestRound.deadline_at.desc())
    ).all()
