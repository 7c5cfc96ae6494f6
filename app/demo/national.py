"""A national data set for scale tests: every DUO school in ~80 regions, several school years.

The file's 80 "nodale gebieden" stand in for the regional networks. Per region: three
venues near the middle of its schools, six offers across the worlds of technology, two
sessions a week per offer over each school year, and bookings at realistic fill — all
inserted in bulk (Core inserts, executemany), with session counters equal to the bookings.
Deterministic for a seed.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

import click
from sqlalchemy import func, insert, select, text

from app.auth.models import HolidayRegion, Region, Role, User
from app.auth.services import hash_password
from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Offer, OfferKind, Session, Venue, VenueKind, World
from app.schools.models import School, SchoolKind
from app.timeutil import local_to_utc, school_year_of

WORLDS = list(World)


def load_national(years: int = 5, seed: int = 2026, password: str = "demo-techlab-2026", echo=click.echo) -> None:
    from app.demo.regional import DUO_FILES
    from app.schools.duo import import_files
    from app.schools.holidays import import_holidays

    rng = random.Random(seed)
    if not db.session.scalar(select(func.count(School.id))):
        echo("Importing the DUO school files …")
        import_files(DUO_FILES, from_year=2015)
    import_holidays()
    if db.session.scalar(select(func.count(Region.id)).where(Region.code.like("nodaal-%"))):
        echo("The national data set is loaded already.")
        return
    this_year = school_year_of(datetime.now(timezone.utc))
    areas = db.session.execute(
        select(School.nodal_code, School.nodal_name, func.count(School.id))
        .where(School.nodal_code != "", School.region_id.is_(None), School.kind == SchoolKind.BO)
        .group_by(School.nodal_code, School.nodal_name)
        .order_by(School.nodal_code)
    ).all()
    pw = hash_password(password)
    total_sessions = total_bookings = 0
    for code, name, _n in areas:
        schools = db.session.execute(
            select(School.id, School.latitude, School.longitude, School.holiday_region)
            .where(School.nodal_code == code, School.region_id.is_(None), School.kind == SchoolKind.BO)
            .order_by(School.id)
        ).all()
        holiday = next((s.holiday_region for s in schools if s.holiday_region), HolidayRegion.MIDDEN)
        region = Region(code=f"nodaal-{code}", name=f"STO {name}", holiday_region=holiday)
        db.session.add(region)
        db.session.flush()
        db.session.execute(
            School.__table__.update().where(School.id.in_([s.id for s in schools])).values(region_id=region.id)
        )
        located = [s for s in schools if s.latitude is not None]
        venues = []
        for i in range(3):
            anchor = located[(i * len(located)) // 3] if located else None
            v = Venue(
                region_id=region.id,
                kind=VenueKind.TECHLAB if i < 2 else VenueKind.HOTSPOT,
                name=f"{'Techlab' if i < 2 else 'Hotspot'} {name} {i + 1}",
                latitude=anchor.latitude if anchor else None,
                longitude=anchor.longitude if anchor else None,
            )
            db.session.add(v)
            venues.append(v)
        db.session.flush()
        db.session.add(
            User(
                email=f"programmaleider.{code}@national.techlab.nl",
                role=Role.PROGRAMME_LEADER,
                region_id=region.id,
                password_hash=pw,
                name=f"Programmaleider {name}",
            )
        )
        offers = []
        for i in range(6):
            o = Offer(
                region_id=region.id,
                venue_id=venues[i % 3].id,
                school_year=this_year,
                kind=OfferKind.HOTSPOT_VISIT if i % 3 == 2 else OfferKind.WORKSHOP,
                title=f"Techniekles {i + 1} {name}",
                world=WORLDS[(i + int(code or 0)) % 7],
                groep_min=5,
                groep_max=8,
                capacity_pupils=60,
                capacity_classes=2,
                published=True,
            )
            db.session.add(o)
            offers.append(o)
        db.session.flush()
        s_rows, b_rows = _sessions_and_bookings(rng, region, offers, [s.id for s in schools], this_year, years)
        total_sessions += len(s_rows)
        total_bookings += len(b_rows)
        db.session.commit()
    echo(f"National data set: {len(areas)} regions, {total_sessions} sessions, {total_bookings} bookings")


def _sessions_and_bookings(rng, region, offers, school_ids, this_year, years):
    now = datetime.now(timezone.utc)
    session_rows = []
    for year in range(this_year - years + 1, this_year + 1):
        day = date(year, 9, 1)
        end = date(year + 1, 7, 1)
        while day < end:
            if day.isoweekday() in (2, 4) and not (date(year, 12, 20) <= day <= date(year + 1, 1, 4)):
                for o in offers:
                    start = local_to_utc(day, time(9, 0))
                    session_rows.append(
                        {
                            "offer_id": o.id,
                            "venue_id": o.venue_id,
                            "location": "venue",
                            "starts_at": start,
                            "ends_at": start + timedelta(hours=2),
                            "capacity_pupils": 60,
                            "capacity_classes": 2,
                            "booked_pupils": 0,
                            "booked_classes": 0,
                            "status": "scheduled",
                        }
                    )
            day += timedelta(days=1)
    eager = {sid: rng.random() for sid in school_ids}
    weights = [0.0 if eager[s] < 0.3 else eager[s] for s in school_ids]
    bookings, of_row = [], []  # of_row: the index of each booking's session row
    for i, row in enumerate(session_rows):
        starts, taken = row["starts_at"], set()
        for _ in range(2):
            if rng.random() > 0.7 or not school_ids:
                continue
            school = rng.choices(school_ids, weights)[0]
            if school in taken:
                continue
            taken.add(school)
            pupils = rng.randint(18, 29)
            past = starts < now
            status = (
                (BookingStatus.ATTENDED if rng.random() < 0.9 else BookingStatus.NO_SHOW)
                if past
                else BookingStatus.CONFIRMED
            )
            groep = rng.randint(5, 8)
            bookings.append(
                {
                    "school_id": school,
                    "status": status.value,
                    "groep_min": groep,
                    "groep_max": groep,
                    "pupils": pupils,
                    "adults": 2,
                    "sequence": 0,
                    "attended_pupils": pupils - rng.randint(0, 2) if status == BookingStatus.ATTENDED else None,
                    "contact_name": "",
                    "contact_email": "",
                    "remarks": "",
                    "bus_declined": False,
                    "override_reason": "",
                    "cancel_reason": "",
                    "created_at": starts - timedelta(days=30),
                    "updated_at": starts - timedelta(days=30),
                }
            )
            of_row.append(i)
            if status in (BookingStatus.ATTENDED, BookingStatus.CONFIRMED):
                # the session's counters go in with the session itself (no update per session after)
                row["booked_pupils"] += pupils
                row["booked_classes"] += 1
    ids = _insert_with_ids(Session, session_rows)
    for booking, i in zip(bookings, of_row, strict=True):
        booking["session_id"] = ids[i]
    if bookings:
        db.session.execute(insert(Booking), bookings)
    return session_rows, bookings


def _insert_with_ids(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (one executemany) and return their ids in the rows' order.

    PostgreSQL: the ids are taken from the table's sequence in one statement and inserted with
    the rows, a plain executemany (psycopg's pipeline); an INSERT … RETURNING of tens of
    thousands of rows goes out as statements of thousands of VALUES that psycopg parses one by
    one, three times slower. SQLite: INSERT … RETURNING in parameter order."""
    if not rows:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        table = model.__table__.name
        ids = list(
            db.session.scalars(
                text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"),
                {"n": len(rows)},
            )
        )
        db.session.execute(insert(model), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    return list(db.session.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows).scalars())
