"""School holidays per holiday region (noord, midden, zuid) and school year."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import select

from app.auth.models import HolidayRegion
from app.extensions import db
from app.schools.models import HolidayPeriod

HOLIDAYS_FILE = Path(__file__).resolve().parents[2] / "data" / "holidays.csv"


HOLIDAY_COLUMNS = ("holiday_region", "school_year", "name", "starts_on", "ends_on")


class HolidayFileError(ValueError):
    """The file as a whole cannot be read as a holidays file (nothing is imported)."""


def import_holidays(
    path: str | Path | None = None, *, text: str | None = None
) -> tuple[int, int, list[tuple[int, str]]]:
    """Idempotent load from a file (default data/holidays.csv) or from ``text``; returns
    (created, updated, bad rows). Raises HolidayFileError, before changing anything, when
    the header lacks a column. The caller commits."""
    created = updated = 0
    bad: list[tuple[int, str]] = []
    if text is None:
        with open(path or HOLIDAYS_FILE, encoding="utf-8") as f:
            text = f.read()
    numbered = [
        (n, line)
        for n, line in enumerate(text.lstrip("\ufeff").splitlines(keepends=True), start=1)
        if not line.startswith("#")
    ]
    lines = [line for _n, line in numbered]
    if not lines:
        raise HolidayFileError("the file is empty")
    header = [h.strip() for h in next(csv.reader(lines[:1]), [])]
    missing = [c for c in HOLIDAY_COLUMNS if c not in header]
    if missing:
        raise HolidayFileError(f"missing column(s): {', '.join(missing)}")
    existing = {(h.holiday_region, h.school_year, h.name): h for h in db.session.scalars(select(HolidayPeriod))}
    reader = csv.DictReader(lines)
    for row in reader:
        line_no = numbered[reader.line_num - 1][0]  # the line in the file, comments counted
        try:
            region = HolidayRegion(row["holiday_region"].strip().lower())
            year = int(row["school_year"])
            if not 2000 <= year <= 2100:
                raise ValueError(f"school year {year} out of range")
            name = row["name"].strip()
            if len(name) > 100:
                raise ValueError("name longer than 100 characters")
            start, end = date.fromisoformat(row["starts_on"].strip()), date.fromisoformat(row["ends_on"].strip())
            if end < start or not name:
                raise ValueError("end before start or no name")
        except (KeyError, ValueError, AttributeError) as exc:
            bad.append((line_no, f"invalid row: {exc}"))
            continue
        cur = existing.get((region, year, name))
        if cur is None:
            cur = HolidayPeriod(holiday_region=region, school_year=year, name=name, starts_on=start, ends_on=end)
            db.session.add(cur)
            existing[(region, year, name)] = cur
            created += 1
        elif (cur.starts_on, cur.ends_on) != (start, end):
            cur.starts_on, cur.ends_on = start, end
            updated += 1
    db.session.flush()
    return created, updated, bad


def holidays_for(holiday_region: HolidayRegion, start: date, end: date) -> list[HolidayPeriod]:
    return list(
        db.session.scalars(
            select(HolidayPeriod)
            .where(
                HolidayPeriod.holiday_region == holiday_region,
                HolidayPeriod.ends_on >= start,
                HolidayPeriod.starts_on <= end,
            )
            .order_by(HolidayPeriod.starts_on)
        )
    )


def is_school_holiday(day: date, periods: list[HolidayPeriod]) -> bool:
    return any(p.starts_on <= day <= p.ends_on for p in periods)
