"""Who rides: whether a class gets a bus (the region's threshold, the offer, the place), the
classes of a session that need one, what a teacher sees about the bus, and a school's own transport."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth import permissions
from app.auth.models import User
from app.booking.models import Booking, BookingEvent, BookingStatus
from app.db import utcnow
from app.extensions import db
from app.labs.models import PartLocation, Session, SessionStatus
from app.transport import planning
from app.transport.effects import session_changed
from app.transport.eligibility import needs_bus
from app.transport.errors import PlanningNotAllowed, PlanNotFound, TransportError
from app.transport.pickups import pickup_time
from app.transport.roads import known_roads, road_distances


def at_school(session: Session) -> bool:
    return session.location == PartLocation.AT_SCHOOL or session.venue is None


def booking_needs_bus(booking: Booking, distance_km: float | None = None, *, ignore_declined: bool = False) -> bool:
    """Whether this booking's class gets a bus (the region's threshold, the offer, the place)."""
    s = booking.session
    if at_school(s):
        return False
    region = s.offer.region
    if distance_km is None:
        distance_km = road_distances([booking.school_id], s.venue, region.road_factor).get(booking.school_id, (None,))[
            0
        ]
    return needs_bus(
        distance_km,
        region.bus_threshold_km,
        bus_provided=s.offer.bus_provided,
        declined=booking.bus_declined and not ignore_declined,
    )


@dataclass
class TransportInfo:
    """What a teacher sees about the bus of one booking."""

    eligible: bool  # the class is entitled to a bus (declined or not)
    declined: bool
    distance_km: float | None
    pickup_at: datetime | None
    place: str  # where the bus picks up: the school
    replanning: bool = False  # a change waits for the re-plan (outbox): the time shown may be old

    @property
    def provided(self) -> bool:
        return self.eligible and not self.declined


def transport_info(booking: Booking) -> TransportInfo:
    s = booking.session
    distance = None
    if not at_school(s):
        distance = road_distances([booking.school_id], s.venue, s.offer.region.road_factor).get(
            booking.school_id, (None,)
        )[0]
    eligible = (
        booking.status in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED)
        and distance is not None
        and booking_needs_bus(booking, distance, ignore_declined=True)
    )
    from app.outbox.services import pending_replans

    return TransportInfo(
        eligible,
        booking.bus_declined,
        distance,
        pickup_time(booking) if eligible else None,
        f"{booking.school.name}, {booking.school.address}",
        replanning=eligible and bool(pending_replans([s.id])),
    )


# the Netherlands with a margin: a school outside it has implausible coordinates (a typo, (0, 0))
NL_BOUNDS = (50.6, 53.8, 3.1, 7.4)  # lat min, lat max, lon min, lon max


def is_plausible(lat: float | None, lon: float | None) -> bool:
    if lat is None or lon is None:
        return False
    return NL_BOUNDS[0] <= lat <= NL_BOUNDS[1] and NL_BOUNDS[2] <= lon <= NL_BOUNDS[3]


def session_riders(session: Session, warnings: list | None = None) -> list[tuple[Booking, float | None, float | None]]:
    """The confirmed bookings of the session that need a bus, with (km, minutes) to the venue.

    A class whose school has no coordinates, or implausible ones, and no known road distance
    cannot be planned: it is left out with a warning (``no_coordinates``,
    ``implausible_coordinates``) in ``warnings``, so the coordinator sees it."""
    if session.status == SessionStatus.CANCELLED or at_school(session):
        return []
    bookings = list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status == BookingStatus.CONFIRMED)
            .options(selectinload(Booking.school))
            .order_by(Booking.id)
            .execution_options(populate_existing=True)
        )
    )
    region = session.offer.region
    known = known_roads([session.venue.id], [b.school_id for b in bookings])
    dist = road_distances([b.school_id for b in bookings], session.venue, region.road_factor)
    out = []
    for b in bookings:
        km, minutes = dist.get(b.school_id, (None, None))
        located = (b.school_id, session.venue.id) in known or is_plausible(b.school.latitude, b.school.longitude)
        if not located:
            if session.offer.bus_provided and not b.bus_declined and warnings is not None:
                code = (
                    "no_coordinates"
                    if b.school.latitude is None or b.school.longitude is None
                    else "implausible_coordinates"
                )
                warnings.append(planning.PlanWarning(code, booking_id=b.id))
            continue
        if booking_needs_bus(b, km):
            out.append((b, km, minutes))
    return out


def set_bus_declined(actor: User, booking_id: int, declined: bool) -> Booking:
    """The school goes by its own transport (or takes the bus after all); the plan follows (outbox)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not permissions.can_view_booking(actor, booking):
        raise PlanNotFound(_("Deze boeking bestaat niet."))
    if not permissions.can_decline_bus(actor, booking):
        raise PlanningNotAllowed(_("U mag het vervoer van deze boeking niet wijzigen."))
    if booking.status != BookingStatus.CONFIRMED or booking.session.starts_at <= utcnow():
        raise TransportError(_("Alleen bij een bevestigde boeking in de toekomst."), code="not_changeable")
    if not booking_needs_bus(booking, ignore_declined=True):
        raise TransportError(_("Voor deze boeking is geen bus nodig."), code="no_bus")
    if booking.bus_declined != bool(declined):
        booking.bus_declined = bool(declined)
        booking.events.append(
            BookingEvent(actor_id=actor.id, at=utcnow(), action="bus_declined" if declined else "bus_accepted")
        )
        session_changed(booking.session_id)
    db.session.flush()
    return booking
