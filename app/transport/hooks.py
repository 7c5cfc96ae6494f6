"""Bus plans follow booking changes: re-planned after the booking's commit.

During a unit of work, every flush notes the sessions whose bookings changed (a new
booking, a status change, a declined bus) or that moved or were cancelled. After the
commit — outside the booking's lock, never able to undo the booking — those sessions
are re-planned, each in a fresh unit of work of its own (a new app context gives a new
database session). If planning fails it is logged and the plan marked stale; the
``transport.replan`` job picks it up. A rollback forgets the noted sessions.
"""
from __future__ import annotations

import logging
from itertools import chain

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession

log = logging.getLogger(__name__)
KEY = "transport.replan"
MOVED = "transport.replan_moved"  # sessions that changed themselves (not only their bookings)
READY = "transport.replan_ready"
READY_MOVED = "transport.replan_ready_moved"
BOOKING_FIELDS = ("status", "bus_declined", "session_id", "pupils", "adults")
SESSION_FIELDS = ("status", "starts_at", "ends_at", "venue_id")


def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


@event.listens_for(OrmSession, "after_flush")
def _note_changes(session: OrmSession, flush_context) -> None:
    from app.booking.models import Booking
    from app.labs.models import Session

    ids, moved = set(), set()
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Booking) and (obj in session.new or _changed(obj, BOOKING_FIELDS)):
            ids.add(obj.session_id)
        elif isinstance(obj, Session) and obj not in session.new and _changed(obj, SESSION_FIELDS):
            moved.add(obj.id)
    ids.discard(None)
    if ids or moved:
        session.info.setdefault(KEY, set()).update(ids | moved)
        session.info.setdefault(MOVED, set()).update(moved)


@event.listens_for(OrmSession, "after_commit")
def _ready_after_commit(session: OrmSession) -> None:
    ids = session.info.pop(KEY, None)
    moved = session.info.pop(MOVED, set())
    if ids:
        session.info.setdefault(READY, set()).update(ids)
        session.info.setdefault(READY_MOVED, set()).update(moved)


@event.listens_for(OrmSession, "after_transaction_end")
def _replan_after_commit(session: OrmSession, transaction) -> None:
    """Runs once the committed transaction has given its connection back (no second connection held)."""
    if transaction.parent is not None:
        return
    ids = session.info.pop(READY, None)
    moved = session.info.pop(READY_MOVED, set())
    if not ids or not has_app_context() or not current_app.config.get("TRANSPORT_REPLAN_AFTER_COMMIT", True):
        return
    if session.info.get("transport.no_replan"):
        return
    app = current_app._get_current_object()
    try:
        with app.app_context():  # a fresh database session: its own unit of work
            from app.transport.services import replan_sessions

            replan_sessions(ids, moved=moved)
    except Exception:  # noqa: BLE001 — never let planning break the caller after its commit
        log.exception("re-planning sessions %s after a commit failed", sorted(ids))


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget(session: OrmSession, previous_transaction) -> None:
    if session.in_transaction():
        return
    session.info.pop(KEY, None)
    session.info.pop(MOVED, None)
