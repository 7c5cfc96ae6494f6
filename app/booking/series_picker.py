"""The series picker: start from the scarce part, propose the other parts that fit the gaps.

Pure code: a function of the parts (their allowed gaps) and the candidate dates per part,
testable without a database. The page (booking.new_series) feeds it the bookable sessions
and shows what it proposes; the booking service checks the chosen chain again under the lock.

A gap is counted in local calendar days from the previous part, as the booking service does.
A proposal never has a negative gap: a later part never lies before an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class PartSpec:
    position: int  # 1, 2, 3 …
    min_days: int  # after the previous part (ignored for the first part)
    max_days: int
    at_venue: bool = True  # the scarce kind: a lab or a company has few dates; a visiting teacher many


@dataclass(frozen=True)
class Candidate:
    key: int  # the session id
    day: date  # local date
    room: int  # the largest class that fits (pupils); 0: no place


def anchor_position(parts: list[PartSpec], candidates: dict[int, list[Candidate]]) -> int:
    """The scarce part to start from: among the parts held at a venue, the one with the fewest
    dates that have room (the masterclass at the lab); without venue parts, the scarcest part."""
    pool = [p for p in parts if p.at_venue] or list(parts)
    return min(pool, key=lambda p: (sum(1 for c in candidates.get(p.position, []) if c.room > 0), -p.position)).position


def window(parts: list[PartSpec], anchor: int, anchor_day: date, position: int) -> tuple[date, date]:
    """The dates part ``position`` may fall on, given the anchor part's date (the sum of the gaps between)."""
    by_pos = {p.position: p for p in parts}
    if position == anchor:
        return anchor_day, anchor_day
    if position > anchor:
        between = [by_pos[k] for k in range(anchor + 1, position + 1)]
        return (
            anchor_day + timedelta(days=sum(p.min_days for p in between)),
            anchor_day + timedelta(days=sum(p.max_days for p in between)),
        )
    between = [by_pos[k] for k in range(position + 1, anchor + 1)]
    return (
        anchor_day - timedelta(days=sum(p.max_days for p in between)),
        anchor_day - timedelta(days=sum(p.min_days for p in between)),
    )


def gap_ok(part: PartSpec, previous_day: date, day: date) -> bool:
    gap = (day - previous_day).days
    return gap >= 0 and part.min_days <= gap <= part.max_days


def propose(
    parts: list[PartSpec], candidates: dict[int, list[Candidate]], anchor_key: int, pupils: int = 1
) -> list[Candidate] | None:
    """A complete chain (one candidate per part, in order of position) around the anchor
    session ``anchor_key``, where every gap is allowed and the class of ``pupils`` fits each
    part; None when there is none. Later parts come as early as they can, earlier parts as
    close before the anchor as they can (fewer days between the parts of one story)."""
    parts = sorted(parts, key=lambda p: p.position)
    anchor = next((p.position for p in parts for c in candidates.get(p.position, []) if c.key == anchor_key), None)
    if anchor is None:
        return None
    start = next(c for c in candidates[anchor] if c.key == anchor_key)
    if start.room < pupils:
        return None
    by_pos = {p.position: p for p in parts}
    usable = {
        pos: sorted((c for c in cs if c.room >= pupils), key=lambda c: (c.day, c.key)) for pos, cs in candidates.items()
    }

    def forward(pos: int, prev: Candidate) -> list[Candidate] | None:
        if pos not in by_pos:
            return []
        for c in usable.get(pos, []):
            if gap_ok(by_pos[pos], prev.day, c.day):
                rest = forward(pos + 1, c)
                if rest is not None:
                    return [c] + rest
        return None

    def backward(pos: int, nxt: Candidate) -> list[Candidate] | None:
        if pos not in by_pos:
            return []
        for c in reversed(usable.get(pos, [])):
            if gap_ok(by_pos[pos + 1], c.day, nxt.day):
                rest = backward(pos - 1, c)
                if rest is not None:
                    return rest + [c]
        return None

    before = backward(anchor - 1, start)
    after = forward(anchor + 1, start)
    if before is None or after is None:
        return None
    return before + [start] + after


def chain_room(chain: list[Candidate]) -> int:
    """What a chain has room for: the largest class that fits every part."""
    return min((c.room for c in chain), default=0)
