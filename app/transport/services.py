"""The transport service: distances, who needs a bus, the bus plan of a session, orders.

``plan_session`` locks the session's plan row, re-reads the bookings, runs the pure
planner (app/transport/planning.py) and writes buses and stops; locked buses and
pinned stops are respected. A frozen plan is not changed by a booking change: the
change is flagged for the coordinator (``needs_review``) instead. Like every service
here it flushes but does not commit.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from app.auth import permissions
from app.auth.models import Region, User
from app.booking.models import Booking, BookingEvent, BookingStatus
from app.db import utcnow
from app.extensions import db
from app.locking import is_postgres, locking_enabled, set_lock_timeout
from app.labs.models import PartLocation, Session, SessionStatus, Venue
from app.schools.models import School
from app.timeutil import local_to_utc, to_local
from app.transport import planning
from app.transport.distance import road_km
from app.transport.effects import session_changed
from app.transport.eligibility import needs_bus
from app.transport.errors import BusFull, BusLocked, PlanningNotAllowed, PlanNotFound, TransportError
from app.transport.models import Bus, BusHire, BusPlan, BusStop, BusType, PickupNotice, PlanStatus, RoadDistance

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ distances and eligibility


def known_roads(venue_ids, school_ids=None) -> dict[tuple[int, int], tuple[float, float | None]]:
    """The known road distances (km, minutes) per (school id, venue id) for these venues (and
    schools, when given): the one lookup behind every distance the platform shows or uses."""
    venue_ids = sorted(set(venue_ids))
    if not venue_ids or (school_ids is not None and not school_ids):
        return {}
    stmt = select(RoadDistance.school_id, RoadDistance.venue_id, RoadDistance.km, RoadDistance.minutes).where(
        RoadDistance.venue_id.in_(venue_ids)
    )
    if school_ids is not None:
        stmt = stmt.where(RoadDistance.school_id.in_(sorted(set(school_ids))))
    return {(sid, vid): (km, minutes) for sid, vid, km, minutes in db.session.execute(stmt)}


def road_distances(school_ids, venue: Venue, road_factor: float) -> dict[int, tuple[float | None, float | None]]:
    """(km, minutes) from each school to the venue: a known road distance, else the estimate."""
    ids = sorted(set(school_ids))
    if not ids or venue is None:
        return {}
    known = known_roads([venue.id], ids)
    out = {}
    for sid, lat, lon in db.session.execute(
        select(School.id, School.latitude, School.longitude).where(School.id.in_(ids))
    ):
        km, minutes = known.get((sid, venue.id), (None, None))
        out[sid] = (road_km(lat, lon, venue.latitude, venue.longitude, road_factor, km), minutes)
    return out


def _at_school(session: Session) -> bool:
    return session.location == PartLocation.AT_SCHOOL or session.venue is None


def booking_needs_bus(booking: Booking, distance_km: float | None = None, *, ignore_declined: bool = False) -> bool:
    """Whether this booking's class gets a bus (the region's threshold, the offer, the place)."""
    s = booking.session
    if _at_school(s):
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
    if not _at_school(s):
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


# ------------------------------------------------------------------ locking the plan


def _lock_plan(session_id: int) -> BusPlan:
    """Create the plan row if needed, then lock it (PostgreSQL: FOR UPDATE; SQLite: the write lock).

    ``BOOKING_LOCKING = False`` switches the lock off: only the control test does that.
    """
    if is_postgres():
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(
        insert(BusPlan)
        .values(
            session_id=session_id,
            status=PlanStatus.DRAFT.value,
            needs_review=False,
            review_note="",
            stale=False,
            total_km=0.0,
            total_cost=0.0,
            warnings=[],
            warnings_seen="",
        )
        .on_conflict_do_nothing(index_elements=["session_id"])
    )
    stmt = select(BusPlan).where(BusPlan.session_id == session_id).execution_options(populate_existing=True)
    if is_postgres() and locking_enabled():
        set_lock_timeout("TRANSPORT_LOCK_TIMEOUT_MS", 30000)
        stmt = stmt.with_for_update(of=BusPlan)
    return db.session.scalar(stmt)


# ------------------------------------------------------------------ planning a session


def _limits() -> planning.Limits:
    cfg = current_app.config
    return planning.Limits(
        max_ride_minutes=cfg["TRANSPORT_MAX_RIDE_MINUTES"],
        arrival_margin_minutes=cfg["TRANSPORT_ARRIVAL_MARGIN_MINUTES"],
        dwell_minutes=cfg["TRANSPORT_DWELL_MINUTES"],
        return_after_minutes=cfg["TRANSPORT_RETURN_AFTER_MINUTES"],
        speed_kmh=cfg["TRANSPORT_SPEED_KMH"],
        time_limit_seconds=cfg["TRANSPORT_SOLVER_SECONDS"],
        pickup_tolerance_minutes=cfg.get("TRANSPORT_PICKUP_TOLERANCE_MINUTES", 5),
        change_cost=cfg.get("TRANSPORT_PICKUP_CHANGE_COST", 25.0),
        turnaround_minutes=cfg.get("TRANSPORT_TURNAROUND_MINUTES", 15),
    )


# the Netherlands with a margin: a school outside it has implausible coordinates (a typo, (0, 0))
NL_BOUNDS = (50.6, 53.8, 3.1, 7.4)  # lat min, lat max, lon min, lon max


def is_plausible(lat: float | None, lon: float | None) -> bool:
    if lat is None or lon is None:
        return False
    return NL_BOUNDS[0] <= lat <= NL_BOUNDS[1] and NL_BOUNDS[2] <= lon <= NL_BOUNDS[3]


def _riders(session: Session, warnings: list | None = None) -> list[tuple[Booking, float | None, float | None]]:
    """The confirmed bookings of the session that need a bus, with (km, minutes) to the venue.

    A class whose school has no coordinates, or implausible ones, and no known road distance
    cannot be planned: it is left out with a warning (``no_coordinates``,
    ``implausible_coordinates``) in ``warnings``, so the coordinator sees it."""
    if session.status == SessionStatus.CANCELLED or _at_school(session):
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


def hire_price(bus_type: BusType, region: Region) -> float | None:
    """The price of hiring one extra bus of this type for a trip (None: it cannot be hired)."""
    return bus_type.hire_price if bus_type.hire_price is not None else region.bus_hire_price


def _types_for(region_id: int, day: date | None = None) -> list[planning.VehicleType]:
    """The region's bus types with the buses of each a day (the fleet of the day); with ``day``
    also the buses hired for that day, each type's a fleet of its own at the hire price (the
    hire price for the trip, plus the type's price per km)."""
    types = db.session.scalars(
        select(BusType).where(BusType.region_id == region_id, BusType.active.is_(True)).order_by(BusType.id)
    ).all()
    out = [
        planning.VehicleType(t.id, t.seats, t.cost_per_trip, t.cost_per_km, t.available, t.name, t.carrier)
        for t in types
    ]
    if day is not None:
        region = db.session.get(Region, region_id)
        by_id = {t.id: t for t in types}
        for h in db.session.scalars(
            select(BusHire).where(BusHire.region_id == region_id, BusHire.day == day).order_by(BusHire.bus_type_id)
        ):
            t = by_id.get(h.bus_type_id)
            price = hire_price(t, region) if t is not None else None
            if price is not None:
                out.append(
                    planning.VehicleType(t.id, t.seats, price, t.cost_per_km, h.count, t.name, t.carrier, hired=True)
                )
    return out


def _road(factor: float):
    return lambda a, b, c, d: road_km(a, b, c, d, factor)


def _notices(booking_ids) -> dict[int, PickupNotice]:
    ids = sorted(set(booking_ids))
    if not ids:
        return {}
    return {n.booking_id: n for n in db.session.scalars(select(PickupNotice).where(PickupNotice.booking_id.in_(ids)))}


def build_request(session: Session, plan: BusPlan, riders, types=None, hold: str = "hard") -> planning.PlanRequest:
    pinned = {}
    given = []
    for bus in plan.buses:
        if bus.locked:
            given.append(
                planning.GivenBus(
                    bus.id, bus.bus_type_id, tuple(s.booking_id for s in bus.stops), True, hired=bus.hired
                )
            )
            continue
        stops = [s for s in bus.stops if s.pinned]
        if stops:
            given.append(planning.GivenBus(bus.id, bus.bus_type_id, hired=bus.hired))
            for s in stops:
                pinned[s.booking_id] = bus.id
    told = _notices(b.id for b, _km, _m in riders)
    v = session.venue
    stops = tuple(
        planning.StopRequest(
            b.id,
            b.school_id,
            b.school.latitude if b.school.latitude is not None else v.latitude,
            b.school.longitude if b.school.longitude is not None else v.longitude,
            b.pupils + b.adults,
            km_to_venue=km,
            minutes_to_venue=minutes,
            pinned_bus=pinned.get(b.id),
            name=b.school.name,
            announced_at=told[b.id].pickup_at if b.id in told else None,
        )
        for b, km, minutes in riders
    )
    return planning.PlanRequest(
        v.latitude,
        v.longitude,
        session.starts_at,
        session.ends_at,
        stops,
        tuple(types if types is not None else _types_for(session.offer.region_id, to_local(session.starts_at).date())),
        _road(session.offer.region.road_factor),
        _limits(),
        tuple(given),
        hold=hold,
    )


def _fixed_request(session: Session, plan: BusPlan, types) -> planning.PlanRequest:
    """A plan that stays as it is (ordered, or already under way): its buses hold the fleet."""
    v = session.venue
    stops, given = [], []
    for bus in plan.buses:
        ids = []
        for st in bus.stops:
            school = st.booking.school
            lat = school.latitude if is_plausible(school.latitude, school.longitude) else v.latitude
            lon = school.longitude if is_plausible(school.latitude, school.longitude) else v.longitude
            stops.append(planning.StopRequest(st.id, school.id, lat, lon, st.seats))  # one stop per bus stop row
            ids.append(st.id)
        if ids:
            given.append(planning.GivenBus(bus.id, bus.bus_type_id, tuple(ids), True, hired=bus.hired))
    return planning.PlanRequest(
        v.latitude,
        v.longitude,
        session.starts_at,
        session.ends_at,
        tuple(stops),
        tuple(types),
        _road(session.offer.region.road_factor),
        _limits(),
        tuple(given),
    )


def _differences(plan: BusPlan, session: Session, riders) -> list[str]:
    """What changed since the plan was made: the session's time, classes to add, classes to take off."""
    planned = {s.booking_id for bus in plan.buses for s in bus.stops}
    wanted = {b.id: b for b, _km, _m in riders}
    notes = []
    arrival = session.starts_at - timedelta(minutes=current_app.config["TRANSPORT_ARRIVAL_MARGIN_MINUTES"])
    if riders and any(bus.arrives_at != arrival for bus in plan.buses):
        notes.append(_("De les is verzet: de ophaaltijden kloppen niet meer."))
    for bid in sorted(set(wanted) - planned):
        b = wanted[bid]
        notes.append(
            _(
                "Nieuw: %(school)s (groep %(groep)s, %(seats)s plaatsen) heeft een bus nodig.",
                school=b.school.name,
                groep=b.groep_label,
                seats=b.pupils + b.adults,
            )
        )
    for bid in sorted(planned - set(wanted)):
        b = db.session.get(Booking, bid)
        notes.append(
            _(
                "Vervalt: %(school)s (groep %(groep)s) rijdt niet meer mee.",
                school=b.school.name if b else "?",
                groep=b.groep_label if b else "?",
            )
        )
    return notes


def _day_session_ids(session: Session, now: datetime) -> list[int]:
    """The sessions of the same local day and region that take or hold buses: they share the fleet."""
    from app.labs.models import Offer

    day = to_local(session.starts_at).date()
    lo, hi = local_to_utc(day, time(0, 0)), local_to_utc(day + timedelta(days=1), time(0, 0))
    with_plan = select(BusPlan.session_id)
    ids = set(
        db.session.scalars(
            select(Session.id)
            .join(Offer, Session.offer_id == Offer.id)
            .where(
                Offer.region_id == session.offer.region_id,
                Session.starts_at >= lo,
                Session.starts_at < hi,
                Session.location == PartLocation.VENUE,
                Session.venue_id.is_not(None),
                ((Session.status == SessionStatus.SCHEDULED) & (Session.booked_classes > 0) & (Session.starts_at > now))
                | Session.id.in_(with_plan),
            )
        )
    )
    ids.add(session.id)
    return sorted(ids)


def plan_session(
    session_id: int,
    now: datetime | None = None,
    *,
    force: bool = False,
    only_if_riders_changed: bool = False,
    hold: str = "hard",
) -> BusPlan | None:
    """(Re)plan the buses of the day of one session; returns that session's plan, None when it
    needs no plan at all.

    All sessions of the session's day and region are planned together (they share the fleet):
    draft plans are re-made, holding the pickup times the schools were shown (``hold``:
    "hard" keeps them within the tolerance, "soft" lets a change cost, "free" for a session
    that moved). A frozen plan (ordered) is re-made only when ``force``d by the coordinator;
    otherwise a change is flagged (``needs_review``) with what changed; its buses keep their
    share of the fleet. ``only_if_riders_changed`` (a booking changed, the session did not):
    a plan whose buses carry exactly the classes that need one, with their seats, is kept as
    it is — a booking from nearby, a waiting-list entry or a refused one costs no solver run.
    """
    now = now or utcnow()
    session = db.session.get(Session, session_id)
    if session is None:
        return None
    has_plan = db.session.scalar(select(BusPlan.id).where(BusPlan.session_id == session_id)) is not None
    if not has_plan and (session.starts_at <= now or _at_school(session) or session.status == SessionStatus.CANCELLED):
        return None
    # the day's plans are locked in one order (session id), this session's among them: two re-plans
    # of the same day wait for each other instead of deadlocking
    plan = {sid: _lock_plan(sid) for sid in _day_session_ids(session, now)}[session_id]
    db.session.refresh(session)
    warns: list = []
    riders = _riders(session, warns) if session.starts_at > now else None
    barrier = current_app.config.get("TRANSPORT_TEST_BARRIER")
    if barrier is not None:  # test seam: lets the control test's threads meet between read and write
        barrier.wait(timeout=30)
    if riders is None:  # the session has begun: the plan is history
        return plan
    if plan.status == PlanStatus.FROZEN and not force:
        notes = _differences(plan, session, riders)
        if notes:
            plan.needs_review = True
            plan.review_note = "\n".join(notes)
        plan.stale = False
        db.session.flush()
        return plan
    if (
        only_if_riders_changed
        and not plan.stale
        and plan.planned_at is not None
        and _same_riders(plan, riders)
        and [w for w in (plan.warnings or []) if w.get("code") in ("no_coordinates", "implausible_coordinates")]
        == [w.as_dict() for w in warns]
    ):
        plan.planned_at = utcnow()  # checked against the bookings as they are now: still right
        db.session.flush()
        return plan
    plan_day_of(session, now, force_ids={session_id} if force else set(), holds={session_id: hold})
    return plan


def plan_day_of(session: Session, now: datetime, *, force_ids=frozenset(), holds=None) -> dict[int, BusPlan]:
    """Plan every session of ``session``'s day and region in one model; returns the plans written."""
    holds = holds or {}
    types = _types_for(session.offer.region_id, to_local(session.starts_at).date())
    if not types:
        _warn_no_bus_types(session.offer.region_id)  # every far class is reported without a bus
    plans = {sid: _lock_plan(sid) for sid in _day_session_ids(session, now)}  # sorted: one lock order
    reqs, writable = [], []
    for sid, plan in plans.items():
        s = db.session.get(Session, sid)
        db.session.refresh(plan)
        fixed = s.starts_at <= now or (plan.status == PlanStatus.FROZEN and sid not in force_ids)
        if fixed:
            if plan.buses:
                reqs.append(_fixed_request(s, plan, types))
            continue
        warns: list = []
        riders = _riders(s, warns)
        reqs.append(build_request(s, plan, riders, types, holds.get(sid, "hard")))
        writable.append((len(reqs) - 1, s, plan, warns))
    results = planning.plan_day(reqs) if reqs else []
    written = {}
    for index, s, plan, warns in writable:
        result = results[index]
        before = _pickups(plan)
        _write(plan, result)
        plan.warnings = [w.as_dict() for w in warns + list(result.warnings)]
        plan.planned_at = utcnow()
        plan.stale = False
        if s.id in force_ids:
            plan.needs_review, plan.review_note = False, ""
        _announce(plan, result, holds.get(s.id, "hard"), before)
        if result.warnings:
            log.info("plan of session %s: %s", s.id, "; ".join(w.code for w in result.warnings))
        written[s.id] = plan
    db.session.flush()
    return written


def _announce(plan: BusPlan, result: planning.Plan, hold: str, before: dict) -> None:
    """The pickup times the schools now see: a first time is kept as announced; a change is
    recorded only when the coordinator accepted changes (or the session moved)."""
    pickups: dict[int, datetime] = {}
    for bus in result.buses:
        for st in bus.stops:
            if st.pickup_at is not None and (st.booking_id not in pickups or st.pickup_at < pickups[st.booking_id]):
                pickups[st.booking_id] = st.pickup_at
    told = _notices(pickups)
    first = []
    for bid, at in sorted(pickups.items()):
        notice = told.get(bid)
        if notice is None:
            db.session.add(PickupNotice(booking_id=bid, pickup_at=at, announced_at=utcnow()))
            first.append(bid)
        elif hold != "hard" and notice.pickup_at != at:
            notice.pickup_at, notice.announced_at = at, utcnow()
    if first and not db.session.info.get("transport.no_mail"):
        # the school hears its pickup (and return) time once the bus is planned, with a new .ics;
        # a confirmation (or change) still queued for this plan carries the bus itself: no second mail
        from app.booking import notify
        from app.outbox.services import notices_waiting_for_plan

        db.session.flush()
        first = sorted(set(first) - notices_waiting_for_plan(first))
        for b in db.session.scalars(select(Booking).where(Booking.id.in_(first)).order_by(Booking.id)):
            notify.pickup_planned(b, ordered=False)


_warned_regions: set[int] = set()


def _warn_no_bus_types(region_id: int) -> None:
    """A region without bus types is not an error (it logged a traceback on every booking and
    re-plan): a warning once per region; the plan page shows each class without a bus."""
    if region_id not in _warned_regions:
        _warned_regions.add(region_id)
        log.warning("region %s has no active bus types: its far classes have no bus until one is added", region_id)


def _same_riders(plan: BusPlan, riders) -> bool:
    """Whether the plan's buses seat exactly these classes, each with all its seats."""
    seated: dict[int, int] = {}
    for bus in plan.buses:
        for stop in bus.stops:
            seated[stop.booking_id] = seated.get(stop.booking_id, 0) + stop.seats
    return seated == {b.id: b.pupils + b.adults for b, _km, _minutes in riders}


def _write(plan: BusPlan, result: planning.Plan) -> None:
    """Replace the plan's buses by the planner's: keep the rows of buses it continues."""
    old = {bus.id: bus for bus in plan.buses}
    # buses keep their rows (and ids, so their numbers) where they can: the old bus with the most of
    # the same classes, of the same type first, then any unlocked one
    spare = sorted(bid for bid in old if bid not in {b.key for b in result.buses} and not old[bid].locked)
    pairs = []
    for n, pb in enumerate(result.buses):
        if pb.key is None:
            mine = {st.booking_id for st in pb.stops}
            for bid in spare:
                if old[bid].bus_type_id == pb.type.id:
                    shared = len(mine & {st.booking_id for st in old[bid].stops})
                    pairs.append((-shared, bid, n))
    for _shared, bid, n in sorted(pairs):
        if bid in spare and result.buses[n].key is None:
            spare.remove(bid)
            result.buses[n].key = bid
    for pb in result.buses:
        if pb.key is None and spare:
            pb.key = spare.pop(0)
    keep = {b.key for b in result.buses if b.key is not None}
    if old:
        db.session.execute(delete(BusStop).where(BusStop.bus_id.in_(list(old))))
        gone = [bid for bid in old if bid not in keep]
        if gone:
            db.session.execute(delete(Bus).where(Bus.id.in_(gone)))
    db.session.flush()
    db.session.expire(plan, ["buses"])
    for bid in keep:
        db.session.expire(old[bid], ["stops"])
    for pb in result.buses:
        bus = old.get(pb.key) if pb.key is not None else None
        if bus is None:
            bus = Bus(plan_id=plan.id, bus_type_id=pb.type.id)
            db.session.add(bus)
        bus.bus_type_id, bus.locked, bus.hired = pb.type.id, pb.locked, pb.type.hired
        bus.arrives_at, bus.departs_back_at = pb.arrives_at, pb.departs_back_at
        bus.km, bus.cost = pb.km, pb.cost
        db.session.flush()
        for pos, ps in enumerate(pb.stops, start=1):
            db.session.add(
                BusStop(
                    bus_id=bus.id,
                    booking_id=ps.booking_id,
                    position=pos,
                    pickup_at=ps.pickup_at,
                    seats=ps.seats,
                    pinned=ps.pinned,
                )
            )
    plan.total_km = round(result.total_km, 2)
    plan.total_cost = round(result.total_cost, 2)
    db.session.flush()
    db.session.expire(plan, ["buses"])


# ------------------------------------------------------------------ the outbox worker and the jobs


def replan_sessions(session_ids, now: datetime | None = None, *, moved=None) -> dict[int, str]:
    """Re-plan each session in its own unit of work; a failure marks the plan stale (the job retries).

    ``moved``: when given, only these sessions changed themselves (time, place, status);
    the others had booking changes only and keep a plan whose riders are unchanged."""
    out = {}
    for sid in sorted(set(session_ids)):
        try:
            plan = plan_session(
                sid,
                now,
                only_if_riders_changed=moved is not None and sid not in moved,
                hold="free" if moved is not None and sid in moved else "hard",
            )
            db.session.commit()
            out[sid] = "planned" if plan is not None else "none"
        except Exception:
            db.session.rollback()
            log.exception("re-planning the buses of session %s failed", sid)
            out[sid] = "stale"
            try:
                mark_stale(sid)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("marking the plan of session %s stale failed", sid)
    return out


def mark_stale(session_id: int) -> None:
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == session_id))
    if plan is None:
        plan = BusPlan(session_id=session_id)
        db.session.add(plan)
    plan.stale = True
    db.session.flush()


def sessions_to_replan(now: datetime) -> list[int]:
    """Future sessions whose plan is stale or older than a change of their bookings (a missed re-plan)."""
    stale = (
        select(BusPlan.session_id)
        .join(Session, BusPlan.session_id == Session.id)
        .where(BusPlan.stale.is_(True), Session.starts_at > now)
    )
    changed = (
        select(Booking.session_id)
        .join(Session, Booking.session_id == Session.id)
        .outerjoin(BusPlan, BusPlan.session_id == Session.id)
        .where(
            Session.starts_at > now,
            Session.location == PartLocation.VENUE,
            Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.CANCELLED)),
            (BusPlan.id.is_(None) & (Booking.status == BookingStatus.CONFIRMED))
            | (Booking.updated_at > BusPlan.planned_at),
        )
    )
    return sorted(set(db.session.scalars(stale)) | set(db.session.scalars(changed)))


def plan_upcoming(region_id: int, now: datetime, days: int = 14, *, tell: bool = False) -> int:
    """Plan every session of a region in the coming days that has bookings (the demo, a new region)."""
    from app.labs.models import Offer

    sessions = db.session.execute(
        select(Session.id, Session.starts_at)
        .join(Offer, Session.offer_id == Offer.id)
        .where(
            Offer.region_id == region_id,
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(days=days),
            Session.status == SessionStatus.SCHEDULED,
            Session.location == PartLocation.VENUE,
            Session.booked_classes > 0,
        )
        .order_by(Session.starts_at, Session.id)
    ).all()
    planned_days = set()
    db.session.info["transport.no_mail"] = not tell
    try:
        for sid, starts_at in sessions:
            day = to_local(starts_at).date()
            if day in planned_days:  # planning a session plans its whole day
                continue
            plan_session(sid, now)
            db.session.commit()
            planned_days.add(day)
    finally:
        db.session.info.pop("transport.no_mail", None)
    return len(sessions)


def freeze_due_plans(now: datetime, *, tell: bool = True) -> int:
    """Freeze (order) the plans of sessions within TRANSPORT_FREEZE_DAYS; tell the schools their pickup time.

    Each session is re-planned and frozen in its own unit of work under the plan lock;
    a frozen plan is skipped, so running twice changes nothing.
    """
    days = int(current_app.config["TRANSPORT_FREEZE_DAYS"])
    ids = db.session.scalars(
        select(Session.id)
        .where(
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(days=days),
            Session.status == SessionStatus.SCHEDULED,
            Session.location == PartLocation.VENUE,
            Session.booked_classes > 0,
        )
        .order_by(Session.id)
    ).all()
    db.session.commit()
    frozen = 0
    for sid in ids:
        if not tell:
            db.session.info["transport.no_mail"] = True
        try:  # a plan that is still right (same classes, not stale) is frozen as it is
            plan = plan_session(sid, now, only_if_riders_changed=True)
        finally:
            db.session.info.pop("transport.no_mail", None)
        if plan is None or plan.status == PlanStatus.FROZEN:
            db.session.commit()
            continue
        plan.status, plan.frozen_at = PlanStatus.FROZEN, now
        db.session.flush()
        if tell:
            _tell_pickups(plan)
        db.session.commit()
        frozen += 1
    return frozen


def _tell_pickups(plan: BusPlan, only: set[int] | None = None) -> None:
    from app.booking import notify

    bookings = {}
    for bus in plan.buses:
        for stop in bus.stops:
            if only is None or stop.booking_id in only:
                bookings.setdefault(stop.booking_id, stop.booking)
    for b in bookings.values():
        notify.pickup_planned(b)


# ------------------------------------------------------------------ coordinator actions


def _plan_of_bus(actor: User, bus_id: int) -> tuple[Bus, BusPlan, Session]:
    bus = db.session.get(Bus, bus_id)
    if bus is None:
        raise PlanNotFound(_("Deze bus bestaat niet."))
    session = db.session.get(Session, bus.plan.session_id)
    if not permissions.same_region(actor, session):
        raise PlanNotFound(_("Deze bus bestaat niet."))
    if not permissions.can_plan_transport(actor, session.offer.region):
        raise PlanningNotAllowed(_("U mag de busplanning niet wijzigen."))
    plan = _lock_plan(session.id)
    db.session.refresh(bus)
    return bus, plan, session


def set_bus_locked(actor: User, bus_id: int, locked: bool) -> Bus:
    """Lock a bus (re-planning keeps it as it is) or unlock it."""
    bus, _plan, _session = _plan_of_bus(actor, bus_id)
    bus.locked = bool(locked)
    db.session.flush()
    return bus


def move_stop(
    actor: User,
    stop_id: int,
    *,
    to_bus_id: int | None = None,
    new_type_id: int | None = None,
    now: datetime | None = None,
) -> BusStop:
    """Move a class to another bus of the plan (or to a new bus of a type); it stays there (pinned)."""
    stop = db.session.get(BusStop, stop_id)
    if stop is None:
        raise PlanNotFound(_("Deze halte bestaat niet."))
    source, plan, session = _plan_of_bus(actor, stop.bus_id)
    db.session.refresh(stop)
    if source.locked:
        raise BusLocked(_("Deze bus is vergrendeld. Ontgrendel hem eerst."))
    if to_bus_id is not None:
        target = db.session.get(Bus, to_bus_id)
        if target is None or target.plan_id != plan.id:
            raise TransportError(_("Kies een bus van dezelfde les."), field="target")
        if target.locked:
            raise BusLocked(_("De gekozen bus is vergrendeld. Ontgrendel hem eerst."))
        if target.id == source.id:
            raise TransportError(_("De klas zit al in deze bus."), field="target")
    elif new_type_id is not None:
        bt = db.session.get(BusType, new_type_id)
        if bt is None or bt.region_id != session.offer.region_id or not bt.active:
            raise TransportError(_("Kies een bustype van uw regio."), field="target")
        target = Bus(plan_id=plan.id, bus_type_id=bt.id)
        db.session.add(target)
        db.session.flush()
    else:
        raise TransportError(_("Kies een bus."), field="target")
    taken = sum(s.seats for s in target.stops)
    if taken + stop.seats > target.bus_type.seats:
        raise BusFull(
            _(
                "Daarvoor is in die bus geen plaats: %(free)s vrij, %(need)s nodig.",
                free=target.bus_type.seats - taken,
                need=stop.seats,
            )
        )
    booking_id, target_id = stop.booking_id, target.id
    for other in target.stops:  # the classes already on that bus stay on it: the move puts this class with them
        other.pinned = True
    existing = next((s for s in target.stops if s.booking_id == stop.booking_id), None)
    if existing is not None:  # the other part of a large class: one stop
        existing.seats += stop.seats
        existing.pinned = True
        db.session.delete(stop)
    else:
        stop.bus_id, stop.pinned = target.id, True
        stop.position = len(target.stops) + 1
    db.session.flush()
    db.session.expire_all()
    plan_session(session.id, now, force=True, hold="soft")  # the coordinator's change: pickups may move
    db.session.expire_all()
    plan = db.session.get(BusPlan, plan.id)
    bus = next((b for b in plan.buses if b.id == target_id), None)
    moved = next((s for s in bus.stops if s.booking_id == booking_id), None) if bus is not None else None
    if moved is None:  # the day's fleet had no room for it: nothing changes (the caller rolls back)
        raise TransportError(
            _(
                "Die bus kan er op dat moment niet bij: alle bussen van dat type rijden dan al. "
                "De klas is niet verplaatst."
            ),
            field="target",
            code="no_bus",
        )
    on_bus = {s.booking_id for s in bus.stops}
    broken = next(
        (w for w in plan.warnings or [] if w["code"] == "pin_breaks_rule" and w.get("booking_id") in on_bus), None
    )
    if broken is not None:
        raise TransportError(
            _(
                "Dan duurt de rit %(minutes)s minuten, langer dan %(max)s, of is de bus te vol. "
                "De klas is niet verplaatst.",
                minutes=broken.get("minutes"),
                max=current_app.config["TRANSPORT_MAX_RIDE_MINUTES"],
            ),
            field="target",
            code="ride_too_long",
        )
    return moved


def unpin_stop(actor: User, stop_id: int, now: datetime | None = None) -> None:
    stop = db.session.get(BusStop, stop_id)
    if stop is None:
        raise PlanNotFound(_("Deze halte bestaat niet."))
    _bus, _plan, session = _plan_of_bus(actor, stop.bus_id)
    stop.pinned = False
    db.session.flush()
    plan_session(session.id, now, force=True)


def _plan_for(actor: User, plan_id: int) -> tuple[BusPlan, Session]:
    plan = db.session.get(BusPlan, plan_id)
    if plan is None:
        raise PlanNotFound(_("Dit plan bestaat niet."))
    session = db.session.get(Session, plan.session_id)
    if not permissions.same_region(actor, session):
        raise PlanNotFound(_("Dit plan bestaat niet."))
    if not permissions.can_plan_transport(actor, session.offer.region):
        raise PlanningNotAllowed(_("U mag de busplanning niet wijzigen."))
    return plan, session


def replan(actor: User, plan_id: int, now: datetime | None = None) -> BusPlan:
    """The coordinator re-plans (also a frozen plan: the order changes; the review is done).

    The coordinator accepts changes of announced pickup times where they pay (``hold="soft"``:
    each change costs ``TRANSPORT_PICKUP_CHANGE_COST`` in the objective)."""
    plan, session = _plan_for(actor, plan_id)
    before = _pickups(plan)
    plan = plan_session(session.id, now, force=True, hold="soft")
    if plan is not None and plan.status == PlanStatus.FROZEN:  # ordered: tell the schools whose pickup changed
        after = _pickups(plan)
        changed = {bid for bid in after if after[bid] != before.get(bid)}
        _tell_pickups(plan, only=changed)
    return plan


def _pickups(plan: BusPlan) -> dict[int, datetime]:
    out: dict[int, datetime] = {}
    for bus in plan.buses:
        for st in bus.stops:
            if st.pickup_at is not None and (st.booking_id not in out or st.pickup_at < out[st.booking_id]):
                out[st.booking_id] = st.pickup_at
    return out


def mark_warnings_seen(actor: User, plan_id: int) -> BusPlan:
    """The coordinator saw the plan's warnings ("ik heb het gezien"): it is no longer to be checked,
    until the warnings change."""
    plan, session = _plan_for(actor, plan_id)
    plan = _lock_plan(session.id)
    plan.warnings_seen = plan.warnings_key
    db.session.flush()
    return plan


def mark_reviewed(actor: User, plan_id: int) -> BusPlan:
    """The coordinator saw the changes after the freeze and leaves the plan as it is."""
    plan, session = _plan_for(actor, plan_id)
    plan = _lock_plan(session.id)
    plan.needs_review, plan.review_note = False, ""
    db.session.flush()
    return plan


# ------------------------------------------------------------------ a shortfall: hire, ask the school

MAX_HIRED_PER_TYPE = 20


def day_sessions_with_plans(region_id: int, day: date) -> list[int]:
    """The sessions of a local day of a region that have a bus plan."""
    from app.labs.models import Offer

    lo, hi = local_to_utc(day, time(0, 0)), local_to_utc(day + timedelta(days=1), time(0, 0))
    return sorted(
        db.session.scalars(
            select(BusPlan.session_id)
            .join(Session, BusPlan.session_id == Session.id)
            .join(Offer, Session.offer_id == Offer.id)
            .where(Offer.region_id == region_id, Session.starts_at >= lo, Session.starts_at < hi)
        )
    )


def hire_buses(actor: User, region: Region, day: date, bus_type_id, count: int) -> BusHire | None:
    """The coordinator hires ``count`` extra buses of a type for a day (0: none; the number replaces
    what was hired). The day's plans are re-made after the commit (outbox) and may use them, each at
    the type's hire price; the shortfall warning goes when they suffice."""
    if not permissions.can_plan_transport(actor, region):
        raise PlanningNotAllowed(_("U mag de busplanning niet wijzigen."))
    bt = permissions.linkable(
        actor, BusType, bus_type_id, field="bus_type", check=lambda a, t: t.region_id == region.id and t.active
    )
    if hire_price(bt, region) is None:
        raise TransportError(
            _("Voor dit bustype is geen huurprijs ingesteld: het kan niet gehuurd worden."),
            field="bus_type",
            code="not_for_hire",
        )
    if not isinstance(count, int) or not 0 <= count <= MAX_HIRED_PER_TYPE:
        raise TransportError(_("Huur tussen 0 en %(n)s bussen.", n=MAX_HIRED_PER_TYPE), field="count")
    if day < to_local(utcnow()).date():
        raise TransportError(_("Een dag in het verleden kan niet meer."), field="day")
    hire = db.session.scalar(
        select(BusHire).where(BusHire.region_id == region.id, BusHire.day == day, BusHire.bus_type_id == bt.id)
    )
    if count == 0:
        if hire is not None:
            db.session.delete(hire)
        hire = None
    else:
        if hire is None:
            hire = BusHire(region_id=region.id, day=day, bus_type_id=bt.id, count=count, created_by_id=actor.id)
            db.session.add(hire)
        hire.count = count
    # the day is planned as one: its plans are re-made after the commit (stale: even a plan whose
    # classes all have a bus), holding the pickup times the schools were told
    for sid in day_sessions_with_plans(region.id, day):
        _lock_plan(sid).stale = True
        session_changed(sid)
    db.session.flush()
    return hire


def hires_on(region_id: int | None, day: date) -> list[BusHire]:
    stmt = (
        select(BusHire).where(BusHire.day == day).options(selectinload(BusHire.bus_type)).order_by(BusHire.bus_type_id)
    )
    if region_id is not None:
        stmt = stmt.where(BusHire.region_id == region_id)
    return list(db.session.scalars(stmt))


def ask_school(actor: User, plan_id: int, booking_id) -> Booking:
    """A class has no bus (the fleet is used up): mail the school's contacts (through the outbox) to ask
    whether they can arrange their own transport; they answer by declining the bus on their booking."""
    plan, session = _plan_for(actor, plan_id)
    booking = permissions.linkable(
        actor, Booking, booking_id, field="booking", check=lambda a, b: b.session_id == session.id
    )
    if not any(w.get("code") == "no_bus" and w.get("booking_id") == booking.id for w in plan.warnings or []):
        raise TransportError(_("Deze klas heeft een bus: er is niets te vragen."), field="booking", code="has_bus")
    from flask_babel import force_locale

    from app.booking.notify import _recipients
    from app.mail import queue_mail

    to, locale = _recipients(booking)
    if not to:
        raise TransportError(_("Van deze boeking is geen e-mailadres bekend."), field="booking", code="no_email")
    base = current_app.config["BASE_URL"].rstrip("/")
    with force_locale(locale):
        when = to_local(session.starts_at).strftime("%d-%m-%Y %H:%M")
        subject = _("Busvervoer: %(title)s", title=session.offer.title)
        body = "\n\n".join(
            [
                _("Beste %(name)s,", name=booking.contact_name or _("collega")),
                _(
                    'Voor uw klas (groep %(groep)s, %(seats)s plaatsen) bij "%(title)s" op %(when)s is nog geen bus: '
                    "alle bussen van de regio rijden dan al.",
                    groep=booking.groep_label,
                    seats=booking.pupils + booking.adults,
                    title=session.offer.title,
                    when=when,
                ),
                _(
                    'Kunt u zelf vervoer regelen? Geef dat dan aan bij uw boeking ("eigen vervoer"): %(url)s',
                    url=f"{base}/boekingen/{booking.id}",
                ),
                _("Lukt dat niet, dan zoeken wij verder naar een oplossing en hoort u van ons."),
            ]
        )
    queue_mail(to, subject, body)
    booking.events.append(BookingEvent(actor_id=actor.id, at=utcnow(), action="asked_own_transport"))
    db.session.flush()
    return booking


# ------------------------------------------------------------------ teachers: own transport


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


# ------------------------------------------------------------------ known road distances


def set_road_distance(
    actor: User, school_id: int, venue_id: int, km: float, minutes: float | None = None, source: str = "manual"
) -> RoadDistance:
    venue = db.session.get(Venue, venue_id)
    school = db.session.get(School, school_id)
    if (
        venue is None
        or school is None
        or school.region_id != venue.region_id
        or not permissions.same_region(actor, venue)
    ):
        raise PlanNotFound(_("Onbekende school of locatie."))
    if not permissions.can_plan_transport(actor, venue.region):
        raise PlanningNotAllowed(_("U mag de afstanden niet wijzigen."))
    if km is None or not 0 <= km <= 500:
        raise TransportError(_("De afstand moet tussen 0 en 500 km liggen."), field="km")
    if minutes is not None and not 0 < minutes <= 600:
        raise TransportError(_("De rijtijd moet tussen 1 en 600 minuten liggen."), field="minutes")
    rd = db.session.scalar(
        select(RoadDistance).where(RoadDistance.school_id == school.id, RoadDistance.venue_id == venue.id)
    )
    if rd is None:
        rd = RoadDistance(school_id=school.id, venue_id=venue.id)
        db.session.add(rd)
    rd.km, rd.minutes, rd.source = round(float(km), 2), minutes, source[:50]
    db.session.flush()
    return rd


def import_road_distances(actor: User, region: Region, content: str) -> int:
    """A CSV with columns school (DUO location code), venue (name or id), km and optionally minutes."""
    if not permissions.can_plan_transport(actor, region):
        raise PlanningNotAllowed(_("U mag de afstanden niet wijzigen."))
    reader = csv.DictReader(
        io.StringIO(content.lstrip("\ufeff")), delimiter=";" if ";" in content.split("\n", 1)[0] else ","
    )
    fields = {f.strip().lower() for f in (reader.fieldnames or [])}
    if not {"school", "venue", "km"} <= fields:
        raise TransportError(_("De kolommen school, venue en km zijn nodig (minutes mag)."), field="file")
    schools = {s.location_code: s.id for s in db.session.scalars(select(School).where(School.region_id == region.id))}
    venues = {}
    for v in db.session.scalars(select(Venue).where(Venue.region_id == region.id)):
        venues[v.name.lower()] = v.id
        venues[str(v.id)] = v.id
    count = 0
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        sid, vid = schools.get(row["school"].upper()), venues.get(row["venue"].lower())
        if sid is None or vid is None:
            raise TransportError(_("Regel %(n)s: onbekende school of locatie.", n=n), field="file")
        try:
            km = float(row["km"].replace(",", "."))
            minutes = float(row["minutes"].replace(",", ".")) if row.get("minutes") else None
        except ValueError:
            raise TransportError(_("Regel %(n)s: km en minuten moeten getallen zijn.", n=n), field="file") from None
        try:
            set_road_distance(actor, sid, vid, km, minutes, source="csv")
        except TransportError as exc:
            raise TransportError(_("Regel %(n)s: %(msg)s", n=n, msg=exc.message), field="file") from None
        count += 1
    return count


# ------------------------------------------------------------------ reading plans: pages, API, orders


def plans_on(region_id: int | None, day: date) -> list[BusPlan]:
    """The plans (with buses) of the sessions of a local day, in time order."""
    lo, hi = local_to_utc(day, time(0, 0)), local_to_utc(day + timedelta(days=1), time(0, 0))
    stmt = (
        select(BusPlan)
        .join(Session, BusPlan.session_id == Session.id)
        .where(Session.starts_at >= lo, Session.starts_at < hi)
        .options(
            selectinload(BusPlan.buses)
            .selectinload(Bus.stops)
            .selectinload(BusStop.booking)
            .selectinload(Booking.school),
            selectinload(BusPlan.buses).selectinload(Bus.bus_type),
        )
        .order_by(Session.starts_at, Session.id)
    )
    if region_id is not None:
        from app.labs.models import Offer

        stmt = stmt.join(Offer, Session.offer_id == Offer.id).where(Offer.region_id == region_id)
    plans = list(db.session.scalars(stmt.options(selectinload(BusPlan.session))))
    return [p for p in plans if p.buses or p.needs_review or p.stale or p.warnings]


def plan_days(region_id: int | None, start: date, days: int = 28) -> list[tuple[date, int]]:
    """Local days from ``start`` with buses planned, and how many."""
    from app.labs.models import Offer

    lo = local_to_utc(start, time(0, 0))
    hi = local_to_utc(start + timedelta(days=days), time(0, 0))
    stmt = (
        select(Session.starts_at)
        .join(BusPlan, BusPlan.session_id == Session.id)
        .join(Bus, Bus.plan_id == BusPlan.id)
        .where(Session.starts_at >= lo, Session.starts_at < hi)
    )
    if region_id is not None:
        stmt = stmt.join(Offer, Session.offer_id == Offer.id).where(Offer.region_id == region_id)
    counts: dict[date, int] = {}
    for starts_at in db.session.scalars(stmt):
        d = to_local(starts_at).date()
        counts[d] = counts.get(d, 0) + 1
    return sorted(counts.items())


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
        s = plan.session
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
                    s.venue.name if s.venue else "",
                    s.venue.address if s.venue else "",
                    s.offer.title,
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


def known_distances(region_id: int, limit: int = 500):
    """The known road distances of a region's venues: (distance, school, venue)."""
    return db.session.execute(
        select(RoadDistance, School, Venue)
        .join(School, RoadDistance.school_id == School.id)
        .join(Venue, RoadDistance.venue_id == Venue.id)
        .where(Venue.region_id == region_id)
        .order_by(School.name, Venue.name)
        .limit(limit)
    ).all()
