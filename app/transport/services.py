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
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import selectinload

from app.auth import permissions
from app.auth.models import Region, User
from app.booking.locking import locking_enabled
from app.booking.models import Booking, BookingEvent, BookingStatus
from app.db import utcnow
from app.extensions import db
from app.labs.models import PartLocation, Session, SessionStatus, Venue
from app.schools.models import School
from app.timeutil import local_to_utc, to_local
from app.transport import planning
from app.transport.distance import road_km
from app.transport.eligibility import needs_bus
from app.transport.errors import BusFull, BusLocked, NotAllowed, PlanNotFound, TransportError
from app.transport.models import Bus, BusPlan, BusStop, BusType, PlanStatus, RoadDistance

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ distances and eligibility

def known_roads(venue_ids, school_ids=None) -> dict[tuple[int, int], tuple[float, float | None]]:
    """The known road distances (km, minutes) per (school id, venue id) for these venues (and
    schools, when given): the one lookup behind every distance the platform shows or uses."""
    venue_ids = sorted(set(venue_ids))
    if not venue_ids or (school_ids is not None and not school_ids):
        return {}
    stmt = select(RoadDistance.school_id, RoadDistance.venue_id, RoadDistance.km, RoadDistance.minutes).where(
        RoadDistance.venue_id.in_(venue_ids))
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
    for sid, lat, lon in db.session.execute(select(School.id, School.latitude, School.longitude).where(School.id.in_(ids))):
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
        distance_km = road_distances([booking.school_id], s.venue, region.road_factor).get(booking.school_id, (None,))[0]
    return needs_bus(distance_km, region.bus_threshold_km, bus_provided=s.offer.bus_provided,
                     declined=booking.bus_declined and not ignore_declined)


@dataclass
class TransportInfo:
    """What a teacher sees about the bus of one booking."""

    eligible: bool  # the class is entitled to a bus (declined or not)
    declined: bool
    distance_km: float | None
    pickup_at: datetime | None
    place: str  # where the bus picks up: the school

    @property
    def provided(self) -> bool:
        return self.eligible and not self.declined


def transport_info(booking: Booking) -> TransportInfo:
    s = booking.session
    distance = None
    if not _at_school(s):
        distance = road_distances([booking.school_id], s.venue, s.offer.region.road_factor).get(
            booking.school_id, (None,))[0]
    eligible = (booking.status in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED) and distance is not None
                and booking_needs_bus(booking, distance, ignore_declined=True))
    return TransportInfo(eligible, booking.bus_declined, distance, pickup_time(booking) if eligible else None,
                         f"{booking.school.name}, {booking.school.address}")


def pickup_times(bookings) -> dict[int, datetime]:
    """Planned pickup time per booking id, in one query (the earliest, when a large class
    goes in two buses); bookings without a planned bus are left out."""
    ids = sorted({b.id for b in bookings if b.id is not None})
    if not ids:
        return {}
    return {bid: at for bid, at in db.session.execute(
        select(BusStop.booking_id, func.min(BusStop.pickup_at)).where(BusStop.booking_id.in_(ids))
        .group_by(BusStop.booking_id)) if at is not None}


def pickup_time(booking: Booking) -> datetime | None:
    """The planned pickup time of one booking (see pickup_times)."""
    return pickup_times([booking]).get(booking.id)


# ------------------------------------------------------------------ locking the plan

def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _lock_plan(session_id: int) -> BusPlan:
    """Create the plan row if needed, then lock it (PostgreSQL: FOR UPDATE; SQLite: the write lock).

    ``BOOKING_LOCKING = False`` switches the lock off: only the control test does that.
    """
    if _postgres():
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(BusPlan).values(session_id=session_id, status=PlanStatus.DRAFT.value,
                                              needs_review=False, review_note="", stale=False, total_km=0.0,
                                              total_cost=0.0).on_conflict_do_nothing(index_elements=["session_id"]))
    stmt = select(BusPlan).where(BusPlan.session_id == session_id).execution_options(populate_existing=True)
    if _postgres() and locking_enabled():
        ms = int(current_app.config.get("TRANSPORT_LOCK_TIMEOUT_MS", 30000))
        db.session.execute(text(f"SET LOCAL lock_timeout = '{ms}ms'"))
        stmt = stmt.with_for_update(of=BusPlan)
    return db.session.scalar(stmt)


# ------------------------------------------------------------------ planning a session

def _limits() -> planning.Limits:
    cfg = current_app.config
    return planning.Limits(max_ride_minutes=cfg["TRANSPORT_MAX_RIDE_MINUTES"],
                           arrival_margin_minutes=cfg["TRANSPORT_ARRIVAL_MARGIN_MINUTES"],
                           dwell_minutes=cfg["TRANSPORT_DWELL_MINUTES"],
                           return_after_minutes=cfg["TRANSPORT_RETURN_AFTER_MINUTES"],
                           speed_kmh=cfg["TRANSPORT_SPEED_KMH"], time_limit_seconds=cfg["TRANSPORT_SOLVER_SECONDS"])


def _riders(session: Session) -> list[tuple[Booking, float | None, float | None]]:
    """The confirmed bookings of the session that need a bus, with (km, minutes) to the venue."""
    if session.status == SessionStatus.CANCELLED or _at_school(session):
        return []
    bookings = list(db.session.scalars(select(Booking).where(
        Booking.session_id == session.id, Booking.status == BookingStatus.CONFIRMED)
        .options(selectinload(Booking.school)).order_by(Booking.id).execution_options(populate_existing=True)))
    region = session.offer.region
    dist = road_distances([b.school_id for b in bookings], session.venue, region.road_factor)
    out = []
    for b in bookings:
        km, minutes = dist.get(b.school_id, (None, None))
        if booking_needs_bus(b, km):
            out.append((b, km, minutes))
    return out


def _types_for(session: Session, plan: BusPlan) -> list[planning.VehicleType]:
    """The region's bus types; ``available`` per day less the buses other plans of the day use."""
    types = db.session.scalars(select(BusType).where(BusType.region_id == session.offer.region_id,
                                                     BusType.active.is_(True)).order_by(BusType.id)).all()
    day = to_local(session.starts_at).date()
    lo, hi = local_to_utc(day, time(0, 0)), local_to_utc(day + timedelta(days=1), time(0, 0))
    used = dict(db.session.execute(select(Bus.bus_type_id, func.count(Bus.id)).join(BusPlan, Bus.plan_id == BusPlan.id)
                                   .join(Session, BusPlan.session_id == Session.id).where(
        Session.starts_at >= lo, Session.starts_at < hi, BusPlan.id != plan.id).group_by(Bus.bus_type_id)).all())
    return [planning.VehicleType(t.id, t.seats, t.cost_per_trip, t.cost_per_km, max(0, t.available - used.get(t.id, 0)),
                                 t.name, t.carrier) for t in types]


def _road(factor: float):
    return lambda a, b, c, d: road_km(a, b, c, d, factor)


def build_request(session: Session, plan: BusPlan, riders) -> planning.PlanRequest:
    pinned = {}
    given = []
    for bus in plan.buses:
        if bus.locked:
            given.append(planning.GivenBus(bus.id, bus.bus_type_id, tuple(s.booking_id for s in bus.stops), True))
            continue
        stops = [s for s in bus.stops if s.pinned]
        if stops:
            given.append(planning.GivenBus(bus.id, bus.bus_type_id))
            for s in stops:
                pinned[s.booking_id] = bus.id
    stops = tuple(planning.StopRequest(b.id, b.school_id, b.school.latitude, b.school.longitude, b.pupils + b.adults,
                                       km_to_venue=km, minutes_to_venue=minutes, pinned_bus=pinned.get(b.id),
                                       name=b.school.name)
                  for b, km, minutes in riders if b.school.latitude is not None or km is not None)
    v = session.venue
    return planning.PlanRequest(v.latitude, v.longitude, session.starts_at, session.ends_at, stops,
                                tuple(_types_for(session, plan)), _road(session.offer.region.road_factor), _limits(),
                                tuple(given))


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
        notes.append(_("Nieuw: %(school)s (groep %(groep)s, %(seats)s plaatsen) heeft een bus nodig.",
                       school=b.school.name, groep=b.groep_label, seats=b.pupils + b.adults))
    for bid in sorted(planned - set(wanted)):
        b = db.session.get(Booking, bid)
        notes.append(_("Vervalt: %(school)s (groep %(groep)s) rijdt niet meer mee.",
                       school=b.school.name if b else "?", groep=b.groep_label if b else "?"))
    return notes


def plan_session(session_id: int, now: datetime | None = None, *, force: bool = False,
                 only_if_riders_changed: bool = False) -> BusPlan | None:
    """(Re)plan the buses of one session; None when the session needs no plan at all.

    A draft plan is re-made. A frozen plan (ordered) is re-made only when ``force``d by
    the coordinator; otherwise a change is flagged (``needs_review``) with what changed.
    ``only_if_riders_changed`` (a booking changed, the session did not): a plan whose
    buses carry exactly the classes that need one, with their seats, is kept as it is —
    a booking from nearby, a waiting-list entry or a refused one costs no solver run.
    """
    now = now or utcnow()
    session = db.session.get(Session, session_id)
    if session is None:
        return None
    has_plan = db.session.scalar(select(BusPlan.id).where(BusPlan.session_id == session_id)) is not None
    if not has_plan and (session.starts_at <= now or _at_school(session) or session.status == SessionStatus.CANCELLED):
        return None
    plan = _lock_plan(session_id)
    db.session.refresh(session)
    riders = _riders(session) if session.starts_at > now else None
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
    if only_if_riders_changed and not plan.stale and plan.planned_at is not None and _same_riders(plan, riders):
        plan.planned_at = utcnow()  # checked against the bookings as they are now: still right
        db.session.flush()
        return plan
    request = build_request(session, plan, riders) if riders else None
    if request is not None and not request.types:
        # a region without bus types: nothing to plan with. Not an error (it logged a traceback on
        # every booking and re-plan): a warning once per region, a notice on the plan page, and the
        # plan stays stale, so it is made when a bus type is added.
        _warn_no_bus_types(session.offer.region_id)
        plan.stale = True
        db.session.flush()
        return plan
    result = planning.plan(request) if request is not None else planning.Plan([], "none")
    _write(plan, result)
    plan.planned_at = utcnow()
    plan.stale = False
    if force:
        plan.needs_review, plan.review_note = False, ""
    if result.warnings:
        log.info("plan of session %s: %s", session_id, "; ".join(result.warnings))
    db.session.flush()
    return plan


_warned_regions: set[int] = set()


def _warn_no_bus_types(region_id: int) -> None:
    if region_id not in _warned_regions:
        _warned_regions.add(region_id)
        log.warning("region %s has no active bus types: its far classes wait for a bus until one is added", region_id)


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
    # buses keep their rows (and ids) where they can: same type first, then any unlocked one
    spare = sorted(bid for bid in old if bid not in {b.key for b in result.buses} and not old[bid].locked)
    for pb in result.buses:
        if pb.key is None:
            match = next((bid for bid in spare if old[bid].bus_type_id == pb.type.id), None)
            if match is not None:
                spare.remove(match)
                pb.key = match
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
        bus.bus_type_id, bus.locked = pb.type.id, pb.locked
        bus.arrives_at, bus.departs_back_at = pb.arrives_at, pb.departs_back_at
        bus.km, bus.cost = pb.km, pb.cost
        db.session.flush()
        for pos, ps in enumerate(pb.stops, start=1):
            db.session.add(BusStop(bus_id=bus.id, booking_id=ps.booking_id, position=pos, pickup_at=ps.pickup_at,
                                   seats=ps.seats, pinned=ps.pinned))
    plan.total_km = round(result.total_km, 2)
    plan.total_cost = round(result.total_cost, 2)
    db.session.flush()
    db.session.expire(plan, ["buses"])


# ------------------------------------------------------------------ after a commit, and the jobs

def replan_sessions(session_ids, now: datetime | None = None, *, moved=None) -> dict[int, str]:
    """Re-plan each session in its own unit of work; a failure marks the plan stale (the job retries).

    ``moved``: when given, only these sessions changed themselves (time, place, status);
    the others had booking changes only and keep a plan whose riders are unchanged."""
    out = {}
    for sid in sorted(set(session_ids)):
        try:
            plan = plan_session(sid, now, only_if_riders_changed=moved is not None and sid not in moved)
            db.session.commit()
            out[sid] = "planned" if plan is not None else "none"
        except Exception:  # noqa: BLE001 — the booking stands; the plan is re-made later
            db.session.rollback()
            log.exception("re-planning the buses of session %s failed", sid)
            out[sid] = "stale"
            try:
                mark_stale(sid)
                db.session.commit()
            except Exception:  # noqa: BLE001
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
    stale = select(BusPlan.session_id).join(Session, BusPlan.session_id == Session.id).where(
        BusPlan.stale.is_(True), Session.starts_at > now)
    changed = (select(Booking.session_id).join(Session, Booking.session_id == Session.id)
               .outerjoin(BusPlan, BusPlan.session_id == Session.id).where(
        Session.starts_at > now, Session.location == PartLocation.VENUE,
        Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.CANCELLED)),
        (BusPlan.id.is_(None) & (Booking.status == BookingStatus.CONFIRMED)) | (Booking.updated_at > BusPlan.planned_at)))
    return sorted(set(db.session.scalars(stale)) | set(db.session.scalars(changed)))


def plan_upcoming(region_id: int, now: datetime, days: int = 14) -> int:
    """Plan every session of a region in the coming days that has bookings (the demo, a new region)."""
    from app.labs.models import Offer

    ids = db.session.scalars(select(Session.id).join(Offer, Session.offer_id == Offer.id).where(
        Offer.region_id == region_id, Session.starts_at > now, Session.starts_at <= now + timedelta(days=days),
        Session.status == SessionStatus.SCHEDULED, Session.location == PartLocation.VENUE,
        Session.booked_classes > 0).order_by(Session.starts_at, Session.id)).all()
    for sid in ids:
        plan_session(sid, now)
        db.session.commit()
    return len(ids)


def freeze_due_plans(now: datetime, *, tell: bool = True) -> int:
    """Freeze (order) the plans of sessions within TRANSPORT_FREEZE_DAYS; tell the schools their pickup time.

    Each session is re-planned and frozen in its own unit of work under the plan lock;
    a frozen plan is skipped, so running twice changes nothing.
    """
    days = int(current_app.config["TRANSPORT_FREEZE_DAYS"])
    ids = db.session.scalars(select(Session.id).where(
        Session.starts_at > now, Session.starts_at <= now + timedelta(days=days),
        Session.status == SessionStatus.SCHEDULED, Session.location == PartLocation.VENUE,
        Session.booked_classes > 0).order_by(Session.id)).all()
    db.session.commit()
    frozen = 0
    for sid in ids:
        plan = plan_session(sid, now)
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
        raise NotAllowed(_("U mag de busplanning niet wijzigen."))
    plan = _lock_plan(session.id)
    db.session.refresh(bus)
    return bus, plan, session


def set_bus_locked(actor: User, bus_id: int, locked: bool) -> Bus:
    """Lock a bus (re-planning keeps it as it is) or unlock it."""
    bus, _plan, _session = _plan_of_bus(actor, bus_id)
    bus.locked = bool(locked)
    db.session.flush()
    return bus


def move_stop(actor: User, stop_id: int, *, to_bus_id: int | None = None, new_type_id: int | None = None,
              now: datetime | None = None) -> BusStop:
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
        raise BusFull(_("Daarvoor is in die bus geen plaats: %(free)s vrij, %(need)s nodig.",
                        free=target.bus_type.seats - taken, need=stop.seats))
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
    plan_session(session.id, now, force=True)
    return stop


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
        raise NotAllowed(_("U mag de busplanning niet wijzigen."))
    return plan, session


def replan(actor: User, plan_id: int, now: datetime | None = None) -> BusPlan:
    """The coordinator re-plans (also a frozen plan: the order changes; the review is done)."""
    plan, session = _plan_for(actor, plan_id)
    before = _pickups(plan)
    plan = plan_session(session.id, now, force=True)
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


def mark_reviewed(actor: User, plan_id: int) -> BusPlan:
    """The coordinator saw the changes after the freeze and leaves the plan as it is."""
    plan, session = _plan_for(actor, plan_id)
    plan = _lock_plan(session.id)
    plan.needs_review, plan.review_note = False, ""
    db.session.flush()
    return plan


# ------------------------------------------------------------------ teachers: own transport

def set_bus_declined(actor: User, booking_id: int, declined: bool) -> Booking:
    """The school goes by its own transport (or takes the bus after all); the plan follows after the commit."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not permissions.can_view_booking(actor, booking):
        raise PlanNotFound(_("Deze boeking bestaat niet."))
    if not permissions.can_decline_bus(actor, booking):
        raise NotAllowed(_("U mag het vervoer van deze boeking niet wijzigen."))
    if booking.status != BookingStatus.CONFIRMED or booking.session.starts_at <= utcnow():
        raise TransportError(_("Alleen bij een bevestigde boeking in de toekomst."), code="not_changeable")
    if not booking_needs_bus(booking, ignore_declined=True):
        raise TransportError(_("Voor deze boeking is geen bus nodig."), code="no_bus")
    if booking.bus_declined != bool(declined):
        booking.bus_declined = bool(declined)
        booking.events.append(BookingEvent(actor_id=actor.id, at=utcnow(),
                                           action="bus_declined" if declined else "bus_accepted"))
    db.session.flush()
    return booking


# ------------------------------------------------------------------ known road distances

def set_road_distance(actor: User, school_id: int, venue_id: int, km: float, minutes: float | None = None,
                      source: str = "manual") -> RoadDistance:
    venue = db.session.get(Venue, venue_id)
    school = db.session.get(School, school_id)
    if venue is None or school is None or school.region_id != venue.region_id or not permissions.same_region(actor, venue):
        raise PlanNotFound(_("Onbekende school of locatie."))
    if not permissions.can_plan_transport(actor, venue.region):
        raise NotAllowed(_("U mag de afstanden niet wijzigen."))
    if km is None or not 0 <= km <= 500:
        raise TransportError(_("De afstand moet tussen 0 en 500 km liggen."), field="km")
    if minutes is not None and not 0 < minutes <= 600:
        raise TransportError(_("De rijtijd moet tussen 1 en 600 minuten liggen."), field="minutes")
    rd = db.session.scalar(select(RoadDistance).where(RoadDistance.school_id == school.id,
                                                      RoadDistance.venue_id == venue.id))
    if rd is None:
        rd = RoadDistance(school_id=school.id, venue_id=venue.id)
        db.session.add(rd)
    rd.km, rd.minutes, rd.source = round(float(km), 2), minutes, source[:50]
    db.session.flush()
    return rd


def import_road_distances(actor: User, region: Region, content: str) -> int:
    """A CSV with columns school (DUO location code), venue (name or id), km and optionally minutes."""
    if not permissions.can_plan_transport(actor, region):
        raise NotAllowed(_("U mag de afstanden niet wijzigen."))
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")), delimiter=";" if ";" in content.split("\n", 1)[0] else ",")
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
            raise TransportError(_("Regel %(n)s: km en minuten moeten getallen zijn.", n=n), field="file")
        try:
            set_road_distance(actor, sid, vid, km, minutes, source="csv")
        except TransportError as exc:
            raise TransportError(_("Regel %(n)s: %(msg)s", n=n, msg=exc.message), field="file")
        count += 1
    return count


# ------------------------------------------------------------------ reading plans: pages, API, orders

def plans_on(region_id: int | None, day: date) -> list[BusPlan]:
    """The plans (with buses) of the sessions of a local day, in time order."""
    lo, hi = local_to_utc(day, time(0, 0)), local_to_utc(day + timedelta(days=1), time(0, 0))
    stmt = (select(BusPlan).join(Session, BusPlan.session_id == Session.id).where(
        Session.starts_at >= lo, Session.starts_at < hi)
        .options(selectinload(BusPlan.buses).selectinload(Bus.stops).selectinload(BusStop.booking)
                 .selectinload(Booking.school), selectinload(BusPlan.buses).selectinload(Bus.bus_type))
        .order_by(Session.starts_at, Session.id))
    if region_id is not None:
        from app.labs.models import Offer

        stmt = stmt.join(Offer, Session.offer_id == Offer.id).where(Offer.region_id == region_id)
    plans = list(db.session.scalars(stmt.options(selectinload(BusPlan.session))))
    return [p for p in plans if p.buses or p.needs_review or p.stale]


def plan_days(region_id: int | None, start: date, days: int = 28) -> list[tuple[date, int]]:
    """Local days from ``start`` with buses planned, and how many."""
    from app.labs.models import Offer

    lo = local_to_utc(start, time(0, 0))
    hi = local_to_utc(start + timedelta(days=days), time(0, 0))
    stmt = (select(Session.starts_at).join(BusPlan, BusPlan.session_id == Session.id).join(Bus, Bus.plan_id == BusPlan.id)
            .where(Session.starts_at >= lo, Session.starts_at < hi))
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
            stops = [(st.position, st.pickup_at, st.booking.school.name, st.booking.school.address, st.seats)
                     for st in bus.stops]
            lines.append(OrderLine(day, bt.carrier, bt.name, bt.seats, sum(st.seats for st in bus.stops), bus.id,
                                   s.venue.name if s.venue else "", s.venue.address if s.venue else "", s.offer.title,
                                   stops, bus.arrives_at, bus.departs_back_at, bus.km, bus.cost, plan.status.value))
    lines.sort(key=lambda ln: (ln.carrier, ln.stops[0][1] if ln.stops else ln.arrives_at, ln.bus_id))
    return lines


ORDER_HEADER = ["datum", "vervoerder", "bus", "bus_type", "zitplaatsen", "bezet", "halte", "ophalen", "school",
                "adres", "plaatsen", "bestemming", "adres_bestemming", "aankomst", "terugreis", "km", "kosten", "status"]


def _hm(at: datetime | None) -> str:
    """A local clock time, or empty for a time not planned (yet)."""
    return to_local(at).strftime("%H:%M") if at else ""


def order_rows(lines: list[OrderLine]):
    for ln in lines:
        for pos, pickup, school, address, seats in ln.stops:
            yield [ln.day.isoformat(), ln.carrier, ln.bus_id, ln.bus_type, ln.seats, ln.seats_taken, pos,
                   _hm(pickup), school, address, seats, ln.venue, ln.venue_address, _hm(ln.arrives_at),
                   _hm(ln.departs_back_at), f"{ln.km:.1f}", f"{ln.cost:.2f}", ln.status]


def known_distances(region_id: int, limit: int = 500):
    """The known road distances of a region's venues: (distance, school, venue)."""
    return db.session.execute(select(RoadDistance, School, Venue).join(School, RoadDistance.school_id == School.id)
                              .join(Venue, RoadDistance.venue_id == Venue.id).where(Venue.region_id == region_id)
                              .order_by(School.name, Venue.name).limit(limit)).all()
