"""Locks on scarce things: sessions (capacity) and schools (quotas).

PostgreSQL: row locks (SELECT … FOR UPDATE) in sorted id order, with a lock timeout,
reloading the rows so the caller re-checks fresh values. SQLite: every transaction
already holds the database's write lock from its first statement (BEGIN IMMEDIATE in
app/__init__.py), so the rows read here are current and nobody else can write.

``BOOKING_LOCKING = False`` switches the locks off; only the control test does that, to
show the race they guard against.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, load_only

from app.auth.models import Region
from app.booking import fairness
from app.booking.models import FairnessRule  # noqa: F401  (maps Region.active_fairness_rules)
from app.extensions import db
from app.labs.models import Offer, Session, Venue
from app.locking import (
    SETS_LOCK_TIMEOUT,
    is_postgres,
    lock_timeout_params,
    lock_timeout_was_set,
    locking_enabled,
    set_lock_timeout,
)
from app.schools.models import School


# the shared primitives, under the names this module has always used
_postgres, _set_lock_timeout = is_postgres, set_lock_timeout


# The statements are built once per process and variant (locking on/off, PostgreSQL or not):
# building a select with its loader options costs more CPU than running it.
_STATEMENTS: dict = {}


def _cached(name: str, build):
    key = (name, locking_enabled(), _postgres())
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build(key[1] and key[2])
    return stmt


def _sessions_stmt(for_update: bool):
    stmt = (
        select(Session)
        .where(Session.id.in_(bindparam("ids", expanding=True)))
        .order_by(Session.id)
        .options(
            joinedload(Session.offer).joinedload(Offer.parts),
            joinedload(Session.offer).joinedload(Offer.region).joinedload(Region.active_fairness_rules),
            joinedload(Session.venue).load_only(Venue.id, Venue.name, Venue.region_id),
        )
        .execution_options(populate_existing=True)
    )
    if for_update:
        # NO KEY UPDATE: bookings still queue for the session, but a transaction that only
        # references the row (a bus plan or stop's foreign key takes KEY SHARE, held while the
        # outbox worker plans the day) does not make a booking wait
        stmt = stmt.with_for_update(of=Session, key_share=True).where(SETS_LOCK_TIMEOUT)
    return stmt


def _school_stmt(for_update: bool):
    stmt = (
        select(School)
        .where(School.id == bindparam("school_id"))
        .options(load_only(School.id, School.region_id))
        .execution_options(populate_existing=True)
    )
    return stmt.with_for_update(of=School).where(SETS_LOCK_TIMEOUT) if for_update else stmt


def lock_sessions(session_ids) -> dict[int, Session]:
    """Lock the sessions (sorted by id) and return them freshly loaded, with their offer (its parts
    and region, the region's active fairness rules) and venue (its name; the rest when first
    used) read in the same statement (only the session rows are locked)."""
    ids = sorted(set(session_ids))
    stmt = _cached("sessions", _sessions_stmt)
    if not (locking_enabled() and _postgres()):
        sessions = {s.id: s for s in db.session.scalars(stmt, {"ids": ids}).unique()}
    else:
        # the statement sets the lock timeout itself (app.locking.SETS_LOCK_TIMEOUT)
        sessions = {s.id: s for s in db.session.scalars(stmt, lock_timeout_params({"ids": ids})).unique()}
        lock_timeout_was_set(bool(sessions))
    fairness.remember_rules(s.offer.region for s in sessions.values())
    return sessions


def lock_school(school_id: int) -> School | None:
    """Lock the school row: per-school rules (quotas, one booking per session) hold under concurrency.
    Only its id and region are read (what the admission decision asks); any other attribute
    is loaded when first used."""
    stmt = _cached("school", _school_stmt)
    if not (locking_enabled() and _postgres()):
        return db.session.scalar(stmt, {"school_id": school_id})
    # the statement sets the lock timeout itself (app.locking.SETS_LOCK_TIMEOUT)
    school = db.session.scalar(stmt, lock_timeout_params({"school_id": school_id}))
    lock_timeout_was_set(school is not None)
    return school


def lock_schools(school_ids) -> dict[int, School]:
    """Lock several school rows in sorted id order (the one lock order: schools, then sessions)."""
    ids = sorted(set(school_ids))
    if not ids:
        return {}
    stmt = select(School).where(School.id.in_(ids)).order_by(School.id).execution_options(populate_existing=True)
    if locking_enabled():
        _set_lock_timeout()
        if _postgres():
            stmt = stmt.with_for_update(of=School)
    return {s.id: s for s in db.session.scalars(stmt)}


def for_update(stmt, entity):
    """``stmt`` locking the rows of ``entity`` it reads (PostgreSQL: FOR UPDATE, with the lock
    timeout), for other scarce things than sessions and schools; as is when locking is off."""
    if locking_enabled():
        _set_lock_timeout()
        if _postgres():
            stmt = stmt.with_for_update(of=entity)
    return stmt
