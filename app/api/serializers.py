"""JSON shapes of the API, shared by its modules."""

from __future__ import annotations

from app.catalogue.availability import availability
from app.db import utcnow


def iso(dt):
    return dt.isoformat() if dt is not None else None


def venue_ref(v):
    return {"id": v.id, "name": v.name} if v is not None else None


def venue_json(v):
    return {
        "id": v.id,
        "name": v.name,
        "kind": v.kind.value,
        "organisation": v.organisation,
        "address": {"street": v.street, "house_number": v.house_number, "postcode": v.postcode, "city": v.city},
        "latitude": v.latitude,
        "longitude": v.longitude,
        "accessibility": v.accessibility,
        "opening_days": [int(d) for d in v.opening_days],
        "region_id": v.region_id,
    }


def part_json(p):
    return {
        "id": p.id,
        "position": p.position,
        "title": p.title,
        "location": p.location.value,
        "venue": venue_ref(p.venue),
        "min_days_after_previous": p.min_days_after_previous,
        "max_days_after_previous": p.max_days_after_previous,
    }


def offer_json(o):
    return {
        "id": o.id,
        "title": o.title,
        "description": o.description,
        "kind": o.kind.value,
        "world": o.world.value,
        "groep_min": o.groep_min,
        "groep_max": o.groep_max,
        "school_year": o.school_year,
        "duration_minutes": o.duration_minutes,
        "capacity": {"pupils": o.capacity_pupils, "classes": o.capacity_classes},
        "adults_per_class": o.adults_per_class,
        "venue": venue_ref(o.venue),
        "bus_provided": o.bus_provided,
        "booking_opens_at": iso(o.booking_opens_at),
        "booking_closes_at": iso(o.booking_closes_at),
        "cancel_deadline_days": o.cancel_deadline_days,
        "preparation": o.preparation,
        "booking_horizon_weeks": o.booking_horizon_weeks,
        "min_notice_days": o.min_notice_days,
        "change_deadline_days": o.change_deadline_days,
        "approval_required": o.approval_required,
        "is_series": len(o.parts) > 1,
        "parts": [part_json(p) for p in o.parts],
        "region_id": o.region_id,
    }


def session_json(s, now=None):
    a = availability(s, now or utcnow())
    return {
        "id": s.id,
        "offer_id": s.offer_id,
        "part": s.part.position if s.part is not None else None,
        "location": s.location.value,
        "venue": venue_ref(s.venue),
        "starts_at": iso(s.starts_at),
        "ends_at": iso(s.ends_at),
        "capacity": {"pupils": s.capacity_pupils, "classes": s.capacity_classes},
        "booked": {"pupils": s.booked_pupils, "classes": s.booked_classes},
        "available": {"pupils": a.left.pupils, "classes": a.left.classes},
        "status": a.status.value,
    }


def school_json(s, enrolment=None, school_year=None):
    out = {
        "id": s.id,
        "location_code": s.location_code,
        "brin": s.brin,
        "name": s.name,
        "kind": s.kind.value,
        "address": {"street": s.street, "house_number": s.house_number, "postcode": s.postcode, "city": s.city},
        "municipality": {"code": s.municipality_code, "name": s.municipality_name},
        "latitude": s.latitude,
        "longitude": s.longitude,
        "region_id": s.region_id,
    }
    if school_year is not None:
        out["enrolment"] = {
            "school_year": school_year,
            "groepen": [{"groep": g.groep, "pupils": g.pupils, "estimated": g.estimated} for g in (enrolment or [])],
        }
    return out


# OpenAPI schemas for the shapes above
REF = {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
ADDRESS = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("street", "house_number", "postcode", "city")},
}
COUNTS = {
    "type": "object",
    "required": ["pupils", "classes"],
    "properties": {"pupils": {"type": "integer"}, "classes": {"type": "integer"}},
}
SCHEMAS = {
    "Venue": {
        "type": "object",
        "required": ["id", "name", "kind"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["techlab", "mobile_lab", "hotspot", "company"]},
            "organisation": {"type": "string"},
            "address": ADDRESS,
            "latitude": {"type": ["number", "null"]},
            "longitude": {"type": ["number", "null"]},
            "accessibility": {"type": "string"},
            "opening_days": {"type": "array", "items": {"type": "integer"}},
            "region_id": {"type": "integer"},
        },
    },
    "OfferPart": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "position": {"type": "integer"},
            "title": {"type": "string"},
            "location": {"type": "string", "enum": ["venue", "at_school"]},
            "venue": REF,
            "min_days_after_previous": {"type": "integer"},
            "max_days_after_previous": {"type": "integer"},
        },
    },
    "Offer": {
        "type": "object",
        "required": ["id", "title", "world", "groep_min", "groep_max"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "kind": {"type": "string"},
            "world": {"type": "string"},
            "groep_min": {"type": "integer"},
            "groep_max": {"type": "integer"},
            "school_year": {"type": "integer"},
            "duration_minutes": {"type": "integer"},
            "capacity": COUNTS,
            "adults_per_class": {"type": "integer"},
            "venue": REF,
            "bus_provided": {"type": "boolean"},
            "booking_opens_at": {"type": ["string", "null"], "format": "date-time"},
            "booking_closes_at": {"type": ["string", "null"], "format": "date-time"},
            "cancel_deadline_days": {"type": "integer"},
            "preparation": {"type": "string"},
            "booking_horizon_weeks": {
                "type": ["integer", "null"],
                "description": "a class books at most this many weeks ahead (null: no limit)",
            },
            "min_notice_days": {"type": "integer", "description": "a class books at least this many days before"},
            "change_deadline_days": {
                "type": "integer",
                "description": "pupils, adults, contact, remarks and class change until this many days before",
            },
            "approval_required": {
                "type": "boolean",
                "description": "a booking waits as requested until the coordinator approves it",
            },
            "is_series": {"type": "boolean"},
            "parts": {"type": "array", "items": {"$ref": "#/components/schemas/OfferPart"}},
            "region_id": {"type": "integer"},
        },
    },
    "Session": {
        "type": "object",
        "required": ["id", "offer_id", "starts_at", "ends_at", "capacity", "booked", "available"],
        "properties": {
            "id": {"type": "integer"},
            "offer_id": {"type": "integer"},
            "part": {"type": ["integer", "null"]},
            "location": {"type": "string", "enum": ["venue", "at_school"]},
            "venue": REF,
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"},
            "capacity": COUNTS,
            "booked": COUNTS,
            "available": COUNTS,
            "status": {"type": "string", "enum": ["bookable", "full", "past", "cancelled", "not_open_yet", "closed"]},
        },
    },
    "School": {
        "type": "object",
        "required": ["id", "location_code", "name"],
        "properties": {
            "id": {"type": "integer"},
            "location_code": {"type": "string"},
            "brin": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["bo", "sbo", "so", "vso"]},
            "address": ADDRESS,
            "municipality": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
            "latitude": {"type": ["number", "null"]},
            "longitude": {"type": ["number", "null"]},
            "region_id": {"type": ["integer", "null"]},
            "enrolment": {
                "type": "object",
                "properties": {
                    "school_year": {"type": "integer"},
                    "groepen": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "groep": {"type": "integer"},
                                "pupils": {"type": "integer"},
                                "estimated": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
        },
    },
}
