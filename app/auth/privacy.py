"""Privacy (AVG/GDPR): what we hold about a person, its export, and its removal.

Removing a person keeps what the region needs in totals: bookings keep their school,
class and counts, but lose the contact person; the audit trail keeps its events with
no actor. The same removal serves "delete my account" and the retention job.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from werkzeug.security import check_password_hash

from app.auth.models import ApiToken, LoginAttempt, PasswordResetToken, Role, User
from app.auth.tokens import user_api_tokens
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db

audit = logging.getLogger("app.audit")

# an account without a password (school account, e-mail link) deletes itself only this soon
# after signing in: a session left open on a shared computer cannot remove the account
RECENT_SIGN_IN = timedelta(minutes=15)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def contact_bookings(user: User):
    """The bookings this person is the contact of (by account, or by their address)."""
    from app.booking.models import Booking

    return db.session.scalars(
        select(Booking)
        .where(or_(Booking.contact_user_id == user.id, Booking.contact_email == user.email))
        .order_by(Booking.created_at)
    ).all()


def export_user_data(user: User, now: datetime | None = None) -> dict:
    """Everything stored about the person, as plain JSON-able data (inzage and export)."""
    from app.booking.models import BookingEvent, RoundRequest

    bookings = [
        {
            "id": b.id,
            "offer": b.session.offer.title,
            "starts_at": _iso(b.session.starts_at),
            "school": b.school.name,
            "status": b.status.value,
            "groep": b.groep_label,
            "pupils": b.pupils,
            "adults": b.adults,
            "contact_name": b.contact_name,
            "contact_email": b.contact_email,
            "remarks": b.remarks,
            "created_at": _iso(b.created_at),
        }
        for b in contact_bookings(user)
    ]
    requests = [
        {
            "id": r.id,
            "round": r.round.title,
            "groep_min": r.groep_min,
            "groep_max": r.groep_max,
            "pupils": r.pupils,
            "adults": r.adults,
            "created_at": _iso(r.created_at),
        }
        for r in db.session.scalars(select(RoundRequest).where(RoundRequest.user_id == user.id))
    ]
    events = [
        {"booking_id": e.booking_id, "action": e.action, "at": _iso(e.at)}
        for e in db.session.scalars(
            select(BookingEvent).where(BookingEvent.actor_id == user.id).order_by(BookingEvent.at)
        )
    ]
    tokens = [
        {
            "name": t.name,
            "prefix": t.prefix,
            "created_at": _iso(t.created_at),
            "expires_at": _iso(t.expires_at),
            "last_used_at": _iso(t.last_used_at),
            "revoked_at": _iso(t.revoked_at),
        }
        for t in user_api_tokens(user)
    ]
    return {
        "exported_at": _iso(now or utcnow()),
        "account": {
            "email": user.email,
            "name": user.name,
            "role": user.role.value,
            "region": user.region.name if user.region else None,
            "school": user.school.name if user.school else None,
            "venues": [v.name for v in user.venues],
            "locale": user.locale,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "last_seen_at": _iso(user.last_seen_at),
            "failed_logins": user.failed_logins,
            "calendar_feed": bool(user.calendar_token),
        },
        "bookings": bookings,
        "round_requests": requests,
        "booking_events": events,
        "api_tokens": tokens,
        # sign-in with a school account: the provider, the pseudonymous id it gave, the institution code
        "sign_in_links": [
            {
                "provider": i.provider,
                "subject": i.subject,
                "institution": i.institution,
                "created_at": _iso(i.created_at),
                "last_login_at": _iso(i.last_login_at),
            }
            for i in user.oidc_identities
        ],
    }


def remove_personal_data(user: User) -> None:
    """Remove the account; what it leaves behind keeps counts, not the person."""
    from app.booking.models import Booking, BookingEvent, RoundRequest
    from app.labs.models import KitLoan

    user_id, email = user.id, user.email
    db.session.execute(
        update(Booking)
        .where(or_(Booking.contact_user_id == user_id, Booking.contact_email == email))
        .values(contact_user_id=None, contact_name="", contact_email="")
        .execution_options(synchronize_session="fetch")
    )
    db.session.execute(
        update(BookingEvent)
        .where(BookingEvent.actor_id == user_id)
        .values(actor_id=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.execute(
        update(RoundRequest)
        .where(RoundRequest.user_id == user_id)
        .values(user_id=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.execute(
        update(KitLoan)
        .where(KitLoan.booked_by_id == user_id)
        .values(booked_by_id=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user_id).execution_options(synchronize_session=False))
    db.session.execute(
        delete(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key.in_([f"email:{email}", f"reset:{email}"])))
    user.venues = []
    db.session.delete(user)
    db.session.flush()
    audit.info("personal data removed (account %s)", user_id)


def delete_account(user: User, password: str = "", email: str = "", now: datetime | None = None) -> None:
    """The person removes their own account. With a password, the password confirms it. An
    account without one (school account, e-mail link) confirms with its e-mail address typed
    again, within RECENT_SIGN_IN of signing in (else: sign in again, then delete)."""
    from flask_babel import gettext as _

    from app.auth.services import session_started_at

    now = now or utcnow()
    if user.password_hash:
        if not password:
            raise DomainError(_("Vul uw wachtwoord in om te bevestigen."), code="invalid_credentials", field="password")
        if not check_password_hash(user.password_hash, password):
            raise DomainError(_("Uw wachtwoord klopt niet."), code="invalid_credentials", field="password")
    else:
        if (email or "").strip().lower() != (user.email or "").strip().lower():
            raise DomainError(
                _("Typ het e-mailadres van uw account om te bevestigen."), code="invalid_confirmation", field="email"
            )
        started = session_started_at(user)
        if started is None or now - started > RECENT_SIGN_IN:
            raise DomainError(
                _(
                    "Log eerst opnieuw in (met uw schoolaccount of een inloglink) en verwijder daarna binnen "
                    "%(minutes)s minuten uw account.",
                    minutes=int(RECENT_SIGN_IN.total_seconds() // 60),
                ),
                code="reauthentication_required",
                field="email",
            )
    if user.role == Role.ADMIN:
        others = db.session.scalar(
            select(User.id).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id).limit(1)
        )
        if others is None:
            raise DomainError(_("U bent de laatste beheerder; maak eerst een andere beheerder aan."), code="last_admin")
    remove_personal_data(user)
