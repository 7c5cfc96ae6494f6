"""The pure bus planner: seats, ride times, arrival, locked and pinned buses, sharing pays."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from itertools import combinations, permutations

import pytest

from app.transport import planning
from app.transport.planning import GivenBus, Limits, PlanRequest, StopRequest, VehicleType
from tests.transport.conftest import COACH, MINI, START, VENUE, plan_request


def _stops(n, seed=1, radius=(0.06, 0.18), seats=(20, 32)):
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        ang = rng.uniform(0, 2 * math.pi)
        r = rng.uniform(*radius)
        out.append(
            StopRequest(
                booking_id=i,
                school_id=100 + i,
                lat=VENUE[0] + r * math.sin(ang),
                lon=VENUE[1] + r * math.cos(ang) * 1.6,
                seats=rng.randint(*seats),
            )
        )
    return tuple(out)


# the day's model solved by CP-SAT, and with no time for it: the rule-of-thumb plan it starts from
# (the plan when the limit comes before CP-SAT's first solution) keeps the same rules
BY_SOLVER_AND_BY_RULE = pytest.mark.parametrize(
    "limits",
    [pytest.param(Limits(time_limit_seconds=0.5), id="solver"), pytest.param(Limits(time_limit_seconds=0), id="rule")],
)


def _req(stops, types=(COACH, MINI), given=(), limits=Limits(time_limit_seconds=0.5)):
    return plan_request(stops, types=types, given=tuple(given), limits=limits)


def _check(req, result, *, complete=True):
    lim = req.limits
    seats = {}
    for bus in result.buses:
        assert bus.seats_taken <= bus.type.seats, "a bus with more people than seats"
        assert bus.arrives_at <= req.starts_at - timedelta(minutes=lim.arrival_margin_minutes)
        assert bus.departs_back_at >= req.ends_at
        times = [s.pickup_at for s in bus.stops]
        assert times == sorted(times) and times[-1] < bus.arrives_at
        assert (bus.arrives_at - times[0]) <= timedelta(minutes=lim.max_ride_minutes)
        for s in bus.stops:
            seats[s.booking_id] = seats.get(s.booking_id, 0) + s.seats
    for u in result.unplanned:
        seats[u.booking_id] = seats.get(u.booking_id, 0) + u.seats
    assert seats == {s.booking_id: s.seats for s in req.stops}, "every class planned or reported, every seat"
    if complete:
        assert not result.unplanned


def test_exact_plans_within_seats_ride_time_and_arrival():
    req = _req(_stops(12))
    result = planning.plan(req)
    assert result.solver == "exact" and result.proven_optimal
    _check(req, result)
    assert any(len(b.stops) > 1 for b in result.buses), "nearby schools share a bus"
    assert len(result.buses) >= planning.lower_bound_buses(req)


def test_ortools_routing_beyond_the_exact_size():
    req = _req(_stops(12), limits=Limits(time_limit_seconds=0.5, exact_max_columns=0))
    result = planning.plan(req)
    assert result.solver == "ortools"
    _check(req, result)
    exact = planning.plan(_req(_stops(12)))
    assert result.total_cost >= exact.total_cost - 0.01  # the exact model is never beaten


def test_sharing_beats_one_bus_per_school():
    req = _req(_stops(10, seed=3, radius=(0.05, 0.12), seats=(10, 22)))
    shared = planning.plan(req)
    alone = planning.one_bus_per_school(req)
    assert shared.total_cost < alone.total_cost
    assert len(shared.buses) < len(alone.buses)


def test_ortools_is_no_worse_than_the_greedy_fallback():
    req = _req(_stops(10, seed=5))
    solved = planning.plan(req)
    metric = planning._Metric(req)
    greedy = planning._greedy(
        planning._units(req.stops), req, metric, list(req.types), {}, {t.id: t for t in req.types}
    )
    greedy_cost = sum(planning._finish(b, req, metric).cost for b in greedy)
    assert solved.solver == "exact" and solved.total_cost <= greedy_cost + 0.01


def test_a_class_bigger_than_the_largest_bus_is_split():
    stops = [StopRequest(1, 11, 52.08, 6.3, seats=42), StopRequest(2, 12, 52.081, 6.301, seats=10)]
    req = _req(stops, types=(MINI,))
    result = planning.plan(req)
    _check(req, result)
    assert len([b for b in result.buses if any(s.booking_id == 1 for s in b.stops)]) == 3  # 42 over 19-seat buses


def test_smaller_bus_when_it_suffices():
    req = _req([StopRequest(1, 11, 52.08, 6.3, seats=15)])
    result = planning.plan(req)
    assert [b.type.id for b in result.buses] == [MINI.id]
    bus = result.buses[0]
    assert bus.cost == round(MINI.cost_per_trip + MINI.cost_per_km * bus.km, 2)
    assert bus.km > 2 * 8.9  # there and back, by road


@BY_SOLVER_AND_BY_RULE
def test_locked_bus_is_kept_as_given_and_pinned_stops_stay(limits):
    stops = _stops(8, seed=7, seats=(10, 22))
    locked = GivenBus(key=501, type_id=COACH.id, booking_ids=(3, 1), locked=True)
    pinned_bus = GivenBus(key=502, type_id=MINI.id)
    stops = [s if s.booking_id != 5 else StopRequest(**{**s.__dict__, "pinned_bus": 502, "seats": 15}) for s in stops]
    req = _req(stops, given=(locked, pinned_bus), limits=limits)
    result = planning.plan(req)
    _check(req, result)
    kept = [b for b in result.buses if b.key == 501]
    assert len(kept) == 1 and kept[0].locked and [s.booking_id for s in kept[0].stops] == [3, 1]
    assert kept[0].type.id == COACH.id
    on_502 = [b for b in result.buses if b.key == 502]
    assert on_502 and 5 in [s.booking_id for s in on_502[0].stops] and on_502[0].type.id == MINI.id
    assert all(5 not in [s.booking_id for s in b.stops] for b in result.buses if b.key != 502)


def test_locked_bus_drops_a_class_that_no_longer_needs_it():
    stops = _stops(3, seed=2)
    req = _req(
        [s for s in stops if s.booking_id != 2],
        given=(GivenBus(key=9, type_id=COACH.id, booking_ids=(1, 2), locked=True),),
    )
    result = planning.plan(req)
    _check(req, result)
    assert [s.booking_id for s in next(b for b in result.buses if b.key == 9).stops] == [1]


def test_a_school_beyond_the_ride_limit_gets_its_own_bus():
    far = StopRequest(1, 11, 52.0 + 0.5, 6.3, seats=20)  # ~72 km by road
    near = StopRequest(2, 12, 52.06, 6.3, seats=20)
    req = _req([far, near])
    result = planning.plan(req)
    assert any(b.stops[0].booking_id == 1 and len(b.stops) == 1 for b in result.buses)
    assert result.warnings


@BY_SOLVER_AND_BY_RULE
def test_the_fleet_is_a_hard_limit_and_the_shortfall_is_reported(limits):
    # one coach for four classes of 22-27 seats: two ride, two are reported without a bus
    req = _req(_stops(4, seed=9, seats=(20, 25)), types=(VehicleType(1, 50, 180.0, 1.9, available=1),), limits=limits)
    result = planning.plan(req)
    assert len(result.buses) == 1
    _check(req, result, complete=False)
    assert len(result.unplanned) == 2 and {u.reason for u in result.unplanned} == {"fleet"}
    assert sorted(w.booking_id for w in result.warnings if w.code == "no_bus") == sorted(
        u.booking_id for u in result.unplanned
    )


def test_hired_buses_are_a_fleet_of_their_own_at_the_hire_price():
    """The same shortfall with one coach hired for the day: the contract's coach first (cheaper),
    the hired one for the rest, at its hire price; never more hired buses than hired."""
    stops = _stops(4, seed=9, seats=(20, 25))
    contract = VehicleType(1, 50, 180.0, 1.9, available=1)
    hired = VehicleType(1, 50, 300.0, 1.9, available=3, hired=True)
    req = _req(stops, types=(contract, hired))
    result = planning.plan(req)
    _check(req, result)
    assert [b.type.hired for b in result.buses].count(False) == 1 and len(result.buses) <= 1 + hired.available
    for bus in result.buses:
        assert bus.cost == round((300.0 if bus.type.hired else 180.0) + 1.9 * bus.km, 2)
    assert not [w for w in result.warnings if w.code == "no_bus"]
    # a pinned class on a hired bus stays on a hired bus
    key = 77
    given = (GivenBus(key=key, type_id=1, hired=True),)
    pinned = tuple(StopRequest(**{**s.__dict__, "pinned_bus": key}) if s.booking_id == 1 else s for s in stops)
    result = planning.plan(_req(pinned, types=(contract, hired), given=given))
    bus = next(b for b in result.buses if any(st.booking_id == 1 for st in b.stops))
    assert bus.type.hired and bus.key == key


def test_greedy_fallback_when_routing_finds_nothing(monkeypatch):
    monkeypatch.setattr(planning, "_solve_ortools", lambda *a: None)
    req = _req(_stops(6, seed=9), limits=Limits(exact_max_columns=0))
    result = planning.plan(req)
    assert result.solver == "greedy" and any(w.code == "greedy" for w in result.warnings)
    _check(req, result)


def test_without_time_for_the_solver_the_rule_of_thumb_is_the_plan():
    """A limit that comes before CP-SAT's first solution (here: no time at all) gives the plan
    CP-SAT would have started from, within seats, ride time and arrival, with a warning: never an
    error that leaves the session without a plan."""
    stops = _stops(12)
    req = _req(stops, limits=Limits(time_limit_seconds=0))
    quick = planning.plan(req)
    assert quick.solver == "greedy" and not quick.proven_optimal
    assert [w.code for w in quick.warnings] == ["greedy"]
    _check(req, quick)
    assert any(len(b.stops) > 1 for b in quick.buses), "the rule shares buses too"
    exact = planning.plan(_req(stops))
    assert exact.solver == "exact" and not any(w.code == "greedy" for w in exact.warnings)
    assert exact.total_cost <= quick.total_cost + 0.01 and quick.day_objective >= exact.day_objective
    assert quick.day_bound is None and exact.day_bound is not None
    # a request whose classes are all on locked buses has nothing for the rule to plan: no warning
    only_locked = _req(
        stops[:1],
        given=(GivenBus(key=9, type_id=COACH.id, booking_ids=(1,), locked=True),),
        limits=Limits(time_limit_seconds=0),
    )
    kept = planning.plan(only_locked)
    assert [(b.key, b.locked) for b in kept.buses] == [(9, True)] and kept.warnings == []


def _session(stops, hour, minute=0, types=(COACH, MINI), **kw):
    return plan_request(stops, start=START.replace(hour=hour, minute=minute), types=types, **kw)


@BY_SOLVER_AND_BY_RULE
def test_a_day_shares_the_fleet_a_bus_may_do_a_morning_and_an_afternoon_trip(limits):
    one = (VehicleType(1, 50, 180.0, 1.9, available=1),)
    morning = [StopRequest(1, 11, 52.08, 6.3, seats=30)]
    afternoon = [StopRequest(2, 12, 52.09, 6.31, seats=30)]
    also_morning = [StopRequest(3, 13, 52.07, 6.29, seats=30)]
    # 08:30 and 13:00: the coach is back before the afternoon pickup, so both ride
    plans = planning.plan_day(
        [_session(morning, 8, 30, one, limits=limits), _session(afternoon, 13, 0, one, limits=limits)]
    )
    assert [len(p.buses) for p in plans] == [1, 1] and not any(p.unplanned for p in plans)
    assert plans[0].buses[0].busy_until <= plans[1].buses[0].busy_from
    # two sessions at the same time: one coach cannot be in two places
    plans = planning.plan_day(
        [_session(morning, 8, 30, one, limits=limits), _session(also_morning, 8, 45, one, limits=limits)]
    )
    assert sum(len(p.buses) for p in plans) == 1
    assert [u.booking_id for p in plans for u in p.unplanned] in ([1], [3])


def test_the_same_input_gives_the_same_plan():
    def shape(p):
        return [(b.type.id, [(s.booking_id, s.seats, s.pickup_at) for s in b.stops]) for b in p.buses]

    for limits in (Limits(time_limit_seconds=0.5), Limits(time_limit_seconds=0.5, exact_max_columns=0)):
        req = _req(_stops(14, seed=4, seats=(8, 20)), limits=limits)
        assert shape(planning.plan(req)) == shape(planning.plan(req))


def _announced(result, stops):
    at = {s.booking_id: s.pickup_at for b in result.buses for s in b.stops}
    return [StopRequest(**{**s.__dict__, "announced_at": at[s.booking_id]}) for s in stops]


def test_announced_pickups_hold_after_a_cancellation_and_a_new_class():
    stops = list(_stops(10, seed=11, seats=(8, 16)))
    first = planning.plan(_req(stops))
    told = _announced(first, stops)
    was = {s.booking_id: s.announced_at for s in told}
    newcomer = StopRequest(99, 199, VENUE[0] + 0.1, VENUE[1] + 0.05, seats=12)
    for changed in ([s for s in told if s.booking_id != 4], told + [newcomer]):
        again = planning.plan(_req(changed))
        _check(_req(changed), again)
        for b in again.buses:
            for s in b.stops:
                if s.booking_id in was:
                    assert abs(s.pickup_at - was[s.booking_id]) <= timedelta(minutes=5)
    # the coordinator accepts changes: a change costs, it is no longer refused
    free = planning.plan(_req(told + [newcomer]))
    soft = planning.plan(PlanRequest(**{**_req(told + [newcomer]).__dict__, "hold": "soft"}))
    assert soft.total_cost <= free.total_cost + 0.01


def test_a_class_bigger_than_the_largest_bus_goes_over_the_cheapest_mix():
    req = _req([StopRequest(1, 11, 52.08, 6.3, seats=60)])
    result = planning.plan(req)
    _check(req, result)
    assert sorted(b.type.id for b in result.buses) == sorted([COACH.id, MINI.id])  # not two coaches


def test_a_pin_that_breaks_the_ride_rule_is_kept_and_reported():
    a = StopRequest(1, 11, 52.0 + 0.2, 6.3, seats=15, pinned_bus=7)
    b = StopRequest(2, 12, 52.0, 6.3 + 0.45, seats=15, pinned_bus=7)
    req = _req([a, b], given=(GivenBus(key=7, type_id=COACH.id),))
    result = planning.plan(req)
    bus = next(x for x in result.buses if x.key == 7)
    assert {s.booking_id for s in bus.stops} == {1, 2}
    assert any(w.code == "pin_breaks_rule" for w in result.warnings)


def test_known_minutes_to_the_venue_are_used():
    req = _req([StopRequest(1, 11, 52.03, 6.3, seats=20, km_to_venue=5.0, minutes_to_venue=25)])
    bus = planning.plan(req).buses[0]
    lim = req.limits
    assert bus.arrives_at - bus.stops[0].pickup_at == timedelta(minutes=25 + lim.dwell_minutes)
    assert bus.km == 10.0


def test_nothing_to_plan():
    result = planning.plan(_req([]))
    assert result.buses == [] and result.total_cost == 0


def test_without_bus_types_every_class_is_reported_not_an_error():
    req = _req(_stops(3), types=())
    result = planning.plan(req)
    assert result.buses == [] and len(result.unplanned) == 3
    assert {w.code for w in result.warnings} == {"no_bus"}


def test_orders_ranked_on_their_legs_are_the_orders_timing_each_route_picks():
    """Without announced pickups, ``best_order`` ranks a subset's orders on their legs alone; it
    picks the order (and times) that timing every order with ``route`` picks: the cheapest within
    the ride limit, else the shortest ride, ties by order."""
    req = _req(_stops(7, seed=3, radius=(0.04, 0.3), seats=(8, 12)))
    s = planning._Session(0, req)
    limit = req.limits.max_ride_minutes

    def rank(order):
        _times, km, ride, moved = s.route(order)
        return (ride > limit, len(moved), round(km, 6) if ride <= limit else ride, order)

    over = 0
    for size in (2, 3, 4, 5):
        for subset in combinations(range(len(s.units)), size):
            timed = min(permutations(subset), key=rank)
            assert s.best_order(subset) == (timed, *s.route(timed))
            over += s.route(timed)[2] > limit
    assert over, "some subsets cannot keep the ride limit: both branches of the ranking are compared"
