"""Typed domain errors, and how the web answers errors (pages and problem+json)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A rule refused an action. ``code`` is stable (API), ``message`` is for people.

    ``field`` names the form field the error belongs to, when there is one.
    """

    status = 422
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.extra = extra


class NotFoundError(DomainError):
    status = 404
    code = "not_found"


class PermissionDeniedError(DomainError):
    status = 403
    code = "forbidden"


class ConflictError(DomainError):
    status = 409
    code = "conflict"


def problem(status: int, code: str, detail: str, title: str | None = None, **extra):
    body = {
        "type": "about:blank",
        "title": title or _http_title(status),
        "status": status,
        "code": code,
        "detail": detail,
    }
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


def _http_title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if wants_problem_json():
            return problem(status, _HTTP_CODES.get(status, "error"), exc.description or _http_title(status))
        return render_template("errors/error.html", status=status, message=_page_message(status)), status

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_problem_json():
            extra = {"field": exc.field} if exc.field else {}
            extra.update(exc.extra)
            return problem(exc.status, exc.code, exc.message, **extra)
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        from sqlalchemy.exc import DBAPIError

        from app.extensions import db
        from app.unit_of_work import is_contention

        if isinstance(exc, DBAPIError) and is_contention(exc):
            # a lock timeout (or deadlock) met by a statement of any handler is the database
            # being busy, as at the commit (app.unit_of_work): 409, try again; not a 500
            db.session.rollback()
            return domain_error(ConflictError(_("Het is even druk. Probeer het opnieuw."), code="busy"))
        app.logger.exception("unhandled error")
        db.session.rollback()  # the error page must not meet the failed transaction (PendingRollbackError)
        if wants_problem_json():
            return problem(500, "server_error", "An unexpected error occurred.")
        return render_template("errors/error.html", status=500, message=_page_message(500)), 500


def _page_message(status: int) -> str:
    return {
        400: _("Het verzoek klopt niet."),
        401: _("U moet eerst inloggen."),
        403: _("U heeft geen toegang tot deze pagina."),
        404: _("Deze pagina bestaat niet (meer)."),
        405: _("Deze actie is hier niet mogelijk."),
        413: _("Wat u stuurde is te groot. Er is niets opgeslagen."),
        429: _("Te veel pogingen. Probeer het later opnieuw."),
        500: _("Er ging iets mis aan onze kant. Probeer het later opnieuw."),
    }.get(status, _("Er ging iets mis."))
