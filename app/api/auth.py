"""API: tokens and the token holder."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, ClassVar

from flask import current_app, request
from pydantic import Strict, WithJsonSchema
from sqlalchemy import select

from app.api import api_user, bp, token_required
from app.api.schemas import Body, IsoDateTime, Out, one_of, operation, parse_body, render
from app.auth.models import ApiToken, Role
from app.auth.services import authenticate
from app.auth.tokens import create_api_token, hash_token, revoke_api_token
from app.db import utcnow
from app.extensions import db

REQUIRED = "email and password are required strings."


class TokenRequest(Body):
    messages: ClassVar[dict[str, str]] = {"email": REQUIRED, "password": REQUIRED}
    email: Annotated[str, Strict()]
    password: Annotated[str, Strict()]
    # any value names the token (as text); none: "api"
    name: Annotated[Any, WithJsonSchema({"type": "string"})] = None

    def model_post_init(self, _context) -> None:
        if not self.email or not self.password:
            from app.booking.errors import InvalidInput

            raise InvalidInput(REQUIRED)


class Token(Out):
    token: str
    token_type: one_of(("Bearer",))
    expires_at: IsoDateTime | None
    prefix: str


class RegionRef(Out):
    id: int
    code: str
    name: str


class SchoolRef(Out):
    id: int
    location_code: str
    name: str


class VenueName(Out):
    id: int
    name: str


class Me(Out):
    id: int
    email: str
    name: str
    role: one_of(r.value for r in Role)
    locale: str
    region: RegionRef | None
    school: SchoolRef | None
    venues: list[VenueName]

    @classmethod
    def of(cls, u) -> Me:
        return cls(
            id=u.id,
            email=u.email,
            name=u.name,
            role=u.role.value,
            locale=u.locale,
            region=RegionRef(id=u.region.id, code=u.region.code, name=u.region.name) if u.region else None,
            school=SchoolRef(id=u.school.id, location_code=u.school.location_code, name=u.school.name)
            if u.school
            else None,
            venues=[VenueName(id=v.id, name=v.name) for v in u.venues],
        )


@bp.post("/auth/token")
@operation(
    "Exchange e-mail and password for a bearer token (shown once)",
    body=TokenRequest,
    response=Token,
    status=201,
    problems=(400, 401, 403, 415, 422, 429),  # 403: password sign-in off
)
def create_token():
    body = parse_body(TokenRequest)
    user = authenticate(body.email[:254], body.password[:200], request.remote_addr)  # raises 401 / 429
    expires_at = utcnow() + timedelta(days=current_app.config["API_TOKEN_DAYS"])
    token, secret = create_api_token(user, name=str(body.name or "api")[:100], expires_at=expires_at)
    return render(Token(token=secret, token_type="Bearer", expires_at=expires_at, prefix=token.prefix), 201)


@bp.delete("/auth/token")
@token_required
@operation("Revoke the token in use", problems=(401,), status=204)
def revoke_token():
    secret = request.headers.get("Authorization", "").partition(" ")[2].strip()
    revoke_api_token(db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))))
    return "", 204


@bp.get("/me")
@token_required
@operation("The token holder", response=Me, problems=(401,))
def me():
    return render(Me.of(api_user()))
