"""iCalendar for bookings and sessions: pure functions of their inputs.

Times are written in Europe/Amsterdam with a VTIMEZONE; UIDs are stable; SEQUENCE is
the booking's change counter so calendar clients replace the old version.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from app.timeutil import LOCAL_TZ

PRODID = "-//Techlab boeken//NL"


def _host(base_url: str) -> str:
    return urlparse(base_url).hostname or "techlab.localhost"


def _location(session, school=None) -> str:
    if session.venue is not None:
        v = session.venue
        return f"{v.name}, {v.address}"
    if school is not None:
        return f"{school.name}, {school.address}"
    return ""


def booking_event(
    booking, base_url: str, pickup=None, stamp: datetime | None = None, back_at: datetime | None = None
) -> Event:
    """The booking as a calendar event; with a bus (``pickup``) it runs from the pickup at the
    school to the return there (``back_at``), the lesson times in the description."""
    s = booking.session
    offer = s.offer
    title = offer.title if booking.part_position is None else f"{offer.title} — deel {booking.part_position}"
    ev = Event()
    ev.add("uid", f"booking-{booking.id}@{_host(base_url)}")
    ev.add("dtstamp", stamp or datetime.now(timezone.utc))
    bus = pickup is not None and booking.status.value != "cancelled"
    ev.add("dtstart", (pickup if bus else s.starts_at).astimezone(LOCAL_TZ))
    ev.add("dtend", ((back_at or s.ends_at) if bus else s.ends_at).astimezone(LOCAL_TZ))
    ev.add("summary", title)
    ev.add("location", f"{booking.school.name}, {booking.school.address}" if bus else _location(s, booking.school))
    ev.add("sequence", booking.sequence + (1 if bus else 0))  # the bus changes the event: a newer version
    status = {"cancelled": "CANCELLED", "waitlisted": "TENTATIVE", "requested": "TENTATIVE"}.get(
        booking.status.value, "CONFIRMED"
    )
    ev.add("status", status)
    lines = []
    if bus:
        school = booking.school
        lines.append(f"Bus: ophalen om {pickup.astimezone(LOCAL_TZ):%H:%M} bij {school.name}, {school.address}.")
        lines.append(
            f"Les: {s.starts_at.astimezone(LOCAL_TZ):%H:%M}–{s.ends_at.astimezone(LOCAL_TZ):%H:%M}, "
            f"{_location(s, school)}."
        )
        if back_at is not None:
            lines.append(f"Terug bij school rond {back_at.astimezone(LOCAL_TZ):%H:%M}.")
    lines += [
        f"Groep {booking.groep_label}, {_count(booking.pupils, 'leerling', 'leerlingen')}, "
        f"{_count(booking.adults, 'begeleider', 'begeleiders')}.",
        STATUS_WORDS.get(booking.status.value, ""),
    ]
    if booking.part_position is not None and s.part is not None:
        lines.append(f"Deel {booking.part_position}: {s.part.title}.")
        if s.part.description:
            lines.append(s.part.description)
    if offer.preparation:
        lines.append(f"Voorbereiding: {offer.preparation}")
    if booking.remarks:
        lines.append(f"Opmerkingen: {booking.remarks}")
    lines.append(f"{base_url.rstrip('/')}/boekingen/{booking.id}")
    ev.add("description", "\n".join(line for line in lines if line))
    ev.add("url", f"{base_url.rstrip('/')}/boekingen/{booking.id}")
    return ev


# The booking's state in words for the calendar description (not "Status: confirmed.")
STATUS_WORDS = {
    "confirmed": "Uw boeking is bevestigd.",
    "waitlisted": "Uw klas staat op de wachtlijst; dit is nog geen afspraak.",
    "offered": "Er is een plaats vrijgekomen voor uw klas: neem hem aan of sla hem af op de website.",
    "cancelled": "Deze boeking is geannuleerd.",
    "attended": "Uw klas is geweest.",
    "no_show": "Uw klas is niet verschenen.",
}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def session_event(session, base_url: str, stamp: datetime | None = None) -> Event:
    ev = Event()
    ev.add("uid", f"session-{session.id}@{_host(base_url)}")
    ev.add("dtstamp", stamp or datetime.now(timezone.utc))
    ev.add("dtstart", session.starts_at.astimezone(LOCAL_TZ))
    ev.add("dtend", session.ends_at.astimezone(LOCAL_TZ))
    part = f" — deel {session.part.position}" if session.part is not None else ""
    ev.add("summary", f"{session.offer.title}{part} ({session.booked_classes}/{session.capacity_classes} klassen)")
    ev.add("location", _location(session))
    ev.add("status", "CANCELLED" if session.status.value == "cancelled" else "CONFIRMED")
    ev.add(
        "description",
        f"Geboekt: {session.booked_pupils} van {session.capacity_pupils} leerlingen, "
        f"{session.booked_classes} van {session.capacity_classes} klassen.",
    )
    return ev


def _timezone() -> Timezone:
    """Europe/Amsterdam with the EU rules (last Sunday of March / October), as RRULEs.

    The RRULE form is what Outlook and Google publish themselves and what every client
    reads alike; a long RDATE list was read wrongly by some parsers.
    """
    tz = Timezone()
    tz.add("tzid", "Europe/Amsterdam")
    tz.add("x-lic-location", "Europe/Amsterdam")
    daylight = TimezoneDaylight()
    daylight.add("tzname", "CEST")
    daylight.add("tzoffsetfrom", timedelta(hours=1))
    daylight.add("tzoffsetto", timedelta(hours=2))
    daylight.add("dtstart", datetime(1981, 3, 29, 2, 0, 0))
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    standard = TimezoneStandard()
    standard.add("tzname", "CET")
    standard.add("tzoffsetfrom", timedelta(hours=2))
    standard.add("tzoffsetto", timedelta(hours=1))
    standard.add("dtstart", datetime(1996, 10, 27, 3, 0, 0))
    standard.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    tz.add_component(daylight)
    tz.add_component(standard)
    return tz


def calendar_bytes(events: list[Event], name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Amsterdam")
    cal.add_component(_timezone())
    for ev in events:
        cal.add_component(ev)
    return cal.to_ical()
