"""Mails about bookings, queued in the outbox and sent after the commit (see app.mail).

The booking service calls these at each state change; they write only an outbox row (who,
which bookings, which notice), so nothing is rendered while the service holds the
session's lock. The outbox worker renders each mail (``render``) in the recipient's
language (Dutch unless they chose English), with the bookings' .ics attached.
"""

from __future__ import annotations

import uuid

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.booking.ical import booking_event, calendar_bytes
from app.mail import Attachment, Mail
from app.ops.logs import current_request_id


def recipients(booking) -> tuple[list[str], str]:
    """The e-mail addresses of a booking's contact (the form's and the account's) and their language."""
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


SUBJECTS = {
    "confirmed": lambda title: _("Bevestiging: %(title)s", title=title),
    "series": lambda title: _("Bevestiging van de reeks: %(title)s", title=title),
    "waitlisted": lambda title: _("Op de wachtlijst: %(title)s", title=title),
    "promoted": lambda title: _("Er is plaats: %(title)s is bevestigd", title=title),
    "offered": lambda title: _("Er is plaats: wilt u %(title)s? Antwoord voor de termijn", title=title),
    "changed": lambda title: _("Gewijzigd: %(title)s", title=title),
    "cancelled": lambda title: _("Geannuleerd: %(title)s", title=title),
    "reminder": lambda title: _("Herinnering: %(title)s", title=title),
    "pickup": lambda title: _("Busvervoer: %(title)s", title=title),
    "requested": lambda title: _("Aangevraagd: %(title)s (wacht op goedkeuring)", title=title),
    "request_received": lambda title: _("Nieuwe aanvraag om goed te keuren: %(title)s", title=title),
    "approved": lambda title: _("Goedgekeurd en bevestigd: %(title)s", title=title),
    "request_declined": lambda title: _("Aanvraag afgewezen: %(title)s", title=title),
    "updated": lambda title: _("Boeking gewijzigd: %(title)s", title=title),
}


# notices of a confirmed place carry the bus: they wait for the re-plan of their sessions (queued in
# the same unit of work), so the worker renders them with the pickup and return times and the .ics
# runs from the pickup to the return. The plan's own first "Busvervoer" mail is then left out.
WAITS_FOR_PLAN = ("confirmed", "promoted", "changed", "updated", "series")


def _send(
    kind: str, booking, bookings=None, *, to: list[str] | None = None, also: tuple[str, ...] = (), **extra
) -> None:
    """Queue the mail in the caller's unit of work: only who gets it and about which
    bookings. It is rendered by the outbox worker (``render``), not under the booking's locks;
    a notice in ``WAITS_FOR_PLAN`` names the sessions whose re-plan it waits for (``after_replan``).
    ``to``: other recipients than the booking's contact (e.g. the coordinators), in Dutch."""
    bookings = bookings or [booking]
    if to is None:
        to, locale = recipients(booking)
        to = to + [a for a in also if a and a not in to]
    else:
        locale = "nl"
    if not to:
        return
    from app.outbox.services import enqueue

    payload = {
        "template": kind,
        "to": to,
        "locale": locale,
        "booking_id": booking.id,
        "booking_ids": [b.id for b in bookings],
        "extra": extra,
    }
    if kind in WAITS_FOR_PLAN:
        payload["after_replan"] = sorted({b.session_id for b in bookings if b.session_id is not None})
    enqueue("mail", payload, f"mail:{kind}:{booking.id}:{uuid.uuid4().hex}", request_id=current_request_id())


def render(payload: dict, request_id: str | None = None) -> Mail:
    """The mail of a queued booking notice, rendered from the bookings as they are now."""
    from app.booking.models import Booking
    from app.extensions import db
    from app.transport.pickups import pickup_times, return_times
    from app.transport.riders import booking_needs_bus

    kind = payload["template"]
    booking = db.session.get(Booking, payload["booking_id"])
    bookings = [b for b in (db.session.get(Booking, i) for i in payload["booking_ids"]) if b is not None]
    if booking is None or not bookings:
        raise LookupError(f"booking {payload['booking_id']} no longer exists")
    if kind in (
        "cancelled",
        "request_declined",
    ):  # a cancelled class rides no bus: no bus line, the event as it was booked
        pickups, returns, awaiting = {}, {}, set()
    else:
        pickups, returns = pickup_times(bookings), return_times(bookings)
        awaiting = {
            b.id for b in bookings if b.id not in pickups and b.status.value == "confirmed" and booking_needs_bus(b)
        }
    files, files_left = _materials(kind, booking)
    with force_locale(payload.get("locale") or "nl"):
        subject = SUBJECTS[kind](booking.session.offer.title)
        body = render_template(
            f"mail/{kind}.txt",
            booking=booking,
            bookings=bookings,
            pickups=pickups,
            returns=returns,
            awaiting=awaiting,
            base_url=current_app.config["BASE_URL"].rstrip("/"),
            materials=[m for m, _data in files],
            materials_left=files_left,
            **(payload.get("extra") or {}),
            **_extra(kind, booking),
        )
    attachments = [_ics(bookings, pickups, returns)]
    attachments += [
        Attachment(
            filename=m.filename,
            content=data,
            maintype=m.content_type.split("/")[0],
            subtype=m.content_type.split("/")[1],
            params={},
        )
        for m, data in files
    ]
    return Mail(_with_school_coordinators(list(payload["to"]), booking), subject, body, attachments, request_id)


def _materials(kind: str, booking) -> tuple[list, list]:
    """The offer's preparation files go with the reminder of part 1 (or of a single booking)."""
    if kind != "reminder" or booking.part_position not in (None, 1):
        return [], []
    from app.labs.materials import attachments_for

    return attachments_for(booking.session.offer_id)


def _with_school_coordinators(to: list[str], booking) -> list[str]:
    """The school's coordinators get every notice about the school's bookings too (issue 18
    point 4): added here, when the worker renders the mail, so the booking's own transaction
    does no extra work."""
    from app.schools.coordinator import school_coordinators

    return to + [u.email for u in school_coordinators(booking.school_id) if u.email not in to]


def _extra(kind: str, booking) -> dict:
    """What a notice says beyond the booking, as it stands when the worker renders it."""
    from app.db import utcnow

    if kind == "waitlisted":
        from app.booking.admission import Wait, waiting_position, why_waiting

        reason = why_waiting(booking, utcnow())
        return {
            "held_back": reason if isinstance(reason, Wait) and reason.rule != "full" else None,
            "position": waiting_position(booking),
        }
    if kind == "promoted":
        from app.booking.services import cancel_deadline

        return {"deadline": cancel_deadline(booking), "now": utcnow()}
    if kind in ("confirmed", "series"):
        from app.booking.services import cancel_deadline

        # booked inside the cancellation period: the mail does not promise a cancel the page does not offer
        deadline = cancel_deadline(booking)
        return {"deadline": deadline, "inside_deadline": (booking.created_at or utcnow()) >= deadline}
    return {}


def booking_confirmed(booking) -> None:
    _send("confirmed", booking)


def booking_waitlisted(booking) -> None:
    _send("waitlisted", booking)  # the rule holding it back and its position: rendered by the worker (_extra)


def booking_promoted(booking) -> None:
    _send("promoted", booking)


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


def pickup_planned(booking, ordered: bool = True) -> None:
    """The school hears its pickup time and place: when the bus is first planned, and when the
    plan is frozen (ordered)."""
    _send("pickup", booking, ordered=ordered)


def coordinator_emails(booking) -> list[str]:
    """Who answers for the booking's session: the active coordinators of its venue (or the offer's);
    without any, the venue's contact address."""
    from sqlalchemy import select

    from app.auth.models import Role, User, coordinator_venues
    from app.extensions import db

    venue = booking.session.venue or booking.session.offer.venue
    if venue is None:
        return []
    emails = list(
        db.session.scalars(
            select(User.email)
            .join(coordinator_venues, coordinator_venues.c.user_id == User.id)
            .where(coordinator_venues.c.venue_id == venue.id, User.role == Role.COORDINATOR, User.active.is_(True))
            .order_by(User.email)
        )
    )
    return [e for e in emails if e] or ([venue.contact_email] if venue.contact_email else [])


def booking_requested(booking, bookings=None) -> None:
    """A booking on an offer with approval: the school hears it waits; the coordinators that it asks."""
    _send("requested", booking, bookings)
    coordinators = coordinator_emails(booking)
    if coordinators:
        _send("request_received", booking, bookings, to=coordinators)


def request_approved(booking, bookings=None) -> None:
    _send("approved", booking, bookings)


def request_declined(booking, bookings=None) -> None:
    _send("request_declined", booking, bookings)


def booking_updated(booking, bookings, changes: dict) -> None:
    """The class changed (pupils, contact …): the school gets old → new; a changed address hears it too."""
    old_email = (changes.get("contact_email") or [None])[0]
    _send("updated", booking, list(bookings), also=(old_email,) if old_email else (), changes=changes)
