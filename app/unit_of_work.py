"""One unit of work per request: the request's changes are committed in one place.

A handler parses, calls the domain service and renders; it does not commit. When the view
returns a successful answer (status below 400), ``UnitOfWorkFlask.dispatch_request`` commits
the session, still inside Flask's error handling: a conflict found at the commit (a unique
index, a serialization failure, a lock timeout) is answered like a domain error, 409, with the
transaction rolled back. A 4xx or 5xx answer is rolled back at once, and an exception leaves the
session to be rolled back when the request ends, so nothing half-written stays. This is Indico's ``RH``
discipline (process, then commit once), on Flask's own dispatch.
"""

from __future__ import annotations

from typing import Callable

from flask import Flask, Response, request
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


# per request (the WSGI environ: tests may share one app context between requests)
_AFTER_COMMIT, _AFTER_ROLLBACK, _COMMITTED = "techlab.after_commit", "techlab.after_rollback", "techlab.committed"


def after_commit(fn: Callable[[], None]) -> None:
    """Run ``fn`` once this request's transaction is committed (an irreversible step that must
    follow the commit, such as removing a file whose row was deleted); never when it is not."""
    request.environ.setdefault(_AFTER_COMMIT, []).append(fn)


def after_rollback(fn: Callable[[], None]) -> None:
    """Run ``fn`` when this request ends without committing (undo a step outside the database,
    such as a stored upload whose row is not kept)."""
    request.environ.setdefault(_AFTER_ROLLBACK, []).append(fn)


def rollback_request() -> None:
    """Roll the request's transaction back (a refused service call): the steps registered for its
    commit are dropped and those registered for a rollback run now."""
    from app.extensions import db

    db.session.rollback()
    request.environ.pop(_AFTER_COMMIT, None)
    for fn in request.environ.pop(_AFTER_ROLLBACK, []):
        fn()


class UnitOfWorkFlask(Flask):
    def dispatch_request(self):
        rv = super().dispatch_request()
        if _status(rv) < 400 and not (isinstance(rv, Response) and rv.is_streamed):
            # a streamed answer (a CSV export) reads while it is sent: its cursor lives in this
            # transaction, which the request's teardown ends; exports write nothing
            commit_request()
            request.environ[_COMMITTED] = True
            for fn in request.environ.pop(_AFTER_COMMIT, []):
                fn()
        elif _status(rv) >= 400:
            rollback_request()  # now, not only when the app context ends (tests keep one open)
        return rv

    def do_teardown_request(self, *args, **kwargs):
        if not request.environ.get(_COMMITTED):
            for fn in request.environ.pop(_AFTER_ROLLBACK, []):
                fn()
        return super().do_teardown_request(*args, **kwargs)
