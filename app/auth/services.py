"""Accounts: creating users, checking passwords, throttling failed sign-ins."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import LoginAttempt, Region, Role, User
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db

PASSWORD_METHOD = "scrypt"  # memory-hard; werkzeug's default, named here on purpose
MIN_PASSWORD_LENGTH = 10
# a hash to check against when the account does not exist, so timing tells nothing
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


class AuthError(DomainError):
    code = "invalid_credentials"
    status = 401


class ThrottledError(DomainError):
    code = "too_many_attempts"
    status = 429


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def validate_password(password: str) -> None:
    from flask_babel import gettext as _

    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(_("Een wachtwoord heeft minstens %(n)s tekens.", n=MIN_PASSWORD_LENGTH),
                          code="weak_password", field="password")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(*, email: str, role: Role, password: str | None, region: Region | None = None,
                school=None, venues=(), name: str = "", locale: str = "nl") -> User:
    from flask_babel import gettext as _

    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise DomainError(_("Geen geldig e-mailadres."), code="invalid_email", field="email")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DomainError(_("Er bestaat al een account met dit e-mailadres."), code="email_taken", field="email")
    if role != Role.ADMIN and region is None:
        region = school.region if school is not None else None
        if region is None:
            raise DomainError(_("Kies een regio."), code="region_required", field="region")
    if role == Role.TEACHER and school is None:
        raise DomainError(_("Een leerkracht hoort bij een school."), code="school_required", field="school")
    if school is not None and region is not None and school.region_id not in (None, region.id):
        raise DomainError(_("De school hoort niet bij deze regio."), code="school_region", field="school")
    if password is not None:
        validate_password(password)
    user = User(email=email, role=role, region=region if role != Role.ADMIN else region, school=school,
                name=name, locale=locale, password_hash=hash_password(password) if password else None,
                calendar_token=secrets.token_urlsafe(24))
    user.venues = list(venues)
    db.session.add(user)
    db.session.flush()
    return user


def _recent_failures(key: str, since) -> int:
    return db.session.scalar(select(func.count()).select_from(LoginAttempt)
                             .where(LoginAttempt.key == key, LoginAttempt.at >= since)) or 0


def authenticate(email: str, password: str, remote_addr: str | None) -> User:
    """Check a sign-in; raise ThrottledError or AuthError. Commits the attempt record."""
    from flask_babel import gettext as _

    cfg = current_app.config
    email = normalise_email(email)
    now = utcnow()
    since = now - timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    account_key, ip_key = f"email:{email}", f"ip:{remote_addr or '-'}"
    if (_recent_failures(account_key, since) >= cfg["LOGIN_MAX_FAILURES"]
            or _recent_failures(ip_key, since) >= cfg["LOGIN_MAX_FAILURES_PER_IP"]):
        raise ThrottledError(_("Te veel mislukte pogingen. Probeer het over een kwartier opnieuw."))
    user = db.session.scalar(select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH, password or "")
    if not ok or user is None or not user.active or not user.password_hash:
        db.session.add_all([LoginAttempt(key=account_key, at=now), LoginAttempt(key=ip_key, at=now)])
        if user is not None:
            user.failed_logins += 1
        db.session.commit()
        raise AuthError(_("Onbekend e-mailadres of onjuist wachtwoord."))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == account_key))
    user.failed_logins = 0
    user.last_login_at = now
    return user
