"""Local time (Europe/Amsterdam) and school years (1 August – 31 July)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")


def school_year_of(d: date | datetime) -> int:
    """The start year of the school year a date falls in: 2025 for 2025/26."""
    if isinstance(d, datetime):
        d = (d.astimezone(LOCAL_TZ) if d.tzinfo else d).date()
    return d.year if d.month >= 8 else d.year - 1


def school_year_bounds(start_year: int) -> tuple[date, date]:
    return date(start_year, 8, 1), date(start_year + 1, 7, 31)


def school_year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def local_to_utc(d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def to_local(dt: datetime) -> datetime:
    return dt.astimezone(LOCAL_TZ)
