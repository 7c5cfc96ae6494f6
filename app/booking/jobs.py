"""Scheduled jobs of the booking area: plain functions of `now`, safe to run twice."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.booking import notify
from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Session, SessionStatus


def send_reminders(now: datetime, batch: int = 200) -> int:
    """Remind confirmed classes of visits within REMINDER_DAYS_BEFORE days, once each.

    The reminder is marked and the mail queued in one transaction; the mail goes after
    the commit. On PostgreSQL concurrent runners skip each other's rows (SKIP LOCKED);
    on SQLite the write lock serialises them. Either way each booking is reminded once.
    """
    days = int(current_app.config.get("REMINDER_DAYS_BEFORE", 3))
    sent = 0
    while True:
        stmt = (select(Booking).join(Session, Booking.session_id == Session.id).where(
            Booking.status == BookingStatus.CONFIRMED, Booking.reminder_sent_at.is_(None),
            Session.status == SessionStatus.SCHEDULED, Session.starts_at > now,
            Session.starts_at <= now + timedelta(days=days)).order_by(Booking.id).limit(batch))
        if db.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=Booking, skip_locked=True)
        rows = list(db.session.scalars(stmt))
        if not rows:
            db.session.commit()
            return sent
        for b in rows:
            b.reminder_sent_at = now
            notify.reminder(b)
        db.session.commit()
        sent += len(rows)


JOBS = [{"id": "booking.send_reminders", "func": send_reminders, "trigger": "cron", "minute": "*/15"}]
