"""The one availability calculator: catalogue pages, the API and the booking service ask it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from app.labs.capacity import Places, places_left
from app.labs.models import SessionStatus


class Availability(str, enum.Enum):
    BOOKABLE = "bookable"
    FULL = "full"
    PAST = "past"
    CANCELLED = "cancelled"
    NOT_OPEN_YET = "not_open_yet"
    CLOSED = "closed"


@dataclass(frozen=True)
class SessionAvailability:
    status: Availability
    left: Places

    @property
    def bookable(self) -> bool:
        return self.status == Availability.BOOKABLE


def availability(session, now: datetime) -> SessionAvailability:
    """Whether the session can be booked now, and how many places are left."""
    left = places_left(session)
    offer = session.offer
    if session.status == SessionStatus.CANCELLED:
        status = Availability.CANCELLED
    elif session.starts_at <= now:
        status = Availability.PAST
    elif offer.booking_opens_at is not None and now < offer.booking_opens_at:
        status = Availability.NOT_OPEN_YET
    elif offer.booking_closes_at is not None and now >= offer.booking_closes_at:
        status = Availability.CLOSED
    elif not left.any:
        status = Availability.FULL
    else:
        status = Availability.BOOKABLE
    return SessionAvailability(status, left)
