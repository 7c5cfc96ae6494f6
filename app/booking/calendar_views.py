"""Calendar: a private feed URL per user, and one .ics per booking."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.auth import permissions
from app.auth.models import Role, User
from app.booking.ical import booking_event, calendar_bytes, session_event
from app.booking.models import Booking, BookingStatus
from app.db import utcnow
from app.extensions import db
from app.labs.models import Offer, Session
from app.scoping import session_scope
from app.web import load_or_404

bp = Blueprint("calendar", __name__, template_folder="templates", url_prefix="/agenda")


def _ics_response(data: bytes, filename: str) -> Response:
    resp = Response(data, mimetype="text/calendar")
    resp.headers["Content-Type"] = "text/calendar; charset=utf-8"
    from app.inputs import content_disposition

    resp.headers["Content-Disposition"] = content_disposition(filename, "inline")
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp


def _booking_events(bookings, base: str) -> list:
    from app.transport.pickups import pickup_times, return_times

    pickups, returns = pickup_times(bookings), return_times(bookings)
    return [booking_event(b, base, pickups.get(b.id), back_at=returns.get(b.id)) for b in bookings]


def feed_events(user: User):
    """The events of a user's feed: a teacher's school bookings, a coordinator's sessions."""
    base = current_app.config["BASE_URL"]
    since = utcnow() - timedelta(days=60)
    if user.role in (Role.TEACHER, Role.SCHOOL_COORDINATOR):
        bookings = db.session.scalars(
            select(Booking)
            .join(Session, Booking.session_id == Session.id)
            .where(
                Booking.school_id == user.school_id,
                Session.starts_at >= since,
                Booking.status != BookingStatus.WAITLISTED,
            )
            .order_by(Session.starts_at)
        ).all()
        return _booking_events(bookings, base)
    if user.role not in (Role.COORDINATOR, Role.PROGRAMME_LEADER):
        return []
    stmt = select(Session).join(Offer, Session.offer_id == Offer.id).where(Session.starts_at >= since)
    stmt = stmt.where(*session_scope(user))
    return [session_event(s, base) for s in db.session.scalars(stmt.order_by(Session.starts_at).limit(5000))]


@bp.get("/<token>.ics")
def feed(token: str):
    if len(token) > 100:
        abort(404)
    user = db.session.scalar(select(User).where(User.calendar_token == token, User.active.is_(True)))
    if user is None:
        abort(404)
    return _ics_response(calendar_bytes(feed_events(user), _("Techlab boekingen")), "techlab.ics")


@bp.get("/boeking/<int:booking_id>.ics")
@login_required
def booking_ics(booking_id: int):
    booking = load_or_404(Booking, booking_id, permissions.can_view_booking)
    bookings = list(booking.series.bookings) if booking.series is not None else [booking]
    base = current_app.config["BASE_URL"]
    return _ics_response(calendar_bytes(_booking_events(bookings, base), "Techlab"), f"boeking-{booking.id}.ics")


@bp.get("/")
@login_required
def settings():
    if not current_user.calendar_token:
        current_user.calendar_token = secrets.token_urlsafe(24)  # committed with the page (unit of work)
    url = current_app.config["BASE_URL"].rstrip("/") + url_for("calendar.feed", token=current_user.calendar_token)
    return render_template("calendar/settings.html", feed_url=url)


@bp.post("/nieuw-adres")
@login_required
def regenerate():
    current_user.calendar_token = secrets.token_urlsafe(24)
    flash(_("U heeft een nieuw agenda-adres. Het oude adres werkt niet meer."), "success")
    return redirect(url_for("calendar.settings"))
