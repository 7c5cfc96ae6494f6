"""The health report behind /health.

``/health`` answers whether this web node can serve: 200 when the database answers,
503 when it does not. A dead scheduler does not take a web node out of a load balancer
(the web node serves fine without it): the answer says ``"status": "degraded"`` and
stays 200. The outbox's queue depth, the age of its oldest pending entry and its dead
letters are in the answer; dead letters, or an entry waiting longer than
OUTBOX_ALERT_AGE_SECONDS (no worker running, or the mail server away), make it degraded
too. Monitoring that should alert on these asks ``/health?full=1``, which answers 503
for degraded too. Nothing secret is in the answer: no database
address, no error text.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import text

from app.extensions import db

log = logging.getLogger(__name__)


def health_report(full: bool = False) -> tuple[dict, int]:
    database = _database_ok()
    scheduler: dict = {"alive": None, "last_heartbeat_at": None}
    if database:
        from app.scheduler import last_heartbeat, scheduler_alive

        try:
            last = last_heartbeat()
            scheduler = {"alive": scheduler_alive(last=last), "last_heartbeat_at": last.isoformat() if last else None}
        except Exception as exc:
            db.session.rollback()
            log.warning("health: scheduler heartbeat could not be read (%s)", exc.__class__.__name__)
            scheduler = {"alive": False, "last_heartbeat_at": None}
    outbox: dict = {"pending": None, "oldest_pending_age_seconds": None, "dead": None}
    if database:
        from app.outbox.services import queue_stats

        try:
            outbox = queue_stats()
        except Exception as exc:
            db.session.rollback()
            log.warning("health: outbox could not be read (%s)", exc.__class__.__name__)
    outbox_late = bool(outbox["dead"]) or (outbox["oldest_pending_age_seconds"] or 0) > current_app.config.get(
        "OUTBOX_ALERT_AGE_SECONDS", 900
    )
    if not database:
        status = "error"
    elif not scheduler["alive"] or outbox_late:
        status = "degraded"
    else:
        status = "ok"
    code = 503 if status == "error" or (full and status != "ok") else 200
    return {
        "status": status,
        "database": database,
        "scheduler": scheduler,
        "outbox": outbox,
        "version": current_app.config["APP_VERSION"],
    }, code


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        # one short line: a load balancer asks every few seconds during an outage
        log.warning("health: database not reachable (%s)", exc.__class__.__name__)
        try:
            db.session.rollback()
        except Exception:
            pass
        return False
    finally:
        db.session.remove()
