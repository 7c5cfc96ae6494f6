"""Bus plans in the database: eligibility, re-planning after commit, freeze, manual changes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.booking.services import cancel_booking
from app.db import utcnow
from app.extensions import db
from app.labs.models import PartLocation
from app.transport import edits, jobs, planning, plans, riders, roads
from app.transport.errors import BusFull, BusLocked, PlanningNotAllowed, PlanNotFound
from app.transport.models import Bus, BusPlan, BusStop, PickupNotice, PlanStatus, RoadDistance
from tests import factories
from app.transport.effects import session_changed
from tests.transport.conftest import book, drain, planners_meet_before_writing, school_at


def _plan(session_id) -> BusPlan | None:
    db.session.expire_all()
    return db.session.scalar(select(BusPlan).where(BusPlan.session_id == session_id))


def _riders(plan) -> dict[int, int]:
    out: dict[int, int] = {}
    for bus in plan.buses:
        for s in bus.stops:
            out[s.booking_id] = out.get(s.booking_id, 0) + s.seats
    return out


def test_threshold_decides_who_gets_a_bus(transport):
    region, session = transport["region"], transport["session"]
    near, tn = school_at(region, 5.9)
    far, tf = school_at(region, 6.1)
    farther, tfr = school_at(region, 14.0, east=0.02)
    b_near, b_far, b_farther = book(tn, near, session), book(tf, far, session), book(tfr, farther, session)
    plan = _plan(session.id)
    assert plan is not None and plan.status == PlanStatus.DRAFT
    assert _riders(plan) == {b_far.id: 22, b_farther.id: 22}
    assert not riders.booking_needs_bus(db.session.get(type(b_near), b_near.id))
    for bus in plan.buses:
        assert sum(s.seats for s in bus.stops) <= bus.bus_type.seats
        assert bus.arrives_at <= session.starts_at - timedelta(minutes=15)
    assert plan.total_cost == pytest.approx(sum(b.cost for b in plan.buses))
    info = riders.transport_info(db.session.get(type(b_far), b_far.id))
    assert info.provided and info.pickup_at is not None and far.name in info.place


def test_a_known_road_distance_overrides_the_estimate(transport):
    region, session, venue = transport["region"], transport["session"], transport["venue"]
    school, teacher = school_at(region, 4.0)
    roads.set_road_distance(transport["coord"], school.id, venue.id, 8.5, 14)
    db.session.commit()
    b = book(teacher, school, session)
    plan = _plan(session.id)
    assert list(_riders(plan)) == [b.id]
    bus = plan.buses[0]
    assert bus.km == pytest.approx(17.0)  # there and back
    assert bus.arrives_at - bus.stops[0].pickup_at == timedelta(minutes=14 + 3)


def test_cancel_takes_the_class_off_and_replans(transport):
    region, session = transport["region"], transport["session"]
    pairs = [school_at(region, 10 + i, east=0.01 * i) for i in range(3)]
    bookings = [book(t, s, session) for s, t in pairs]
    assert set(_riders(_plan(session.id))) == {b.id for b in bookings}
    cancel_booking(pairs[1][1], bookings[1].id)
    drain()
    plan = _plan(session.id)
    assert set(_riders(plan)) == {bookings[0].id, bookings[2].id}
    assert db.session.scalar(select(func.count(BusStop.id)).where(BusStop.booking_id == bookings[1].id)) == 0


def test_declining_the_bus(transport):
    region, session = transport["region"], transport["session"]
    school, teacher = school_at(region, 12)
    b = book(teacher, school, session)
    assert _riders(_plan(session.id)) == {b.id: 22}
    riders.set_bus_declined(teacher, b.id, True)
    drain()
    assert _riders(_plan(session.id)) == {}
    riders.set_bus_declined(teacher, b.id, False)
    drain()
    assert _riders(_plan(session.id)) == {b.id: 22}
    other_school, other = school_at(region, 12, east=0.01)
    with pytest.raises(PlanNotFound):  # another school's booking: as if it did not exist
        riders.set_bus_declined(other, b.id, True)


def test_part_at_school_never_needs_a_bus(app, transport):
    region = transport["region"]
    hotspot = factories.venue(region, latitude=52.0, longitude=6.31)
    series = factories.series_offer(region, transport["venue"], hotspot)
    s1 = factories.session(series, transport["session"].starts_at, part=series.parts[0])
    assert s1.location == PartLocation.AT_SCHOOL
    school, teacher = school_at(region, 20)
    db.session.commit()
    from app.booking.models import Booking, BookingStatus

    b = Booking(
        session_id=s1.id,
        school_id=school.id,
        status=BookingStatus.CONFIRMED,
        groep_min=7,
        groep_max=7,
        pupils=20,
        adults=2,
    )
    db.session.add(b)
    db.session.commit()
    assert not riders.booking_needs_bus(b)
    assert plans.plan_session(s1.id) is None


def test_freeze_orders_tells_and_flags_later_changes(app, transport, mailbox, drain_outbox):
    region, session = transport["region"], transport["session"]
    session.starts_at = utcnow().replace(microsecond=0) + timedelta(days=3)
    session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.commit()
    pairs = [school_at(region, 9 + i, east=0.01 * i) for i in range(3)]
    bookings = [book(t, s, session) for s, t in pairs]
    drain_outbox()
    mailbox.clear()
    assert jobs.freeze_due_plans(utcnow()) == 1
    plan = _plan(session.id)
    assert plan.status == PlanStatus.FROZEN and plan.frozen_at is not None
    before = {(bus.id, s.booking_id) for bus in plan.buses for s in bus.stops}
    drain_outbox()
    assert len([m for m in mailbox if m["Subject"].startswith("Busvervoer")]) == 3
    drain_outbox()
    body = next(m for m in mailbox if m["To"] == pairs[0][1].email).get_body(("plain",)).get_content()
    assert "Bus: ophalen om" in body and pairs[0][0].name in body
    assert jobs.freeze_due_plans(utcnow()) == 0  # twice changes nothing

    cancel_booking(transport["coord"], bookings[0].id, reason="ziek")
    drain_outbox()
    plan = _plan(session.id)
    assert plan.needs_review and pairs[0][0].name in plan.review_note
    assert {(bus.id, s.booking_id) for bus in plan.buses for s in bus.stops} == before  # not silently re-planned

    drain_outbox()
    mailbox.clear()
    edits.replan(transport["coord"], plan.id)
    db.session.commit()
    plan = _plan(session.id)
    assert not plan.needs_review and plan.status == PlanStatus.FROZEN
    assert set(_riders(plan)) == {bookings[1].id, bookings[2].id}
    drain_outbox()
    told = {m["To"] for m in mailbox if m["Subject"].startswith("Busvervoer")}
    assert pairs[0][1].email not in told  # the cancelled class is not told a pickup time
    assert told <= {pairs[1][1].email, pairs[2][1].email}  # only classes whose pickup changed


def test_a_session_moved_after_the_freeze_is_flagged(app, transport):
    region, session = transport["region"], transport["session"]
    session.starts_at = utcnow().replace(microsecond=0) + timedelta(days=3)
    session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.commit()
    school, teacher = school_at(region, 12)
    book(teacher, school, session)
    assert jobs.freeze_due_plans(utcnow(), tell=False) == 1
    session.starts_at += timedelta(hours=1)
    session.ends_at += timedelta(hours=1)
    session_changed(session.id, moved=True)  # what the service that moves a session does
    drain()
    plan = _plan(session.id)
    assert plan.needs_review and "verzet" in plan.review_note
    edits.replan(transport["coord"], plan.id)
    db.session.commit()
    plan = _plan(session.id)
    assert not plan.needs_review
    assert plan.buses[0].arrives_at == session.starts_at - timedelta(minutes=15)


def test_move_a_class_and_lock_a_bus(transport):
    region, session, coord = transport["region"], transport["session"], transport["coord"]
    pairs = [school_at(region, 10 + i, east=0.005 * i) for i in range(3)]
    bookings = [book(t, s, session, pupils=12, adults=1) for s, t in pairs]
    plan = _plan(session.id)
    assert len(plan.buses) == 1  # 39 seats: one coach
    stop = next(s for s in plan.buses[0].stops if s.booking_id == bookings[2].id)
    edits.move_stop(coord, stop.id, new_type_id=transport["mini"].id)
    db.session.commit()
    plan = _plan(session.id)
    assert len(plan.buses) == 2
    alone = next(b for b in plan.buses if [s.booking_id for s in b.stops] == [bookings[2].id])
    assert alone.stops[0].pinned and alone.bus_type_id == transport["mini"].id
    edits.set_bus_locked(coord, alone.id, True)
    db.session.commit()
    # a new class: re-planning keeps the locked bus as it is
    s4, t4 = school_at(region, 11, east=0.002)
    b4 = book(t4, s4, session, pupils=12, adults=1)
    plan = _plan(session.id)
    kept = db.session.get(Bus, alone.id)
    assert kept.locked and [s.booking_id for s in kept.stops] == [bookings[2].id]
    assert set(_riders(plan)) == {b.id for b in bookings} | {b4.id}
    other = next(b for b in plan.buses if b.id != alone.id)
    with pytest.raises(BusLocked):
        edits.move_stop(coord, other.stops[0].id, to_bus_id=alone.id)
    db.session.rollback()
    edits.set_bus_locked(coord, alone.id, False)
    big = next(b for b in plan.buses if b.id != alone.id)
    with pytest.raises(BusFull):
        edits.move_stop(coord, big.stops[0].id, to_bus_id=alone.id)  # 13 seats do not fit 19 − 13
    db.session.rollback()
    teacher = pairs[0][1]
    with pytest.raises(PlanningNotAllowed):
        edits.set_bus_locked(teacher, alone.id, True)


def test_failed_planning_keeps_the_booking_and_the_job_replans(app, transport, monkeypatch):
    region, session = transport["region"], transport["session"]
    school, teacher = school_at(region, 12)

    def broken(reqs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(planning, "plan_day", broken)
    b = book(teacher, school, session)
    from app.booking.models import Booking

    assert db.session.get(Booking, b.id) is not None  # the booking stands
    plan = _plan(session.id)
    assert plan.stale and _riders(plan) == {}
    monkeypatch.undo()
    from app.transport.jobs import replan

    assert replan(utcnow()) == 1
    plan = _plan(session.id)
    assert not plan.stale and _riders(plan) == {b.id: 22}
    assert replan(utcnow()) == 0  # nothing left to do


def test_job_catches_a_missed_replan(app, transport):
    region, session = transport["region"], transport["session"]
    school, teacher = school_at(region, 12)
    b = book(teacher, school, session, replan=False)
    assert _plan(session.id) is None
    from app.transport.jobs import replan

    assert replan(utcnow()) == 1
    assert _riders(_plan(session.id)) == {b.id: 22}


def test_two_replans_at_once_leave_one_consistent_plan(app, transport):
    region, session = transport["region"], transport["session"]
    bookings = [
        book(t, s, session, pupils=15, replan=False)
        for s, t in (school_at(region, 8 + i, east=0.01 * i) for i in range(5))
    ]
    sid, ids = session.id, [b.id for b in bookings]
    db.session.remove()
    barrier = threading.Barrier(4)

    def run(_):
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                plans.plan_session(sid)
                db.session.commit()
                return "ok"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(run, range(4))) == ["ok"] * 4
    plan = _plan(sid)
    assert db.session.scalar(select(func.count(BusPlan.id)).where(BusPlan.session_id == sid)) == 1
    assert _riders(plan) == {bid: 17 for bid in ids}
    assert db.session.scalar(select(func.count(Bus.id))) == len(plan.buses)


@pytest.mark.postgresql_only
def test_control_without_the_plan_lock_two_replans_double_the_buses(app, backend, transport):
    """The control case: with the lock off, two planners that read the same plan both write theirs."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race exists only where writers run in parallel")
    region, session = transport["region"], transport["session"]
    ids = [
        book(t, s, session, pupils=15, replan=False).id
        for s, t in (school_at(region, 8 + i, east=0.01 * i) for i in range(3))
    ]
    sid = session.id
    db.session.add(BusPlan(session_id=sid))  # the plan row exists; both planners read it empty
    db.session.commit()
    db.session.remove()
    app.config.update(BOOKING_LOCKING=False)

    def run(_):
        with app.app_context():
            try:
                plans.plan_session(sid)
                db.session.commit()
            finally:
                db.session.remove()

    try:
        with planners_meet_before_writing(2), ThreadPoolExecutor(2) as pool:
            list(pool.map(run, range(2)))
    finally:
        app.config.update(BOOKING_LOCKING=True)
    stops = db.session.scalar(select(func.count(BusStop.id)).where(BusStop.booking_id.in_(ids)))
    assert stops == 2 * len(ids), "without the lock each class is on two buses"


def test_road_distances_from_csv(transport):
    region, venue, coord = transport["region"], transport["venue"], transport["coord"]
    s1, _ = school_at(region, 3)
    s2, _ = school_at(region, 4)
    n = roads.import_road_distances(
        coord,
        region,
        f"school;venue;km;minutes\n{s1.location_code};{venue.name};7,5;12\n{s2.location_code};{venue.id};3.1;\n",
    )
    db.session.commit()
    assert n == 2
    rows = {r.school_id: (r.km, r.minutes, r.source) for r in db.session.scalars(select(RoadDistance))}
    assert rows == {s1.id: (7.5, 12.0, "csv"), s2.id: (3.1, None, "csv")}
    from app.transport.errors import TransportError

    with pytest.raises(TransportError):
        roads.import_road_distances(coord, region, "school;venue;km\nXXXX99;nowhere;3\n")


def test_a_booking_that_changes_no_bus_runs_no_solver(app, transport, monkeypatch):
    """A rush of bookings from nearby schools or onto the waiting list leaves the plan as it is;
    a class from afar, a cancellation and a moved session re-plan it."""

    region, session = transport["region"], transport["session"]
    runs = []
    real = planning.plan_day

    def counting(reqs):
        runs.append(sum(len(r.stops) for r in reqs))
        return real(reqs)

    monkeypatch.setattr(planning, "plan_day", counting)
    far, far_teacher = school_at(region, 12)
    b_far = book(far_teacher, far, session)
    assert len(runs) == 1 and _riders(_plan(session.id)) == {b_far.id: 22}
    for i in range(3):  # nearby schools: no bus, no solver
        near, near_teacher = school_at(region, 2 + i, east=0.01 * i)
        book(near_teacher, near, session)
    assert len(runs) == 1 and _riders(_plan(session.id)) == {b_far.id: 22}
    from app.transport.jobs import replan

    assert replan(utcnow()) == 0  # the job sees nothing missed either
    far2, far2_teacher = school_at(region, 14, east=0.02)
    b_far2 = book(far2_teacher, far2, session)
    assert len(runs) == 2 and set(_riders(_plan(session.id))) == {b_far.id, b_far2.id}
    cancel_booking(far2_teacher, b_far2.id)
    drain()
    assert len(runs) == 3 and set(_riders(_plan(session.id))) == {b_far.id}
    s = db.session.get(type(session), session.id)
    s.starts_at += timedelta(hours=1)  # the session moved: pickup times change, so it re-plans
    s.ends_at += timedelta(hours=1)
    session_changed(s.id, moved=True)  # what the service that moves a session does
    drain()
    assert len(runs) == 4


def _one_coach_only(transport):
    transport["coach"].available = 1
    transport["mini"].available = 0
    db.session.commit()


def test_a_day_that_needs_more_buses_than_the_fleet_reports_the_shortfall(transport):
    """Two sessions of one day at the same time, one coach in the contract: one class rides, the
    other is reported without a bus (never a second coach); an afternoon session reuses the coach."""
    region, session, offer = transport["region"], transport["session"], transport["offer"]
    _one_coach_only(transport)
    other = factories.session(offer, session.starts_at + timedelta(minutes=30))
    afternoon = factories.session(offer, session.starts_at + timedelta(hours=5))
    db.session.commit()
    (s1, t1), (s2, t2), (s3, t3) = (school_at(region, 12 + i, east=0.05 * i) for i in range(3))
    b1 = book(t1, s1, session, pupils=30)
    b2 = book(t2, s2, other, pupils=30)
    b3 = book(t3, s3, afternoon, pupils=30)
    plans = [_plan(s.id) for s in (session, other, afternoon)]
    day_buses = [bus for p in plans[:2] for bus in p.buses]
    assert len(day_buses) == 1, "never more buses of a type at once than the region has"
    carried = {st.booking_id for bus in day_buses for st in bus.stops}
    lost = {b1.id, b2.id} - carried
    assert len(lost) == 1
    shortfall = [w for p in plans for w in p.warnings if w["code"] == "no_bus"]
    assert [w["booking_id"] for w in shortfall] == list(lost) and plans[0].warnings_unseen or plans[1].warnings_unseen
    assert _riders(plans[2]) == {b3.id: 32}, "the coach is back in time for the afternoon"
    # the coordinator has seen it: no longer to be checked (until the warnings change)
    plan = next(p for p in plans[:2] if p.warnings)
    edits.mark_warnings_seen(transport["coord"], plan.id)
    db.session.commit()
    assert not _plan(plan.session_id).warnings_unseen


def test_a_school_without_plausible_coordinates_is_reported_not_driven(transport):
    region, session = transport["region"], transport["session"]
    nowhere = factories.school(region, latitude=0.0, longitude=0.0)
    b = book(factories.teacher(nowhere), nowhere, session)
    plan = _plan(session.id)
    assert _riders(plan) == {} and [w["code"] for w in plan.warnings] == ["implausible_coordinates"]
    assert plan.warnings[0]["booking_id"] == b.id


def test_announced_pickups_hold_after_a_cancellation_and_a_new_booking(transport):
    region, session = transport["region"], transport["session"]
    pairs = [school_at(region, 9 + 2 * i, east=0.02 * i) for i in range(5)]
    bookings = [book(t, s, session, pupils=10, adults=1) for s, t in pairs]
    told = {n.booking_id: n.pickup_at for n in db.session.scalars(select(PickupNotice))}
    assert set(told) == {b.id for b in bookings}

    def held():
        plan = _plan(session.id)
        for bus in plan.buses:
            for st in bus.stops:
                if st.booking_id in told:
                    assert abs(st.pickup_at - told[st.booking_id]) <= timedelta(minutes=5), st.booking_id
        return plan

    cancel_booking(pairs[2][1], bookings[2].id)
    db.session.commit()
    held()
    s, t = school_at(region, 16, east=-0.03)
    new = book(t, s, session, pupils=10, adults=1)
    assert new.id in _riders(held())


def test_a_move_puts_the_class_on_that_bus_or_explains_why_not(transport):
    from app.transport.errors import TransportError

    region, session, coord = transport["region"], transport["session"], transport["coord"]
    (sx, tx), (sy, ty) = school_at(region, 10), school_at(region, 8, east=0.2)
    bx, by = book(tx, sx, session, pupils=8, adults=1), book(ty, sy, session, pupils=8, adults=1)
    plan = _plan(session.id)
    bus_of = {st.booking_id: bus for bus in plan.buses for st in bus.stops}
    assert bus_of[bx.id].id != bus_of[by.id].id  # X, Y and the venue too far apart for one ride
    # X onto Y's bus: it breaks the ride rule, so nothing moves and the coordinator is told why
    stop_x = next(st for st in bus_of[bx.id].stops if st.booking_id == bx.id)
    with pytest.raises(TransportError) as err:
        edits.move_stop(coord, stop_x.id, to_bus_id=bus_of[by.id].id)
    assert err.value.code == "ride_too_long" and "minuten" in err.value.message
    db.session.rollback()
    # a class close to Y: moved onto Y's bus, it rides with Y (Y is not moved off instead)
    sw, tw = school_at(region, 7, east=0.2)
    bw = book(tw, sw, session, pupils=8, adults=1)
    plan = _plan(session.id)
    bus_of = {st.booking_id: bus for bus in plan.buses for st in bus.stops}
    y_bus = bus_of[by.id].id
    if bus_of[bw.id].id != y_bus:
        stop_w = next(st for st in bus_of[bw.id].stops if st.booking_id == bw.id)
        edits.move_stop(coord, stop_w.id, to_bus_id=y_bus)
        db.session.commit()
    else:  # the planner put them together already: move W to a new minibus and back
        stop_w = next(st for st in bus_of[bw.id].stops if st.booking_id == bw.id)
        edits.move_stop(coord, stop_w.id, new_type_id=transport["mini"].id)
        db.session.commit()
        plan = _plan(session.id)
        stop_w = next(st for bus in plan.buses for st in bus.stops if st.booking_id == bw.id)
        edits.move_stop(coord, stop_w.id, to_bus_id=y_bus)
        db.session.commit()
    plan = _plan(session.id)
    target = next(b for b in plan.buses if b.id == y_bus)
    assert {by.id, bw.id} <= {st.booking_id for st in target.stops}


def test_planning_the_same_day_twice_gives_the_same_plan(transport):
    region, session, _coord = transport["region"], transport["session"], transport["coord"]
    for i in range(6):
        s, t = school_at(region, 8 + 2 * i, east=0.03 * (i % 3) - 0.03)
        book(t, s, session, pupils=9 + i, adults=1)

    def shape():
        plan = _plan(session.id)
        return plan.id, [
            (b.id, b.bus_type_id, [(st.booking_id, st.seats, st.pickup_at) for st in b.stops]) for b in plan.buses
        ]

    _plan_id, first = shape()
    for _ in range(3):  # the same input again (re-planning the whole day): the same buses, seats and times
        plans.plan_session(session.id, force=True)
        db.session.commit()
        assert shape()[1] == first


def _two_sessions_one_coach(app, transport):
    region, session, offer = transport["region"], transport["session"], transport["offer"]
    _one_coach_only(transport)
    other = factories.session(offer, session.starts_at + timedelta(minutes=15))
    db.session.commit()
    ids = [
        book(t, s, sess, pupils=30, replan=False).id
        for (s, t), sess in zip(  # the planners below do it
            (school_at(region, 12 + i, east=0.05 * i) for i in range(2)), (session, other), strict=False
        )
    ]
    sids = [session.id, other.id]
    for sid in sids:
        db.session.add(BusPlan(session_id=sid))  # the plan rows exist; both planners read them empty
    db.session.commit()
    db.session.remove()

    def run(sid):
        with app.app_context():
            try:
                plans.plan_session(sid)
                db.session.commit()
            finally:
                db.session.remove()

    return sids, ids, run


def test_two_sessions_of_a_day_planned_at_once_stay_within_the_fleet(app, transport):
    sids, ids, run = _two_sessions_one_coach(app, transport)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, sids))
    coaches = db.session.scalar(select(func.count(Bus.id)).join(BusPlan).where(BusPlan.session_id.in_(sids)))
    assert coaches == 1, "one coach in the contract: one coach on the road"


@pytest.mark.postgresql_only
def test_control_without_the_day_lock_two_planners_order_two_coaches(app, backend, transport):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race exists only where writers run in parallel")
    sids, ids, run = _two_sessions_one_coach(app, transport)
    app.config.update(BOOKING_LOCKING=False)
    try:
        with planners_meet_before_writing(2), ThreadPoolExecutor(2) as pool:
            list(pool.map(run, sids))
    finally:
        app.config.update(BOOKING_LOCKING=True)
    coaches = db.session.scalar(select(func.count(Bus.id)).join(BusPlan).where(BusPlan.session_id.in_(sids)))
    assert coaches > 1, "without the lock both planners see a free coach and both use it"


def test_transport_errors_are_one_hierarchy_with_the_general_statuses():
    from app.errors import ConflictError, NotFoundError, PermissionDeniedError
    from app.transport.errors import TransportError

    for cls, kind, status in (
        (PlanNotFound, NotFoundError, 404),
        (PlanningNotAllowed, PermissionDeniedError, 403),
        (BusFull, ConflictError, 409),
        (BusLocked, ConflictError, 409),
    ):
        assert issubclass(cls, TransportError) and issubclass(cls, kind)
        assert cls("x").status == status
