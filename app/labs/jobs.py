"""Scheduled jobs of the labs area: plain functions of `now`, safe to run twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import exists, select

from app.auth.models import Role, User, coordinator_venues
from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Session, SessionStatus
from app.mail import queue_mail


def attendance_reminders(now: datetime) -> int:
    """Remind coordinators of past sessions with bookings but no attendance; once per session."""
    pending = exists().where(Booking.session_id == Session.id, Booking.status == BookingStatus.CONFIRMED)
    stmt = (
        select(Session)
        .where(
            Session.ends_at <= now,
            Session.ends_at > now - timedelta(days=30),
            Session.status == SessionStatus.SCHEDULED,
            Session.attendance_reminded_at.is_(None),
            pending,
        )
        .order_by(Session.id)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Session, skip_locked=True)
    sessions = list(db.session.scalars(stmt))
    by_coordinator: dict[str, list[Session]] = {}
    for s in sessions:
        s.attendance_reminded_at = now
        venue_id = s.venue_id or s.offer.venue_id
        emails = db.session.scalars(
            select(User.email)
            .join(coordinator_venues, coordinator_venues.c.user_id == User.id)
            .where(coordinator_venues.c.venue_id == venue_id, User.role == Role.COORDINATOR, User.active.is_(True))
        ).all()
        for email in emails:
            by_coordinator.setdefault(email, []).append(s)
    base = current_app.config["BASE_URL"].rstrip("/")
    for email, items in sorted(by_coordinator.items()):
        queue_mail(
            email,
            _("Aanwezigheid vastleggen"),
            render_template("labs/attendance_reminder_mail.txt", sessions=items, base=base),
        )
    db.session.commit()
    return len(sessions)


JOBS = [
    {"id": "labs.attendance_reminders", "func": attendance_reminders, "trigger": "cron", "hour": "17", "minute": "30"}
]
