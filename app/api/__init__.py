"""The JSON API (/api/v1): bearer tokens, problem+json errors, pagination, OpenAPI.

Each area adds its endpoints in a module of this package and describes them in that
module's ``PATHS`` (OpenAPI path items) and ``SCHEMAS``; ``/api/v1/openapi.json``
merges them.
"""

from __future__ import annotations

from functools import wraps
from importlib import import_module

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import func, select

from app.extensions import csrf, db

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

    return wrapper


def json_body() -> dict:
    """The request's JSON object, or a 400/415 problem."""
    from app.errors import DomainError

    if not request.is_json:
        err = DomainError("Send a JSON object with Content-Type: application/json.", code="unsupported_media_type")
        err.status = 415
        raise err
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        err = DomainError("The request body must be a JSON object.", code="bad_request")
        err.status = 400
        raise err
    return data


def int_param(name: str, lo: int = 1, hi: int | None = None) -> int | None:
    """A whole-number query parameter (an id unless lo/hi say otherwise), None when absent;
    anything else is a 422 problem naming the parameter."""
    from app.db import MAX_ID
    from app.errors import DomainError

    hi = MAX_ID if hi is None else hi
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise DomainError(f"{name} must be a whole number.", code="invalid_parameter", field=name) from None
    if not lo <= value <= hi:
        raise DomainError(f"{name} is out of range.", code="invalid_parameter", field=name)
    return value


def paginate(stmt, serialize, *, default_size: int = 50):
    """Run a select with ?page= and ?per_page=; answer {items, page, per_page, total, next}."""
    from flask import current_app

    from app.errors import DomainError

    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", default_size))
    except ValueError:
        raise DomainError("page and per_page must be whole numbers.", code="invalid_parameter") from None
    max_size = current_app.config["API_PAGE_SIZE_MAX"]
    if page < 1 or per_page < 1 or per_page > max_size or page > 1_000_000:
        raise DomainError(f"page must be >= 1 and per_page between 1 and {max_size}.", code="invalid_parameter")
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    items = serialize(rows)
    nxt = None
    if page * per_page < total:
        args = request.args.to_dict()
        args.update(page=page + 1, per_page=per_page)
        nxt = url_for(request.endpoint, **(request.view_args or {}), **args)
    return jsonify({"items": items, "page": page, "per_page": per_page, "total": total, "next": nxt})


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
    },
}


def problem_responses(*statuses: int) -> dict:
    return {
        str(s): {
            "description": "Problem",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


# Schemas of parameters and fields, as the code checks them.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
SCHOOL_YEAR_SCHEMA = {
    "type": "integer",
    "minimum": 2000,
    "maximum": 2100,
    "description": "the calendar year in which the school year starts (2026 = 2026/27)",
}
PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]


def page_of(ref: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "next": {"type": ["string", "null"]},
        },
    }


_modules = [import_module(f"app.api.{_name}") for _name in API_MODULES]


@bp.get("/openapi.json")
def openapi():
    paths: dict = {}
    schemas: dict = {"Problem": PROBLEM_SCHEMA}
    for mod in _modules:
        for path, item in getattr(mod, "PATHS", {}).items():
            paths.setdefault(path, {}).update(item)
        schemas.update(getattr(mod, "SCHEMAS", {}))
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "Techlab booking platform API",
            "version": "1.0.0",
            "description": "Bookings of techlabs, hotspots and masterclasses for primary schools.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
    return jsonify(doc)
