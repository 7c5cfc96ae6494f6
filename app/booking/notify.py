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


def _ics(bookings, pickups: dict) -> Attachment:
    base = current_app.config["BASE_URL"]
    events = [booking_event(b, base, pickups.get(b.id)) for b in bookings]
    return Attachment(filename="boeking.ics", content=calendar_bytes(events, "Techlab"))


def _send(kind: str, booking, bookings=None, **extra) -> None:
    bookings = bookings or [booking]
    to, locale = _recipients(booking)
    if not to:
        return
    from app.transport.services import pickup_times

    pickups = pickup_times(bookings)
    with force_locale(locale):
        subjects = {
            "confirmed": _("Bevestiging: %(title)s", title=booking.session.offer.title),
            "series": _("Bevestiging van de reeks: %(title)s", title=booking.session.offer.title),
            "waitlisted": _("Op de wachtlijst: %(title)s", title=booking.session.offer.title),
            "promoted": _("Er is plaats: %(title)s is bevestigd", title=booking.session.offer.title),
            "offered": _("Er is plaats: wilt u %(title)s? Antwoord voor de termijn", title=booking.session.offer.title),
            "changed": _("Gewijzigd: %(title)s", title=booking.session.offer.title),
            "cancelled": _("Geannuleerd: %(title)s", title=booking.session.offer.title),
            "reminder": _("Herinnering: %(title)s", title=booking.session.offer.title),
            "pickup": _("Busvervoer: %(title)s", title=booking.session.offer.title),
        }
        body = render_template(f"mail/{kind}.txt", booking=booking, bookings=bookings,
                               pickups=pickups,
                               base_url=current_app.config["BASE_URL"].rstrip("/"), **extra)
        queue_mail(to, subjects[kind], body, [_ics(bookings, pickups)])


def booking_confirmed(booking) -> None:
    _send("confirmed", booking)


def booking_waitlisted(booking) -> None:
    from app.booking.admission import Wait, waiting_position, why_waiting
    from app.db import utcnow

    reason = why_waiting(booking, utcnow())
    _send("waitlisted", booking, held_back=reason if isinstance(reason, Wait) and reason.rule != "full" else None,
          position=waiting_position(booking))


def booking_promoted(booking) -> None:
    from app.booking.services import cancel_deadline
    from app.db import utcnow

    _send("promoted", booking, deadline=cancel_deadline(booking), now=utcnow())


def booking_offered(booking) -> None:
    """A place from the waiting list inside the cancellation deadline: accept or decline in time."""
    _send("offered", booking)


def booking_changed(booking) -> None:
    _send("changed", booking)


def booking_cancelled(booking) -> None:
    bookings = list(booking.series.bookings) if booking.series is not None else [booking]
    _send("cancelled", booking, bookings)


def series_confirmed(series) -> None:
    _send("series", series.bookings[0], list(series.bookings))


def reminder(booking) -> None:
    _send("reminder", booking)


def pickup_planned(booking) -> None:
    """The bus plan is frozen (ordered): the school hears its pickup time and place."""
    _send("pickup", booking)
