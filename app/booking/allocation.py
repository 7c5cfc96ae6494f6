"""Fair allocation of a request round: a pure, reproducible function of its inputs.

Each school draws one lottery number from ``random.Random(seed)`` (Efraimidis–Spirakis
``u^(1/w)``, weights favouring schools far from the venues and schools with a high CBS
weight). The priority order: schools reached least so far first (before the round plus
what they won in it), then the higher lottery number.

1. **One place per school first**: a maximum matching of schools to wished places
   (sessions with free classes and pupils), built in priority order with augmenting paths
   (Kuhn). Processing in priority order makes the matched set the best one by priority
   among all maximum matchings (the schools that can be matched form a matroid), so the
   round reaches as many distinct schools as the wishes and the capacity allow, and
   where not every school can be reached the ones reached least and then the lottery
   decide. A wish that is a series (several sessions) is not part of the matching; a
   school that could not be matched gets its series afterwards, in priority order.
2. **Then the rest** in the priority order, each request taking its best-ranked wish
   that still fits.

Every grant obeys what a direct booking obeys: capacity (pupils and classes), one booking
per school per session (also against bookings the school already has), the limits per
school and per class (counting what the school or class already holds in the rule's scope
plus what it won earlier in this run; a series counts once, against its first part) and
the priority window (a school reached before, or in this run, is held back). Outcomes
carry a language-free code and parameters; the pages render them in the reader's language.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Hashable


@dataclass(frozen=True)
class RequestIn:
    id: int
    school_id: int
    pupils: int
    # per rank: alternatives, each a chain of session ids (one for a plain session, the parts for a series)
    wishes: tuple[tuple[tuple[int, ...], ...], ...]
    groep: tuple[int, int] = (0, 0)  # the class; per-class limits count bookings of overlapping groepen


@dataclass(frozen=True)
class SchoolIn:
    reached_before: int = 0  # places (or series) the school already had this school year
    distance_km: float = 0.0
    cbs_weight: float = 0.0
    quota_left: int | None = None  # places it may still get in this run, whatever the session (None: no limit)


@dataclass(eq=False)
class LimitIn:
    """A limit per school (or per class) of a rule: at most ``max_count`` bookings per group of sessions.

    ``groups`` maps each session the rule applies to onto its group (``None`` for the whole
    scope, the offer for "each offer separately"); ``used`` holds, per (group, request id),
    what the school (or the request's class) already holds in that group.
    """

    rule_id: int
    code: str
    max_count: int
    per_class: bool
    groups: dict[int, Hashable]
    used: dict[tuple[Hashable, int], int] = field(default_factory=dict)


@dataclass(eq=False)
class WindowIn:
    """A priority window in force: ``blocked`` schools (reached already) get no place in ``sessions``."""

    rule_id: int
    until: str  # shown to the reader (ISO date)
    sessions: frozenset[int] | None  # None: every session
    blocked: frozenset[int] = frozenset()
    by_share: bool = False  # held back by a share of pupils reached: a grant in the run does not decide it


@dataclass
class Outcome:
    request_id: int
    school_id: int
    status: str  # granted, waitlisted, refused
    rank: int | None = None
    sessions: tuple[int, ...] = ()
    priority: float = 0.0  # the school's lottery number u^(1/w), in (0, 1]: higher goes first
    order: int = 0
    code: str = ""  # granted, waitlisted_no_room, no_room, no_session, priority_window, quota_*, already
    params: dict = field(default_factory=dict)
    phase: int = 0  # 1: the school's first place (matching), 2: the rest

    @property
    def explanation(self) -> str:
        """A short technical summary (logs and the bench; pages render ``code`` and ``params``)."""
        return f"{self.code} {self.params}" if self.params else self.code


@dataclass
class Allocation:
    seed: str
    outcomes: dict[int, Outcome] = field(default_factory=dict)

    def granted(self):
        return [o for o in self.outcomes.values() if o.status == "granted"]


def lottery_weight(school: SchoolIn, w_distance: float, w_cbs: float) -> float:
    return 1.0 + w_distance * min(school.distance_km / 20.0, 1.5) + w_cbs * max(0.0, school.cbs_weight)


_CAPACITY_REASONS = ("full", "unavailable", "already")


class _State:
    def __init__(self, requests, capacity, schools, limits, windows, already):
        self.left = {sid: [p, c] for sid, (p, c) in sorted(capacity.items())}
        self.taken = set(already)
        self.schools = schools
        self.limits = list(limits)
        self.windows = list(windows)
        self.granted_now: dict[int, int] = {}
        self.grants: list[tuple[int, tuple[int, int], int]] = []  # (school, groep, first session)

    def school(self, school_id: int) -> SchoolIn:
        return self.schools.get(school_id, SchoolIn())

    def fits(self, chain, r: RequestIn) -> str:
        for sid in chain:
            if sid not in self.left:
                return "unavailable"
            if (r.school_id, sid) in self.taken:
                return "already"
            p, c = self.left[sid]
            if p < r.pupils or c < 1:
                return "full"
        return ""

    def rule_blocks(self, chain, r: RequestIn) -> tuple[str, dict] | None:
        first = chain[0]
        mine = [g for g in self.grants if g[0] == r.school_id]
        for w in self.windows:
            if w.sessions is not None and first not in w.sessions:
                continue
            if r.school_id in w.blocked or (not w.by_share and mine):
                return "priority_window", {"rule": w.rule_id, "until": w.until}
        s = self.school(r.school_id)
        if s.quota_left is not None and s.quota_left - self.granted_now.get(r.school_id, 0) <= 0:
            return "quota_school", {
                "max": s.quota_left + s.reached_before,
                "n": s.reached_before + self.granted_now.get(r.school_id, 0),
            }
        for lim in self.limits:
            if first not in lim.groups:
                continue
            g = lim.groups[first]
            won = sum(
                1
                for school, groep, f in mine
                if lim.groups.get(f, _MISSING) == g
                and (not lim.per_class or (groep[0] <= r.groep[1] and groep[1] >= r.groep[0]))
            )
            used = lim.used.get((g, r.id), 0) + won
            if used + 1 > lim.max_count:
                return lim.code, {"rule": lim.rule_id, "n": used, "max": lim.max_count}
        return None

    def why_not(self, chain, r: RequestIn) -> tuple[str, dict] | None:
        """The rule that refuses this chain (named first: it is what the teacher must know), else no room."""
        rule = self.rule_blocks(chain, r)
        if rule is not None:
            return rule
        why = self.fits(chain, r)
        return (why, {}) if why else None

    def take(self, chain, r: RequestIn) -> None:
        for sid in chain:
            self.left[sid][0] -= r.pupils
            self.left[sid][1] -= 1
            self.taken.add((r.school_id, sid))
        self.granted_now[r.school_id] = self.granted_now.get(r.school_id, 0) + 1
        self.grants.append((r.school_id, r.groep, chain[0]))


_MISSING = object()


def allocate(
    requests: list[RequestIn],
    capacity: dict[int, tuple[int, int]],
    schools: dict[int, SchoolIn],
    seed: str,
    *,
    w_distance: float = 0.0,
    w_cbs: float = 0.0,
    already: set[tuple[int, int]] = frozenset(),
    limits: list[LimitIn] = (),
    windows: list[WindowIn] = (),
) -> Allocation:
    """Allocate; ``capacity`` maps session id to free (pupils, classes); ``already`` holds (school, session) taken."""
    requests = sorted(requests, key=lambda r: r.id)
    st = _State(requests, capacity, schools, limits, windows, already)
    rng = random.Random(seed)
    lottery = {}
    for school_id in sorted({r.school_id for r in requests}):
        w = lottery_weight(st.school(school_id), w_distance, w_cbs)
        u = rng.random() or 1e-12
        lottery[school_id] = math.exp(math.log(u) / w)  # u^(1/w): larger is earlier

    def school_key(school_id: int):
        return (st.school(school_id).reached_before + st.granted_now.get(school_id, 0), -lottery[school_id], school_id)

    result = Allocation(seed)
    order = 0

    def grant(r: RequestIn, rank: int, chain, phase: int) -> None:
        nonlocal order
        order += 1
        before = st.school(r.school_id).reached_before + st.granted_now.get(r.school_id, 0)
        st.take(chain, r)
        result.outcomes[r.id] = Outcome(
            r.id,
            r.school_id,
            "granted",
            rank=rank,
            sessions=tuple(chain),
            priority=round(lottery[r.school_id], 6),
            order=order,
            code="granted",
            phase=phase,
            params={"rank": rank, "order": order, "lottery": round(lottery[r.school_id], 6), "before": before},
        )

    # 1. one place per school: a maximum matching in priority order (augmenting paths)
    by_school: dict[int, list[RequestIn]] = {}
    for r in requests:
        by_school.setdefault(r.school_id, []).append(r)
    priority_schools = sorted(by_school, key=school_key)
    edges: dict[int, list[tuple[RequestIn, int, int]]] = {}
    for school_id in priority_schools:
        options = []
        for rank in range(1, 1 + max(len(r.wishes) for r in by_school[school_id])):
            for r in by_school[school_id]:
                if rank > len(r.wishes):
                    continue
                for chain in r.wishes[rank - 1]:
                    if len(chain) == 1 and st.why_not(chain, r) is None:
                        options.append((r, rank, chain[0]))
        edges[school_id] = options
    placed: dict[int, list[tuple[int, RequestIn, int]]] = {}  # session -> [(school, request, rank)]
    match: dict[int, tuple[RequestIn, int, int]] = {}  # school -> (request, rank, session)

    def room(sid: int, pupils: int, freed: int = 0, freed_classes: int = 0) -> bool:
        p, c = st.left[sid]
        here = placed.get(sid, [])
        return (p - sum(x[1].pupils for x in here) + freed >= pupils) and (c - len(here) + freed_classes >= 1)

    def place(school_id, r, rank, sid):
        placed.setdefault(sid, []).append((school_id, r, rank))
        match[school_id] = (r, rank, sid)

    def unplace(school_id):
        r, rank, sid = match.pop(school_id)
        placed[sid] = [x for x in placed[sid] if x[0] != school_id]
        return r, rank, sid

    def augment(school_id: int, visited: set[int]) -> bool:
        for r, rank, sid in edges[school_id]:
            if sid in visited:
                continue
            visited.add(sid)
            if room(sid, r.pupils):
                place(school_id, r, rank, sid)
                return True
            for other, rv, rank_v in list(placed.get(sid, [])):
                if not room(sid, r.pupils, rv.pupils, 1):
                    continue
                unplace(other)
                if augment(other, visited):
                    place(school_id, r, rank, sid)
                    return True
                place(other, rv, rank_v, sid)
        return False

    for school_id in priority_schools:
        augment(school_id, set())
    for school_id in priority_schools:  # the order numbers follow the priority order
        if school_id in match:
            r, rank, sid = match[school_id]
            grant(r, rank, (sid,), 1)
    for school_id in priority_schools:  # a school not matched may still get a series it wished for
        if school_id in match:
            continue
        done = False
        for r in by_school[school_id]:
            for rank, alternatives in enumerate(r.wishes, start=1):
                chain = next((c for c in alternatives if len(c) > 1 and st.why_not(c, r) is None), None)
                if chain is not None:
                    grant(r, rank, chain, 1)
                    done = True
                    break
            if done:
                break

    # 2. the rest, in the priority order (reached least first, then the lottery)
    pending = {r.id: r for r in requests if r.id not in result.outcomes}
    while pending:
        r = min(pending.values(), key=lambda q: (school_key(q.school_id), q.id))
        del pending[r.id]
        reasons = []
        for rank, alternatives in enumerate(r.wishes, start=1):
            for chain in alternatives:
                why = st.why_not(chain, r)
                if why is None:
                    grant(r, rank, chain, 2)
                    break
                reasons.append((rank, chain, why))
            if r.id in result.outcomes:
                break
        if r.id not in result.outcomes:
            result.outcomes[r.id] = _not_granted(r, reasons, lottery[r.school_id])
    return result


def _not_granted(r: RequestIn, reasons, lottery: float) -> Outcome:
    """Why nothing fitted: no room (waiting list of the first full wish), else the first rule that refused."""
    out = Outcome(r.id, r.school_id, "refused", priority=round(lottery, 6))
    full = [chain for _, chain, why in reasons if why[0] == "full"]
    rules = [(rank, chain, why) for rank, chain, why in reasons if why[0] not in _CAPACITY_REASONS]
    if not reasons:
        out.code = "no_session"
    elif full:
        out.code = "waitlisted_no_room" if len(full[0]) == 1 else "no_room"
        if len(full[0]) == 1:
            out.status, out.sessions = "waitlisted", full[0]
    elif rules:
        rank, chain, (code, params) = rules[0]
        out.code, out.params = code, dict(params, rank=rank)
        if code == "priority_window" and len(chain) == 1:
            out.status, out.sessions = "waitlisted", chain  # the gate holds it back on the waiting list
    else:
        out.code = "already"
    out.params.setdefault("lottery", round(lottery, 6))
    return out


def gini(values: list[float]) -> float:
    """Gini coefficient (0 = equal, 1 = one has all) of non-negative values."""
    xs = sorted(values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0.0
    cum = sum((i + 1) * x for i, x in enumerate(xs))
    return (2 * cum) / (n * total) - (n + 1) / n
