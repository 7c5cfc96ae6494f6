"""The bus plans of a day: locking, planning, writing and reading them.

``plan_session`` locks the plans of the session's day and region (one lock order), re-reads the
bookings, runs the pure planner (app/transport/planning.py) for the whole day (the sessions share
the fleet; the sessions of one trip as one routing problem, so their classes may share a bus)
and writes buses and stops; locked buses and pinned stops are respected. A shared bus is a row
of one plan whose stops name classes of several sessions; riders, pickups and held times are
read per session over every bus. A frozen plan is not changed by a booking change: the change is
flagged for the coordinator (``needs_review``) instead. Like every service here it flushes but
does not commit.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from app.auth.models import Region
from app.booking.models import Booking
from app.db import utcnow
from app.extensions import db
from app.labs.models import PartLocation, Session, SessionStatus, Venue
from app.locking import is_postgres, locking_enabled, set_lock_timeout
from app.timeutil import local_to_utc, to_local
from app.transport import planning
from app.transport.distance import road_km
from app.transport.models import Bus, BusHire, BusPlan, BusStop, BusType, PickupNotice, PlanStatus
from app.transport.riders import at_school, is_plausible, session_riders

log = logging.getLogger(__name__)


def lock_plan(session_id: int) -> BusPlan:
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


def _limits(region: Region | None = None) -> planning.Limits:
    cfg = current_app.config
    return planning.Limits(
        share_detour_minutes=region.bus_share_detour_minutes if region is not None else 0,
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


def trip_key(session: Session):
    """Sessions of a day with the same start and end are planned as one trip where their venues are
    the same or close (the region's ``bus_share_detour_minutes``): their classes may share a bus."""
    if session.venue_id is None or not current_app.config["TRANSPORT_SHARE_BUSES"]:
        return None
    return (session.starts_at, session.ends_at)


def _near(a: Venue, b: Venue, region: Region) -> bool:
    """Whether a bus may drop classes at both venues: the same, or a drive within the detour."""
    if a.id == b.id:
        return True
    km = road_km(a.latitude, a.longitude, b.latitude, b.longitude, region.road_factor)
    return math.ceil(km / current_app.config["TRANSPORT_SPEED_KMH"] * 60) <= region.bus_share_detour_minutes


def trip_plans(session: Session) -> list[BusPlan]:
    """The plans of the session's trip-mates (itself included), in session order: the sessions of the
    same start and end at the same or a nearby venue, which may share buses with it."""
    from app.labs.models import Offer

    own = list(db.session.scalars(select(BusPlan).where(BusPlan.session_id == session.id)))
    if trip_key(session) is None:
        return own
    region = session.offer.region
    rows = db.session.execute(
        select(BusPlan, Session)
        .join(Session, BusPlan.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .where(
            Offer.region_id == region.id,
            Session.starts_at == session.starts_at,
            Session.ends_at == session.ends_at,
            Session.venue_id.is_not(None),
        )
        .order_by(BusPlan.session_id)
    ).all()
    return [p for p, s in rows if s.id == session.id or _near(session.venue, s.venue, region)]


def build_request(session: Session, plan: BusPlan, riders, types=None, hold: str = "hard") -> planning.PlanRequest:
    given = []
    for bus in plan.buses:
        if bus.locked:
            given.append(
                planning.GivenBus(
                    bus.id, bus.bus_type_id, tuple(s.booking_id for s in bus.stops), True, hired=bus.hired
                )
            )
        elif any(s.pinned for s in bus.stops):
            given.append(planning.GivenBus(bus.id, bus.bus_type_id, hired=bus.hired))
    # a class pinned to a bus, also to a shared bus of another session of its trip (that session's
    # request brings the bus; in one trip they are planned as one)
    ids = sorted(b.id for b, _km, _m in riders)
    pinned = (
        dict(
            db.session.execute(
                select(BusStop.booking_id, BusStop.bus_id)
                .join(Bus, BusStop.bus_id == Bus.id)
                .where(BusStop.booking_id.in_(ids), BusStop.pinned.is_(True), Bus.locked.is_(False))
                .order_by(BusStop.booking_id, BusStop.bus_id)
            ).all()
        )
        if ids
        else {}
    )
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
        _limits(session.offer.region),
        tuple(given),
        hold=hold,
        trip=trip_key(session),
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
    planned = set(_seated(session.id))
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
    if not has_plan and (session.starts_at <= now or at_school(session) or session.status == SessionStatus.CANCELLED):
        return None
    # the day's plans are locked in one order (session id), this session's among them: two re-plans
    # of the same day wait for each other instead of deadlocking
    plan = {sid: lock_plan(sid) for sid in _day_session_ids(session, now)}[session_id]
    db.session.refresh(session)
    warns: list = []
    riders = session_riders(session, warns) if session.starts_at > now else None
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
    """Plan every session of ``session``'s day and region in one model; returns the plans written.

    The sessions of a trip (trip_key) are planned as one: a re-plan the coordinator forces for one
    of them re-plans its trip-mates too (they may share a bus)."""
    holds = holds or {}
    types = _types_for(session.offer.region_id, to_local(session.starts_at).date())
    if not types:
        _warn_no_bus_types(session.offer.region_id)  # every far class is reported without a bus
    plans = {sid: lock_plan(sid) for sid in _day_session_ids(session, now)}  # sorted: one lock order
    sessions = {sid: db.session.get(Session, sid) for sid in plans}
    force_ids = set(force_ids) | {
        p.session_id for sid in force_ids if sid in sessions for p in trip_plans(sessions[sid])
    }
    reqs, writable = [], []
    carried: set[int] = set()  # classes on the buses of plans that stay as they are
    for sid, plan in plans.items():
        s = sessions[sid]
        db.session.refresh(plan)
        fixed = s.starts_at <= now or (plan.status == PlanStatus.FROZEN and sid not in force_ids)
        if fixed:
            if plan.buses:
                reqs.append(_fixed_request(s, plan, types))
                carried |= {st.booking_id for bus in plan.buses for st in bus.stops}
            continue
        writable.append((s, plan))
    entries = []
    for s, plan in writable:
        warns: list = []
        riders = [r for r in session_riders(s, warns) if r[0].id not in carried]
        reqs.append(build_request(s, plan, riders, types, holds.get(s.id, "hard")))
        entries.append((len(reqs) - 1, s, plan, warns, {b.id for b, _km, _m in riders}))
    results = planning.plan_day(reqs) if reqs else []
    pickups: dict[int, datetime] = {}  # every class's pickup, on its own or on a shared bus
    for result in results:
        for bus in result.buses:
            for st in bus.stops:
                if st.pickup_at is not None and (st.booking_id not in pickups or st.pickup_at < pickups[st.booking_id]):
                    pickups[st.booking_id] = st.pickup_at
    written = {}
    for index, s, plan, warns, riding in entries:
        result = results[index]
        _write(plan, result)
        plan.warnings = [w.as_dict() for w in warns + list(result.warnings)]
        plan.planned_at = utcnow()
        plan.stale = False
        if s.id in force_ids:
            plan.needs_review, plan.review_note = False, ""
        _announce({bid: at for bid, at in pickups.items() if bid in riding}, holds.get(s.id, "hard"))
        if result.warnings:
            log.info("plan of session %s: %s", s.id, "; ".join(w.code for w in result.warnings))
        written[s.id] = plan
    db.session.flush()
    return written


def _announce(pickups: dict[int, datetime], hold: str) -> None:
    """The pickup times the schools now see (``pickups``: one session's classes): a first time is
    kept as announced; a change is recorded only when the coordinator accepted changes (or the
    session moved)."""
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


def _seated(session_id: int) -> dict[int, int]:
    """The seats each class of the session has on the buses (its own plan's or shared ones)."""
    return dict(
        db.session.execute(
            select(BusStop.booking_id, func.sum(BusStop.seats))
            .join(Booking, BusStop.booking_id == Booking.id)
            .where(Booking.session_id == session_id)
            .group_by(BusStop.booking_id)
        ).all()
    )


def _same_riders(plan: BusPlan, riders) -> bool:
    """Whether the buses seat exactly these classes of the plan's session, each with all its seats."""
    return _seated(plan.session_id) == {b.id: b.pupils + b.adults for b, _km, _minutes in riders}


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
    serving_buses(plans)
    return [p for p in plans if p.serving or p.needs_review or p.stale or p.warnings]


def serving_buses(plans: list[BusPlan]) -> None:
    """Give each plan ``serving``: its own buses, then the shared buses of other plans (of its trip)
    that carry classes of its session: a shared bus is listed under every session it serves."""
    of_session = {p.session_id: p for p in plans}
    for p in plans:
        p.serving = list(p.buses)
    for p in plans:
        for bus in p.buses:
            for sid in bus.session_ids:
                if sid != p.session_id and sid in of_session:
                    of_session[sid].serving.append(bus)


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
