"""What a teacher sees first after signing in: the school's next bookings, its open places on
waiting lists, and places offered to it that wait for an answer. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Session


@dataclass
class TeacherHome:
    offered: list = field(default_factory=list)  # a freed place held for the class: accept or decline
    upcoming: list = field(default_factory=list)  # confirmed, still to come
    waiting: list = field(default_factory=list)  # on a waiting list

    @property
    def empty(self) -> bool:
        return not (self.offered or self.upcoming or self.waiting)


def teacher_home(school_id: int | None, now: datetime, limit: int = 10) -> TeacherHome:
    home = TeacherHome()
    if school_id is None:
        return home
    rows = db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(
            Booking.school_id == school_id,
            Session.starts_at > now,
            Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.WAITLISTED, BookingStatus.OFFERED)),
        )
        .options(selectinload(Booking.session).selectinload(Session.offer))
        .order_by(Session.starts_at, Booking.id)
        .limit(300)
    ).all()
    for b in rows:
        {
            BookingStatus.OFFERED: home.offered,
            BookingStatus.CONFIRMED: home.upcoming,
            BookingStatus.WAITLISTED: home.waiting,
        }[b.status].append(b)
    home.upcoming = home.upcoming[:limit]
    home.waiting = home.waiting[:limit]
    return home
