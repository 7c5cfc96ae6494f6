"""Retention: personal data of accounts unused for RETENTION_DAYS is removed.

Administrators are kept (someone must be able to sign in). Expired password-reset
links and old sign-in attempt records go too. Safe to run twice: a second run finds
nothing left to remove.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select

from app.auth.models import LoginAttempt, LoginSession, PasswordResetToken, Role, User
from app.auth.privacy import remove_personal_data
from app.extensions import db


def inactive_accounts(now: datetime) -> list[User]:
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    last_activity = func.coalesce(User.last_seen_at, User.last_login_at, User.created_at)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role != Role.ADMIN,
                last_activity < cutoff,
                or_(User.last_login_at.is_(None), User.last_login_at < cutoff),
            )
            .order_by(User.id)
            .with_for_update(skip_locked=True)
        )
    )


def apply_retention(now: datetime) -> str:
    users = inactive_accounts(now)
    for user in users:
        remove_personal_data(user)
    keep_attempts = max(current_app.config["LOGIN_WINDOW_SECONDS"], 3600)
    tokens = db.session.execute(
        delete(PasswordResetToken).where(
            or_(PasswordResetToken.expires_at < now, PasswordResetToken.used_at.is_not(None))
        )
    ).rowcount
    attempts = db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(seconds=keep_attempts))
    ).rowcount
    # ended sign-in sessions, and those older than any cookie that could still name them
    max_age = max(
        _seconds(current_app.config.get("PERMANENT_SESSION_LIFETIME", 0)),
        _seconds(current_app.config.get("REMEMBER_COOKIE_DURATION", 0)),
    )
    sessions = db.session.execute(
        delete(LoginSession).where(
            or_(LoginSession.ended_at.is_not(None), LoginSession.created_at < now - timedelta(seconds=max_age + 86400))
        )
    ).rowcount
    from app.auth.oidc import purge_nonces

    nonces = purge_nonces(now)
    db.session.flush()
    return (
        f"{len(users)} accounts removed, {tokens} reset links, {attempts} sign-in attempts, "
        f"{sessions} sign-in sessions, {nonces} spent sign-in nonces"
    )


def _seconds(value) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value or 0)


JOBS = [{"id": "auth.retention", "func": apply_retention, "trigger": "cron", "hour": 3, "minute": 40}]
