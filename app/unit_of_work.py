"""One unit of work per request: the request's changes are committed in one place.

A handler parses, calls the domain service and renders; it does not commit. When the view
returns a successful answer (status below 400), ``UnitOfWorkFlask.dispatch_request`` commits
the session, still inside Flask's error handling: a conflict found at the commit (a unique
index, a serialization failure, a lock timeout) is answered like a domain error, 409, with the
transaction rolled back. Any other answer (4xx, an exception) leaves the session to be rolled
back when the request ends, so nothing half-written stays. This is Indico's ``RH``
discipline (process, then commit once), on Flask's own dispatch.
"""

from __future__ import annotations

from flask import Flask, Response
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.errors import ConflictError


def _status(rv) -> int:
    if isinstance(rv, Response):
        return rv.status_code
    if isinstance(rv, tuple) and len(rv) >= 2 and isinstance(rv[1], int):
        return rv[1]
    return 200


def commit_request() -> None:
    """Commit the request's transaction; a conflict the database found becomes a ConflictError."""
    from app.extensions import db

    if not db.session().in_transaction():
        return
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(_("Iemand anders was u net voor. Probeer het opnieuw."), code="conflict") from None
    except DBAPIError as exc:
        db.session.rollback()
        if not is_contention(exc):
            raise
        raise ConflictError(_("Het is even druk. Probeer het opnieuw."), code="busy") from None


# lock_not_available, serialization_failure, deadlock_detected
_CONTENTION_SQLSTATES = {"55P03", "40001", "40P01"}


def is_contention(exc: DBAPIError) -> bool:
    """A lock timeout, serialization failure or deadlock (PostgreSQL) or a busy database
    (SQLite): trying again later can succeed."""
    if getattr(exc.orig, "sqlstate", None) in _CONTENTION_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig).lower()


class UnitOfWorkFlask(Flask):
    def dispatch_request(self):
        rv = super().dispatch_request()
        if _status(rv) < 400 and not (isinstance(rv, Response) and rv.is_streamed):
            # a streamed answer (a CSV export) reads while it is sent: its cursor lives in this
            # transaction, which the request's teardown ends; exports write nothing
            commit_request()
        return rv
