"""Session planning from a pattern: pure functions of their inputs.

A pattern is a set of weekdays with a local start time and a duration over a date
range. Days in the school holidays of the region's holiday region, days the venue is
closed and weekdays it does not open are skipped. Times are local (Europe/Amsterdam)
and converted to UTC per day, so a session at 09:00 stays at 09:00 across the
daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.timeutil import local_to_utc


@dataclass(frozen=True)
class Pattern:
    weekdays: frozenset[int]  # ISO weekdays, 1 = Monday
    start: time
    minutes: int
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Skipped:
    day: date
    kind: str  # "holiday", "closed" or "weekday" (not open on this weekday): the page words it
    name: str = ""  # the holiday's name or the closure's reason

    @property
    def reason(self) -> str:
        """A code for logs and tests ("holiday: <name>"); pages show ``kind`` in words."""
        return {"holiday": f"holiday: {self.name}", "closed": f"closed: {self.name}"}.get(
            self.kind, "not open on this weekday"
        )


def generate_slots(
    pattern: Pattern, holidays=(), closures=(), opening_days: str = "1234567"
) -> tuple[list[tuple[datetime, datetime]], list[Skipped]]:
    """The (start, end) UTC pairs of the pattern, and the days skipped with their reason.

    ``holidays`` and ``closures`` are objects with ``starts_on``/``ends_on`` (and a
    ``name`` or ``reason``), such as HolidayPeriod and VenueClosure rows.
    """
    if pattern.last_day < pattern.first_day:
        return [], []
    slots, skipped = [], []
    day = pattern.first_day
    while day <= pattern.last_day:
        iso = day.isoweekday()
        if iso in pattern.weekdays:
            holiday = next((h for h in holidays if h.starts_on <= day <= h.ends_on), None)
            closure = next((c for c in closures if c.starts_on <= day <= c.ends_on), None)
            if holiday is not None:
                skipped.append(Skipped(day, "holiday", holiday.name))
            elif closure is not None:
                skipped.append(Skipped(day, "closed", getattr(closure, "reason", "") or ""))
            elif str(iso) not in opening_days:
                skipped.append(Skipped(day, "weekday"))
            else:
                start = local_to_utc(day, pattern.start)
                slots.append((start, start + timedelta(minutes=pattern.minutes)))
        day += timedelta(days=1)
    return slots, skipped


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end
