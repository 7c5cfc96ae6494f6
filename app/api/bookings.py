"""API: bookings and series bookings of the token holder."""

from __future__ import annotations

from flask import abort, jsonify, url_for
from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import selectinload

from app.api import (
    ID_SCHEMA,
    PAGE_PARAMS,
    api_user,
    bp,
    json_body,
    page_of,
    paginate,
    problem_responses,
    token_required,
)
from app.api.serializers import iso, venue_ref
from app.auth import permissions
from app.booking import services
from app.booking.errors import InvalidInput
from app.booking.models import Booking, BookingStatus, SeriesBooking
from app.db import MAX_ID
from app.errors import ConflictError, DomainError
from app.extensions import db
from app.inputs import clean_name, email_problem, header_problem
from app.labs.models import Session


def booking_json(b: Booking) -> dict:
    s = b.session
    return {
        "id": b.id,
        "status": b.status.value,
        "session_id": b.session_id,
        "offer_id": s.offer_id,
        "series_id": b.series_id,
        "part": b.part_position,
        "school_id": b.school_id,
        "groep": b.groep_label,
        "pupils": b.pupils,
        "adults": b.adults,
        "contact_name": b.contact_name,
        "contact_email": b.contact_email,
        "remarks": b.remarks,
        "starts_at": iso(s.starts_at),
        "ends_at": iso(s.ends_at),
        "venue": venue_ref(s.venue),
        "title": s.offer.title,
        "created_at": iso(b.created_at),
        "cancelled_at": iso(b.cancelled_at),
        "sequence": b.sequence,
        "class_name": b.class_name,
        "offer_expires_at": iso(b.offer_expires_at),
        "waiting": _waiting(b),
    }


def _waiting(b: Booking):
    """For a waiting class: its place in the promotion order and what holds it back (rule, until)."""
    if b.status != BookingStatus.WAITLISTED:
        return None
    from app.booking.admission import waiting_info
    from app.db import utcnow

    return waiting_info(b, utcnow()).as_json()


def series_json(series: SeriesBooking) -> dict:
    return {
        "id": series.id,
        "offer_id": series.offer_id,
        "school_id": series.school_id,
        "status": series.status.value,
        "bookings": [booking_json(b) for b in series.bookings],
    }


def _whole(value):
    """JSON has numbers, not integers: 24.0 is the whole number 24 (as JSON Schema says)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _int(data, name, required=True, default=None):
    value = _whole(data.get(name, default))
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number.", field=name)
    return value


def _is_id(value) -> bool:
    value = _whole(value)
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _id(data, name):
    """An object id in the body; one that cannot exist is invalid input, not a database error."""
    value = _int(data, name)
    if not _is_id(value):
        raise InvalidInput(f"{name} is not an id.", field=name)
    return value


def _str(data, name, max_len):
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidInput(f"{name} must be a text of at most {max_len} characters.", field=name)
    return value


def _name(data, name, max_len):
    """A name that may end up in a mail header: normalised (app.inputs.clean_name), one line."""
    value = clean_name(_str(data, name, max_len))
    if header_problem(value):
        raise InvalidInput(f"{name} {header_problem(value)}.", field=name)
    return value


def _email(data, name):
    """An e-mail address (absent or empty: the token holder's own), exactly one, checked as the forms check it."""
    value = _str(data, name, 254).strip()
    if value and (problem := email_problem(value)):
        raise InvalidInput(f"{name} {problem}.", field=name)
    return value


def _details(data) -> services.ClassDetails:
    user = api_user()
    if not permissions.is_teacher(user):
        raise DomainError("Only a teacher's token can book for their school.", code="forbidden") from None
    groep = _whole(data.get("groep"))
    if isinstance(groep, int) and not isinstance(groep, bool):
        groep = str(groep)
    if not isinstance(groep, str):
        raise InvalidInput('groep must be a text like "7" or "7/8".', field="groep")
    return services.ClassDetails(
        school_id=user.school_id,
        groep=groep[:10],
        pupils=_int(data, "pupils"),
        adults=_int(data, "adults", default=0),
        contact_name=_name(data, "contact_name", 200),
        contact_email=_email(data, "contact_email"),
        remarks=_str(data, "remarks", 2000),
        girls=_int(data, "girls", required=False),
        boys=_int(data, "boys", required=False),
        class_name=_str(data, "class_name", 40),
    )


def _commit(keep: bool = False):
    """Commit the unit of work; the database's own guards answer 409, not 500.

    ``keep``: the objects keep their loaded values after the commit (no expiry), so the
    answer is serialized from what the service returned, without reloading it in a second
    transaction, and nothing is rendered while the service's locks are held."""
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = not keep and expire_on_commit
    try:
        session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError("A concurrent change conflicted; try again.", code="conflict") from None
    except DBAPIError as exc:
        db.session.rollback()
        if "lock" in str(exc.orig).lower():
            raise ConflictError("The session is busy; try again.", code="busy") from None
        raise
    finally:
        session.expire_on_commit = expire_on_commit


def _forbidden_as_problem(exc: DomainError):
    if exc.code == "forbidden":
        exc.status = 403
    raise exc


@bp.post("/bookings")
@token_required
def create_booking():
    data = json_body()
    try:
        details = _details(data)
        session_id = _id(data, "session_id")
        waitlist = data.get("waitlist", False)
        if not isinstance(waitlist, bool):
            raise InvalidInput("waitlist must be true or false.", field="waitlist")
        booking = services.create_booking(api_user(), session_id, details, waitlist=waitlist)
    except DomainError as exc:
        db.session.rollback()
        _forbidden_as_problem(exc)
    except DBAPIError:
        db.session.rollback()
        raise ConflictError("The session is busy; try again.", code="busy") from None
    _commit(keep=True)
    resp = jsonify(booking_json(booking))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.get_booking", booking_id=booking.id)
    return resp


@bp.post("/series-bookings")
@token_required
def create_series_booking():
    data = json_body()
    try:
        details = _details(data)
        offer_id = _id(data, "offer_id")
        session_ids = data.get("session_ids")
        if not isinstance(session_ids, list) or not all(_is_id(i) for i in session_ids) or len(session_ids) > 9:
            raise InvalidInput("session_ids must be a list of session ids in part order.", field="session_ids")
        session_ids = [_whole(i) for i in session_ids]
        series = services.create_series_booking(api_user(), offer_id, session_ids, details)
    except DomainError as exc:
        db.session.rollback()
        _forbidden_as_problem(exc)
    except DBAPIError:
        db.session.rollback()
        raise ConflictError("The sessions are busy; try again.", code="busy") from None
    _commit(keep=True)
    return jsonify(series_json(series)), 201


def _visible_bookings():
    user = api_user()
    stmt = (
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .options(
            selectinload(Booking.session).selectinload(Session.offer),
            selectinload(Booking.session).selectinload(Session.venue),
        )
    )
    if permissions.is_teacher(user) or permissions.is_school_coordinator(user):
        return stmt.where(Booking.school_id == user.school_id)
    if permissions.is_coordinator(user):
        from app.labs.models import Offer

        venue_ids = [v.id for v in user.venues]
        return stmt.join(Offer, Session.offer_id == Offer.id).where(
            or_(Session.venue_id.in_(venue_ids), Offer.venue_id.in_(venue_ids))
        )
    if permissions.is_admin(user):
        return stmt
    from app.labs.models import Offer

    return stmt.join(Offer, Session.offer_id == Offer.id).where(Offer.region_id == user.region_id)


@bp.get("/bookings")
@token_required
def list_bookings():
    stmt = _visible_bookings().order_by(Session.starts_at, Booking.id)
    return paginate(stmt, lambda rows: [booking_json(b) for b in rows])


def _booking_or_404(booking_id) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or not permissions.can_view_booking(api_user(), booking):
        abort(404)
    return booking


@bp.get("/bookings/<int:booking_id>")
@token_required
def get_booking(booking_id):
    return jsonify(booking_json(_booking_or_404(booking_id)))


@bp.delete("/bookings/<int:booking_id>")
@token_required
def cancel_booking(booking_id):
    booking = _booking_or_404(booking_id)
    try:
        services.cancel_booking(api_user(), booking.id, reason="")
    except DomainError:
        db.session.rollback()
        raise
    _commit(keep=True)
    return jsonify(booking_json(booking))


def _changes(data) -> dict:
    """The fields a PATCH changes: only those given; unknown fields are refused (not silently dropped)."""
    if not isinstance(data, dict) or not data:
        raise InvalidInput("Give at least one field to change.", field=None)
    unknown = sorted(set(data) - set(services.CHANGEABLE))
    if unknown:
        raise InvalidInput(
            f"{unknown[0]} cannot be changed; changeable: {', '.join(services.CHANGEABLE)}.", field=unknown[0]
        )
    out = {}
    for name in data:
        if name in ("pupils", "adults"):
            out[name] = _int(data, name)
        elif name == "groep":
            groep = _whole(data.get("groep"))
            if isinstance(groep, int) and not isinstance(groep, bool):
                groep = str(groep)
            if not isinstance(groep, str):
                raise InvalidInput('groep must be a text like "7" or "7/8".', field="groep")
            out[name] = groep[:10]
        elif name == "contact_name":
            out[name] = _name(data, name, 200)
        elif name == "contact_email":
            out[name] = _email(data, name)
        elif name == "class_name":
            out[name] = _str(data, name, 40)
        else:
            out[name] = _str(data, name, 2000)
    return out


@bp.patch("/bookings/<int:booking_id>")
@token_required
def change_booking(booking_id):
    """Change the class of a booking (counts, contact, remarks, groep, class name) until the change deadline."""
    booking = _booking_or_404(booking_id)
    data = json_body()
    try:
        services.change_booking(api_user(), booking.id, _changes(data))
    except DomainError as exc:
        db.session.rollback()
        _forbidden_as_problem(exc)
    except DBAPIError:
        db.session.rollback()
        raise ConflictError("The session is busy; try again.", code="busy") from None
    _commit(keep=True)
    return jsonify(booking_json(booking))


def _answer(booking_id: int, action) -> tuple:
    """One answer to a booking's state (approve, reject, accept, decline): the service decides,
    a refusal is rolled back and answered as a problem, the answer is the booking as it is now."""
    booking = _booking_or_404(booking_id)
    try:
        action(api_user(), booking.id)
    except DomainError:
        db.session.rollback()
        raise
    _commit(keep=True)
    return jsonify(booking_json(booking))


@bp.post("/bookings/<int:booking_id>/approve")
@token_required
def approve_request(booking_id):
    """Approve a requested booking (an offer with approval required): it is confirmed."""
    return _answer(booking_id, services.approve_booking)


@bp.post("/bookings/<int:booking_id>/reject")
@token_required
def reject_request(booking_id):
    """Decline a requested booking with a reason the school reads; the place goes to the waiting list."""
    reason = _str(json_body(), "reason", 500)
    return _answer(booking_id, lambda actor, bid: services.decline_request(actor, bid, reason))


@bp.post("/bookings/<int:booking_id>/accept")
@token_required
def accept_offer(booking_id):
    """Take a place offered from the waiting list (status offered) before it expires."""
    return _answer(booking_id, services.accept_offer)


@bp.post("/bookings/<int:booking_id>/decline")
@token_required
def decline_offer(booking_id):
    """Decline a place offered from the waiting list: it goes to the next waiting class."""
    return _answer(booking_id, services.decline_offer)


BOOKING_SCHEMA = {
    "type": "object",
    "required": ["id", "status", "session_id", "pupils"],
    "properties": {
        "id": {"type": "integer"},
        "status": {
            "type": "string",
            "enum": ["confirmed", "waitlisted", "offered", "requested", "cancelled", "attended", "no_show"],
            "description": "requested: on an offer with approval required, waiting for the coordinator "
            "(the place is held)",
        },
        "class_name": {"type": "string"},
        "offer_expires_at": {"type": ["string", "null"], "format": "date-time"},
        "waiting": {
            "type": ["object", "null"],
            "description": "for a waiting class: position in the promotion order, "
            "the rule that holds it back (full, priority_window, … or room) and until when",
            "properties": {
                "position": {"type": ["integer", "null"]},
                "rule": {"type": "string"},
                "message": {"type": "string"},
                "until": {"type": ["string", "null"]},
                "rule_id": {"type": ["integer", "null"]},
            },
        },
        "session_id": {"type": "integer"},
        "offer_id": {"type": "integer"},
        "series_id": {"type": ["integer", "null"]},
        "part": {"type": ["integer", "null"]},
        "school_id": {"type": "integer"},
        "groep": {"type": "string"},
        "pupils": {"type": "integer"},
        "adults": {"type": "integer"},
        "contact_name": {"type": "string"},
        "contact_email": {"type": "string"},
        "remarks": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "venue": {"type": ["object", "null"]},
        "title": {"type": "string"},
        "created_at": {"type": "string"},
        "cancelled_at": {"type": ["string", "null"]},
        "sequence": {"type": "integer"},
    },
}
GROEP_PATTERN = (
    "^("
    + "|".join(
        [str(g) for g in range(1, 9)]
        + [f"{g}/{g + 1}" for g in range(1, 8)]
        + [f"{g}/{g + 1}/{g + 2}" for g in range(1, 7)]
    )
    + ")$"
)
CLASS_FIELDS = {
    "groep": {
        "anyOf": [{"type": "integer", "minimum": 1, "maximum": 8}, {"type": "string", "pattern": GROEP_PATTERN}],
        "description": '1–8 or a combination of two successive groepen such as "7/8"',
    },
    "class_name": {
        "type": "string",
        "maxLength": 40,
        "description": 'the class\'s name within the school ("7A"); default: its groep',
    },
    "pupils": {"type": "integer", "minimum": 1, "maximum": 40},
    "adults": {"type": "integer", "minimum": 0, "maximum": 10},
    "contact_name": {"type": "string"},
    "contact_email": {"type": "string"},
    "remarks": {"type": "string"},
    "girls": {"type": ["integer", "null"], "minimum": 0, "maximum": 40},
    "boys": {"type": ["integer", "null"], "minimum": 0, "maximum": 40},
}
SCHEMAS = {
    "Booking": BOOKING_SCHEMA,
    "BookingPage": page_of("Booking"),
    "BookingRequest": {
        "type": "object",
        "required": ["session_id", "groep", "pupils"],
        "properties": {"session_id": ID_SCHEMA, "waitlist": {"type": "boolean", "default": False}, **CLASS_FIELDS},
    },
    "SeriesBookingRequest": {
        "type": "object",
        "required": ["offer_id", "session_ids", "groep", "pupils"],
        "properties": {
            "offer_id": ID_SCHEMA,
            "session_ids": {
                "type": "array",
                "items": ID_SCHEMA,
                "maxItems": 9,
                "description": "one session per part, in part order",
            },
            **CLASS_FIELDS,
        },
    },
    "BookingChange": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "description": "the fields to change (only those given); until the offer's change_deadline_days "
        "before the session, through the same admission rules as a new booking",
        "properties": {
            k: CLASS_FIELDS[k]
            for k in ("groep", "class_name", "pupils", "adults", "contact_name", "contact_email", "remarks")
        },
    },
    "RequestDecline": {
        "type": "object",
        "required": ["reason"],
        "properties": {
            "reason": {"type": "string", "minLength": 1, "maxLength": 500, "description": "the school reads it"}
        },
    },
    "SeriesBooking": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "offer_id": {"type": "integer"},
            "school_id": {"type": "integer"},
            "status": {"type": "string"},
            "bookings": {"type": "array", "items": {"$ref": "#/components/schemas/Booking"}},
        },
    },
}


def _json(ref):
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


ID = [{"name": "booking_id", "in": "path", "required": True, "schema": ID_SCHEMA}]
PATHS = {
    "/bookings": {
        "post": {
            "summary": "Book a session for your class (201 confirmed or waitlisted; 409 code full when no place; "
            "422 with the rule's code, e.g. priority_window, when a rule holds the class back)",
            "requestBody": {"required": True, "content": _json("BookingRequest")},
            "responses": {
                "201": {"description": "Booked", "content": _json("Booking")},
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
        "get": {
            "summary": "Your bookings (teacher: your school; coordinator: your venues)",
            "parameters": PAGE_PARAMS,
            "responses": {
                "200": {"description": "A page", "content": _json("BookingPage")},
                **problem_responses(401, 422),
            },
        },
    },
    "/bookings/{booking_id}": {
        "get": {
            "summary": "One booking",
            "parameters": ID,
            "responses": {
                "200": {"description": "Booking", "content": _json("Booking")},
                **problem_responses(401, 404),
            },
        },
        "delete": {
            "summary": "Cancel a booking (a series: all parts)",
            "parameters": ID,
            "responses": {
                "200": {"description": "Cancelled", "content": _json("Booking")},
                **problem_responses(401, 403, 404, 422),
            },
        },
        "patch": {
            "summary": "Change the class of a booking (a series: all parts): pupils, adults, contact, remarks, "
            "groep, class name; until the offer's change deadline (422 code change_deadline_passed), "
            "more pupils only if they fit (409 code full)",
            "parameters": ID,
            "requestBody": {"required": True, "content": _json("BookingChange")},
            "responses": {
                "200": {"description": "Changed", "content": _json("Booking")},
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
    "/bookings/{booking_id}/approve": {
        "post": {
            "summary": "Approve a requested booking (coordinator of its session): it is confirmed",
            "parameters": ID,
            "responses": {
                "200": {"description": "Confirmed", "content": _json("Booking")},
                **problem_responses(401, 403, 404, 422),
            },
        },
    },
    "/bookings/{booking_id}/reject": {
        "post": {
            "summary": "Decline a requested booking with a reason; the held place goes to the waiting list",
            "parameters": ID,
            "requestBody": {"required": True, "content": _json("RequestDecline")},
            "responses": {
                "200": {"description": "Declined", "content": _json("Booking")},
                **problem_responses(400, 401, 403, 404, 415, 422),
            },
        },
    },
    "/bookings/{booking_id}/accept": {
        "post": {
            "summary": "Accept a place offered from the waiting list (status offered) before offer_expires_at",
            "parameters": ID,
            "responses": {
                "200": {"description": "Confirmed", "content": _json("Booking")},
                **problem_responses(401, 403, 404, 422),
            },
        },
    },
    "/bookings/{booking_id}/decline": {
        "post": {
            "summary": "Decline a place offered from the waiting list; it goes to the next waiting class",
            "parameters": ID,
            "responses": {
                "200": {"description": "Declined", "content": _json("Booking")},
                **problem_responses(401, 403, 404, 422),
            },
        },
    },
    "/series-bookings": {
        "post": {
            "summary": "Book all parts of a series at once (all or nothing)",
            "requestBody": {"required": True, "content": _json("SeriesBookingRequest")},
            "responses": {
                "201": {"description": "Booked", "content": _json("SeriesBooking")},
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
}
