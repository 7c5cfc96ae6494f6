"""API: the bus plans of a day (coordinators and administrators of the region)."""

from __future__ import annotations

from flask import jsonify, request

from app.api import api_user, bp, int_param, problem_responses, token_required
from app.api.serializers import iso, venue_ref
from app.auth import permissions
from app.auth.models import Region
from app.errors import DomainError
from app.extensions import db
from app.inputs import MAX_DATE, MIN_DATE, parse_date
from app.transport import warnings
from app.transport.plans import plans_on
from app.transport.shortfall import hires_on


def _bus_json(bus) -> dict:
    bt = bus.bus_type
    return {
        "id": bus.id,
        "plan_id": bus.plan_id,
        "session_ids": bus.session_ids,
        "shared": bus.shared,
        "type": {"id": bt.id, "name": bt.name, "carrier": bt.carrier},
        "seats": bt.seats,
        "seats_taken": sum(s.seats for s in bus.stops),
        "locked": bus.locked,
        "hired": bus.hired,
        "arrives_at": iso(bus.arrives_at),
        "departs_back_at": iso(bus.departs_back_at),
        "km": bus.km,
        "cost": bus.cost,
        "stops": [
            {
                "position": s.position,
                "booking_id": s.booking_id,
                "session_id": s.booking.session_id,
                "school": {
                    "id": s.booking.school.id,
                    "name": s.booking.school.name,
                    "location_code": s.booking.school.location_code,
                    "address": s.booking.school.address,
                },
                "pickup_at": iso(s.pickup_at),
                "seats": s.seats,
            }
            for s in bus.stops
        ],
    }


def plan_json(plan, warns: list | None = None) -> dict:
    s = plan.session
    return {
        "id": plan.id,
        "session_id": s.id,
        "offer": {"id": s.offer_id, "title": s.offer.title},
        "venue": venue_ref(s.venue),
        "starts_at": iso(s.starts_at),
        "status": plan.status.value,
        "needs_review": plan.needs_review,
        "planned_at": iso(plan.planned_at),
        "frozen_at": iso(plan.frozen_at),
        "total_km": plan.total_km,
        "total_cost": plan.total_cost,
        "warnings_seen": not plan.warnings_unseen,
        "to_check": plan.warnings_unseen or plan.needs_review,
        "warnings": [
            {k: w[k] for k in ("code", "booking_id", "school", "text", "minutes", "seats", "choices") if k in w}
            for w in (warns if warns is not None else [])
        ],
        "buses": [_bus_json(b) for b in getattr(plan, "serving", plan.buses)],
    }


@bp.get("/transport/plans")
@token_required
def transport_plans():
    user = api_user()
    raw = request.args.get("date", "")
    try:
        day = parse_date(raw)
    except ValueError:
        raise DomainError(
            f"date must be a date as YYYY-MM-DD in the years {MIN_DATE.year}-{MAX_DATE.year}.",
            code="invalid_parameter",
            field="date",
        ) from None
    if permissions.is_admin(user):
        region_id = int_param("region")
    else:
        region = db.session.get(Region, user.region_id) if user.region_id else None
        if region is None or not permissions.can_plan_transport(user, region):
            err = DomainError("Bus plans are for the region's coordinators and administrators.", code="forbidden")
            err.status = 403
            raise err
        region_id = region.id
    plans = plans_on(region_id, day)
    described = warnings.describe(plans)
    hires = [
        {"bus_type_id": h.bus_type_id, "name": h.bus_type.name, "count": h.count} for h in hires_on(region_id, day)
    ]
    shortfall = [
        {"plan_id": p.id, "booking_id": w.get("booking_id"), "seats": w.get("seats")}
        for p in plans
        for w in (p.warnings or [])
        if w.get("code") == "no_bus"
    ]
    return jsonify(
        {
            "date": day.isoformat(),
            "region_id": region_id,
            "hired": hires,
            "shortfall": shortfall,
            "plans": [plan_json(p, described[p.id]) for p in plans],
        }
    )


STOP = {
    "type": "object",
    "required": ["position", "school", "pickup_at", "seats"],
    "properties": {
        "position": {"type": "integer"},
        "booking_id": {"type": "integer"},
        "session_id": {"type": "integer", "description": "the session of the class (a shared bus serves several)"},
        "school": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "location_code": {"type": "string"},
                "address": {"type": "string"},
            },
        },
        "pickup_at": {"type": ["string", "null"], "format": "date-time"},
        "seats": {"type": "integer", "description": "seats this class takes in this bus (pupils and adults)"},
    },
}
SCHEMAS = {
    "BusStop": STOP,
    "Bus": {
        "type": "object",
        "required": ["id", "type", "seats", "stops", "arrives_at"],
        "properties": {
            "id": {"type": "integer"},
            "plan_id": {"type": "integer", "description": "the plan the bus belongs to (ordered with)"},
            "session_ids": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "the sessions whose classes ride the bus",
            },
            "shared": {
                "type": "boolean",
                "description": "the bus carries classes of several sessions of one trip (the same venue, start and "
                "end); it is listed under each of their plans and counted in its own plan's cost",
            },
            "type": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "carrier": {"type": "string"}},
            },
            "seats": {"type": "integer"},
            "seats_taken": {"type": "integer"},
            "locked": {"type": "boolean"},
            "hired": {"type": "boolean", "description": "an extra bus hired for the day, at the type's hire price"},
            "arrives_at": {"type": ["string", "null"], "format": "date-time"},
            "departs_back_at": {"type": ["string", "null"], "format": "date-time"},
            "km": {"type": "number", "description": "there and back"},
            "cost": {"type": "number"},
            "stops": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/BusStop"},
                "description": "in route order",
            },
        },
    },
    "BusPlan": {
        "type": "object",
        "required": ["id", "session_id", "status", "buses"],
        "properties": {
            "id": {"type": "integer"},
            "session_id": {"type": "integer"},
            "offer": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}},
            "venue": {"type": ["object", "null"]},
            "starts_at": {"type": "string", "format": "date-time"},
            "status": {"type": "string", "enum": ["draft", "frozen"]},
            "needs_review": {"type": "boolean"},
            "planned_at": {"type": ["string", "null"]},
            "frozen_at": {"type": ["string", "null"]},
            "total_km": {"type": "number"},
            "total_cost": {"type": "number"},
            "warnings_seen": {"type": "boolean", "description": "the coordinator marked the warnings as seen"},
            "to_check": {"type": "boolean", "description": "unseen warnings, or changes after the order"},
            "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/BusPlanWarning"}},
            "buses": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Bus"},
                "description": "the plan's own buses, then shared buses of other plans carrying its classes",
            },
        },
    },
    "BusPlanWarning": {
        "type": "object",
        "required": ["code", "text"],
        "properties": {
            "code": {
                "type": "string",
                "enum": [
                    "ride_over_limit",
                    "no_bus",
                    "no_coordinates",
                    "implausible_coordinates",
                    "pin_breaks_rule",
                    "greedy",
                    "pickup_moved",
                    "locked_over_fleet",
                    "locked_over_seats",
                ],
            },
            "booking_id": {"type": "integer"},
            "school": {"type": "string"},
            "text": {"type": "string"},
            "minutes": {"type": "integer"},
            "seats": {"type": "integer"},
            "choices": {
                "type": "array",
                "description": "for a class without a bus: hire, move_session, ask_school",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": ["hire", "move_session", "ask_school"]},
                        "text": {"type": "string"},
                        "bus_type_id": {"type": "integer", "description": "hire: the type"},
                        "date": {"type": "string", "format": "date", "description": "hire: the day"},
                        "count": {"type": "integer", "description": "hire: the number hired after this choice"},
                        "price": {"type": "number", "description": "hire: the price of one hired bus for a trip"},
                        "session_id": {"type": "integer"},
                        "offer_id": {"type": "integer"},
                        "plan_id": {"type": "integer"},
                        "booking_id": {"type": ["integer", "null"]},
                        "email": {"type": "string"},
                    },
                },
            },
        },
    },
    "BusPlans": {
        "type": "object",
        "required": ["date", "plans"],
        "properties": {
            "date": {"type": "string", "format": "date"},
            "region_id": {"type": ["integer", "null"]},
            "hired": {
                "type": "array",
                "description": "extra buses hired for the day",
                "items": {
                    "type": "object",
                    "properties": {
                        "bus_type_id": {"type": "integer"},
                        "name": {"type": "string"},
                        "count": {"type": "integer"},
                    },
                },
            },
            "shortfall": {
                "type": "array",
                "description": "classes without a bus (the fleet is used up)",
                "items": {
                    "type": "object",
                    "properties": {
                        "plan_id": {"type": "integer"},
                        "booking_id": {"type": "integer"},
                        "seats": {"type": "integer"},
                    },
                },
            },
            "plans": {"type": "array", "items": {"$ref": "#/components/schemas/BusPlan"}},
        },
    },
}
PATHS = {
    "/transport/plans": {
        "get": {
            "summary": "The bus plans of a day: per bus its type, seats, stops in order (school, pickup time, seats) and arrival",
            "parameters": [
                {"name": "date", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
                {"name": "region", "in": "query", "schema": {"type": "integer"}, "description": "administrators only"},
            ],
            "responses": {
                "200": {
                    "description": "Plans",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BusPlans"}}},
                },
                **problem_responses(401, 403, 422),
            },
        }
    }
}
