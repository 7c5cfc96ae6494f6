"""Request rounds obey the rules: their own period, the limits, the window; one place per school first; Dutch outcomes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.booking import rounds as round_service
from app.booking.allocation import LimitIn, RequestIn, SchoolIn, WindowIn, allocate
from app.booking.errors import InvalidInput, Refused
from app.booking.models import Booking, BookingStatus, FairnessRule, RequestRound, RuleKind, RuleScope
from app.booking.rounds import commit_round, create_round, describe_outcome, submit_request
from app.booking.services import ClassDetails, create_booking
from app.extensions import db
from app.timeutil import school_year_of, to_local
from app.transport.models import BusPlan, PlanStatus
from tests import factories

NOW = datetime.now(timezone.utc).replace(microsecond=0)
YEAR = school_year_of(NOW)
ALLOCATE_AT = NOW + timedelta(days=1)  # the round's deadline: the moment of allocation


def _setup(capacity_classes=1, n_offers=2, days=(30, 31)):
    region = factories.region()
    venue = factories.venue(region)
    offers = [
        factories.offer(
            region, venue, capacity_classes=capacity_classes, capacity_pupils=30 * capacity_classes, adults_per_class=0
        )
        for _ in range(n_offers)
    ]
    sessions = {(i, d): factories.session(o, NOW + timedelta(days=d)) for i, o in enumerate(offers) for d in days}
    leader = factories.user("programme_leader", region=region)
    return region, venue, offers, sessions, leader


def _round(leader, start_days=14, end_days=60, title="Voorjaar 2027"):
    return create_round(
        leader,
        title=title,
        opens_at=NOW - timedelta(days=1),
        deadline_at=ALLOCATE_AT,
        school_year=YEAR,
        period_start=(NOW + timedelta(days=start_days)).date(),
        period_end=(NOW + timedelta(days=end_days)).date(),
    )


def _rule(region, kind, scope=RuleScope.YEAR, **kw):
    rule = FairnessRule(region_id=region.id, school_year=YEAR, kind=kind, scope=scope, **kw)
    db.session.add(rule)
    db.session.flush()
    return rule


def _ask(teacher, rnd, offers, groep="7"):
    return submit_request(
        teacher, rnd.id, groep=groep, pupils=20, adults=0, wishes=[(o.id, None) for o in offers], now=NOW
    )


def _bookings(school=None):
    stmt = select(Booking).where(Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)))
    if school is not None:
        stmt = stmt.where(Booking.school_id == school.id)
    return list(db.session.scalars(stmt))


def test_round_books_only_inside_its_period_never_inside_the_deadline_or_on_an_ordered_bus_day(app):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(
        region, venue, capacity_classes=5, capacity_pupils=150, adults_per_class=0, cancel_deadline_days=25
    )
    soon = factories.session(offer, ALLOCATE_AT + timedelta(days=2))  # the bug: two days ahead
    in_deadline = factories.session(offer, ALLOCATE_AT + timedelta(days=20))  # in the period, deadline passed
    bus_day = factories.session(offer, ALLOCATE_AT + timedelta(days=30))  # in the period, bus ordered that day
    other = factories.session(
        factories.offer(region, venue, adults_per_class=0), bus_day.starts_at + timedelta(hours=2)
    )
    db.session.add(BusPlan(session_id=other.id, status=PlanStatus.FROZEN, frozen_at=NOW))
    good = factories.session(offer, ALLOCATE_AT + timedelta(days=40))
    after = factories.session(offer, ALLOCATE_AT + timedelta(days=80))  # after the period
    leader = factories.user("programme_leader", region=region)
    rnd = _round(leader, start_days=10, end_days=60)
    assert rnd.period_start == (NOW + timedelta(days=10)).date()
    schools = [factories.school(region) for _ in range(5)]
    for s in schools:
        _ask(factories.teacher(s), rnd, [offer])
    offered = round_service.offered_sessions(rnd, {offer.id}, ALLOCATE_AT)
    assert set(offered) == {good.id}
    db.session.commit()
    commit_round(leader, rnd.id, now=ALLOCATE_AT)
    db.session.commit()
    booked = _bookings()
    assert booked and {b.session_id for b in booked} == {good.id}
    for b in booked:
        day = to_local(b.session.starts_at).date()
        assert rnd.period_start <= day <= rnd.period_end
        assert b.session.starts_at - timedelta(days=offer.cancel_deadline_days) > ALLOCATE_AT
    assert not {soon.id, in_deadline.id, bus_day.id, after.id} & {b.session_id for b in booked}


def test_round_period_is_validated(app):
    region, venue, offers, sessions, leader = _setup()
    with pytest.raises(InvalidInput) as exc:
        _round(leader, start_days=0)  # starts before the closing date
    assert exc.value.field == "period_start"
    with pytest.raises(InvalidInput) as exc:
        create_round(
            leader,
            title="x",
            opens_at=NOW,
            deadline_at=ALLOCATE_AT,
            school_year=YEAR,
            period_start=(NOW + timedelta(days=20)).date(),
            period_end=(NOW + timedelta(days=10)).date(),
        )
    assert exc.value.field == "period_end"
    rnd = _round(leader)
    teacher = factories.teacher(factories.school(region))
    far = factories.session(offers[0], NOW + timedelta(days=90))
    with pytest.raises(InvalidInput):  # a specific date outside the period
        submit_request(teacher, rnd.id, groep="7", pupils=20, adults=0, wishes=[(offers[0].id, [far.id])], now=NOW)


def test_class_that_booked_an_offer_does_not_get_it_again(app):
    region, venue, offers, sessions, leader = _setup(capacity_classes=3)
    _rule(region, RuleKind.MAX_PER_CLASS, scope=RuleScope.OFFER, max_count=1)
    school = factories.school(region)
    teacher = factories.teacher(school)
    create_booking(teacher, sessions[(0, 30)].id, ClassDetails(school.id, "7", 20, 0), now=NOW)
    rnd = _round(leader)
    only = _ask(teacher, rnd, [offers[0]])  # the same class, the same offer again
    other_class = _ask(teacher, rnd, [offers[0]], groep="5")  # another class of the school may
    with_second = _ask(factories.teacher(school), rnd, [offers[0], offers[1]], groep="7")
    db.session.commit()
    commit_round(leader, rnd.id, now=ALLOCATE_AT)
    db.session.commit()
    assert (only.outcome, only.outcome_code) == ("refused", "quota_class")
    assert other_class.outcome == "granted"
    assert (with_second.outcome, with_second.granted_rank) == ("granted", 2)  # offer 1 refused, offer 2 granted
    groep7 = [b for b in _bookings(school) if b.groep_min == 7]
    per_offer = {}
    for b in groep7:
        per_offer[b.session.offer_id] = per_offer.get(b.session.offer_id, 0) + 1
    assert per_offer.get(offers[0].id) == 1 and all(n <= 1 for n in per_offer.values())
    assert "de klas heeft al 1 keer geboekt" in describe_outcome(only)


def test_school_at_its_limit_gets_nothing_more_and_the_run_counts_what_it_won(app):
    region, venue, offers, sessions, leader = _setup(capacity_classes=5, n_offers=3)
    _rule(region, RuleKind.MAX_PER_SCHOOL, max_count=2)
    full = factories.school(region)
    t_full = factories.teacher(full)
    create_booking(t_full, sessions[(0, 30)].id, ClassDetails(full.id, "7", 20, 0), now=NOW)
    create_booking(t_full, sessions[(1, 30)].id, ClassDetails(full.id, "8", 20, 0), now=NOW)
    eager = factories.school(region)
    t_eager = factories.teacher(eager)
    rnd = _round(leader)
    at_limit = _ask(t_full, rnd, [offers[2]], groep="6")
    asks = [_ask(t_eager, rnd, [offers[i % 3]], groep=str(5 + i)) for i in range(3)]
    db.session.commit()
    commit_round(leader, rnd.id, now=ALLOCATE_AT)
    db.session.commit()
    assert (at_limit.outcome, at_limit.outcome_code) == ("refused", "quota_school_year")
    assert len(_bookings(full)) == 2
    assert sorted(a.outcome for a in asks) == ["granted", "granted", "refused"]
    assert len(_bookings(eager)) == 2
    refused = next(a for a in asks if a.outcome == "refused")
    assert refused.outcome_code == "quota_school_year"
    assert "de school heeft al 2 boeking(en)" in describe_outcome(refused)
    # a direct booking says the same
    with pytest.raises(Refused) as exc:
        create_booking(t_eager, sessions[(2, 31)].id, ClassDetails(eager.id, "8", 20, 0), now=ALLOCATE_AT)
    assert exc.value.code == "quota_school_year"


def test_a_grant_the_gate_refuses_at_apply_time_is_a_recorded_outcome(app, monkeypatch):
    """Even an allocation that forgot the rules cannot book past them: the gate refuses, the outcome says why."""
    region, venue, offers, sessions, leader = _setup(capacity_classes=3)
    _rule(region, RuleKind.MAX_PER_SCHOOL, max_count=1)
    school = factories.school(region)
    teacher = factories.teacher(school)
    create_booking(teacher, sessions[(0, 30)].id, ClassDetails(school.id, "7", 20, 0), now=NOW)
    rnd = _round(leader)
    req = _ask(teacher, rnd, [offers[1]], groep="6")
    db.session.commit()
    real = round_service.allocate

    def forgetful(*args, **kw):
        kw.update(limits=[], windows=[])
        return real(*args, **kw)

    monkeypatch.setattr(round_service, "allocate", forgetful)
    commit_round(leader, rnd.id, now=ALLOCATE_AT)
    db.session.commit()
    assert (req.outcome, req.outcome_code) == ("refused", "not_booked")
    assert req.outcome_params["code"] == "quota_school_year"
    assert len(_bookings(school)) == 1
    assert describe_outcome(req).startswith("niet geboekt bij het vastleggen: de school heeft het maximum")


def test_priority_window_holds_back_a_reached_school_in_the_round(app):
    region, venue, offers, sessions, leader = _setup(capacity_classes=3)
    _rule(region, RuleKind.PRIORITY_WINDOW, window_start=NOW - timedelta(days=1), window_end=NOW + timedelta(days=10))
    reached = factories.school(region)
    t_reached = factories.teacher(reached)
    create_booking(t_reached, sessions[(0, 30)].id, ClassDetails(reached.id, "7", 20, 0), now=NOW - timedelta(days=2))
    fresh = factories.school(region)
    t_fresh = factories.teacher(fresh)
    rnd = _round(leader)
    held = _ask(t_reached, rnd, [offers[1]], groep="6")
    first = _ask(t_fresh, rnd, [offers[1]], groep="6")
    second = _ask(t_fresh, rnd, [offers[0]], groep="7")  # reached by its first grant in this run
    db.session.commit()
    commit_round(leader, rnd.id, now=ALLOCATE_AT)
    db.session.commit()
    assert first.outcome == "granted"
    assert (held.outcome, held.outcome_code) == ("waitlisted", "priority_window")
    assert second.outcome_code == "priority_window"
    assert [b.status for b in _bookings(reached) if b.session.offer_id == offers[1].id] == [BookingStatus.WAITLISTED]
    assert "op de wachtlijst: tot" in describe_outcome(held)


def test_one_place_per_school_first_by_maximum_matching():
    """A greedy pass gives school 1 its first wish s1 and leaves school 2 (only s1) empty; the matching reaches both."""
    capacity = {1: (30, 1), 2: (30, 1)}
    schools = {1: SchoolIn(), 2: SchoolIn()}
    requests = [RequestIn(1, 1, 25, (((1,),), ((2,),))), RequestIn(2, 2, 25, (((1,),),))]
    for seed in ("a", "b", "c", "d"):
        out = allocate(requests, capacity, schools, seed).outcomes
        assert out[1].status == out[2].status == "granted"
        assert out[2].sessions == (1,) and out[1].sessions == (2,) and out[1].rank == 2
    # the least reached go first when not everyone can be reached; the lottery only among equals
    schools = {1: SchoolIn(reached_before=2), 2: SchoolIn(reached_before=0), 3: SchoolIn(reached_before=0)}
    requests = [RequestIn(i, i, 25, (((1,),),)) for i in (1, 2, 3)]
    winners = {next(o.school_id for o in allocate(requests, {1: (30, 1)}, schools, s).granted()) for s in "abcdefgh"}
    assert winners == {2, 3}


def test_allocation_respects_limits_and_windows_pure():
    capacity = {s: (90, 3) for s in (1, 2, 3)}
    schools = {1: SchoolIn(), 2: SchoolIn()}
    requests = [
        RequestIn(1, 1, 20, (((1,),),), (7, 7)),
        RequestIn(2, 1, 20, (((2,),),), (7, 7)),
        RequestIn(3, 1, 20, (((3,),),), (8, 8)),
        RequestIn(4, 2, 20, (((1,),),), (7, 7)),
    ]
    per_class = LimitIn(9, "quota_class", 1, True, {1: "offer", 2: "offer", 3: "offer"})
    out = allocate(requests, capacity, schools, "x", limits=[per_class]).outcomes
    assert [out[i].status for i in (1, 2, 3, 4)].count("granted") == 3
    assert {out[1].status, out[2].status} == {"granted", "refused"}  # class 7 of school 1 once
    assert out[3].status == "granted" and out[4].status == "granted"
    used = LimitIn(9, "quota_class", 1, True, {1: None}, used={(None, 4): 1})
    assert allocate(requests, capacity, schools, "x", limits=[used]).outcomes[4].code == "quota_class"
    window = WindowIn(5, "2027-01-01", None, blocked=frozenset({2}))
    out = allocate(requests, capacity, schools, "x", windows=[window]).outcomes
    assert out[4].status == "waitlisted" and out[4].code == "priority_window"
    assert sum(1 for i in (1, 2, 3) if out[i].status == "granted") == 1  # school 1 is reached by its first grant


def test_round_pages_speak_dutch(client, app, login):
    region, venue, offers, sessions, leader = _setup(capacity_classes=1)
    schools = [factories.school(region) for _ in range(3)]
    teachers = [factories.teacher(s) for s in schools]
    rnd = _round(leader)
    for t in teachers:
        _ask(t, rnd, [offers[0]])
    db.session.commit()
    commit_round(leader, rnd.id, now=ALLOCATE_AT)
    db.session.commit()
    english = re.compile(
        r"\b(granted|waitlisted|refused|wish|lottery|committed|allocated|no wish|the|quota|explanation)\b", re.I
    )
    login(leader)
    page = client.get(f"/aanvraagrondes/{rnd.id}")
    assert page.status_code == 200
    assert "toegekend (wens 1)" in page.text and "op de wachtlijst: geen wens had plaats" in page.text
    assert re.search(r"lotnummer 0,\d{4}", page.text)
    assert "toegewezen" in page.text
    assert not english.search(page.text), english.search(page.text)
    assert not english.search(client.get("/aanvraagrondes").text)
    client.post("/uitloggen")
    for t in teachers:
        login(t)
        text = client.get(f"/aanvraagrondes/{rnd.id}").text
        assert "toegekend (wens 1)" in text or "op de wachtlijst: geen wens had plaats" in text
        assert not english.search(text)
        client.post("/uitloggen")
    login(leader)
    assert "granted (wish 1)" in client.get(f"/aanvraagrondes/{rnd.id}?lang=en").text


def test_pages_end_to_end_round_grants_only_what_a_direct_booking_allows_inside_its_period(client, app, login):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, capacity_classes=4, capacity_pupils=120, adults_per_class=0)
    soon = factories.session(offer, NOW + timedelta(days=3))
    later = factories.session(offer, NOW + timedelta(days=40))
    _rule(region, RuleKind.MAX_PER_CLASS, scope=RuleScope.OFFER, max_count=1)
    leader = factories.user("programme_leader", region=region)
    booked_school, new_school = factories.school(region), factories.school(region)
    t_booked, t_new = factories.teacher(booked_school), factories.teacher(new_school)
    create_booking(t_booked, soon.id, ClassDetails(booked_school.id, "7", 20, 0), now=NOW)
    db.session.commit()
    booked_id, new_id, later_id, teacher_id = booked_school.id, new_school.id, later.id, t_booked.id
    login(leader)
    resp = client.post(
        "/aanvraagrondes",
        data={
            "title": "Voorjaar 2027",
            "opens_on": NOW.date().isoformat(),
            "deadline_on": (NOW + timedelta(days=1)).date().isoformat(),
            "period_start": (NOW + timedelta(days=20)).date().isoformat(),
            "period_end": (NOW + timedelta(days=60)).date().isoformat(),
            "weight_distance": "1",
            "weight_cbs": "0",
        },
    )
    assert resp.status_code == 302
    round_url = resp.headers["Location"]
    bad = client.post(
        "/aanvraagrondes",
        data={
            "title": "Te vroeg",
            "opens_on": NOW.date().isoformat(),
            "deadline_on": (NOW + timedelta(days=5)).date().isoformat(),
            "period_start": (NOW + timedelta(days=2)).date().isoformat(),
            "period_end": (NOW + timedelta(days=60)).date().isoformat(),
            "weight_distance": "1",
            "weight_cbs": "0",
        },
    )
    assert "De periode van de ronde begint na de sluitingsdatum." in bad.text
    client.post("/uitloggen")
    for t in (t_booked, t_new):
        login(t)
        resp = client.post(
            round_url,
            data={"groep": "7", "pupils": "20", "adults": "0", "wish1": str(offer.id), "wish2": "0", "wish3": "0"},
        )
        assert resp.status_code == 302
        client.post("/uitloggen")
    login(leader)
    assert client.post(round_url + "/toewijzen").status_code == 302
    db.session.remove()
    rnd = db.session.scalar(select(RequestRound).where(RequestRound.title == "Voorjaar 2027"))
    outcomes = {r.school_id: (r.outcome, r.outcome_code) for r in rnd.requests}
    assert outcomes[booked_id] == ("refused", "quota_class")  # a direct booking refuses it too
    assert outcomes[new_id][0] == "granted"
    new = [b for b in _bookings() if b.school_id == new_id]
    assert [b.session_id for b in new] == [later_id]  # inside the period, not three days ahead
    assert len([b for b in _bookings() if b.school_id == booked_id]) == 1
    page = client.get(round_url).text
    assert "niet toegekend (wens 1): de klas heeft al 1 keer geboekt" in page
    with pytest.raises(Refused) as exc:  # the same class booking directly is refused by the same rule
        create_booking(db.session.get(User, teacher_id), later_id, ClassDetails(booked_id, "7", 20, 0))
    assert exc.value.code == "quota_class"


def test_the_job_books_a_due_round_once_through_the_gate(app, mailbox):
    region, venue, offers, sessions, leader = _setup(capacity_classes=1)
    _rule(region, RuleKind.MAX_PER_SCHOOL, max_count=1)
    schools = [factories.school(region) for _ in range(3)]
    teachers = [factories.teacher(s) for s in schools]
    rnd = _round(leader)
    for t in teachers:
        _ask(t, rnd, [offers[0], offers[1]])
        _ask(t, rnd, [offers[1]], groep="5")  # a second class: over the school's limit of 1
    round_id = rnd.id
    db.session.commit()
    assert round_service.allocate_due_rounds(NOW) == 0  # not due yet
    assert round_service.allocate_due_rounds(ALLOCATE_AT) == 1
    assert round_service.allocate_due_rounds(ALLOCATE_AT) == 0  # safe to run twice
    db.session.remove()
    rnd = db.session.get(RequestRound, round_id)
    assert rnd.status.value == "committed"
    per_school = {}
    for b in _bookings():
        if b.status == BookingStatus.CONFIRMED:
            per_school[b.school_id] = per_school.get(b.school_id, 0) + 1
    assert sum(per_school.values()) == 3 and set(per_school.values()) == {1}  # three schools reached, none over
    codes = sorted(r.outcome_code for r in rnd.requests)
    assert codes.count("granted") == 3 and codes.count("quota_school_year") == 3
