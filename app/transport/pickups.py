"""Pickup and return times of the planned buses, per booking, and telling the schools."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app.booking.models import Booking
from app.extensions import db
from app.transport.models import Bus, BusPlan, BusStop


def pickup_times(bookings) -> dict[int, datetime]:
    """Planned pickup time per booking id, in one query (the earliest, when a large class
    goes in two buses); bookings without a planned bus are left out."""
    ids = sorted({b.id for b in bookings if b.id is not None})
    if not ids:
        return {}
    return {
        bid: at
        for bid, at in db.session.execute(
            select(BusStop.booking_id, func.min(BusStop.pickup_at))
            .where(BusStop.booking_id.in_(ids))
            .group_by(BusStop.booking_id)
        )
        if at is not None
    }


def return_times(bookings) -> dict[int, datetime]:
    """When the bus is back at each booking's school (the latest, for a class on two buses): the
    return leaves the venue at ``departs_back_at`` and drops the classes off in the reverse order,
    so a school is reached as long after it as its pickup was before the arrival."""
    ids = sorted({b.id for b in bookings if b.id is not None})
    if not ids:
        return {}
    out: dict[int, datetime] = {}
    for bid, pickup, arrives, back in db.session.execute(
        select(BusStop.booking_id, BusStop.pickup_at, Bus.arrives_at, Bus.departs_back_at)
        .join(Bus, BusStop.bus_id == Bus.id)
        .where(BusStop.booking_id.in_(ids))
    ):
        if None in (pickup, arrives, back):
            continue
        at = back + (arrives - pickup)
        if bid not in out or at > out[bid]:
            out[bid] = at
    return out


def pickup_time(booking: Booking) -> datetime | None:
    """The planned pickup time of one booking (see pickup_times)."""
    return pickup_times([booking]).get(booking.id)


def _stops_of(plan: BusPlan):
    """The bus stops of the plan's session's classes, on its own buses or shared ones, in bus order."""
    return db.session.scalars(
        select(BusStop)
        .join(Booking, BusStop.booking_id == Booking.id)
        .where(Booking.session_id == plan.session_id)
        .order_by(BusStop.bus_id, BusStop.position, BusStop.id)
    ).all()


def plan_pickups(plan: BusPlan) -> dict[int, datetime]:
    """The pickup time of each class of the plan's session (the earliest, for a class on two buses)."""
    out: dict[int, datetime] = {}
    for st in _stops_of(plan):
        if st.pickup_at is not None and (st.booking_id not in out or st.pickup_at < out[st.booking_id]):
            out[st.booking_id] = st.pickup_at
    return out


def tell_pickups(plan: BusPlan, only: set[int] | None = None) -> None:
    """Mail the pickup time to the classes of the plan's session (``only``: these bookings)."""
    from app.booking import notify

    bookings = {}
    for stop in _stops_of(plan):
        if only is None or stop.booking_id in only:
            bookings.setdefault(stop.booking_id, stop.booking)
    for b in bookings.values():
        notify.pickup_planned(b)
