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
        stmt = (
            select(Booking)
            .join(Session, Booking.session_id == Session.id)
            .where(
                Booking.status == BookingStatus.CONFIRMED,
                Booking.reminder_sent_at.is_(None),
                Session.status == SessionStatus.SCHEDULED,
                Session.starts_at > now,
                Session.starts_at <= now + timedelta(days=days),
            )
            .order_by(Booking.id)
            .limit(batch)
        )
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


def release_priority_windows(now: datetime) -> int:
    """After a priority window's release date, waiting classes get the places left.

    Each rule is released once (claimed in the job table by rule id); promotion itself
    locks the waiting schools and each session and asks the admission decision again, so
    running twice changes nothing.
    """
    from app.booking.models import FairnessRule, RuleKind
    from app.booking.services import promote_sessions, sessions_with_waiting
    from app.jobs import claim_run

    rules = db.session.scalars(
        select(FairnessRule).where(
            FairnessRule.kind == RuleKind.PRIORITY_WINDOW,
            FairnessRule.active.is_(True),
            FairnessRule.window_end <= now,
            FairnessRule.window_end > now - timedelta(days=30),
        )
    ).all()
    promoted = 0
    for rule in rules:
        region_id = rule.region_id
        if not claim_run("booking.release_priority_window", f"rule-{rule.id}"):
            continue
        promoted += promote_sessions(sessions_with_waiting(region_id, now), now, commit_each=True)
    return promoted


JOBS.append(
    {"id": "booking.release_priority_windows", "func": release_priority_windows, "trigger": "cron", "minute": "*/10"}
)


def allocate_rounds(now: datetime) -> int:
    from app.booking.rounds import allocate_due_rounds

    return allocate_due_rounds(now)


JOBS.append({"id": "booking.allocate_rounds", "func": allocate_rounds, "trigger": "cron", "minute": "*/5"})


def expire_offers(now: datetime) -> int:
    """Offered places not accepted in time go to the next waiting class (safe to run twice)."""
    from app.booking.services import expire_offers as expire

    return expire(now)


JOBS.append({"id": "booking.expire_offers", "func": expire_offers, "trigger": "cron", "minute": "*/10"})
