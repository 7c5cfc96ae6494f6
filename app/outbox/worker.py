"""The outbox worker: delivers entries at least once, with retries, backoff and dead letters.

It runs as a process of its own, ``flask --app wsgi outbox work`` (``--once``: drain what
is due and exit); one per machine is enough, several are safe on PostgreSQL.

A batch of due entries is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL;
on SQLite the write lock, taken first by every transaction, makes one worker at a time):

* **mail**: each message is built and sent, and its row marked done, in the transaction
  that claimed it. A row marked done is never sent again; a crash after sending but
  before the commit sends it once more with the same Message-ID (derived from the key),
  which is the "at least once" half. A message that cannot be built (a line break in a
  header, say) or that the server refuses for good (5xx) is a dead letter at once; the
  others of the batch are still sent. A connection failure counts an attempt for each
  entry left and schedules the next one with exponential backoff.
* **replan**: the claim (a short transaction before the mail's) renames the key
  (``replan:<id>`` → ``replan:<id>#<entry id>``) and commits, so a change during the
  planning queues a fresh entry instead of being folded into a plan that did not see it;
  the planning then runs in a unit of work of its own and marks the entry done. A crash
  in between leaves the entry pending, due again after LEASE_SECONDS. The claimed re-plans
  run before the batch's mail is claimed: a booking notice that names the sessions it
  waits for (``after_replan``: a confirmation, say) is rendered after their plan, so it
  carries the bus; while such a session's re-plan is still pending (another worker, a
  failure) the notice waits, at most OUTBOX_MAIL_WAITS_FOR_PLAN_SECONDS.

After OUTBOX_MAX_ATTEMPTS failures an entry is dead (logged as an error); the
administrator retries or discards it on /regiobeheer/wachtrij.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.locking import is_postgres
from app.outbox.models import OutboxEntry, OutboxKind, OutboxStatus

log = logging.getLogger(__name__)
LEASE_SECONDS = 300  # a claimed re-plan not finished after this long is tried again


def backoff(attempts: int) -> timedelta:
    cfg = current_app.config
    return timedelta(
        seconds=min(cfg["OUTBOX_RETRY_SECONDS"] * 2 ** max(0, attempts - 1), cfg["OUTBOX_RETRY_MAX_SECONDS"])
    )


def _done(entry: OutboxEntry, now: datetime) -> None:
    entry.status, entry.done_at = OutboxStatus.DONE, now
    entry.attempts += 1


def _dead(entry: OutboxEntry, error: str, now: datetime) -> None:
    entry.attempts += 1
    entry.status, entry.last_error, entry.next_attempt_at = OutboxStatus.DEAD, error[:2000], now
    log.error(
        "outbox entry %s (%s) is a dead letter after %d attempt(s): %s",
        entry.id,
        entry.kind,
        entry.attempts,
        error[:300],
        extra={"event": "outbox_dead", "outbox_id": entry.id, "request_id_of_entry": entry.request_id},
    )


def _failed(entry: OutboxEntry, error: str, now: datetime) -> None:
    if entry.attempts + 1 >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        _dead(entry, error, now)
        return
    entry.attempts += 1
    entry.last_error, entry.next_attempt_at = error[:2000], now + backoff(entry.attempts)
    log.warning(
        "outbox entry %s (%s) failed (attempt %d), next at %s: %s",
        entry.id,
        entry.kind,
        entry.attempts,
        entry.next_attempt_at.isoformat(),
        error[:300],
        extra={"event": "outbox_retry_later", "outbox_id": entry.id},
    )


def _describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def _permanent(exc: smtplib.SMTPException) -> bool:
    """The server refused for good (5xx), not for now (4xx): trying again will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _mail_of(entry: OutboxEntry):
    """The mail of an entry: as queued (subject and body), or a booking notice rendered now."""
    from app.mail import Mail

    if "template" in entry.payload:
        from app.booking.notify import render

        return render(entry.payload, entry.request_id)
    return Mail.from_payload(entry.payload, entry.request_id)


def _deliver_mails(rows: list[OutboxEntry], now: datetime) -> None:
    from app.mail import Transport, build_message, message_id

    sender = current_app.config["MAIL_FROM"]
    built = []
    for entry in rows:
        try:
            built.append((entry, build_message(_mail_of(entry), sender, message_id(entry.key))))
        except Exception as exc:
            _dead(entry, "cannot build the message: " + _describe(exc), now)
    if not built:
        return
    handled: set[int] = set()
    try:
        with Transport() as transport:
            for _n, (entry, msg) in enumerate(built):
                try:
                    transport.send(msg)
                except (smtplib.SMTPServerDisconnected, OSError):
                    raise
                except smtplib.SMTPException as exc:
                    handled.add(entry.id)
                    (_dead if _permanent(exc) else _failed)(entry, _describe(exc), now)
                    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421:
                        raise
                    continue
                except Exception as exc:
                    handled.add(entry.id)
                    _dead(entry, "cannot send the message: " + _describe(exc), now)
                    continue
                handled.add(entry.id)
                _done(entry, now)
    except (OSError, smtplib.SMTPException) as exc:  # the server is away: every mail not yet sent waits
        for entry, _msg in built:
            if entry.id not in handled:
                _failed(entry, _describe(exc), now)


def _claim(now: datetime, batch: int, claim: bool, *, replans: bool) -> list[OutboxEntry]:
    kind = OutboxEntry.kind == OutboxKind.REPLAN.value
    stmt = (
        select(OutboxEntry)
        .where(
            OutboxEntry.status == OutboxStatus.PENDING, OutboxEntry.next_attempt_at <= now, kind if replans else ~kind
        )
        .order_by(OutboxEntry.next_attempt_at, OutboxEntry.id)
        .limit(batch)
    )
    if claim and is_postgres():
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.session.scalars(stmt))


def deliver_batch(now: datetime | None = None, *, batch: int | None = None, claim: bool = True) -> int:
    """Deliver one batch of due entries; the number of entries handled (0: nothing due).

    ``claim=False`` reads without claiming the rows: only the control test does that, to
    show that two workers would then send the same mail twice."""
    now = now or utcnow()
    batch = batch or current_app.config["OUTBOX_BATCH"]
    # re-plans first, in a short transaction of their own: a booking that queues a re-plan of
    # the same session meets the renamed key at once, never a row locked while mail is sent
    replans = _claim(now, batch, claim, replans=True)
    for e in replans:
        if "#" not in e.key:
            e.key = f"{e.key}#{e.id}"
        e.next_attempt_at = now + timedelta(seconds=LEASE_SECONDS)
    replan_ids = [e.id for e in replans]
    db.session.commit()
    # the re-plans run before the mail is claimed: a booking's confirmation queued with its
    # session's re-plan is rendered once the plan is made, and so carries the bus
    for entry_id in replan_ids:
        _replan(entry_id, now)
    rows = _claim(now, batch, claim, replans=False)
    rows = _defer_waiting(rows, now)
    barrier = current_app.config.get("OUTBOX_TEST_BARRIER")
    if barrier is not None:  # test seam: concurrent workers meet after claiming
        barrier.wait(timeout=30)
    for e in rows:
        if e.kind != OutboxKind.MAIL.value:
            _dead(e, f"unknown kind {e.kind!r}", now)
    mails = [e for e in rows if e.kind == OutboxKind.MAIL.value]
    if mails:
        _deliver_mails(mails, now)
    db.session.commit()
    return len(replan_ids) + len(rows)


def _defer_waiting(rows: list[OutboxEntry], now: datetime) -> list[OutboxEntry]:
    """Leave out (and look again a little later) the booking notices whose session still waits
    for its re-plan, elsewhere or after a failure, for up to OUTBOX_MAIL_WAITS_FOR_PLAN_SECONDS;
    after that the notice goes as it is ("bus: wordt gepland")."""
    waiting = [e for e in rows if e.kind == OutboxKind.MAIL.value and (e.payload or {}).get("after_replan")]
    if not waiting:
        return rows
    from app.outbox.services import pending_replans

    pending = pending_replans()
    limit = timedelta(seconds=current_app.config["OUTBOX_MAIL_WAITS_FOR_PLAN_SECONDS"])
    out = []
    for e in rows:
        sessions = set((e.payload or {}).get("after_replan") or ())
        created = e.created_at if e.created_at.tzinfo else e.created_at.replace(tzinfo=now.tzinfo)
        if sessions & pending and now - created < limit:
            e.next_attempt_at = min(created + limit, now + timedelta(seconds=5))
            continue
        out.append(e)
    return out


def _replan(entry_id: int, now: datetime) -> None:
    from app.transport.jobs import replan_sessions

    entry = db.session.get(OutboxEntry, entry_id)
    sid, moved = int(entry.payload["session_id"]), bool(entry.payload.get("moved"))
    db.session.commit()
    try:
        result = replan_sessions([sid], moved={sid} if moved else set()).get(sid)
        error = "planning failed (see the log)" if result == "stale" else None
    except Exception as exc:
        db.session.rollback()
        log.exception("re-planning session %s failed", sid)
        error = _describe(exc)
    entry = db.session.get(OutboxEntry, entry_id, populate_existing=True)
    if entry is None or entry.status != OutboxStatus.PENDING:
        db.session.commit()
        return
    if error is None:
        _done(entry, utcnow())
    else:
        _failed(entry, error, utcnow())
    db.session.commit()


def drain(now: datetime | None = None, *, max_batches: int = 1000) -> int:
    """Deliver everything due now (tests, ``--once``); the number of entries handled."""
    total = 0
    for _ in range(max_batches):
        n = deliver_batch(now)
        if not n:
            break
        total += n
    return total


def work(*, stop=None) -> None:
    """The worker loop: deliver due entries, sleep OUTBOX_POLL_SECONDS when nothing is due.
    ``stop``: a threading.Event that ends the loop (a test's or the development server's thread)."""
    poll = current_app.config["OUTBOX_POLL_SECONDS"]
    while stop is None or not stop.is_set():
        try:
            n = deliver_batch()
        except Exception:
            db.session.rollback()
            log.exception("outbox worker: a batch failed", extra={"event": "outbox_error"})
            n = 0
        finally:
            db.session.remove()
        if not n:
            if stop is not None:
                stop.wait(poll)
            else:
                time.sleep(poll)


def start_thread(app, stop) -> threading.Thread:
    """The worker in a daemon thread of this process (tests with a live server)."""

    def run():
        with app.app_context():
            work(stop=stop)

    thread = threading.Thread(target=run, name="outbox-worker", daemon=True)
    thread.start()
    return thread
