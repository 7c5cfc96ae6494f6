"""The locking primitives every area shares (booking, labs, transport, outbox).

Scarce rows are locked on PostgreSQL with SELECT … FOR UPDATE under a lock timeout; on
SQLite every transaction already holds the database's write lock from its first statement
(BEGIN IMMEDIATE, see app/__init__.py). ``BOOKING_LOCKING = False`` switches row locks off:
only the control tests do that, to show the races the locks guard against.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import bindparam, func

from app.extensions import db


def locking_enabled() -> bool:
    return bool(current_app.config.get("BOOKING_LOCKING", True))


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _lock_timeout_ms(config_key: str = "LOCK_TIMEOUT_MS", default_ms: int = 5000) -> int:
    return int(current_app.config.get(config_key, default_ms))


def _has_lock_timeout(ms: int) -> bool:
    transaction = db.session().get_transaction()
    return transaction is not None and db.session.info.get("lock_timeout_set") == (transaction, ms)


def _mark_lock_timeout(ms: int) -> None:
    db.session.info["lock_timeout_set"] = (db.session().get_transaction(), ms)


def set_lock_timeout(config_key: str = "LOCK_TIMEOUT_MS", default_ms: int = 5000) -> None:
    """SET LOCAL lock_timeout from the config (it lasts until the commit or rollback); a
    statement only when this transaction does not have that timeout yet. No-op on SQLite."""
    if not is_postgres():
        return
    ms = _lock_timeout_ms(config_key, default_ms)
    if _has_lock_timeout(ms):
        return
    db.session.connection().exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")  # no statement compilation
    _mark_lock_timeout(ms)


# The hot locks (a school, the sessions of a booking) set the lock timeout in their own
# statement rather than in a SET LOCAL round trip before it: set_config(…, is_local => true)
# in the WHERE clause is evaluated by the scan, below the plan's LockRows node, so the
# transaction has the timeout before the statement waits for a row lock (a row it returns
# has passed every condition, that one included). Same effect as SET LOCAL, one round trip less.
SETS_LOCK_TIMEOUT = func.set_config("lock_timeout", bindparam("lock_timeout"), True).is_not(None)


def lock_timeout_params(params: dict) -> dict:
    """``params`` for a statement with SETS_LOCK_TIMEOUT in its WHERE clause (PostgreSQL)."""
    return {**params, "lock_timeout": f"{_lock_timeout_ms()}ms"}


def lock_timeout_was_set(rows_returned: bool) -> None:
    """After a statement with SETS_LOCK_TIMEOUT: a row returned means the condition ran, so the
    transaction has the timeout (a later set_lock_timeout sends nothing); no row, no claim."""
    if rows_returned:
        _mark_lock_timeout(_lock_timeout_ms())
