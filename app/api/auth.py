"""API: tokens and the token holder."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, jsonify, request

from app.api import api_user, bp, json_body, problem_responses, token_required
from app.auth.services import authenticate
from app.auth.tokens import create_api_token, hash_token, revoke_api_token
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db


@bp.post("/auth/token")
def create_token():
    data = json_body()
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise DomainError("email and password are required strings.", code="invalid_input")
    user = authenticate(email[:254], password[:200], request.remote_addr)  # raises 401 / 429
    expires_at = utcnow() + timedelta(days=current_app.config["API_TOKEN_DAYS"])
    token, secret = create_api_token(user, name=str(data.get("name") or "api")[:100], expires_at=expires_at)
    db.session.commit()
    return jsonify(
        {"token": secret, "token_type": "Bearer", "expires_at": expires_at.isoformat(), "prefix": token.prefix}
    ), 201


@bp.delete("/auth/token")
@token_required
def revoke_token():
    from sqlalchemy import select

    from app.auth.models import ApiToken

    secret = request.headers.get("Authorization", "").partition(" ")[2].strip()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    revoke_api_token(token)
    db.session.commit()
    return "", 204


@bp.get("/me")
@token_required
def me():
    u = api_user()
    return jsonify(
        {
            "id": u.id,
            "email": u.email,
            "name": u.name,
            "role": u.role.value,
            "locale": u.locale,
            "region": {"id": u.region.id, "code": u.region.code, "name": u.region.name} if u.region else None,
            "school": {"id": u.school.id, "location_code": u.school.location_code, "name": u.school.name}
            if u.school
            else None,
            "venues": [{"id": v.id, "name": v.name} for v in u.venues],
        }
    )


SCHEMAS = {
    "TokenRequest": {
        "type": "object",
        "required": ["email", "password"],
        "properties": {"email": {"type": "string"}, "password": {"type": "string"}, "name": {"type": "string"}},
    },
    "Token": {
        "type": "object",
        "required": ["token", "token_type"],
        "properties": {
            "token": {"type": "string"},
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_at": {"type": ["string", "null"]},
            "prefix": {"type": "string"},
        },
    },
    "Me": {
        "type": "object",
        "required": ["id", "email", "role"],
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string", "enum": ["teacher", "coordinator", "programme_leader", "admin"]},
            "locale": {"type": "string"},
            "region": {
                "type": ["object", "null"],
                "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}},
            },
            "school": {
                "type": ["object", "null"],
                "properties": {
                    "id": {"type": "integer"},
                    "location_code": {"type": "string"},
                    "name": {"type": "string"},
                },
            },
            "venues": {
                "type": "array",
                "items": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            },
        },
    },
}
PATHS = {
    "/auth/token": {
        "post": {
            "summary": "Exchange e-mail and password for a bearer token (shown once)",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}},
            },
            "responses": {
                "201": {
                    "description": "Token",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Token"}}},
                },
                **problem_responses(400, 401, 403, 415, 422, 429),
            },
        },  # 403: password sign-in off
        "delete": {
            "summary": "Revoke the token in use",
            "responses": {"204": {"description": "Revoked"}, **problem_responses(401)},
        },
    },
    "/me": {
        "get": {
            "summary": "The token holder",
            "responses": {
                "200": {
                    "description": "Me",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}},
                },
                **problem_responses(401),
            },
        }
    },
}
