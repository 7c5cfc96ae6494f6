"""Session patterns around holidays, closures and the daylight-saving changes (pure)."""

from dataclasses import dataclass
from datetime import date, time, timedelta

from app.labs.planning import Pattern, generate_slots
from app.timeutil import to_local


@dataclass
class Period:
    starts_on: date
    ends_on: date
    name: str = ""
    reason: str = ""


def test_skips_holidays_closures_and_closed_weekdays():
    autumn = Period(date(2026, 10, 17), date(2026, 10, 25), "Herfstvakantie")
    closed = Period(date(2026, 10, 7), date(2026, 10, 7), reason="studiedag")
    pattern = Pattern(frozenset({1, 3}), time(9, 0), 120, date(2026, 10, 1), date(2026, 10, 31))
    slots, skipped = generate_slots(pattern, [autumn], [closed], "12345")
    days = [to_local(a).date() for a, _ in slots]
    assert date(2026, 10, 19) not in days and date(2026, 10, 21) not in days  # autumn holiday
    assert date(2026, 10, 7) not in days  # closed
    assert days == [date(2026, 10, d) for d in (5, 12, 14, 26, 28)]
    assert {s.reason.split(":")[0] for s in skipped} == {"holiday", "closed"}
    slots, skipped = generate_slots(pattern, [], [], "12")  # not open on Wednesdays
    assert all(to_local(a).isoweekday() == 1 for a, _ in slots)
    assert any(s.reason == "not open on this weekday" for s in skipped)


def test_local_time_holds_across_daylight_saving_changes():
    pattern = Pattern(frozenset({5}), time(9, 0), 90, date(2026, 10, 16), date(2026, 11, 6))  # 25 Oct: CEST -> CET
    slots, _ = generate_slots(pattern, [], [], "12345")
    assert [to_local(a).time() for a, _ in slots] == [time(9, 0)] * 4
    assert [a.hour for a, _ in slots] == [7, 7, 8, 8]  # UTC moves, local stays
    assert all(b - a == timedelta(minutes=90) for a, b in slots)
    spring = Pattern(frozenset({5}), time(9, 0), 60, date(2027, 3, 19), date(2027, 4, 2))  # 28 Mar: CET -> CEST
    assert [a.hour for a, _ in generate_slots(spring, [], [], "12345")[0]] == [8, 8, 7]


def test_empty_range():
    assert generate_slots(Pattern(frozenset({1}), time(9), 60, date(2026, 1, 2), date(2026, 1, 1))) == ([], [])
