"""API: offers, sessions, venues and schools of the caller's region."""

from __future__ import annotations

from datetime import datetime, time

from flask import abort, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import (
    ID_SCHEMA,
    PAGE_PARAMS,
    api_user,
    bp,
    int_param,
    page_of,
    paginate,
    problem_responses,
    token_required,
)
from app.api.serializers import SCHEMAS as SHAPES
from app.api.serializers import offer_json, school_json, session_json, venue_json
from app.auth import permissions
from app.auth.models import Region
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inputs import MAX_DATE, MIN_DATE, in_date_range, parse_date
from app.labs.models import Offer, OfferKind, Session, Venue, World
from app.schools.enrolment import enrolment_by_groep
from app.schools.models import School
from app.timeutil import LOCAL_TZ, school_year_of


def _region_filter(column):
    """The caller's region; an administrator may pass ?region=<code> (or sees all)."""
    user = api_user()
    if permissions.is_admin(user):
        code = request.args.get("region")
        if not code:
            return []
        region_id = db.session.scalar(select(Region.id).where(Region.code == code))
        if region_id is None:
            raise DomainError(f"Unknown region {code!r}.", code="invalid_parameter", field="region")
        return [column == region_id]
    return [column == user.region_id]


def _enum_param(name, enum_cls):
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        raise DomainError(
            f"{name} must be one of: {', '.join(e.value for e in enum_cls)}.", code="invalid_parameter", field=name
        ) from None


def _datetime_param(name, end_of_day=False):
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            d = parse_date(raw)
            return datetime.combine(d, time.max if end_of_day else time.min, tzinfo=LOCAL_TZ)
        value = datetime.fromisoformat(raw)
        if not in_date_range(value):
            raise ValueError(name)
    except ValueError:
        raise DomainError(
            f"{name} must be an ISO date or date-time in the years {MIN_DATE.year}-{MAX_DATE.year}.",
            code="invalid_parameter",
            field=name,
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


def _visible(obj, check=permissions.can_view):
    user = api_user()
    if obj is None or not permissions.same_region(user, obj):
        abort(404)
    return obj


@bp.get("/offers")
@token_required
def list_offers():
    stmt = (
        select(Offer)
        .where(Offer.published.is_(True), *_region_filter(Offer.region_id))
        .options(selectinload(Offer.parts), selectinload(Offer.venue))
        .order_by(Offer.title, Offer.id)
    )
    groep = int_param("groep", 1, 8)
    if groep is not None:
        stmt = stmt.where(Offer.groep_min <= groep, Offer.groep_max >= groep)
    if (world := _enum_param("world", World)) is not None:
        stmt = stmt.where(Offer.world == world)
    if (kind := _enum_param("kind", OfferKind)) is not None:
        stmt = stmt.where(Offer.kind == kind)
    if (venue := int_param("venue")) is not None:
        stmt = stmt.where(Offer.venue_id == venue)
    return paginate(stmt, lambda rows: [offer_json(o) for o in rows])


@bp.get("/offers/<int:offer_id>")
@token_required
def get_offer(offer_id):
    offer = _visible(db.session.get(Offer, offer_id))
    if not offer.published and not permissions.can_manage_offer(api_user(), offer):
        abort(404)
    return jsonify(offer_json(offer))


@bp.get("/sessions")
@token_required
def list_sessions():
    stmt = (
        select(Session)
        .join(Offer, Session.offer_id == Offer.id)
        .where(Offer.published.is_(True), *_region_filter(Offer.region_id))
        .options(selectinload(Session.offer), selectinload(Session.venue), selectinload(Session.part))
        .order_by(Session.starts_at, Session.id)
    )
    if (offer := int_param("offer")) is not None:
        stmt = stmt.where(Session.offer_id == offer)
    if (venue := int_param("venue")) is not None:
        stmt = stmt.where(Session.venue_id == venue)
    if (start := _datetime_param("from")) is not None:
        stmt = stmt.where(Session.starts_at >= start)
    if (end := _datetime_param("to", end_of_day=True)) is not None:
        stmt = stmt.where(Session.starts_at <= end)
    now = utcnow()
    return paginate(stmt, lambda rows: [session_json(s, now) for s in rows])


@bp.get("/sessions/<int:session_id>")
@token_required
def get_session(session_id):
    return jsonify(session_json(_visible(db.session.get(Session, session_id))))


@bp.get("/venues")
@token_required
def list_venues():
    stmt = select(Venue).where(Venue.active.is_(True), *_region_filter(Venue.region_id)).order_by(Venue.name, Venue.id)
    return paginate(stmt, lambda rows: [venue_json(v) for v in rows])


@bp.get("/venues/<int:venue_id>")
@token_required
def get_venue(venue_id):
    return jsonify(venue_json(_visible(db.session.get(Venue, venue_id))))


def _schools_json(rows):
    year = school_year_of(utcnow())
    enrol = enrolment_by_groep([s.id for s in rows], year)
    if not enrol and rows:  # DUO publishes after 1 October: fall back to last year's count
        year -= 1
        enrol = enrolment_by_groep([s.id for s in rows], year)
    return [school_json(s, enrol.get(s.id, []), year) for s in rows]


@bp.get("/schools")
@token_required
def list_schools():
    stmt = select(School).where(*_region_filter(School.region_id)).order_by(School.name, School.id)
    if q := request.args.get("q", "").strip()[:100]:
        stmt = stmt.where(db.func.lower(School.name).like(f"%{q.lower()}%") | (School.location_code == q.upper()))
    if municipality := request.args.get("municipality", "").strip():
        stmt = stmt.where(School.municipality_code == municipality.zfill(4)[:4])
    return paginate(stmt, _schools_json)


@bp.get("/schools/<int:school_id>")
@token_required
def get_school(school_id):
    school = _visible(db.session.get(School, school_id))
    return jsonify(_schools_json([school])[0])


def _list(summary, ref, params=()):
    return {
        "get": {
            "summary": summary,
            "parameters": list(params) + PAGE_PARAMS,
            "responses": {
                "200": {
                    "description": "A page",
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}Page"}}},
                },
                **problem_responses(400, 401, 422),
            },
        }
    }


def _one(summary, ref, param):
    return {
        "get": {
            "summary": summary,
            "parameters": [{"name": param, "in": "path", "required": True, "schema": ID_SCHEMA}],
            "responses": {
                "200": {
                    "description": ref,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
                },
                **problem_responses(401, 404),
            },
        }
    }


def _q(name, schema, description=""):
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


DATE_OR_DATETIME = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}
REGION_PARAM = _q("region", {"type": "string"}, "Region code (administrators only).")
PATHS = {
    "/offers": _list(
        "Published offers of your region",
        "Offer",
        [
            _q("groep", {"type": "integer", "minimum": 1, "maximum": 8}),
            _q("world", {"type": "string", "enum": [w.value for w in World]}),
            _q("kind", {"type": "string", "enum": [k.value for k in OfferKind]}),
            _q("venue", ID_SCHEMA),
            REGION_PARAM,
        ],
    ),
    "/offers/{offer_id}": _one("One offer", "Offer", "offer_id"),
    "/sessions": _list(
        "Sessions with capacity, booked and available places",
        "Session",
        [
            _q("offer", ID_SCHEMA),
            _q("venue", ID_SCHEMA),
            _q("from", DATE_OR_DATETIME, "ISO date or date-time"),
            _q("to", DATE_OR_DATETIME, "ISO date or date-time"),
            REGION_PARAM,
        ],
    ),
    "/sessions/{session_id}": _one("One session", "Session", "session_id"),
    "/venues": _list("Venues of your region", "Venue", [REGION_PARAM]),
    "/venues/{venue_id}": _one("One venue", "Venue", "venue_id"),
    "/schools": _list(
        "Schools of your region, with enrolment per groep",
        "School",
        [_q("q", {"type": "string"}), _q("municipality", {"type": "string"}), REGION_PARAM],
    ),
    "/schools/{school_id}": _one("One school", "School", "school_id"),
}
SCHEMAS = dict(SHAPES)
for _name in ("Offer", "Session", "Venue", "School"):
    SCHEMAS[f"{_name}Page"] = page_of(_name)
