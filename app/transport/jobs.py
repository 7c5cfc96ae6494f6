"""The transport area's background work: re-planning after the outbox's commit (each session in
its own unit of work), finding missed re-plans, planning the coming days, freezing (ordering) the
plans near their day; and the scheduled jobs, plain functions of `now`, safe to run twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import PartLocation, Session, SessionStatus
from app.timeutil import to_local
from app.transport.models import BusPlan, PlanStatus
from app.transport.pickups import tell_pickups
from app.transport.plans import plan_session, trip_plans

log = logging.getLogger(__name__)


def replan_sessions(session_ids, now: datetime | None = None, *, moved=None) -> dict[int, str]:
    """Re-plan each session in its own unit of work; a failure marks the plan stale (the job retries).

    ``moved``: when given, only these sessions changed themselves (time, place, status);
    the others had booking changes only and keep a plan whose riders are unchanged."""
    out = {}
    for sid in sorted(set(session_ids)):
        try:
            plan = plan_session(
                sid,
                now,
                only_if_riders_changed=moved is not None and sid not in moved,
                hold="free" if moved is not None and sid in moved else "hard",
            )
            db.session.commit()
            out[sid] = "planned" if plan is not None else "none"
        except Exception:
            db.session.rollback()
            log.exception("re-planning the buses of session %s failed", sid)
            out[sid] = "stale"
            try:
                mark_stale(sid)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("marking the plan of session %s stale failed", sid)
    return out


def mark_stale(session_id: int) -> None:
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == session_id))
    if plan is None:
        plan = BusPlan(session_id=session_id)
        db.session.add(plan)
    plan.stale = True
    db.session.flush()


def sessions_to_replan(now: datetime) -> list[int]:
    """Future sessions whose plan is stale or older than a change of their bookings (a missed re-plan)."""
    stale = (
        select(BusPlan.session_id)
        .join(Session, BusPlan.session_id == Session.id)
        .where(BusPlan.stale.is_(True), Session.starts_at > now)
    )
    changed = (
        select(Booking.session_id)
        .join(Session, Booking.session_id == Session.id)
        .outerjoin(BusPlan, BusPlan.session_id == Session.id)
        .where(
            Session.starts_at > now,
            Session.location == PartLocation.VENUE,
            Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.CANCELLED)),
            (BusPlan.id.is_(None) & (Booking.status == BookingStatus.CONFIRMED))
            | (Booking.updated_at > BusPlan.planned_at),
        )
    )
    return sorted(set(db.session.scalars(stale)) | set(db.session.scalars(changed)))


def plan_upcoming(region_id: int, now: datetime, days: int = 14, *, tell: bool = False) -> int:
    """Plan every session of a region in the coming days that has bookings (the demo, a new region)."""
    from app.labs.models import Offer

    sessions = db.session.execute(
        select(Session.id, Session.starts_at)
        .join(Offer, Session.offer_id == Offer.id)
        .where(
            Offer.region_id == region_id,
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(days=days),
            Session.status == SessionStatus.SCHEDULED,
            Session.location == PartLocation.VENUE,
            Session.booked_classes > 0,
        )
        .order_by(Session.starts_at, Session.id)
    ).all()
    planned_days = set()
    db.session.info["transport.no_mail"] = not tell
    try:
        for sid, starts_at in sessions:
            day = to_local(starts_at).date()
            if day in planned_days:  # planning a session plans its whole day
                continue
            plan_session(sid, now)
            db.session.commit()
            planned_days.add(day)
    finally:
        db.session.info.pop("transport.no_mail", None)
    return len(sessions)


def freeze_due_plans(now: datetime, *, tell: bool = True) -> int:
    """Freeze (order) the plans of sessions within TRANSPORT_FREEZE_DAYS; tell the schools their pickup time.

    Each session is re-planned and frozen in its own unit of work under the plan lock;
    a frozen plan is skipped, so running twice changes nothing.
    """
    days = int(current_app.config["TRANSPORT_FREEZE_DAYS"])
    ids = db.session.scalars(
        select(Session.id)
        .where(
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(days=days),
            Session.status == SessionStatus.SCHEDULED,
            Session.location == PartLocation.VENUE,
            Session.booked_classes > 0,
        )
        .order_by(Session.id)
    ).all()
    db.session.commit()
    frozen, due = 0, set(ids)
    for sid in ids:
        if not tell:
            db.session.info["transport.no_mail"] = True
        try:  # a plan that is still right (same classes, not stale) is frozen as it is
            plan = plan_session(sid, now, only_if_riders_changed=True)
        finally:
            db.session.info.pop("transport.no_mail", None)
        if plan is None or plan.status == PlanStatus.FROZEN:
            db.session.commit()
            continue
        # the sessions of a trip are ordered together: they may share buses
        trip = [p for p in trip_plans(plan.session) if p.status != PlanStatus.FROZEN and p.session_id in due]
        for p in trip:
            p.status, p.frozen_at = PlanStatus.FROZEN, now
        db.session.flush()
        if tell:
            for p in trip:
                tell_pickups(p)
        db.session.commit()
        frozen += len(trip)
    return frozen


# ------------------------------------------------------------------ the scheduled jobs


def freeze_plans(now: datetime) -> int:
    """Freeze (order) the bus plans of sessions within TRANSPORT_FREEZE_DAYS days."""
    return freeze_due_plans(now)


def replan(now: datetime) -> int:
    """Re-plan stale plans and any session whose bookings changed after its plan (a missed re-plan)."""
    ids = sessions_to_replan(now)
    return sum(1 for r in replan_sessions(ids, now).values() if r == "planned")


JOBS = [
    {"id": "transport.freeze_plans", "func": freeze_plans, "trigger": "cron", "minute": "5"},
    {"id": "transport.replan", "func": replan, "trigger": "cron", "minute": "*/10"},
]
