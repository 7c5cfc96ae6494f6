"""The locking primitives every area shares (booking, labs, transport, outbox).

Scarce rows are locked on PostgreSQL with SELECT … FOR UPDATE under a lock timeout; on
SQLite every transaction already holds the database's write lock from its first statement
(BEGIN IMMEDIATE, see app/__init__.py). ``BOOKING_LOCKING = False`` switches row locks off:
only the control tests do that, to show the races the locks guard against.
"""

from __future__ import annotations

from flask import current_app
from app.extensions import db


def locking_enabled() -> bool:
    return bool(current_app.config.get("BOOKING_LOCKING", True))


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def set_lock_timeout(config_key: str = "LOCK_TIMEOUT_MS", default_ms: int = 5000) -> None:
    """SET LOCAL lock_timeout from the config (it lasts until the commit or rollback); a
    statement only when this transaction does not have that timeout yet. No-op on SQLite."""
    if not is_postgres():
        return
    ms = int(current_app.config.get(config_key, default_ms))
    transaction = db.session().get_transaction()
    if transaction is not None and db.session.info.get("lock_timeout_set") == (transaction, ms):
        return
    db.session.connection().exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")  # no statement compilation
    db.session.info["lock_timeout_set"] = (db.session().get_transaction(), ms)
