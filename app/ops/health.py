"""The health report behind /health.

``/health`` answers whether this web node can serve: 200 when the database answers,
503 when it does not. A dead scheduler does not take a web node out of a load balancer
(the web node serves fine without it): the answer says ``"status": "degraded"`` and
stays 200. Monitoring that should alert on a dead scheduler asks ``/health?full=1``,
which answers 503 for degraded too. Nothing secret is in the answer: no database
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
            scheduler = {"alive": scheduler_alive(last=last),
                         "last_heartbeat_at": last.isoformat() if last else None}
        except Exception as exc:  # noqa: BLE001 — e.g. the job table is missing before the first migration
            db.session.rollback()
            log.warning("health: scheduler heartbeat could not be read (%s)", exc.__class__.__name__)
            scheduler = {"alive": False, "last_heartbeat_at": None}
    if not database:
        status = "error"
    elif not scheduler["alive"]:
        status = "degraded"
    else:
        status = "ok"
    code = 503 if status == "error" or (full and status != "ok") else 200
    return {"status": status, "database": database, "scheduler": scheduler,
            "version": current_app.config["APP_VERSION"]}, code


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # noqa: BLE001 — the answer is the health report
        # one short line: a load balancer asks every few seconds during an outage
        log.warning("health: database not reachable (%s)", exc.__class__.__name__)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001
            pass
        return False
    finally:
        db.session.remove()
