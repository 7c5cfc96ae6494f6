"""Bus planning for one session: a pure function of its inputs (no database, no Flask).

The classes that need a bus to one venue at one time are grouped into buses of the
region's bus types and routed with OR-Tools' vehicle-routing solver (capacitated, with
a ride-time limit and a fixed cost per bus), minimising cost:

* every pupil and every adult has a seat of their own; a class larger than the
  largest bus is split over several buses (seats taken per stop);
* a bus picks up at one or more schools and arrives at the venue ``margin`` minutes
  before the session starts; nobody rides longer than ``max_ride_minutes`` (a school
  that is farther than that on its own gets a bus of its own, and a warning);
* the return trip leaves ``return_after_minutes`` after the session ends and drops
  the classes off in the reverse order;
* a bus costs ``cost_per_trip`` (the order: there and back) plus ``cost_per_km`` for
  every kilometre driven with the classes (the route, twice);
* locked buses are kept as given; a pinned stop stays on its bus.

When the solver finds nothing within its time limit a simple greedy plan is made
instead; ``Plan.solver`` says which one made the plan.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

DEFAULT_SPEED_KMH = 40.0


@dataclass(frozen=True)
class StopRequest:
    """A class that needs a bus: where it is picked up and how many seats it takes."""

    booking_id: int
    school_id: int
    lat: float
    lon: float
    seats: int  # pupils + adults: one seat each
    km_to_venue: float | None = None  # a known road distance (else the distance function)
    minutes_to_venue: float | None = None  # a known driving time (else from the speed)
    pinned_bus: int | None = None  # key of the bus the coordinator put it on
    name: str = ""


@dataclass(frozen=True)
class VehicleType:
    id: int
    seats: int
    cost_per_trip: float
    cost_per_km: float
    available: int = 99
    name: str = ""
    carrier: str = ""


@dataclass(frozen=True)
class GivenBus:
    """A bus of the current plan: locked buses are kept; others carry pinned stops."""

    key: int
    type_id: int
    booking_ids: tuple[int, ...] = ()  # in route order (used for locked buses)
    locked: bool = False


@dataclass(frozen=True)
class Limits:
    max_ride_minutes: int = 45
    arrival_margin_minutes: int = 15
    dwell_minutes: int = 3  # boarding at each stop
    return_after_minutes: int = 10
    speed_kmh: float = DEFAULT_SPEED_KMH
    time_limit_seconds: float = 1.0


@dataclass(frozen=True)
class PlanRequest:
    venue_lat: float
    venue_lon: float
    starts_at: datetime
    ends_at: datetime
    stops: tuple[StopRequest, ...]
    types: tuple[VehicleType, ...]
    distance_km: Callable[[float, float, float, float], float]  # (lat1, lon1, lat2, lon2) -> road km
    limits: Limits = Limits()
    given: tuple[GivenBus, ...] = ()


@dataclass
class PlannedStop:
    booking_id: int
    school_id: int
    seats: int
    pickup_at: datetime | None = None
    pinned: bool = False


@dataclass
class PlannedBus:
    type: VehicleType
    stops: list[PlannedStop]
    key: int | None = None  # the existing bus this continues, if any
    locked: bool = False
    arrives_at: datetime | None = None
    departs_back_at: datetime | None = None
    km: float = 0.0  # there and back
    cost: float = 0.0
    ride_minutes: int = 0  # of the first stop, the longest ride

    @property
    def seats_taken(self) -> int:
        return sum(s.seats for s in self.stops)


@dataclass
class Plan:
    buses: list[PlannedBus]
    solver: str  # "ortools", "greedy" or "none"
    warnings: list[str] = field(default_factory=list)

    @property
    def total_km(self) -> float:
        return sum(b.km for b in self.buses)

    @property
    def total_cost(self) -> float:
        return sum(b.cost for b in self.buses)

    @property
    def seats_taken(self) -> int:
        return sum(b.seats_taken for b in self.buses)


# ------------------------------------------------------------------ geometry and time

@dataclass(frozen=True)
class _Unit:
    """A stop as the solver sees it: a whole class, or a part of a class too big for one bus."""

    stop: StopRequest
    seats: int


class _Metric:
    def __init__(self, req: PlanRequest):
        self.req = req
        self._cache: dict = {}

    def km(self, a: StopRequest | None, b: StopRequest | None) -> float:
        """Road km from stop a to stop b; b None is the venue."""
        if b is None:
            if a.km_to_venue is not None:
                return a.km_to_venue
            return self.req.distance_km(a.lat, a.lon, self.req.venue_lat, self.req.venue_lon)
        if a.booking_id == b.booking_id or (a.lat, a.lon) == (b.lat, b.lon):
            return 0.0
        key = (a.booking_id, b.booking_id)
        if key not in self._cache:
            self._cache[key] = self.req.distance_km(a.lat, a.lon, b.lat, b.lon)
        return self._cache[key]

    def minutes(self, a: StopRequest, b: StopRequest | None) -> int:
        """Whole driving minutes from a to b (b None: the venue), rounded up."""
        if b is None and a.minutes_to_venue is not None:
            return math.ceil(a.minutes_to_venue)
        km = self.km(a, b)
        return math.ceil(km / self.req.limits.speed_kmh * 60) if km > 0 else 0


def _units(stops) -> list[_Unit]:
    return [_Unit(s, s.seats) for s in stops]


def _split(stops, largest: int) -> list[_Unit]:
    """A class bigger than the largest bus goes in parts of at most ``largest`` seats."""
    out = []
    for s in stops:
        parts = max(1, math.ceil(s.seats / largest))
        base, extra = divmod(s.seats, parts)
        out += [_Unit(s, base + (1 if i < extra else 0)) for i in range(parts)]
    return out


def _finish(bus: PlannedBus, req: PlanRequest, metric: _Metric) -> PlannedBus:
    """Pickup times backwards from the arrival, km and cost of a bus's route."""
    lim = req.limits
    bus.arrives_at = req.starts_at - timedelta(minutes=lim.arrival_margin_minutes)
    bus.departs_back_at = req.ends_at + timedelta(minutes=lim.return_after_minutes)
    by_booking = {s.booking_id: s for s in req.stops}
    t = bus.arrives_at
    route_km = 0.0
    nxt = None
    for stop in reversed(bus.stops):
        here = by_booking[stop.booking_id]
        t -= timedelta(minutes=metric.minutes(here, nxt) + lim.dwell_minutes)
        route_km += metric.km(here, nxt)
        stop.pickup_at = t
        nxt = here
    bus.ride_minutes = int((bus.arrives_at - bus.stops[0].pickup_at).total_seconds() // 60) if bus.stops else 0
    bus.km = round(2 * route_km, 2)
    bus.cost = round(bus.type.cost_per_trip + bus.type.cost_per_km * bus.km, 2)
    return bus


def _merge(stops: list[PlannedStop]) -> list[PlannedStop]:
    """Parts of one class on the same bus are one stop."""
    out: dict[int, PlannedStop] = {}
    for s in stops:
        if s.booking_id in out:
            out[s.booking_id].seats += s.seats
        else:
            out[s.booking_id] = PlannedStop(s.booking_id, s.school_id, s.seats, pinned=s.pinned)
    return list(out.values())


def ride_minutes(stops: list[StopRequest], req: PlanRequest, metric: _Metric | None = None) -> int:
    """Minutes from the first pickup to the arrival for stops in this order."""
    metric = metric or _Metric(req)
    total = 0
    for a, b in zip(stops, list(stops[1:]) + [None]):
        total += req.limits.dwell_minutes + metric.minutes(a, b)
    return total


# ------------------------------------------------------------------ the planners

def plan(req: PlanRequest) -> Plan:
    """The cheapest plan OR-Tools finds within the time limit, else a greedy plan."""
    metric = _Metric(req)
    types = {t.id: t for t in req.types}
    requested = {s.booking_id: s for s in req.stops}
    warnings: list[str] = []
    buses: list[PlannedBus] = []

    # locked buses: kept as given (minus classes that no longer need a bus)
    on_locked: set[int] = set()
    for g in req.given:
        if not g.locked:
            continue
        kept = [requested[b] for b in g.booking_ids if b in requested and b not in on_locked]
        if not kept:
            continue
        on_locked.update(s.booking_id for s in kept)
        bus = PlannedBus(types[g.type_id], [PlannedStop(s.booking_id, s.school_id, s.seats) for s in kept],
                         key=g.key, locked=True)
        if bus.seats_taken > bus.type.seats:
            warnings.append(f"locked bus {g.key} has more classes than seats")
        buses.append(_finish(bus, req, metric))

    open_stops = [s for s in req.stops if s.booking_id not in on_locked]
    if not open_stops:
        return Plan(buses, "none", warnings)
    usable = [t for t in req.types if t.available > 0] or list(req.types)
    if not usable:
        raise ValueError("no bus types to plan with")
    largest = max(t.seats for t in usable)
    units = _split(open_stops, largest)
    keyed = {g.key: g for g in req.given if not g.locked}

    # a class farther than the ride limit on its own gets its own bus
    max_ride = req.limits.max_ride_minutes
    far = [u for u in units if u.stop.pinned_bus is None and ride_minutes([u.stop], req, metric) > max_ride]
    near = [u for u in units if u not in far]
    for u in far:
        t = _cheapest_fitting(usable, u.seats)
        buses.append(_finish(PlannedBus(t, [PlannedStop(u.stop.booking_id, u.stop.school_id, u.seats)]), req, metric))
        warnings.append(f"booking {u.stop.booking_id}: the ride is longer than {max_ride} minutes")

    solved = _solve_ortools(near, req, metric, usable, keyed, types) if near else []
    solver = "ortools"
    if solved is None:
        solver = "greedy"
        solved = _greedy(near, req, metric, usable, keyed, types)
    buses += [_finish(b, req, metric) for b in solved]
    for t in req.types:
        used = sum(1 for b in buses if b.type.id == t.id)
        if used > t.available:
            warnings.append(f"{used} buses of type {t.id} planned, {t.available} available")
    return Plan(buses, solver, warnings)


def _cheapest_fitting(types, seats: int) -> VehicleType:
    fitting = [t for t in types if t.seats >= seats] or [max(types, key=lambda t: t.seats)]
    return min(fitting, key=lambda t: (t.cost_per_trip, t.cost_per_km, t.seats))


def _solve_ortools(units, req, metric, usable, keyed, types) -> list[PlannedBus] | None:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    lim = req.limits
    n = len(units)
    # vehicles: the given buses that carry pinned stops, then the region's types
    vehicles: list[tuple[VehicleType, int | None]] = []
    pinned_keys = sorted({u.stop.pinned_bus for u in units if u.stop.pinned_bus is not None})
    for key in pinned_keys:
        g = keyed.get(key)
        if g is None or g.type_id not in types:
            return None
        vehicles.append((types[g.type_id], key))
    for t in sorted(usable, key=lambda t: t.id):
        count = min(t.available, n)
        vehicles += [(t, None)] * count
    if not vehicles:
        return None

    # nodes: 0 the venue (every route's end), 1 the start (free to anywhere), 2.. the units
    stops = [None, None] + [u.stop for u in units]
    num = n + 2
    dist_m = [[0] * num for _ in range(num)]
    mins = [[0] * num for _ in range(num)]
    for i in range(2, num):
        for j in range(num):
            if j == 1 or i == j:
                continue
            target = None if j == 0 else stops[j]
            dist_m[i][j] = int(round(metric.km(stops[i], target) * 1000))
            mins[i][j] = metric.minutes(stops[i], target) + lim.dwell_minutes
    big = 10 ** 9
    for j in range(num):  # nothing leaves the venue
        dist_m[0][j] = big if j else 0

    manager = pywrapcp.RoutingIndexManager(num, len(vehicles), [1] * len(vehicles), [0] * len(vehicles))
    routing = pywrapcp.RoutingModel(manager)

    def arc_cb(per_km):
        def cost(from_index, to_index):
            i, j = manager.IndexToNode(from_index), manager.IndexToNode(to_index)
            return int(dist_m[i][j] * per_km * 2 / 10)  # cents: 2 × km × €/km × 100
        return routing.RegisterTransitCallback(cost)

    callbacks: dict[int, int] = {}
    for v, (t, _key) in enumerate(vehicles):
        if t.id not in callbacks:
            callbacks[t.id] = arc_cb(t.cost_per_km)
        routing.SetArcCostEvaluatorOfVehicle(callbacks[t.id], v)
        routing.SetFixedCostOfVehicle(int(round(t.cost_per_trip * 100)), v)

    demand = routing.RegisterUnaryTransitCallback(
        lambda index: units[manager.IndexToNode(index) - 2].seats if manager.IndexToNode(index) >= 2 else 0)
    routing.AddDimensionWithVehicleCapacity(demand, 0, [t.seats for t, _ in vehicles], True, "seats")
    time_cb = routing.RegisterTransitCallback(
        lambda a, b: mins[manager.IndexToNode(a)][manager.IndexToNode(b)])
    routing.AddDimension(time_cb, 0, lim.max_ride_minutes, True, "ride")

    for node, u in enumerate(units, start=2):
        if u.stop.pinned_bus is not None:
            v = next(i for i, (_t, key) in enumerate(vehicles) if key == u.stop.pinned_bus)
            routing.VehicleVar(manager.NodeToIndex(node)).SetValues([v])

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    # guided local search escapes the local optima of a mixed fleet (three minibuses vs one coach);
    # it runs until the time limit, so small problems get a shorter one
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    seconds = min(lim.time_limit_seconds, 0.15 + 0.05 * n)
    params.time_limit.FromMilliseconds(max(50, int(seconds * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None

    out = []
    for v, (t, key) in enumerate(vehicles):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(index):
            u = units[manager.IndexToNode(index) - 2]
            route.append(PlannedStop(u.stop.booking_id, u.stop.school_id, u.seats, pinned=u.stop.pinned_bus is not None))
            index = solution.Value(routing.NextVar(index))
        if route:
            out.append(PlannedBus(t, _merge(route), key=key))
    return out


def _greedy(units, req, metric, usable, keyed, types) -> list[PlannedBus]:
    """Farthest first: join a bus with room and ride time to spare, else open a new one."""
    max_ride = req.limits.max_ride_minutes
    largest = max(usable, key=lambda t: (t.seats, -t.cost_per_trip))
    buses: list[tuple[PlannedBus, list[StopRequest]]] = []
    for key in sorted({u.stop.pinned_bus for u in units if u.stop.pinned_bus is not None}):
        g = keyed.get(key)
        buses.append((PlannedBus(types[g.type_id] if g else largest, [], key=key), []))
    order = sorted(units, key=lambda u: (u.stop.pinned_bus is None, -metric.minutes(u.stop, None), u.stop.booking_id))
    for u in order:
        target = None
        if u.stop.pinned_bus is not None:
            target = next(b for b in buses if b[0].key == u.stop.pinned_bus)
        else:
            best = None
            for bus, route in buses:
                cap = bus.type.seats if bus.key is not None else largest.seats
                if bus.seats_taken + u.seats > cap:
                    continue
                if ride_minutes(route + [u.stop], req, metric) > max_ride:
                    continue
                extra = ride_minutes(route + [u.stop], req, metric) - ride_minutes(route, req, metric)
                if best is None or extra < best[0]:
                    best = (extra, (bus, route))
            target = best[1] if best else None
        if target is None:
            target = (PlannedBus(largest, []), [])
            buses.append(target)
        target[0].stops.append(PlannedStop(u.stop.booking_id, u.stop.school_id, u.seats,
                                           pinned=u.stop.pinned_bus is not None))
        target[1].append(u.stop)
    out = []
    for bus, _route in buses:
        if not bus.stops:
            continue
        if bus.key is None:
            bus.type = _cheapest_fitting(usable, bus.seats_taken)
        bus.stops = _merge(bus.stops)
        out.append(bus)
    return out


def one_bus_per_school(req: PlanRequest) -> Plan:
    """The plan without sharing: every class its own (cheapest fitting) bus, straight to the venue."""
    metric = _Metric(req)
    usable = [t for t in req.types if t.available > 0] or list(req.types)
    largest = max(t.seats for t in usable)
    buses = []
    for u in _split(req.stops, largest):
        t = _cheapest_fitting(usable, u.seats)
        buses.append(_finish(PlannedBus(t, [PlannedStop(u.stop.booking_id, u.stop.school_id, u.seats)]), req, metric))
    return Plan(buses, "one_per_school")


def lower_bound_buses(req: PlanRequest) -> int:
    """No plan needs fewer buses than all seats over the largest bus."""
    if not req.stops:
        return 0
    largest = max(t.seats for t in req.types)
    return math.ceil(sum(s.seats for s in req.stops) / largest)
