"""Bus planning for a day: a pure function of its inputs (no database, no Flask).

The classes that need a bus to a venue at a time are grouped into buses of the region's
bus types, for all sessions of a day of a region together, minimising cost:

* the day's fleet is a hard limit: at no moment are more buses of a type on the road
  than the region has (``VehicleType.available`` buses per day). A bus may do a morning
  and an afternoon trip when its first trip is back (plus a turnaround) before the
  second begins. Classes the fleet cannot carry are left out and reported
  (``Plan.unplanned``, a ``no_bus`` warning) instead of planned beyond the fleet;
* every pupil and every adult has a seat of their own; a class larger than the largest
  bus is split over the cheapest mix of buses;
* a bus picks up at one or more schools and arrives at the venue ``margin`` minutes
  before the session starts; nobody rides longer than ``max_ride_minutes`` (a school
  that is farther than that on its own gets a bus of its own, and a warning);
* a pickup time already announced to a school is held within ``pickup_tolerance_minutes``
  (``hold="hard"``; the bus waits rather than comes early), or a change costs
  ``change_cost`` in the objective (``hold="soft"``, the coordinator accepts changes);
* the return trip leaves ``return_after_minutes`` after the session ends and drops
  the classes off in the reverse order;
* a bus costs ``cost_per_trip`` (the order: there and back) plus ``cost_per_km`` for
  every kilometre driven with the classes (the route, twice);
* locked buses are kept as given; a bus with pinned stops carries exactly those (a pin
  that breaks the ride rule is kept, with a warning);
* sessions of one trip (the same start and end, at one venue or at venues within
  ``share_detour_minutes``) are one routing problem: a bus may carry classes of several of
  them (a shared bus, dropping at up to two venues), chosen only where it is cheaper.

Exact where small: the routes of up to ``exact_max_stops`` stops are enumerated (each in
its best order) and CP-SAT picks the cheapest set that carries every class within the
fleet (set partitioning). A session with too many candidate routes gets its routes from
OR-Tools routing instead (a greedy plan when that finds nothing); the day's model then
still enforces the fleet. Both run on deterministic limits: the same input gives the
same plan. CP-SAT starts from a plan made by a rule of thumb (the cheapest routes per seat
first, within the fleet); when the limit comes before CP-SAT finds a plan of its own, that
one is the plan, with a ``greedy`` warning (a ``time_limit_seconds`` of 0 plans by the rule
alone). A day always gets a plan. ``Plan.solver`` says which one made the plan.
"""

from __future__ import annotations

import math
from itertools import permutations
from dataclasses import dataclass, field, replace
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
    announced_at: datetime | None = None  # the pickup time the school was told, if any
    venue: int = 0  # where the class goes: 0 the request's venue, n its ``venues[n - 1]`` (a shared trip)


@dataclass(frozen=True)
class VehicleType:
    id: int
    seats: int
    cost_per_trip: float
    cost_per_km: float
    available: int = 99
    name: str = ""
    carrier: str = ""
    hired: bool = False  # extra buses of the type hired for the day: a fleet of their own, at the hire price


def fleet_key(t: VehicleType) -> tuple[int, bool]:
    """The contract's buses of a type and the ones hired for the day are separate fleets."""
    return (t.id, t.hired)


@dataclass(frozen=True)
class GivenBus:
    """A bus of the current plan: locked buses are kept; others carry pinned stops."""

    key: int
    type_id: int
    booking_ids: tuple[int, ...] = ()  # in route order (used for locked buses)
    locked: bool = False
    hired: bool = False


@dataclass(frozen=True)
class Limits:
    max_ride_minutes: int = 45
    arrival_margin_minutes: int = 15
    dwell_minutes: int = 3  # boarding at each stop
    return_after_minutes: int = 10
    speed_kmh: float = DEFAULT_SPEED_KMH
    time_limit_seconds: float = 1.0
    pickup_tolerance_minutes: int = 5  # an announced pickup may move this much without a change
    change_cost: float = 25.0  # € in the objective per announced pickup moved more (hold="soft")
    turnaround_minutes: int = 15  # between a bus's return and its next trip's first pickup
    exact_max_stops: int = 5  # routes of up to this many stops are enumerated
    exact_max_columns: int = 20000  # beyond this many routes a session goes to OR-Tools routing
    share_detour_minutes: int = 10  # a shared bus may drop classes at two venues this close (driving)


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
    hold: str = "hard"  # announced pickups: "hard" (kept ± tolerance), "soft" (a change costs), "free"
    # requests of one day with the same ``trip`` (not None: the same venue, start and end) are planned
    # as one: a bus may carry classes of several of them (a shared bus), chosen only where it is cheaper
    trip: object = None
    venues: tuple[tuple[float, float], ...] = ()  # a shared trip's other venues (lat, lon): StopRequest.venue 1, 2, …


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
    busy_from: datetime | None = None  # the bus is in use from (first pickup) ...
    busy_until: datetime | None = None  # ... until (back at the last school, plus the turnaround)
    units: list[int] = field(default_factory=list)  # the solver's units on this bus, in route order

    @property
    def seats_taken(self) -> int:
        return sum(s.seats for s in self.stops)


@dataclass(frozen=True)
class PlanWarning:
    """Something the coordinator must see. Codes: ride_over_limit, no_bus, pin_breaks_rule,
    greedy, pickup_moved, locked_over_fleet (services add no_coordinates, implausible_coordinates)."""

    code: str
    booking_id: int | None = None
    minutes: int | None = None
    seats: int | None = None
    type_id: int | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Unplanned:
    booking_id: int
    seats: int
    reason: str  # "fleet": the day's buses are all in use


@dataclass
class Plan:
    buses: list[PlannedBus]
    solver: str  # "exact", "ortools", "greedy" or "none"
    warnings: list[PlanWarning] = field(default_factory=list)
    unplanned: list[Unplanned] = field(default_factory=list)
    proven_optimal: bool = False  # the day's model proved its optimum (over routes of up to 5 stops)
    day_objective: float = 0.0  # the day's model: its objective and the solver's proven lower bound (€)
    day_bound: float | None = 0.0  # None: no bound (the rule-of-thumb plan, CP-SAT found none)
    shared: list[PlannedBus] = field(default_factory=list)  # buses of another request's plan carrying its classes
    shared_cost: float | None = None  # a trip's request: its part of the cost of the buses it rides (by seats)

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
        if b is None:  # its own venue
            if a.km_to_venue is not None:
                return a.km_to_venue
            lat, lon = self.venue(a.venue)
            return self.req.distance_km(a.lat, a.lon, lat, lon)
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

    def venue(self, v: int) -> tuple[float, float]:
        return (self.req.venue_lat, self.req.venue_lon) if v == 0 else self.req.venues[v - 1]

    def km_to(self, a: StopRequest, v: int) -> float:
        """Road km from a stop to venue ``v`` (its own venue: the known distance, if any)."""
        if v == a.venue:
            return self.km(a, None)
        key = (a.booking_id, "venue", v)
        if key not in self._cache:
            lat, lon = self.venue(v)
            self._cache[key] = self.req.distance_km(a.lat, a.lon, lat, lon)
        return self._cache[key]

    def minutes_to(self, a: StopRequest, v: int) -> int:
        if v == a.venue and a.minutes_to_venue is not None:
            return math.ceil(a.minutes_to_venue)
        km = self.km_to(a, v)
        return math.ceil(km / self.req.limits.speed_kmh * 60) if km > 0 else 0

    def between(self, v: int, w: int) -> tuple[float, int]:
        """Road km and whole minutes from venue v to venue w."""
        if v == w:
            return 0.0, 0
        (a, b), (c, d) = self.venue(v), self.venue(w)
        km = self.req.distance_km(a, b, c, d)
        return km, math.ceil(km / self.req.limits.speed_kmh * 60) if km > 0 else 0


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
    for a, b in zip(stops, list(stops[1:]) + [None], strict=False):
        total += req.limits.dwell_minutes + metric.minutes(a, b)
    return total


# ------------------------------------------------------------------ the planners


def plan(req: PlanRequest) -> Plan:
    """The plan of one session on its own (the fleet is ``req.types``' available)."""
    return plan_day([req])[0]


# a class left without a bus costs far more than any bus: the model carries whom it can
_UNPLANNED_CENTS = 10_000_000
_UNPLANNED_SEAT_CENTS = 100_000


@dataclass
class _Column:
    """A candidate bus: some units of one session in route order, a type, its times and cost."""

    session: int  # index of the request
    units: tuple[int, ...]  # indices into that session's units, in route order
    type: VehicleType
    pickups: tuple[datetime, ...]
    km: float  # the route one way
    ride: int
    cost_cents: int  # the objective: the bus, plus changes of announced pickups
    key: int | None = None
    locked: bool = False
    moved: tuple[int, ...] = ()  # units whose announced pickup moves more than the tolerance
    pin_broken: bool = False
    busy: tuple[datetime, datetime] | None = None


class _Session:
    """One request prepared for the day's model: its units, locked buses and candidate routes."""

    def __init__(self, index: int, req: PlanRequest):
        self.index, self.req = index, req
        self.metric = _Metric(req)
        self._legs: dict[tuple[int, int | None, int], tuple[float, int]] = {}
        self.warnings: list[PlanWarning] = []
        self.solver = "exact"
        requested = {s.booking_id: s for s in req.stops}
        self.locked: list[tuple[GivenBus, list[StopRequest]]] = []
        on_locked: set[int] = set()
        for g in req.given:
            if not g.locked:
                continue
            kept = [requested[b] for b in g.booking_ids if b in requested and b not in on_locked]
            if kept:
                on_locked.update(s.booking_id for s in kept)
                self.locked.append((g, kept))
        self.open = [s for s in req.stops if s.booking_id not in on_locked]
        self.keyed = {g.key: g for g in req.given if not g.locked}
        self.types = {t.id: t for t in req.types if not t.hired}
        self.hired_types = {t.id: t for t in req.types if t.hired}
        fleet = [t for t in req.types if t.available > 0] or list(req.types)
        # without bus types (a region with no contract) every class is a unit the model cannot carry
        self.units = (
            _split_cheapest(self.open, fleet, self.metric)
            if self.open and fleet
            else [_Unit(s, s.seats) for s in self.open]
        )

    def type_of(self, g: GivenBus) -> VehicleType | None:
        """The type of a given bus: hired or of the contract (the other when the day has none)."""
        first, other = (self.hired_types, self.types) if g.hired else (self.types, self.hired_types)
        return first.get(g.type_id) or other.get(g.type_id)

    # -- one route: pickup times backwards from the arrival, waiting for an announced time
    def route(self, order: tuple[int, ...]):
        """Pickup times, km (one way), the longest ride and the moved announced pickups of a route; a
        route of a shared trip may drop its classes at two venues (the better order of the two)."""
        venues = sorted({self.units[i].stop.venue for i in order})
        if len(venues) <= 1:
            return self._route(order, venues[0] if venues else 0, None)
        first, second = self._route(order, venues[0], venues[1]), self._route(order, venues[1], venues[0])
        limit = self.req.limits.max_ride_minutes
        return min((first, second), key=lambda r: (r[2] > limit, len(r[3]), round(r[1], 6), r[2]))

    def _route(self, order: tuple[int, ...], v: int, then: int | None):
        """The route to venue ``v`` (then on to venue ``then``, arriving there on time)."""
        req, lim, metric = self.req, self.req.limits, self.metric
        arrival = req.starts_at - timedelta(minutes=lim.arrival_margin_minutes)
        at = {v: arrival}
        km = 0.0
        if then is not None:
            leg_km, leg_minutes = metric.between(v, then)
            at = {then: arrival, v: arrival - timedelta(minutes=leg_minutes + lim.dwell_minutes)}
            km += leg_km
        stops = [self.units[i].stop for i in order]
        times: list[datetime] = [arrival] * len(stops)
        moved = []
        t = at[v]
        nxt = None
        for pos in range(len(stops) - 1, -1, -1):
            here = stops[pos]
            if nxt is None:
                t = t - timedelta(minutes=metric.minutes_to(here, v) + lim.dwell_minutes)
                km += metric.km_to(here, v)
            else:
                t = t - timedelta(minutes=metric.minutes(here, nxt) + lim.dwell_minutes)
                km += metric.km(here, nxt)
            tolerance = timedelta(minutes=lim.pickup_tolerance_minutes)
            if here.announced_at is not None and req.hold == "hard":
                if here.announced_at < t:
                    t = here.announced_at  # the bus waits for the class at its announced time
                elif (here.announced_at - t) > tolerance:
                    moved.append(order[pos])
            elif here.announced_at is not None and req.hold == "soft" and abs(here.announced_at - t) > tolerance:
                moved.append(order[pos])  # a change the coordinator accepts, at a cost
            times[pos] = t
            nxt = here
        # each class rides until the bus is at its own venue
        ride = max(
            (int((at.get(s.venue, arrival) - times[n]).total_seconds() // 60) for n, s in enumerate(stops)), default=0
        )
        return tuple(times), km, ride, tuple(moved)

    def best_order(self, subset: tuple[int, ...]):
        """The cheapest order within the ride limit (else the shortest ride), deterministic."""
        best = None
        limit = self.req.limits.max_ride_minutes
        stops = [self.units[i].stop for i in subset]
        venues = {s.venue for s in stops}
        if (
            len(subset) > 1
            and len(venues) == 1
            and (self.req.hold not in ("hard", "soft") or all(s.announced_at is None for s in stops))
        ):
            return self._best_plain_order(subset, venues.pop())
        for order in permutations(subset) if len(subset) > 1 else [subset]:
            times, km, ride, moved = self.route(order)
            rank = (ride > limit, len(moved), round(km, 6) if ride <= limit else ride, order)
            if best is None or rank < best[0]:
                best = (rank, order, times, km, ride, moved)
        return best[1:]

    def _best_plain_order(self, subset: tuple[int, ...], v: int):
        """``best_order`` where no announced pickup holds the bus and all go to one venue: a route's
        ride is then its legs' minutes and dwells, so the orders are ranked on the legs alone (summed
        as ``_route`` sums them) and only the best one is timed."""
        limit = self.req.limits.max_ride_minutes
        best = None
        for order in permutations(subset):
            km, ride = self._leg(order[-1], None, v)
            for pos in range(len(order) - 2, -1, -1):
                leg_km, leg_minutes = self._leg(order[pos], order[pos + 1], v)
                km += leg_km
                ride += leg_minutes
            rank = (ride > limit, round(km, 6) if ride <= limit else ride, order)
            if best is None or rank < best:
                best = rank
        order = best[-1]
        return (order, *self.route(order))

    def _leg(self, i: int, j: int | None, v: int) -> tuple[float, int]:
        """Road km and minutes (with the dwell at unit ``i``) from unit ``i`` to unit ``j``, or to
        venue ``v`` when ``j`` is None; kept, as the enumeration asks for each leg many times."""
        key = (i, j, v)
        leg = self._legs.get(key)
        if leg is None:
            here, dwell = self.units[i].stop, self.req.limits.dwell_minutes
            if j is None:
                leg = (self.metric.km_to(here, v), self.metric.minutes_to(here, v) + dwell)
            else:
                nxt = self.units[j].stop
                leg = (self.metric.km(here, nxt), self.metric.minutes(here, nxt) + dwell)
            self._legs[key] = leg
        return leg

    def column(self, order, t: VehicleType, times, km, ride, moved, key=None, locked=False) -> _Column:
        lim = self.req.limits
        cents = int(round((t.cost_per_trip + t.cost_per_km * 2 * km) * 100))
        if moved and self.req.hold == "soft":
            cents += int(round(lim.change_cost * 100)) * len(moved)
        back = self.req.ends_at + timedelta(minutes=lim.return_after_minutes + ride + lim.turnaround_minutes)
        return _Column(
            self.index,
            tuple(order),
            t,
            times,
            km,
            ride,
            cents,
            key,
            locked,
            moved,
            busy=(times[0] if times else self.req.starts_at, back),
        )

    # -- candidate routes
    def enumerate(self) -> list[_Column] | None:
        """Every route of up to ``exact_max_stops`` units that fits a bus and the ride limit (a unit
        alone always); a pinned group is one route on its bus. None when there are too many."""
        lim = self.req.limits
        fleet = [t for t in self.req.types if t.available > 0]
        if not fleet:
            return []
        largest = max(t.seats for t in fleet)
        hard = self.req.hold == "hard"
        cols: list[_Column] = []
        pinned: dict[int, list[int]] = {}
        free = []
        for i, u in enumerate(self.units):
            if (
                u.stop.pinned_bus is not None
                and u.stop.pinned_bus in self.keyed
                and self.type_of(self.keyed[u.stop.pinned_bus]) is not None
            ):
                pinned.setdefault(u.stop.pinned_bus, []).append(i)
            else:
                free.append(i)

        def add(subset, key=None, must=False):
            venues = sorted({self.units[i].stop.venue for i in subset})
            if not must and (
                len(venues) > 2 or (len(venues) == 2 and self.metric.between(*venues)[1] > lim.share_detour_minutes)
            ):
                return False
            order, times, km, ride, moved = self.best_order(subset)
            seats = sum(self.units[i].seats for i in subset)
            over = ride > lim.max_ride_minutes
            if not must and len(subset) > 1 and (over or (hard and moved)):
                return False
            types = [self.type_of(self.keyed[key])] if key is not None else [t for t in fleet if t.seats >= seats]
            for t in types:
                c = self.column(order, t, times, km, ride, moved, key=key)
                c.pin_broken = key is not None and (
                    (over and len({self.units[i].stop.booking_id for i in subset}) > 1) or seats > t.seats
                )
                cols.append(c)
            return bool(types)

        for key in sorted(pinned):  # a bus the coordinator arranged carries exactly its pinned classes
            add(tuple(pinned[key]), key=key, must=True)
        for i in free:
            add((i,))
        self._grow((), free, 0, largest, add, cols, 0, start_size=2)
        return None if len(cols) > lim.exact_max_columns else cols

    def _grow(self, base, free, base_seats, cap, add, cols, base_len, start_size=1):
        """Depth-first: add free units (in index order) while seats fit and the route stays feasible."""
        lim = self.req.limits

        def dfs(subset, seats, start):
            for pos in range(start, len(free)):
                if len(cols) > lim.exact_max_columns:
                    return
                i = free[pos]
                s = seats + self.units[i].seats
                if s > cap or len(subset) >= lim.exact_max_stops:
                    continue
                sub = subset + (i,)
                if len(sub) < start_size:
                    dfs(sub, s, pos + 1)  # single units were added already
                elif add(sub):
                    dfs(sub, s, pos + 1)

        dfs(tuple(base), base_seats, 0)

    def routed(self) -> list[_Column]:
        """Candidate routes from OR-Tools routing (else greedy) for a session too big to enumerate,
        plus every unit on its own."""
        fleet = [t for t in self.req.types if t.available > 0]
        if not fleet:
            return []
        units = self.units
        solved = _solve_ortools(units, self.req, self.metric, fleet, self.keyed, self.types)
        self.solver = "ortools"
        if solved is None:
            self.solver = "greedy"
            self.warnings.append(PlanWarning("greedy"))
            solved = _greedy(units, self.req, self.metric, fleet, self.keyed, self.types)
        cols = []
        for bus in solved:
            order = tuple(bus.units)
            times, km, ride, moved = self.route(order)
            c = self.column(order, bus.type, times, km, ride, moved, key=bus.key)
            c.pin_broken = bus.key is not None and ride > self.req.limits.max_ride_minutes
            cols.append(c)
        seen = {c.units for c in cols}
        for i in range(len(units)):
            if units[i].stop.pinned_bus is None and (i,) not in seen:
                times, km, ride, moved = self.route((i,))
                for t in fleet:
                    if t.seats >= units[i].seats:
                        cols.append(self.column((i,), t, times, km, ride, moved))
        return cols

    def locked_columns(self) -> list[_Column]:
        out = []
        for g, kept in self.locked:
            t = self.type_of(g) or VehicleType(g.type_id, sum(s.seats for s in kept), 0.0, 0.0, 0, hired=g.hired)
            ids = len(self.units)
            for s in kept:  # locked stops are units of their own (outside the model)
                self.units.append(_Unit(s, s.seats))
            order = tuple(range(ids, len(self.units)))
            saved, self.req = self.req, replace(self.req, hold="free")
            times, km, ride, moved = self.route(order)
            self.req = saved
            c = self.column(order, t, times, km, ride, (), key=g.key, locked=True)
            if sum(s.seats for s in kept) > t.seats:
                self.warnings.append(PlanWarning("locked_over_seats", type_id=t.id))
            out.append(c)
        return out


def _split_cheapest(stops, fleet, metric) -> list[_Unit]:
    """A class bigger than the largest bus goes over the cheapest mix of buses (parts filled
    largest first); others are one unit each."""
    largest = max(t.seats for t in fleet)
    out = []
    for s in stops:
        if s.seats <= largest:
            out.append(_Unit(s, s.seats))
            continue
        km = metric.km(s, None)
        best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
        for need in range(1, s.seats + 1):  # cheapest mix of capacities covering `need` seats
            cands = []
            for t in fleet:
                prev = best[max(0, need - t.seats)]
                cands.append(
                    (
                        round(prev[0] + t.cost_per_trip + t.cost_per_km * 2 * km, 6),
                        tuple(sorted(prev[1] + (t.seats,), reverse=True)),
                    )
                )
            best[need] = min(cands)
        left = s.seats
        for cap in best[s.seats][1]:
            part = min(cap, left)
            if part > 0:
                out.append(_Unit(s, part))
            left -= part
    return out


def plan_day(reqs: list[PlanRequest]) -> list[Plan]:
    """Plan the sessions of one day and region together: they share the fleet (the
    ``available`` of the first request's types). One plan per request, in order.

    Requests of one trip are one routing problem whose stops are all their classes: the same
    ``trip`` key (the same start and end) at the same venue, or at venues within
    ``share_detour_minutes`` of each other (a route then drops its classes at both venues, each
    class's ride counted to its own venue). A route may pick up classes of several sessions (a
    shared bus). The model keeps every route of one session as a candidate too, so a bus is
    shared only where that is cheaper. A shared bus is in the plan of the request whose bus it
    continues (its ``key``), else of the first request it carries a class of; the other requests
    list it in ``Plan.shared``. A trip over two venues too large for the exact model is planned
    per venue."""
    order: list[list[int]] = []
    by_trip: dict[object, list[int]] = {}
    for i, r in enumerate(reqs):
        if r.trip is None:
            order.append([i])
        else:
            by_trip.setdefault(r.trip, []).append(i)
    for members in by_trip.values():
        for group in _near_groups([reqs[i] for i in members]):
            group = [members[k] for k in group]
            venues = {(reqs[i].venue_lat, reqs[i].venue_lon) for i in group}
            if len(venues) > 1 and _Session(0, _merge_trip([reqs[i] for i in group])).enumerate() is None:
                per_venue: dict[tuple, list[int]] = {}
                for i in group:
                    per_venue.setdefault((reqs[i].venue_lat, reqs[i].venue_lon), []).append(i)
                order += list(per_venue.values())
            else:
                order.append(group)
    order.sort(key=lambda g: g[0])
    merged = [reqs[g[0]] if len(g) == 1 else _merge_trip([reqs[i] for i in g]) for g in order]
    results = _plan_requests(merged)
    out: list[Plan | None] = [None] * len(reqs)
    for g, result in zip(order, results, strict=True):
        if len(g) == 1:
            out[g[0]] = result
        else:
            for i, part in zip(g, _split_trip([reqs[i] for i in g], result), strict=True):
                out[i] = part
    return out


def _near_groups(reqs: list[PlanRequest]) -> list[list[int]]:
    """Requests of one start and end, grouped: the same venue, or venues linked by drives of at most
    ``share_detour_minutes`` (connected groups; a route still visits at most two venues this close)."""
    if not reqs:
        return []
    lim = reqs[0].limits
    venues = sorted({(r.venue_lat, r.venue_lon) for r in reqs})
    parent = {v: v for v in venues}

    def root(v):
        while parent[v] != v:
            v = parent[v]
        return v

    for a in venues:
        for b in venues:
            if a < b:
                km = reqs[0].distance_km(a[0], a[1], b[0], b[1])
                if math.ceil(km / lim.speed_kmh * 60) <= lim.share_detour_minutes:
                    parent[root(b)] = root(a)
    groups: dict[tuple, list[int]] = {}
    for k, r in enumerate(reqs):
        groups.setdefault(root((r.venue_lat, r.venue_lon)), []).append(k)
    return sorted(groups.values())


def _merge_trip(reqs: list[PlanRequest]) -> PlanRequest:
    """One request for the sessions of a trip: all their classes (each with the index of its venue),
    all their given buses. The announced pickups of a session planned "free" (it moved) are not
    held; the trip is held "soft" when the coordinator accepted changes for one of its sessions,
    else "hard"."""
    stops, given, seen = [], [], set()
    places = [(reqs[0].venue_lat, reqs[0].venue_lon)]
    for r in reqs:
        if (r.venue_lat, r.venue_lon) not in places:
            places.append((r.venue_lat, r.venue_lon))
        v = places.index((r.venue_lat, r.venue_lon))
        stops += [replace(s, announced_at=None if r.hold == "free" else s.announced_at, venue=v) for s in r.stops]
        for g in r.given:
            if g.key not in seen:
                seen.add(g.key)
                given.append(g)
    holds = {r.hold for r in reqs}
    hold = "soft" if "soft" in holds else "hard" if "hard" in holds else "free"
    return replace(reqs[0], stops=tuple(stops), given=tuple(given), hold=hold, venues=tuple(places[1:]))


def _split_trip(reqs: list[PlanRequest], result: Plan) -> list[Plan]:
    """The trip's plan as one plan per request: each bus in the plan of its owner (the request
    whose given bus it continues, else the first it carries a class of), listed as shared in the
    others it carries classes of; warnings and classes without a bus with their request."""
    of_booking = {s.booking_id: n for n, r in enumerate(reqs) for s in r.stops}
    of_key = {}
    for n, r in enumerate(reqs):
        for g in r.given:
            of_key.setdefault(g.key, n)
    parts = [
        Plan(
            [],
            result.solver,
            proven_optimal=result.proven_optimal,
            day_objective=result.day_objective,
            day_bound=result.day_bound,
        )
        for _ in reqs
    ]
    for bus in result.buses:
        served = sorted({of_booking[st.booking_id] for st in bus.stops if st.booking_id in of_booking})
        owner = of_key.get(bus.key, served[0] if served else 0) if bus.key is not None else (served or [0])[0]
        parts[owner].buses.append(bus)
        for n in served:
            if n != owner:
                parts[n].shared.append(bus)
    for w in result.warnings:
        if w.booking_id is not None and w.booking_id in of_booking:
            parts[of_booking[w.booking_id]].warnings.append(w)
        else:
            for p in parts:
                p.warnings.append(w)
    for u in result.unplanned:
        parts[of_booking.get(u.booking_id, 0)].unplanned.append(u)
    for n, (r, p) in enumerate(zip(reqs, parts, strict=True)):
        if not r.stops and not any(g for g in r.given):
            p.solver = "none"
        p.shared_cost = round(sum(_share(b, of_booking, n) for b in p.buses + p.shared), 2)
    return parts


def _share(bus: PlannedBus, of_booking: dict, n: int) -> float:
    """The part of a bus's cost a request carries: by its seats on the bus."""
    mine = sum(st.seats for st in bus.stops if of_booking.get(st.booking_id) == n)
    return bus.cost * mine / bus.seats_taken if bus.seats_taken else 0.0


def _plan_requests(reqs: list[PlanRequest]) -> list[Plan]:
    """The day's model: one plan per request (a trip already merged into one request)."""
    from ortools.sat.python import cp_model

    sessions = [_Session(i, r) for i, r in enumerate(reqs)]
    fleet = {fleet_key(t): t.available for t in (reqs[0].types if reqs else ())}
    columns: list[_Column] = []
    fixed: list[_Column] = []
    for s in sessions:
        cols = s.enumerate() if s.units else []
        if cols is None:
            cols = s.routed()
        columns += cols
        fixed += s.locked_columns()
    model = cp_model.CpModel()
    x = [model.NewBoolVar(f"x{i}") for i in range(len(columns))]
    lost: dict[tuple[int, int], object] = {}
    cover: dict[tuple[int, int], list] = {}
    for c, var in zip(columns, x, strict=True):
        for u in set(c.units):
            cover.setdefault((c.session, u), []).append(var)
    objective = [c.cost_cents * v for c, v in zip(columns, x, strict=True)]
    for s in sessions:
        for u, unit in enumerate(s.units):
            if any(u in c.units for c in fixed if c.session == s.index):
                continue
            lost[(s.index, u)] = model.NewBoolVar(f"lost{s.index}_{u}")
            model.Add(sum(cover.get((s.index, u), [])) + lost[(s.index, u)] == 1)
            objective.append((_UNPLANNED_CENTS + _UNPLANNED_SEAT_CENTS * unit.seats) * lost[(s.index, u)])
        # all units pinned to a bus travel on that one bus
        for key in sorted({c.key for c in columns if c.session == s.index and c.key is not None}):
            model.Add(sum(v for c, v in zip(columns, x, strict=True) if c.session == s.index and c.key == key) <= 1)
    warnings_fleet: set[int] = set()
    limits_of: list[list[int]] = [[] for _ in columns]  # per column: the fleet limits it counts in
    room: list[int] = []  # per fleet limit: the buses free at that moment
    for t_key, available in sorted(fleet.items()):
        mine = [(c.busy, n) for n, c in enumerate(columns) if fleet_key(c.type) == t_key]
        held = [c for c in fixed if fleet_key(c.type) == t_key]
        fixed_max = _max_overlap([c.busy for c in held])
        if fixed_max > available:
            warnings_fleet.add(t_key[0])
        for clique in _cliques(mine + [(c.busy, None) for c in held]):
            here = [n for n in clique if n is not None]
            fixed_here = len(clique) - len(here)
            if here:
                model.Add(sum(x[n] for n in here) <= max(0, available - fixed_here))
                for n in here:
                    limits_of[n].append(len(room))
                room.append(max(0, available - fixed_here))
    model.Minimize(sum(objective))
    first, carried = _first_plan(sessions, columns, limits_of, room, set(lost))
    for n, var in enumerate(x):
        model.AddHint(var, n in first)
    for unit, var in lost.items():
        model.AddHint(var, unit not in carried)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # one worker and a deterministic limit: the same input, the same plan
    solver.parameters.random_seed = 1
    seconds = max((r.limits.time_limit_seconds for r in reqs), default=1.0)
    solver.parameters.max_deterministic_time = 10.0 * max(0.0, seconds)
    status = solver.Solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        picked = {n for n, v in enumerate(x) if solver.Value(v)}
        left = {unit for unit, v in lost.items() if solver.Value(v)}
        objective_value, bound = solver.ObjectiveValue() / 100, solver.BestObjectiveBound() / 100
    else:  # the limit came before CP-SAT's first solution: the first plan, which always fits the model
        picked, left = first, {unit for unit in lost if unit not in carried}
        objective_value = (
            sum(columns[n].cost_cents for n in first)
            + sum(_UNPLANNED_CENTS + _UNPLANNED_SEAT_CENTS * sessions[si].units[u].seats for si, u in left)
        ) / 100
        bound = None
        for s in sessions:
            if any(si == s.index for si, _u in lost):  # a session with classes in the model (not all locked)
                s.solver = "greedy"
                s.warnings.append(PlanWarning("greedy"))
    chosen = [c for n, c in enumerate(columns) if n in picked] + fixed
    plans = []
    for s in sessions:
        plans.append(
            _to_plan(
                s,
                [c for c in chosen if c.session == s.index],
                sorted(u for si, u in left if si == s.index),
                status == cp_model.OPTIMAL,
                warnings_fleet,
            )
        )
        plans[-1].day_objective, plans[-1].day_bound = objective_value, bound
    return plans


def _first_plan(
    sessions, columns: list[_Column], limits_of: list[list[int]], room: list[int], open_units
) -> tuple[set[int], set[tuple[int, int]]]:
    """A plan the day's model accepts, made without the solver: the pinned buses first, then the
    cheapest routes per seat (the fuller first), each taken while its classes are still without a
    bus, its pin unused and the fleet has a bus free at its hours; whom it cannot carry is left out.
    CP-SAT starts from it, and it is the plan when the limit comes before CP-SAT's first solution.
    Returns the columns taken and the (session, unit) pairs they carry."""
    room = list(room)
    taken: set[int] = set()
    carried: set[tuple[int, int]] = set()
    pins: set[tuple[int, int]] = set()

    def seats(c: _Column) -> int:
        return sum(sessions[c.session].units[u].seats for u in set(c.units))

    ranked = sorted(
        range(len(columns)),
        key=lambda n: (
            columns[n].key is None,
            columns[n].cost_cents / max(1, seats(columns[n])),
            -len(columns[n].units),
            n,
        ),
    )
    for n in ranked:
        c = columns[n]
        units = {(c.session, u) for u in c.units}
        if (
            not units <= open_units
            or units & carried
            or (c.key is not None and (c.session, c.key) in pins)
            or any(room[k] < 1 for k in limits_of[n])
        ):
            continue
        taken.add(n)
        carried |= units
        if c.key is not None:
            pins.add((c.session, c.key))
        for k in limits_of[n]:
            room[k] -= 1
    return taken, carried


def _cliques(items):
    """The maximal sets of [start, end) intervals that overlap at one moment (an interval graph's
    maximal cliques: at a start that is followed by an end); items are (interval, payload)."""
    events = []
    for n, ((start, end), _p) in enumerate(items):
        events.append((start, 1, n))
        events.append((end, 0, n))  # an end before a start at the same moment: no overlap
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    active: dict[int, object] = {}
    out = []
    for k, (_at, kind, n) in enumerate(events):
        if kind == 1:
            active[n] = items[n][1]
            if k + 1 == len(events) or events[k + 1][1] == 0:
                out.append(list(active.values()))
        else:
            active.pop(n, None)
    return out


def _max_overlap(intervals) -> int:
    return max((len(c) for c in _cliques([(iv, None) for iv in intervals])), default=0)


def _to_plan(s: _Session, cols: list[_Column], lost: list[int], optimal: bool, over_fleet: set[int]) -> Plan:
    req, lim = s.req, s.req.limits
    buses = []
    warnings = list(s.warnings)
    for c in sorted(cols, key=lambda c: (c.pickups[0] if c.pickups else req.starts_at, c.units)):
        stops = [
            PlannedStop(
                s.units[i].stop.booking_id,
                s.units[i].stop.school_id,
                s.units[i].seats,
                pickup_at=t,
                pinned=s.units[i].stop.pinned_bus is not None and not c.locked,
            )
            for i, t in zip(c.units, c.pickups, strict=True)
        ]
        merged: dict[int, PlannedStop] = {}
        for st in stops:  # parts of one class on the same bus are one stop
            if st.booking_id in merged:
                merged[st.booking_id].seats += st.seats
            else:
                merged[st.booking_id] = st
        bus = PlannedBus(
            c.type,
            list(merged.values()),
            key=c.key,
            locked=c.locked,
            arrives_at=req.starts_at - timedelta(minutes=lim.arrival_margin_minutes),
            departs_back_at=req.ends_at + timedelta(minutes=lim.return_after_minutes),
            km=round(2 * c.km, 2),
            ride_minutes=c.ride,
            busy_from=c.busy[0],
            busy_until=c.busy[1],
        )
        bus.cost = round(c.type.cost_per_trip + c.type.cost_per_km * bus.km, 2)
        buses.append(bus)
        first = bus.stops[0].booking_id if bus.stops else None
        if c.ride > lim.max_ride_minutes:
            warnings.append(
                PlanWarning("pin_breaks_rule" if c.pin_broken else "ride_over_limit", booking_id=first, minutes=c.ride)
            )
        elif c.pin_broken:
            warnings.append(PlanWarning("pin_breaks_rule", booking_id=first, minutes=c.ride))
        for i in sorted(set(c.moved)):
            st = s.units[i].stop
            t = c.pickups[c.units.index(i)]
            warnings.append(
                PlanWarning(
                    "pickup_moved",
                    booking_id=st.booking_id,
                    minutes=int(abs((st.announced_at - t).total_seconds()) // 60),
                )
            )
    unplanned: dict[int, int] = {}
    for u in lost:
        unplanned[s.units[u].stop.booking_id] = unplanned.get(s.units[u].stop.booking_id, 0) + s.units[u].seats
    for bid, seats in sorted(unplanned.items()):
        warnings.append(PlanWarning("no_bus", booking_id=bid, seats=seats))
    for t_id in sorted(over_fleet):
        warnings.append(PlanWarning("locked_over_fleet", type_id=t_id))
    return Plan(
        buses,
        "none" if not s.units else s.solver,
        _dedupe(warnings),
        [Unplanned(b, n, "fleet") for b, n in sorted(unplanned.items())],
        proven_optimal=optimal and s.solver == "exact",
    )


def _dedupe(warnings):
    seen, out = set(), []
    for w in warnings:
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


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
    big = 10**9
    for j in range(num):  # nothing leaves the venue
        dist_m[0][j] = big if j else 0

    manager = pywrapcp.RoutingIndexManager(num, len(vehicles), [1] * len(vehicles), [0] * len(vehicles))
    routing = pywrapcp.RoutingModel(manager)

    def arc_cb(per_km):  # cents: 2 × km × €/km × 100, registered as a matrix (no Python callback per arc)
        return routing.RegisterTransitMatrix([[int(d * per_km * 2 / 10) for d in row] for row in dist_m])

    callbacks: dict[int, int] = {}
    for v, (t, _key) in enumerate(vehicles):
        if t.id not in callbacks:
            callbacks[t.id] = arc_cb(t.cost_per_km)
        routing.SetArcCostEvaluatorOfVehicle(callbacks[t.id], v)
        routing.SetFixedCostOfVehicle(int(round(t.cost_per_trip * 100)), v)

    demand = routing.RegisterUnaryTransitCallback(
        lambda index: units[manager.IndexToNode(index) - 2].seats if manager.IndexToNode(index) >= 2 else 0
    )
    routing.AddDimensionWithVehicleCapacity(demand, 0, [t.seats for t, _ in vehicles], True, "seats")
    time_cb = routing.RegisterTransitMatrix(mins)
    routing.AddDimension(time_cb, 0, lim.max_ride_minutes, True, "ride")

    for node, u in enumerate(units, start=2):
        if u.stop.pinned_bus is not None:
            v = next(i for i, (_t, key) in enumerate(vehicles) if key == u.stop.pinned_bus)
            routing.VehicleVar(manager.NodeToIndex(node)).SetValues([v])
        else:  # a unit the fleet or the ride limit cannot take is left to the day's model
            routing.AddDisjunction([manager.NodeToIndex(node)], _UNPLANNED_CENTS)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    # greedy descent stops at its local optimum: deterministic (the same input, the same routes), unlike
    # a metaheuristic cut off by the clock; the time limit is only a safety net. Routing serves the
    # sessions too big to enumerate; the day's model then picks among its routes and single buses.
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    params.time_limit.FromMilliseconds(max(1000, int(lim.time_limit_seconds * 5000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None

    out = []
    for v, (t, key) in enumerate(vehicles):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        route, ids = [], []
        while not routing.IsEnd(index):
            u = units[manager.IndexToNode(index) - 2]
            ids.append(manager.IndexToNode(index) - 2)
            route.append(
                PlannedStop(u.stop.booking_id, u.stop.school_id, u.seats, pinned=u.stop.pinned_bus is not None)
            )
            index = solution.Value(routing.NextVar(index))
        if route:
            out.append(PlannedBus(t, _merge(route), key=key, units=ids))
    return out


def _greedy(units, req, metric, usable, keyed, types) -> list[PlannedBus]:
    """Farthest first: join a bus with room and ride time to spare, else open a new one."""
    max_ride = req.limits.max_ride_minutes
    largest = max(usable, key=lambda t: (t.seats, -t.cost_per_trip))
    buses: list[tuple[PlannedBus, list[StopRequest]]] = []
    for key in sorted({u.stop.pinned_bus for u in units if u.stop.pinned_bus is not None}):
        g = keyed.get(key)
        buses.append((PlannedBus(types[g.type_id] if g else largest, [], key=key), []))
    order = sorted(
        range(len(units)),
        key=lambda i: (
            units[i].stop.pinned_bus is None,
            -metric.minutes(units[i].stop, None),
            units[i].stop.booking_id,
            i,
        ),
    )
    for n in order:
        u = units[n]
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
        target[0].stops.append(
            PlannedStop(u.stop.booking_id, u.stop.school_id, u.seats, pinned=u.stop.pinned_bus is not None)
        )
        target[0].units.append(n)
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
