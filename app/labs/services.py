"""The lab coordinator's rules: venues, offers and their parts, session planning, staff, kits.

Plain functions that take the acting user and plain values, flush but never commit, and
raise DomainError subclasses with a field where it fits. Booking-side effects (capacity,
cancelling sessions with bookings) go through the booking service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from app.auth import permissions
from app.auth.models import User
from app.errors import DomainError, PermissionDeniedError
from app.extensions import db
from app.locking import is_postgres, set_lock_timeout
from app.labs.models import (
    Kit,
    KitLoan,
    KitLoanStatus,
    Offer,
    OfferPart,
    PartLocation,
    Session,
    SessionStatus,
    Staff,
    Venue,
    VenueClosure,
    VenueKind,
)
from app.labs.planning import Pattern, Skipped, generate_slots, overlaps
from app.schools.geo import coordinates_for_postcode


class LabError(DomainError):
    code = "invalid"


def _require(ok: bool, message: str | None = None) -> None:
    if not ok:
        raise PermissionDeniedError(message or _("U beheert dit niet."))


# ------------------------------------------------------------------ venues

VENUE_FIELDS = (
    "kind",
    "name",
    "organisation",
    "description",
    "street",
    "house_number",
    "postcode",
    "city",
    "rooms",
    "accessibility",
    "contact_name",
    "contact_email",
    "contact_phone",
    "opening_days",
)


def save_venue(actor: User, venue: Venue | None, data: dict) -> Venue:
    if venue is None:
        _require(permissions.is_coordinator(actor) or permissions.is_admin(actor))
        region_id = data.get("region_id") or actor.region_id
        if region_id is None:
            raise LabError(_("Kies een regio."), field="name")
        venue = Venue(region_id=region_id, kind=VenueKind(data["kind"]), name=data["name"])
        db.session.add(venue)
        if permissions.is_coordinator(actor):
            actor.venues.append(venue)
    else:
        _require(permissions.can_manage_venue(actor, venue))
    for key in VENUE_FIELDS:
        if key in data and data[key] is not None:
            setattr(venue, key, VenueKind(data[key]) if key == "kind" else data[key])
    if not venue.opening_days:
        raise LabError(_("Kies minstens één openingsdag."), field="opening_days")
    lat, lon = data.get("latitude"), data.get("longitude")
    if lat is not None and lon is not None:
        venue.latitude, venue.longitude = lat, lon
    elif venue.postcode:
        coords = coordinates_for_postcode(venue.postcode)
        if coords is None:
            raise LabError(_("Deze postcode kennen we niet; vul de coördinaten in."), field="postcode")
        venue.latitude, venue.longitude = coords
    clash = db.session.scalar(
        select(Venue.id).where(
            Venue.region_id == venue.region_id, Venue.name == venue.name, Venue.id != (venue.id or 0)
        )
    )
    if clash:
        raise LabError(_("Er is al een locatie met deze naam in de regio."), field="name")
    db.session.flush()
    return venue


def add_closure(actor: User, venue: Venue, starts_on: date, ends_on: date, reason: str) -> VenueClosure:
    _require(permissions.can_manage_venue(actor, venue))
    if ends_on < starts_on:
        raise LabError(_("De einddatum ligt voor de begindatum."), field="ends_on")
    closure = VenueClosure(venue=venue, starts_on=starts_on, ends_on=ends_on, reason=reason[:200])
    db.session.add(closure)
    db.session.flush()
    return closure


# ------------------------------------------------------------------ offers

OFFER_FIELDS = (
    "title",
    "description",
    "world",
    "kind",
    "groep_min",
    "groep_max",
    "duration_minutes",
    "capacity_pupils",
    "capacity_classes",
    "adults_per_class",
    "booking_opens_at",
    "booking_closes_at",
    "cancel_deadline_days",
    "preparation",
    "bus_provided",
    "venue_id",
    "school_year",
    "booking_horizon_weeks",
    "min_notice_days",
    "change_deadline_days",
    "approval_required",
)


def save_offer(actor: User, offer: Offer | None, data: dict) -> Offer:
    venue = (
        permissions.linkable(actor, Venue, data["venue_id"], field="venue_id", check=permissions.can_manage_venue)
        if data.get("venue_id")
        else None
    )
    if offer is None:
        _require(permissions.can_create_offer(actor))
        offer = Offer(region_id=venue.region_id if venue else actor.region_id)
        db.session.add(offer)
    else:
        _require(permissions.can_manage_offer(actor, offer))
    for key in OFFER_FIELDS:
        if key in data:
            setattr(offer, key, data[key])
    if offer.groep_min > offer.groep_max:
        raise LabError(_("De laagste groep is hoger dan de hoogste."), field="groep_min")
    if offer.booking_opens_at and offer.booking_closes_at and offer.booking_closes_at <= offer.booking_opens_at:
        raise LabError(_("Boeken moet sluiten na het openen."), field="booking_closes_at")
    if offer.booking_horizon_weeks is not None and offer.booking_horizon_weeks * 7 <= (offer.min_notice_days or 0):
        raise LabError(
            _("Zo kan niemand boeken: de boekingshorizon moet verder vooruit liggen dan de minimale termijn."),
            field="booking_horizon_weeks",
        )
    db.session.flush()
    return offer


def save_part(
    actor: User,
    offer: Offer,
    position: int,
    *,
    title: str,
    location: PartLocation,
    venue_id: int | None,
    min_days: int,
    max_days: int,
) -> OfferPart:
    _require(permissions.can_manage_offer(actor, offer))
    if not 1 <= position <= 3:
        raise LabError(_("Een reeks heeft hoogstens drie delen."), field="position")
    if max_days < min_days:
        raise LabError(_("Het maximum aantal dagen is kleiner dan het minimum."), field="max_days")
    if location == PartLocation.VENUE and not venue_id:
        raise LabError(_("Kies de locatie van dit deel."), field="venue_id")
    if location == PartLocation.VENUE:  # a venue of the offer's region that the actor may link to
        venue_id = permissions.linkable(
            actor, Venue, venue_id, field="venue_id", check=lambda _u, v: v.region_id == offer.region_id
        ).id
    part = next((p for p in offer.parts if p.position == position), None)
    if part is None:
        part = OfferPart(position=position, title=title, location=location)
        offer.parts.append(part)
    part.title, part.location = title, location
    part.venue_id = venue_id if location == PartLocation.VENUE else None
    part.min_days_after_previous, part.max_days_after_previous = (0, 0) if position == 1 else (min_days, max_days)
    db.session.flush()
    return part


def set_published(actor: User, offer: Offer, published: bool) -> None:
    _require(permissions.can_manage_offer(actor, offer))
    offer.published = published


def copy_offer_to_next_year(actor: User, offer: Offer) -> Offer:
    """A copy (with its parts) for the next school year, unpublished; dates move one year on."""
    _require(permissions.can_manage_offer(actor, offer))
    exists = db.session.scalar(
        select(Offer.id).where(Offer.copied_from_id == offer.id, Offer.school_year == offer.school_year + 1)
    )
    if exists:
        raise LabError(_("Dit aanbod is al gekopieerd naar het volgende schooljaar."), code="already_copied")
    shift = lambda dt: dt.replace(year=dt.year + 1) if dt else None
    copy = Offer(
        region_id=offer.region_id,
        venue_id=offer.venue_id,
        school_year=offer.school_year + 1,
        kind=offer.kind,
        title=offer.title,
        description=offer.description,
        world=offer.world,
        groep_min=offer.groep_min,
        groep_max=offer.groep_max,
        duration_minutes=offer.duration_minutes,
        capacity_pupils=offer.capacity_pupils,
        capacity_classes=offer.capacity_classes,
        adults_per_class=offer.adults_per_class,
        booking_opens_at=shift(offer.booking_opens_at),
        booking_closes_at=shift(offer.booking_closes_at),
        cancel_deadline_days=offer.cancel_deadline_days,
        preparation=offer.preparation,
        bus_provided=offer.bus_provided,
        published=False,
        booking_horizon_weeks=offer.booking_horizon_weeks,
        min_notice_days=offer.min_notice_days,
        change_deadline_days=offer.change_deadline_days,
        approval_required=offer.approval_required,
        copied_from_id=offer.id,
    )
    copy.parts = [
        OfferPart(
            position=p.position,
            title=p.title,
            description=p.description,
            location=p.location,
            venue_id=p.venue_id,
            min_days_after_previous=p.min_days_after_previous,
            max_days_after_previous=p.max_days_after_previous,
        )
        for p in offer.parts
    ]
    db.session.add(copy)
    db.session.flush()
    return copy


# ------------------------------------------------------------------ sessions


@dataclass
class PlanPreview:
    slots: list[tuple[datetime, datetime]]
    skipped: list[Skipped]
    existing: int  # slots that already have a session at that time (not created again)


def _holidays_for(offer: Offer, first: date, last: date):
    from app.schools.holidays import holidays_for

    return holidays_for(offer.region.holiday_region, first, last)


def plan_sessions(
    actor: User,
    offer: Offer,
    pattern: Pattern,
    *,
    part: OfferPart | None = None,
    capacity_pupils: int | None = None,
    capacity_classes: int | None = None,
    create: bool = False,
) -> PlanPreview:
    """Preview (or create) the sessions of a pattern, skipping holidays and closed days."""
    _require(permissions.can_manage_offer(actor, offer))
    if pattern.last_day < pattern.first_day:
        raise LabError(_("De einddatum ligt voor de begindatum."), field="last_day")
    if (pattern.last_day - pattern.first_day).days > 366:
        raise LabError(_("Plan hoogstens een jaar tegelijk."), field="last_day")
    if not pattern.weekdays:
        raise LabError(_("Kies minstens één weekdag."), field="weekdays")
    if offer.parts and len(offer.parts) > 1 and part is None:
        raise LabError(_("Kies voor welk deel van de reeks u plant."), field="part")
    location = (
        part.location
        if part is not None
        else (PartLocation.AT_SCHOOL if offer.kind.value in ("mobile_lab", "guest_lesson") else PartLocation.VENUE)
    )
    venue = (part.venue if part is not None else offer.venue) if location == PartLocation.VENUE else None
    closures = venue.closures if venue is not None else []
    opening = venue.opening_days if venue is not None else "12345"
    slots, skipped = generate_slots(
        pattern, _holidays_for(offer, pattern.first_day, pattern.last_day), closures, opening
    )
    taken = set(
        db.session.scalars(
            select(Session.starts_at).where(
                Session.offer_id == offer.id,
                Session.part_id.is_(None) if part is None else Session.part_id == part.id,
                Session.status == SessionStatus.SCHEDULED,
            )
        )
    )
    new = [(a, b) for a, b in slots if a not in taken]
    if create:
        for a, b in new:
            db.session.add(
                Session(
                    offer_id=offer.id,
                    part_id=part.id if part else None,
                    venue_id=venue.id if venue else None,
                    location=location,
                    starts_at=a,
                    ends_at=b,
                    capacity_pupils=capacity_pupils or offer.capacity_pupils,
                    capacity_classes=capacity_classes or offer.capacity_classes,
                )
            )
        db.session.flush()
    return PlanPreview(new, skipped, len(slots) - len(new))


def bulk_cancel(actor: User, session_ids: list[int], reason: str) -> int:
    from app.booking.services import cancel_session

    cancelled = 0
    for sid in sorted(set(session_ids)):
        cancel_session(actor, sid, reason)
        cancelled += 1
    return cancelled


def bulk_capacity(actor: User, session_ids: list[int], capacity_pupils: int, capacity_classes: int) -> int:
    from app.booking.services import change_capacity

    from app.timeutil import to_local

    for sid in sorted(set(session_ids)):
        try:
            change_capacity(actor, sid, capacity_pupils, capacity_classes)
        except DomainError as exc:  # say which of the chosen sessions refused
            session = db.session.get(Session, sid)
            if session is not None:
                exc.message = _(
                    "Les van %(when)s: %(message)s",
                    when=to_local(session.starts_at).strftime("%d-%m-%Y %H:%M"),
                    message=exc.message,
                )
                exc.args = (exc.message,)
            raise
    return len(set(session_ids))


# ------------------------------------------------------------------ staff


def assign_staff(actor: User, session: Session, staff_id: int | str | None) -> list[Session]:
    """Assign a person (the id a form names) to a session; returns their other sessions at
    overlapping times (a warning)."""
    from app.booking.services import require_session_manager  # (a local import: booking imports labs)

    require_session_manager(actor, session)
    staff = permissions.linkable(
        actor, Staff, staff_id, field="staff_id", check=lambda _u, st: st.region_id == session.offer.region_id
    )
    if staff not in session.staff:
        session.staff.append(staff)
    db.session.flush()
    return double_bookings(staff, session)


def unassign_staff(actor: User, session: Session, staff_id: int | str | None) -> Staff:
    """Take a person off a session (the id a form names)."""
    from app.booking.services import require_session_manager

    require_session_manager(actor, session)
    staff = permissions.linkable(
        actor, Staff, staff_id, field="staff_id", check=lambda _u, st: st.region_id == session.offer.region_id
    )
    if staff in session.staff:
        session.staff.remove(staff)
    db.session.flush()
    return staff


def add_staff(actor: User, name: str, email: str) -> Staff:
    """Add a person who can be rostered to the coordinator's region."""
    if actor.region_id is None:  # an administrator has no region of their own
        raise LabError(_("Medewerkers horen bij een regio; uw account hoort bij geen regio."), field="name")
    staff = Staff(region_id=actor.region_id, name=name.strip(), email=email or "")
    db.session.add(staff)
    db.session.flush()
    return staff


def add_kit(actor: User, title: str, description: str, world, stock: int, loan_days: int) -> Kit:
    """Add a kit a school can borrow to the coordinator's region."""
    _require(permissions.is_coordinator(actor) or permissions.is_admin(actor))
    kit = Kit(
        region_id=actor.region_id,
        title=title.strip(),
        description=description or "",
        world=world,
        stock=stock,
        loan_days=loan_days,
    )
    db.session.add(kit)
    db.session.flush()
    return kit


def update_staff(actor: User, staff: Staff, name: str, email: str, active: bool) -> Staff:
    """Change a person's name, address or whether they can still be rostered."""
    if not (permissions.is_coordinator(actor) or permissions.is_admin(actor)) or not permissions.same_region(
        actor, staff
    ):
        raise PermissionDeniedError(_("U beheert deze medewerker niet."))
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise LabError(_("Geef een naam (hoogstens 200 tekens)."), field="name")
    staff.name, staff.email, staff.active = name, (email or "").strip()[:254], bool(active)
    db.session.flush()
    return staff


def double_bookings(staff: Staff, session: Session) -> list[Session]:
    from app.labs.models import session_staff

    others = db.session.scalars(
        select(Session)
        .join(session_staff, session_staff.c.session_id == Session.id)
        .where(
            session_staff.c.staff_id == staff.id,
            Session.id != session.id,
            Session.status == SessionStatus.SCHEDULED,
            Session.starts_at < session.ends_at,
            Session.ends_at > session.starts_at,
        )
    ).all()
    return [s for s in others if overlaps(s.starts_at, s.ends_at, session.starts_at, session.ends_at)]


# ------------------------------------------------------------------ kits


def kit_in_use(kit: Kit, starts_on: date, ends_on: date) -> int:
    return (
        db.session.scalar(
            select(func.coalesce(func.sum(KitLoan.quantity), 0)).where(
                KitLoan.kit_id == kit.id,
                KitLoan.status.in_((KitLoanStatus.RESERVED, KitLoanStatus.LENT)),
                KitLoan.starts_on <= ends_on,
                KitLoan.ends_on >= starts_on,
            )
        )
        or 0
    )


def reserve_kit(actor: User, kit_id: int, starts_on: date, quantity: int = 1, today: date | None = None) -> KitLoan:
    """A teacher reserves a kit for its loan period; stock holds under concurrency (kit row lock)."""
    if not permissions.is_teacher(actor):
        raise PermissionDeniedError(_("Alleen leerkrachten reserveren een leskist."))
    stmt = select(Kit).where(Kit.id == kit_id).execution_options(populate_existing=True)
    if is_postgres():
        set_lock_timeout()
        stmt = stmt.with_for_update()
    kit = db.session.scalar(stmt)
    if kit is None or not kit.active or not permissions.same_region(actor, kit):
        raise LabError(_("Deze leskist bestaat niet."), code="not_found")
    today = today or date.today()
    if starts_on < today:
        raise LabError(_("Kies een begindatum vanaf vandaag."), field="starts_on")
    if not 1 <= quantity <= max(1, kit.stock):
        raise LabError(_("Kies een aantal tussen 1 en %(n)s.", n=kit.stock), field="quantity")
    ends_on = starts_on + timedelta(days=kit.loan_days - 1)
    free = kit.stock - kit_in_use(kit, starts_on, ends_on)
    if quantity > free:
        raise LabError(
            ngettext(
                "In die periode is er nog %(num)d leskist vrij. Kies een andere periode.",
                "In die periode zijn er nog %(num)d leskisten vrij. Kies een andere periode.",
                max(0, free),
            ),
            code="kit_unavailable",
            field="starts_on",
        )
    loan = KitLoan(
        kit_id=kit.id,
        school_id=actor.school_id,
        booked_by_id=actor.id,
        starts_on=starts_on,
        ends_on=ends_on,
        quantity=quantity,
    )
    db.session.add(loan)
    db.session.flush()
    return loan


def set_loan_status(actor: User, loan: KitLoan, status: KitLoanStatus, today: date | None = None) -> None:
    if not (
        permissions.is_admin(actor) or (permissions.is_coordinator(actor) and permissions.same_region(actor, loan.kit))
    ):
        raise PermissionDeniedError(_("U beheert deze leskist niet."))
    loan.status = status
    if status == KitLoanStatus.RETURNED:
        loan.returned_on = today or date.today()
    db.session.flush()


def bulk_retime(actor: User, session_ids: list[int], new_start) -> int:
    """Move the chosen sessions to a new local start time on the same day; booked schools are told."""
    from app.booking import notify
    from app.booking.locking import lock_sessions
    from app.booking.models import Booking, BookingStatus
    from app.booking.services import require_session_manager
    from app.timeutil import local_to_utc, to_local
    from app.transport.effects import session_changed

    sessions = lock_sessions(session_ids)
    for sid in sorted(sessions):
        s = sessions[sid]
        require_session_manager(actor, s)
        duration = s.ends_at - s.starts_at
        s.starts_at = local_to_utc(to_local(s.starts_at).date(), new_start)
        s.ends_at = s.starts_at + duration
        for b in db.session.scalars(
            select(Booking).where(
                Booking.session_id == s.id,
                Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.WAITLISTED, BookingStatus.REQUESTED)),
            )
        ):
            b.sequence += 1
            b.reminder_sent_at = None
            notify.booking_changed(b)
        session_changed(s.id, moved=True)
    db.session.flush()
    return len(sessions)
