"""Bus planning on a busy week: shared routes (OR-Tools) versus one bus per school.

The real primary schools of the Achterhoek (COROP 14, from the DUO files in data/) and
the demo region's four techlabs (Doetinchem, Winterswijk, Groenlo, Ulft). A busy week:
every school day, at every techlab, a morning and an afternoon session of 4–8 classes
drawn from the region's schools (nearer schools book more often), each class one groep
of its school (the school's DUO pupils / 8, ± 20 %). Only classes farther
than 6 km by road (great-circle × 1.3) need a bus. The region's contract: a 50-seat
coach (€ 180 per trip + € 1.90 per km) and a 19-seat minibus (€ 95 + € 1.10 per km).
Every pupil and adult has a seat. Prints per plan the buses, seats, km, cost, the lower
bound on buses (ceil(seats / 50) per session) and the planning time.

    .venv/bin/python bench/transport.py [--seed 1] [--seconds 1.0]
"""
from __future__ import annotations

import argparse
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

TECHLABS = {"Techlab Doetinchem": "7001", "Techlab Winterswijk": "7101", "Techlab Groenlo": "7141",
            "Techlab Ulft": "7071"}
TYPES = (planning.VehicleType(1, 50, 180.0, 1.9, available=12, name="Touringcar 50", carrier="Achterhoek Tours"),
         planning.VehicleType(2, 19, 95.0, 1.1, available=16, name="Minibus 19", carrier="Taxi Oost"))
FACTOR, THRESHOLD = 1.3, 6.0


def _dist(a, b, c, d):
    return road_km(a, b, c, d, FACTOR)


def busy_week(seed: int):
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
                sessions.append((d, name, planning.PlanRequest(
                    vlat, vlon, starts, starts + timedelta(hours=2, minutes=30), tuple(stops), TYPES, _dist)))
    return sessions


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    sessions = busy_week(args.seed)
    totals = {k: {"buses": 0, "seats": 0, "capacity": 0, "km": 0.0, "cost": 0.0} for k in ("shared", "alone")}
    bound = classes = needing = 0
    solvers: dict[str, int] = {}
    times = []
    ride_ok = seats_ok = True
    for _d, _venue, req in sessions:
        req = planning.PlanRequest(req.venue_lat, req.venue_lon, req.starts_at, req.ends_at, req.stops, req.types,
                                   req.distance_km, planning.Limits(time_limit_seconds=args.seconds))
        needing += len(req.stops)
        if not req.stops:
            continue
        t0 = clock.perf_counter()
        shared = planning.plan(req)
        times.append(clock.perf_counter() - t0)
        solvers[shared.solver] = solvers.get(shared.solver, 0) + 1
        alone = planning.one_bus_per_school(req)
        bound += planning.lower_bound_buses(req)
        for key, p in (("shared", shared), ("alone", alone)):
            t = totals[key]
            t["buses"] += len(p.buses)
            t["seats"] += p.seats_taken
            t["capacity"] += sum(b.type.seats for b in p.buses)
            t["km"] += p.total_km
            t["cost"] += p.total_cost
        for b in shared.buses:
            seats_ok &= b.seats_taken <= b.type.seats
            ride_ok &= b.ride_minutes <= req.limits.max_ride_minutes or len(b.stops) == 1
    print(f"{len(sessions)} sessions at {len(TECHLABS)} techlabs in one week; {needing} classes need a bus "
          f"(> {THRESHOLD:.0f} km by road); solver: {solvers}")
    print(f"lower bound on buses (ceil(seats / 50) per session): {bound}")
    print(f"{'measure':<28}{'shared routes (OR-Tools)':>26}{'one bus per school':>22}")
    s, a = totals["shared"], totals["alone"]
    print(f"{'buses':<28}{s['buses']:>26}{a['buses']:>22}")
    print(f"{'seats used / seats':<28}{str(s['seats']) + ' / ' + str(s['capacity']):>26}"
          f"{str(a['seats']) + ' / ' + str(a['capacity']):>22}")
    print(f"{'km (there and back)':<28}{s['km']:>26.0f}{a['km']:>22.0f}")
    print(f"{'cost (EUR)':<28}{s['cost']:>26.0f}{a['cost']:>22.0f}")
    print(f"planning time: total {sum(times):.1f} s, per session mean {sum(times) / max(1, len(times)):.2f} s, "
          f"max {max(times or [0]):.2f} s; every bus within its seats: {seats_ok}; shared rides within "
          f"{planning.Limits().max_ride_minutes} min: {ride_ok}")


if __name__ == "__main__":
    main()
