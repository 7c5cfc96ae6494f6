"""The JSON API (/api/v1): bearer tokens, problem+json errors, pagination, OpenAPI.

Each area adds its endpoints in a module of this package; a handler's input and output are
pydantic models (app.api.schemas) and its ``operation`` describes it, so
``/api/v1/openapi.json`` is made from the routes and their models. The request's unit of
work (app.unit_of_work) commits after a successful answer; a problem answer is rolled back.
"""

from __future__ import annotations

from functools import wraps
from importlib import import_module

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

API_MODULES = ["auth", "catalogue", "bookings", "rules", "transport", "reach"]


def api_user():
    """The user of the bearer token of this request, or None."""
    key = "techlab.api_user"
    if key not in request.environ:  # per request (g may outlive a request in tests)
        from app.auth.tokens import user_for_token

        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        request.environ[key] = user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
    return request.environ[key]


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        from app.errors import problem

        if api_user() is None:
            resp = problem(401, "unauthorized", "A valid bearer token is required.")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return resp
        return view(*args, **kwargs)

    wrapper.token_required = True
    return wrapper


@bp.errorhandler(DBAPIError)
def busy(exc: DBAPIError):
    """A lock timeout or serialization failure while a service works: 409, try again."""
    from app.errors import problem
    from app.extensions import db
    from app.unit_of_work import is_contention

    db.session.rollback()
    if not is_contention(exc):
        raise exc  # a server error (app.errors)
    return problem(409, "busy", "The session is busy; try again.")


_modules = [import_module(f"app.api.{_name}") for _name in API_MODULES]


INFO = {
    "title": "Techlab booking platform API",
    "version": "1.0.0",
    "description": "Bookings of techlabs, hotspots and masterclasses for primary schools.",
}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document, made from the routes and their models once per app and page size limit."""
    from app.api.schemas import openapi_document

    cache = current_app.extensions.setdefault("techlab.openapi", {})
    key = current_app.config["API_PAGE_SIZE_MAX"]
    if key not in cache:
        cache[key] = openapi_document(current_app, bp.url_prefix, INFO)
    return jsonify(cache[key])
