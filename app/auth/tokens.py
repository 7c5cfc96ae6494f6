"""API tokens: random secrets of which only a SHA-256 is stored."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import ApiToken, User
from app.db import utcnow
from app.extensions import db

TOKEN_PREFIX = "tlb_"
# ``last_used_at`` (and the user's ``last_seen_at``) are written back at most this often: a
# rush of requests with one token costs one UPDATE a minute, not one per request
LAST_USED_EVERY = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User, name: str = "", expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for the user; returns the row and the secret (shown once)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=hash_token(secret), prefix=secret[:10], expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    return token, secret


@functools.cache
def _token_stmt():
    """Built once per process, on first use (after the mappers are configured)."""
    return select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == bindparam("token_hash"))


def user_for_token(secret: str) -> User | None:
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    # the token and its user in one statement (built once per process)
    token = db.session.scalar(_token_stmt(), {"token_hash": hash_token(secret)})
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = token.user
    if not user.active:
        return None
    # compared here, written (in the request's own transaction) only when stale; as plain
    # UPDATE statements on the request's connection, so the objects are not dirty and the
    # booking's flush does not carry them through the unit of work
    if _stale(token.last_used_at, now):
        _write_back(ApiToken.__table__, token, "last_used_at", now)
    if _stale(user.last_seen_at, now):
        _write_back(User.__table__, user, "last_seen_at", now)
    return user


_WRITE_BACK: dict = {}


def _write_back(table, obj, column: str, now: datetime) -> None:
    stmt = _WRITE_BACK.get(column)
    if stmt is None:  # built once per process
        stmt = _WRITE_BACK[column] = (
            update(table).where(table.c.id == bindparam("obj_id")).values({column: bindparam("now")})
        )
    db.session.connection().execute(stmt, {"obj_id": obj.id, "now": now})
    set_committed_value(obj, column, now)


def _stale(at: datetime | None, now: datetime) -> bool:
    return at is None or now - at >= LAST_USED_EVERY or at > now


def user_api_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
