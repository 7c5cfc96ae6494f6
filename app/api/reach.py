"""API: reach per school year for programme leaders, coordinators and administrators."""

from __future__ import annotations

from flask import jsonify, request

from app.api import ID_SCHEMA, SCHOOL_YEAR_SCHEMA, api_user, bp, int_param, problem_responses, token_required
from app.auth import permissions
from app.db import utcnow
from app.errors import DomainError
from app.labs.models import World
from app.reporting.reach import DEFAULT_GROEPEN, HEADLINE_GROEPEN, Filters, headline, school_rows, summary
from app.timeutil import school_year_of

GROUPINGS = ("school", "groep", "municipality", "world")


@bp.get("/reach")
@token_required
def reach():
    user = api_user()
    if not (permissions.is_programme_leader(user) or permissions.is_coordinator(user) or permissions.is_admin(user)):
        raise _forbidden()
    year = int_param("school_year", 2000, 2100) or school_year_of(utcnow())
    try:
        world = World(request.args["world"]) if request.args.get("world") else None
    except ValueError:
        raise DomainError("world must be one of the seven worlds.", code="invalid_parameter", field="world") from None
    group_by = request.args.get("group_by", "school")
    if group_by not in GROUPINGS:
        raise DomainError(
            f"group_by must be one of {', '.join(GROUPINGS)}.", code="invalid_parameter", field="group_by"
        )
    groepen = request.args.get("groepen") or DEFAULT_GROEPEN
    if groepen not in HEADLINE_GROEPEN:
        raise DomainError(
            f"groepen must be one of {', '.join(HEADLINE_GROEPEN)}.", code="invalid_parameter", field="groepen"
        )
    region = int_param("region")
    region_id = user.region_id if not permissions.is_admin(user) else region
    f = Filters(
        year, region_id, (request.args.get("municipality") or "")[:4], int_param("offer"), world, int_param("venue")
    )
    rows = school_rows(f)
    sm = summary(f, rows)
    if group_by == "school":
        groups = [
            {
                "key": r.school.location_code,
                "name": r.school.name,
                "classes": r.classes,
                "pupils": r.pupils,
                "enrolled": r.enrolled,
                "estimated": r.enrolled_estimated,
                "share": r.share,
                "worlds": r.worlds,
                "distance_km": r.distance_km,
            }
            for r in rows
        ]
    elif group_by == "groep":
        groups = [
            {
                "key": str(g["groep"]),
                "pupils": g["pupils_reached"],
                "enrolled": g["pupils_enrolled"],
                "share": g["share"],
            }
            for g in sm.groepen
        ]
    elif group_by == "municipality":
        acc: dict = {}
        for r in rows:
            a = acc.setdefault(
                r.school.municipality_code,
                {
                    "key": r.school.municipality_code,
                    "name": r.school.municipality_name,
                    "schools": 0,
                    "schools_reached": 0,
                    "pupils": 0,
                },
            )
            a["schools"] += 1
            a["schools_reached"] += bool(r.classes)
            a["pupils"] += r.pupils
        groups = sorted(acc.values(), key=lambda a: a["name"])
    else:
        counts: dict[str, int] = {}
        for r in rows:
            for w in r.worlds:
                counts[w] = counts.get(w, 0) + 1
        groups = [{"key": w.value, "schools": counts.get(w.value, 0)} for w in World]
    return jsonify(
        {
            "school_year": year,
            "region_id": region_id,
            "group_by": group_by,
            "summary": {
                "schools": sm.schools,
                "schools_reached": sm.schools_reached,
                "schools_booked_not_visited": sm.schools_booked_not_visited,
                "schools_not_reached": sm.schools_not_reached,
                "sessions_held": sm.sessions_held,
                "classes": sm.classes_served,
                "pupils": sm.pupils_served,
                "attended": sm.bookings_attended,
                "no_show": sm.bookings_no_show,
                "series": sm.series,
                "transport": sm.transport,
                "girls": sm.girls,
                "boys": sm.boys,
            },
            "headline": headline(rows, groepen),
            "groups": groups,
        }
    )


def _forbidden():
    err = DomainError("Reach figures are for programme leaders, coordinators and administrators.", code="forbidden")
    err.status = 403
    return err


SCHEMAS = {
    "Reach": {
        "type": "object",
        "required": ["school_year", "summary", "groups"],
        "properties": {
            "school_year": {"type": "integer"},
            "region_id": {"type": ["integer", "null"]},
            "group_by": {"type": "string", "enum": list(GROUPINGS)},
            "summary": {
                "type": "object",
                "properties": {
                    k: {"type": "integer"}
                    for k in (
                        "schools",
                        "schools_reached",
                        "schools_booked_not_visited",
                        "schools_not_reached",
                        "sessions_held",
                        "classes",
                        "pupils",
                        "attended",
                        "no_show",
                        "girls",
                        "boys",
                    )
                },
            },
            "headline": {
                "type": "object",
                "description": (
                    "The share of the region's schools reached (attended), and within those schools the share of the pupils "
                    "of the chosen groepen reached, against enrolment (reached schools without enrolment data left out)."
                ),
                "properties": {
                    "groepen": {"type": "string", "enum": list(HEADLINE_GROEPEN)},
                    "groep_min": {"type": "integer"},
                    "groep_max": {"type": "integer"},
                    "schools": {"type": "integer"},
                    "schools_reached": {"type": "integer"},
                    "share_schools": {"type": ["number", "null"]},
                    "pupils_reached": {"type": "integer"},
                    "pupils_enrolled": {"type": "integer"},
                    "share_pupils": {"type": ["number", "null"]},
                    "schools_without_enrolment": {"type": "integer"},
                },
            },
            "groups": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}}}},
        },
    }
}
PATHS = {
    "/reach": {
        "get": {
            "summary": "Reach per school year, grouped by school, groep, municipality or world",
            "parameters": [
                {"name": n, "in": "query", "schema": s}
                for n, s in (
                    ("school_year", SCHOOL_YEAR_SCHEMA),
                    ("region", ID_SCHEMA),
                    ("group_by", {"type": "string", "enum": list(GROUPINGS)}),
                    ("municipality", {"type": "string"}),
                    ("offer", ID_SCHEMA),
                    ("world", {"type": "string", "enum": [w.value for w in World]}),
                    ("groepen", {"type": "string", "enum": list(HEADLINE_GROEPEN), "default": DEFAULT_GROEPEN}),
                    ("venue", ID_SCHEMA),
                )
            ],
            "responses": {
                "200": {
                    "description": "Reach",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reach"}}},
                },
                **problem_responses(401, 403, 422),
            },
        }
    }
}
