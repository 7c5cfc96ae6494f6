"""Every path that gives a class a place goes through the one admission decision: a stateful test.

Hypothesis interleaves direct bookings (with and without the waiting list), series bookings,
cancellations (by teacher and coordinator), capacity changes, switching the priority window
off and on, coordinator moves, overrides, accepting and declining offered places and a round's
allocation through create_booking, on SQLite and PostgreSQL. After every step the invariants
are checked on the database:

* no session over its capacity, and its counters equal the sums of the places held;
* no class or school over a limit, except by a recorded override;
* while the priority window is on, no school that was already reached got a new place,
  except by override;
* every waiting class either may not be admitted now (a rule holds it back) or has no room.

The control case switches the rules off inside the gate (ADMISSION_BYPASS_RULES, as the old
promotion and round paths did) and shows the invariant check fail.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from app.auth.models import User
from app.booking.errors import BookingError
from app.booking.models import (
    ACTIVE,
    HOLDS_PLACE,
    Booking,
    BookingStatus,
    FairnessRule,
    RuleKind,
    RuleScope,
)
from app.booking.reached import REACHED
from app.booking.services import (
    ClassDetails,
    accept_offer,
    cancel_booking,
    change_capacity,
    create_booking,
    create_series_booking,
    decline_offer,
    move_booking,
    switch_rule_off,
)
from app.extensions import db
from app.labs.capacity import fits
from app.labs.models import Session
from app.timeutil import school_year_of
from tests import factories

NOW = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
MAX_SCHOOL, MAX_CLASS = 3, 2
CLASSES = ["7A", "7B"]
N_SCHOOLS = 4


def _world(app):
    """A region with rules, three single sessions (one inside the cancellation deadline), one
    three-part series, four schools (school 0 already reached this school year). Each example
    has a region of its own, so the examples need not empty the database between them."""
    region = factories.region()
    region.classes_per_school_session = 2
    venue = factories.venue(region)
    hotspot = factories.venue(region, name="Hotspot")
    offer = factories.offer(
        region, venue, capacity_classes=2, capacity_pupils=50, adults_per_class=0, groep_min=5, groep_max=8
    )
    singles = [factories.session(offer, NOW + timedelta(days=d)) for d in (5, 30, 31)]
    series = factories.series_offer(region, venue, hotspot, adults_per_class=0, capacity_classes=2, capacity_pupils=50)
    chain = [factories.session(series, NOW + timedelta(days=40 + 7 * i), part=p) for i, p in enumerate(series.parts)]
    schools = [factories.school(region) for _ in range(N_SCHOOLS)]
    teachers = [factories.teacher(s) for s in schools]
    coord = factories.user("coordinator", region=region, venues=[venue, hotspot])
    admin = factories.user("admin")
    past = factories.session(offer, NOW - timedelta(days=10))
    past.booked_classes, past.booked_pupils = 1, 20
    db.session.add(
        Booking(
            session_id=past.id,
            school_id=schools[0].id,
            status=BookingStatus.ATTENDED,
            groep_min=8,
            groep_max=8,
            class_name="8",
            pupils=20,
            adults=0,
        )
    )
    year = school_year_of(NOW)
    rules = [
        FairnessRule(
            region_id=region.id,
            school_year=year,
            kind=RuleKind.MAX_PER_SCHOOL,
            scope=RuleScope.YEAR,
            max_count=MAX_SCHOOL,
        ),
        FairnessRule(
            region_id=region.id,
            school_year=year,
            kind=RuleKind.MAX_PER_CLASS,
            scope=RuleScope.YEAR,
            max_count=MAX_CLASS,
        ),
        FairnessRule(
            region_id=region.id,
            school_year=year,
            kind=RuleKind.PRIORITY_WINDOW,
            window_start=NOW - timedelta(days=1),
            window_end=NOW + timedelta(days=120),
        ),
    ]
    db.session.add_all(rules)
    db.session.commit()
    return dict(
        singles=[s.id for s in singles],
        series_offer=series.id,
        chain=[s.id for s in chain],
        schools=[s.id for s in schools],
        teachers=[t.id for t in teachers],
        coord=coord.id,
        admin=admin.id,
        window=rules[2].id,
        past=past.id,
    )


OUTCOMES: Counter = Counter()  # what the steps did (shown with -s; a run where nothing is admitted proves little)


def _run(call):
    """One step = one unit of work: commit, or roll back a refusal."""
    try:
        call()
        db.session.commit()
        OUTCOMES["ok"] += 1
        return "ok"
    except BookingError as exc:
        db.session.rollback()
        OUTCOMES[exc.code] += 1
        return exc.code
    except DBAPIError:  # the database's backstop (a unique index, a check): also a refusal
        db.session.rollback()
        return "db"
    finally:
        db.session.remove()


def _ours(w):
    return Booking.session_id.in_(w["singles"] + w["chain"] + [w["past"]])


def _holding(w) -> dict[int, tuple[int, str]]:
    return {
        b.id: (b.school_id, b.override_reason)
        for b in db.session.scalars(select(Booking).where(Booking.status.in_(HOLDS_PLACE), _ours(w)))
    }


def _reached_ids(w) -> set[int]:
    return set(db.session.scalars(select(Booking.id).where(Booking.status.in_(REACHED), _ours(w))))


def check_invariants(w, before_holding, before_reached, window_on: bool) -> None:
    db.session.remove()
    sessions = db.session.scalars(select(Session).where(Session.id.in_(w["singles"] + w["chain"] + [w["past"]]))).all()
    for s in sessions:
        held = db.session.execute(
            select(func.count(Booking.id), func.coalesce(func.sum(Booking.pupils), 0)).where(
                Booking.session_id == s.id, Booking.status.in_(HOLDS_PLACE)
            )
        ).one()
        assert (s.booked_classes, s.booked_pupils) == tuple(held), f"counters drifted on session {s.id}"
        assert s.booked_classes <= s.capacity_classes and s.booked_pupils <= s.capacity_pupils, "over capacity"
    bookings = db.session.scalars(select(Booking).where(_ours(w), Booking.session_id != w["past"])).all()
    # limits, except by a recorded override (a series counts once)
    per_school, per_class = {}, {}
    for b in bookings:
        if b.status in HOLDS_PLACE and not b.override_reason:
            unit = ("series", b.series_id) if b.series_id else ("booking", b.id)
            per_school.setdefault(b.school_id, set()).add(unit)
            per_class.setdefault((b.school_id, b.class_name.lower()), set()).add(unit)
    assert all(len(u) <= MAX_SCHOOL for u in per_school.values()), "a school over its limit"
    assert all(len(u) <= MAX_CLASS for u in per_class.values()), "a class over its limit"
    # the priority window: no new place for a school that was (and still is) reached, except by override
    after_holding = _holding(w)
    reached_now = _reached_ids(w)
    reached_schools = {sid for bid, (sid, _o) in before_holding.items() if bid in before_reached and bid in reached_now}
    if window_on:
        for bid, (sid, override) in after_holding.items():
            if bid not in before_holding and not override:
                assert sid not in reached_schools, f"reached school {sid} got a place during the window"
    # every waiting class may not be admitted now, or has no room
    all_reached = {
        b.school_id for b in db.session.scalars(select(Booking).where(Booking.status.in_(REACHED), _ours(w)))
    }
    for b in bookings:
        if b.status != BookingStatus.WAITLISTED:
            continue
        s = b.session
        if not fits(s, b.pupils) or s.starts_at <= NOW:
            continue
        others = [o for o in bookings if o.id != b.id and o.status in ACTIVE and o.school_id == b.school_id]
        school_units = {("series", o.series_id) if o.series_id else ("booking", o.id) for o in others}
        class_units = {
            ("series", o.series_id) if o.series_id else ("booking", o.id)
            for o in others
            if o.class_name.lower() == b.class_name.lower()
        }
        over_limit = len(school_units) + 1 > MAX_SCHOOL or len(class_units) + 1 > MAX_CLASS
        same_session = [o for o in others if o.session_id == b.session_id]
        held_back = window_on and b.school_id in all_reached
        assert over_limit or held_back or len(same_session) >= 2, (
            f"waiting booking {b.id} could be admitted now and there is room"
        )
    db.session.remove()


class AdmissionMachine(RuleBasedStateMachine):
    app = None

    def __init__(self):
        super().__init__()
        self.w = _world(self.app)
        self.window_on = True
        self._before = ({}, set())
        db.session.remove()

    # ------------------------------------------------------------------ helpers
    def _snapshot(self):
        self._before = (_holding(self.w), _reached_ids(self.w))
        db.session.remove()

    def _user(self, key, i=None):
        uid = self.w[key][i] if i is not None else self.w[key]
        return db.session.get(User, uid)

    def _details(self, i, cls, pupils):
        return ClassDetails(self.w["schools"][i], "7", pupils, 0, class_name=CLASSES[cls])

    def _pick(self, statuses, k):
        ids = db.session.scalars(
            select(Booking.id)
            .where(Booking.status.in_(statuses), _ours(self.w), Booking.session_id != self.w["past"])
            .order_by(Booking.id)
        ).all()
        return ids[k % len(ids)] if ids else None

    # ------------------------------------------------------------------ steps
    @rule(
        i=st.integers(0, N_SCHOOLS - 1),
        s=st.integers(0, 2),
        cls=st.integers(0, 1),
        pupils=st.sampled_from([10, 25]),
        waitlist=st.booleans(),
    )
    def book(self, i, s, cls, pupils, waitlist):
        self._snapshot()
        _run(
            lambda: create_booking(
                self._user("teachers", i),
                self.w["singles"][s],
                self._details(i, cls, pupils),
                waitlist=waitlist,
                now=NOW,
            )
        )

    @rule(i=st.integers(0, N_SCHOOLS - 1), cls=st.integers(0, 1))
    def book_series(self, i, cls):
        self._snapshot()
        _run(
            lambda: create_series_booking(
                self._user("teachers", i), self.w["series_offer"], self.w["chain"], self._details(i, cls, 20), now=NOW
            )
        )

    @rule(i=st.integers(0, N_SCHOOLS - 1), s=st.integers(0, 2), cls=st.integers(0, 1))
    def round_allocation(self, i, s, cls):
        """A request round allocates through create_booking (no bypass of the rules)."""
        self._snapshot()
        _run(
            lambda: create_booking(
                self._user("teachers", i),
                self.w["singles"][s],
                self._details(i, cls, 20),
                waitlist=True,
                now=NOW,
                via_round=1,
            )
        )

    @rule(i=st.integers(0, N_SCHOOLS - 1), s=st.integers(0, 2), cls=st.integers(0, 1))
    def override(self, i, s, cls):
        self._snapshot()
        _run(
            lambda: create_booking(
                self._user("coord"),
                self.w["singles"][s],
                self._details(i, cls, 10),
                now=NOW,
                override_reason="Uitzondering in de test",
            )
        )

    @rule(k=st.integers(0, 50), by_coordinator=st.booleans())
    def cancel(self, k, by_coordinator):
        self._snapshot()
        bid = self._pick((BookingStatus.CONFIRMED, BookingStatus.WAITLISTED, BookingStatus.OFFERED), k)
        if bid is None:
            return
        b = db.session.get(Booking, bid)
        actor = self._user("coord") if by_coordinator else self._user("teachers", self.w["schools"].index(b.school_id))
        _run(lambda: cancel_booking(actor, bid, "Gaat niet door", now=NOW))

    @rule(s=st.integers(0, 2), classes=st.integers(1, 4), pupils=st.sampled_from([30, 50, 80]))
    def change_capacity(self, s, classes, pupils):
        self._snapshot()
        _run(lambda: change_capacity(self._user("coord"), self.w["singles"][s], pupils, classes, now=NOW))

    @rule()
    def window_off(self):
        self._snapshot()
        if _run(lambda: switch_rule_off(self._user("admin"), self.w["window"], now=NOW)) == "ok":
            self.window_on = False

    @rule()
    def window_on_again(self):
        self._snapshot()
        rule_ = db.session.get(FairnessRule, self.w["window"])
        rule_.active = True
        db.session.commit()
        db.session.remove()
        self.window_on = True

    @rule(k=st.integers(0, 50), s=st.integers(0, 2))
    def move(self, k, s):
        self._snapshot()
        bid = self._pick((BookingStatus.CONFIRMED, BookingStatus.WAITLISTED), k)
        if bid is None or db.session.get(Booking, bid).series_id is not None:
            db.session.remove()
            return
        _run(lambda: move_booking(self._user("coord"), bid, self.w["singles"][s], "Andere dag", now=NOW))

    @rule(k=st.integers(0, 50), accept=st.booleans())
    def answer_offer(self, k, accept):
        self._snapshot()
        bid = self._pick((BookingStatus.OFFERED,), k)
        if bid is None:
            db.session.remove()
            return
        b = db.session.get(Booking, bid)
        teacher = self._user("teachers", self.w["schools"].index(b.school_id))
        _run(lambda: (accept_offer if accept else decline_offer)(teacher, bid, now=NOW))

    def teardown(self):
        db.session.rollback()
        db.session.remove()

    @invariant()
    def holds(self):
        check_invariants(self.w, *self._before, self.window_on)


def test_admission_invariants_hold_on_every_path(app):
    AdmissionMachine.app = app
    OUTCOMES.clear()
    run_state_machine_as_test(
        AdmissionMachine,
        settings=settings(
            max_examples=8,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    print(dict(OUTCOMES))
    statuses = Counter(db.session.scalars(select(Booking.status)).all())
    print({k.value: v for k, v in statuses.items()})


def test_control_with_the_gate_bypassed_the_invariants_fail(app):
    """The same checks catch the old behaviour: rules skipped on a path (promotion, rounds)."""
    AdmissionMachine.app = app
    app.config["ADMISSION_BYPASS_RULES"] = True
    try:
        m = AdmissionMachine()
        # school 0 was reached this school year; the window is on: only the gate keeps it out
        m.book(0, 1, 0, 10, False)
        with pytest.raises(AssertionError, match="during the window"):
            m.holds()
    finally:
        app.config["ADMISSION_BYPASS_RULES"] = False
