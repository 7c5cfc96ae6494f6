"""Writing to the outbox (in the caller's unit of work) and what the administrator does with it.

Like every service here these flush or execute but never commit: the entry is committed
(or rolled back) with the change it belongs to.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth import permissions
from app.auth.models import User
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.ops.logs import current_request_id
from app.outbox.models import OutboxEntry, OutboxKind, OutboxStatus

log = logging.getLogger(__name__)
REPLAN_PREFIX = "replan:"


_OUTBOX = OutboxEntry.__table__
# built once per process (and dialect): a statement built per call costs more CPU than its round trip
_STATEMENTS: dict = {}


def _statement(name: str, dialect: str):
    stmt = _STATEMENTS.get((name, dialect))
    if stmt is None:
        if name == "insert":
            stmt = _OUTBOX.insert()
        else:
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            stmt = insert(_OUTBOX)
            if name == "replan_moved":
                stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"payload": stmt.excluded.payload})
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=["key"])
        _STATEMENTS[(name, dialect)] = stmt
    return stmt


_BATCH = "outbox_batch"


def _write(name: str, kind: str, key: str, payload: dict, request_id: str | None) -> None:
    """One outbox row, written on the unit of work's connection (a plain INSERT: nothing for
    the ORM's flush; committed or rolled back with the change it belongs to); inside
    ``batched()`` kept for the one INSERT at the block's end."""
    now = utcnow()
    row = {
        "kind": kind,
        "key": key[:200],
        "payload": payload,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
        "request_id": request_id or current_request_id() or None,
    }
    batch = db.session.info.get(_BATCH)
    if batch is not None and name in ("insert", "replan"):
        batch.append((name, row))
        return
    conn = db.session.connection()
    conn.execute(_statement(name, conn.dialect.name), row)


@contextlib.contextmanager
def batched():
    """The rows queued inside the block (mails, coalesced re-plans) are written at its end in one
    multi-row INSERT … ON CONFLICT (key) DO NOTHING, in the order they were queued (the booking
    path's re-plan and mail: one statement, not two). Same transaction, same rows as one INSERT
    each: a re-plan whose key is pending adds nothing, as ``enqueue_replan`` says, and a mail's
    key that is already taken is still an IntegrityError (the statement returns the keys it
    wrote). A re-plan of a moved session (an upsert) is written at once. An exception in the
    block writes nothing (the transaction is rolled back anyway). Nested blocks are one batch."""
    if db.session.info.get(_BATCH) is not None:
        yield
        return
    batch: list = []
    db.session.info[_BATCH] = batch
    try:
        yield
    finally:
        db.session.info.pop(_BATCH, None)
    if len(batch) == 1:
        conn = db.session.connection()
        conn.execute(_statement(batch[0][0], conn.dialect.name), batch[0][1])
    elif batch:
        _write_batch(batch)


def _write_batch(batch: list) -> None:
    """One statement: executed with several parameter sets, an INSERT … RETURNING is sent by
    SQLAlchemy as one multi-row INSERT ("insertmanyvalues"), from a statement compiled once."""
    from sqlalchemy.exc import IntegrityError

    conn = db.session.connection()
    stmt = _STATEMENTS.get(("batch", conn.dialect.name))
    if stmt is None:
        stmt = _STATEMENTS[("batch", conn.dialect.name)] = _statement("replan", conn.dialect.name).returning(
            _OUTBOX.c.key
        )
    written = set(conn.execute(stmt, [row for _, row in batch]).scalars())
    taken = [row["key"] for name, row in batch if name == "insert" and row["key"] not in written]
    if taken:
        raise IntegrityError(f"outbox key already taken: {taken[0]}", None, ValueError(taken[0]))


def enqueue(kind: str, payload: dict, key: str, *, request_id: str | None = None) -> None:
    """Write an entry in the current transaction (sent after its commit)."""
    _write("insert", kind, key, payload, request_id)


def enqueue_replan(session_id: int, *, moved: bool = False) -> None:
    """Ask for the buses of a session to be re-planned after the commit, coalesced: while an
    entry for the session is pending (key ``replan:<id>``) a new change adds nothing, except
    that a move of the session itself upgrades the pending entry to a full re-plan."""
    _write(
        "replan_moved" if moved else "replan",
        OutboxKind.REPLAN.value,
        f"{REPLAN_PREFIX}{session_id}",
        {"session_id": session_id, "moved": bool(moved)},
        None,
    )


def pending_replans(session_ids=None) -> set[int]:
    """The sessions whose buses wait for a re-plan (queued or being planned now)."""
    keys = db.session.scalars(
        select(OutboxEntry.key).where(
            OutboxEntry.kind == OutboxKind.REPLAN.value, OutboxEntry.status == OutboxStatus.PENDING
        )
    )
    out = set()
    for key in keys:  # "replan:<id>" while queued, "replan:<id>#<entry id>" once a worker took it
        try:
            out.add(int(key[len(REPLAN_PREFIX) :].split("#", 1)[0]))
        except ValueError:
            continue
    return out if session_ids is None else out & set(session_ids)


def notices_waiting_for_plan(booking_ids) -> set[int]:
    """The bookings (of these) with a pending notice that waits for their session's re-plan and
    will carry the bus (see app.booking.notify.WAITS_FOR_PLAN): the plan need not mail them itself."""
    ids = set(booking_ids)
    if not ids:
        return set()
    out: set[int] = set()
    for payload in db.session.scalars(
        select(OutboxEntry.payload).where(
            OutboxEntry.kind == OutboxKind.MAIL.value,
            OutboxEntry.status == OutboxStatus.PENDING,
            OutboxEntry.key.like("mail:%"),
        )
    ):
        if (payload or {}).get("after_replan"):
            out |= ids & set(payload.get("booking_ids") or ())
    return out


# ------------------------------------------------------------------ the queue's state (health, admin page)


def queue_stats(now: datetime | None = None) -> dict:
    """Queue depth, the age of the oldest pending entry (seconds) and the dead letters."""
    now = now or utcnow()
    pending, oldest = db.session.execute(
        select(func.count(OutboxEntry.id), func.min(OutboxEntry.created_at)).where(
            OutboxEntry.status == OutboxStatus.PENDING
        )
    ).one()
    dead = db.session.scalar(select(func.count(OutboxEntry.id)).where(OutboxEntry.status == OutboxStatus.DEAD))
    return {
        "pending": pending or 0,
        "dead": dead or 0,
        "oldest_pending_age_seconds": round((now - oldest).total_seconds(), 1) if oldest is not None else None,
    }


def entries(status: OutboxStatus, limit: int = 200) -> list[OutboxEntry]:
    return list(
        db.session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.status == status)
            .order_by(OutboxEntry.created_at, OutboxEntry.id)
            .limit(limit)
        )
    )


class OutboxError(DomainError):
    pass


def _entry_for(actor: User, entry_id: int) -> OutboxEntry:
    if not permissions.is_admin(actor):
        raise OutboxError(_("Alleen een beheerder mag de wachtrij beheren."), code="not_allowed")
    entry = db.session.scalar(select(OutboxEntry).where(OutboxEntry.id == entry_id).with_for_update())
    if entry is None or entry.status == OutboxStatus.DONE:
        raise OutboxError(_("Dit bericht staat niet (meer) in de wachtrij."), code="not_found")
    return entry


def retry_entry(actor: User, entry_id: int) -> OutboxEntry:
    """A dead (or waiting) entry is tried again at once, with a fresh count of attempts."""
    entry = _entry_for(actor, entry_id)
    entry.status, entry.attempts, entry.next_attempt_at = OutboxStatus.PENDING, 0, utcnow()
    db.session.flush()
    log.info(
        "outbox entry %s (%s) retried by user %s",
        entry.id,
        entry.kind,
        actor.id,
        extra={"event": "outbox_retry", "outbox_id": entry.id},
    )
    return entry


def discard_entry(actor: User, entry_id: int) -> OutboxEntry:
    """The administrator gives up on an entry: it is kept (discarded) but no longer tried or counted."""
    entry = _entry_for(actor, entry_id)
    entry.status, entry.done_at = OutboxStatus.DISCARDED, utcnow()
    entry.last_error = (entry.last_error + "\n" if entry.last_error else "") + f"discarded by user {actor.id}"
    if entry.kind == OutboxKind.REPLAN.value and "#" not in entry.key:
        entry.key = f"{entry.key}#{entry.id}"  # a later change of the session queues a new re-plan
    db.session.flush()
    log.info(
        "outbox entry %s (%s) discarded by user %s",
        entry.id,
        entry.kind,
        actor.id,
        extra={"event": "outbox_discard", "outbox_id": entry.id},
    )
    return entry
