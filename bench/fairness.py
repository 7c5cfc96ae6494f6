"""Simulation: first come, first served versus the platform's rules and allocation.

A region of real schools (the Achterhoek, COROP 14, from the DUO files in data/), skewed
demand — a few eager schools ask for most places, many ask once or not at all — and the
same capacity for both. First come, first served: requests arrive in order of eagerness
and take the first wish with room. The platform: at most 2 places per school, and the
request-round allocation (one place per school first by a maximum matching, then the rest;
schools reached least first, seeded lottery weighted by distance). Prints distinct schools
reached against the bound (a maximum matching of one wished place per school, computed here
on its own), pupils reached per groep, the Gini coefficient of places among the schools that
asked, unmet demand and granted first choices, for each seed.

    .venv/bin/python bench/fairness.py [--seeds 1 2 3]
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
    _, trows = read_rows(
        decode((ROOT / "data/duo/06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv").read_bytes())
    )
    pupils = {
        r["VESTIGINGSCODE"]: parse_count(r.get("LEERLINGEN 2025", ""))[0] for _, r in trows if "VESTIGINGSCODE" in r
    }
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
    for req, _groep, _ in order:
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
    return schools, ids, requests, {"first come, first served": fcfs, "platform rules + allocation": fair}, capacity


def matching_bound(requests, capacity) -> int:
    """Schools reachable at once: a maximum matching of schools to wished sessions (one class each)."""
    wished: dict[int, set[int]] = {}
    for req, _, _ in requests:
        for alts in req.wishes:
            for chain in alts:
                if len(chain) == 1:
                    wished.setdefault(req.school_id, set()).add(chain[0])
    slots = {s: c for s, (_, c) in capacity.items()}
    holder: dict[tuple[int, int], int] = {}  # (session, slot) -> school

    def augment(school, seen):
        for s in sorted(wished[school]):
            for k in range(slots.get(s, 0)):
                if (s, k) in seen:
                    continue
                seen.add((s, k))
                if (s, k) not in holder or augment(holder[(s, k)], seen):
                    holder[(s, k)] = school
                    return True
        return False

    return sum(1 for school in sorted(wished) if augment(school, set()))


def measures(schools, ids, requests, granted):
    per_school = {req.school_id: 0 for req, _, _ in requests}  # the schools that asked
    reached_groep = {g: 0 for g in range(5, 9)}
    enrolled_groep = {g: 0 for g in range(5, 9)}
    for _code, (_, _, pupils) in schools.items():
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
            f"{100 * reached_groep[g] / max(1, enrolled_groep[g]):.1f}%" for g in range(5, 9)
        ),
        "Gini of places among requesting schools": f"{gini(list(per_school.values())):.3f}",
        "most places of one school": max(per_school.values()),
        "unmet demand (requests not granted)": f"{len(requests) - len(granted)} of {len(requests)}",
        "granted first choices": sum(1 for r in granted.values() if r == 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()
    ok = True
    summary = []
    for seed in args.seeds:
        schools, ids, requests, results, capacity = simulate(seed)
        rows = {name: measures(schools, ids, requests, granted) for name, granted in results.items()}
        bound = matching_bound(requests, capacity)
        asking = len({req.school_id for req, _, _ in requests})
        print(
            f"fairness simulation: {len(schools)} real schools (Achterhoek), {asking} of them asking, "
            f"{len(requests)} requests, 60 sessions of 1 class, seed {seed}"
        )
        names = list(rows)
        print(f"| measure | {' | '.join(names)} |")
        print("|---|" + "---|" * len(names))
        for key in rows[names[0]]:
            print(f"| {key} | {' | '.join(str(rows[n][key]) for n in names)} |")
        a, b = rows[names[0]], rows[names[1]]
        gini_key = "Gini of places among requesting schools"
        seed_ok = (
            b["schools reached"] == bound
            and b["most places of one school"] <= 2
            and float(b[gini_key]) < float(a[gini_key])
        )
        ok = ok and seed_ok
        summary.append(
            f"| {seed} | {b['schools reached']} / {bound} | {a['schools reached']} | {b[gini_key]} | "
            f"{a[gini_key]} | {b['most places of one school']} |"
        )
        print(
            f"reached {b['schools reached']} of the bound {bound}; quota of 2 kept:",
            "yes" if b["most places of one school"] <= 2 else "NO",
            "\n",
        )
    print(
        "| seed | platform: schools reached / bound | first come, first served: reached | platform: Gini among "
        "requesting schools | first come, first served: Gini | platform: most places of one school |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(summary))
    print("platform reaches the bound with a lower Gini on every seed:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
