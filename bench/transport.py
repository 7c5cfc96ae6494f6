"""Bus planning on a busy week with the demo fleet per day: the day's model against its bounds.

The real primary schools of the Achterhoek (COROP 14, from the DUO files in data/) and
the demo region's four techlabs (Doetinchem, Winterswijk, Groenlo, Ulft). A busy week:
every school day, at every techlab, a morning and an afternoon session of 4–8 classes
drawn from the region's schools (nearer schools book more often), each class one groep
of its school (the school's DUO pupils / 8, ± 20 %). Only classes farther
than 6 km by road (great-circle × 1.3) need a bus. The region's contract is the demo's:
6 coaches of 50 seats (€ 180 per trip + € 1.90 per km) and 8 minibuses of 19 seats
(€ 95 + € 1.10 per km) per day. Every pupil and adult has a seat.

Per day (all sessions of the day planned together, planning.plan_day): classes needing a
bus, buses used, the most buses of a type on the road at once against the fleet (beyond
the fleet must be 0), classes without a bus (the shortfall the coordinator is shown),
rides over the limit (classes farther than the limit on their own), cost, and the CP-SAT
proof: the plan's objective against the solver's lower bound (every class has at least 10
seats, so no bus takes more than 5 classes: routes of up to 5 stops are all routes, and
the optimum is the model's true optimum). The same day with an unlimited fleet shows what
the fleet costs, and the same day when the coordinator takes the "hire" choice (the
contract's fleet first, hired buses of each type at € 300 / € 160 a trip on top: how many are
hired, classes still without a bus, cost). Churn (on the unlimited fleet, where most classes share): after the day is planned (its pickups announced), one class
cancels and one new class books; the re-plan is made holding the announced pickups
(hold="hard") and from scratch (hold="free"): schools moved by more than 5 minutes, and the
cost of holding.

    .venv/bin/python bench/transport.py [--seed 1] [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import sys
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.schools.geo import pc4_centroids  # noqa: E402
from app.timeutil import local_to_utc  # noqa: E402
from app.transport import planning  # noqa: E402
from app.transport.distance import road_km  # noqa: E402
from app.transport.eligibility import needs_bus  # noqa: E402
from bench.fairness import load_schools  # noqa: E402

TECHLABS = {
    "Techlab Doetinchem": "7001",
    "Techlab Winterswijk": "7101",
    "Techlab Groenlo": "7141",
    "Techlab Ulft": "7071",
}
TYPES = (
    planning.VehicleType(1, 50, 180.0, 1.9, available=6, name="Touringcar 50", carrier="Achterhoek Tours"),
    planning.VehicleType(2, 19, 95.0, 1.1, available=8, name="Minibus 19", carrier="Taxi Oost"),
)
# the shortfall's "hire" choice: extra buses of each type for the day at a hire price per trip (assumed
# € 300 a coach, € 160 a minibus, plus the type's price per km), as many as the day needs
HIRE = {1: 300.0, 2: 160.0}
HIRED = TYPES + tuple(
    planning.VehicleType(t.id, t.seats, HIRE[t.id], t.cost_per_km, 99, t.name, t.carrier, hired=True) for t in TYPES
)
UNLIMITED = tuple(
    planning.VehicleType(t.id, t.seats, t.cost_per_trip, t.cost_per_km, 99, t.name, t.carrier) for t in TYPES
)
FACTOR, THRESHOLD = 1.3, 6.0
TRIALS = 10  # churn: cancellation + new booking trials per day


def _dist(a, b, c, d):
    return road_km(a, b, c, d, FACTOR)


def busy_week(seed: int, parallel: int = 1):
    """The week's sessions; ``parallel`` > 1: that many sessions at once at each techlab and start
    (one trip: their classes may share a bus), the classes of a slot drawn as for one session and
    dealt over them."""
    rng = random.Random(seed)
    schools = {c: v for c, v in load_schools().items() if v[0] is not None}
    pc4 = pc4_centroids()
    venues = {name: pc4[code] for name, code in TECHLABS.items()}
    monday = date(2026, 3, 9)
    sessions = []
    for day in range(5):
        d = monday + timedelta(days=day)
        for name, (vlat, vlon) in venues.items():
            for start in (time(9, 0), time(13, 0)):
                codes = list(schools)
                weights = [1 / (1 + road_km(schools[c][0], schools[c][1], vlat, vlon, FACTOR) / 8) for c in codes]
                picked = set()
                while len(picked) < rng.randint(4, 8):
                    picked.add(rng.choices(codes, weights)[0])
                stops = []
                for i, code in enumerate(sorted(picked), start=1):
                    lat, lon, pupils = schools[code]
                    if not needs_bus(_dist(lat, lon, vlat, vlon), THRESHOLD):
                        continue
                    # one groep of the school (DUO pupils / 8, as the demo does), and two adults
                    size = max(8, min(32, round((pupils or 200) / 8 * rng.uniform(0.8, 1.2))))
                    stops.append(planning.StopRequest(len(sessions) * 100 + i, i, lat, lon, size + 2, name=code))
                starts = local_to_utc(d, start)
                for k in range(parallel):
                    sessions.append(
                        (
                            d,
                            name,
                            planning.PlanRequest(
                                vlat,
                                vlon,
                                starts,
                                starts + timedelta(hours=2, minutes=30),
                                tuple(stops[k::parallel]),
                                TYPES,
                                _dist,
                                trip=starts,  # one start and end: a trip with nearby venues (--detour)
                            ),
                        )
                    )
    return sessions


def _with(req, **kw):
    return dataclasses.replace(req, **kw)


def _peak(plans) -> dict[int, int]:
    """The most buses of each type on the road at one moment (busy from first pickup to back + turnaround)."""
    out = {}
    for t in TYPES:
        out[t.id] = planning._max_overlap(
            [(b.busy_from, b.busy_until) for p in plans for b in p.buses if b.type.id == t.id]
        )
    return out


def _is_shared(bus, plan, plans) -> bool:
    """A bus of ``plan`` listed as shared in another plan of the day."""
    return any(bus is x for q in plans if q is not plan for x in q.shared)


def _pickups(plans) -> dict[int, datetime]:
    out = {}
    for p in plans:
        for b in p.buses:
            for st in b.stops:
                out[st.booking_id] = min(st.pickup_at, out.get(st.booking_id, st.pickup_at))
    return out


def _churn(reqs, plans, rng, spare_stops, seconds):
    """One cancellation and one new booking on a planned day: (moved > 5 min held, moved free,
    cost held, cost free)."""
    told = _pickups(plans)
    reqs = [_with(r, stops=tuple(_with(s, announced_at=told.get(s.booking_id)) for s in r.stops)) for r in reqs]
    withs = [i for i, r in enumerate(reqs) if len(r.stops) >= 2]
    if not withs or not spare_stops:
        return None
    i = rng.choice(withs)
    gone = rng.choice(reqs[i].stops).booking_id
    reqs[i] = _with(reqs[i], stops=tuple(s for s in reqs[i].stops if s.booking_id != gone))
    j = rng.randrange(len(reqs))
    newcomer = rng.choice(spare_stops)
    reqs[j] = _with(reqs[j], stops=reqs[j].stops + (_with(newcomer, booking_id=10**6 + j, announced_at=None),))
    out = []
    for hold in ("hard", "free"):
        again = planning.plan_day([_with(r, hold=hold) for r in reqs])
        now = _pickups(again)
        moved = sum(1 for bid, at in told.items() if bid in now and abs(now[bid] - at) > timedelta(minutes=5))
        out += [moved, sum(p.total_cost for p in again)]
    return out[0], out[2], out[1], out[3]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument(
        "--detour", type=int, default=10, help="minutes' drive between two venues a shared bus may make (0: same venue)"
    )
    parser.add_argument(
        "--parallel", type=int, default=1, help="sessions at once per techlab and start (one trip: they may share)"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sessions = busy_week(args.seed, args.parallel)
    limits = planning.Limits(time_limit_seconds=args.seconds, share_detour_minutes=args.detour)
    days: dict = {}
    for d, _venue, req in sessions:
        days.setdefault(d, []).append(_with(req, limits=limits))
    spare = [s for _d, _v, r in sessions for s in r.stops]
    print(
        f"{len(sessions)} sessions at {len(TECHLABS)} techlabs in one week; fleet per day: "
        + ", ".join(f"{t.available} × {t.name}" for t in TYPES)
        + f"; a shared bus may drive {args.detour} min between two venues"
    )
    head = (
        f"{'day':<11}{'classes':>8}{'buses':>7}{'peak c/m':>10}{'beyond':>7}{'no bus':>7}{'>45min':>7}"
        f"{'cost EUR':>10}{'optimal':>8}{'gap EUR':>8}{'unlim. buses':>13}{'unlim. cost':>12}"
        f"{'hired':>6}{'no bus':>7}{'cost EUR':>9}{'moved held':>11}{'moved free':>11}{'hold +%':>8}{'time s':>7}"
        f"{'shared':>7}{'apart no bus':>13}{'apart unlim. buses':>19}{'apart unlim. cost':>18}"
    )
    print(head)
    tot = dict(
        hired=0,
        hnobus=0,
        hcost=0.0,
        classes=0,
        buses=0,
        beyond=0,
        nobus=0,
        over=0,
        cost=0.0,
        ubuses=0,
        ucost=0.0,
        mh=0,
        mf=0,
        ch=0.0,
        cf=0.0,
        time=0.0,
        optimal=0,
        days=0,
        shared=0,
        abuses=0,
        acost=0.0,
        anobus=0,
    )
    for d, reqs in sorted(days.items()):
        classes = sum(len({s.booking_id for s in r.stops}) for r in reqs)
        t0 = clock.perf_counter()
        plans = planning.plan_day(reqs)
        took = clock.perf_counter() - t0
        peak = _peak(plans)
        beyond = sum(max(0, peak[t.id] - t.available) for t in TYPES)
        nobus = sum(len(p.unplanned) for p in plans)
        over = sum(1 for p in plans for b in p.buses if b.ride_minutes > limits.max_ride_minutes)
        cost = sum(p.total_cost for p in plans)
        buses = sum(len(p.buses) for p in plans)
        optimal = all(p.proven_optimal for p in plans if p.solver != "none")
        # no bound when the limit came before CP-SAT's first solution (the rule-of-thumb plan)
        bound = plans[0].day_bound if plans else 0.0
        gap = plans[0].day_objective - bound if bound is not None else math.nan
        free = planning.plan_day([_with(r, types=UNLIMITED) for r in reqs])
        ubuses, ucost = sum(len(p.buses) for p in free), sum(p.total_cost for p in free)
        hired_plans = planning.plan_day([_with(r, types=HIRED) for r in reqs])
        hired = sum(1 for p in hired_plans for b in p.buses if b.type.hired)
        hnobus = sum(len(p.unplanned) for p in hired_plans)
        hcost = sum(p.total_cost for p in hired_plans)
        # the same day with every session planned on its own (no shared buses)
        # (the contract's fleet: classes without a bus; an unlimited fleet: buses and cost, every class carried)
        anobus = sum(len(p.unplanned) for p in planning.plan_day([_with(r, trip=None) for r in reqs]))
        apart = planning.plan_day([_with(r, trip=None, types=UNLIMITED) for r in reqs])
        abuses, acost = sum(len(p.buses) for p in apart), sum(p.total_cost for p in apart)
        shared = sum(1 for p in plans for b in p.buses if _is_shared(b, p, plans))
        # churn where classes share buses most: the same day with the unlimited fleet
        churn = [0, 0, 0.0, 0.0]
        for _trial in range(TRIALS):
            one = _churn([_with(r, types=UNLIMITED) for r in reqs], free, rng, spare, args.seconds) or (0, 0, 0.0, 0.0)
            churn = [a + b for a, b in zip(churn, one, strict=False)]
        hold_pct = 100 * (churn[2] - churn[3]) / churn[3] if churn[3] else 0.0
        print(
            f"{d.isoformat():<11}{classes:>8}{buses:>7}{str(peak[1]) + '/' + str(peak[2]):>10}{beyond:>7}"
            f"{nobus:>7}{over:>7}{cost:>10.0f}{'yes' if optimal else 'no':>8}{gap:>8.2f}{ubuses:>13}{ucost:>12.0f}"
            f"{hired:>6}{hnobus:>7}{hcost:>9.0f}{churn[0]:>11}{churn[1]:>11}{hold_pct:>8.1f}{took:>7.2f}"
            f"{shared:>7}{anobus:>13}{abuses:>19}{acost:>18.0f}"
        )
        for k, v in (
            ("classes", classes),
            ("buses", buses),
            ("beyond", beyond),
            ("nobus", nobus),
            ("over", over),
            ("cost", cost),
            ("ubuses", ubuses),
            ("ucost", ucost),
            ("hired", hired),
            ("hnobus", hnobus),
            ("hcost", hcost),
            ("mh", churn[0]),
            ("mf", churn[1]),
            ("ch", churn[2]),
            ("cf", churn[3]),
            ("time", took),
            ("optimal", int(optimal)),
            ("days", 1),
            ("shared", shared),
            ("abuses", abuses),
            ("acost", acost),
            ("anobus", anobus),
        ):
            tot[k] += v
    print(
        f"{'week':<11}{tot['classes']:>8}{tot['buses']:>7}{'':>10}{tot['beyond']:>7}{tot['nobus']:>7}"
        f"{tot['over']:>7}{tot['cost']:>10.0f}{str(tot['optimal']) + '/' + str(tot['days']):>8}{'':>8}"
        f"{tot['ubuses']:>13}{tot['ucost']:>12.0f}{tot['hired']:>6}{tot['hnobus']:>7}{tot['hcost']:>9.0f}"
        f"{tot['mh']:>11}{tot['mf']:>11}"
        f"{(100 * (tot['ch'] - tot['cf']) / tot['cf'] if tot['cf'] else 0):>8.1f}{tot['time']:>7.1f}"
        f"{tot['shared']:>7}{tot['anobus']:>13}{tot['abuses']:>19}{tot['acost']:>18.0f}"
    )
    print(
        "peak c/m: most coaches / minibuses on the road at once; beyond: buses beyond the fleet (must be 0); "
        "no bus: classes the fleet cannot carry (shown to the coordinator with choices); >45min: classes "
        "farther than the ride limit on their own; optimal/gap: CP-SAT proved the day's optimum (objective − "
        "bound); unlim.: the same day with an unlimited fleet; hired/no bus/cost: the fleet plus hired buses (the 'hire' "
        "choice); moved held/free: schools whose announced pickup "
        "moved > 5 min after one cancellation and one new booking (summed over 10 trials per day), holding the announced times or planning from "
        "scratch; hold +%: the cost of holding them; shared: buses carrying classes of several sessions of one "
        "trip (--parallel > 1: sessions at once at one techlab; --detour: techlabs this close); apart: every session planned on its own (no shared "
        "buses): classes without a bus on the contract's fleet, buses and cost with an unlimited fleet."
    )
    if tot["acost"]:
        print(
            f"sharing buses within a trip, unlimited fleet: {tot['ubuses']} buses € {tot['ucost']:.0f} against "
            f"{tot['abuses']} buses € {tot['acost']:.0f} apart ({100 * (tot['acost'] - tot['ucost']) / tot['acost']:.1f}% "
            f"saved); the contract's fleet: {tot['nobus']} classes without a bus against {tot['anobus']} apart"
        )


if __name__ == "__main__":
    main()
