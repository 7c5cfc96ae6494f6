"""The coordinator's desk: finding bookings, acting on many at once, messaging schools.

Every action on a booking goes through the booking service (``app.booking.services``), so
the admission decision, the locks and the outbox apply as on a single booking. A bulk action
is one unit of work: each booking runs in a savepoint, so a booking the service refuses is
left exactly as it was (and its mail and re-plan rows with it), while the others go ahead;
the caller commits once. The summary says per booking what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.auth import permissions
from app.auth.models import User
from app.booking import services as booking_services
from app.booking.errors import InvalidInput, NotAllowed
from app.booking.models import Booking, BookingEvent, BookingStatus
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.labs.models import Offer, Session, SessionStatus, Venue
from app.mail import queue_mail
from app.schools.models import School
from app.scoping import offer_scope, session_scope
from app.timeutil import local_to_utc, to_local

PAGE_SIZE = 50
MAX_BULK = 200
MAX_SUBJECT = 150
MAX_TEXT = 5000


def can_use_desk(user) -> bool:
    """Coordinators (their venues), programme leaders (their region, to look) and administrators."""
    return permissions.is_coordinator(user) or permissions.is_programme_leader(user) or permissions.is_admin(user)


def can_act(user) -> bool:
    """Who may change bookings from the desk (each booking is still checked by its service)."""
    return permissions.is_coordinator(user) or permissions.is_admin(user)


@dataclass(frozen=True)
class BookingFilter:
    """The desk's search, as it stands in the URL."""

    school: str = ""  # part of a school's name, its place, or its vestigingscode
    offer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""  # a BookingStatus value, or "" for all

    def args(self) -> dict:
        out = {
            "school": self.school,
            "offer_id": self.offer_id,
            "van": self.date_from.isoformat() if self.date_from else None,
            "tot": self.date_to.isoformat() if self.date_to else None,
            "status": self.status,
        }
        return {k: v for k, v in out.items() if v not in (None, "")}


def visible_bookings(user: User):
    """The bookings this user sees on the desk: a coordinator those of their venues, a
    programme leader those of their region, an administrator all."""
    stmt = select(Booking).join(Session, Booking.session_id == Session.id).join(Offer, Session.offer_id == Offer.id)
    return stmt.where(*session_scope(user))


def search_stmt(user: User, f: BookingFilter):
    stmt = visible_bookings(user).join(School, Booking.school_id == School.id)
    if f.school:
        like = f"%{f.school.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(School.name).like(like),
                func.lower(School.location_code).like(like),
                func.lower(School.city).like(like),
            )
        )
    if f.offer_id:
        stmt = stmt.where(Offer.id == f.offer_id)
    if f.date_from:
        stmt = stmt.where(Session.starts_at >= local_to_utc(f.date_from, time(0)))
    if f.date_to:
        stmt = stmt.where(Session.starts_at < local_to_utc(f.date_to + timedelta(days=1), time(0)))
    if f.status:
        stmt = stmt.where(Booking.status == BookingStatus(f.status))
    return stmt


def search(user: User, f: BookingFilter, page: int = 1, per_page: int = PAGE_SIZE) -> tuple[list[Booking], int]:
    """One page of the filtered bookings (by date, then school) and the total count."""
    stmt = search_stmt(user, f)
    total = db.session.scalar(select(func.count()).select_from(stmt.with_only_columns(Booking.id).subquery()))
    rows = db.session.scalars(
        stmt.options(
            selectinload(Booking.school),
            selectinload(Booking.session).selectinload(Session.offer),
            selectinload(Booking.session).selectinload(Session.venue),
        )
        .order_by(Session.starts_at, School.name, Booking.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total or 0


def all_rows(user: User, f: BookingFilter):
    """Every filtered booking, in the list's order (for the CSV export). Loaded before the answer
    streams: a server-side cursor would not outlive the request's transaction on PostgreSQL."""
    stmt = (
        search_stmt(user, f)
        .options(
            selectinload(Booking.school),
            selectinload(Booking.session).selectinload(Session.offer),
            selectinload(Booking.session).selectinload(Session.venue),
        )
        .order_by(Session.starts_at, School.name, Booking.id)
    )
    return db.session.scalars(stmt).all()


def offers_for(user: User) -> list[Offer]:
    stmt = select(Offer).where(*offer_scope(user)).order_by(Offer.school_year.desc(), Offer.title)
    return list(db.session.scalars(stmt.limit(500)))


def move_targets(user: User, offer_id: int) -> list[Session]:
    """Upcoming sessions of an offer (not cancelled) that the user manages: where bookings may move to."""
    rows = db.session.scalars(
        select(Session)
        .where(Session.offer_id == offer_id, Session.starts_at > utcnow(), Session.status != SessionStatus.CANCELLED)
        .order_by(Session.starts_at)
        .limit(200)
    )
    return [s for s in rows if permissions.can_manage_session(user, s)]


# ------------------------------------------------------------------ bulk actions


@dataclass
class Outcome:
    booking_id: int
    school: str
    when: datetime | None
    ok: bool
    message: str


@dataclass
class BulkResult:
    action: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)


def _bookings_for(actor: User, ids: list[int]) -> list[Booking]:
    ids = sorted(set(ids))
    if not ids:
        raise InvalidInput(_("Kies eerst boekingen."), field="booking_id")
    if len(ids) > MAX_BULK:
        raise InvalidInput(_("Kies hoogstens %(n)s boekingen tegelijk.", n=MAX_BULK), field="booking_id")
    rows = list(db.session.scalars(visible_bookings(actor).where(Booking.id.in_(ids)).order_by(Booking.id)))
    if len(rows) != len(ids):  # an id this actor may not see: refuse the whole request (no leaking which)
        raise NotAllowed(_("Een of meer gekozen boekingen bestaan niet of horen niet bij uw techlabs."))
    return rows


def _run(result: BulkResult, booking: Booking, call, done: str) -> None:
    school, when = booking.school.name, booking.session.starts_at
    try:
        with db.session.begin_nested():
            call()
    except DomainError as exc:
        result.outcomes.append(Outcome(booking.id, school, when, False, exc.message))
    else:
        result.outcomes.append(Outcome(booking.id, school, when, True, done))


def bulk_cancel(actor: User, ids: list[int], reason: str, *, now: datetime | None = None) -> BulkResult:
    reason = (reason or "").strip()
    if not can_act(actor):
        raise NotAllowed(_("Alleen coördinatoren kunnen boekingen annuleren."))
    if not reason:
        raise InvalidInput(_("Geef een reden: de scholen krijgen die te lezen."), field="reason")
    result = BulkResult("cancel")
    for b in _bookings_for(actor, ids):
        bid = b.id
        _run(
            result,
            b,
            lambda bid=bid: booking_services.cancel_booking(actor, bid, reason, now=now),
            _("Geannuleerd; de school krijgt bericht."),
        )
    return result


def move_target(actor: User, session_id: int | None, offer_id: int | None) -> Session:
    """The session a bulk move goes to: one of ``move_targets`` of the offer the desk is filtered
    on (a move needs a filter on one offer), the same choice the page offers."""
    if not offer_id:
        raise InvalidInput(
            _("Verplaatsen kan alleen met een filter op één aanbod: kies eerst het aanbod in het filter."),
            field="offer_id",
        )
    if not session_id:
        raise InvalidInput(_("Kies de les waarnaar de boekingen gaan."), field="session_id")
    target = next((s for s in move_targets(actor, offer_id) if s.id == session_id), None)
    if target is None:
        raise InvalidInput(
            _("Kies een komende les van het aanbod in het filter om de boekingen naar te verplaatsen."),
            field="session_id",
        )
    return target


def bulk_move(
    actor: User,
    ids: list[int],
    session_id: int | None,
    reason: str,
    *,
    offer_id: int | None,
    now: datetime | None = None,
) -> BulkResult:
    """Move the chosen bookings to one session of the offer the desk is filtered on; each
    booking goes through the booking service (a booking of another offer is refused there)."""
    reason = (reason or "").strip()
    if not can_act(actor):
        raise NotAllowed(_("Alleen coördinatoren kunnen boekingen verplaatsen."))
    if not reason:
        raise InvalidInput(_("Geef een reden voor het verplaatsen."), field="reason")
    session_id = move_target(actor, session_id, offer_id).id
    result = BulkResult("move")
    for b in _bookings_for(actor, ids):
        bid = b.id
        _run(
            result,
            b,
            lambda bid=bid: booking_services.move_booking(actor, bid, session_id, reason, now=now),
            _("Verplaatst; de school krijgt bericht."),
        )
    return result


def _recipients(booking: Booking) -> list[str]:
    to = [booking.contact_email] if booking.contact_email else []
    if booking.contact_user is not None and booking.contact_user.email and booking.contact_user.email not in to:
        to.append(booking.contact_user.email)
    return to


def message_booking(actor: User, booking: Booking, subject: str, text: str, *, now: datetime | None = None) -> bool:
    """Mail one booking's contact through the outbox and log it on the booking. False: no address."""
    from flask import render_template

    if not permissions.can_manage_session(actor, booking.session):
        raise NotAllowed(_("U beheert deze les niet."))
    to = _recipients(booking)
    if not to:
        return False
    from flask_babel import force_locale

    locale = (booking.contact_user.locale if booking.contact_user is not None else None) or "nl"
    with force_locale(locale):  # the school reads the footer in its own language (Dutch unless it chose English)
        body = render_template("desk/message.txt", booking=booking, text=text, sender=actor)
    queue_mail(to, subject, body)
    booking.events.append(
        BookingEvent(actor_id=actor.id, at=now or utcnow(), action="message", reason="", data={"subject": subject})
    )
    db.session.flush()
    return True


def _message_input(subject: str, text: str) -> tuple[str, str]:
    subject = " ".join((subject or "").split())  # one line: a mail header never carries a line break
    text = (text or "").strip()
    if not subject:
        raise InvalidInput(_("Geef het bericht een onderwerp."), field="subject")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(_("Het onderwerp is te lang (hoogstens %(n)s tekens).", n=MAX_SUBJECT), field="subject")
    if not text:
        raise InvalidInput(_("Schrijf het bericht."), field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("Het bericht is te lang (hoogstens %(n)s tekens).", n=MAX_TEXT), field="text")
    return subject, text


def bulk_message(actor: User, ids: list[int], subject: str, text: str, *, now: datetime | None = None) -> BulkResult:
    if not can_act(actor):
        raise NotAllowed(_("Alleen coördinatoren kunnen scholen een bericht sturen."))
    subject, text = _message_input(subject, text)
    result = BulkResult("message")
    for b in _bookings_for(actor, ids):
        school, when = b.school.name, b.session.starts_at
        try:
            with db.session.begin_nested():
                sent = message_booking(actor, b, subject, text, now=now)
        except DomainError as exc:
            result.outcomes.append(Outcome(b.id, school, when, False, exc.message))
            continue
        result.outcomes.append(
            Outcome(
                b.id,
                school,
                when,
                sent,
                _("Bericht verstuurd.") if sent else _("Geen e-mailadres bekend; niet verstuurd."),
            )
        )
    return result


# ------------------------------------------------------------------ messaging a session's or a day's schools

MESSAGED = (BookingStatus.CONFIRMED, BookingStatus.OFFERED, BookingStatus.WAITLISTED)


def session_bookings(session: Session) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking).where(Booking.session_id == session.id, Booking.status.in_(MESSAGED)).order_by(Booking.id)
        )
    )


def day_bookings(venue: Venue, day: date) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .join(Session, Booking.session_id == Session.id)
            .join(Offer, Session.offer_id == Offer.id)
            .where(
                or_(Session.venue_id == venue.id, (Offer.venue_id == venue.id) & Session.venue_id.is_(None)),
                Session.status != SessionStatus.CANCELLED,
                Booking.status.in_(MESSAGED),
                Session.starts_at >= local_to_utc(day, time(0)),
                Session.starts_at < local_to_utc(day + timedelta(days=1), time(0)),
            )
            .order_by(Session.starts_at, Booking.id)
        )
    )


def message_schools(
    actor: User, bookings: list[Booking], subject: str, text: str, *, now: datetime | None = None
) -> BulkResult:
    """Message the contacts of these bookings (a session's or a day's): one mail per booking
    through the outbox, logged on each booking."""
    return bulk_message(actor, [b.id for b in bookings], subject, text, now=now) if bookings else BulkResult("message")


# ------------------------------------------------------------------ the week grid


def week_sessions(user: User, first: date) -> list[Session]:
    """The sessions of the user's venues (a coordinator) or region in the week from ``first`` (a Monday)."""
    stmt = (
        select(Session)
        .join(Offer, Session.offer_id == Offer.id)
        .options(selectinload(Session.offer), selectinload(Session.venue))
        .where(
            Session.starts_at >= local_to_utc(first, time(0)),
            Session.starts_at < local_to_utc(first + timedelta(days=7), time(0)),
        )
    )
    return list(db.session.scalars(stmt.where(*session_scope(user)).order_by(Session.starts_at, Offer.title)))


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def week_grid(sessions: list[Session], first: date) -> tuple[list[date], dict, dict]:
    """The week grid: its days (Monday to Friday, or to Sunday when a session falls in the
    weekend), its places (a venue's name, or "at school", with the venue) and per (place, day)
    the sessions there."""
    days = [first + timedelta(days=i) for i in range(7)]
    if not any(to_local(s.starts_at).weekday() >= 5 for s in sessions):
        days = days[:5]
    places: dict = {}
    grid: dict = {}
    for s in sessions:
        place = s.venue.name if s.venue else _("Op school")
        places.setdefault(place, s.venue)
        grid.setdefault((place, to_local(s.starts_at).date()), []).append(s)
    return days, places, grid
