"""The series picker (pure): starts from the scarce part, proposes parts that fit the gaps."""

from __future__ import annotations

from datetime import date, timedelta

from app.booking.series_picker import (
    Candidate,
    PartSpec,
    anchor_position,
    chain_room,
    gap_ok,
    propose,
    window,
)

PARTS = [PartSpec(1, 0, 0, at_venue=False), PartSpec(2, 3, 30), PartSpec(3, 3, 30)]
MON = date(2026, 3, 2)


def _cands():
    # part 1: a visiting teacher, every Monday and Tuesday; part 2: a lab on two Wednesdays; part 3: Fridays
    p1 = [Candidate(100 + i, MON + timedelta(days=7 * (i // 2) + i % 2), 32) for i in range(16)]
    p2 = [Candidate(200, MON + timedelta(days=16), 30), Candidate(201, MON + timedelta(days=30), 12)]
    p3 = [Candidate(300 + i, MON + timedelta(days=4 + 7 * i), 30) for i in range(8)]
    return {1: p1, 2: p2, 3: p3}


def test_anchor_is_the_scarce_venue_part():
    assert anchor_position(PARTS, _cands()) == 2


def test_proposal_around_the_masterclass_has_gaps_in_range_and_never_negative():
    cands = _cands()
    chain = propose(PARTS, cands, 200)
    assert [c.key for c in chain][1] == 200
    for _part, prev, c in zip(PARTS[1:], chain, chain[1:], strict=False):
        assert 3 <= (c.day - prev.day).days <= 30
    # part 1 as close before the masterclass as the gap allows (at least 3 days), part 3 as soon as allowed
    assert (chain[1].day - chain[0].day).days == 8 and (chain[2].day - chain[1].day).days == 9
    assert chain_room(chain) == 30


def test_class_that_does_not_fit_a_part_gets_no_proposal():
    cands = _cands()
    assert propose(PARTS, cands, 201, pupils=20) is None
    assert propose(PARTS, cands, 201, pupils=12) is not None
    assert chain_room(propose(PARTS, cands, 201)) == 12


def test_no_chain_when_a_later_part_has_no_date_in_the_window():
    cands = _cands()
    cands[3] = [c for c in cands[3] if c.day > MON + timedelta(days=16 + 30)]
    assert propose(PARTS, cands, 200) is None


def test_window_and_gap():
    lo, hi = window(PARTS, 2, MON, 3)
    assert (lo, hi) == (MON + timedelta(days=3), MON + timedelta(days=30))
    lo, hi = window(PARTS, 2, MON, 1)
    assert (lo, hi) == (MON - timedelta(days=30), MON - timedelta(days=3))
    assert not gap_ok(PartSpec(2, 0, 30), MON, MON - timedelta(days=5))
