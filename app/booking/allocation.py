"""Fair allocation of a request round: a pure, reproducible function of its inputs.

Order: schools reached least so far come first — counting what they had before the
round plus what they were granted in it — and within the same count a weighted lottery
decides (Efraimidis–Spirakis keys u^(1/w) from ``random.Random(seed)``), with weights
favouring schools far from the venues and schools with a high CBS weight. Each request
gets its best-ranked wish that still fits (capacity in pupils and classes, the school's
remaining quota, one booking per school per session, every part of a series); requests
that fit nowhere go to the waiting list of their first wish. The same inputs and seed
always give the same result, and every outcome carries its explanation.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestIn:
    id: int
    school_id: int
    pupils: int
    # per rank: alternatives, each a chain of session ids (one for a plain session, the parts for a series)
    wishes: tuple[tuple[tuple[int, ...], ...], ...]


@dataclass(frozen=True)
class SchoolIn:
    reached_before: int = 0  # places (or series) the school already had this school year
    distance_km: float = 0.0
    cbs_weight: float = 0.0
    quota_left: int | None = None  # places it may still get (None: no limit)


@dataclass
class Outcome:
    request_id: int
    school_id: int
    status: str  # granted, waitlisted, refused
    rank: int | None = None
    sessions: tuple[int, ...] = ()
    priority: float = 0.0
    order: int = 0
    explanation: str = ""


@dataclass
class Allocation:
    seed: str
    outcomes: dict[int, Outcome] = field(default_factory=dict)

    def granted(self):
        return [o for o in self.outcomes.values() if o.status == "granted"]


def lottery_weight(school: SchoolIn, w_distance: float, w_cbs: float) -> float:
    return 1.0 + w_distance * min(school.distance_km / 20.0, 1.5) + w_cbs * max(0.0, school.cbs_weight)


def allocate(requests: list[RequestIn], capacity: dict[int, tuple[int, int]], schools: dict[int, SchoolIn],
             seed: str, *, w_distance: float = 0.0, w_cbs: float = 0.0,
             already: set[tuple[int, int]] = frozenset()) -> Allocation:
    """Allocate; ``capacity`` maps session id to free (pupils, classes); ``already`` holds (school, session) taken."""
    rng = random.Random(seed)
    left = {sid: [p, c] for sid, (p, c) in sorted(capacity.items())}
    taken = set(already)
    granted_now: dict[int, int] = {}
    quota = {sid: s.quota_left for sid, s in schools.items()}
    keys = {}
    for r in sorted(requests, key=lambda r: r.id):
        w = lottery_weight(schools.get(r.school_id, SchoolIn()), w_distance, w_cbs)
        u = rng.random() or 1e-12
        keys[r.id] = math.log(u) / w  # log of u^(1/w): larger is earlier
    result = Allocation(seed)
    pending = {r.id: r for r in requests}
    order = 0
    while pending:
        def rank_key(r: RequestIn):
            s = schools.get(r.school_id, SchoolIn())
            return (s.reached_before + granted_now.get(r.school_id, 0), -keys[r.id], r.id)

        r = min(pending.values(), key=rank_key)
        del pending[r.id]
        order += 1
        s = schools.get(r.school_id, SchoolIn())
        base = Outcome(r.id, r.school_id, "refused", priority=round(keys[r.id], 6), order=order)
        count = s.reached_before + granted_now.get(r.school_id, 0)
        if quota.get(r.school_id) is not None and quota[r.school_id] <= 0:
            base.explanation = "quota: the school has reached its maximum number of bookings"
            _waitlist(base, r)
            result.outcomes[r.id] = base
            continue
        reasons = []
        for rank, alternatives in enumerate(r.wishes, start=1):
            for chain in alternatives:
                why = _fits(chain, r, left, taken)
                if why:
                    reasons.append(f"wish {rank}: {why}")
                    continue
                for sid in chain:
                    left[sid][0] -= r.pupils
                    left[sid][1] -= 1
                    taken.add((r.school_id, sid))
                granted_now[r.school_id] = granted_now.get(r.school_id, 0) + 1
                if quota.get(r.school_id) is not None:
                    quota[r.school_id] -= 1
                base.status, base.rank, base.sessions = "granted", rank, tuple(chain)
                base.explanation = (f"granted wish {rank} as number {order} in the order "
                                    f"(school had {count} place(s) before; lottery key {base.priority})")
                break
            if base.status == "granted":
                break
        if base.status != "granted":
            base.explanation = "no wish had room when it was this request's turn (" + "; ".join(sorted(set(reasons))[:3]) + ")"
            _waitlist(base, r)
        result.outcomes[r.id] = base
    return result


def _waitlist(outcome: Outcome, r: RequestIn) -> None:
    first = r.wishes[0][0] if r.wishes and r.wishes[0] else ()
    if len(first) == 1:
        outcome.status, outcome.sessions = "waitlisted", first
        outcome.explanation += "; put on the waiting list of the first wish"


def _fits(chain, r: RequestIn, left, taken) -> str:
    for sid in chain:
        if sid not in left:
            return "session not available"
        if (r.school_id, sid) in taken:
            return "school already has this session"
        p, c = left[sid]
        if p < r.pupils or c < 1:
            return "full"
    return ""


def gini(values: list[float]) -> float:
    """Gini coefficient (0 = equal, 1 = one has all) of non-negative values."""
    xs = sorted(values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0.0
    cum = sum((i + 1) * x for i, x in enumerate(xs))
    return (2 * cum) / (n * total) - (n + 1) / n
