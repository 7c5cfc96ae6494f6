"""Simulation: first come, first served versus the platform's rules and allocation.

A region of real schools (the Achterhoek, COROP 14, from the DUO files in data/), skewed
demand — a few eager schools ask for most places, many ask once or not at all — and the
same capacity for both. First come, first served: requests arrive in order of eagerness
and take the first wish with room. The platform: at most 2 places per school, and the
request-round allocation (schools reached least first, seeded lottery weighted by
distance). Prints distinct schools reached, pupils reached per groep, the Gini coefficient
of places per school, unmet demand and granted first choices.

    .venv/bin/python bench/fairness.py [--seed 1]
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.booking.allocation import RequestIn, SchoolIn, allocate, gini  # noqa: E402
from app.schools.duo import column_map, decode, parse_count, read_rows  # noqa: E402
from app.schools.enrolment import even_split  # noqa: E402
from app.schools.geo import pc4_centroids  # noqa: E402
from app.transport.distance import road_km  # noqa: E402

LABS = [(51.9662, 6.2913), (51.9712, 6.7234), (52.0412, 6.6116), (51.8917, 6.3771)]


def load_schools():
    header, rows = read_rows(decode((ROOT / "data/duo/02.-alle-schoolvestigingen-basisonderwijs.csv").read_bytes()))
    cols = column_map(header)
    pc4 = pc4_centroids()
    schools = {}
    for _, row in rows:
        if row.get(cols["corop_code"]) != "14":
            continue
        lat, lon = pc4.get(row[cols["postcode"]][:4], (None, None))
        schools[row[cols["location"]]] = (lat, lon)
    _, trows = read_rows(decode((ROOT / "data/duo/06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv")
                                .read_bytes()))
    pupils = {r["VESTIGINGSCODE"]: parse_count(r.get("LEERLINGEN 2025", ""))[0] for _, r in trows if "VESTIGINGSCODE" in r}
    return {code: (lat, lon, pupils.get(code, 200)) for code, (lat, lon) in sorted(schools.items())}


def simulate(seed: int):
    rng = random.Random(seed)
    schools = load_schools()
    codes = list(schools)
    ids = {c: i for i, c in enumerate(codes, start=1)}
    n_sessions = 60
    capacity = {s: (30, 1) for s in range(1, n_sessions + 1)}
    # skewed demand: 10 % eager (5–8 requests), 35 % once, the rest never
    requests, rid = [], 0
    eagerness = {}
    for c in codes:
        r = rng.random()
        n = rng.randint(5, 8) if r < 0.10 else (1 if r < 0.45 else 0)
        eagerness[c] = r
        for _ in range(n):
            rid += 1
            groep = rng.randint(5, 8)
            wishes = tuple(((rng.randint(1, n_sessions),),) for _ in range(3))
            requests.append((RequestIn(rid, ids[c], 25, wishes), groep, eagerness[c]))
    # first come, first served: the eager ones are first at the door
    order = sorted(requests, key=lambda t: (t[2], rng.random()))
    left = {s: [p, c] for s, (p, c) in capacity.items()}
    fcfs = {}
    for req, groep, _ in order:
        for rank, alts in enumerate(req.wishes, start=1):
            s = alts[0][0]
            if left[s][1] >= 1 and left[s][0] >= req.pupils:
                left[s][0] -= req.pupils
                left[s][1] -= 1
                fcfs[req.id] = rank
                break
    # the platform: quota of 2 places per school and the fair allocation
    info = {}
    for c in codes:
        lat, lon, _ = schools[c]
        dist = min((road_km(lat, lon, la, lo) or 0) for la, lo in LABS) if lat else 0
        info[ids[c]] = SchoolIn(reached_before=0, distance_km=dist, quota_left=2)
    result = allocate([r for r, _, _ in requests], capacity, info, f"sim-{seed}", w_distance=1.0)
    fair = {o.request_id: o.rank for o in result.granted()}
    return schools, ids, requests, {"first come, first served": fcfs, "platform rules + allocation": fair}


def measures(schools, ids, requests, granted):
    per_school = {i: 0 for i in ids.values()}
    reached_groep = {g: 0 for g in range(5, 9)}
    enrolled_groep = {g: 0 for g in range(5, 9)}
    for code, (_, _, pupils) in schools.items():
        split = even_split(pupils)
        for g in range(5, 9):
            enrolled_groep[g] += split[g - 1]
    seen_class = set()
    for req, groep, _ in requests:
        if req.id in granted:
            per_school[req.school_id] += 1
            if (req.school_id, groep) not in seen_class:
                seen_class.add((req.school_id, groep))
                reached_groep[groep] += req.pupils
    return {
        "schools reached": sum(1 for v in per_school.values() if v),
        "pupils reached per groep (5/6/7/8)": " / ".join(
            f"{100 * reached_groep[g] / max(1, enrolled_groep[g]):.1f}%" for g in range(5, 9)),
        "Gini of places per school": f"{gini(list(per_school.values())):.3f}",
        "unmet demand (requests not granted)": f"{len(requests) - len(granted)} of {len(requests)}",
        "granted first choices": sum(1 for r in granted.values() if r == 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    schools, ids, requests, results = simulate(args.seed)
    rows = {name: measures(schools, ids, requests, granted) for name, granted in results.items()}
    print(f"fairness simulation: {len(schools)} real schools (Achterhoek), {len(requests)} requests, "
          f"60 sessions of 1 class, seed {args.seed}")
    names = list(rows)
    print(f"| measure | {' | '.join(names)} |")
    print("|---|" + "---|" * len(names))
    for key in rows[names[0]]:
        print(f"| {key} | {' | '.join(str(rows[n][key]) for n in names)} |")
    a, b = rows[names[0]], rows[names[1]]
    ok = b["schools reached"] > a["schools reached"] and float(b["Gini of places per school"]) < float(
        a["Gini of places per school"])
    print("platform reaches more schools with a lower Gini:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
