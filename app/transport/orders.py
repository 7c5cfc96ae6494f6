"""The day's buses as orders for the bus companies (page and CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.timeutil import to_local
from app.transport.plans import plans_on


@dataclass
class OrderLine:
    day: date
    carrier: str
    bus_type: str
    seats: int
    seats_taken: int
    bus_id: int
    venue: str
    venue_address: str
    offer: str
    stops: list  # (position, pickup_at, school name, address, seats)
    arrives_at: datetime
    departs_back_at: datetime
    km: float
    cost: float
    status: str


def orders(region_id: int | None, day: date, carrier: str | None = None) -> list[OrderLine]:
    """The buses of a day as order lines for the bus company (per carrier if given)."""
    lines = []
    for plan in plans_on(region_id, day):
        for bus in plan.buses:
            bt = bus.bus_type
            if carrier and bt.carrier != carrier:
                continue
            stops = [
                (st.position, st.pickup_at, st.booking.school.name, st.booking.school.address, st.seats)
                for st in bus.stops
            ]
            lines.append(
                OrderLine(
                    day,
                    bt.carrier,
                    bt.name,
                    bt.seats,
                    sum(st.seats for st in bus.stops),
                    bus.id,
                    " + ".join(v.name for v in _venues(bus, plan)),
                    " + ".join(v.address for v in _venues(bus, plan)),
                    " + ".join(_titles(bus, plan)),
                    stops,
                    bus.arrives_at,
                    bus.departs_back_at,
                    bus.km,
                    bus.cost,
                    plan.status.value,
                )
            )
    lines.sort(key=lambda ln: (ln.carrier, ln.stops[0][1] if ln.stops else ln.arrives_at, ln.bus_id))
    return lines


def _venues(bus, plan) -> list:
    """Where the bus drops its classes: the plan's venue, then another of a shared trip's venues."""
    out = [plan.session.venue] if plan.session.venue else []
    for st in bus.stops:
        v = st.booking.session.venue
        if v is not None and v not in out:
            out.append(v)
    return out


def _titles(bus, plan) -> list[str]:
    """The offers of the sessions the bus serves: the plan's own first, then those it shares with."""
    titles = [plan.session.offer.title]
    for st in bus.stops:
        title = st.booking.session.offer.title
        if st.booking.session_id != plan.session_id and title not in titles:
            titles.append(title)
    return titles


def _order_status_labels():
    from flask_babel import lazy_gettext as _l

    return {"draft": _l("concept"), "frozen": _l("besteld")}


ORDER_STATUS_LABELS = _order_status_labels()
ORDER_HEADER = [
    "datum",
    "vervoerder",
    "bus",
    "bus_type",
    "zitplaatsen",
    "bezet",
    "halte",
    "ophalen",
    "school",
    "adres",
    "plaatsen",
    "bestemming",
    "adres_bestemming",
    "aankomst",
    "terugreis",
    "km",
    "kosten",
    "status",
]


def _hm(at: datetime | None) -> str:
    """A local clock time, or empty for a time not planned (yet)."""
    return to_local(at).strftime("%H:%M") if at else ""


def order_rows(lines: list[OrderLine]):
    for ln in lines:
        for pos, pickup, school, address, seats in ln.stops:
            yield [
                ln.day.isoformat(),
                ln.carrier,
                ln.bus_id,
                ln.bus_type,
                ln.seats,
                ln.seats_taken,
                pos,
                _hm(pickup),
                school,
                address,
                seats,
                ln.venue,
                ln.venue_address,
                _hm(ln.arrives_at),
                _hm(ln.departs_back_at),
                round(ln.km, 1),
                round(ln.cost, 2),  # numbers (Dutch CSV: a decimal comma)
                ORDER_STATUS_LABELS.get(ln.status, ln.status),
            ]
