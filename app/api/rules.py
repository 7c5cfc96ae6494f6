"""API: the fairness rules in force for the caller's region."""

from __future__ import annotations

from flask import jsonify

from app.api import ID_SCHEMA, SCHOOL_YEAR_SCHEMA, api_user, bp, int_param, problem_responses, token_required
from app.api.serializers import iso
from app.booking.fairness import explain, rules_in_force
from app.db import utcnow
from app.errors import DomainError
from app.timeutil import school_year_of


@bp.get("/rules")
@token_required
def list_rules():
    user = api_user()
    region_id = user.region_id
    if region_id is None:
        region_id = int_param("region_id")
        if region_id is None:
            raise DomainError("Administrators pass region_id.", code="invalid_parameter", field="region_id")
    year = int_param("school_year", 2000, 2100) or school_year_of(utcnow())
    return jsonify(
        {
            "school_year": year,
            "items": [
                {
                    "id": r.id,
                    "type": r.kind.value,
                    "scope": r.scope.value,
                    "scope_value": r.scope_value or None,
                    "limit": r.max_count,
                    "max_reach_share": r.max_reach_share,
                    "window_start": iso(r.window_start),
                    "window_end": iso(r.window_end),
                    "release_at": iso(r.window_end) if r.kind.value == "priority_window" else None,
                    "description": r.description,
                    "explanation": explain(r),
                }
                for r in rules_in_force(region_id, year)
            ],
        }
    )


SCHEMAS = {
    "Rule": {
        "type": "object",
        "required": ["id", "type", "scope"],
        "properties": {
            "id": {"type": "integer"},
            "type": {"type": "string", "enum": ["max_per_school", "max_per_class", "priority_window"]},
            "scope": {"type": "string", "enum": ["year", "term", "offer", "offer_kind", "world"]},
            "scope_value": {"type": ["string", "null"]},
            "limit": {"type": ["integer", "null"]},
            "max_reach_share": {"type": ["number", "null"]},
            "window_start": {"type": ["string", "null"], "format": "date-time"},
            "window_end": {"type": ["string", "null"], "format": "date-time"},
            "release_at": {"type": ["string", "null"], "format": "date-time"},
            "description": {"type": "string"},
            "explanation": {"type": "string"},
        },
    },
    "RuleList": {
        "type": "object",
        "properties": {
            "school_year": {"type": "integer"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}},
        },
    },
}
PATHS = {
    "/rules": {
        "get": {
            "summary": "Fairness rules in force for your region (type, scope, limit, window dates)",
            "parameters": [
                {"name": "school_year", "in": "query", "schema": SCHOOL_YEAR_SCHEMA},
                {"name": "region_id", "in": "query", "schema": ID_SCHEMA, "description": "administrators"},
            ],
            "responses": {
                "200": {
                    "description": "Rules",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RuleList"}}},
                },
                **problem_responses(401, 422),
            },
        }
    }
}
