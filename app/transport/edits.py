"""The coordinator's edits of a plan: lock a bus, move or unpin a class, re-plan, mark the
warnings seen and the changes after the freeze reviewed. Each re-plans under the day's lock."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _

from app.auth import permissions
from app.auth.models import User
from app.extensions import db
from app.labs.models import Session
from app.transport.errors import BusFull, BusLocked, PlanningNotAllowed, PlanNotFound, TransportError
from app.transport.models import Bus, BusPlan, BusStop, BusType, PlanStatus
from app.transport.pickups import plan_pickups, tell_pickups
from app.transport.plans import lock_plan, plan_session, trip_plans


def plan_of_bus(actor: User, bus_id: int) -> tuple[Bus, BusPlan, Session]:
    bus = db.session.get(Bus, bus_id)
    if bus is None:
        raise PlanNotFound(_("Deze bus bestaat niet."))
    session = db.session.get(Session, bus.plan.session_id)
    if not permissions.same_region(actor, session):
        raise PlanNotFound(_("Deze bus bestaat niet."))
    if not permissions.can_plan_transport(actor, session.offer.region):
        raise PlanningNotAllowed(_("U mag de busplanning niet wijzigen."))
    plan = lock_plan(session.id)
    db.session.refresh(bus)
    return bus, plan, session


def _trip_plan_ids(stop: BusStop) -> set[int]:
    """The plans of the stop's session's trip: a class may move to a bus of any of them (shared)."""
    return {p.id for p in trip_plans(stop.booking.session)}


def set_bus_locked(actor: User, bus_id: int, locked: bool) -> Bus:
    """Lock a bus (re-planning keeps it as it is) or unlock it."""
    bus, _plan, _session = plan_of_bus(actor, bus_id)
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
    source, plan, session = plan_of_bus(actor, stop.bus_id)
    db.session.refresh(stop)
    if source.locked:
        raise BusLocked(_("Deze bus is vergrendeld. Ontgrendel hem eerst."))
    if to_bus_id is not None:
        target = db.session.get(Bus, to_bus_id)
        if target is None or (target.plan_id != plan.id and target.plan_id not in _trip_plan_ids(stop)):
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
    bus = db.session.get(Bus, target_id)
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
    warned = [w for p in trip_plans(session) for w in p.warnings or []]  # a shared bus: any session's plan
    broken = next((w for w in warned if w["code"] == "pin_breaks_rule" and w.get("booking_id") in on_bus), None)
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
    _bus, _plan, session = plan_of_bus(actor, stop.bus_id)
    stop.pinned = False
    db.session.flush()
    plan_session(session.id, now, force=True)


def plan_for(actor: User, plan_id: int) -> tuple[BusPlan, Session]:
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
    plan, session = plan_for(actor, plan_id)
    trip = trip_plans(session)  # the trip is re-planned as one (its sessions may share buses)
    before = {p.id: plan_pickups(p) for p in trip}
    plan = plan_session(session.id, now, force=True, hold="soft")
    for p in trip:
        db.session.refresh(p)
        if p.status == PlanStatus.FROZEN:  # ordered: tell the schools whose pickup changed
            after = plan_pickups(p)
            tell_pickups(p, only={bid for bid in after if after[bid] != before[p.id].get(bid)})
    return plan


def mark_warnings_seen(actor: User, plan_id: int) -> BusPlan:
    """The coordinator saw the plan's warnings ("ik heb het gezien"): it is no longer to be checked,
    until the warnings change."""
    plan, session = plan_for(actor, plan_id)
    plan = lock_plan(session.id)
    plan.warnings_seen = plan.warnings_key
    db.session.flush()
    return plan


def mark_reviewed(actor: User, plan_id: int) -> BusPlan:
    """The coordinator saw the changes after the freeze and leaves the plan as it is."""
    plan, session = plan_for(actor, plan_id)
    plan = lock_plan(session.id)
    plan.needs_review, plan.review_note = False, ""
    db.session.flush()
    return plan
