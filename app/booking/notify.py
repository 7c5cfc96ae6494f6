"""Mails about bookings, queued to be sent after the commit (see app.mail).

The booking service calls these at each state change. Each mail is in the recipient's
language (Dutch unless they chose English), with the booking's .ics attached.
"""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.booking.ical import booking_event, calendar_bytes
from app.mail import Attachment, queue_mail


def _recipients(booking) -> tuple[list[str], str]:
    emails, locale = [], "nl"
    if booking.contact_email:
        emails.append(booking.contact_email)
    user = booking.contact_user
    if user is not None:
        locale = user.locale or "nl"
        if user.email and user.email not in emails:
            emails.append(user.email)
    return emails, locale


def _ics(bookings, pickups: dict, returns: dict | None = None) -> Attachment:
    base = current_app.config["BASE_URL"]
    returns = returns or {}
    events = [booking_event(b, base, pickups.get(b.id), back_at=returns.get(b.id)) for b in bookings]
    return Attachment(filename="boeking.ics", content=calendar_bytes(events, "Techlab"))


def _send(kind: str, booking, bookings=None, **extra) -> None:
    bookings = bookings or [booking]
    to, locale = _recipients(booking)
    if not to:
        return
    from app.transport.services import booking_needs_bus, pickup_times, return_times

    if kind == "cancelled":  # a cancelled class rides no bus: no bus line, the event as it was booked
        pickups, returns, awaiting = {}, {}, set()
    else:
        pickups, returns = pickup_times(bookings), return_times(bookings)
        awaiting = {b.id for b in bookings if b.id not in pickups and b.status.value == "confirmed"
                    and booking_needs_bus(b)}
    with force_locale(locale):
        subjects = {
            "confirmed": _("Bevestiging: %(title)s", title=booking.session.offer.title),
            "series": _("Bevestiging van de reeks: %(title)s", title=booking.session.offer.title),
            "waitlisted": _("Op de wachtlijst: %(title)s", title=booking.session.offer.title),
            "promoted": _("Er is plaats: %(title)s is bevestigd", title=booking.session.offer.title),
            "changed": _("Gewijzigd: %(title)s", title=booking.session.offer.title),
            "cancelled": _("Geannuleerd: %(title)s", title=booking.session.offer.title),
            "reminder": _("Herinnering: %(title)s", title=booking.session.offer.title),
            "pickup": _("Busvervoer: %(title)s", title=booking.session.offer.title),
        }
        body = render_template(f"mail/{kind}.txt", booking=booking, bookings=bookings,
                               pickups=pickups, returns=returns, awaiting=awaiting,
                               base_url=current_app.config["BASE_URL"].rstrip("/"), **extra)
        queue_mail(to, subjects[kind], body, [_ics(bookings, pickups, returns)])


def booking_confirmed(booking) -> None:
    _send("confirmed", booking)


def booking_waitlisted(booking) -> None:
    _send("waitlisted", booking)


def booking_promoted(booking) -> None:
    _send("promoted", booking)


def booking_changed(booking) -> None:
    _send("changed", booking)


def booking_cancelled(booking) -> None:
    bookings = list(booking.series.bookings) if booking.series is not None else [booking]
    _send("cancelled", booking, bookings)


def series_confirmed(series) -> None:
    _send("series", series.bookings[0], list(series.bookings))


def reminder(booking) -> None:
    _send("reminder", booking)


def pickup_planned(booking, ordered: bool = True) -> None:
    """The school hears its pickup time and place: when the bus is first planned, and when the
    plan is frozen (ordered)."""
    _send("pickup", booking, ordered=ordered)
