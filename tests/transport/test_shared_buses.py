"""Classes of different sessions of one trip (the same venue, start and end) share a bus where that
is cheaper (issue 15): the planner, the plans in the database, the page, the API and the orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from app.booking.models import Booking
from app.booking.services import cancel_booking
from app.extensions import db
from app.timeutil import to_local
from app.transport import jobs, orders, pickups, planning, plans
from app.transport.models import Bus, BusPlan, BusStop, PickupNotice, PlanStatus
from app.transport.planning import Limits, StopRequest
from tests import factories
from tests.transport.conftest import COACH, MINI, START, VENUE, book, drain, lat_at, plan_request, school_at


def _req(stops, trip="lab", types=(COACH, MINI), venue=VENUE, start=START):
    return plan_request(stops, start=start, types=types, venue=venue, trip=trip)


def _stop(bid, km, seats, east=0.0):
    return StopRequest(bid, 100 + bid, lat_at(km), VENUE[1] + east, seats)


def _carried(plan) -> set[int]:
    return {st.booking_id for bus in plan.buses + plan.shared for st in bus.stops}


def _day_cost(results) -> float:
    return round(sum(p.total_cost for p in results), 2)


# ------------------------------------------------------------------ the planner


def test_two_sessions_of_one_trip_share_a_bus_when_it_is_cheaper():
    a = _req([_stop(1, 20, 9), _stop(2, 21, 8, east=0.01)])
    b = _req([_stop(3, 20.5, 9, east=0.005)])
    shared = planning.plan_day([a, b])
    alone = planning.plan_day([replace(a, trip=None), replace(b, trip=None)])
    assert [len(p.buses) for p in shared] == [1, 0] and len(shared[1].shared) == 1
    assert shared[0].buses[0] is shared[1].shared[0], "one bus, in the first session's plan, listed in the other's"
    assert _carried(shared[0]) == _carried(shared[1]) == {1, 2, 3}
    assert _day_cost(shared) < _day_cost(alone), "one minibus instead of two"
    # the optimum: the trip planned as one request (every route of up to 5 stops enumerated)
    one = planning.plan(_req(a.stops + b.stops, trip=None))
    assert one.proven_optimal and _day_cost(shared) == round(one.total_cost, 2)
    # each session's share of the bus, by its seats
    assert round(shared[0].shared_cost + shared[1].shared_cost, 2) == _day_cost(shared)


def test_sharing_is_chosen_only_where_it_is_cheaper():
    # two full coaches' worth: sharing cannot save a bus; the plan equals planning them apart
    a = _req([_stop(1, 20, 45)])
    b = _req([_stop(2, 20, 45, east=0.01)])
    shared = planning.plan_day([a, b])
    alone = planning.plan_day([replace(a, trip=None), replace(b, trip=None)])
    assert _day_cost(shared) == _day_cost(alone)
    assert not any(p.shared for p in shared)


def test_sessions_of_different_trips_do_not_share():
    a = _req([_stop(1, 20, 9)], trip="lab")
    b = _req([_stop(2, 20, 9, east=0.005)], trip="other lab")  # another venue (or time): another trip
    result = planning.plan_day([a, b])
    assert [len(p.buses) for p in result] == [1, 1] and not any(p.shared for p in result)


def test_the_fleet_holds_with_shared_buses():
    one_coach = (replace(COACH, available=1),)
    a = _req([_stop(1, 20, 22)], types=one_coach)
    b = _req([_stop(2, 20, 22, east=0.01)], types=one_coach)
    apart = planning.plan_day([replace(a, trip=None), replace(b, trip=None)])
    assert sum(len(p.unplanned) for p in apart) == 1, "apart, one class has no bus"
    shared = planning.plan_day([a, b])
    assert sum(len(p.buses) for p in shared) == 1 and not any(p.unplanned for p in shared)
    # three sessions of 22 seats in one trip: two classes fit the coach, the third is reported
    c = _req([_stop(3, 20, 22, east=0.02)], types=one_coach)
    three = planning.plan_day([a, b, c])
    assert sum(len(p.buses) for p in three) == 1 and sum(len(p.unplanned) for p in three) == 1
    assert [w.code for p in three for w in p.warnings if w.code == "no_bus"] == ["no_bus"]


def test_a_shared_trip_plans_the_same_twice_and_holds_announced_pickups():
    stops_a = [_stop(1, 15, 9), _stop(2, 18, 8, east=0.02), _stop(3, 25, 7, east=-0.02)]
    stops_b = [_stop(4, 16, 9, east=0.01), _stop(5, 22, 6, east=-0.01)]
    first = planning.plan_day([_req(stops_a), _req(stops_b)])
    again = planning.plan_day([_req(stops_a), _req(stops_b)])

    def shape(result):
        return [[(b.type.id, [(s.booking_id, s.pickup_at) for s in b.stops]) for b in p.buses] for p in result]

    assert shape(first) == shape(again)
    assert any(p.shared for p in first)
    told = {s.booking_id: s.pickup_at for p in first for b in p.buses for s in b.stops}
    # class 2 cancels; the others keep their announced pickups within the tolerance
    held_a = [replace(s, announced_at=told[s.booking_id]) for s in stops_a if s.booking_id != 2]
    held_b = [replace(s, announced_at=told[s.booking_id]) for s in stops_b]
    replanned = planning.plan_day([_req(held_a), _req(held_b)])
    after = {s.booking_id: s.pickup_at for p in replanned for b in p.buses for s in b.stops}
    assert set(after) == {1, 3, 4, 5}
    assert all(abs(after[b] - told[b]) <= timedelta(minutes=5) for b in after)


def test_nearby_venues_within_the_detour_share_a_bus_and_beyond_it_do_not():
    near = (VENUE[0] + 0.02, VENUE[1])  # about 3 km by road: a few minutes' drive
    a = _req([_stop(1, 20, 9)])
    b = _req([_stop(2, 20.5, 9, east=0.005)], venue=near)
    shared = planning.plan_day([a, b])
    alone = planning.plan_day([replace(a, trip=None), replace(b, trip=None)])
    assert [len(p.buses) for p in shared] == [1, 0] and shared[1].shared == shared[0].buses
    assert _day_cost(shared) < _day_cost(alone)
    bus = shared[0].buses[0]
    assert bus.ride_minutes <= 45  # every class's ride, counted to its own venue
    # the bus is at the second venue on time and at the first one a drive (and a stop) before
    first_pickup = min(st.pickup_at for st in bus.stops)
    assert bus.arrives_at == START - timedelta(minutes=15) and first_pickup < bus.arrives_at - timedelta(minutes=20)
    # no detour allowed (the same venue only): a bus each
    strict = Limits(time_limit_seconds=0.5, share_detour_minutes=0)
    apart = planning.plan_day([replace(a, limits=strict), replace(b, limits=strict)])
    assert [len(p.buses) for p in apart] == [1, 1] and not any(p.shared for p in apart)


# ------------------------------------------------------------------ in the database


def _second_session(transport, **kw):
    """Another offer at the same venue, start and end as the transport session (one trip)."""
    session = transport["session"]
    offer = factories.offer(
        transport["region"],
        transport["venue"],
        groep_min=5,
        groep_max=8,
        capacity_pupils=200,
        capacity_classes=8,
        adults_per_class=1,
        title="Bruggen bouwen",
    )
    other = factories.session(offer, session.starts_at, ends_at=session.ends_at, **kw)
    db.session.commit()
    return other


def _bus_count(session_ids) -> int:
    return db.session.scalar(select(func.count(Bus.id)).join(BusPlan).where(BusPlan.session_id.in_(session_ids)))


def _day_cost_db(session_ids) -> float:
    return round(
        db.session.scalar(select(func.sum(Bus.cost)).join(BusPlan).where(BusPlan.session_id.in_(session_ids))) or 0, 2
    )


def _small_classes(transport, other):
    region = transport["region"]
    s1, t1 = school_at(region, 20, name="Basisschool Het Veld")
    s2, t2 = school_at(region, 20.5, east=0.005, name="Basisschool De Akker")
    a = book(t1, s1, transport["session"], pupils=8, adults=1)
    b = book(t2, s2, other, pupils=8, adults=1)
    db.session.expire_all()
    return a, b


def test_two_small_classes_of_two_sessions_at_one_venue_and_time_get_one_bus(app, transport, client, login):
    other = _second_session(transport)
    a, b = _small_classes(transport, other)
    sids = [transport["session"].id, other.id]
    assert _bus_count(sids) == 1
    [bus] = db.session.scalars(select(Bus).join(BusPlan).where(BusPlan.session_id.in_(sids))).all()
    assert bus.shared and bus.session_ids == sorted(sids) and bus.bus_type.seats == 19
    shared_cost = _day_cost_db(sids)
    # every class has its pickup and return time, whichever plan the bus belongs to
    for booking in (db.session.get(Booking, a.id), db.session.get(Booking, b.id)):
        assert pickups.pickup_time(booking) is not None and booking.id in pickups.return_times([booking])
        assert db.session.get(
            PickupNotice, db.session.scalar(select(PickupNotice.id).where(PickupNotice.booking_id == booking.id))
        )
    # the page lists the bus under both sessions, marked as shared
    login(transport["coord"])
    day = to_local(transport["session"].starts_at).date().isoformat()
    page = client.get(f"/vervoer/?datum={day}").get_data(as_text=True)
    assert page.count('class="shared-bus"') == 2 and "gedeelde bus, ook voor:" in page and "Bruggen bouwen" in page
    # the API: the bus under each plan, with the sessions it serves
    data = client.get(
        f"/api/v1/transport/plans?date={day}", headers=factories.auth_header(transport["coord"])
    ).get_json()
    listed = {p["session_id"]: p["buses"] for p in data["plans"]}
    assert set(listed) == set(sids)
    for sid in sids:
        [j] = listed[sid]
        assert j["id"] == bus.id and j["shared"] and j["session_ids"] == sorted(sids)
        assert {st["session_id"] for st in j["stops"]} == set(sids)
    # the order: one bus, both offers
    lines = orders.orders(transport["region"].id, to_local(transport["session"].starts_at).date())
    assert len(lines) == 1 and "Bruggen bouwen" in lines[0].offer and len(lines[0].stops) == 2
    # planned apart (sharing off) the day takes two buses and costs more
    app.config["TRANSPORT_SHARE_BUSES"] = False
    try:
        plans.plan_session(transport["session"].id, force=True, hold="free")
        db.session.commit()
        assert _bus_count(sids) == 2 and _day_cost_db(sids) > shared_cost
    finally:
        app.config["TRANSPORT_SHARE_BUSES"] = True


def test_a_session_at_a_venue_beyond_the_detour_does_not_share(transport):
    far_venue = factories.venue(transport["region"], latitude=VENUE[0] - 0.3, longitude=VENUE[1])
    other = _second_session(transport, venue=far_venue)
    a, b = _small_classes(transport, other)
    sids = [transport["session"].id, other.id]
    assert _bus_count(sids) == 2
    assert not any(bus.shared for bus in db.session.scalars(select(Bus)))


def test_a_nearby_venue_shares_within_the_regions_detour(transport):
    near_venue = factories.venue(
        transport["region"], latitude=VENUE[0] + 0.02, longitude=VENUE[1], name="Hotspot Dichtbij"
    )
    other = _second_session(transport, venue=near_venue)
    a, b = _small_classes(transport, other)
    sids = [transport["session"].id, other.id]
    assert _bus_count(sids) == 1
    [line] = orders.orders(transport["region"].id, to_local(transport["session"].starts_at).date())
    assert transport["venue"].name in line.venue and "Hotspot Dichtbij" in line.venue
    for booking in (db.session.get(Booking, a.id), db.session.get(Booking, b.id)):
        assert pickups.pickup_time(booking) is not None
    # the region allows no detour: a bus each
    transport["region"].bus_share_detour_minutes = 0
    db.session.commit()
    plans.plan_session(transport["session"].id, force=True, hold="free")
    db.session.commit()
    assert _bus_count(sids) == 2


def test_a_cancellation_on_a_shared_bus_keeps_the_announced_pickups(transport):
    other = _second_session(transport)
    region = transport["region"]
    booked = []
    for n, (km, east, session) in enumerate([(15, 0.0, transport["session"]), (18, 0.02, other), (16, 0.01, other)]):
        s, t = school_at(region, km, east=east, name=f"Basisschool {n}")
        booked.append((t, book(t, s, session, pupils=5, adults=1)))
    sids = [transport["session"].id, other.id]
    assert any(bus.shared for bus in db.session.scalars(select(Bus)))
    told = dict(db.session.execute(select(PickupNotice.booking_id, PickupNotice.pickup_at)).all())
    assert set(told) == {b.id for _t, b in booked}
    teacher, gone = booked[1]
    cancel_booking(teacher, gone.id)
    drain()
    db.session.expire_all()
    now = dict(
        db.session.execute(select(BusStop.booking_id, func.min(BusStop.pickup_at)).group_by(BusStop.booking_id)).all()
    )
    assert set(now) == {booked[0][1].id, booked[2][1].id}
    assert all(abs(now[bid] - told[bid]) <= timedelta(minutes=5) for bid in now)
    assert _bus_count(sids) >= 1


def test_the_trip_is_frozen_together_and_a_class_moves_onto_the_other_sessions_bus(app, transport):
    other = _second_session(transport)
    region = transport["region"]
    s1, t1 = school_at(region, 20)
    s2, t2 = school_at(region, 22, east=0.01)
    app.config["TRANSPORT_SHARE_BUSES"] = False  # planned apart first: a bus each
    try:
        book(t1, s1, transport["session"], pupils=8, adults=1)
        mine = book(t2, s2, other, pupils=8, adults=1)
    finally:
        app.config["TRANSPORT_SHARE_BUSES"] = True
    sids = [transport["session"].id, other.id]
    db.session.expire_all()
    first_plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == sids[0]))
    [target] = first_plan.buses
    stop = db.session.scalar(select(BusStop).where(BusStop.booking_id == mine.id))
    assert stop.bus.plan_id != first_plan.id
    from app.transport import edits

    moved = edits.move_stop(transport["coord"], stop.id, to_bus_id=target.id)
    db.session.commit()
    assert moved.bus_id == target.id and moved.pinned
    db.session.expire_all()
    assert db.session.get(Bus, target.id).session_ids == sorted(sids)
    # the freeze orders the trip's plans together
    jobs.freeze_due_plans(transport["session"].starts_at - timedelta(days=1), tell=False)
    db.session.expire_all()
    statuses = {p.session_id: p.status for p in db.session.scalars(select(BusPlan).where(BusPlan.session_id.in_(sids)))}
    assert statuses == {sid: PlanStatus.FROZEN for sid in sids}


def test_when_the_session_owning_a_shared_bus_is_cancelled_the_other_sessions_classes_keep_a_bus(transport):
    from app.booking.services import cancel_session

    other = _second_session(transport)
    a, b = _small_classes(transport, other)
    sids = [transport["session"].id, other.id]
    [bus] = db.session.scalars(select(Bus).join(BusPlan).where(BusPlan.session_id.in_(sids))).all()
    owner = db.session.get(BusPlan, bus.plan_id).session_id
    mate = next(s for s in sids if s != owner)
    kept = b if mate == other.id else a
    cancel_session(transport["coord"], owner, "De techlab is gesloten")
    drain()
    db.session.expire_all()
    # the remaining class rides a bus of its own session's plan, with its pickup time
    carried = db.session.scalars(
        select(BusStop.booking_id).join(Bus).join(BusPlan).where(BusPlan.session_id == mate)
    ).all()
    assert carried == [kept.id]
    assert pickups.pickup_time(db.session.get(Booking, kept.id)) is not None
    # and the cancelled session keeps no bus
    assert _bus_count([owner]) == 0
